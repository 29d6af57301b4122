"""``mlopsctl bootstrap --image-pushers``: the model repositories' push roles, and the ECR rights of the CI roles.

moto in-process (``mock_aws``), in the dev stack's account and region (moto's default account is
dev's ``accountId``). moto has no IAM policy simulation, so the roles' effective permissions are
evaluated by ``tests/support/iam_eval.py`` on the documents read back from moto's IAM; the
repository policies' own evaluation is in tests/component/test_images.py.
"""

from __future__ import annotations

import json

import boto3
import pytest

from components.images import PULL_ACTIONS, PUSH_ACTIONS
from mlopsctl.cli import main
from mlopsctl.ops.bootstrap import documents as docs
from mlopsctl.ops.bootstrap.names import Names
from tests.support.aws_seed import moto_account
from tests.support.iam_eval import is_allowed
from tests.support.stacks import ROOT, STACK_ACCOUNTS, STACKS, stack_config, stack_preview

REGION = "us-east-1"
ACCOUNT = STACK_ACCOUNTS["dev"]
REPO = "example-org/mlops-platform"
ARGS = ["bootstrap", "--environment", "dev", "--region", REGION, "--name", "mlops", "--github-repo", REPO]
NAMES = Names("mlops", ACCOUNT, REGION)
PUSH_ROLE = "mlops-push-dev-churn"
REGISTRY = f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository"
KEY = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/00000000-0000-0000-0000-000000000000"
OIDC = "token.actions.githubusercontent.com"
DEV_STACK_FILE = ROOT / "stacks" / "Pulumi.dev.yaml"
# What the provider calls for each ECR type the stacks register (create, read, update, delete).
PULUMI_ECR_CALLS = {
    "aws:ecr/repository:Repository": ("ecr:CreateRepository", "ecr:TagResource", "ecr:DescribeRepositories", "ecr:ListTagsForResource",
                                      "ecr:PutImageTagMutability", "ecr:PutImageScanningConfiguration", "ecr:UntagResource",
                                      "ecr:DeleteRepository"),
    "aws:ecr/lifecyclePolicy:LifecyclePolicy": ("ecr:PutLifecyclePolicy", "ecr:GetLifecyclePolicy", "ecr:DeleteLifecyclePolicy"),
    "aws:ecr/repositoryPolicy:RepositoryPolicy": ("ecr:SetRepositoryPolicy", "ecr:GetRepositoryPolicy", "ecr:DeleteRepositoryPolicy"),
}


@pytest.fixture
def aws(monkeypatch):
    with moto_account(monkeypatch, REGION):
        yield


def bootstrap(capsys, *extra, json_output=True, args=ARGS):
    code = main(args + list(extra) + (["--format", "json"] if json_output else []))
    out, err = capsys.readouterr()
    return code, (json.loads(out) if json_output and out else out), err


def iam():
    return boto3.client("iam", region_name=REGION)


def stored_policy(name: str) -> dict:
    arn = NAMES.policy_arn(name)
    version = iam().get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"]
    document = iam().get_policy_version(PolicyArn=arn, VersionId=version)["PolicyVersion"]["Document"]
    return json.loads(document) if isinstance(document, str) else document


def token(subject: str) -> dict[str, str]:
    return {f"{OIDC}:aud": "sts.amazonaws.com", f"{OIDC}:sub": subject}


# --- the push roles -----------------------------------------------------------------------------


