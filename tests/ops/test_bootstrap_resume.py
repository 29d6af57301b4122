"""``mlopsctl bootstrap`` says ``ok`` only for what succeeded, and a rerun finishes what an earlier run began.

moto in-process (``mock_aws``). AWS errors moto never returns are injected at botocore's
``before-send`` hook (tests/support/aws_errors.py): S3 answers HeadBucket on another account's
bucket with a bare 403 where moto answers 200, and moto has no permission, quota or throttling
errors. Half-built resources are seeded directly with boto3, carrying the tags bootstrap writes
(mlopsctl/ops/bootstrap/ownership.py).
"""

from __future__ import annotations

import json

import boto3
import pytest

from mlopsctl.cli import main
from mlopsctl.ops.bootstrap import documents as docs
from mlopsctl.ops.bootstrap.names import Names
from mlopsctl.ops.bootstrap.ownership import STATE_TAG, bootstrap_tags, with_state
from tests.support.aws_errors import answer_every_client_with_error
from tests.support.aws_seed import moto_account

REGION = "eu-west-1"
ACCOUNT = "123456789012"
REPO = "acme/ml-platform"
ENV = "staging"
BUCKET = f"mlops-pulumi-state-{ACCOUNT}-{REGION}"
ARGS = ["bootstrap", "--environment", ENV, "--region", REGION, "--name", "mlops", "--github-repo", REPO]
NAMES = Names("mlops", ACCOUNT, REGION)
DEPLOY_ROLE = "mlops-deploy-staging"
CREATING = [{"Key": k, "Value": v} for k, v in with_state(bootstrap_tags("mlops"), "creating").items()]
RERUN = "then re-run bootstrap (it continues where this run stopped)"
SUB = 'Condition.StringEquals["token.actions.githubusercontent.com:sub"]'


@pytest.fixture
def aws(monkeypatch):
    with moto_account(monkeypatch, REGION):
        yield


def bootstrap(capsys, *extra, json_output=True, args=ARGS):
    code = main(args + list(extra) + (["--format", "json"] if json_output else []))
    out, err = capsys.readouterr()
    assert err == ""
    return code, (json.loads(out) if json_output else out)


def client(service):
    return boto3.client(service, region_name=REGION)


def finding(report, kind, resource_end=""):
    [found] = [f for f in report["findings"] if f["kind"] == kind and f["resource"].endswith(resource_end)]
    return found


def bucket_tags():
    return {t["Key"]: t["Value"] for t in client("s3").get_bucket_tagging(Bucket=BUCKET)["TagSet"]}


# --- a failed step is failed, with the AWS error code and what to do -----------------------------


def _bucket_of_another_account(monkeypatch):
    # moto keeps bucket names global across its accounts, as S3 does.
    monkeypatch.setenv("MOTO_ACCOUNT_ID", "999999999999")
    client("s3").create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
    monkeypatch.delenv("MOTO_ACCOUNT_ID")


OWNED_ELSEWHERE = (f"S3 bucket names are global and {BUCKET} is owned by another AWS account; choose another --name (the state bucket "
                   "is <name>-pulumi-state-<account>-<region>) and use it as namePrefix in the stack files too")


def test_a_state_bucket_name_owned_by_another_account_fails_and_says_so(aws, capsys, monkeypatch):
    _bucket_of_another_account(monkeypatch)
    answer_every_client_with_error(monkeypatch, "s3", "HeadBucket", 403)  # what S3 answers for a bucket of another account
    code, text = bootstrap(capsys, json_output=False)
    assert code == 1
    failure = (f"HeadBucket failed (BucketAlreadyExists): HeadBucket answered 403 and {BUCKET} is not among this account's buckets "
               "(ListBuckets)")
    assert (f"  FAILED  s3-bucket          s3://{BUCKET}\n"
            f"            - failed: {failure}\n"
            f"            - to do: {OWNED_ELSEWHERE}\n") in text
    assert text.endswith(f"ERROR: stopped at state bucket: {failure}\n"
                         "Not run (each needs the steps before it): GitHub OIDC provider, CI policies, CI roles.\n")
    assert "  ok " not in text and client("iam").list_roles()["Roles"] == []


def test_a_name_taken_between_the_check_and_create_fails_with_s3s_code(aws, capsys, monkeypatch):
    _bucket_of_another_account(monkeypatch)
    answer_every_client_with_error(monkeypatch, "s3", "HeadBucket", 404)  # not there when checked; moto's CreateBucket then refuses
    code, report = bootstrap(capsys)
    bucket = finding(report, "s3-bucket")
    assert (code, report["ok"], bucket["status"], bucket["remedy"]) == (1, False, "failed", OWNED_ELSEWHERE)
    assert bucket["failure"].startswith("CreateBucket failed (BucketAlreadyExists): The requested bucket name is not available")
    assert report["notRun"] == ["GitHub OIDC provider", "CI policies", "CI roles"]


