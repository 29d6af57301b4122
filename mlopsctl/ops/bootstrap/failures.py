"""What to do when a bootstrap step's AWS call fails, by the error code AWS returned.

The step is reported ``failed`` with the operation and the code (``describe_aws_error``) and one
of these lines. A rerun continues where the run stopped: what exists is compared, and what an
earlier run began creating is finished (``ownership``).
"""

from __future__ import annotations

from botocore.exceptions import BotoCoreError, ClientError

from mlopsctl.ops.awsclients import ACCESS_DENIED_CODES, THROTTLING_CODES, credentials_problem, error_code
from mlopsctl.ops.bootstrap.names import Names

RERUN = "then re-run bootstrap (it continues where this run stopped)"
ALREADY_EXISTS_CODES = frozenset({"EntityAlreadyExists", "AlreadyExistsException", "ResourceAlreadyExistsException"})
QUOTA_CODES = frozenset({"LimitExceeded", "TooManyBuckets", "ServiceQuotaExceededException", "LimitExceededFault"})
REFUSED_REQUEST_CODES = frozenset({"MalformedPolicyDocument", "ValidationError", "ValidationException", "InvalidInput",
                                   "InvalidRequest", "MalformedXML", "InvalidArgument"})


def remedy(exc: BaseException, names: Names, resource: str) -> str:
    """One line: why the call failed, when the code says, and what to do about it."""
    code = error_code(exc)
    operation = getattr(exc, "operation_name", "") or "the call"
    if code == "BucketAlreadyExists":
        return (f"S3 bucket names are global and {names.state_bucket} is owned by another AWS account; choose another --name "
                f"(the state bucket is <name>-pulumi-state-<account>-<region>) and use it as namePrefix in the stack files too")
    if operation == "HeadBucket" and code in ("403", "Forbidden", "AccessDenied"):
        return (f"{names.state_bucket} exists but these credentials may not read it: another AWS account owns the name (choose "
                f"another --name) or the credentials lack s3:ListBucket on it; {RERUN}")
    if code == "BucketAlreadyOwnedByYou":
        return f"{names.state_bucket} was created in this account while bootstrap ran; re-run bootstrap to compare it"
    if credentials_problem(exc):
        return f"the credentials expired or are not valid: refresh them (e.g. aws sso login), {RERUN}"
    if code in ACCESS_DENIED_CODES:
        return (f"these credentials may not call {operation}: run bootstrap with administrator credentials of account "
                f"{names.account} (docs/operations.md, \"Who runs bootstrap\"), {RERUN}")
    if code in THROTTLING_CODES:
        return f"AWS throttled {operation} beyond botocore's standard-mode retries: wait a minute, {RERUN}"
    if code in ALREADY_EXISTS_CODES:
        return f"{resource} was created by someone else while bootstrap ran; re-run bootstrap to compare it"
    if code in QUOTA_CODES:
        return f"an account quota is reached ({code}): free one or raise the quota in Service Quotas, {RERUN}"
    if code in REFUSED_REQUEST_CODES:
        return f"AWS refused the request bootstrap made for {operation} ({code}); this is a bootstrap bug: report it with this output"
    if isinstance(exc, ClientError):
        return f"fix what AWS's message names, {RERUN}"
    if isinstance(exc, BotoCoreError):
        return f"AWS could not be reached or answered unreadably: check the network (and --endpoint-url), {RERUN}"
    return f"AWS answered with something that is not an AWS response: check --endpoint-url, {RERUN}"
