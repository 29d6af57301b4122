"""``mlopsctl dispatch-token``: set the GitHub token of a stack's approval dispatch connection.

The EventBridge connection ``<stem>-github-dispatch`` (components/promotion) authorizes the API
destination that calls GitHub's repository_dispatch with an API key: header ``Authorization``,
value ``Bearer <token>``. Pulumi creates it with a placeholder and ignores changes to the value, so
the token lives only in the connection's Secrets Manager secret, set here.

The token is read from stdin only, never from argv (visible in ``ps`` and shell history), never
echoed, logged or printed, and never part of an error line. Only tokens that can be limited to one
repository are accepted: fine-grained personal access tokens (``github_pat_``) and GitHub App
installation tokens (``ghs_``, which expire after an hour). Classic and OAuth tokens reach every
repository their user can, so they are refused (docs/promotion.md says how to create the token).
"""

from __future__ import annotations

import getpass
import sys
from dataclasses import dataclass, field
from typing import TextIO

from components import facts
from components.config import (
    DISPATCH_AUTH_HEADER,
    DISPATCH_AUTH_SCHEME,
    DISPATCH_AUTHORIZATION_TYPE,
    PlatformConfig,
    dispatch_connection_name,
)
from mlopsctl.ops.awsclients import (
    AWS_ERRORS,
    AwsClients,
    AwsSetupError,
    check_account,
    credentials_problem,
    describe_aws_error,
    error_code,
)

# The connection states in which EventBridge is still applying an update; anything else but AUTHORIZED is a failure.
SETTLING_STATES = frozenset({"UPDATING", "AUTHORIZING"})
AUTHORIZED = "AUTHORIZED"

# Token prefixes GitHub documents ("About authentication to GitHub": GitHub's token formats).
ACCEPTED_PREFIXES = {
    "github_pat_": "fine-grained personal access token",
    "ghs_": "GitHub App installation token",
}
REFUSED_PREFIXES = {
    "ghp_": "a classic personal access token reaches every repository its owner can",
    "gho_": "an OAuth app token acts for its user in every repository the user can reach",
    "ghu_": "a GitHub App user-to-server token acts for its user, not for the installation",
    "ghr_": "a GitHub App refresh token is not an access token",
}
WANTED = "a fine-grained personal access token (github_pat_…) limited to this repository, or a GitHub App installation token (ghs_…)"
HOURLY_NOTE = ("GitHub App installation tokens expire one hour after they are issued: only automation that issues a fresh one "
               "and runs dispatch-token again within the hour should use them (docs/promotion.md)")


class TokenRefused(ValueError):
    """Input that is not an acceptable token: one line that never contains it (exit 2)."""


class DispatchTokenFailed(RuntimeError):
    """The connection is missing, or AWS refused the update: one line, exit 1."""


@dataclass(frozen=True)
class GitHubToken:
    value: str = field(repr=False)
    kind: str

    @property
    def expires_hourly(self) -> bool:
        return self.value.startswith("ghs_")


def token_in_arguments(arguments: list[str]) -> bool:
    """Whether a command line carries something shaped like a GitHub token (``--x=ghp_…`` too).

    Checked before argparse, which would echo an unknown argument, token and all, into a CI log.
    """
    prefixes = (*ACCEPTED_PREFIXES, *REFUSED_PREFIXES)
    return any(part.startswith(prefixes) for argument in arguments for part in argument.split("=", 1))


ARGUMENT_REFUSED = ("dispatch-token: a GitHub token was passed as an argument; it is read from stdin only. An argument is visible "
                    "to other processes and kept in shell history: revoke that token and create another")


def max_token_length() -> int:
    """What fits into the connection's API key value after ``Bearer `` (botocore's events model)."""
    return facts.shape_limits("events", "AuthHeaderParametersSensitive")["max"] - len(DISPATCH_AUTH_SCHEME)


def github_token(text: str) -> GitHubToken:
    """The token in ``text`` (surrounding whitespace, such as the newline of ``echo``, removed), or TokenRefused."""
    token = text.strip()
    if not token:
        raise TokenRefused(f"stdin: no token; pipe in {WANTED}")
    if any(c.isspace() for c in token):
        raise TokenRefused("stdin: the token has whitespace inside it; pass exactly one token, on one line")
    for prefix, why in REFUSED_PREFIXES.items():
        if token.startswith(prefix):
            raise TokenRefused(f"stdin: refused a {prefix}… token: {why}; use {WANTED}")
    kind = next((k for prefix, k in ACCEPTED_PREFIXES.items() if token.startswith(prefix)), None)
    if kind is None:
        raise TokenRefused(f"stdin: not a GitHub token of a known kind; use {WANTED}")
    if not token.isascii() or not all(c.isalnum() or c == "_" for c in token):
        raise TokenRefused(f"stdin: a {kind} holds only letters, digits and '_'; this one holds other characters")
    if len(token) > max_token_length():
        raise TokenRefused(f"stdin: the token is {len(token)} characters; the connection's API key holds at most {max_token_length()} after 'Bearer '")
    return GitHubToken(token, kind)