def test_a_403_on_a_bucket_that_cannot_be_listed_either_says_both_causes(aws, capsys, monkeypatch):
    answer_every_client_with_error(monkeypatch, "s3", "HeadBucket", 403)
    answer_every_client_with_error(monkeypatch, "s3", "ListBuckets", 403, "AccessDenied", "Access Denied")
    code, report = bootstrap(capsys)
    bucket = finding(report, "s3-bucket")
    assert (code, bucket["failure"]) == (1, "permission denied for HeadBucket (403): Forbidden")
    assert bucket["remedy"] == (f"{BUCKET} exists but these credentials may not read it: another AWS account owns the name (choose "
                                f"another --name) or the credentials lack s3:ListBucket on it; {RERUN}")


@pytest.mark.parametrize(("service", "operation", "status", "code", "failed_at", "done_before", "remedy"), [
    ("kms", "CreateKey", 400, "AccessDeniedException", ("kms-alias", "alias/mlops-pulumi-secrets"), [],
     f"these credentials may not call CreateKey: run bootstrap with administrator credentials of account {ACCOUNT} "
     f"(docs/operations.md, \"Who runs bootstrap\"), {RERUN}"),
    ("iam", "CreateOpenIDConnectProvider", 409, "LimitExceeded", ("iam-oidc-provider", "token.actions.githubusercontent.com"),
     ["kms-alias", "s3-bucket"], f"an account quota is reached (LimitExceeded): free one or raise the quota in Service Quotas, {RERUN}"),
    ("iam", "CreatePolicy", 400, "MalformedPolicyDocument", ("iam-policy", ":policy/mlops-ci-boundary"),
     ["kms-alias", "s3-bucket", "iam-oidc-provider"],
     "AWS refused the request bootstrap made for CreatePolicy (MalformedPolicyDocument); this is a bootstrap bug: report it with this output"),
    ("iam", "CreateRole", 400, "Throttling", ("iam-role", f":role/{DEPLOY_ROLE}"),
     ["kms-alias", "s3-bucket", "iam-oidc-provider", "iam-policy", "iam-policy", "iam-policy", "iam-policy"],
     f"AWS throttled CreateRole beyond botocore's standard-mode retries: wait a minute, {RERUN}"),
])
def test_a_failed_step_is_failed_with_its_code_and_what_to_do(aws, capsys, monkeypatch, service, operation, status, code, failed_at,
                                                               done_before, remedy):
    answer_every_client_with_error(monkeypatch, service, operation, status, code, "no")
    exit_code, report = bootstrap(capsys)
    statuses = [(f["kind"], f["status"]) for f in report["findings"]]
    assert statuses == [(kind, "created") for kind in done_before] + [(failed_at[0], "failed")]  # nothing after it is listed
    failed = report["findings"][-1]
    assert failed["resource"].endswith(failed_at[1])
    assert f"{operation} " in failed["failure"] and f"({code}): no" in failed["failure"] and failed["remedy"] == remedy
    assert (exit_code, report["ok"]) == (1, False) and report["error"].endswith(failed["failure"])


# --- a rerun finishes what an earlier run began ---------------------------------------------------


def test_a_bucket_whose_creation_failed_part_way_is_finished_by_the_rerun(aws, capsys, monkeypatch):
    with monkeypatch.context() as failing:
        answer_every_client_with_error(failing, "s3", "PutBucketEncryption", 403, "AccessDenied", "no PutEncryptionConfiguration")
        code, report = bootstrap(capsys)
    bucket = finding(report, "s3-bucket")
    assert (code, bucket["status"], bucket["note"]) == (1, "failed", "created by this run, not finished")
    assert bucket["failure"] == "permission denied for PutBucketEncryption (AccessDenied): no PutEncryptionConfiguration"
    assert bucket_tags()[STATE_TAG] == "creating"

    code, report = bootstrap(capsys)
    bucket = finding(report, "s3-bucket")
    assert (code, bucket["status"], bucket["differences"], bucket["unfixed"]) == (0, "created", [], [])
    assert bucket["note"] == "an earlier run began creating it and stopped part-way; finished now"
    assert bucket["finished"] == [
        "default encryption is none, want aws:kms",
        "bucket policy lacks TLS-only statement(s) DenyInsecureTransport, DenyTlsBelow12",
        "lifecycle rule expire-noncurrent-state-versions missing (want noncurrent state versions to expire after 90 days)",
    ]
    rule = client("s3").get_bucket_encryption(Bucket=BUCKET)["ServerSideEncryptionConfiguration"]["Rules"][0]
    assert rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
    assert bucket_tags()[STATE_TAG] == "complete"
    code, report = bootstrap(capsys)
    assert (code, report["changed"], {f["status"] for f in report["findings"]}) == (0, False, {"ok"})


