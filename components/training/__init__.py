"""Continuous training: the typed SageMaker pipeline definition builder, the retrain guard in front of it
the pipeline execution role's statements, the per-family component that builds them
(RetrainingPipeline) and experiment tracking (ExperimentTracking)."""

from components.training.experiments import ExperimentTracking, ExperimentTrackingArgs
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
from components.training.retraining import RetrainingPipeline, RetrainingPipelineArgs, TrainingNetwork

__all__ = [
    "ExperimentTracking",
    "ExperimentTrackingArgs",
    "RetrainingPipeline",
    "RetrainingPipelineArgs",
    "TrainingNetwork",
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
