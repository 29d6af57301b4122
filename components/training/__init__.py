"""Continuous training: the typed SageMaker pipeline definition builder, the retrain guard in front of it
and the pipeline execution role's statements (the Pulumi component that creates them comes later)."""

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
from components.training.pipeline_role import PipelineNetwork, PipelineRoleArgs, pipeline_role_statements
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
    "PipelineNetwork",
    "PipelineRoleArgs",
    "pipeline_role_statements",
    "DRIFT_TRIGGER",
    "SCHEDULE_TRIGGER",
    "RetrainGuardArgs",
    "RetrainGuardError",
    "TriggerKind",
    "retrain_guard_definition",
    "retrain_guard_statements",
]