def test_each_pusher_gets_a_role_that_only_its_branch_assumes_and_that_only_pushes_to_its_repositories(aws, capsys):
    code, report, err = bootstrap(capsys, "--image-pushers")
    assert (code, err) == (0, "")
    role = iam().get_role(RoleName=PUSH_ROLE)["Role"]
    assert role["PermissionsBoundary"]["PermissionsBoundaryArn"] == NAMES.policy_arn("mlops-ci-boundary")
    assert iam().list_attached_role_policies(RoleName=PUSH_ROLE)["AttachedPolicies"] == [{"PolicyName": PUSH_ROLE, "PolicyArn": NAMES.policy_arn(PUSH_ROLE)}]
    trust = role["AssumeRolePolicyDocument"]
    trust = json.loads(trust) if isinstance(trust, str) else trust
    # images.pushers.churn: example-org/churn-model, branch main (stacks/Pulumi.dev.yaml).
    assert is_allowed([trust], None, "sts:AssumeRoleWithWebIdentity", "*", token("repo:example-org/churn-model:ref:refs/heads/main"))
    for other in ("repo:example-org/churn-model:ref:refs/heads/feature", "repo:example-org/churn-model:pull_request",
                  "repo:example-org/churn-model:environment:dev", "repo:example-org/mlops-platform:ref:refs/heads/main"):
        assert not is_allowed([trust], None, "sts:AssumeRoleWithWebIdentity", "*", token(other)), other

    push, boundary = stored_policy(PUSH_ROLE), stored_policy("mlops-ci-boundary")

    def can(action, resource):
        return is_allowed([push], boundary, action, resource)

    assert can("ecr:GetAuthorizationToken", "*")
    for repository in ("mlops-dev/train", "mlops-dev/serve"):
        for action in PUSH_ACTIONS:
            assert can(action, f"{REGISTRY}/{repository}"), (action, repository)
        # Push only: no pulls, no deletes, no changes to the repository.
        for action in ("ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchDeleteImage", "ecr:SetRepositoryPolicy", "ecr:DeleteRepository"):
            assert not can(action, f"{REGISTRY}/{repository}"), (action, repository)
    for elsewhere in (f"{REGISTRY}/mlops-dev/other", f"{REGISTRY}/mlops-staging/serve", f"{REGISTRY}/mlops-dev",
                      f"arn:aws:ecr:{REGION}:999999999999:repository/mlops-dev/serve", f"arn:aws:ecr:eu-west-1:{ACCOUNT}:repository/mlops-dev/serve"):
        assert not can("ecr:PutImage", elsewhere), elsewhere

    [entry] = report["imagePushRoles"]
    assert entry == {"pusher": "churn", "githubRepo": "example-org/churn-model", "subject": "repo:example-org/churn-model:ref:refs/heads/main",
                     "roleArn": NAMES.role_arn(PUSH_ROLE), "repositories": [f"{REGISTRY}/mlops-dev/train", f"{REGISTRY}/mlops-dev/serve"]}
    assert report["imageRegistry"] == f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com"
    assert {f["resource"]: f["status"] for f in report["findings"] if PUSH_ROLE in f["resource"]} == {
        NAMES.policy_arn(PUSH_ROLE): "created", NAMES.role_arn(PUSH_ROLE): "created"}

    # The second run confirms and changes nothing.
    code, again, _ = bootstrap(capsys, "--image-pushers")
    assert (code, again["changed"], {f["status"] for f in again["findings"]}) == (0, False, {"ok"})


def test_the_role_bootstrap_creates_is_the_one_the_stacks_repository_policies_let_push(aws, capsys):
    assert bootstrap(capsys, "--image-pushers")[0] == 0
    policies = stack_preview("dev").recording.of_type("aws:ecr/repositoryPolicy:RepositoryPolicy")
    assert len(policies) == 2
    for policy in policies:
        [push] = [s for s in json.loads(policy.inputs["policy"])["Statement"] if s["Sid"] == "PushByModelRepositoryCi"]
        assert push["Condition"]["StringEquals"]["aws:PrincipalArn"] == [iam().get_role(RoleName=PUSH_ROLE)["Role"]["Arn"]]


def test_environment_subjects_and_the_text_tell_the_model_repository_what_to_assume(aws, capsys, tmp_path):
    # A dev stack whose pusher pushes from its `dev` GitHub environment instead of a branch.
    stacks = tmp_path / "stacks"
    stacks.mkdir()
    text = DEV_STACK_FILE.read_text()
    assert text.count("churn: {githubRepo: example-org/churn-model, branch: main}") == 1
    (stacks / "Pulumi.dev.yaml").write_text(text.replace("branch: main}", "environment: dev}"))
    code, out, err = bootstrap(capsys, "--image-pushers", "--stacks-dir", str(stacks), json_output=False)
    assert (code, err) == (0, "")
    assert out.endswith(
        f"Image push roles (registry {ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com): a model repository's workflow assumes its role with "
        "aws-actions/configure-aws-credentials, from a job whose OIDC subject is the one shown:\n"
        "  churn: example-org/churn-model (repo:example-org/churn-model:environment:dev)\n"
        f"    role-to-assume: {NAMES.role_arn(PUSH_ROLE)}\n"
        "    pushes to: mlops-dev/train, mlops-dev/serve\n")
    trust = iam().get_role(RoleName=PUSH_ROLE)["Role"]["AssumeRolePolicyDocument"]
    trust = json.loads(trust) if isinstance(trust, str) else trust
    assert trust["Statement"][0]["Condition"]["StringEquals"][f"{OIDC}:sub"] == "repo:example-org/churn-model:environment:dev"


