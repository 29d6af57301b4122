"""Seed a deployed-looking stack into moto (in-process or moto_server) for ``mlopsctl verify``.

The resources match the given stack config unless a keyword says otherwise, and the function
returns the stack outputs in the ``pulumi stack output --json`` shape of the stack-output contract.

moto gaps worked around here (see also the tests that cover them another way):
- moto's SageMaker accepts only older instance types for endpoint configs (ml.g5.* is rejected),
  so seeded endpoints use ml.m5.large; GPU variants are covered with botocore's Stubber.
- moto reports every cluster, node group and endpoint as ACTIVE/InService; states such as
  DEGRADED or Failed are set on moto's backend objects by the tests that need them.
- moto's CodeBuild has no webhooks: in-process, the runner project's webhook is set on moto's
  backend object (what BatchGetProjects would return); against moto_server it cannot be, so those
  tests use a stack whose ``ciRunner.webhook`` is false.
- moto's SNS confirms every subscription at once. A subscription nobody confirmed is listed by
  SNS with the ARN ``PendingConfirmation``; in-process, ``Seed.pending`` sets that ARN on moto's
  backend object (what ListSubscriptionsByTopic then returns); against moto_server it cannot be.
- moto's EventBridge connections are always AUTHORIZED; other states are set on the backend object.
- moto has no MLflow API: in-process, the MLflow app or tracking server of ``training.experiments``
  is answered by tests/support/mlflow.py (validated against botocore's output shape); against
  moto_server it cannot be, so those tests use a stack with experiment tracking off.
- moto's pipeline executions all end Succeeded at once; another status is set on the backend object.
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
from dataclasses import dataclass, field
from typing import Any

import boto3
from moto import mock_aws

from components.config import (
    DISPATCH_TOKEN_PLACEHOLDER,
    EXPERIMENTS_PREFIX,
    GITHUB_API_HEADERS,
    PlatformConfig,
    alerts_topic_name,
    dispatch_connection_name,
    dispatch_queue_name,
    dispatch_rule_name,
)
from mlopsctl.ops.verify.outputs import configured_families
from tests.support import mlflow

REGION = "us-east-1"
REPLICA_REGION = "us-west-2"
ACCOUNT = "123456789012"
BUCKET = "mlops-prod-artifacts-abc123"
REPLICA = "mlops-prod-artifacts-replica-abc123"
CLUSTER = "mlops-prod-eks"
ENDPOINT = "mlops-prod-churn"
NODE_ROLE = f"arn:aws:iam::{ACCOUNT}:role/mlops-prod-nodes"
GPU_TAINT = {"key": "nvidia.com/gpu", "value": "true", "effect": "NO_SCHEDULE"}
# The seeded endpoint's model of each variant.
MODELS = {"primary": "churn-primary", "challenger": "churn-challenger"}
# Where SageMaker's prebuilt scikit-learn images live in us-east-1 (what aws.sagemaker.get_prebuilt_ecr_image resolves).
PREBUILT_REGISTRY = f"683313688378.dkr.ecr.{REGION}.amazonaws.com"
# The value Pulumi creates the dispatch connection with, until `mlopsctl dispatch-token` sets the token,
# and the GitHub headers it sends with every dispatch (components/promotion).
PLACEHOLDER_KEY = DISPATCH_TOKEN_PLACEHOLDER
GITHUB_HEADERS = {"HeaderParameters": [{"Key": k, "Value": v, "IsValueSecret": False} for k, v in GITHUB_API_HEADERS.items()]}


@dataclass
class Seed:
    """What to seed; every default is compliant with the prod stack file."""

    bucket_key_enabled: bool = True
    sse_algorithm: str = "aws:kms"
    use_other_key: bool = False
    versioning: str = "Enabled"
    public_access_block: dict[str, bool] = field(default_factory=lambda: dict.fromkeys(
        ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets"), True))
    replication: bool = True
    cluster_version: str | None = None  # None: the config's version
    log_types: tuple[str, ...] = ("api", "audit", "authenticator", "controllerManager", "scheduler")
    secrets_encryption: bool = True
    gpu_ami_type: str | None = None  # None: the first GPU group's config
    gpu_capacity_type: str | None = None  # None: the first GPU group's config
    gpu_max_size: int | None = None  # None: the config's maxSize
    gpu_taints: bool = True
    endpoint_kms: bool = True
    data_capture: bool = True
    autoscaling_min: int | None | str = "config"  # None: no scalable target; "config": the stack's minCount
    autoscaling_max: int | None = None  # None: the stack's maxCount
    vpc_cidr: str | None = None  # None: the config's vpcCidr
    private_subnets: int | None = None  # None: one per configured zone
    nat_gateways: int | None = None  # None: as many as the config's natGateways implies
    flow_log: bool = True
    runner: bool = True  # the CodeBuild runner project, when the config enables it
    runner_connection: str | None = None  # None: the config's connectionArn
    runner_webhook: bool = True  # in-process moto only (moto_server has no way to set one)
    served: dict[str, dict[str, Any]] = field(default_factory=dict)  # variant -> the container its model serves instead of the config's
    challenger: bool = True  # the challenger variant, when the config has one
    unsubscribed: tuple[str, ...] = ()  # alerts.subscriptions endpoints left off the topic
    pending: tuple[str, ...] = ()  # endpoints whose subscription nobody confirmed (in-process moto only)
    extra_subscriptions: tuple[tuple[str, str], ...] = ()  # (protocol, endpoint) subscribed outside the stack
    alarms: bool = True  # the endpoints' rollback alarms and the dead-letter queue's
    connection: bool = True  # the approval dispatch's EventBridge connection
    dead_letters: int = 0  # approvals in the dispatch dead-letter queue
    executions: int = 0  # runs started on each family's pipeline (moto: each ends Succeeded)
    mlflow_status: str | None = None  # the MLflow app's Status or tracking server's TrackingServerStatus; None: in service


def _client(service: str, endpoint_url: str | None, region: str = REGION):
    return boto3.client(service, region_name=region, endpoint_url=endpoint_url)


def _configured_groups(config: PlatformConfig) -> list[tuple[str, Any]]:
    return [("system", config.eks.system_node_group), *((g.name, g) for g in config.eks.gpu_node_groups)]


def _seed_network(config: PlatformConfig, seed: Seed, endpoint_url: str | None) -> dict[str, Any]:
    """A VPC with one private and one public subnet per zone, NAT gateways and a flow log; its outputs."""
    ec2, network = _client("ec2", endpoint_url), config.network
    cidr = ipaddress.ip_network(seed.vpc_cidr or network.vpc_cidr)
    vpc_id = ec2.create_vpc(CidrBlock=str(cidr))["Vpc"]["VpcId"]
    zones = sorted(z["ZoneName"] for z in ec2.describe_availability_zones()["AvailabilityZones"])[:network.az_count]
    blocks = list(cidr.subnets(new_prefix=cidr.prefixlen + 4))
    private = [ec2.create_subnet(VpcId=vpc_id, CidrBlock=str(blocks[i]), AvailabilityZone=zone)["Subnet"]["SubnetId"]
               for i, zone in enumerate(zones[:seed.private_subnets if seed.private_subnets is not None else len(zones)])]
    public = [ec2.create_subnet(VpcId=vpc_id, CidrBlock=str(blocks[8 + i]), AvailabilityZone=zone)["Subnet"]["SubnetId"]
              for i, zone in enumerate(zones)]
    nat_count = seed.nat_gateways if seed.nat_gateways is not None else (1 if network.nat_gateways == "single" else network.az_count)
    for index in range(nat_count):
        allocation = ec2.allocate_address(Domain="vpc")["AllocationId"]
        ec2.create_nat_gateway(SubnetId=public[index % len(public)], AllocationId=allocation)
    if seed.flow_log:
        group = f"/aws/vpc-flow-logs/{config.name_prefix}-{config.environment}"
        _client("logs", endpoint_url).create_log_group(logGroupName=group)
        ec2.create_flow_logs(ResourceIds=[vpc_id], ResourceType="VPC", TrafficType="ALL", LogDestinationType="cloud-watch-logs",
                             LogGroupName=group, DeliverLogsPermissionArn=f"arn:aws:iam::{ACCOUNT}:role/flow-logs")
    return {"vpcId": vpc_id, "privateSubnetIds": private, "publicSubnetIds": public, "natGatewayCount": nat_count}


def _seed_runner(config: PlatformConfig, seed: Seed, network: dict[str, Any], endpoint_url: str | None) -> dict[str, Any]:
    """The in-VPC CodeBuild runner project of ``ciRunner``; its outputs."""
    runner, account = config.ci_runner, _client("sts", endpoint_url).get_caller_identity()["Account"]
    name = f"{config.name_prefix}-{config.environment}-gha-runner"
    group = _client("ec2", endpoint_url).create_security_group(GroupName=name, Description="runner", VpcId=network["vpcId"])["GroupId"]
    outputs = {"projectName": name, "runsOn": f"codebuild-{name}-${{{{ github.run_id }}}}-${{{{ github.run_attempt }}}}",
               "securityGroupId": group, "serviceRoleArn": f"arn:aws:iam::{account}:role/{name}-role", "webhook": runner.webhook}
    if not (seed.runner and runner.enabled):
        return outputs
    codebuild = _client("codebuild", endpoint_url)
    project = codebuild.create_project(
        name=name, serviceRole=outputs["serviceRoleArn"], artifacts={"type": "NO_ARTIFACTS"},
        source={"type": "GITHUB", "location": f"https://github.com/{runner.github_repo}.git",
                "auth": {"type": "CODECONNECTIONS", "resource": seed.runner_connection or runner.connection_arn}},
        environment={"type": "LINUX_CONTAINER", "computeType": runner.compute_type, "image": runner.image},
        vpcConfig={"vpcId": network["vpcId"], "subnets": network["privateSubnetIds"], "securityGroupIds": [group]})["project"]
    outputs["projectArn"] = project["arn"]
    if runner.webhook and seed.runner_webhook and endpoint_url is None:
        from moto.codebuild.models import codebuild_backends

        actors = "|".join(str(actor) for actor in runner.allowed_actor_ids)
        codebuild_backends[account][REGION].codebuild_projects[name].project_metadata["webhook"] = {
            "url": f"https://api.github.com/repos/{runner.github_repo}/hooks/1", "buildType": "BUILD",
            "filterGroups": [[{"type": "EVENT", "pattern": "WORKFLOW_JOB_QUEUED"}, {"type": "ACTOR_ACCOUNT_ID", "pattern": f"^({actors})$"}]]}
    return outputs


def container_of(source: Any) -> dict[str, Any]:
    """The container the serving component gives a model of ``source`` (a ModelSourceConfig)."""
    if source.model_package_arn:
        return {"ModelPackageName": source.model_package_arn}
    if source.image:
        image = {"Image": source.image}
    else:
        image = {"Image": f"{PREBUILT_REGISTRY}/{source.prebuilt_image.repository}:{source.prebuilt_image.tag}"}
    return {**image, **({"ModelDataUrl": f"s3://{BUCKET}/{source.model_data_key}"} if source.model_data_key else {})}


def put_alarm(name: str, actions: list[str], dimensions: dict[str, str], endpoint_url: str | None = None, *,
              enabled: bool = True, namespace: str = "AWS/SageMaker", metric: str = "Invocation5XXErrors") -> None:
    """A one-minute alarm like the stack's (created, or replaced when ``name`` exists)."""
    _client("cloudwatch", endpoint_url).put_metric_alarm(
        AlarmName=name, Namespace=namespace, MetricName=metric, Statistic="Sum", Period=60, EvaluationPeriods=3, Threshold=5,
        ComparisonOperator="GreaterThanOrEqualToThreshold", Dimensions=[{"Name": k, "Value": v} for k, v in dimensions.items()],
        AlarmActions=actions, OKActions=actions, ActionsEnabled=enabled)


