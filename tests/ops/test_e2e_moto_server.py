"""End to end: the real ``mlopsctl`` CLI, as a subprocess, against ``moto_server`` on 127.0.0.1.

moto_server runs as its own process on a free port; readiness is polled with a bounded loop
(HTTP GET until a deadline, waiting on the server process between attempts), never a sleep.
The gaps of moto listed in test_bootstrap.py and test_verify.py apply here too: the staging stack
is used because it has no cross-region replication, which moto cannot represent faithfully, in a
copy with ``ciRunner.webhook: false`` because moto's CodeBuild has no webhooks, and with
``training.experiments.enabled: false`` because moto has no MLflow API (in process,
tests/support/mlflow.py answers it; moto_server runs in its own process). moto_server
answers for staging's account (``MOTO_ACCOUNT_ID``), as verify refuses another account's credentials.
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import time

import boto3
import pytest

from mlopsctl.offline.preview import load_config
from mlopsctl.offline.stackfile import load_stack_file
from tests.support.aws_seed import BUCKET, GITHUB_HEADERS, MOTO_SETTINGS, PLACEHOLDER_KEY, REGION, Seed, seed_stack
from tests.support.stacks import ROOT

CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing",
               "AWS_DEFAULT_REGION": REGION}
STAGING = load_config(load_stack_file("staging"))
ACCOUNT = STAGING.account_id


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_until_serving(process: subprocess.Popen, port: int, deadline_seconds: float = 30.0) -> None:
    deadline = time.monotonic() + deadline_seconds
    while time.monotonic() < deadline:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            connection.request("GET", "/moto-api/")
            if connection.getresponse().status == 200:
                return
        except OSError:
            pass
        try:
            process.wait(timeout=0.05)  # waits on the server; returns only if it died
        except subprocess.TimeoutExpired:
            continue
        raise RuntimeError(f"moto_server exited with {process.returncode}: {process.stderr.read().decode(errors='replace')[-2000:]}")
    raise RuntimeError(f"moto_server did not answer on 127.0.0.1:{port} within {deadline_seconds}s")


@pytest.fixture(scope="module")
def moto_server():
    port = _free_port()
    process = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env={**os.environ, **CREDENTIALS, **MOTO_SETTINGS, "MOTO_ACCOUNT_ID": ACCOUNT})
    try:
        _wait_until_serving(process, port)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        process.stderr.close()


def write_staging_stack(stacks) -> None:
    """Staging's stack file in ``stacks``, without the runner's webhook and experiment tracking (see the module's docstring)."""
    text = (ROOT / "stacks" / "Pulumi.staging.yaml").read_text()
    assert text.count("      webhook: true\n") == 1 and text.count("    environment: staging\n") == 1
    text = text.replace("      webhook: true\n", "      webhook: false\n")
    text = text.replace("    environment: staging\n", "    environment: staging\n    training: {experiments: {enabled: false}}\n")
    (stacks / "Pulumi.staging.yaml").write_text(text)


def mlopsctl(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, **CREDENTIALS}
    return subprocess.run([sys.executable, "-m", "mlopsctl", *args], cwd=ROOT, env=env, input=stdin,
                          capture_output=True, text=True, timeout=120)


def test_bootstrap_then_verify_through_the_cli(moto_server, monkeypatch, tmp_path):
    for key, value in CREDENTIALS.items():
        monkeypatch.setenv(key, value)
    bootstrap = ["bootstrap", "--environment", "prod", "--region", REGION, "--name", "mlops", "--github-repo", "acme/ml-platform",
                 "--endpoint-url", moto_server]

    first = mlopsctl(*bootstrap)
    assert (first.returncode, first.stderr) == (0, ""), first.stdout + first.stderr
    bucket = f"mlops-pulumi-state-{ACCOUNT}-us-east-1"
    assert f"  pulumi login 's3://{bucket}?region=us-east-1&awssdk=v2'\n" in first.stdout
    assert "  pulumi stack init organization/mlops-platform/prod --secrets-provider 'awskms://alias/mlops-pulumi-secrets?region=us-east-1'\n" in first.stdout
    assert f"  environment prod    AWS_ROLE_ARN                 arn:aws:iam::{ACCOUNT}:role/mlops-deploy-prod\n" in first.stdout
    assert f"  repository          AWS_PREVIEW_ROLE_ARN_PROD    arn:aws:iam::{ACCOUNT}:role/mlops-preview-prod\n" in first.stdout
    assert "mlops-deploy-dev" not in first.stdout and "mlops-preview-staging" not in first.stdout

    second = mlopsctl(*bootstrap, "--format", "json")
    report = json.loads(second.stdout)
    assert (second.returncode, report["changed"], report["ok"], report["environment"]) == (0, False, True, "prod")
    s3 = boto3.client("s3", region_name=REGION, endpoint_url=moto_server)
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"

    # This account is staging's (accountId): its stack file's image pushers get their push roles.
    pushers = mlopsctl("bootstrap", "--environment", "staging", "--region", REGION, "--name", "mlops", "--github-repo", "acme/ml-platform",
                       "--image-pushers", "--endpoint-url", moto_server, "--format", "json")
    assert (pushers.returncode, pushers.stderr) == (0, ""), pushers.stdout + pushers.stderr
    [push] = json.loads(pushers.stdout)["imagePushRoles"]
    assert (push["roleArn"], push["subject"]) == (f"arn:aws:iam::{ACCOUNT}:role/mlops-push-staging-churn", "repo:example-org/churn-model:environment:staging")
    iam = boto3.client("iam", region_name=REGION, endpoint_url=moto_server)
    trust = iam.get_role(RoleName="mlops-push-staging-churn")["Role"]["AssumeRolePolicyDocument"]
    trust = json.loads(trust) if isinstance(trust, str) else trust
    assert trust["Statement"][0]["Condition"]["StringEquals"]["token.actions.githubusercontent.com:sub"] == push["subject"]
    policy = iam.get_policy(PolicyArn=f"arn:aws:iam::{ACCOUNT}:policy/mlops-push-staging-churn")["Policy"]
    document = iam.get_policy_version(PolicyArn=policy["Arn"], VersionId=policy["DefaultVersionId"])["PolicyVersion"]["Document"]
    document = json.loads(document) if isinstance(document, str) else document
    assert [s["Resource"] for s in document["Statement"] if s["Sid"] == "PushImages"] == [
        [f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/mlops-staging/train", f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/mlops-staging/serve"]]

    # A deployed staging stack (its runner without a webhook), then verify it from a file and from stdin.
    stacks = tmp_path / "stacks"
    stacks.mkdir()
    write_staging_stack(stacks)
    config = load_config(load_stack_file("staging", stacks))
    outputs = seed_stack(config, Seed(autoscaling_min=1), endpoint_url=moto_server)
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps(outputs))
    verify = ("verify", "--stack", "staging", "--stacks-dir", str(stacks), "--endpoint-url", moto_server)
    passing = mlopsctl(*verify, "--outputs", str(path), "--format", "json")
    document = json.loads(passing.stdout)
    assert (passing.returncode, passing.stderr) == (0, ""), passing.stdout
    # store 4, network 4, cluster 4, 2 node groups x 5, runner 3, one endpoint x 5, 2 subscriptions, alarms present + 4 of the
    # endpoint's two variants + the dead-letter queue's, the dispatch connection and queue, the churn pipeline's status, role,
    # guard, schedule and last execution; skipped: replication, the webhook, the drift trigger staging does not have
    assert document["summary"] == {"pass": 4 + 4 + 4 + 2 * 5 + 3 + 5 + 2 + 1 + 4 + 1 + 2 + 5, "fail": 0, "error": 0, "skip": 3, "warn": 0}
    assert {c["check"].split(".")[0] for c in document["checks"] if c["status"] == "pass"} == {
        "artifactStore", "network", "cluster", "nodegroup", "ciRunner", "endpoint", "alerts", "alarm", "promotion", "pipeline"}

    s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Suspended"})
    failing = mlopsctl(*verify, stdin=json.dumps(outputs))
    assert failing.returncode == 1
    [line] = [x for x in failing.stdout.splitlines() if x.lstrip().startswith("FAIL")]
    assert line.split() == ["FAIL", "artifactStore.versioning", f"s3://{BUCKET}:", "versioning", "is", "Suspended,", "want", "Enabled"]
    assert failing.stdout.endswith("44 passed, 1 failed, 0 errors, 3 skipped\n")

    wrong = mlopsctl(*verify, stdin=json.dumps({**outputs, "environment": "prod"}))
    assert (wrong.returncode, wrong.stdout) == (2, "")
    assert wrong.stderr.startswith("error: wrong stack: the outputs are environment 'prod'") and wrong.stderr.count("\n") == 1

    bad = mlopsctl(*verify, stdin="{oops")
    assert (bad.returncode, bad.stdout) == (2, "")
    assert bad.stderr.startswith("error: outputs (stdin): not valid JSON") and bad.stderr.count("\n") == 1


