"""Mock answers of the offline runtime: one table of computed outputs and one of data sources.

The harness answers a registration with ``COMPUTED_OUTPUTS[type]`` (what AWS computes once the
resource exists: ids, ARNs, endpoints), so that values built from them downstream (ARNs in
policies, node-group Auto Scaling group names, cluster endpoints) read like a real stack's. A type
without an entry gets :func:`~mlopsctl.offline.mockoutputs.context.generic_outputs` (its physical
name, an ARN in the common format and ``tagsAll``); the types the stacks register that way on
purpose are listed in ``GENERIC_OUTPUTS_SUFFICE``, and a test keeps every registered type in one
of the two. A data source without an entry in ``INVOKES`` fails the run: nothing is invented.
"""

from __future__ import annotations

from mlopsctl.offline.mockoutputs import account, alerts, cloudwatch, ecr, eks, iam, network, promotion, serving, storage, training
from mlopsctl.offline.mockoutputs.context import InvokeHandler, OutputFactory
from policies.awsfacts.resource_types import (
    ECR_LIFECYCLE_POLICY,
    ECR_REPOSITORY,
    ECR_REPOSITORY_POLICY,
    EVENT_API_DESTINATION,
    EVENT_CONNECTION,
    MODEL_PACKAGE_GROUP_POLICY,
    SQS_QUEUE,
    SQS_QUEUE_POLICY,
)

COMPUTED_OUTPUTS: dict[str, OutputFactory] = {
    # Identity and keys
    "aws:iam/role:Role": iam.role_or_policy,
    "aws:iam/policy:Policy": iam.role_or_policy,
    "aws:iam/rolePolicy:RolePolicy": iam.role_policy,
    "aws:kms/key:Key": storage.kms_key,
    "aws:kms/alias:Alias": storage.kms_alias,
    # Storage
    "aws:s3/bucket:Bucket": storage.bucket,
    "aws:s3/bucketV2:BucketV2": storage.bucket,
    ECR_REPOSITORY: ecr.repository,
    # Network
    "aws:ec2/vpc:Vpc": network.vpc,
    "aws:ec2/subnet:Subnet": network.subnet,
    "aws:ec2/eip:Eip": network.eip,
    "aws:ec2/natGateway:NatGateway": network.nat_gateway,
    "aws:ec2/internetGateway:InternetGateway": network.ec2_resource("igw", "internet-gateway"),
    "aws:ec2/routeTable:RouteTable": network.ec2_resource("rtb", "route-table"),
    "aws:ec2/routeTableAssociation:RouteTableAssociation": network.ec2_resource("rtbassoc"),
    "aws:ec2/flowLog:FlowLog": network.ec2_resource("fl", "vpc-flow-log"),
    "aws:ec2/securityGroup:SecurityGroup": network.security_group,
    "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup": network.security_group,
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": network.ec2_resource("sgr", "security-group-rule"),
    "aws:ec2/vpcEndpoint:VpcEndpoint": network.vpc_endpoint,
    # Logs and alarms
    "aws:cloudwatch/logGroup:LogGroup": cloudwatch.log_group,
    "aws:cloudwatch/metricAlarm:MetricAlarm": cloudwatch.metric_alarm,
    # Alerts
    "aws:sns/topic:Topic": alerts.sns_topic,
    "aws:sns/topicPolicy:TopicPolicy": alerts.sns_topic_policy,
    "aws:sns/topicSubscription:TopicSubscription": alerts.sns_topic_subscription,
    "aws:cloudwatch/eventRule:EventRule": alerts.event_rule,
    "aws:cloudwatch/eventTarget:EventTarget": alerts.event_target,
    # Promotion by approval
    EVENT_CONNECTION: promotion.event_connection,
    EVENT_API_DESTINATION: promotion.event_api_destination,
    SQS_QUEUE: promotion.sqs_queue,
    # EKS
    "aws:eks/cluster:Cluster": eks.cluster,
    "aws:eks/nodeGroup:NodeGroup": eks.node_group,
    "aws:ec2/launchTemplate:LaunchTemplate": eks.launch_template,
    "aws:eks/podIdentityAssociation:PodIdentityAssociation": eks.pod_identity_association,
    # SageMaker serving
    "aws:sagemaker/model:Model": serving.named_sagemaker_resource("model"),
    "aws:sagemaker/endpointConfiguration:EndpointConfiguration": serving.named_sagemaker_resource("endpoint-config"),
    "aws:sagemaker/endpoint:Endpoint": serving.named_sagemaker_resource("endpoint"),
    "aws:sagemaker/dataQualityJobDefinition:DataQualityJobDefinition": serving.named_sagemaker_resource("data-quality-job-definition"),
    "aws:sagemaker/monitoringSchedule:MonitoringSchedule": serving.named_sagemaker_resource("monitoring-schedule"),
    "aws:sagemaker/modelPackageGroup:ModelPackageGroup": serving.model_package_group,
    MODEL_PACKAGE_GROUP_POLICY: serving.model_package_group_policy,
    "aws:appautoscaling/target:Target": serving.scaling_target,
    # Continuous training
    "aws:sagemaker/pipeline:Pipeline": training.pipeline,
    "aws:sfn/stateMachine:StateMachine": training.state_machine,
    "aws:sagemaker/mlflowApp:MlflowApp": training.mlflow_app,
    "aws:sagemaker/mlflowTrackingServer:MlflowTrackingServer": training.mlflow_tracking_server,
}

INVOKES: dict[str, InvokeHandler] = {
    "aws:index/getCallerIdentity:getCallerIdentity": account.caller_identity,
    "aws:index/getPartition:getPartition": account.partition,
    "aws:index/getAvailabilityZones:getAvailabilityZones": account.availability_zones,
    "aws:sagemaker/getPrebuiltEcrImage:getPrebuiltEcrImage": serving.prebuilt_ecr_image,
}

# Registered by the stacks and answered by generic_outputs on purpose: the program reads no computed
# output of theirs beyond the name and ARN (attachments, bucket settings, rules, routes, Kubernetes
# objects of layer 2). Component resources and providers are answered by the harness itself.
GENERIC_OUTPUTS_SUFFICE: frozenset[str] = frozenset({
    "aws:appautoscaling/policy:Policy",
    "aws:autoscaling/tag:Tag",
    "aws:codebuild/project:Project",
    "aws:codebuild/webhook:Webhook",
    "aws:ec2/route:Route",
    ECR_LIFECYCLE_POLICY,
    ECR_REPOSITORY_POLICY,
    "aws:eks/accessEntry:AccessEntry",
    "aws:eks/accessPolicyAssociation:AccessPolicyAssociation",
    "aws:eks/addon:Addon",
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
    "aws:s3/bucketLogging:BucketLogging",
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls",
    "aws:s3/bucketPolicy:BucketPolicy",
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
    "aws:s3/bucketReplicationConfig:BucketReplicationConfig",
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    "aws:s3/bucketVersioning:BucketVersioning",
    SQS_QUEUE_POLICY,
    "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule",
    "kubernetes:core/v1:LimitRange",
    "kubernetes:core/v1:Namespace",
    "kubernetes:core/v1:ResourceQuota",
    "kubernetes:core/v1:ServiceAccount",
    "kubernetes:helm.sh/v3:Release",
})
