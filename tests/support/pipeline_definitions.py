"""Checks and inputs for the SageMaker pipeline definition tests.

- :func:`load_case` builds :class:`PipelineDefinitionArgs` from tests/fixtures/pipelines/cases.json,
  the same inputs tools/pipeline-goldens/generate.py feeds the SageMaker SDK.
- :func:`sdk_normalised` is the one normalisation applied to the SDK's golden output.
- :func:`request_shape_errors` checks each step's Arguments against botocore's request shape of the
  API the step calls (CreateProcessingJob, CreateTrainingJob, CreateModelPackage): unknown or
  missing fields, wrong types, enum values and patterns. Expressions (Get, Std:Join, Std:JsonGet)
  stand where the service resolves them at run time, so they are checked as expressions and a
  value of the shape's type takes their place for the rest of the check.
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

import botocore.session
from botocore.validate import ParamValidator

from components.training import (
    Encryption,
    MetricGate,
    ModelRegistration,
    NetworkSettings,
    PipelineDefinitionArgs,
    ProcessingJob,
    SpotTraining,
    TrainingJob,
)
from tests.support.stacks import ROOT

FIXTURES = ROOT / "tests" / "fixtures" / "pipelines"
CASES_FILE = FIXTURES / "cases.json"
SCHEMA_FILE = FIXTURES / "definition.schema.json"
EXPRESSION_KEYS = frozenset({"Get", "Std:Join", "Std:JsonGet"})
# The API each job step calls and the request field the pipeline fills in at execution time.
STEP_OPERATIONS = {
    "Processing": ("CreateProcessingJob", {"ProcessingJobName": "placeholder-job"}),
    "Training": ("CreateTrainingJob", {"TrainingJobName": "placeholder-job"}),
    "RegisterModel": ("CreateModelPackage", {}),
}


def cases() -> dict[str, dict]:
    return json.loads(CASES_FILE.read_text())


def golden(name: str) -> dict:
    return json.loads((FIXTURES / f"{name}.json").read_text())


def _tuples(values: dict) -> dict:
    return {key: tuple(value) if isinstance(value, list) else value for key, value in values.items()}


def load_case(case: dict) -> PipelineDefinitionArgs:
    training = dict(case["training"])
    training["spot"] = SpotTraining(**training["spot"]) if training["spot"] else None
    return PipelineDefinitionArgs(
        pipeline_name=case["pipeline_name"],
        role_arn=case["role_arn"],
        input_data_s3_uri=case["input_data_s3_uri"],
        run_s3_prefix=case["run_s3_prefix"],
        encryption=Encryption(**case["encryption"]),
        preparation=ProcessingJob(**_tuples(case["preparation"])),
        training=TrainingJob(**training),
        evaluation=ProcessingJob(**_tuples(case["evaluation"])),
        gate=MetricGate(**case["gate"]),
        registration=ModelRegistration(**_tuples(case["registration"])),
        network=NetworkSettings(**_tuples(case["network"])) if case["network"] else None,
    )


def sdk_normalised(definition: Any, path: str = "") -> tuple[Any, list[str]]:
    """The SDK's definition without its empty placeholders, and the paths it dropped.

    SageMaker Python SDK v2 writes ``"Metadata": {}``, ``"PipelineExperimentConfig": null`` (with
    ``pipeline_experiment_config=None``) and ``"Bias": {}`` / ``"Explainability": {}`` in
    ``ModelMetrics`` for reports nobody configured. A null or an empty object says nothing the
    absent key does not, so they are dropped; everything else (key order aside: these are dicts)
    must match the builder exactly. The test pins the dropped paths, so the normalisation cannot
    grow silently.
    """
    dropped: list[str] = []
    if isinstance(definition, dict):
        kept = {}
        for key, value in definition.items():
            where = f"{path}.{key}" if path else key
            if value is None or value == {}:
                dropped.append(where)
                continue
            kept[key], inner = sdk_normalised(value, where)
            dropped += inner
        return kept, dropped
    if isinstance(definition, list):
        items = []
        for index, value in enumerate(definition):
            item, inner = sdk_normalised(value, f"{path}[{index}]")
            items.append(item)
            dropped += inner
        return items, dropped
    return definition, dropped


@cache
def _sagemaker_model():
    return botocore.session.get_session().get_service_model("sagemaker")


def _placeholder(shape) -> Any:
    return {"string": "s3://placeholder/expression", "integer": 1, "long": 1, "float": 1.0, "double": 1.0, "boolean": True}[shape.type_name]


def _resolve(value: Any, shape, where: str, errors: list[str]) -> Any:
    """``value`` with expressions replaced by placeholders; enum and pattern findings go to ``errors``."""
    if isinstance(value, dict) and len(value) == 1 and set(value) <= EXPRESSION_KEYS and shape.type_name != "structure":
        return _placeholder(shape)
    if shape.type_name == "structure" and isinstance(value, dict):
        return {k: _resolve(v, shape.members[k], f"{where}.{k}", errors) if k in shape.members else v for k, v in value.items()}
    if shape.type_name == "list" and isinstance(value, list):
        return [_resolve(v, shape.member, f"{where}[{i}]", errors) for i, v in enumerate(value)]
    if shape.type_name == "map" and isinstance(value, dict):
        return {k: _resolve(v, shape.value, f"{where}.{k}", errors) for k, v in value.items()}
    if shape.type_name == "string" and isinstance(value, str):
        if shape.enum and value not in shape.enum:
            errors.append(f"{where}: {value!r} is not in botocore's {shape.name} enum")
        pattern = shape.metadata.get("pattern")
        if pattern and re.fullmatch(pattern, value) is None:
            errors.append(f"{where}: {value!r} does not match botocore's {shape.name} pattern {pattern!r}")
    return value


def _steps(definition: dict):
    for step in definition["Steps"]:
        yield step
        if step["Type"] == "Condition":
            yield from step["Arguments"].get("IfSteps", [])
            yield from step["Arguments"].get("ElseSteps", [])


def request_shape_errors(definition: dict) -> list[str]:
    errors: list[str] = []
    for step in _steps(definition):
        if step["Type"] not in STEP_OPERATIONS:
            continue
        operation, filled_at_run_time = STEP_OPERATIONS[step["Type"]]
        shape = _sagemaker_model().operation_model(operation).input_shape
        where = f"Steps[{step['Name']}].Arguments"
        request = _resolve({**step["Arguments"], **filled_at_run_time}, shape, where, errors)
        report = ParamValidator().validate(request, shape)
        if report.has_errors():
            errors.append(f"{where} ({operation}): {report.generate_report()}")
    return errors


def schema() -> dict:
    return json.loads(SCHEMA_FILE.read_text())


def fixture_path(name: str) -> Path:
    return FIXTURES / f"{name}.json"
