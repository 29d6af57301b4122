"""``mlopsctl bootstrap --github-connection``: the CodeConnections GitHub connection of the runner.

moto 5.2.5 has no ``codeconnections`` backend, so every codeconnections call here goes through
botocore's ``Stubber`` (requests and responses are validated against the service model); the rest
of the account (STS, KMS, S3, IAM) is moto in-process, as in test_bootstrap.py.
"""

from __future__ import annotations

import json

import boto3
import pytest
from botocore.stub import Stubber

from mlopsctl.cli import main
from mlopsctl.ops.awsclients import AwsClients
from mlopsctl.ops.bootstrap.run import Bootstrapper
from tests.support.aws_seed import moto_account

REGION = "eu-west-1"
ACCOUNT = "123456789012"
REPO = "acme/ml-platform"
ARGS = ["bootstrap", "--environment", "dev", "--region", REGION, "--name", "mlops", "--github-repo", REPO]
NAME = "mlops-github"
ARN = f"arn:aws:codeconnections:{REGION}:{ACCOUNT}:connection/0b7e1f6c-1111-2222-3333-444455556666"
CONSOLE = f"https://console.aws.amazon.com/codesuite/settings/connections?region={REGION}"
TAGS = [{"Key": "managed-by", "Value": "mlopsctl-bootstrap"}, {"Key": "mlopsctl:bootstrap-name", "Value": "mlops"}]
AUTHORISE = (f"Authorise it once in the AWS console ({CONSOLE}): Developer Tools console > Settings > Connections > mlops-github > "
             f"\"Update pending connection\" > install or choose the GitHub App for {REPO}.")
THEN = (f"ciRunner.connectionArn: {ARN} and ciRunner.webhook: true in stacks/Pulumi.dev.yaml "
        "let layer 1 create the runner webhook.")


@pytest.fixture
def codeconnections(monkeypatch):
    """A Stubber on the codeconnections client every AwsClients hands out; unstubbed calls fail."""
    with moto_account(monkeypatch, REGION):
        client = boto3.client("codeconnections", region_name=REGION)
        real = AwsClients.client

        def client_for(self, service, region=None):
            return client if service == "codeconnections" else real(self, service, region)

        monkeypatch.setattr(AwsClients, "client", client_for)
        with Stubber(client) as stub:
            yield stub
            stub.assert_no_pending_responses()


def connection(status, provider="GitHub", arn=ARN, name=NAME):
    return {"ConnectionName": name, "ConnectionArn": arn, "ProviderType": provider, "OwnerAccountId": ACCOUNT, "ConnectionStatus": status}


def cli(capsys, *extra):
    code = main(ARGS + ["--github-connection", *extra])
    out, err = capsys.readouterr()
    return code, (json.loads(out) if "--format" in extra else out), err


def test_creates_a_pending_connection_and_prints_the_one_console_step(codeconnections, capsys):
    codeconnections.add_response("list_connections", {"Connections": []}, {})
    codeconnections.add_response("create_connection", {"ConnectionArn": ARN, "Tags": TAGS},
                                 {"ProviderType": "GitHub", "ConnectionName": NAME, "Tags": TAGS})
    code, text, err = cli(capsys)
    # Created, but PENDING until a human authorises it: outstanding, so exit 1.
    assert (code, err) == (1, "")
    assert f"  created codeconnections    {ARN}  (mlops-github, GitHub, PENDING)\n" in text
    assert "            - to do: connection is PENDING: authorise it once in the console (GitHub connection, below)\n" in text
    assert "The GitHub connection mlops-github is PENDING: see GitHub connection, below.\n" in text
    assert "difference(s) remain" not in text and "Done." not in text
    assert text.endswith(f"\nGitHub connection mlops-github ({ARN}): PENDING\n  {AUTHORISE}\n  After that, {THEN}\n")


def test_created_connection_in_json(codeconnections, capsys):
    codeconnections.add_response("list_connections", {"Connections": []}, {})
    codeconnections.add_response("create_connection", {"ConnectionArn": ARN}, {"ProviderType": "GitHub", "ConnectionName": NAME, "Tags": TAGS})
    code, report, _ = cli(capsys, "--format", "json")
    assert (code, report["ok"], report["changed"]) == (1, False, True)
    assert report["githubConnection"] == {
        "name": NAME, "arn": ARN, "status": "PENDING", "ok": False, "consoleUrl": CONSOLE, "steps": [AUTHORISE, f"After that, {THEN}"],
        "stackSettings": {"ciRunner.connectionArn": ARN, "ciRunner.webhook": True}}
    [finding] = [f for f in report["findings"] if f["kind"] == "codeconnections"]
    assert (finding["resource"], finding["status"], finding["unfixed"]) == (
        ARN, "created", ["connection is PENDING: authorise it once in the console (GitHub connection, below)"])