def test_a_push_role_the_stack_file_no_longer_names_is_reported_never_deleted(aws, capsys):
    assert bootstrap(capsys, "--image-pushers")[0] == 0
    old = "mlops-push-dev-retired"
    iam().create_role(RoleName=old, AssumeRolePolicyDocument=json.dumps(docs.github_trust_policy(NAMES, "repo:example-org/old:ref:refs/heads/main")))
    code, report, _ = bootstrap(capsys, "--image-pushers")
    [stale] = [f for f in report["findings"] if f["resource"] == NAMES.role_arn(old)]
    assert code == 1
    assert stale["unfixed"] == [f"push role not in the stack file's images.pushers: delete it (and its policy {old}) once no workflow "
                                "assumes it (not fixed automatically)"]
    assert iam().get_role(RoleName=old)["Role"]["RoleName"] == old
    # Another environment's push roles are not this run's to judge.
    iam().delete_role(RoleName=old)
    iam().create_role(RoleName="mlops-push-prod-churn", AssumeRolePolicyDocument=json.dumps(docs.github_trust_policy(NAMES, "x")))
    assert bootstrap(capsys, "--image-pushers")[0] == 0


def test_without_image_pushers_no_push_role_is_made(aws, capsys):
    code, report, _ = bootstrap(capsys)
    assert code == 0 and report["imagePushRoles"] == [] and report["imageRegistry"] is None
    assert sorted(r["RoleName"] for r in iam().list_roles()["Roles"]) == ["mlops-deploy-dev", "mlops-preview-dev"]


@pytest.mark.parametrize(("args", "message"), [
    (["bootstrap", "--environment", "dev", "--region", REGION, "--name", "mlops", "--image-pushers"],
     "error: --image-pushers: needs --github-repo (the GitHub OIDC provider and the boundary the push roles carry)"),
    ([*ARGS[:6], "acme", *ARGS[7:], "--image-pushers"], "error: --image-pushers: the stack file's namePrefix is 'mlops', not --name 'acme'"),
    (["bootstrap", "--environment", "dev", "--region", "eu-west-1", "--name", "mlops", "--github-repo", REPO, "--image-pushers"],
     "error: --image-pushers: the stack file's aws:region is 'us-east-1', not --region 'eu-west-1'"),
    (["bootstrap", "--environment", "staging", "--region", REGION, "--name", "mlops", "--github-repo", REPO, "--image-pushers"],
     f"error: --image-pushers: the stack file's accountId is {STACK_ACCOUNTS['staging']}, but these credentials are account {ACCOUNT}'s; "
     "bootstrap each environment's account with its own stack file"),
    (["bootstrap", "--environment", "qa", "--region", REGION, "--name", "mlops", "--github-repo", REPO, "--image-pushers"],
     "error: --environment: 'qa' must be one of dev, staging, prod (one AWS account per environment)"),
])
def test_a_stack_file_of_another_name_region_or_account_is_one_line_exit_2_before_any_change(aws, capsys, args, message):
    code, out, err = bootstrap(capsys, args=args, json_output=False)
    assert (code, out, err) == (2, "", message + "\n")
    assert iam().list_roles()["Roles"] == [] and boto3.client("s3", region_name=REGION).list_buckets()["Buckets"] == []


def test_a_broken_stack_file_is_bad_input(aws, capsys, tmp_path):
    stacks = tmp_path / "stacks"
    stacks.mkdir()
    text = DEV_STACK_FILE.read_text()
    (stacks / "Pulumi.dev.yaml").write_text(text.replace("pushers: [churn], keepTaggedImages: 10", "pushers: [nobody], keepTaggedImages: 10", 1))
    code, out, err = bootstrap(capsys, "--image-pushers", "--stacks-dir", str(stacks), json_output=False)
    assert (code, out) == (2, "")
    assert err == (f"error: {stacks / 'Pulumi.dev.yaml'}: mlops-platform:platform.images.repositories[0].pushers: nobody not in images.pushers (churn)\n")
    assert iam().list_roles()["Roles"] == []


