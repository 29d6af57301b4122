"""Continuous training: the typed SageMaker pipeline definition builder (the Pulumi component comes later)."""

from components.training.pipeline_definition import (
    Encryption,
    MetricGate,
    ModelRegistration,
    NetworkSettings,
    PipelineDefinitionArgs,
    PipelineDefinitionError,
    ProcessingJob,
    SpotTraining,
    TrainingJob,
    build_pipeline_definition,
)

__all__ = [
    "Encryption",
    "MetricGate",
    "ModelRegistration",
    "NetworkSettings",
    "PipelineDefinitionArgs",
    "PipelineDefinitionError",
    "ProcessingJob",
    "SpotTraining",
    "TrainingJob",
    "build_pipeline_definition",
]
