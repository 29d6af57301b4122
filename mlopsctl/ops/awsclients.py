"""boto3 clients for ``mlopsctl bootstrap``, ``verify`` and ``dispatch-token``, and their stack account check.

Every client uses botocore's *standard* retry mode, so throttling (and transient 5xx) is retried
with exponential backoff and jitter before a check sees it. ``--endpoint-url`` points every
service at one endpoint (moto_server in tests, a VPC endpoint or LocalStack-style gateway in
practice); ``--profile`` picks a profile of the AWS config files.

Bad arguments (an endpoint that is not a URL, a profile that does not exist) and missing or
expired credentials are each one line from here, found before the first slow call.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypeVar
from urllib.parse import urlsplit

import boto3
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    CredentialRetrievalError,
    NoCredentialsError,
    PartialCredentialsError,
    ProfileNotFound,
    TokenRetrievalError,
    UnauthorizedSSOTokenError,
)
from botocore.parsers import ResponseParserError

if TYPE_CHECKING:
    from components.config import PlatformConfig

RETRY_CONFIG = Config(retries={"mode": "standard", "max_attempts": 8}, connect_timeout=10, read_timeout=30)

# Error codes AWS uses for "not allowed" and for "slow down"; both end up in a check's reason.
ACCESS_DENIED_CODES = frozenset(
    {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "UnauthorizedAccess", "AuthorizationError",
     "Forbidden", "403"}
)
# Error codes that say the credentials themselves are unusable (expired, unknown key, wrong
# secret): every further call would fail the same way, so a run stops at the first one.
CREDENTIAL_CODES = frozenset(
    {"ExpiredToken", "ExpiredTokenException", "InvalidClientTokenId", "UnrecognizedClientException", "InvalidAccessKeyId",
     "SignatureDoesNotMatch", "RequestExpired", "TokenRefreshRequired"}
)
# botocore's own exceptions for credentials it cannot find or load.
_CREDENTIAL_EXCEPTIONS = (NoCredentialsError, PartialCredentialsError, CredentialRetrievalError, TokenRetrievalError,
                          UnauthorizedSSOTokenError)


class AwsSetupError(ValueError):
    """Bad AWS arguments or unusable credentials: one line (``str()``), exit code 2, before any AWS work."""


def endpoint_url(value: str) -> str:
    """``--endpoint-url``: ``http(s)://host[:port]`` (an optional path is kept, as botocore allows)."""
    try:
        parts = urlsplit(value)
        valid = parts.scheme in ("http", "https") and bool(parts.hostname) and not (parts.query or parts.fragment)
        parts.port  # noqa: B018 - raises ValueError when the port is not a number from 0 to 65535
    except ValueError:
        valid = False
    if not valid:
        raise AwsSetupError(f"--endpoint-url: {value!r} is not http(s)://host[:port]")
    return value


def credentials_problem(exc: BaseException) -> str | None:
    """One line when ``exc`` says the credentials are missing, expired or invalid; else ``None``."""
    if isinstance(exc, _CREDENTIAL_EXCEPTIONS):
        return f"no usable AWS credentials: {exc} (set AWS_PROFILE or --profile, or log in, e.g. aws sso login)"
    code = error_code(exc)
    if code in CREDENTIAL_CODES:
        message = exc.response.get("Error", {}).get("Message", "") if isinstance(exc, ClientError) else ""
        return f"the AWS credentials were refused ({code}{': ' + message if message else ''}); refresh them and re-run"
    return None
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
    profile: str | None = None
    _clients: dict = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        if self.endpoint_url is not None:
            endpoint_url(self.endpoint_url)
        if self.session is None:
            try:
                self.session = boto3.session.Session(region_name=self.region, profile_name=self.profile)
            except ProfileNotFound as exc:  # --profile or AWS_PROFILE names no profile of the config files
                raise AwsSetupError(f"{'--profile' if self.profile else 'AWS_PROFILE'}: {exc}") from None

    def account(self) -> dict[str, str]:
        """``sts:GetCallerIdentity`` (account, ARN); unusable credentials raise :class:`AwsSetupError`."""
        try:
            return self.client("sts").get_caller_identity()
        except AWS_ERRORS as exc:
            problem = credentials_problem(exc)
            if problem:
                raise AwsSetupError(problem) from None
            raise

    def client(self, service: str, region: str | None = None):
        key = (service, region or self.region)
        if key not in self._clients:
            self._clients[key] = self.session.client(
                service, region_name=region or self.region, endpoint_url=self.endpoint_url, config=RETRY_CONFIG
            )
        return self._clients[key]


def check_account(clients: AwsClients, config: PlatformConfig, stack_path: str) -> str:
    """Whose credentials these are: the stack's account, or AwsSetupError (one line, exit 2).

    The one account check of the commands that act on a stack (verify, verify --before-deploy,
    dispatch-token): a stack deploys to exactly its file's ``accountId``.
    """
    account = clients.account()["Account"]
    if account != config.account_id:
        raise AwsSetupError(f"wrong account: the credentials are for account {account}, {stack_path} deploys to accountId "
                            f"{config.account_id} (one account per environment: use {config.environment}'s credentials)")
    return account


def error_code(exc: BaseException) -> str:
    if isinstance(exc, ClientError):
        return str(exc.response.get("Error", {}).get("Code", ""))
    return ""


def describe_aws_error(exc: BaseException) -> str:
    """One line for a failed AWS call: credentials, permission, throttling (after retries), or other."""
    problem = credentials_problem(exc)
    if problem:
        return problem
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


# ResponseParserError: an answer that is not AWS's (an --endpoint-url that is some other web server).
AWS_ERRORS = (ClientError, BotoCoreError, ResponseParserError)


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