# --- the deploy, preview and boundary policies and ECR ------------------------------------------


@pytest.mark.parametrize("stack", STACKS)
def test_the_deploy_role_may_do_every_ecr_call_a_stack_needs_on_its_repositories_and_nothing_more(stack):
    """Each ECR resource a stack registers, with the calls the provider makes for its type, under
    that stack's account's deploy policy and boundary (evaluated as IAM does)."""
    config = stack_config(stack)
    names = Names(config.name_prefix, config.account_id, config.region)
    deploy, boundary = docs.deploy_policy(names, KEY), docs.boundary_policy(names, KEY)
    recording = stack_preview(stack).recording
    registry = f"arn:aws:ecr:{config.region}:{config.account_id}:repository"
    checked = 0
    for token_, calls in PULUMI_ECR_CALLS.items():
        for resource in recording.of_type(token_):
            repository = resource.inputs.get("name") or resource.inputs["repository"]
            for action in calls:
                assert is_allowed([deploy], boundary, action, f"{registry}/{repository}"), (stack, resource.name, action)
                checked += 1
    assert checked == 2 * sum(len(calls) for calls in PULUMI_ECR_CALLS.values())
    # Exactly those, as listed in the deploy policy's own statement (DescribeRepositories and
    # ListTagsForResource are also covered by ecr:Describe*/List* on "*").
    assert set(docs.IMAGE_REPOSITORY_ACTIONS) == {a for calls in PULUMI_ECR_CALLS.values() for a in calls}
    # No image traffic: pushes are the model repositories', deletions the lifecycle policy's.
    for action in (*PUSH_ACTIONS[1:], "ecr:BatchDeleteImage"):
        assert not is_allowed([deploy], boundary, action, f"{registry}/{config.name_prefix}-{stack}/serve"), action
    # Other teams' repositories and registry-wide settings are out of reach.
    for action in ("ecr:CreateRepository", "ecr:SetRepositoryPolicy", "ecr:DeleteRepository"):
        assert not is_allowed([deploy], boundary, action, f"{registry}/other-team/model"), action
    for action in ("ecr:PutRegistryPolicy", "ecr:PutRegistryScanningConfiguration", "ecr:PutReplicationConfiguration"):
        assert not is_allowed([deploy], boundary, action, "*"), action


def test_the_preview_role_reads_the_repositories_and_their_policies_but_changes_nothing():
    preview, boundary = docs.preview_policy(NAMES, KEY), docs.boundary_policy(NAMES, KEY)
    repository = f"{REGISTRY}/mlops-dev/serve"
    for action in ("ecr:DescribeRepositories", "ecr:GetLifecyclePolicy", "ecr:GetRepositoryPolicy", "ecr:ListTagsForResource"):
        assert is_allowed([preview], boundary, action, repository), action
    for action in (*(a for calls in PULUMI_ECR_CALLS.values() for a in calls if not a.split(":")[1].startswith(("Describe", "Get", "List"))),
                   *PUSH_ACTIONS[1:], *PULL_ACTIONS[1:]):
        assert not is_allowed([preview], boundary, action, repository), action


def test_the_boundary_keeps_the_push_roles_and_their_policies_out_of_every_stacks_reach(aws, capsys):
    assert bootstrap(capsys, "--image-pushers")[0] == 0
    deploy, boundary = stored_policy("mlops-deploy"), stored_policy("mlops-ci-boundary")
    # The deploy policy alone reaches mlops-* roles and policies: the boundary is what stops it.
    assert is_allowed([deploy], None, "iam:PutRolePolicy", NAMES.role_arn(PUSH_ROLE))
    for role in (PUSH_ROLE, "mlops-push-prod-anything"):
        for action in docs.ROLE_MUTATIONS:
            assert not is_allowed([deploy], boundary, action, NAMES.role_arn(role)), (action, role)
    for action in docs.POLICY_MUTATIONS:
        assert not is_allowed([deploy], boundary, action, NAMES.policy_arn(PUSH_ROLE)), action
    # The stacks' own roles stay manageable.
    assert is_allowed([deploy], boundary, "iam:PutRolePolicy", NAMES.role_arn("mlops-dev-churn-execution-role-1a2b3c4"))
