"""DriftMonitoring: SageMaker Model Monitor data-quality schedules over captured endpoint data.

Each monitored endpoint gets a job definition (baseline statistics and constraints from config,
captured data as input, reports to ``pipelines/monitoring/<endpoint>/``) and an hourly schedule.
All share one least-privilege role: read its endpoints' capture prefixes and baseline objects,
write its report prefixes, write logs and Model Monitor metrics.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from components import facts
from components.config import DriftMonitoringConfig, EndpointConfig
from components.iam.policy import Statement
from components.iam.roles import inline_policy, service_role
from components.keys import KmsAction, PlatformKey
from components.scope import AwsScope
from components.serving.execution_role import ArtifactAccess, data_capture_prefix

REPORTS_PREFIX = "pipelines/monitoring/"
# Namespace the Model Monitor analyzer publishes data-quality metrics to.
DATA_METRICS_NAMESPACE = "aws/sagemaker/Endpoints/data-metrics"


def _as_resources(values: Sequence[Any]) -> list[pulumi.Resource]:
    """Grant helpers may return a resource, a list of them, or nothing; keep the resources."""
    found: list[pulumi.Resource] = []
    for value in values:
        if isinstance(value, pulumi.Resource):
            found.append(value)
        elif isinstance(value, list | tuple):
            found.extend(_as_resources(value))
    return found


def reports_prefix(endpoint: EndpointConfig) -> str:
    return f"{REPORTS_PREFIX}{endpoint.name}/"


def _object_arn(scope: AwsScope, uri: str) -> pulumi.Output[str]:
    return pulumi.Output.concat("arn:", scope.partition, ":s3:::", uri[len("s3://") :])


@dataclass(frozen=True)
class DriftMonitoringArgs:
    """Inputs of :class:`DriftMonitoring`.

    settings: serving.driftMonitoring (required).
    scope: the region and account (analyzer image, log and metric scoping), partition, the
        boundary of the monitoring role, and the name stem ``<namePrefix>-<environment>``:
        children are named from it and the endpoint name, so their auto-names stay within
        SageMaker's 63 characters (required).
    endpoints: monitored endpoint configs with their SageMaker endpoints' names (Outputs, so the
        schedules depend on the endpoints) (required).
    store: the artifact store (capture read, report write grants) (required).
    key: key of reports and the job's volume (required); the monitoring role gets its grants.
    """

    settings: DriftMonitoringConfig
    scope: AwsScope
    endpoints: Mapping[str, tuple[EndpointConfig, pulumi.Input[str]]]
    store: ArtifactAccess
    key: PlatformKey


class DriftMonitoring(pulumi.ComponentResource):
    def __init__(self, name: str, args: DriftMonitoringArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("mlops:serving:DriftMonitoring", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        settings, scope, volume_key = args.settings, args.scope, args.key
        image = facts.model_monitor_image_uri(scope.region)
        if image is None:
            raise ValueError(f"no Model Monitor analyzer image listed for {scope.region}")
        self.role = service_role(
            scope.name("drift-monitor"), scope, service="sagemaker.amazonaws.com", description="SageMaker Model Monitor data-quality jobs", opts=child
        )
        grants = []
        baselines = []
        for endpoint, _ in args.endpoints.values():
            grants.append(args.store.grant_read(self.role, prefix=data_capture_prefix(endpoint)))
            grants.append(args.store.grant_write(self.role, prefix=reports_prefix(endpoint)))
            baseline = settings.baselines[endpoint.name]
            baselines += [_object_arn(scope, baseline.statistics_uri), _object_arn(scope, baseline.constraints_uri)]
        log_group = pulumi.Output.concat("arn:", scope.partition, ":logs:", scope.region, ":", scope.account_id, ":log-group:/aws/sagemaker/ProcessingJobs")
        self.policy = inline_policy(
            scope.name("drift-monitor"),
            self.role,
            [
                Statement(sid="ReadBaselines", actions=["s3:GetObject"], resources=baselines),
                Statement(
                    sid="Logs",
                    actions=["logs:CreateLogGroup", "logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents"],
                    resources=[log_group, pulumi.Output.concat(log_group, ":log-stream:*")],
                ),
                Statement(
                    sid="DataQualityMetrics",
                    actions=["cloudwatch:PutMetricData"],
                    resources=["*"],
                    conditions={"StringEquals": {"cloudwatch:namespace": DATA_METRICS_NAMESPACE}},
                ),
                # The job's volume is encrypted with the platform key through a grant SageMaker
                # creates. Only grant operations carry kms:GrantIsForAWSResource, so DescribeKey
                # needs its own statement: under that condition it would never be allowed.
                volume_key.allow("DescribeVolumeKey", [KmsAction.DESCRIBE_KEY]),
                volume_key.allow("GrantVolumeKeyToAwsResources", [KmsAction.CREATE_GRANT], for_aws_resources=True),
            ],
            child,
        )
        depends = [self.policy, *_as_resources(grants)]
        self.job_definitions: dict[str, aws.sagemaker.DataQualityJobDefinition] = {}
        self.schedules: dict[str, aws.sagemaker.MonitoringSchedule] = {}
        for key, (endpoint, endpoint_name) in args.endpoints.items():
            baseline = settings.baselines[endpoint.name]
            stem = scope.name(endpoint.name, "drift")
            definition = aws.sagemaker.DataQualityJobDefinition(
                stem,
                role_arn=self.role.arn,
                data_quality_app_specification=aws.sagemaker.DataQualityJobDefinitionDataQualityAppSpecificationArgs(image_uri=image),
                data_quality_baseline_config=aws.sagemaker.DataQualityJobDefinitionDataQualityBaselineConfigArgs(
                    statistics_resource=aws.sagemaker.DataQualityJobDefinitionDataQualityBaselineConfigStatisticsResourceArgs(s3_uri=baseline.statistics_uri),
                    constraints_resource=aws.sagemaker.DataQualityJobDefinitionDataQualityBaselineConfigConstraintsResourceArgs(s3_uri=baseline.constraints_uri),
                ),
                data_quality_job_input=aws.sagemaker.DataQualityJobDefinitionDataQualityJobInputArgs(
                    endpoint_input=aws.sagemaker.DataQualityJobDefinitionDataQualityJobInputEndpointInputArgs(
                        endpoint_name=endpoint_name, local_path="/opt/ml/processing/input/endpoint", s3_input_mode="File", s3_data_distribution_type="FullyReplicated"
                    )
                ),
                data_quality_job_output_config=aws.sagemaker.DataQualityJobDefinitionDataQualityJobOutputConfigArgs(
                    kms_key_id=volume_key.arn,
                    monitoring_outputs=aws.sagemaker.DataQualityJobDefinitionDataQualityJobOutputConfigMonitoringOutputsArgs(
                        s3_output=aws.sagemaker.DataQualityJobDefinitionDataQualityJobOutputConfigMonitoringOutputsS3OutputArgs(
                            s3_uri=args.store.prefix_uri(REPORTS_PREFIX).apply(lambda uri, e=endpoint.name: uri.rstrip("/") + "/" + e),
                            local_path="/opt/ml/processing/output",
                            s3_upload_mode="EndOfJob",
                        )
                    ),
                ),
                job_resources=aws.sagemaker.DataQualityJobDefinitionJobResourcesArgs(
                    cluster_config=aws.sagemaker.DataQualityJobDefinitionJobResourcesClusterConfigArgs(
                        instance_count=1, instance_type=settings.instance_type, volume_size_in_gb=20, volume_kms_key_id=volume_key.arn
                    )
                ),
                network_config=aws.sagemaker.DataQualityJobDefinitionNetworkConfigArgs(enable_network_isolation=True, enable_inter_container_traffic_encryption=True),
                stopping_condition=aws.sagemaker.DataQualityJobDefinitionStoppingConditionArgs(max_runtime_in_seconds=settings.max_runtime_seconds),
                opts=pulumi.ResourceOptions(parent=self, depends_on=depends),
            )
            schedule = aws.sagemaker.MonitoringSchedule(
                stem,
                monitoring_schedule_config=aws.sagemaker.MonitoringScheduleMonitoringScheduleConfigArgs(
                    monitoring_type="DataQuality",
                    monitoring_job_definition_name=definition.name,
                    schedule_config=aws.sagemaker.MonitoringScheduleMonitoringScheduleConfigScheduleConfigArgs(schedule_expression=settings.schedule_expression),
                ),
                opts=pulumi.ResourceOptions(parent=self),
            )
            self.job_definitions[key] = definition
            self.schedules[key] = schedule
        self.register_outputs({"schedules": {key: s.name for key, s in self.schedules.items()}, "roleArn": self.role.arn})