def _seed_alerts(config: PlatformConfig, seed: Seed, variants: list[str], endpoint_url: str | None) -> dict[str, Any]:
    """The alert topic, its subscriptions and the endpoints' rollback alarms; the ``alerts`` outputs."""
    stem = config.resource_name()
    sns = _client("sns", endpoint_url)
    topic_arn = sns.create_topic(Name=alerts_topic_name(stem))["TopicArn"]
    subscribed = [(s.protocol, s.endpoint) for s in config.alerts.subscriptions if s.endpoint not in seed.unsubscribed]
    for protocol, endpoint in [*subscribed, *seed.extra_subscriptions]:
        sns.subscribe(TopicArn=topic_arn, Protocol=protocol, Endpoint=endpoint)
    if seed.pending:
        from moto.sns.models import sns_backends

        account = _client("sts", endpoint_url).get_caller_identity()["Account"]
        for subscription in sns_backends[account][REGION].subscriptions.values():
            if subscription.endpoint in seed.pending:
                subscription.arn = "PendingConfirmation"
    if seed.alarms:
        for variant in variants:
            for kind in ("server-errors", "model-latency"):
                put_alarm(f"{stem}-churn-{variant}-{kind}", [topic_arn], {"EndpointName": ENDPOINT, "VariantName": variant}, endpoint_url)
    return {"topicArn": topic_arn, "topicName": alerts_topic_name(stem),
            "subscriptions": [{"protocol": s.protocol, "endpoint": s.endpoint} for s in config.alerts.subscriptions], "rules": {}}


