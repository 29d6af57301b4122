"""``mlopsctl dispatch-token``: which tokens it takes, and the connection update against moto (in-process).

moto's EventBridge records an UpdateConnection's auth parameters on its connection object, but
neither rewrites the connection's Secrets Manager secret (AWS does) nor returns the key value from
DescribeConnection (AWS does not either): the update is asserted on moto's backend object, what
moto faithfully records. moto's connections are always AUTHORIZED; other states are set there.
"""

from __future__ import annotations

import io

import boto3
import pytest
from moto.events.models import events_backends

from mlopsctl.cli import main
from mlopsctl.offline.preview import load_config
from mlopsctl.offline.stackfile import load_stack_file
from mlopsctl.ops.awsclients import AwsClients
from mlopsctl.ops.dispatch_token import HOURLY_NOTE, TokenRefused, github_token, max_token_length, token_in_arguments
from tests.support.aws_errors import answer_every_client_with_error
from tests.support.aws_seed import GITHUB_HEADERS, PLACEHOLDER_KEY, REGION, moto_account, without_credentials
from tests.support.stacks import ROOT

STAGING = load_config(load_stack_file("staging"))
CONNECTION = "mlops-staging-github-dispatch"
# Shaped like GitHub's tokens; none was ever issued.
FINE_GRAINED = "github_pat_11ABCDEFG0" + "a1B2c3D4e5" * 8
INSTALLATION = "ghs_" + "Zy9Xw8Vu7T" * 3 + "s6R5q4"
COMMAND = ["dispatch-token", "--stack", "staging"]


# --- which tokens ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "kind", "hourly"), [
    (FINE_GRAINED, "fine-grained personal access token", False),
    (FINE_GRAINED + "\n", "fine-grained personal access token", False),  # echo's newline
    (f"  {INSTALLATION}\r\n", "GitHub App installation token", True),
])
def test_tokens_limited_to_one_repository_are_accepted(text, kind, hourly):
    token = github_token(text)
    assert (token.value, token.kind, token.expires_hourly) == (text.strip(), kind, hourly)
    assert text.strip() not in repr(token)


SECRET_PART = "Qw3rTy7UiOp1AsDfGh2JkLzXcVbNm4"


@pytest.mark.parametrize(("text", "message"), [
    ("", "stdin: no token; pipe in a fine-grained personal access token (github_pat_…) limited to this repository, or a GitHub App "
         "installation token (ghs_…)"),
    (" \n\t\n", "stdin: no token; pipe in"),
    (f"ghp_{SECRET_PART}", "stdin: refused a ghp_… token: a classic personal access token reaches every repository its owner can; use a "
                           "fine-grained personal access token"),
    (f"gho_{SECRET_PART}", "stdin: refused a gho_… token: an OAuth app token acts for its user in every repository the user can reach"),
    (f"ghu_{SECRET_PART}", "stdin: refused a ghu_… token: a GitHub App user-to-server token acts for its user"),
    (f"ghr_{SECRET_PART}", "stdin: refused a ghr_… token: a GitHub App refresh token is not an access token"),
    (f"github_pat_{SECRET_PART} ghs_{SECRET_PART}", "stdin: the token has whitespace inside it; pass exactly one token, on one line"),
    (f"github_pat_{SECRET_PART}\ngithub_pat_{SECRET_PART}\n", "stdin: the token has whitespace inside it"),
    (f"Bearer github_pat_{SECRET_PART}", "stdin: the token has whitespace inside it"),
    (f"xoxb-{SECRET_PART}", "stdin: not a GitHub token of a known kind; use a fine-grained personal access token"),
    (f"github_pat_{SECRET_PART}é", "stdin: a fine-grained personal access token holds only letters, digits and '_'; this one holds other characters"),
    (f"ghs_{SECRET_PART}:x", "stdin: a GitHub App installation token holds only letters, digits and '_'"),
    ("github_pat_" + "a" * 600, f"stdin: the token is 611 characters; the connection's API key holds at most {512 - len('Bearer ')} after 'Bearer '"),
])
def test_what_cannot_be_limited_to_one_repository_is_refused_without_printing_it(text, message):
    with pytest.raises(TokenRefused) as refused:
        github_token(text)
    assert str(refused.value).startswith(message), str(refused.value)
    assert "\n" not in str(refused.value)
    assert SECRET_PART not in str(refused.value) and "a" * 20 not in str(refused.value)


def test_the_length_limit_is_botocores():
    assert max_token_length() == 512 - len("Bearer ")


