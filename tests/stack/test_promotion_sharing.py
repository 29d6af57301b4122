"""staging shares its approved packages with prod: the two real stacks' policies, evaluated together.

staging's resource policies (model package group, artifact bucket, artifacts key, serving
repository) come from staging's preview; prod's roles, their identity policies and bootstrap's
boundary from prod's preview and bootstrap's documents. IAM's cross-account rule is applied by
``tests/support/iam_eval.py`` (moto has no policy simulation): both sides must allow a request.
"""

from __future__ import annotations

import json

import pytest

from mlopsctl.ops.bootstrap import documents as bootstrap_documents
from mlopsctl.ops.bootstrap.names import Names
from tests.support.cli import cached_in_process
from tests.support.iam_eval import cross_account_allowed
from tests.support.stacks import STACK_ACCOUNTS, stack_preview

REGION = "us-east-1"
STAGING, PROD, THIRD = STACK_ACCOUNTS["staging"], STACK_ACCOUNTS["prod"], "999999999999"
ROLE, ROLE_POLICY = "aws:iam/role:Role", "aws:iam/rolePolicy:RolePolicy"
OVER_TLS = {"aws:SecureTransport": "true", "s3:TlsVersion": "1.3"}
# An administrator's identity policy: what a role the resource policies do not name could hold at most.
ADMIN = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
STATE_KEY = f"arn:aws:kms:{REGION}:{PROD}:key/00000000-0000-0000-0000-000000000000"
BOUNDARY = bootstrap_documents.boundary_policy(Names("mlops", PROD, REGION), STATE_KEY)


def _staging():
    return stack_preview("staging").recording


def _prod():
    return stack_preview("prod").recording


def _policy(rec, type_token: str, name: str, key: str = "policy") -> dict:
    [resource] = [r for r in rec.of_type(type_token) if r.name == name]
    return json.loads(resource.inputs[key])


def _execution(rec, stack: str) -> tuple[str, list[dict]]:
    """The endpoint execution role's ARN (its IAM path included, as aws:PrincipalArn carries it) and identity policies."""
    role = rec.one(ROLE, f"mlops-{stack}-churn-execution-role")
    arn = f"arn:aws:iam::{STACK_ACCOUNTS[stack]}:role{role.inputs['path']}{role.id}"
    return arn, [json.loads(p.inputs["policy"]) for p in rec.of_type(ROLE_POLICY) if p.inputs["role"] == role.id]


@pytest.fixture(scope="module")
def shared():
    staging = _staging()
    bucket = staging.stack_outputs["artifactStore"]["bucketName"]
    return {
        "bucket": bucket,
        "bucketPolicy": _policy(staging, "aws:s3/bucketPolicy:BucketPolicy", "mlops-platform-artifacts-policy"),
        "artifactsKey": staging.stack_outputs["kmsKeys"]["artifacts"],
        "imagesKey": staging.stack_outputs["kmsKeys"]["images"],
        "keyPolicy": _policy(staging, "aws:kms/key:Key", "mlops-platform-keys-artifacts"),
        "imagesKeyPolicy": _policy(staging, "aws:kms/key:Key", "mlops-platform-keys-images"),
        "serve": _policy(staging, "aws:ecr/repositoryPolicy:RepositoryPolicy", "mlops-platform-images-serve-policy"),
        "train": _policy(staging, "aws:ecr/repositoryPolicy:RepositoryPolicy", "mlops-platform-images-train-policy"),
        "group": _policy(staging, "aws:sagemaker/modelPackageGroupPolicy:ModelPackageGroupPolicy", "mlops-platform-serving-registry-churn-policy", "resourcePolicy"),
    }


@pytest.fixture(scope="module")
def prod_execution():
    return _execution(_prod(), "prod")


