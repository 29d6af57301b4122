"""``mlopsctl verify --before-deploy``: every model package the stack deploys exists and is Approved.

Runs before ``pulumi up`` with the deploy credentials: a stack that names a package nobody approved
(or one that was rejected, or never registered) stops there, one line per package, instead of
rolling it out behind the endpoint's blue/green alarms. Each endpoint's primary model and, where
there is one, its challenger's are checked; image and prebuilt-image sources carry no approval.
"""

from __future__ import annotations

from dataclasses import dataclass

from components.config import PlatformConfig
from mlopsctl.ops.awsclients import AWS_ERRORS, AwsClients, AwsSetupError, credentials_problem, describe_aws_error, error_code

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
            described = sagemaker.describe_model_package(ModelPackageName=package.arn)
        except AWS_ERRORS as exc:
            problem = credentials_problem(exc)
            if problem:
                raise AwsSetupError(problem) from None
            statuses.append(PackageStatus(package, "not found in the model registry" if error_code(exc) in _NOT_FOUND_CODES
                                          else f"cannot be checked: {describe_aws_error(exc)}"))
            continue
        status = described.get("ModelApprovalStatus") or "no approval status"
        statuses.append(PackageStatus(package, None if status == APPROVED else f"{status}, not {APPROVED}: approve it in the registry first"))
    return statuses
