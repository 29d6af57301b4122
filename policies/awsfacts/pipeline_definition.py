"""Reading a SageMaker Model Building Pipeline definition: one reader for the cost model and the pack.

A pipeline's ``pipelineDefinition`` input is the definition as a JSON string
(components/training/pipeline_definition.py writes it). Its job steps carry the arguments of the
API they call: a ``Processing`` step those of CreateProcessingJob, a ``Training`` step those of
CreateTrainingJob. The cost model (``pricing/training.py``) prices their compute; the pack's
training checks (``security/training.py``) judge their keys, network and spot settings. Standard
library only, like the rest of ``awsfacts``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

PIPELINE_DEFINITION_INPUT = "pipelineDefinition"
# The other way to give a pipeline its definition: a file in S3, which neither pricing nor the pack can read.
PIPELINE_DEFINITION_S3_INPUT = "pipelineDefinitionS3Location"

PROCESSING_STEP = "Processing"
TRAINING_STEP = "Training"
# Where each job step keeps its compute (instance type and count, volume key) in its arguments.
JOB_STEP_RESOURCES: dict[str, tuple[str, ...]] = {
    PROCESSING_STEP: ("ProcessingResources", "ClusterConfig"),
    TRAINING_STEP: ("ResourceConfig",),
}
# Steps that start no job of their own: a condition evaluates a property file, RegisterModel and
# Model write registry or model records, Fail stops the execution.
STEPS_WITHOUT_COMPUTE = frozenset({"Condition", "RegisterModel", "Model", "Fail"})
CONDITION_BRANCHES = ("IfSteps", "ElseSteps")


def parse_definition(body: Any) -> Mapping[str, Any] | None:
    """The decoded definition, or None when ``body`` is not a JSON object in a string."""
    if not isinstance(body, str):
        return None
    try:
        definition = json.loads(body)
    except ValueError:
        return None
    return definition if isinstance(definition, Mapping) else None


def _walk(steps: Any) -> Iterator[Mapping[str, Any]]:
    for step in steps if isinstance(steps, list) else ():
        if not isinstance(step, Mapping):
            continue
        yield step
        if step.get("Type") == "Condition":
            arguments = step_arguments(step)
            for branch in CONDITION_BRANCHES:
                yield from _walk(arguments.get(branch))


def steps(definition: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    """Every step, the ones inside condition branches included (a branch runs at most once per
    execution, so counting both branches of a condition is an upper bound)."""
    return _walk(definition.get("Steps"))


def step_arguments(step: Mapping[str, Any]) -> Mapping[str, Any]:
    arguments = step.get("Arguments")
    return arguments if isinstance(arguments, Mapping) else {}


def dig(value: Any, path: tuple[str, ...]) -> Any:
    """The value at ``path`` of nested mappings, None where a level is missing or not a mapping."""
    for key in path:
        value = value.get(key) if isinstance(value, Mapping) else None
    return value


def step_resources(step: Mapping[str, Any]) -> Mapping[str, Any]:
    """A job step's compute configuration (empty for other steps or when absent)."""
    path = JOB_STEP_RESOURCES.get(step.get("Type"))
    resources = dig(step_arguments(step), path) if path else None
    return resources if isinstance(resources, Mapping) else {}


def literal_int(value: Any) -> int | None:
    """A whole number written into the definition; None for a pipeline expression (``{"Get": ...}``) or nothing."""
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None