def _seed_promotion(config: PlatformConfig, seed: Seed, topic_arn: str, endpoint_url: str | None) -> dict[str, Any]:
    """The approval dispatch's connection (with Pulumi's placeholder key) and dead-letter queue; the ``promotion`` outputs."""
    stem = config.resource_name()
    connection, queue = dispatch_connection_name(stem), dispatch_queue_name(stem)
    if seed.connection:
        _client("events", endpoint_url).create_connection(
            Name=connection, AuthorizationType="API_KEY",
            AuthParameters={"ApiKeyAuthParameters": {"ApiKeyName": "Authorization", "ApiKeyValue": PLACEHOLDER_KEY},
                            "InvocationHttpParameters": GITHUB_HEADERS})
    sqs = _client("sqs", endpoint_url)
    url = sqs.create_queue(QueueName=queue)["QueueUrl"]
    for index in range(seed.dead_letters):
        sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"detail-type": "SageMaker Model Package State Change", "id": str(index)}))
    if seed.alarms:
        put_alarm(f"{queue}-not-empty", [topic_arn], {"QueueName": queue}, endpoint_url, namespace="AWS/SQS", metric="ApproximateNumberOfMessagesVisible")
    return {"connectionName": connection, "apiDestinationName": connection, "deadLetterQueueName": queue, "deadLetterQueueUrl": url,
            "rules": {e.name: dispatch_rule_name(stem, e.name) for e in config.serving.endpoints}}


