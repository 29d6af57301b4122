"""The ``images`` section: the ECR repositories of training and serving images (components/images)
and the CI identities of the model repositories that push to them.

Each repository is ``<namePrefix>-<environment>/<name>``; each pusher is a GitHub OIDC role that
``mlopsctl bootstrap --image-pushers`` creates as ``<namePrefix>-push-<environment>-<pusher>``
(``physical_names``), which the repository policies name. Who pulls follows from ``purpose``.
"""

from __future__ import annotations

import typing
from typing import Annotated, Literal

from pydantic import Field, model_validator

from components import facts
from components.config.base import NAME_PREFIX_MAX, Model, lowercase_name_pattern, repeated
from components.config.ci_runner import GITHUB_REPO_PATTERN
from components.config.environments import Environment
from components.config.physical_names import image_push_role_name, image_repository_name
from components.config.serving import ServingConfig, ecr_image_parts

TRAINING, SERVING = "training", "serving"
ImagePurpose = Literal["training", "serving"]

# One path segment of an ECR repository name (botocore's RepositoryName, without the '/').
_SEGMENT = r"[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*"


def _pusher_name_max() -> int:
    # The push role <namePrefix>-push-<environment>-<pusher> must fit IAM's role name for the
    # longest namePrefix and environment, the same way namePrefix itself is bounded.
    env = max(typing.get_args(Environment), key=len)
    return int(facts.shape_limits("iam", "roleNameType")["max"]) - len(image_push_role_name("a" * NAME_PREFIX_MAX, env, ""))


PUSHER_NAME_MAX = _pusher_name_max()
PusherName = Annotated[str, Field(pattern=lowercase_name_pattern(1, PUSHER_NAME_MAX))]


class ImagePusherConfig(Model):
    """A model repository's CI, which may push images: a GitHub Actions OIDC role made by bootstrap."""

    github_repo: str = Field(pattern=GITHUB_REPO_PATTERN.pattern, description="<org>/<repo> of the model repository whose workflows push images.")
    branch: str = Field(
        "main",
        pattern=r"^[A-Za-z0-9._/-]{1,200}$",
        description="Only jobs of pushes to this branch may push (OIDC subject `repo:<org>/<repo>:ref:refs/heads/<branch>`); not with environment.",
    )
    environment: str | None = Field(
        None,
        pattern=r"^[A-Za-z0-9._-]{1,255}$",
        description="Only jobs in this GitHub environment may push (OIDC subject `repo:<org>/<repo>:environment:<environment>`), instead of a branch.",
    )

    @model_validator(mode="after")
    def _one_subject(self):
        if self.environment is not None and "branch" in self.model_fields_set:
            raise ValueError("@branch: set branch or environment, not both (a job in an environment has that environment as its OIDC subject)")
        return self

    @property
    def oidc_subject(self) -> str:
        """The ``sub`` claim GitHub puts in the tokens of the jobs that may push."""
        if self.environment is not None:
            return f"repo:{self.github_repo}:environment:{self.environment}"
        return f"repo:{self.github_repo}:ref:refs/heads/{self.branch}"


class ImageRepositoryConfig(Model):
    name: str = Field(pattern=rf"^{_SEGMENT}$", max_length=64, description="Short name, e.g. `serve`; the repository is `<namePrefix>-<environment>/<name>`.")
    purpose: ImagePurpose = Field(
        description=(
            "`training`: pulled by the EKS node role (jobs in ml-training); `serving`: pulled by the EKS node role and the SageMaker "
            "execution roles of the endpoints that run images from it (model packages and `image:` URIs naming it)."
        )
    )
    pushers: list[PusherName] = Field(default_factory=list, description="Names of `images.pushers` whose CI may push here; nobody else can.")
    untagged_expiry_days: int = Field(7, ge=1, description="Lifecycle: untagged images expire this many days after their push.")
    keep_tagged_images: int = Field(
        30, ge=1, description="Lifecycle: only the newest this many tagged images are kept; keep it above the number of versions any endpoint or job may still run."
    )
    expected_storage_gb: float = Field(5.0, gt=0, le=100000, description="Planned storage in GB, priced by the cost model as ECR storage (GB-month).")


