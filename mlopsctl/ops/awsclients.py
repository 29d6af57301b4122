"""boto3 clients for ``mlopsctl bootstrap`` and ``mlopsctl verify``.

Every client uses botocore's *standard* retry mode, so throttling (and transient 5xx) is retried
with exponential backoff and jitter before a check sees it. ``--endpoint-url`` points every
service at one endpoint (moto_server in tests, a VPC endpoint or LocalStack-style gateway in
practice).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

RETRY_CONFIG = Config(retries={"mode": "standard", "max_attempts": 8}, connect_timeout=10, read_timeout=30)

# Error codes AWS uses for "not allowed" and for "slow down"; both end up in a check's reason.
ACCESS_DENIED_CODES = frozenset(
    {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "UnauthorizedAccess", "AuthorizationError",
     "Forbidden", "403", "InvalidClientTokenId", "ExpiredToken", "ExpiredTokenException"}
)
THROTTLING_CODES = frozenset(
    {"Throttling", "ThrottlingException", "ThrottledException", "RequestThrottledException", "TooManyRequestsException",
     "ProvisionedThroughputExceededException", "TransactionInProgressException", "RequestLimitExceeded", "SlowDown",
     "RequestThrottled", "BandwidthLimitExceeded", "LimitExceededException", "PriorRequestNotComplete", "EC2ThrottledException"}
)


@dataclass
class AwsClients:
    """A cache of clients for one account, one default region and an optional endpoint."""

    region: str
    endpoint_url: str | None = None
    session: boto3.session.Session | None = None
    _clients: dict = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        if self.session is None:
            self.session = boto3.session.Session(region_name=self.region)

    def client(self, service: str, region: str | None = None):
        key = (service, region or self.region)
        if key not in self._clients:
            self._clients[key] = self.session.client(
                service, region_name=region or self.region, endpoint_url=self.endpoint_url, config=RETRY_CONFIG
            )
        return self._clients[key]


def error_code(exc: BaseException) -> str:
    if isinstance(exc, ClientError):
        return str(exc.response.get("Error", {}).get("Code", ""))
    return ""


def describe_aws_error(exc: BaseException) -> str:
    """One line for a failed AWS call: permission, throttling (after retries), or other."""
    if isinstance(exc, ClientError):
        code = error_code(exc)
        message = exc.response.get("Error", {}).get("Message", "") or str(exc)
        operation = getattr(exc, "operation_name", "") or "call"
        if code in ACCESS_DENIED_CODES:
            return f"permission denied for {operation} ({code}): {message}"
        if code in THROTTLING_CODES:
            return f"throttled on {operation} after standard-mode retries ({code}): {message}"
        return f"{operation} failed ({code}): {message}"
    if isinstance(exc, BotoCoreError):
        return f"AWS client error: {exc}"
    return f"{type(exc).__name__}: {exc}"


AWS_ERRORS = (ClientError, BotoCoreError)


def tag_list(tags: dict[str, str]) -> list[dict[str, str]]:
    """Tags as the ``[{"Key": .., "Value": ..}]`` list that S3, IAM and CodeConnections take."""
    return [{"Key": k, "Value": v} for k, v in tags.items()]


_T = TypeVar("_T")


def unless_missing(call: Callable[[], _T], missing: str | tuple[str, ...], default: _T) -> _T:
    """``call()``, or ``default`` when AWS answers with a ``missing`` error code (the setting or resource does not exist)."""
    try:
        return call()
    except AWS_ERRORS as exc:
        if error_code(exc) not in ((missing,) if isinstance(missing, str) else missing):
            raise
        return default


def default_encryption_rule(s3, bucket: str) -> dict:
    """The bucket's first default-encryption rule, or ``{}`` when it has none."""
    rules = unless_missing(lambda: s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"],
                           "ServerSideEncryptionConfigurationNotFoundError", [])
    return rules[0] if rules else {}