def test_promote_then_verify_before_deploy_through_the_cli(moto_server, monkeypatch, tmp_path):
    """A new version registered, promoted into the stack file, refused until approved, then passed."""
    for key, value in CREDENTIALS.items():
        monkeypatch.setenv(key, value)
    sagemaker = boto3.client("sagemaker", region_name=REGION, endpoint_url=moto_server)
    group = "churn"
    sagemaker.create_model_package_group(ModelPackageGroupName=group)
    arns = [sagemaker.create_model_package(ModelPackageGroupName=group, ModelApprovalStatus="PendingManualApproval")["ModelPackageArn"]
            for _ in range(9)]
    for arn in arns[6:8]:  # 7 and 8: what staging serves today
        sagemaker.update_model_package(ModelPackageArn=arn, ModelApprovalStatus="Approved")
    stacks = tmp_path / "stacks"
    stacks.mkdir()
    (stacks / "Pulumi.staging.yaml").write_bytes((ROOT / "stacks" / "Pulumi.staging.yaml").read_bytes())

    promoted = mlopsctl("promote", "--stack", "staging", "--endpoint", "churn", "--model-package-arn", arns[8], "--stacks-dir", str(stacks))
    assert (promoted.returncode, promoted.stderr) == (0, ""), promoted.stderr
    assert promoted.stdout.endswith(f"{arns[6]} → {arns[8]}\n")

    before_deploy = ("verify", "--before-deploy", "--stack", "staging", "--stacks-dir", str(stacks), "--endpoint-url", moto_server)
    pending = mlopsctl(*before_deploy)
    assert (pending.returncode, pending.stderr) == (1, ""), pending.stdout + pending.stderr
    assert f"FAIL endpoint churn (primary): {arns[8]}: PendingManualApproval, not Approved" in pending.stdout

    sagemaker.update_model_package(ModelPackageArn=arns[8], ModelApprovalStatus="Approved")
    approved = mlopsctl(*before_deploy)
    assert (approved.returncode, approved.stderr) == (0, ""), approved.stdout + approved.stderr
    assert approved.stdout.splitlines() == [f"ok   endpoint churn (primary): {arns[8]}: Approved", f"ok   endpoint churn (challenger): {arns[7]}: Approved"]


