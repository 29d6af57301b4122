"""ImageRepositories under mocks: the repositories, lifecycle and repository policies the engine
receives in each stack, the grants, and who may pull and push under the IAM evaluator."""

from __future__ import annotations

import json
import re

import pulumi
import pulumi_aws as aws
import pytest

from components.config import parse_platform_config
from components.iam.peers import PeerStack
from components.images import PULL_ACTIONS, PUSH_ACTIONS, ImageRepositories, ImageRepositoriesArgs
from components.keys import PlatformKey
from components.scope import scope_for
from mlopsctl.offline.harness import ACCOUNT_ID, ProgramError
from tests.support.iam_eval import same_account_allowed
from tests.support.programs import run_component
from tests.support.stacks import STACK_ACCOUNTS, STACKS, stack_config, stack_preview, stack_raw_config

REPOSITORY = "aws:ecr/repository:Repository"
LIFECYCLE = "aws:ecr/lifecyclePolicy:LifecyclePolicy"
REPOSITORY_POLICY = "aws:ecr/repositoryPolicy:RepositoryPolicy"
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
KMS = f"arn:aws:kms:us-east-1:{ACCOUNT_ID}:key/11111111-2222-3333-4444-555555555555"
READS, WRITES = ("ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"), ("ecr:InitiateLayerUpload", "ecr:UploadLayerPart", "ecr:CompleteLayerUpload", "ecr:PutImage")
# An account administrator's identity policy: the repository policy alone must keep it out.
ADMIN = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "ecr:*", "Resource": "*"}]}


def run_images(config, build=None, shared_with_account: str | None = None):
    """The component alone, with roles ``execution`` (serving) and ``nodes`` (everything) granted, then sealed;
    ``build(images, opts)`` replaces the grants and the seal. ``shared_with_account``: the serving
    repositories are shared with that account's prod stack."""

    def program():
        opts = pulumi.ResourceOptions(providers={"aws": aws.Provider("aws", region=config.region)})
        scope = scope_for(config, account_id=ACCOUNT_ID)
        peer = PeerStack(environment="prod", account=shared_with_account, name_prefix=config.name_prefix, scope=scope) if shared_with_account else None
        images = ImageRepositories(
            "images",
            ImageRepositoriesArgs(config=config.images, scope=scope, key=PlatformKey(KMS), name_prefix=config.name_prefix, environment=config.environment,
                                  shared_with=peer),
            opts=opts,
        )
        if build is not None:
            build(images, opts)
            return
        images.grant_pull(aws.iam.Role("execution", assume_role_policy="{}", opts=opts), purpose="serving")
        images.grant_pull(aws.iam.Role("nodes", assume_role_policy="{}", opts=opts))
        images.seal()

    return run_component(program)


def _role_arn(rec, name: str, account: str = ACCOUNT_ID) -> str:
    return f"arn:aws:iam::{account}:role/{rec.one(ROLE, name).id}"


def _identity(rec, role) -> list[dict]:
    return [json.loads(p.inputs["policy"]) for p in rec.of_type(ROLE_POLICY) if p.inputs["role"] == role.id]


def _repository_policy(rec, repository: str) -> dict:
    [policy] = [p for p in rec.of_type(REPOSITORY_POLICY) if p.inputs["repository"] == repository]
    return json.loads(policy.inputs["policy"])


# ---------------------------------------------------------------------------------------------
# The repositories of every stack