class ImagesConfig(Model):
    pushers: dict[PusherName, ImagePusherConfig] = Field(
        default_factory=dict,
        description=f"CI identities of model repositories, by a short name (lowercase letters, digits and '-', at most {PUSHER_NAME_MAX} characters).",
    )
    repositories: list[ImageRepositoryConfig] = Field(default_factory=list, description="ECR repositories of training and serving images.")

    @model_validator(mode="after")
    def _consistent(self):
        duplicates = repeated([r.name for r in self.repositories])
        if duplicates:
            raise ValueError(f"@repositories: names must be unique, repeated: {', '.join(duplicates)}")
        for index, repository in enumerate(self.repositories):
            unknown = sorted(set(repository.pushers) - set(self.pushers))
            if unknown:
                raise ValueError(f"@repositories.{index}.pushers: {', '.join(unknown)} not in images.pushers ({', '.join(sorted(self.pushers)) or 'none declared'})")
            if repeated(list(repository.pushers)):
                raise ValueError(f"@repositories.{index}.pushers: repeated: {', '.join(repeated(list(repository.pushers)))}")
        idle = sorted(set(self.pushers) - {p for r in self.repositories for p in r.pushers})
        if idle:
            raise ValueError(f"@pushers: {', '.join(idle)} may push to no repository; list it in a repository's pushers or remove it")
        return self

    def of_purpose(self, purpose: str | None = None) -> list[ImageRepositoryConfig]:
        """The repositories of one purpose (None: all)."""
        return [r for r in self.repositories if purpose is None or r.purpose == purpose]

    def pushed_by(self, pusher: str) -> list[ImageRepositoryConfig]:
        return [r for r in self.repositories if pusher in r.pushers]

    def check_stack(self, name_stem: str, account: str, region: str, serving: ServingConfig) -> None:
        """The checks that need the stack's name stem, account, region and endpoints (called by PlatformConfig).

        Every repository name the stem makes passes ECR's rule; endpoints that run model packages
        have a serving repository to pull from; an ``image:`` URI under the stem names a declared
        serving repository of this account and region (the repository policies let no other
        role pull, and ``ImageRepositories.holds`` can then match by name).
        """
        limits = facts.shape_limits("ecr", "RepositoryName")
        for index, repository in enumerate(self.repositories):
            physical = image_repository_name(name_stem, repository.name)
            if not facts.name_matches_shape("ecr", "RepositoryName", physical):
                raise ValueError(
                    f"@images.repositories.{index}.name: makes the repository name {physical!r}, which ECR refuses: "
                    f"{limits.get('min')}-{limits.get('max')} characters matching {limits.get('pattern')} (botocore RepositoryName)"
                )
        serving_names = {image_repository_name(name_stem, r.name) for r in self.of_purpose(SERVING)}
        packaged = []
        for index, endpoint in enumerate(serving.endpoints):
            sources = {"model": endpoint.model}
            if endpoint.instance and endpoint.instance.challenger:
                sources["instance.challenger.model"] = endpoint.instance.challenger.model
            for key, source in sources.items():
                if source.model_package_arn:
                    packaged.append(endpoint.name)
                if source.image is None:
                    continue
                image_account, image_region, repository = ecr_image_parts(source.image)
                if not repository.startswith(f"{name_stem}/"):
                    continue
                # The stack's namespace is its own: the same name in another account or region is refused, not guessed at.
                if (image_account, image_region) != (account, region):
                    raise ValueError(
                        f"@serving.endpoints.{index}.{key}.image: {repository} is in {image_account}/{image_region}; names under {name_stem}/ "
                        f"are this stack's own repositories, in {account}/{region}"
                    )
                if repository not in serving_names:
                    raise ValueError(
                        f"@serving.endpoints.{index}.{key}.image: {repository} is not one of this stack's serving repositories "
                        f"({', '.join(sorted(serving_names)) or 'none declared'}); declare it in images.repositories with purpose: serving"
                    )
        if packaged and not serving_names:
            raise ValueError(
                f"@images.repositories: endpoints {', '.join(dict.fromkeys(packaged))} run model packages, whose images are pulled only from "
                "this stack's serving repositories; declare one with purpose: serving"
            )