def _reset(moto_server: str) -> None:
    """Empty moto_server's state (its own API), so this test does not depend on the others of the module."""
    connection = http.client.HTTPConnection(*moto_server.removeprefix("http://").split(":"), timeout=10)
    connection.request("POST", "/moto-api/reset")
    assert connection.getresponse().status == 200


def _recorded_key_value(events, name: str) -> str:
    """The API key value moto_server recorded for connection ``name``.

    moto answers DescribeConnection with the whole auth parameters it stored; botocore parses only
    what AWS returns (the key's name), so the raw answer is read before botocore parses it.
    """
    bodies: list[bytes] = []
    events.meta.events.register("before-parse.events.DescribeConnection", lambda response_dict, **_: bodies.append(response_dict["body"]))
    parsed = events.describe_connection(Name=name)
    assert parsed["AuthParameters"]["ApiKeyAuthParameters"] == {"ApiKeyName": "Authorization"}
    return json.loads(bodies[-1])["AuthParameters"]["ApiKeyAuthParameters"]["ApiKeyValue"]


def test_dispatch_token_then_verify_the_dispatch_through_the_cli(moto_server, monkeypatch, tmp_path):
    """The token goes in on stdin and never comes out; verify then reports the one undelivered approval."""
    for key, value in CREDENTIALS.items():
        monkeypatch.setenv(key, value)
    _reset(moto_server)
    stacks = tmp_path / "stacks"
    stacks.mkdir()
    write_staging_stack(stacks)
    config = load_config(load_stack_file("staging", stacks))
    outputs = seed_stack(config, Seed(autoscaling_min=1, dead_letters=1), endpoint_url=moto_server)
    events = boto3.client("events", region_name=REGION, endpoint_url=moto_server)
    name = outputs["promotion"]["connectionName"]
    assert _recorded_key_value(events, name) == PLACEHOLDER_KEY

    token = "github_pat_11ABCDEFG0" + "e2E4e2E4e2" * 8
    command = ("dispatch-token", "--stack", "staging", "--stacks-dir", str(stacks), "--endpoint-url", moto_server)
    refused = mlopsctl(*command, stdin="ghp_" + token[11:] + "\n")
    assert (refused.returncode, refused.stdout, refused.stderr.count("\n")) == (2, "", 1)
    assert refused.stderr.startswith("error: stdin: refused a ghp_… token") and token[11:] not in refused.stderr
    assert _recorded_key_value(events, name) == PLACEHOLDER_KEY

    done = mlopsctl(*command, stdin=token + "\n")
    assert (done.returncode, done.stderr) == (0, ""), done.stderr
    assert done.stdout == f"{name}: set its fine-grained personal access token (API key, header Authorization: Bearer …); connection state AUTHORIZED\n"
    assert _recorded_key_value(events, name) == f"Bearer {token}"
    assert events.describe_connection(Name=name)["AuthParameters"]["InvocationHttpParameters"] == GITHUB_HEADERS  # sent back as read

    wrong_account = mlopsctl("dispatch-token", "--stack", "prod", "--endpoint-url", moto_server, stdin=token)
    assert (wrong_account.returncode, wrong_account.stdout) == (2, "")
    assert wrong_account.stderr.startswith(f"error: wrong account: the credentials are for account {ACCOUNT}, stacks/Pulumi.prod.yaml")

    verify = mlopsctl("verify", "--stack", "staging", "--stacks-dir", str(stacks), "--endpoint-url", moto_server, stdin=json.dumps(outputs))
    assert verify.returncode == 1, verify.stdout + verify.stderr
    [line] = [x for x in verify.stdout.splitlines() if x.lstrip().startswith(("FAIL", "ERROR", "WARN"))]
    assert line.split(None, 2)[:2] == ["FAIL", "promotion.deadLetterQueue"]
    assert "sqs queue mlops-staging-dispatch-dlq: 1 approval(s) GitHub did not receive" in line
    assert "PASS  promotion.connection" in verify.stdout
    assert all(token not in out for out in (done.stdout, done.stderr, verify.stdout, wrong_account.stderr))

    events.delete_connection(Name=name)
    missing = mlopsctl(*command, stdin=token)
    assert (missing.returncode, missing.stdout) == (1, "")
    assert missing.stderr == (f"error: no EventBridge connection {name} in {REGION} of account {ACCOUNT}: deploy {stacks}/Pulumi.staging.yaml "
                              "(promotion.dispatch: true) first; the stack creates it\n")