@pytest.mark.parametrize("stack", STACKS)
def test_each_stack_has_its_training_and_serving_repositories_encrypted_immutable_and_scanned(stack):
    result = stack_preview(stack)
    rec, config = result.recording, result.config
    repositories = {r.inputs["name"]: r for r in rec.of_type(REPOSITORY)}
    assert sorted(repositories) == [f"mlops-{stack}/serve", f"mlops-{stack}/train"]
    images_key = rec.stack_outputs["kmsKeys"]["images"]
    assert images_key not in rec.stack_outputs["kmsKeys"]["artifacts"]  # its own key, not the artifact store's
    for name, repository in repositories.items():
        planned = next(r for r in config.images.repositories if name.endswith(f"/{r.name}"))
        assert repository.inputs["encryptionConfigurations"] == [{"encryptionType": "KMS", "kmsKey": images_key}]
        assert repository.inputs["imageTagMutability"] == "IMMUTABLE"
        assert repository.inputs["imageScanningConfiguration"] == {"scanOnPush": True}
        assert repository.inputs["tags"] == {"mlops:role": f"{planned.purpose}-images", "mlops:expected-storage-gb": f"{planned.expected_storage_gb:g}"}
        # Protected where data is (staging, prod); only dev's stack may delete repositories that hold images.
        assert (repository.protect, repository.retainOnDelete) == ((stack != "dev"),) * 2
        assert repository.inputs["forceDelete"] is (stack == "dev")
        assert repository.parent == rec.one("mlops:images:ImageRepositories").urn
    outputs = rec.stack_outputs["images"]
    account = STACK_ACCOUNTS[stack]
    assert outputs["repositories"]["serve"] == {
        "name": f"mlops-{stack}/serve", "arn": f"arn:aws:ecr:us-east-1:{account}:repository/mlops-{stack}/serve",
        "url": f"{account}.dkr.ecr.us-east-1.amazonaws.com/mlops-{stack}/serve", "purpose": "serving"}
    assert outputs["pushRoleArns"] == {"churn": f"arn:aws:iam::{account}:role/mlops-push-{stack}-churn"}
    assert outputs["kmsKeyArn"] == images_key


def test_lifecycle_expires_untagged_images_and_keeps_the_newest_tagged_ones():
    rec = stack_preview("dev").recording
    lifecycle = rec.one(LIFECYCLE, "serve")
    assert lifecycle.inputs["repository"] == "mlops-dev/serve"
    assert lifecycle.propertyDependencies["repository"] == [rec.one(REPOSITORY, "serve").urn]
    # One policy per repository, keyed by its name: a replacement must not outlive the old one's delete.
    assert lifecycle.deleteBeforeReplace is True and rec.one(REPOSITORY_POLICY, "serve").deleteBeforeReplace is True
    assert json.loads(lifecycle.inputs["policy"]) == {"rules": [
        {"rulePriority": 1, "description": "expire untagged images 3 days after their push",
         "selection": {"tagStatus": "untagged", "countType": "sinceImagePushed", "countUnit": "days", "countNumber": 3}, "action": {"type": "expire"}},
        {"rulePriority": 2, "description": "keep the newest 10 tagged images",
         "selection": {"tagStatus": "tagged", "tagPatternList": ["*"], "countType": "imageCountMoreThan", "countNumber": 10}, "action": {"type": "expire"}},
    ]}
    assert json.loads(stack_preview("prod").recording.one(LIFECYCLE, "serve").inputs["policy"])["rules"][1]["selection"]["countNumber"] == 50