def _impostors(identity: list[dict]) -> dict[str, list[dict]]:
    """Principals that must get nothing, each with the most it could hold: a prod role outside the
    serving path (its drift monitor, an administrator), one named like an execution role but
    without the path, and the serving path in a third account."""
    drift = _prod().one(ROLE, "mlops-prod-drift-monitor")
    return {
        f"arn:aws:iam::{PROD}:role/{drift.id}": [ADMIN],
        f"arn:aws:iam::{PROD}:role/ml-platform-admins": [ADMIN],
        f"arn:aws:iam::{PROD}:role/mlops-prod-churn-execution-role-0000000": identity,
        f"arn:aws:iam::{THIRD}:role/mlops-prod/serving/mlops-prod-churn-execution-role-0000000": [ADMIN],
    }


def test_prods_execution_role_reads_stagings_models_and_nothing_else_of_the_bucket(shared, prod_execution):
    role, identity = prod_execution
    objects = f"arn:aws:s3:::{shared['bucket']}"

    def can(action: str, key: str, principal: str = role, policies: list[dict] = identity, **context: str) -> bool:
        return cross_account_allowed(policies, BOUNDARY, shared["bucketPolicy"], principal=principal, action=action, resource=f"{objects}/{key}",
                                     context={**OVER_TLS, "s3:ResourceAccount": STAGING, **context})

    assert can("s3:GetObject", "models/churn/v7/model.tar.gz")
    for key in ("datasets/churn/train.csv", "data-capture/churn/2026/12/01/x.jsonl", "pipelines/churn/run-1/step.json", "modelsx/a"):
        assert not can("s3:GetObject", key), key
    for action in ("s3:GetObjectVersion", "s3:PutObject", "s3:DeleteObject"):
        assert not can(action, "models/churn/v7/model.tar.gz"), action
    assert not cross_account_allowed(identity, BOUNDARY, shared["bucketPolicy"], principal=role, action="s3:ListBucket", resource=objects,
                                     context={**OVER_TLS, "s3:prefix": "models/", "s3:ResourceAccount": STAGING})
    # The bucket's TLS Deny holds for prod too.
    assert not can("s3:GetObject", "models/churn/v7/model.tar.gz", **{"aws:SecureTransport": "false"})
    for principal, policies in _impostors(identity).items():
        assert not can("s3:GetObject", "models/churn/v7/model.tar.gz", principal=principal, policies=policies), principal


def test_prods_execution_role_decrypts_stagings_models_through_s3_only(shared, prod_execution):
    role, identity = prod_execution
    through_s3 = {"kms:ViaService": f"s3.{REGION}.amazonaws.com", "kms:EncryptionContext:aws:s3:arn": f"arn:aws:s3:::{shared['bucket']}"}

    def can(key_policy: dict, key_arn: str, principal: str = role, policies: list[dict] = identity, **context: str) -> bool:
        return cross_account_allowed(policies, BOUNDARY, key_policy, principal=principal, action="kms:Decrypt", resource=key_arn, context=context)

    assert can(shared["keyPolicy"], shared["artifactsKey"], **through_s3)
    assert not can(shared["keyPolicy"], shared["artifactsKey"])  # called directly, not by S3
    assert not can(shared["keyPolicy"], shared["artifactsKey"], **{**through_s3, "kms:ViaService": f"sqs.{REGION}.amazonaws.com"})
    access_logs = through_s3 | {"kms:EncryptionContext:aws:s3:arn": f"arn:aws:s3:::mlops-staging-access-logs-{'0' * 26}"}
    assert not can(shared["keyPolicy"], shared["artifactsKey"], **access_logs)
    for action in ("kms:Encrypt", "kms:GenerateDataKey", "kms:ReEncryptFrom"):
        assert not cross_account_allowed(identity, BOUNDARY, shared["keyPolicy"], principal=role, action=action, resource=shared["artifactsKey"], context=through_s3), action
    # ECR decrypts image layers under its own grants: the images key trusts no other account.
    assert not can(shared["imagesKeyPolicy"], shared["imagesKey"], **through_s3)
    for principal, policies in _impostors(identity).items():
        assert not can(shared["keyPolicy"], shared["artifactsKey"], principal=principal, policies=policies, **through_s3), principal


