"""Pulumi type tokens that more than one part of the repository names: one definition each.

The pack's checks, the cost model, the diff's upgrade rules and the mock runtime all select
resources by token; pulumi-aws renames tokens between major versions (v7 made ``s3/bucketV2`` the
``s3/bucket``), so a token spelt in two places would drift on the next upgrade.
"""

EKS_CLUSTER = "aws:eks/cluster:Cluster"
EKS_NODE_GROUP = "aws:eks/nodeGroup:NodeGroup"
LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
NAT_GATEWAY = "aws:ec2/natGateway:NatGateway"
EIP = "aws:ec2/eip:Eip"
SUBNET = "aws:ec2/subnet:Subnet"
VPC_ENDPOINT = "aws:ec2/vpcEndpoint:VpcEndpoint"
VPC = "aws:ec2/vpc:Vpc"
FLOW_LOG = "aws:ec2/flowLog:FlowLog"
SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"
DEFAULT_SECURITY_GROUP = "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup"
SECURITY_GROUP_RULE = "aws:ec2/securityGroupRule:SecurityGroupRule"
SECURITY_GROUP_INGRESS_RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
KMS_KEY = "aws:kms/key:Key"
KMS_REPLICA_KEY = "aws:kms/replicaKey:ReplicaKey"
METRIC_ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
COMPOSITE_ALARM = "aws:cloudwatch/compositeAlarm:CompositeAlarm"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
EVENT_RULE = "aws:cloudwatch/eventRule:EventRule"
EVENT_TARGET = "aws:cloudwatch/eventTarget:EventTarget"
EVENT_CONNECTION = "aws:cloudwatch/eventConnection:EventConnection"
EVENT_API_DESTINATION = "aws:cloudwatch/eventApiDestination:EventApiDestination"
SQS_QUEUE = "aws:sqs/queue:Queue"
SQS_QUEUE_POLICY = "aws:sqs/queuePolicy:QueuePolicy"
SNS_TOPIC = "aws:sns/topic:Topic"
SNS_TOPIC_SUBSCRIPTION = "aws:sns/topicSubscription:TopicSubscription"
IAM_ROLE = "aws:iam/role:Role"
IAM_ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
SAGEMAKER_ENDPOINT_CONFIG = "aws:sagemaker/endpointConfiguration:EndpointConfiguration"
SAGEMAKER_ENDPOINT = "aws:sagemaker/endpoint:Endpoint"
SAGEMAKER_MODEL = "aws:sagemaker/model:Model"
SAGEMAKER_NOTEBOOK = "aws:sagemaker/notebookInstance:NotebookInstance"
SAGEMAKER_PIPELINE = "aws:sagemaker/pipeline:Pipeline"
SAGEMAKER_MLFLOW_TRACKING_SERVER = "aws:sagemaker/mlflowTrackingServer:MlflowTrackingServer"
SAGEMAKER_MLFLOW_APP = "aws:sagemaker/mlflowApp:MlflowApp"
STATE_MACHINE = "aws:sfn/stateMachine:StateMachine"
SCALING_TARGET = "aws:appautoscaling/target:Target"
ECR_REPOSITORY = "aws:ecr/repository:Repository"
ECR_LIFECYCLE_POLICY = "aws:ecr/lifecyclePolicy:LifecyclePolicy"
ECR_REPOSITORY_POLICY = "aws:ecr/repositoryPolicy:RepositoryPolicy"
CODEBUILD_PROJECT = "aws:codebuild/project:Project"
CODEBUILD_WEBHOOK = "aws:codebuild/webhook:Webhook"
ACCOUNT_PUBLIC_ACCESS_BLOCK = "aws:s3/accountPublicAccessBlock:AccountPublicAccessBlock"
S3_BUCKET = "aws:s3/bucket:Bucket"
MODEL_PACKAGE_GROUP = "aws:sagemaker/modelPackageGroup:ModelPackageGroup"
MODEL_PACKAGE_GROUP_POLICY = "aws:sagemaker/modelPackageGroupPolicy:ModelPackageGroupPolicy"
KUBERNETES_NAMESPACE = "kubernetes:core/v1:Namespace"
KUBERNETES_SERVICE_ACCOUNT = "kubernetes:core/v1:ServiceAccount"

# What a resource of each type holds that replacing or deleting it destroys. `mlopsctl diff`
# refuses such a replacement in staging and prod; the pack's reliability-protect-data-stores
# requires `protect` on the buckets and keys among them.
DATA_HOLDING_TYPES: dict[str, str] = {
    S3_BUCKET: "its objects (artifacts, datasets, models, access logs)",
    KMS_KEY: "the key material: everything encrypted under the key becomes unreadable once it is deleted",
    KMS_REPLICA_KEY: "the replica's key material, which the replica bucket's objects are encrypted under",
    LOG_GROUP: "its log events (flow logs, control-plane and audit logs)",
    MODEL_PACKAGE_GROUP: "the model versions teams registered and their approval history",
    ECR_REPOSITORY: "its images: what training jobs and endpoints run (a model package names its image, which must stay pullable)",
    EKS_CLUSTER: "its etcd: every Kubernetes object, including teams' workloads, secrets and volumes' claims",
    KUBERNETES_NAMESPACE: "every object in the namespace, including Secrets and PersistentVolumeClaims",
}
