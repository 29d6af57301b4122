"""``mlopsctl verify`` never reports green on nothing: the CLI against moto (in-process).

Whose stack the outputs are, which sections the stack file implies, whose credentials these are,
and a run that checked nothing, each with its exit code and one line. moto answers for the account
in ``MOTO_ACCOUNT_ID``, so a CLI test sets it to the stack file's ``accountId``.
"""

from __future__ import annotations

import io
import json

import pytest

from mlopsctl.cli import main
from mlopsctl.offline.preview import load_config
from mlopsctl.offline.stackfile import load_stack_file
from mlopsctl.ops.verify import FAIL, PASS, SKIP, CheckResult, failed, verifier
from tests.support.aws_errors import answer_every_client_with_error
from tests.support.aws_seed import BUCKET, REGION, Seed, moto_account, seed_stack, without_credentials

STAGING = load_config(load_stack_file("staging"))


@pytest.fixture
def aws(monkeypatch):
    with moto_account(monkeypatch, REGION):
        yield


@pytest.fixture
def staging_account(aws, monkeypatch):
    monkeypatch.setenv("MOTO_ACCOUNT_ID", STAGING.account_id)


@pytest.fixture
def staging_outputs(staging_account, tmp_path):
    """A deployed staging stack in moto, and its outputs in a file."""
    outputs = seed_stack(STAGING, Seed(autoscaling_min=1))
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps(outputs))
    return outputs, path


def run_cli(args, capsys, stdin_text=None, monkeypatch=None):
    if stdin_text is not None:
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin_text))
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_json_and_exit_codes(staging_outputs, capsys, monkeypatch):
    outputs, path = staging_outputs
    code, out, err = run_cli(["verify", "--stack", "staging", "--outputs", str(path), "--format", "json"], capsys)
    document = json.loads(out)
    assert (code, err, document["ok"], document["environment"]) == (0, "", True, "staging"), out
    # store 4 (replication skipped), network 4, cluster 4, 2 node groups x 5, runner 4, one endpoint x 5,
    # 2 subscriptions, alarms present + 2 per variant (primary, challenger) + the dead-letter queue's, connection and queue,
    # the MLflow app's status and artifact store (training.experiments is on in staging by default), the churn pipeline's
    # status, role, guard, schedule and last execution; skipped: replication and the drift trigger staging does not have
    assert document["summary"] == {"pass": 4 + 4 + 4 + 2 * 5 + 4 + 5 + 2 + 1 + 2 * 2 + 1 + 2 + 2 + 5, "fail": 0, "error": 0, "skip": 2, "warn": 0}
    assert set(document["checks"][0]) == {"check", "resource", "status", "reason"}

    import boto3

    boto3.client("s3", region_name=REGION).put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Suspended"})
    code, out, _ = run_cli(["verify", "--stack", "staging"], capsys, json.dumps(outputs), monkeypatch)
    assert code == 1
    assert "FAIL  artifactStore.versioning" in out and f"s3://{BUCKET}: versioning is Suspended, want Enabled" in out
    assert out.rstrip().endswith("47 passed, 1 failed, 0 errors, 2 skipped")


# --- every section the stack file implies must be in the outputs and checked ----------------------


@pytest.mark.parametrize(("section", "declared_by"), [
    ("artifactStore", "storage (every stack has an artifact store)"),
    ("network", "network (every stack has a VPC)"),
    ("cluster", "eks (every stack has a cluster)"),
    ("ciRunner", "ciRunner.connectionArn"),
    ("endpoints", "serving.endpoints"),
    ("alerts", "alerts (every stack has an alert topic)"),
    ("promotion", "promotion.dispatch"),
    ("training", "serving.endpoints[churn].training, training.experiments.enabled"),
])
def test_a_declared_section_missing_from_the_outputs_fails_naming_it(staging_outputs, capsys, monkeypatch, section, declared_by):
    outputs, _ = staging_outputs
    del outputs[section]
    code, out, err = run_cli(["verify", "--stack", "staging"], capsys, json.dumps(outputs), monkeypatch)
    assert (code, err) == (1, "")
    [line] = [x for x in out.splitlines() if f"{section}.present" in x]
    assert line.split(None, 2)[:2] == ["FAIL", f"{section}.present"]
    assert line.endswith(f"-: stacks/Pulumi.staging.yaml declares it ({declared_by}), but the outputs have no '{section}' section, "
                         "so none of its checks ran")


def test_outputs_with_nothing_but_their_stack_fail_every_section(staging_account, capsys, monkeypatch):
    code, out, _ = run_cli(["verify", "--stack", "staging"], capsys, json.dumps({"environment": "staging", "region": REGION}), monkeypatch)
    assert code == 1
    assert [x.split()[1] for x in out.splitlines() if x.lstrip().startswith("FAIL")] == [
        "artifactStore.present", "network.present", "cluster.present", "ciRunner.present", "endpoints.present", "alerts.present",
        "promotion.present", "training.present"]
    assert out.endswith("0 passed, 8 failed, 0 errors, 0 skipped\n")


