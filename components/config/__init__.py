"""Typed, validated platform configuration.

A stack file carries one structured object, ``mlops-platform:platform``, next to ``aws:region``.
It is parsed once into a frozen :class:`PlatformConfig` before any resource is registered;
components receive these objects and never read ``pulumi.Config`` themselves.

Defaults live in one place: field defaults in each section's module for what is the same in every
environment, and :data:`ENVIRONMENT_DEFAULTS` (``environments``) for what a real team sets
differently in dev, staging and prod. Stack files override either. Every field's ``description``
documents it next to its default.

One module per section of the stack file (``network``, ``eks``, ``storage``, ``ci_runner``,
``iam``, ``serving``, ``alerts``, ``images``, ``promotion``), the root model in ``platform``, what they share in ``base``, the AWS rules
on tags in ``tags`` and on physical names in ``physical_names``, the way from a stack file's
object to a model or a :class:`ConfigError` (one line per problem) in ``parsing``, and the checks
of a stack's config as a whole (its namespace's keys, its name against its environment) with the
way ``pulumi up`` reads it in ``stack``. Import from ``components.config``; the modules are its
layout, not its interface.
"""

from components.config.alerts import AlertsConfig, AlertSubscriptionConfig
from components.config.base import (
    LOG_RETENTION_DAYS,
    NAME_PREFIX_MAX,
    NAME_PREFIX_MIN,
    NAME_PREFIX_PATTERN,
    NAME_PREFIX_RULE,
    S3_BUCKET_NAME_MAX,
    Cidr,
    Ec2InstanceType,
    LogRetentionDays,
    Model,
    PolicyArn,
    RoleArn,
    Scaling,
    TagKey,
)
from components.config.ci_runner import GITHUB_REPO_PATTERN, CiRunnerConfig
from components.config.eks import (
    GPU_TAINT_EFFECT,
    GPU_TAINT_KEY,
    GPU_TAINT_VALUE,
    EksConfig,
    GpuNodeGroupConfig,
    GpuQuotaConfig,
    NodeGroupConfig,
    SystemNodeGroupConfig,
)
from components.config.environments import ENVIRONMENT_DEFAULTS, Environment
from components.config.iam import IamConfig
from components.config.images import (
    PUSHER_NAME_MAX,
    SERVING,
    TRAINING,
    ImagePurpose,
    ImagePusherConfig,
    ImageRepositoryConfig,
    ImagesConfig,
)
from components.config.network import NetworkConfig
from components.config.parsing import CONFIG_KEY, REGION_KEY, ConfigError, parse_platform_config, stack_file_for
from components.config.physical_names import (
    ARTIFACTS_BUCKET_STEM,
    BUCKET_STEMS,
    REPLICA_LOG_BUCKET_STEM,
    alerts_topic_name,
    artifact_bucket_prefix,
    bucket_name_problem,
    deploy_role_name,
    dispatch_connection_name,
    dispatch_queue_name,
    dispatch_rule_name,
    github_connection_name,
    image_push_role_name,
    image_push_role_prefix,
    image_repository_name,
    name_stem,
    preview_role_name,
    runner_project_name,
    serving_role_path,
    state_bucket_name,
)
from components.config.platform import PlatformConfig
from components.config.promotion import ENVIRONMENT_ORDER, PromotionConfig, PromotionPeerConfig, next_environment, previous_environment
from components.config.serving import (
    CANARY_STEP_PERCENT,
    LINEAR_STEP_PERCENT,
    AlarmConfig,
    ChallengerVariantConfig,
    DataCaptureConfig,
    DeploymentConfig,
    DriftBaselineConfig,
    DriftMonitoringConfig,
    EndpointConfig,
    InstanceServingConfig,
    InstanceVariantConfig,
    ModelSourceConfig,
    PrebuiltImageConfig,
    PrebuiltRepository,
    S3ObjectUri,
    SageMakerInstanceType,
    ServerlessServingConfig,
    ServingConfig,
    ecr_image_parts,
    model_package_arn_parts,
)
from components.config.stack import PLATFORM_KEYS, check_platform_stack, load_from_pulumi_config, runtime_config_keys, unread_key_issues
from components.config.storage import (
    ARTIFACT_PREFIXES,
    DATA_CAPTURE_PREFIX,
    MODELS_PREFIX,
    ReplicationConfig,
    StorageConfig,
    StorageTransitionConfig,
)
from components.config.tags import PLATFORM_TAG_KEYS, RESOURCE_TAG_KEYS, RESOURCE_TAG_PREFIXES
from policies.awsfacts import PROJECT

