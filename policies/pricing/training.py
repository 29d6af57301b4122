"""Price rules of continuous training: SageMaker pipelines' job compute and managed MLflow.

A pipeline costs nothing while no execution runs (idle). How often it runs is in no input of the
resource, so the program writes the planned runs a month in the pipeline's
:data:`EXPECTED_TRAINING_RUNS_TAG` (scheduled plus drift-triggered runs); each processing and
training step then costs, per run, its instance count x its ``MaxRuntimeInSeconds`` in hours x the
instance-hour price. Expected and ceiling both use the maximum runtime: the stopping condition is
the only bound the definition states, and a forecast of shorter runs would be a guess. A pipeline
without the tag is usage the model cannot guess: named, not priced.

Managed spot training is priced at the on-demand rate (an upper bound, like SPOT node groups): the
saving is listed separately under ``excluded``, without a figure, because the price table carries
no sourced spot rate for SageMaker training.

The MLflow tracking server bills per hour by ``trackingServerSize`` while it exists, in every
scenario.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .facts import EXPECTED_TRAINING_RUNS_TAG, pipeline_definition
from .inputs import StackResource, component_of, is_unknown, tag_count
from .ledger import Ledger
from .report import LineItem

# The price key prefix of each priced step type (its compute: ``pipeline_definition.step_resources``).
STEP_PRICE_PREFIX: dict[str, str] = {
    pipeline_definition.PROCESSING_STEP: "sagemaker.processing",
    pipeline_definition.TRAINING_STEP: "sagemaker.training",
}

# CreateMlflowTrackingServer's default when TrackingServerSize is unset (SageMaker API reference).
DEFAULT_TRACKING_SERVER_SIZE = "Small"


def expected_training_runs(pipeline: StackResource) -> int | None:
    return tag_count(pipeline, EXPECTED_TRAINING_RUNS_TAG)


def _definition(ledger: Ledger, r: StackResource) -> Mapping[str, Any] | None:
    body = r.inputs.get(pipeline_definition.PIPELINE_DEFINITION_INPUT)
    if body is None:
        in_s3 = r.inputs.get(pipeline_definition.PIPELINE_DEFINITION_S3_INPUT)
        reason = f"the definition is in S3 ({pipeline_definition.PIPELINE_DEFINITION_S3_INPUT}), which pricing cannot read" if in_s3 else "no pipelineDefinition"
        ledger.unknown(r, "SageMaker pipeline job compute", reason, scenarios=("expected", "ceiling"))
        return None
    if is_unknown(body):
        ledger.unknown(r, "SageMaker pipeline job compute", "pipelineDefinition unknown at preview time", scenarios=("expected", "ceiling"))
        return None
    definition = pipeline_definition.parse_definition(body)
    if definition is None:
        ledger.unknown(r, "SageMaker pipeline job compute", "pipelineDefinition is not a JSON object", scenarios=("expected", "ceiling"))
        return None
    return definition


def sagemaker_pipeline(ledger: Ledger, r: StackResource) -> None:
    runs = expected_training_runs(r)
    if runs is None:
        ledger.exclude(r, "SageMaker pipeline job compute",
                       f"processing and training instance time per execution; set the pipeline's {EXPECTED_TRAINING_RUNS_TAG} tag to price a number of runs")
        return
    definition = _definition(ledger, r)
    if definition is None:
        return
    for step in pipeline_definition.steps(definition):
        _step(ledger, r, step, runs)
    ledger.exclude(r, "SageMaker pipeline storage and traffic", "ML storage volumes (VolumeSizeInGB per instance-hour), S3 data and KMS requests of the jobs: volume-dependent")


def _step(ledger: Ledger, r: StackResource, step: Mapping[str, Any], runs: int) -> None:
    kind, name = step.get("Type"), step.get("Name", "?")
    if kind in pipeline_definition.STEPS_WITHOUT_COMPUTE:
        return
    if kind not in STEP_PRICE_PREFIX:
        ledger.unknown(r, f"pipeline step {name} ({kind})", f"no price model for {kind} steps; the job it starts bills", scenarios=("expected", "ceiling"))
        return
    prefix = STEP_PRICE_PREFIX[kind]
    arguments = pipeline_definition.step_arguments(step)
    resources = pipeline_definition.step_resources(step)
    instance_type = resources.get("InstanceType")
    count = pipeline_definition.literal_int(resources.get("InstanceCount"))
    runtime = pipeline_definition.literal_int(pipeline_definition.dig(arguments, ("StoppingCondition", "MaxRuntimeInSeconds")))
    label = f"pipeline step {name} ({kind}, {instance_type} x {count})"
    if not isinstance(instance_type, str) or count is None:
        ledger.unknown(r, label, "instance type or count is not a literal in the definition", scenarios=("expected", "ceiling"))
        return
    if runtime is None:
        ledger.unknown(r, label, "no literal StoppingCondition.MaxRuntimeInSeconds: the step's runtime has no stated bound", scenarios=("expected", "ceiling"))
        return
    key = f"{prefix}.{instance_type}"
    planned = float(runs)
    price = ledger.price_or_unknown(r, key, label, scenarios=("expected", "ceiling")) if planned else ledger.price(r, key)
    spot = kind == pipeline_definition.TRAINING_STEP and arguments.get("EnableManagedSpotTraining") is True
    note = f"{runs:,} runs a month ({EXPECTED_TRAINING_RUNS_TAG}) x {count} instance(s) x {runtime / 3600:g} h maximum runtime; none while no execution runs"
    if spot:
        note += "; managed spot training priced at the on-demand rate (an upper bound; the saving is listed under excluded)"
        ledger.exclude(r, f"managed spot saving of pipeline step {name}",
                       "spot training bills the spot rate actually paid, below the on-demand rate priced here; no sourced SageMaker spot rate, so no saving is subtracted")
    per_run_hours = count * runtime / 3600
    ledger.line_items.append(
        LineItem(
            urn=r.urn, type=r.type, component=component_of(r.urn), item=label, unit="instance-hour", hours=None,
            quantities={"idle": 0.0, "expected": planned * per_run_hours, "ceiling": planned * per_run_hours},
            unit_prices={s: price.usd if price else None for s in ("idle", "expected", "ceiling")},
            source=price.cite() if price else "no price in table", note=note,
        )
    )


def mlflow_tracking_server(ledger: Ledger, r: StackResource) -> None:
    size = r.inputs.get("trackingServerSize")
    if is_unknown(size):
        ledger.unknown(r, "MLflow tracking server", "trackingServerSize unknown at preview time")
        return
    size = DEFAULT_TRACKING_SERVER_SIZE if size is None else size
    label = f"SageMaker MLflow tracking server ({size})"
    price = ledger.price_or_unknown(r, f"sagemaker.mlflow.trackingServer.{size}", label)
    if price is not None:
        ledger.flat(r, label, price, 1, hourly=True, unit="server-hour", note="billed while the server exists, whether or not anyone logs to it")
    ledger.exclude(r, "MLflow metadata storage and artifacts", "the tracking server's metadata storage and the artifact store's S3 objects: volume-dependent")


def mlflow_app(ledger: Ledger, r: StackResource) -> None:
    # No sourced statement of how the serverless app bills (a base charge, per request, or free)
    # was found for the price table; an unknown keeps every budget verdict honest until one is.
    ledger.unknown(r, "SageMaker serverless MLflow app", "no sourced billing model for the serverless MLflow app in the price table")