def test_a_run_that_checked_nothing_is_a_failure(staging_account, capsys, monkeypatch):
    monkeypatch.setattr(verifier, "declared_sections", lambda config: [])
    code, out, _ = run_cli(["verify", "--stack", "staging", "--format", "json"], capsys,
                           json.dumps({"environment": "staging", "region": REGION}), monkeypatch)
    document = json.loads(out)
    assert (code, document["ok"]) == (1, False)
    assert [(c["check"], c["status"]) for c in document["checks"]] == [("ciRunner", "skip"), ("verify", "fail")]
    assert document["checks"][-1]["reason"] == "no check ran, so nothing is verified"


def test_skips_alone_are_not_a_pass():
    skipped = CheckResult("artifactStore.replication", "-", SKIP, "not configured")
    assert failed([]) and failed([skipped])
    assert not failed([skipped, CheckResult("cluster.status", "-", PASS, "ACTIVE")])
    assert failed([CheckResult("cluster.status", "-", PASS, "ACTIVE"), CheckResult("cluster.version", "-", FAIL, "1.33")])


# --- whose stack, whose credentials --------------------------------------------------------------


@pytest.mark.parametrize(("stack_of_outputs", "message"), [
    ({"environment": "prod", "region": REGION},
     "error: wrong stack: the outputs are environment 'prod' in us-east-1, stacks/Pulumi.staging.yaml is environment 'staging' in "
     "us-east-1; pass `pulumi stack output --json --stack staging`"),
    ({"environment": "staging", "region": "eu-west-1"},
     "error: wrong stack: the outputs are environment 'staging' in eu-west-1, stacks/Pulumi.staging.yaml is environment 'staging' in "
     "us-east-1; pass `pulumi stack output --json --stack staging`"),
    ({}, "error: wrong stack: the outputs carry no 'environment' or 'region', which layer 1 of this platform exports; "
         "pass `pulumi stack output --json` of staging's layer 1 stack"),
])
def test_outputs_of_another_stack_are_refused_before_any_aws_call(no_credentials, capsys, monkeypatch, stack_of_outputs, message):
    # Without credentials, any AWS call would end in a credentials error: this one comes first.
    outputs = {"artifactStore": {"bucketName": BUCKET, "kmsKeyArn": "k"}, **stack_of_outputs}
    code, out, err = run_cli(["verify", "--stack", "staging"], capsys, json.dumps(outputs), monkeypatch)
    assert (code, out, err) == (2, "", message + "\n")


def test_credentials_of_another_account_are_refused(staging_outputs, capsys, monkeypatch):
    _, path = staging_outputs
    monkeypatch.setenv("MOTO_ACCOUNT_ID", "123456789012")  # dev's account
    code, out, err = run_cli(["verify", "--stack", "staging", "--outputs", str(path)], capsys)
    assert (code, out) == (2, "")
    assert err == ("error: wrong account: the credentials are for account 123456789012, stacks/Pulumi.staging.yaml deploys to accountId "
                   "210987654321 (one account per environment: use staging's credentials)\n")


@pytest.fixture
def no_credentials(monkeypatch, tmp_path):
    without_credentials(monkeypatch, tmp_path)


def test_no_credentials_is_one_line_and_exit_2(no_credentials, capsys, monkeypatch, tmp_path):
    outputs = {"environment": "staging", "region": REGION, "artifactStore": {"bucketName": BUCKET, "kmsKeyArn": "k"}}
    code, out, err = run_cli(["verify", "--stack", "staging"], capsys, json.dumps(outputs), monkeypatch)
    assert (code, out) == (2, "")
    assert err == ("error: no usable AWS credentials: Unable to locate credentials (set AWS_PROFILE or --profile, or log in, "
                   "e.g. aws sso login)\n")


def test_credentials_that_expire_during_the_run_stop_it_with_one_line(staging_outputs, capsys, monkeypatch):
    _, path = staging_outputs
    calls = answer_every_client_with_error(monkeypatch, "eks", "DescribeCluster", 403, "ExpiredTokenException",
                                           "The security token included in the request is expired")
    code, out, err = run_cli(["verify", "--stack", "staging", "--outputs", str(path)], capsys)
    assert (code, out) == (2, "")  # not one error per cluster check
    assert err == ("error: the AWS credentials were refused (ExpiredTokenException: The security token included in the request is "
                   "expired); refresh them and re-run\n")
    assert calls == ["DescribeCluster"]


