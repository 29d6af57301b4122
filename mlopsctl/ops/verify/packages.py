"""``mlopsctl verify --before-deploy``: every model package the stack deploys exists and is Approved.

Runs before ``pulumi up`` with the deploy credentials: a stack that names a package nobody approved
(or one that was rejected, or never registered) stops there, one line per package, instead of
rolling it out behind the endpoint's blue/green alarms. Each endpoint's primary model and, where
there is one, its challenger's are checked; image and prebuilt-image sources carry no approval.

A package of ``promotion.promotedFrom``'s registry (prod deploying staging's) is described by its
full ARN in that account, which its group policy lets this account's deploy and preview roles read;
so prod's deploy stops unless the version is still Approved in staging.
"""

from __future__ import annotations

from dataclasses import dataclass

from components.config import PlatformConfig, model_package_arn_parts
from mlopsctl.ops.awsclients import (
    ACCESS_DENIED_CODES,
    AWS_ERRORS,
    AwsClients,
    AwsSetupError,
    credentials_problem,
    describe_aws_error,
    error_code,
)

APPROVED = "Approved"
# What DescribeModelPackage answers for a package that does not exist (moto and AWS alike).
_NOT_FOUND_CODES = frozenset({"ValidationException", "ResourceNotFound"})


@dataclass(frozen=True)
class DeployedPackage:
    endpoint: str
    variant: str  # "primary" or "challenger"
    arn: str


@dataclass(frozen=True)
class PackageStatus:
    package: DeployedPackage
    problem: str | None  # None: exists and Approved

    def line(self) -> str:
        where = f"endpoint {self.package.endpoint} ({self.package.variant}): {self.package.arn}"
        return f"FAIL {where}: {self.problem}" if self.problem else f"ok   {where}: {APPROVED}"


def deployed_packages(config: PlatformConfig) -> list[DeployedPackage]:
    found = []
    for endpoint in config.serving.endpoints:
        challenger = endpoint.instance.challenger if endpoint.instance else None
        for variant, model in (("primary", endpoint.model), ("challenger", challenger.model if challenger else None)):
            if model is not None and model.model_package_arn:
                found.append(DeployedPackage(endpoint.name, variant, model.model_package_arn))
    return found


def check_packages(clients: AwsClients, config: PlatformConfig) -> list[PackageStatus]:
    """One status per deployed package; credentials refused midway raise AwsSetupError."""
    sagemaker = clients.client("sagemaker")
    statuses = []
    for package in deployed_packages(config):
        try:
            # The full ARN, never the name: a name is looked up in this account's registry only.
            described = sagemaker.describe_model_package(ModelPackageName=package.arn)
        except AWS_ERRORS as exc:
            problem = credentials_problem(exc)
            if problem:
                raise AwsSetupError(problem) from None
            statuses.append(PackageStatus(package, _unreadable(config, package, exc)))
            continue
        status = described.get("ModelApprovalStatus") or "no approval status"
        statuses.append(PackageStatus(package, None if status == APPROVED else f"{status}, not {APPROVED}: approve it in the registry first"))
    return statuses


def _unreadable(config: PlatformConfig, package: DeployedPackage, exc: BaseException) -> str:
    if error_code(exc) in _NOT_FOUND_CODES:
        return "not found in the model registry"
    problem = f"cannot be checked: {describe_aws_error(exc)}"
    source = config.promotion.promoted_from
    parts = model_package_arn_parts(package.arn)
    if source and parts and parts.account == source.account_id and error_code(exc) in ACCESS_DENIED_CODES:
        problem += (f"; it is in {source.environment}'s registry, which shares it with this account once {source.environment}'s stack "
                    f"(promotion.promotesTo: {config.environment}, {config.account_id}) is deployed")
    return problem