@pytest.mark.parametrize("stack", ["staging", "prod"])
def test_in_the_whole_stack_exactly_the_roles_that_need_them_pull_and_the_pusher_pushes(stack):
    """Evaluated as IAM does within one account: identity policies from the stack, the repository's policy."""
    rec = stack_preview(stack).recording
    account = STACK_ACCOUNTS[stack]
    execution, nodes = rec.one(ROLE, f"mlops-{stack}-churn-execution-role"), rec.one(ROLE, "eks-node-role")
    execution_arn, nodes_arn = (f"arn:aws:iam::{account}:role{r.inputs.get('path') or '/'}{r.id}" for r in (execution, nodes))
    push_arn = f"arn:aws:iam::{account}:role/mlops-push-{stack}-churn"
    # The push role is bootstrap's; its policy pushes to both repositories (tests/ops/test_bootstrap_images.py).
    push_identity = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": list(PUSH_ACTIONS), "Resource": "*"}]}
    roles = {"execution": (execution_arn, _identity(rec, execution)), "nodes": (nodes_arn, [ADMIN]),  # nodes: AmazonEC2ContainerRegistryPullOnly on *
             "pusher": (push_arn, [push_identity]), "admin": (f"arn:aws:iam::{account}:role/ml-platform-admins", [ADMIN])}
    # prod's endpoint runs staging's package, whose image is in staging's repository: prod's own is the nodes'.
    runs_own_package = stack == "staging"
    expected = {
        "serve": {"execution": "pull" if runs_own_package else None, "nodes": "pull", "pusher": "push", "admin": None},
        "train": {"execution": None, "nodes": "pull", "pusher": "push", "admin": None},
    }
    for repository, who in expected.items():
        name = f"mlops-{stack}/{repository}"
        arn = f"arn:aws:ecr:us-east-1:{account}:repository/{name}"
        document = _repository_policy(rec, name)
        for role, may in who.items():
            principal, identity = roles[role]
            for action in READS:
                assert same_account_allowed(identity, document, principal=principal, action=action, resource=arn) is (may == "pull"), (repository, role, action)
            for action in WRITES:
                assert same_account_allowed(identity, document, principal=principal, action=action, resource=arn) is (may == "push"), (repository, role, action)


def test_the_repository_policy_names_no_role_directly_so_a_push_role_bootstrap_has_not_made_yet_breaks_nothing():
    document = _repository_policy(stack_preview("prod").recording, "mlops-prod/serve")
    root = f"arn:aws:iam::{STACK_ACCOUNTS['prod']}:root"
    assert [(s["Sid"], s["Effect"], s["Principal"]) for s in document["Statement"]] == [
        ("PullByPlatformRoles", "Allow", {"AWS": [root]}), ("DenyImageReadsToOthers", "Deny", {"AWS": "*"}),
        ("PushByModelRepositoryCi", "Allow", {"AWS": [root]}), ("DenyImageWritesToOthers", "Deny", {"AWS": "*"})]


def test_shared_serving_repositories_let_the_next_environments_serving_roles_pull_and_are_their_one_exception_to_the_read_deny():
    rec = run_images(stack_config("staging"), shared_with_account="444455556666")
    peer_root, peer_roles = "arn:aws:iam::444455556666:root", "arn:aws:iam::444455556666:role/mlops-prod/serving/*"
    pullers = [_role_arn(rec, "execution"), _role_arn(rec, "nodes")]
    statements = _repository_policy(rec, "mlops-staging/serve")["Statement"]
    assert statements[:3] == [
        {"Sid": "PullByPlatformRoles", "Effect": "Allow", "Principal": {"AWS": [f"arn:aws:iam::{ACCOUNT_ID}:root"]}, "Action": sorted(PULL_ACTIONS),
         "Condition": {"StringEquals": {"aws:PrincipalArn": pullers}}},
        {"Sid": "PullByPromotedToServingRoles", "Effect": "Allow", "Principal": {"AWS": [peer_root]}, "Action": sorted(PULL_ACTIONS),
         "Condition": {"ArnLike": {"aws:PrincipalArn": [peer_roles]}}},
        # Both operators must hold for the Deny: not a puller of this account, and not one of the next environment's serving roles.
        {"Sid": "DenyImageReadsToOthers", "Effect": "Deny", "Principal": {"AWS": "*"}, "Action": sorted(READS),
         "Condition": {"StringNotEquals": {"aws:PrincipalArn": pullers}, "ArnNotLike": {"aws:PrincipalArn": [peer_roles]}}},
    ]
    # Pushing stays with the model repository's CI.
    assert [s["Sid"] for s in statements[3:]] == ["PushByModelRepositoryCi", "DenyImageWritesToOthers"]
    assert "ArnNotLike" not in statements[4]["Condition"]
    # Training images are never shared.
    assert [s["Sid"] for s in _repository_policy(rec, "mlops-staging/train")["Statement"]] == [
        "PullByPlatformRoles", "DenyImageReadsToOthers", "PushByModelRepositoryCi", "DenyImageWritesToOthers"]


