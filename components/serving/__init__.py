"""SageMaker serving: endpoints with blue/green rollout, autoscaling, alarms, registry, drift monitoring."""

from components.serving.endpoint import SageMakerEndpoint, SageMakerEndpointArgs, invoke_url
from components.serving.execution_role import ArtifactAccess
from components.serving.monitoring import DriftMonitoring, DriftMonitoringArgs
from components.serving.registry import ModelRegistry, ModelRegistryArgs
from components.serving.serving import Serving, ServingArgs

__all__ = [
    "ArtifactAccess",
    "DriftMonitoring",
    "DriftMonitoringArgs",
    "ModelRegistry",
    "ModelRegistryArgs",
    "SageMakerEndpoint",
    "SageMakerEndpointArgs",
    "Serving",
    "ServingArgs",
    "invoke_url",
]