# A pipeline definition with no steps: verify reads a pipeline's status and role, never its steps.
EMPTY_PIPELINE = json.dumps({"Version": "2020-12-01", "Parameters": [], "Steps": []})
PASS_STATE_MACHINE = json.dumps({"StartAt": "Guard", "States": {"Guard": {"Type": "Pass", "End": True}}})


def training_names(config: PlatformConfig, endpoint: str) -> dict[str, str]:
    """The seeded family's physical names (the component's own naming is not verify's concern)."""
    stem = f"{config.resource_name()}-{endpoint}"
    return {"pipeline": f"{stem}-training", "guard": f"{stem}-retrain-guard", "schedule": f"{stem}-retrain-schedule",
            "drift": f"{stem}-retrain-drift", "role": f"arn:aws:iam::{ACCOUNT}:role/{stem}-pipeline"}


def _seed_training(config: PlatformConfig, seed: Seed, endpoint_url: str | None) -> dict[str, Any]:
    """Each family's pipeline, guard and trigger rules, and the MLflow of ``training.experiments``; the ``training`` outputs."""
    pipelines = {}
    sagemaker, events = _client("sagemaker", endpoint_url), _client("events", endpoint_url)
    for endpoint, family in configured_families(config).items():
        names = training_names(config, endpoint)
        arn = sagemaker.create_pipeline(PipelineName=names["pipeline"], PipelineDefinition=EMPTY_PIPELINE, RoleArn=names["role"],
                                        ClientRequestToken=f"{endpoint}-create-pipeline".ljust(32, "0"))["PipelineArn"]
        for run in range(seed.executions):
            sagemaker.start_pipeline_execution(PipelineName=names["pipeline"], ClientRequestToken=f"{endpoint}-run-{run}".ljust(32, "0"))
        guard = _client("stepfunctions", endpoint_url).create_state_machine(
            name=names["guard"], definition=PASS_STATE_MACHINE, roleArn=f"arn:aws:iam::{ACCOUNT}:role/{names['guard']}")["stateMachineArn"]
        out = {"name": names["pipeline"], "arn": arn, "roleArn": names["role"], "guardStateMachineArn": guard,
               "scheduleRuleName": names["schedule"] if family.schedule else None, "scheduleEnabled": family.schedule_enabled,
               "driftRuleName": names["drift"] if family.retrains_on_drift else None}
        pipelines[endpoint] = out
        target = [{"Id": "retrain-guard", "Arn": out["guardStateMachineArn"], "RoleArn": f"arn:aws:iam::{ACCOUNT}:role/{names['guard']}-invoke"}]
        if family.schedule:
            events.put_rule(Name=names["schedule"], ScheduleExpression=family.schedule.expression,
                            State="ENABLED" if family.schedule_enabled else "DISABLED")
            events.put_targets(Rule=names["schedule"], Targets=target)
        if family.retrains_on_drift:
            events.put_rule(Name=names["drift"], State="ENABLED", EventPattern=json.dumps(
                {"source": ["aws.sagemaker"], "detail-type": ["SageMaker Processing Job State Change"]}))
            events.put_targets(Rule=names["drift"], Targets=target)
    experiments = config.training.experiments
    if not experiments.enabled:
        return {"pipelines": pipelines, "experiments": None}
    stem, uri = config.resource_name(), f"s3://{BUCKET}/{EXPERIMENTS_PREFIX}"
    if experiments.kind == "serverless":
        name, arn = f"{stem}-mlflow", f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:mlflow-app/app-ABCDEFGHIJKL"
        mlflow.put("DescribeMlflowApp", arn, {"Arn": arn, "Name": name, "ArtifactStoreUri": uri, "Status": seed.mlflow_status or "Created"})
    else:
        name = f"{stem}-mlflow"
        arn = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:mlflow-tracking-server/{name}"
        mlflow.put("DescribeMlflowTrackingServer", name, {"TrackingServerArn": arn, "TrackingServerName": name, "ArtifactStoreUri": uri,
                                                          "TrackingServerStatus": seed.mlflow_status or "Created", "IsActive": "Active"})
    return {"pipelines": pipelines, "experiments": {"kind": experiments.kind, "name": name, "arn": arn, "artifactStoreUri": uri}}


