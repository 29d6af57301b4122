"""ImageRepositories: the ECR repositories of a stack's training and serving images.

Each repository of ``images.repositories`` is ``<namePrefix>-<environment>/<name>``, encrypted
with the platform's ``images`` key, with immutable tags (a tag names one image forever, so what an
endpoint or job runs cannot change under it), basic scanning on push, a lifecycle policy and a
repository policy (``documents.py``) that lets exactly the roles granted here pull and exactly the
configured pushers (``mlopsctl bootstrap --image-pushers`` roles) push.

Grants follow the AWS CDK style, and the repository policies are written once every grant is in::

    images = ImageRepositories(...)
    images.grant_pull(execution_role, purpose="serving")   # SageMaker endpoints
    images.grant_pull(node_role)                            # EKS nodes: every repository
    images.seal()                                           # the repository policies, the outputs
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.config import SERVING, ImagesConfig, ecr_image_parts, image_push_role_name, image_repository_name
from components.iam.peers import PeerStack
from components.iam.policy import Statement, policy_document
from components.iam.roles import inline_policy
from components.images.documents import LOGIN_ACTION, PULL_ACTIONS, lifecycle_policy, repository_policy_statements
from components.keys import PlatformKey
from components.keys.platform_keys import account_root_arn
from components.scope import AwsScope
from policies.awsfacts import EXPECTED_STORAGE_GB_TAG, ROLE_TAG


@dataclass(frozen=True)
class ImageRepositoriesArgs:
    """Inputs of :class:`ImageRepositories`.

    config: the validated ``images`` section (required): repositories, their lifecycle and planned
        storage, and the pushers.
    scope: the stack's account, partition and region (repository and role ARNs) and name stem
        (repository names) (required).
    key: the customer-managed key that encrypts every repository (required; the platform passes
        ``PlatformKeys.images``). Changing it replaces the repositories: ECR fixes a repository's
        encryption when it is created.
    name_prefix: the platform's ``namePrefix``, the stem of the push roles' names (required).
    environment: the stack's environment, part of the push roles' names (required).
    protect: Pulumi protect and retainOnDelete on the repositories (default False; ``storage.protect``).
    force_delete: let ``pulumi destroy`` delete repositories that still hold images (default False;
        ``storage.forceDestroy``, dev only).
    shared_with: the stack whose serving roles may pull from the serving repositories
        (``promotion.promotesTo``; default None): a model package shared with it names an image here.
    """

    config: ImagesConfig
    scope: AwsScope
    key: PlatformKey
    name_prefix: str
    environment: str
    protect: bool = False
    force_delete: bool = False
    shared_with: PeerStack | None = None


class ImageRepositories(pulumi.ComponentResource):
    """ECR repositories (see module docstring).

    Attributes: ``repositories``, ``lifecycle_policies`` and, after :meth:`seal`,
    ``repository_policies`` (repository config name -> resource), ``push_role_arns`` (pusher ->
    role ARN), ``key`` and ``outputs`` (the ``images`` stack output, complete after :meth:`seal`).
    """

    def __init__(self, name: str, args: ImageRepositoriesArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("mlops:images:ImageRepositories", name, None, opts)
        self._args = args
        scope, config = args.scope, args.config
        self.key = args.key
        self.physical_names = {r.name: image_repository_name(scope.name_stem, r.name) for r in config.repositories}
        self.push_role_arns: dict[str, pulumi.Output[str]] = {
            pusher: pulumi.Output.concat("arn:", scope.partition, ":iam::", scope.account_id, ":role/", image_push_role_name(args.name_prefix, args.environment, pusher))
            for pusher in config.pushers
        }
        self.repositories: dict[str, aws.ecr.Repository] = {}
        self.lifecycle_policies: dict[str, aws.ecr.LifecyclePolicy] = {}
        for repository in config.repositories:
            created = aws.ecr.Repository(
                f"{name}-{repository.name}",
                name=self.physical_names[repository.name],
                image_tag_mutability="IMMUTABLE",
                # Basic scanning on push: free, per repository. Registry-level (enhanced) scanning
                # is account-wide and priced by Amazon Inspector; docs/images.md.
                image_scanning_configuration=aws.ecr.RepositoryImageScanningConfigurationArgs(scan_on_push=True),
                encryption_configurations=[aws.ecr.RepositoryEncryptionConfigurationArgs(encryption_type="KMS", kms_key=args.key.arn)],
                force_delete=args.force_delete,
                tags={ROLE_TAG: f"{repository.purpose}-images", EXPECTED_STORAGE_GB_TAG: f"{repository.expected_storage_gb:g}"},
                opts=pulumi.ResourceOptions(parent=self, protect=args.protect, retain_on_delete=args.protect),
            )
            self.repositories[repository.name] = created
            # The lifecycle and repository policies are one per repository, keyed by its name: a
            # replacement created before the old one is deleted would be deleted with it.
            self.lifecycle_policies[repository.name] = aws.ecr.LifecyclePolicy(
                f"{name}-{repository.name}-lifecycle",
                repository=created.name,
                policy=lifecycle_policy(repository),
                opts=pulumi.ResourceOptions(parent=self, delete_before_replace=True),
            )
        self._pullers: dict[str, list[pulumi.Input[str]]] = {r.name: [] for r in config.repositories}
        self.repository_policies: dict[str, aws.ecr.RepositoryPolicy] = {}
        self._sealed = False
        self.outputs: dict[str, pulumi.Input] = {
            "kmsKeyArn": args.key.arn,
            "repositories": {
                r.name: {"name": self.repositories[r.name].name, "arn": self.repositories[r.name].arn, "url": self.repositories[r.name].repository_url, "purpose": r.purpose}
                for r in config.repositories
            },
            "pushRoleArns": dict(self.push_role_arns),
        }

    # -- grants ---------------------------------------------------------------------------------

    def names(self, purpose: str | None = None) -> list[str]:
        """Config names of the repositories of ``purpose`` (None: all)."""
        return [r.name for r in self._args.config.of_purpose(purpose)]

    def holds(self, image_uri: str) -> bool:
        """Whether ``image_uri`` is an image of one of these repositories. By region and name: config
        refuses a name under the stack's stem in another account (``ImagesConfig.check_stack``)."""
        _, region, repository = ecr_image_parts(image_uri)
        return region == self._args.scope.region and repository in self.physical_names.values()

    def pull_statements(self, purpose: str | None = None) -> list[Statement]:
        """Registry login and pull on exactly the repositories of ``purpose`` (None: all)."""
        names = self.names(purpose)
        if not names:
            raise ValueError(f"no image repositories{f' of purpose {purpose}' if purpose else ''} are declared (images.repositories)")
        return [
            Statement(sid="EcrLogin", actions=[LOGIN_ACTION], resources=["*"]),
            Statement(sid="PullPlatformImages", actions=list(PULL_ACTIONS), resources=[self.repositories[n].arn for n in names]),
        ]

    def grant_pull(self, role: aws.iam.Role, *, purpose: str | None = None) -> aws.iam.RolePolicy:
        """Let ``role`` pull from the repositories of ``purpose`` (None: all): an inline policy on the
        role, and the role's ARN in those repositories' policies."""
        if self._sealed:
            raise RuntimeError("grant_pull after seal(): the repository policies are already written")
        statements = self.pull_statements(purpose)
        for repository in self.names(purpose):
            self._pullers[repository].append(role.arn)
        return inline_policy(
            f"{self.pulumi_resource_name}-{role.pulumi_resource_name}-pull{f'-{purpose}' if purpose else ''}",
            role,
            statements,
            opts=pulumi.ResourceOptions(parent=self),
        )

    def seal(self) -> None:
        """Write each repository's policy from the grants so far, and register the outputs."""
        if self._sealed:
            raise RuntimeError("seal() was called already")
        self._sealed = True
        config, root = self._args.config, account_root_arn(self._args.scope)
        for repository in config.repositories:
            pullers = self._pullers[repository.name]
            if not pullers:
                raise ValueError(f"image repository {repository.name}: no role was granted pull; nothing could run its images")
            self.repository_policies[repository.name] = aws.ecr.RepositoryPolicy(
                f"{self.pulumi_resource_name}-{repository.name}-policy",
                repository=self.repositories[repository.name].name,
                policy=policy_document(
                    repository_policy_statements(
                        root, pullers, [self.push_role_arns[p] for p in repository.pushers],
                        shared_with=self._args.shared_with if repository.purpose == SERVING else None,
                    ),
                    kind="resource",
                ),
                opts=pulumi.ResourceOptions(parent=self, delete_before_replace=True),
            )
        self.register_outputs(self.outputs)