def test_an_expired_token_before_the_first_check_is_one_line(staging_outputs, capsys, monkeypatch):
    _, path = staging_outputs
    answer_every_client_with_error(monkeypatch, "sts", "GetCallerIdentity", 403, "ExpiredToken", "The security token included in the request is expired")
    code, out, err = run_cli(["verify", "--stack", "staging", "--outputs", str(path)], capsys)
    assert (code, out, err.count("\n")) == (2, "", 1)
    assert err.startswith("error: the AWS credentials were refused (ExpiredToken: ")


# --- bad input ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("args", "stdin", "message"), [
    (["verify", "--stack", "qa"], "{}", "error: stacks/Pulumi.qa.yaml: no such stack 'qa' in stacks; available stacks: dev, prod, staging"),
    (["verify", "--stack", "dev"], "{not json", "error: outputs (stdin): not valid JSON: Expecting property name enclosed in double quotes at line 1 column 2"),
    (["verify", "--stack", "dev"], "[1, 2]", "error: outputs (stdin): must be a JSON object (pulumi stack output --json), got list"),
    (["verify", "--stack", "dev"], '{"environment": "dev", "region": "us-east-1", "artifactStore": {"kmsKeyArn": "k"}}',
     "error: outputs: artifactStore.bucketName: missing or not a string"),
    (["verify", "--stack", "dev"], '{"environment": "dev", "region": "us-east-1", "network": {"vpcId": "v", "privateSubnetIds": [], '
                                   '"natGatewayCount": true}}', "error: outputs: network.natGatewayCount: missing or not an integer"),
    (["verify", "--stack", "dev"], '{"environment": "dev", "region": "us-east-1", "alerts": {"topicArn": 5}}',
     "error: outputs: alerts.topicArn: missing or not a string"),
    (["verify", "--stack", "dev"], '{"environment": "dev", "region": "us-east-1", "promotion": {"connectionName": "c"}}',
     "error: outputs: promotion.deadLetterQueueName: missing or not a string"),
    (["verify", "--stack", "dev"], '{"environment": "dev", "region": "us-east-1", "endpoints": {"a": 1}}',
     "error: outputs: endpoints: must map each endpoint to an object with a string 'name'"),
    (["verify", "--stack", "dev"], '{"environment": "dev", "region": "us-east-1", "training": {"pipelines": [], "experiments": null}}',
     "error: outputs: training.pipelines: missing or not an object (endpoint name -> its pipeline)"),
    (["verify", "--stack", "dev"], '{"environment": "dev", "region": "us-east-1", "training": {"pipelines": {}}}',
     "error: outputs: training.experiments: missing (null when experiment tracking is off)"),
    (["verify", "--stack", "dev"], '{"environment": "dev", "region": "us-east-1", "training": {"pipelines": {"churn": {"name": "p", "arn": "a", '
                                   '"roleArn": "r", "guardStateMachineArn": "g", "scheduleRuleName": null, "scheduleEnabled": "no", '
                                   '"driftRuleName": null}}, "experiments": null}}',
     "error: outputs: training.pipelines.churn.scheduleEnabled: missing or not true or false"),
    (["verify", "--stack", "dev"], '{"environment": "dev", "region": "us-east-1", "training": {"pipelines": {"churn": {"name": "p", "arn": "a", '
                                   '"roleArn": "r", "guardStateMachineArn": "g", "scheduleEnabled": false, "driftRuleName": null}}, '
                                   '"experiments": null}}',
     "error: outputs: training.pipelines.churn.scheduleRuleName: missing or not a string or null"),
    (["verify", "--stack", "dev"], '{"environment": "dev", "region": "us-east-1", "training": {"pipelines": {}, "experiments": '
                                   '{"kind": "notebook", "name": "n", "arn": "a", "artifactStoreUri": "s3://b/experiments/"}}}',
     "error: outputs: training.experiments.kind: 'notebook', allowed: serverless, trackingServer"),
    (["verify", "--stack", "dev", "--outputs", "/nonexistent/outputs.json"], "", "error: --outputs /nonexistent/outputs.json: No such file or directory"),
])
def test_bad_input_is_one_line_and_exit_2(aws, capsys, monkeypatch, args, stdin, message):
    code, out, err = run_cli(args, capsys, stdin, monkeypatch)
    assert (code, out) == (2, "")
    assert err.strip() == message
    assert "Traceback" not in err


def test_missing_region_in_stack_file_is_bad_input(aws, capsys, monkeypatch, tmp_path):
    text = (load_stack_file("dev").path).read_text().replace("  aws:region: us-east-1\n", "")
    (tmp_path / "Pulumi.dev.yaml").write_text(text)
    code, out, err = run_cli(["verify", "--stack", "dev", "--stacks-dir", str(tmp_path)], capsys, "{}", monkeypatch)
    assert (code, out) == (2, "")
    assert err.strip() == f"error: {tmp_path}/Pulumi.dev.yaml: aws:region: required key is missing (set the AWS region, e.g. us-east-1)"