def seed_stack(config: PlatformConfig, seed: Seed | None = None, endpoint_url: str | None = None) -> dict[str, Any]:
    """Create the resources of a deployed ``config`` stack; return its outputs."""
    seed = seed or Seed()
    network = _seed_network(config, seed, endpoint_url)
    runner = _seed_runner(config, seed, network, endpoint_url)
    kms = _client("kms", endpoint_url)
    # Only the keys the seed uses: moto makes an RSA key pair for every key it creates.
    key_arn = kms.create_key(Description="artifact store")["KeyMetadata"]["Arn"]

    s3 = _client("s3", endpoint_url)
    s3.create_bucket(Bucket=BUCKET)
    s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": seed.versioning})
    default: dict[str, str] = {"SSEAlgorithm": seed.sse_algorithm}
    if seed.sse_algorithm == "aws:kms":
        default["KMSMasterKeyID"] = kms.create_key(Description="someone else's key")["KeyMetadata"]["Arn"] if seed.use_other_key else key_arn
    s3.put_bucket_encryption(Bucket=BUCKET, ServerSideEncryptionConfiguration={
        "Rules": [{"ApplyServerSideEncryptionByDefault": default, "BucketKeyEnabled": seed.bucket_key_enabled}]})
    s3.put_public_access_block(Bucket=BUCKET, PublicAccessBlockConfiguration=seed.public_access_block)
    replica_s3 = _client("s3", endpoint_url, REPLICA_REGION)
    replica_s3.create_bucket(Bucket=REPLICA, CreateBucketConfiguration={"LocationConstraint": REPLICA_REGION})
    replica_s3.put_bucket_versioning(Bucket=REPLICA, VersioningConfiguration={"Status": "Enabled"})
    if seed.replication and config.storage.replication.enabled:
        replica_key_arn = _client("kms", endpoint_url, REPLICA_REGION).create_key(Description="replica")["KeyMetadata"]["Arn"]
        s3.put_bucket_replication(Bucket=BUCKET, ReplicationConfiguration={
            "Role": f"arn:aws:iam::{ACCOUNT}:role/mlops-prod-replication",
            "Rules": [{
                "ID": "replicate-all", "Priority": 1, "Status": "Enabled", "Filter": {"Prefix": ""},
                "DeleteMarkerReplication": {"Status": "Enabled"},
                "SourceSelectionCriteria": {"SseKmsEncryptedObjects": {"Status": "Enabled"}},
                "Destination": {"Bucket": f"arn:aws:s3:::{REPLICA}", "EncryptionConfiguration": {"ReplicaKmsKeyID": replica_key_arn}},
            }],
        })

    eks = _client("eks", endpoint_url)
    cluster: dict[str, Any] = {
        "name": CLUSTER, "version": seed.cluster_version or config.eks.version, "roleArn": f"arn:aws:iam::{ACCOUNT}:role/mlops-prod-cluster",
        "resourcesVpcConfig": {"subnetIds": ["subnet-a", "subnet-b", "subnet-c"], "endpointPublicAccess": False, "endpointPrivateAccess": True},
        "logging": {"clusterLogging": [{"types": list(seed.log_types), "enabled": True}]},
    }
    if seed.secrets_encryption:
        cluster["encryptionConfig"] = [{"resources": ["secrets"], "provider": {"keyArn": key_arn}}]
    eks.create_cluster(**cluster)
    node_groups: dict[str, str] = {}
    for index, (group, want) in enumerate(_configured_groups(config)):
        gpu = group != "system"
        first_gpu = gpu and index == 1
        node_groups[group] = f"{config.name_prefix}-{config.environment}-{group}-{index:04x}"
        eks.create_nodegroup(
            clusterName=CLUSTER, nodegroupName=node_groups[group], subnets=["subnet-a", "subnet-b"], nodeRole=NODE_ROLE,
            instanceTypes=list(want.instance_types),
            amiType=seed.gpu_ami_type if first_gpu and seed.gpu_ami_type else want.ami_type,
            capacityType=seed.gpu_capacity_type if first_gpu and seed.gpu_capacity_type else want.capacity_type,
            scalingConfig={"minSize": want.min_size, "desiredSize": want.desired_size,
                           "maxSize": seed.gpu_max_size if first_gpu and seed.gpu_max_size else want.max_size},
            taints=[GPU_TAINT] if gpu and (seed.gpu_taints or not first_gpu) else [],
        )

    sagemaker = _client("sagemaker", endpoint_url)
    endpoint = config.serving.endpoints[0]  # every stack file serves one endpoint, churn
    sources = {"primary": endpoint.model}
    challenger = endpoint.instance.challenger if endpoint.instance else None
    serverless = endpoint.serverless
    if challenger and seed.challenger:
        sources["challenger"] = challenger.model
    variants = []
    for variant, source in sources.items():
        sagemaker.create_model(ModelName=MODELS[variant], ExecutionRoleArn=f"arn:aws:iam::{ACCOUNT}:role/mlops-prod-sagemaker",
                               PrimaryContainer=seed.served.get(variant) or container_of(source))
        capacity = ({"ServerlessConfig": {"MemorySizeInMB": serverless.memory_size_mb, "MaxConcurrency": serverless.max_concurrency}} if serverless
                    else {"InstanceType": "ml.m5.large", "InitialInstanceCount": 2 if variant == "primary" else 1})
        variants.append({"VariantName": variant, "ModelName": MODELS[variant], **capacity})
    endpoint_config: dict[str, Any] = {"EndpointConfigName": "mlops-prod-churn-20261122", "ProductionVariants": variants}
    if seed.endpoint_kms:
        endpoint_config["KmsKeyId"] = key_arn
    if seed.data_capture and not serverless:  # serverless endpoints have no data capture
        endpoint_config["DataCaptureConfig"] = {
            "EnableCapture": True, "InitialSamplingPercentage": 20, "DestinationS3Uri": f"s3://{BUCKET}/data-capture/{ENDPOINT}",
            "KmsKeyId": key_arn, "CaptureOptions": [{"CaptureMode": "Input"}, {"CaptureMode": "Output"}],
        }
    sagemaker.create_endpoint_config(**endpoint_config)
    endpoint_arn = sagemaker.create_endpoint(EndpointName=ENDPOINT, EndpointConfigName=endpoint_config["EndpointConfigName"])["EndpointArn"]
    if seed.autoscaling_min is not None and not serverless:  # serverless scales itself
        instance = endpoint.instance
        low = instance.min_count if seed.autoscaling_min == "config" and instance else seed.autoscaling_min
        high = seed.autoscaling_max if seed.autoscaling_max is not None else (instance.max_count if instance else 4)
        bounds = {"primary": (low, high)}
        if "challenger" in sources:
            bounds["challenger"] = (challenger.min_count, challenger.max_count)
        for variant, (low, high) in bounds.items():
            _client("application-autoscaling", endpoint_url).register_scalable_target(
                ServiceNamespace="sagemaker", ResourceId=f"endpoint/{ENDPOINT}/variant/{variant}",
                ScalableDimension="sagemaker:variant:DesiredInstanceCount", MinCapacity=low, MaxCapacity=high)
    alerts = _seed_alerts(config, seed, list(sources), endpoint_url)
    promotion = _seed_promotion(config, seed, alerts["topicArn"], endpoint_url) if config.promotion.dispatch else None
    training = _seed_training(config, seed, endpoint_url)

    return {
        "environment": config.environment,
        "region": config.region,
        "artifactStore": {
            "bucketName": BUCKET, "bucketArn": f"arn:aws:s3:::{BUCKET}", "kmsKeyArn": key_arn, "logBucketName": "mlops-prod-logs-abc123",
            "replicaBucketName": REPLICA if config.storage.replication.enabled else None,
            "replicaRegion": config.storage.replication.region if config.storage.replication.enabled else None,
            "prefixes": {"models": "models/", "datasets": "datasets/", "dataCapture": "data-capture/", "pipelines": "pipelines/",
                         "checkpoints": "checkpoints/", "experiments": "experiments/"},
        },
        "network": network,
        "ciRunner": runner,
        "cluster": {"name": CLUSTER, "version": config.eks.version, "endpoint": "https://example.eks.amazonaws.com",
                    "oidcProviderArn": f"arn:aws:iam::{ACCOUNT}:oidc-provider/oidc.eks.{REGION}.amazonaws.com/id/ABC",
                    "nodeGroups": node_groups},
        "kubeconfig": "[secret]",
        "endpoints": {"churn": {"name": ENDPOINT, "arn": endpoint_arn, "invokeUrl": f"https://runtime.sagemaker.{REGION}.amazonaws.com/endpoints/{ENDPOINT}/invocations",
                                "variantNames": list(sources), "modelPackageGroup": "churn"}},
        "alerts": alerts,
        **({"promotion": promotion} if promotion else {}),
        "training": training,
    }


