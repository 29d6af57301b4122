"""The ``images`` section: repositories, lifecycle, pushers, and one clear line per mistake."""

from __future__ import annotations

import copy

import pytest

from components import facts
from components.config import PUSHER_NAME_MAX, image_push_role_name, parse_platform_config
from tests.support.stacks import STACK_ACCOUNTS, assert_one_line_config_error, stack_config, stack_raw_config

DEV_IMAGES = stack_raw_config("dev")["images"]


def _with_images(stack: str = "dev", **images) -> dict:
    raw = stack_raw_config(stack)
    raw["images"] = {**copy.deepcopy(raw["images"]), **images}
    return raw


def _repositories(*changes: dict) -> list[dict]:
    repositories = copy.deepcopy(DEV_IMAGES["repositories"])
    for repository, change in zip(repositories, changes, strict=False):
        repository.update(change)
    return repositories


def test_every_stack_declares_a_training_and_a_serving_repository_pushed_by_its_model_repository():
    for stack in ("dev", "staging", "prod"):
        images = stack_config(stack).images
        assert [(r.name, r.purpose, r.pushers) for r in images.repositories] == [("train", "training", ["churn"]), ("serve", "serving", ["churn"])]
        assert images.pushers["churn"].github_repo == "example-org/churn-model"
    # dev pushes from main, staging and prod only from jobs of their GitHub environment.
    assert stack_config("dev").images.pushers["churn"].oidc_subject == "repo:example-org/churn-model:ref:refs/heads/main"
    assert stack_config("prod").images.pushers["churn"].oidc_subject == "repo:example-org/churn-model:environment:prod"


def test_lifecycle_and_planned_storage_defaults():
    [train, serve] = stack_config("staging").images.repositories
    assert (train.untagged_expiry_days, train.keep_tagged_images) == (7, 30)
    assert (serve.expected_storage_gb, stack_config("prod").images.repositories[1].keep_tagged_images) == (10.0, 50)
    raw = stack_raw_config("dev")
    del raw["images"]
    del raw["serving"]["endpoints"][0]["training"]  # it names the repositories
    assert parse_platform_config(raw, "us-east-1", "stacks/Pulumi.dev.yaml").images.repositories == []  # none unless declared


def test_the_pusher_name_leaves_room_for_the_longest_push_role_name():
    from components.config import NAME_PREFIX_MAX

    longest = image_push_role_name("a" * NAME_PREFIX_MAX, "staging", "p" * PUSHER_NAME_MAX)
    assert len(longest) == facts.shape_limits("iam", "roleNameType")["max"]
    assert facts.name_matches_shape("iam", "roleNameType", longest)


BAD = [
    ("unknown-pusher", {"repositories": _repositories({"pushers": ["nobody"]})}, "images.repositories[0].pushers", "nobody not in images.pushers (churn)"),
    ("repeated-pusher", {"repositories": _repositories({"pushers": ["churn", "churn"]})}, "images.repositories[0].pushers", "repeated: churn"),
    ("idle-pusher", {"pushers": {**DEV_IMAGES["pushers"], "idle": {"githubRepo": "example-org/idle"}}}, "images.pushers",
     "idle may push to no repository"),
    ("repeated-repository", {"repositories": _repositories({}, {"name": "train"})}, "images.repositories", "names must be unique, repeated: train"),
    ("branch-and-environment", {"pushers": {"churn": {"githubRepo": "example-org/churn-model", "branch": "main", "environment": "dev"}}},
     "images.pushers.churn.branch", "set branch or environment, not both"),
    ("long-pusher-name", {"pushers": {"p" * (PUSHER_NAME_MAX + 1): {"githubRepo": "example-org/x"}}}, f"images.pushers.{'p' * (PUSHER_NAME_MAX + 1)}",
     "should match pattern"),
    ("repository-name", {"repositories": _repositories({"name": "Serve"})}, "images.repositories[0].name", "should match pattern"),
    ("no-expiry", {"repositories": _repositories({"untaggedExpiryDays": 0})}, "images.repositories[0].untaggedExpiryDays", "greater than or equal to 1"),
    ("storage-as-string", {"repositories": _repositories({"expectedStorageGb": "20"})}, "images.repositories[0].expectedStorageGb", "must be a number, got the string '20'"),
    ("github-repo", {"pushers": {"churn": {"githubRepo": "churn-model"}}}, "images.pushers.churn.githubRepo", "should match pattern"),
]


@pytest.mark.parametrize(("images", "key_path", "words"), [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_a_mistake_is_one_line_naming_the_key(images, key_path, words):
    assert_one_line_config_error(_with_images(**images), key_path, words)


def test_model_package_endpoints_need_a_serving_repository():
    raw = _with_images("staging", repositories=[r for r in stack_raw_config("staging")["images"]["repositories"] if r["purpose"] == "training"])
    assert_one_line_config_error(raw, "images.repositories", "endpoints churn run model packages", stack="staging")


def test_an_image_uri_inside_the_stacks_repositories_must_name_a_serving_one():
    account = STACK_ACCOUNTS["dev"]
    raw = stack_raw_config("dev")
    raw["serving"]["endpoints"][0]["model"] = {"image": f"{account}.dkr.ecr.us-east-1.amazonaws.com/mlops-dev/train:v1", "modelDataKey": "models/churn/v1/model.tar.gz"}
    assert_one_line_config_error(raw, "serving.endpoints[0].model.image", "mlops-dev/train is not one of this stack's serving repositories (mlops-dev/serve)")
    # The stack's namespace is its own: the same name in another account or region is refused too.
    for image, where in (("999999999999.dkr.ecr.us-east-1.amazonaws.com/mlops-dev/serve:v1", "999999999999/us-east-1"),
                         (f"{account}.dkr.ecr.us-west-2.amazonaws.com/mlops-dev/serve:v1", f"{account}/us-west-2")):
        raw["serving"]["endpoints"][0]["model"]["image"] = image
        assert_one_line_config_error(raw, "serving.endpoints[0].model.image", f"mlops-dev/serve is in {where}; names under mlops-dev/ are this stack's own")
    # The serving repository, and other names anywhere, are fine.
    for image in (f"{account}.dkr.ecr.us-east-1.amazonaws.com/mlops-dev/serve:v1", "999999999999.dkr.ecr.us-east-1.amazonaws.com/teams/train:v1"):
        raw["serving"]["endpoints"][0]["model"]["image"] = image
        parse_platform_config(raw, "us-east-1", "stacks/Pulumi.dev.yaml")


def test_a_repository_name_ecr_would_refuse_is_one_line(monkeypatch):
    # namePrefix's own rule keeps every name valid today; if ECR's rule tightened, config says so first.
    real = facts.shape_limits
    monkeypatch.setattr(facts, "shape_limits", lambda service, shape: {**real(service, shape), "max": 12}
                        if (service, shape) == ("ecr", "RepositoryName") else real(service, shape))
    assert_one_line_config_error(stack_raw_config("dev"), "images.repositories[0].name", "makes the repository name 'mlops-dev/train', which ECR refuses: 2-12 characters")