def test_a_seeded_half_built_bucket_is_finished_without_fix(aws, capsys):
    s3 = client("s3")
    s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION}, ObjectOwnership="BucketOwnerEnforced")
    s3.put_bucket_tagging(Bucket=BUCKET, Tagging={"TagSet": CREATING + [{"Key": "team", "Value": "ml"}]})
    code, text = bootstrap(capsys, json_output=False)
    assert code == 0, text
    assert (f"  created s3-bucket          s3://{BUCKET}  (an earlier run began creating it and stopped part-way; finished now)\n"
            "            - finished: versioning is never enabled, want Enabled\n") in text
    assert "differs" not in text and "Done." in text
    assert s3.get_bucket_versioning(Bucket=BUCKET)["Status"] == "Enabled"
    assert bucket_tags() == {**{t["Key"]: t["Value"] for t in CREATING}, "team": "ml", STATE_TAG: "complete"}  # others' tags kept


@pytest.mark.parametrize("state", ["complete", None])
def test_the_same_bucket_without_the_creating_tag_is_drift(aws, capsys, state):
    s3 = client("s3")
    s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION}, ObjectOwnership="BucketOwnerEnforced")
    if state:
        s3.put_bucket_tagging(Bucket=BUCKET, Tagging={"TagSet": [{"Key": k, "Value": v} for k, v in with_state(
            bootstrap_tags("mlops"), state).items()]})
    code, report = bootstrap(capsys)
    bucket = finding(report, "s3-bucket")
    assert (code, bucket["status"], bucket["finished"]) == (1, "drift", [])
    assert "versioning is never enabled, want Enabled" in bucket["unfixed"]
    assert "Status" not in s3.get_bucket_versioning(Bucket=BUCKET)


def test_a_role_whose_policy_attachment_failed_is_finished_by_the_rerun(aws, capsys, monkeypatch):
    with monkeypatch.context() as failing:
        answer_every_client_with_error(failing, "iam", "AttachRolePolicy", 403, "AccessDenied", "no iam:AttachRolePolicy")
        code, report = bootstrap(capsys)
    role = finding(report, "iam-role", DEPLOY_ROLE)
    assert (code, role["status"], role["note"]) == (1, "failed", "created by this run, not finished")
    assert report["notRun"] == []  # the preview role is part of the same step, CI roles

    code, report = bootstrap(capsys)
    role = finding(report, "iam-role", DEPLOY_ROLE)
    assert (code, role["status"], role["finished"], role["differences"]) == (
        0, "created", [f"policy {NAMES.policy_arn(p)} not attached" for p in ("mlops-deploy", "mlops-deploy-events")], [])
    assert finding(report, "iam-role", "mlops-preview-staging")["status"] == "created"
    iam = client("iam")
    assert [p["PolicyName"] for p in iam.list_attached_role_policies(RoleName=DEPLOY_ROLE)["AttachedPolicies"]] == ["mlops-deploy", "mlops-deploy-events"]
    assert {t["Key"]: t["Value"] for t in iam.list_role_tags(RoleName=DEPLOY_ROLE)["Tags"]}[STATE_TAG] == "complete"


def test_a_half_built_role_still_reports_drift_in_what_its_create_call_set(aws, capsys):
    assert bootstrap(capsys)[0] == 0
    iam = client("iam")
    # As if an earlier run had created the role for another repository and stopped before attaching its policy.
    iam.detach_role_policy(RoleName=DEPLOY_ROLE, PolicyArn=NAMES.policy_arn("mlops-deploy"))
    iam.tag_role(RoleName=DEPLOY_ROLE, Tags=[{"Key": STATE_TAG, "Value": "creating"}])
    iam.update_assume_role_policy(RoleName=DEPLOY_ROLE, PolicyDocument=json.dumps(docs.github_trust_policy(
        NAMES, "repo:someone/else:environment:staging")))
    code, report = bootstrap(capsys)
    role = finding(report, "iam-role", DEPLOY_ROLE)
    assert (code, role["status"]) == (1, "drift")
    assert role["finished"] == [f"policy {NAMES.policy_arn('mlops-deploy')} not attached"]
    assert role["unfixed"] == [f"trust policy: statement GitHubActionsOidc: {SUB}: repo:someone/else:environment:staging → "
                               f"repo:{REPO}:environment:staging"]


