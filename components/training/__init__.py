"""Continuous training: the typed SageMaker pipeline definition builder and the retrain guard in front of it
(the Pulumi component that creates them comes later)."""

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
from components.training.retrain_guard import (
    DRIFT_TRIGGER,
    SCHEDULE_TRIGGER,
    RetrainGuardArgs,
    RetrainGuardError,
    TriggerKind,
    retrain_guard_definition,
    retrain_guard_statements,
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
    "DRIFT_TRIGGER",
    "SCHEDULE_TRIGGER",
    "RetrainGuardArgs",
    "RetrainGuardError",
    "TriggerKind",
    "retrain_guard_definition",
    "retrain_guard_statements",
]