def test_prods_execution_role_pulls_stagings_serving_images_and_never_pushes(shared, prod_execution):
    role, identity = prod_execution
    serve, train = (f"arn:aws:ecr:{REGION}:{STAGING}:repository/mlops-staging/{r}" for r in ("serve", "train"))

    def can(action: str, repository: str, policy: dict, principal: str = role, policies: list[dict] = identity) -> bool:
        return cross_account_allowed(policies, BOUNDARY, policy, principal=principal, action=action, resource=repository)

    for action in ("ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"):
        assert can(action, serve, shared["serve"]), action
        assert not can(action, train, shared["train"]), action  # training images stay staging's
    for action in ("ecr:PutImage", "ecr:InitiateLayerUpload", "ecr:UploadLayerPart", "ecr:CompleteLayerUpload"):
        assert not can(action, serve, shared["serve"]), action
    for principal, policies in _impostors(identity).items():
        assert not can("ecr:BatchGetImage", serve, shared["serve"], principal=principal, policies=policies), principal


def test_prods_deploy_and_preview_roles_read_stagings_group_and_nobody_in_prod_approves_there(shared):
    names = Names("mlops", PROD, REGION)
    deploy = (names.role_arn(names.deploy_role("prod")), [bootstrap_documents.deploy_policy(names, STATE_KEY)])
    preview = (names.role_arn(names.preview_role("prod")), [bootstrap_documents.preview_policy(names, STATE_KEY)])
    group = f"arn:aws:sagemaker:{REGION}:{STAGING}:model-package-group/churn"
    package = f"arn:aws:sagemaker:{REGION}:{STAGING}:model-package/churn/7"

    def can(who: tuple[str, list[dict]], action: str, resource: str) -> bool:
        return cross_account_allowed(who[1], BOUNDARY, shared["group"], principal=who[0], action=action, resource=resource)

    for who in (deploy, preview):
        assert can(who, "sagemaker:DescribeModelPackage", package), who[0]
        assert can(who, "sagemaker:ListModelPackages", package), who[0]
        assert can(who, "sagemaker:DescribeModelPackageGroup", group), who[0]
    assert can(deploy, "sagemaker:CreateModel", package)  # SageMaker's cross-account deployment guide grants it on the versions
    assert not can(preview, "sagemaker:CreateModel", package)  # a preview creates nothing
    # Approval stays with staging: no prod role may change a version's status or the group.
    for action in ("sagemaker:UpdateModelPackage", "sagemaker:DeleteModelPackage", "sagemaker:PutModelPackageGroupPolicy"):
        assert not can(deploy, action, group if "Group" in action else package), action
    third = Names("mlops", THIRD, REGION)
    outsiders = [(third.role_arn(third.deploy_role("prod")), [ADMIN]), (f"arn:aws:iam::{PROD}:role/ml-platform-admins", [ADMIN])]
    for who in outsiders:
        assert not can(who, "sagemaker:DescribeModelPackage", package), who[0]


def test_only_staging_shares_and_only_prod_reads_there():
    dev, staging, prod = (stack_preview(s).recording for s in ("dev", "staging", "prod"))
    token = "aws:sagemaker/modelPackageGroupPolicy:ModelPackageGroupPolicy"
    assert (len(dev.of_type(token)), len(staging.of_type(token)), len(prod.of_type(token))) == (0, 1, 0)
    for stack, rec in (("dev", dev), ("staging", staging)):
        _, identity = _execution(rec, stack)
        assert all("PromotedFrom" not in s["Sid"] for policy in identity for s in policy["Statement"]), stack
    for rec in (dev, prod):
        documents = [json.loads(r.inputs["policy"]) for r in rec.resources if r.type in ("aws:s3/bucketPolicy:BucketPolicy", "aws:kms/key:Key",
                                                                                          "aws:ecr/repositoryPolicy:RepositoryPolicy")]
        assert all("Promoted" not in s.get("Sid", "") for d in documents for s in d["Statement"])


@pytest.mark.parametrize("stack", ["staging", "prod"])
def test_staging_and_prod_preview_clean_with_the_pack(stack):
    code, stdout = cached_in_process("preview", "--stack", stack, "--format", "json")
    document = json.loads(stdout)
    assert code == 0 and document["policy"]["evaluated"] is True
    assert [v for v in document["policy"]["violations"] if v["level"] == "mandatory"] == []