# Speed only: moto's EC2 backend (which its EKS node groups create) otherwise loads some 1,300
# default AMIs, with a volume and snapshot each, every time it starts or resets. Nothing here
# reads EC2 images; node groups are verified by their amiType.
MOTO_SETTINGS = {"MOTO_EC2_LOAD_DEFAULT_AMIS": "false"}


_SHARED_LOADERS: dict = {}


@contextlib.contextmanager
def moto_account(monkeypatch, region: str):
    """An empty moto account: fake credentials in the environment, shared loader, ``mock_aws``."""
    for key, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing",
                       "AWS_DEFAULT_REGION": region, **MOTO_SETTINGS}.items():
        monkeypatch.setenv(key, value)
    share_botocore_loader(monkeypatch)
    mlflow.reset()
    mlflow.answer_every_client(monkeypatch)
    with mock_aws():
        yield


def without_credentials(monkeypatch, tmp_path) -> None:
    """No AWS credentials and no profiles: no variables, no files, no instance metadata (never leaves this machine)."""
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_DEFAULT_PROFILE"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


def share_botocore_loader(monkeypatch) -> None:
    """Speed only: let every botocore session in this process share one data loader.

    moto and each ``AwsClients`` create fresh botocore sessions, and each would re-read and re-parse
    botocore's large JSON models (endpoints, SageMaker, EC2). The loader only reads bundled files
    and caches them, so sharing it changes no behaviour.
    """
    import botocore.loaders
    import botocore.session

    def create_loader(search_path_string=None):
        if search_path_string not in _SHARED_LOADERS:
            _SHARED_LOADERS[search_path_string] = botocore.loaders.create_loader(search_path_string)
        return _SHARED_LOADERS[search_path_string]

    monkeypatch.setattr(botocore.session, "create_loader", create_loader)