def test_a_half_built_secrets_key_gets_rotation_and_no_new_key(aws, capsys):
    kms = client("kms")
    key = kms.create_key(KeyUsage="ENCRYPT_DECRYPT", KeySpec="SYMMETRIC_DEFAULT",
                         Tags=[{"TagKey": t["Key"], "TagValue": t["Value"]} for t in CREATING])["KeyMetadata"]
    kms.create_alias(AliasName=NAMES.key_alias, TargetKeyId=key["KeyId"])  # the step after CreateKey; rotation never enabled
    code, report = bootstrap(capsys)
    alias = finding(report, "kms-alias")
    assert (code, alias["status"], alias["finished"], alias["differences"]) == (0, "created", ["automatic key rotation is off"], [])
    assert kms.get_key_rotation_status(KeyId=key["KeyId"])["KeyRotationEnabled"] is True
    assert [k["KeyId"] for k in kms.list_keys()["Keys"]] == [key["KeyId"]]
    assert {t["TagKey"]: t["TagValue"] for t in kms.list_resource_tags(KeyId=key["KeyId"])["Tags"]}[STATE_TAG] == "complete"


def test_a_half_built_secrets_key_without_its_alias_is_found_by_its_tags_and_finished(aws, capsys):
    kms = client("kms")
    other = kms.create_key(KeyUsage="ENCRYPT_DECRYPT", KeySpec="SYMMETRIC_DEFAULT")["KeyMetadata"]  # someone else's key
    key = kms.create_key(KeyUsage="ENCRYPT_DECRYPT", KeySpec="SYMMETRIC_DEFAULT",
                         Tags=[{"TagKey": t["Key"], "TagValue": t["Value"]} for t in CREATING])["KeyMetadata"]  # stopped before CreateAlias
    code, report = bootstrap(capsys)
    assert (code, finding(report, "kms-alias")["status"]) == (0, "created")
    assert sorted(k["KeyId"] for k in kms.list_keys()["Keys"]) == sorted([other["KeyId"], key["KeyId"]])  # no third key
    alias = next(a for a in kms.list_aliases()["Aliases"] if a["AliasName"] == NAMES.key_alias)
    assert alias["TargetKeyId"] == key["KeyId"]
    assert kms.get_key_rotation_status(KeyId=key["KeyId"])["KeyRotationEnabled"] is True
    assert {t["TagKey"]: t["TagValue"] for t in kms.list_resource_tags(KeyId=key["KeyId"])["Tags"]}[STATE_TAG] == "complete"


# --- drift shows old → new ------------------------------------------------------------------------


def test_drift_of_the_trusted_github_subject_shows_old_and_new(aws, capsys):
    assert bootstrap(capsys)[0] == 0
    other = ["bootstrap", "--environment", ENV, "--region", REGION, "--name", "mlops", "--github-repo", "acme/fork"]
    code, text = bootstrap(capsys, json_output=False, args=other)
    assert code == 1
    assert (f"            - differs: trust policy: statement GitHubActionsOidc: {SUB}: repo:{REPO}:environment:staging → "
            "repo:acme/fork:environment:staging\n") in text
    assert (f"            - differs: trust policy: statement GitHubActionsOidc: {SUB}: repo:{REPO}:pull_request → "
            "repo:acme/fork:pull_request\n") in text


def test_drift_of_a_managed_policy_names_the_actions_it_lacks(aws, capsys):
    assert bootstrap(capsys)[0] == 0
    iam = client("iam")
    arn = NAMES.policy_arn("mlops-deploy")
    version = iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"]
    document = iam.get_policy_version(PolicyArn=arn, VersionId=version)["PolicyVersion"]["Document"]
    document = json.loads(document) if isinstance(document, str) else document
    statement = next(s for s in document["Statement"] if s["Sid"] == "ListBuckets")
    statement["Action"] = ["s3:ListAllMyBuckets", "s3:ListBucketVersions"]
    iam.create_policy_version(PolicyArn=arn, PolicyDocument=json.dumps(document), SetAsDefault=True)
    code, report = bootstrap(capsys)
    assert (code, finding(report, "iam-policy", ":policy/mlops-deploy")["unfixed"]) == (
        1, ["policy document: statement ListBuckets: Action: has extra s3:ListBucketVersions"])