# ---------------------------------------------------------------------------------------------
# Grants


def test_grant_pull_scopes_the_role_to_the_repositories_of_its_purpose():
    rec = run_images(stack_config("dev"))
    serve, train = (f"arn:aws:ecr:us-east-1:{ACCOUNT_ID}:repository/mlops-dev/{r}" for r in ("serve", "train"))
    [execution] = _identity(rec, rec.one(ROLE, "execution"))
    assert execution["Statement"] == [
        {"Sid": "EcrLogin", "Effect": "Allow", "Action": ["ecr:GetAuthorizationToken"], "Resource": ["*"]},
        {"Sid": "PullPlatformImages", "Effect": "Allow", "Action": sorted(PULL_ACTIONS), "Resource": [serve]},
    ]
    [nodes] = _identity(rec, rec.one(ROLE, "nodes"))
    assert nodes["Statement"][1]["Resource"] == [train, serve]
    # The repository policies name exactly the roles granted: serving both, training the nodes only.
    pullers = {p.inputs["repository"]: json.loads(p.inputs["policy"])["Statement"][0]["Condition"]["StringEquals"]["aws:PrincipalArn"]
               for p in rec.of_type(REPOSITORY_POLICY)}
    assert pullers == {"mlops-dev/serve": [_role_arn(rec, "execution"), _role_arn(rec, "nodes")], "mlops-dev/train": [_role_arn(rec, "nodes")]}
    assert {p.name for p in rec.of_type(ROLE_POLICY)} == {"images-execution-pull-serving", "images-nodes-pull"}


def test_a_repository_nobody_pushes_to_denies_every_push():
    raw = stack_raw_config("dev")
    raw["images"] = {"repositories": [{"name": "train", "purpose": "training"}, {"name": "serve", "purpose": "serving"}]}
    rec = run_images(parse_platform_config(raw, "us-east-1", "stacks/Pulumi.dev.yaml"))
    statements = _repository_policy(rec, "mlops-dev/serve")["Statement"]
    assert [s["Sid"] for s in statements] == ["PullByPlatformRoles", "DenyImageReadsToOthers", "DenyImageWritesToEveryone"]
    assert "Condition" not in statements[2] and sorted(statements[2]["Action"]) == sorted(WRITES)


def _nodes(images, opts):
    images.grant_pull(aws.iam.Role("nodes", assume_role_policy="{}", opts=opts))


@pytest.mark.parametrize(("build", "message"), [
    (lambda images, opts: (_nodes(images, opts), images.seal(), images.grant_pull(aws.iam.Role("late", assume_role_policy="{}", opts=opts))),
     "grant_pull after seal(): the repository policies are already written"),
    (lambda images, opts: (_nodes(images, opts), images.seal(), images.seal()), "seal() was called already"),
    (lambda images, opts: (images.grant_pull(aws.iam.Role("execution", assume_role_policy="{}", opts=opts), purpose="serving"), images.seal()),
     "image repository train: no role was granted pull; nothing could run its images"),
])
def test_grants_are_all_in_before_the_policies_are_written(build, message):
    with pytest.raises(ProgramError, match=re.escape(message)):
        run_images(stack_config("dev"), build)


def test_a_grant_of_a_purpose_no_repository_has_is_refused():
    raw = stack_raw_config("dev")
    raw["images"] = {"repositories": [{"name": "train", "purpose": "training"}]}
    del raw["serving"]["endpoints"][0]["training"]  # its serving image needs a serving repository
    config = parse_platform_config(raw, "us-east-1", "stacks/Pulumi.dev.yaml")
    with pytest.raises(ProgramError, match="no image repositories of purpose serving are declared"):
        run_images(config, lambda images, opts: images.grant_pull(aws.iam.Role("execution", assume_role_policy="{}", opts=opts), purpose="serving"))