__all__ = [
    "ARTIFACT_PREFIXES",
    "ARTIFACTS_BUCKET_STEM",
    "BUCKET_STEMS",
    "CANARY_STEP_PERCENT",
    "CONFIG_KEY",
    "DATA_CAPTURE_PREFIX",
    "ENVIRONMENT_DEFAULTS",
    "ENVIRONMENT_ORDER",
    "PromotionConfig",
    "PromotionPeerConfig",
    "next_environment",
    "previous_environment",
    "GITHUB_REPO_PATTERN",
    "GPU_TAINT_EFFECT",
    "GPU_TAINT_KEY",
    "GPU_TAINT_VALUE",
    "LINEAR_STEP_PERCENT",
    "LOG_RETENTION_DAYS",
    "PLATFORM_KEYS",
    "PLATFORM_TAG_KEYS",
    "RESOURCE_TAG_KEYS",
    "RESOURCE_TAG_PREFIXES",
    "REPLICA_LOG_BUCKET_STEM",
    "alerts_topic_name",
    "artifact_bucket_prefix",
    "deploy_role_name",
    "dispatch_connection_name",
    "dispatch_queue_name",
    "dispatch_rule_name",
    "bucket_name_problem",
    "check_platform_stack",
    "github_connection_name",
    "image_push_role_name",
    "image_push_role_prefix",
    "image_repository_name",
    "name_stem",
    "preview_role_name",
    "runner_project_name",
    "serving_role_path",
    "state_bucket_name",
    "MODELS_PREFIX",
    "NAME_PREFIX_MAX",
    "NAME_PREFIX_MIN",
    "NAME_PREFIX_PATTERN",
    "NAME_PREFIX_RULE",
    "PROJECT",
    "PUSHER_NAME_MAX",
    "REGION_KEY",
    "S3_BUCKET_NAME_MAX",
    "SERVING",
    "TRAINING",
    "AlarmConfig",
    "AlertSubscriptionConfig",
    "AlertsConfig",
    "ChallengerVariantConfig",
    "Cidr",
    "CiRunnerConfig",
    "ConfigError",
    "DataCaptureConfig",
    "DeploymentConfig",
    "DriftBaselineConfig",
    "DriftMonitoringConfig",
    "Ec2InstanceType",
    "EksConfig",
    "EndpointConfig",
    "Environment",
    "GpuNodeGroupConfig",
    "GpuQuotaConfig",
    "IamConfig",
    "ImagePurpose",
    "ImagePusherConfig",
    "ImageRepositoryConfig",
    "ImagesConfig",
    "InstanceServingConfig",
    "InstanceVariantConfig",
    "LogRetentionDays",
    "Model",
    "ModelSourceConfig",
    "NetworkConfig",
    "NodeGroupConfig",
    "PlatformConfig",
    "PolicyArn",
    "PrebuiltImageConfig",
    "PrebuiltRepository",
    "ReplicationConfig",
    "RoleArn",
    "S3ObjectUri",
    "SageMakerInstanceType",
    "Scaling",
    "ServerlessServingConfig",
    "ServingConfig",
    "StorageConfig",
    "StorageTransitionConfig",
    "SystemNodeGroupConfig",
    "TagKey",
    "ecr_image_parts",
    "model_package_arn_parts",
    "load_from_pulumi_config",
    "parse_platform_config",
    "runtime_config_keys",
    "stack_file_for",
    "unread_key_issues",
]
