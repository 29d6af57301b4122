"""What every section's checks share: the results, one check at a time, and AWS calls made once.

An AWS error (permission, throttling after botocore's standard retries, anything else) fails only
the check that hit it, except unusable credentials: those would fail every check the same way, so
they stop the run with one line (:class:`AwsSetupError`, exit 2).

A warning is neither a pass nor a failure: what it reports is wrong, but not in a way that stops
this environment (a dev alert subscription nobody confirmed yet). It never counts as a pass.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from components.config import PlatformConfig
from mlopsctl.ops.awsclients import AWS_ERRORS, AwsClients, AwsSetupError, credentials_problem, describe_aws_error

PASS, FAIL, ERROR, SKIP, WARN = "pass", "fail", "error", "skip", "warn"


@dataclass
class CheckResult:
    check: str
    resource: str
    status: str
    reason: str

    def to_json(self) -> dict[str, str]:
        return {"check": self.check, "resource": self.resource, "status": self.status, "reason": self.reason}


Outcome = tuple[bool, str] | tuple[str, str]


class Checks:
    """The stack config, its outputs, the AWS clients, and the results so far."""

    def __init__(self, config: PlatformConfig, outputs: dict[str, Any], clients: AwsClients):
        self.config = config
        self.outputs = outputs
        self.clients = clients
        self.results: list[CheckResult] = []

    def check(self, check: str, resource: str, run: Callable[[], Outcome]) -> None:
        """Run one check: ``run()`` gives (passed, reason) or (status, reason)."""
        try:
            outcome, reason = run()
        except AWS_ERRORS as exc:
            problem = credentials_problem(exc)
            if problem:
                raise AwsSetupError(problem) from None
            self.results.append(CheckResult(check, resource, ERROR, describe_aws_error(exc)))
            return
        status = outcome if isinstance(outcome, str) else (PASS if outcome else FAIL)
        self.results.append(CheckResult(check, resource, status, reason))

    def skip(self, check: str, resource: str, reason: str) -> None:
        self.results.append(CheckResult(check, resource, SKIP, reason))

    def fail(self, check: str, resource: str, reason: str) -> None:
        self.results.append(CheckResult(check, resource, FAIL, reason))

    def same_key(self, actual: str | None, expected_arn: str, region: str | None = None) -> bool:
        """Whether the KMS key named by ``actual`` (id, alias name, alias ARN or ARN) is ``expected_arn``."""
        if not actual:
            return False
        if actual == expected_arn:
            return True
        return self.clients.client("kms", region).describe_key(KeyId=actual)["KeyMetadata"]["Arn"] == expected_arn


def memo(call: Callable[[], Any]) -> Callable[[], Any]:
    """Call AWS once for all checks of a resource; a failure is remembered too (no hammering when throttled)."""
    box: dict[str, Any] = {}

    def get() -> Any:
        if "error" in box:
            raise box["error"]
        if "value" not in box:
            try:
                box["value"] = call()
            except AWS_ERRORS as exc:
                box["error"] = exc
                raise
        return box["value"]

    return get


def compared(actual: Any, wanted: Any, shown: str, want: str) -> tuple[bool, str]:
    """(actual == wanted, ``shown`` plus ``want`` when they differ): the reason of a simple check."""
    return actual == wanted, shown + ("" if actual == wanted else want)