def read_token(stdin: TextIO) -> GitHubToken:
    """From a terminal without echo, else everything on stdin."""
    if stdin.isatty():
        return github_token(getpass.getpass("GitHub token (not echoed): ", stream=sys.stderr))
    return github_token(stdin.read())


@dataclass(frozen=True)
class TokenSet:
    connection: str
    connection_arn: str
    state: str
    state_reason: str | None
    token: GitHubToken

    def problem(self) -> str | None:
        """Why the connection cannot dispatch after the update, or None (AUTHORIZED, or still applying it)."""
        if self.state == AUTHORIZED or self.state in SETTLING_STATES:
            return None
        reason = f" ({self.state_reason})" if self.state_reason else ""
        return f"{self.connection} is {self.state}{reason} after the update, not {AUTHORIZED}: dispatches will fail"

    def lines(self) -> list[str]:
        head = f"{self.connection}: set its {self.token.kind} (API key, header {DISPATCH_AUTH_HEADER}: Bearer …); connection state {self.state}"
        if self.state in SETTLING_STATES:
            head += " (EventBridge is still applying it; `mlopsctl verify` checks that it reaches AUTHORIZED)"
        return [head]


def set_dispatch_token(clients: AwsClients, config: PlatformConfig, stack_path: str, token: GitHubToken) -> TokenSet:
    """Confirm the account and the connection, then update the connection's API key with ``token``.

    Raises AwsSetupError (another account's or unusable credentials: exit 2), DispatchTokenFailed
    (no connection, or AWS refused a call: exit 1). No message contains the token.
    """
    account = check_account(clients, config, stack_path)
    name = dispatch_connection_name(config.resource_name())
    events = clients.client("events")
    try:
        current = events.describe_connection(Name=name)
    except AWS_ERRORS as exc:
        if error_code(exc) == "ResourceNotFoundException":
            raise DispatchTokenFailed(f"no EventBridge connection {name} in {config.region} of account {account}: deploy {stack_path} "
                                      f"(promotion.dispatch: true) first; the stack creates it") from None
        raise _failed(exc, f"cannot read connection {name}", token) from None
    auth = {"ApiKeyAuthParameters": {"ApiKeyName": DISPATCH_AUTH_HEADER, "ApiKeyValue": DISPATCH_AUTH_SCHEME + token.value}}
    kept = _resendable_http_parameters(current)
    if kept:
        auth["InvocationHttpParameters"] = kept
    try:
        events.update_connection(Name=name, AuthorizationType=DISPATCH_AUTHORIZATION_TYPE, AuthParameters=auth)
    except AWS_ERRORS as exc:
        raise _failed(exc, f"the token was not set on {name}", token) from None
    try:
        described = events.describe_connection(Name=name)
    except AWS_ERRORS as exc:
        raise _failed(exc, f"the token was set on {name}, but its state cannot be read", token) from None
    return TokenSet(name, described.get("ConnectionArn", ""), described.get("ConnectionState", "unknown"), described.get("StateReason"), token)


def _resendable_http_parameters(described: dict) -> dict | None:
    """The connection's invocation HTTP parameters (GitHub's Accept and API-version headers), to send back with the key.

    UpdateConnection's AuthParameters may replace the stored ones as a whole (moto does; AWS does
    not document it), and headers the update dropped would show as drift that the next ``pulumi
    up`` repairs by sending the whole auth parameters, placeholder key included. So they are sent
    back as read, unless one is secret: DescribeConnection hides a secret value, and sending it
    back without would erase it.
    """
    parameters = (described.get("AuthParameters") or {}).get("InvocationHttpParameters") or {}
    entries = [entry for kind in parameters.values() for entry in kind]
    if not entries or any(entry.get("IsValueSecret") or "Value" not in entry for entry in entries):
        return None
    return {kind: [dict(entry) for entry in values] for kind, values in parameters.items() if values}


def _failed(exc: BaseException, what: str, token: GitHubToken) -> Exception:
    problem = credentials_problem(exc)
    if problem:
        return AwsSetupError(problem)
    return DispatchTokenFailed(f"{what}: {describe_aws_error(exc)}".replace(token.value, "[token]"))