def test_existing_available_connection_is_ok_with_its_arn(codeconnections, capsys):
    # Two pages: ListConnections has no boto3 paginator, NextToken is followed by hand.
    other = connection("AVAILABLE", arn=ARN.replace("0b7e1f6c", "99999999"), name="someone-elses")
    codeconnections.add_response("list_connections", {"Connections": [other], "NextToken": "page-2"}, {})
    codeconnections.add_response("list_connections", {"Connections": [connection("AVAILABLE")]}, {"NextToken": "page-2"})
    codeconnections.add_response("get_connection", {"Connection": connection("AVAILABLE")}, {"ConnectionArn": ARN})
    assert main(ARGS) == 0  # first run without the flag: no codeconnections call (the Stubber would fail one)
    capsys.readouterr()
    code, text, err = cli(capsys)
    assert (code, err) == (0, "")
    assert f"  ok      codeconnections    {ARN}  (mlops-github, GitHub, AVAILABLE)\n" in text
    assert "No changes: everything already matches." in text
    assert text.endswith(f"\nGitHub connection mlops-github ({ARN}): AVAILABLE\n  {THEN[0].upper()}{THEN[1:]}\n")


def test_existing_pending_connection_is_outstanding_not_ok(codeconnections, capsys):
    codeconnections.add_response("list_connections", {"Connections": [connection("PENDING")]}, {})
    codeconnections.add_response("get_connection", {"Connection": connection("PENDING")}, {"ConnectionArn": ARN})
    codeconnections.add_response("list_connections", {"Connections": [connection("PENDING")]}, {})
    codeconnections.add_response("get_connection", {"Connection": connection("PENDING")}, {"ConnectionArn": ARN})
    code, text, _ = cli(capsys, "--fix")  # --fix cannot authorise a connection, and never creates a second one
    assert code == 1
    assert f"  PENDING codeconnections    {ARN}  (mlops-github, GitHub, PENDING)\n" in text
    assert f"  {AUTHORISE}\n  After that, {THEN}\n" in text
    code, report, _ = cli(capsys, "--format", "json")
    [finding] = [f for f in report["findings"] if f["kind"] == "codeconnections"]
    assert (code, report["ok"], report["changed"], finding["status"]) == (1, False, False, "pending")
    assert report["githubConnection"]["status"] == "PENDING" and report["githubConnection"]["ok"] is False


def test_connection_in_error_fails_with_what_to_do(codeconnections, capsys):
    codeconnections.add_response("list_connections", {"Connections": [connection("ERROR")]}, {})
    codeconnections.add_response("get_connection", {"Connection": connection("ERROR")}, {"ConnectionArn": ARN})
    code, text, _ = cli(capsys)
    assert code == 1
    assert f"  FAILED  codeconnections    {ARN}  (mlops-github, GitHub, ERROR)\n" in text
    assert "            - failed: connection is ERROR: see GitHub connection, below\n" in text
    assert text.endswith(
        f"\nGitHub connection mlops-github ({ARN}): ERROR\n"
        f"  AWS retries a connection in ERROR by itself, and nothing can use it until it is AVAILABLE. In the Developer Tools console "
        f"({CONSOLE}) > Settings > Connections > mlops-github, check that the GitHub App installation it uses still exists and can "
        f"access {REPO}; if it stays in ERROR, delete the connection there and re-run bootstrap with --github-connection, which creates "
        f"a new one (with a new ARN).\n"
        f"  Once it is AVAILABLE, {THEN}\n")


def test_a_connection_of_another_provider_under_the_name_is_reported_not_replaced(codeconnections, capsys):
    bitbucket = connection("AVAILABLE", provider="Bitbucket")
    codeconnections.add_response("list_connections", {"Connections": [bitbucket]}, {})
    codeconnections.add_response("get_connection", {"Connection": bitbucket}, {"ConnectionArn": ARN})
    code, report, _ = cli(capsys, "--fix", "--format", "json")
    [finding] = [f for f in report["findings"] if f["kind"] == "codeconnections"]
    assert (code, finding["status"], report["githubConnection"]) == (1, "drift", None)
    assert finding["unfixed"] == ["connection mlops-github is a Bitbucket connection, want GitHub; delete or rename it in the console "
                                  "(not fixed automatically)"]


def test_several_connections_with_the_name_are_reported_none_chosen(codeconnections, capsys):
    second = ARN.replace("0b7e1f6c", "7a7a7a7a")
    codeconnections.add_response("list_connections", {"Connections": [connection("AVAILABLE"), connection("PENDING", arn=second)]}, {})
    code, report, _ = cli(capsys, "--format", "json")
    [finding] = [f for f in report["findings"] if f["kind"] == "codeconnections"]
    assert (code, finding["resource"], finding["status"], report["githubConnection"]) == (1, NAME, "drift", None)
    assert finding["unfixed"] == [f"2 connections are named mlops-github ({ARN}, {second}); delete all but one in the console "
                                  "(not fixed automatically)"]


def test_codeconnections_api_error_stops_with_one_line(codeconnections, capsys):
    codeconnections.add_response("list_connections", {"Connections": []}, {})
    codeconnections.add_client_error("create_connection", service_error_code="AccessDeniedException", http_status_code=400,
                                     service_message="not authorized to perform: codeconnections:CreateConnection")
    code, text, _ = cli(capsys)
    assert code == 1
    assert text.endswith("ERROR: stopped at GitHub connection: permission denied for CreateConnection (AccessDeniedException): "
                         "not authorized to perform: codeconnections:CreateConnection\n")


def test_without_the_flag_bootstrap_makes_no_codeconnections_call(codeconnections, capsys):
    report = Bootstrapper(AwsClients(REGION), "mlops", "dev", REPO).run()
    assert report.error is None and report.connection is None and report.to_json()["githubConnection"] is None
    assert "GitHub connection" not in capsys.readouterr().out