@pytest.mark.parametrize(("arguments", "found"), [
    (["--stack", "staging", FINE_GRAINED], True), (["--stack", f"--token={INSTALLATION}"], True), ([f"ghp_{SECRET_PART}"], True),
    (["--stack", "staging", "--profile", "ghost"], False), (["--stack", "staging"], False),
])
def test_a_token_on_the_command_line_is_found(arguments, found):
    assert token_in_arguments(arguments) is found


# --- the update, through the CLI in this process ---------------------------------------------------


@pytest.fixture
def aws(monkeypatch):
    with moto_account(monkeypatch, REGION):
        monkeypatch.setenv("MOTO_ACCOUNT_ID", STAGING.account_id)
        yield


@pytest.fixture
def connection(aws):
    """The connection as Pulumi creates it: API key auth with a placeholder value; its moto backend object."""
    boto3.client("events", region_name=REGION).create_connection(
        Name=CONNECTION, AuthorizationType="API_KEY",
        AuthParameters={"ApiKeyAuthParameters": {"ApiKeyName": "Authorization", "ApiKeyValue": PLACEHOLDER_KEY},
                        "InvocationHttpParameters": GITHUB_HEADERS})
    return events_backends[STAGING.account_id][REGION].connections[CONNECTION]


def run(capsys, monkeypatch, stdin: str, *args: str):
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    code = main([*COMMAND, *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_a_fine_grained_token_is_set_as_the_bearer_key(connection, capsys, monkeypatch):
    code, out, err = run(capsys, monkeypatch, FINE_GRAINED + "\n")
    assert (code, err) == (0, "")
    assert out == (f"{CONNECTION}: set its fine-grained personal access token (API key, header Authorization: Bearer …); "
                   "connection state AUTHORIZED\n")
    # GitHub's headers are sent back as read: moto replaces the auth parameters as a whole, and may AWS.
    assert (connection.authorization_type, connection.auth_parameters) == (
        "API_KEY", {"ApiKeyAuthParameters": {"ApiKeyName": "Authorization", "ApiKeyValue": f"Bearer {FINE_GRAINED}"},
                    "InvocationHttpParameters": GITHUB_HEADERS})
    # What DescribeConnection shows, on AWS and moto alike: the header's name, never its value.
    described = boto3.client("events", region_name=REGION).describe_connection(Name=CONNECTION)
    assert described["AuthParameters"]["ApiKeyAuthParameters"] == {"ApiKeyName": "Authorization"}


def test_an_installation_token_is_set_with_a_line_that_it_expires_within_the_hour(connection, capsys, monkeypatch):
    code, out, err = run(capsys, monkeypatch, INSTALLATION)
    assert code == 0
    assert out.startswith(f"{CONNECTION}: set its GitHub App installation token")
    assert err == f"warning: {HOURLY_NOTE}\n"
    assert connection.auth_parameters["ApiKeyAuthParameters"]["ApiKeyValue"] == f"Bearer {INSTALLATION}"
    assert INSTALLATION not in out + err


def test_a_refused_token_changes_nothing_and_needs_no_credentials(monkeypatch, tmp_path, capsys):
    without_credentials(monkeypatch, tmp_path)  # the token is refused before any AWS call
    code, out, err = run(capsys, monkeypatch, f"ghp_{SECRET_PART}\n")
    assert (code, out) == (2, "")
    assert err.startswith("error: stdin: refused a ghp_… token: a classic personal access token") and err.count("\n") == 1
    assert SECRET_PART not in err


def test_a_token_given_as_an_argument_is_refused_without_echoing_it(capsys):
    code, out, err = main([*COMMAND, FINE_GRAINED]), *capsys.readouterr()
    assert (code, out) == (2, "")
    assert err.startswith("error: dispatch-token: a GitHub token was passed as an argument; it is read from stdin only.")
    assert FINE_GRAINED not in err


def test_another_accounts_credentials_are_refused(connection, capsys, monkeypatch):
    monkeypatch.setenv("MOTO_ACCOUNT_ID", "123456789012")  # dev's account
    code, out, err = run(capsys, monkeypatch, FINE_GRAINED)
    assert (code, out) == (2, "")
    assert err == ("error: wrong account: the credentials are for account 123456789012, stacks/Pulumi.staging.yaml deploys to accountId "
                   "210987654321 (one account per environment: use staging's credentials)\n")
    assert connection.auth_parameters["ApiKeyAuthParameters"]["ApiKeyValue"] == PLACEHOLDER_KEY


def test_without_credentials_it_is_one_line_and_exit_2(monkeypatch, tmp_path, capsys):
    without_credentials(monkeypatch, tmp_path)
    code, out, err = run(capsys, monkeypatch, FINE_GRAINED)
    assert (code, out, err.count("\n")) == (2, "", 1)
    assert err.startswith("error: no usable AWS credentials: ")


def test_a_missing_connection_is_one_line_and_exit_1(aws, capsys, monkeypatch):
    code, out, err = run(capsys, monkeypatch, FINE_GRAINED)
    assert (code, out) == (1, "")
    assert err == (f"error: no EventBridge connection {CONNECTION} in us-east-1 of account 210987654321: deploy stacks/Pulumi.staging.yaml "
                   "(promotion.dispatch: true) first; the stack creates it\n")


def test_an_update_aws_refuses_is_one_line_without_the_token(connection, capsys, monkeypatch):
    # An error message that quotes the value back: the line names it [token].
    answer_every_client_with_error(monkeypatch, "events", "UpdateConnection", 400, "AccessDeniedException",
                                   f"not authorized to set Bearer {FINE_GRAINED}")
    code, out, err = run(capsys, monkeypatch, FINE_GRAINED)
    assert (code, out) == (1, "")
    assert err == (f"error: the token was not set on {CONNECTION}: permission denied for UpdateConnection (AccessDeniedException): "
                   "not authorized to set Bearer [token]\n")
    assert connection.auth_parameters["ApiKeyAuthParameters"]["ApiKeyValue"] == PLACEHOLDER_KEY


def test_credentials_refused_at_the_update_are_exit_2(connection, capsys, monkeypatch):
    answer_every_client_with_error(monkeypatch, "events", "UpdateConnection", 403, "ExpiredTokenException", "The security token is expired")
    code, out, err = run(capsys, monkeypatch, FINE_GRAINED)
    assert (code, out) == (2, "")
    assert err == "error: the AWS credentials were refused (ExpiredTokenException: The security token is expired); refresh them and re-run\n"


@pytest.mark.parametrize(("state", "code", "ending"), [
    ("UPDATING", 0, "connection state UPDATING (EventBridge is still applying it; `mlopsctl verify` checks that it reaches AUTHORIZED)\n"),
    ("DEAUTHORIZED", 1, "connection state DEAUTHORIZED\n"),
])
def test_the_state_after_the_update_decides_the_exit_code(connection, capsys, monkeypatch, state, code, ending):
    connection.state = state
    got, out, err = run(capsys, monkeypatch, FINE_GRAINED)
    assert (got, out.endswith(ending)) == (code, True), out
    assert err == ("" if code == 0 else f"error: {CONNECTION} is DEAUTHORIZED after the update, not AUTHORIZED: dispatches will fail\n")


def test_a_stack_without_dispatch_has_no_connection_to_set(aws, capsys, monkeypatch, tmp_path):
    text = (ROOT / "stacks" / "Pulumi.staging.yaml").read_text()
    assert text.count("      dispatch: true\n") == 1
    (tmp_path / "Pulumi.staging.yaml").write_text(text.replace("      dispatch: true\n", "      dispatch: false\n"))
    code, out, err = run(capsys, monkeypatch, FINE_GRAINED, "--stacks-dir", str(tmp_path))
    assert (code, out) == (2, "")
    assert err == (f"error: {tmp_path}/Pulumi.staging.yaml: promotion.dispatch is off, so the stack has no dispatch connection to hold "
                   "a token\n")


def test_at_a_terminal_the_token_is_read_without_echo(monkeypatch):
    from mlopsctl.ops import dispatch_token

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    prompts: list[str] = []
    monkeypatch.setattr(dispatch_token.getpass, "getpass", lambda prompt, stream=None: prompts.append(prompt) or FINE_GRAINED)
    assert dispatch_token.read_token(Terminal("never read")).value == FINE_GRAINED
    assert prompts == ["GitHub token (not echoed): "]


def test_a_secret_header_is_not_sent_back_blank(aws, capsys, monkeypatch):
    # DescribeConnection hides a secret header's value; sending the headers back would erase it.
    events = boto3.client("events", region_name=REGION)
    events.create_connection(Name=CONNECTION, AuthorizationType="API_KEY", AuthParameters={
        "ApiKeyAuthParameters": {"ApiKeyName": "Authorization", "ApiKeyValue": PLACEHOLDER_KEY},
        "InvocationHttpParameters": {"HeaderParameters": [{"Key": "X-Signature", "Value": "s3cret", "IsValueSecret": True}]}})
    sent: list[dict] = []
    real = AwsClients.client

    def client(self, name, region=None):
        made = real(self, name, region)
        if name == "events":
            made.meta.events.register("provide-client-params.events.UpdateConnection", lambda params, **_: sent.append(params))
        return made

    monkeypatch.setattr(AwsClients, "client", client)
    code, _, _ = run(capsys, monkeypatch, FINE_GRAINED)
    assert code == 0
    [params] = sent
    assert set(params["AuthParameters"]) == {"ApiKeyAuthParameters"}
