"""Write golden SageMaker pipeline definitions with the official SageMaker Python SDK (v2).

Runs only in the isolated environment of tools/pipeline-goldens/requirements.txt, never in the
project's .venv (see README.md). No AWS call is made: the session has a region and a default
bucket, and with a PipelineSession the SDK's step classes only describe jobs; the dummy
credentials are never sent because nothing is. Run it with the network off to prove that.

The inputs are tests/fixtures/pipelines/cases.json, the same file tests/unit/test_pipeline_definition.py
builds the project's definitions from; each case becomes tests/fixtures/pipelines/<case>.json.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import boto3
from sagemaker.estimator import Estimator
from sagemaker.inputs import TrainingInput
from sagemaker.model_metrics import MetricsSource, ModelMetrics
from sagemaker.network import NetworkConfig
from sagemaker.processing import ProcessingInput, ProcessingOutput, Processor
from sagemaker.workflow.condition_step import ConditionStep
from sagemaker.workflow.conditions import ConditionGreaterThanOrEqualTo, ConditionLessThanOrEqualTo
from sagemaker.workflow.execution_variables import ExecutionVariables
from sagemaker.workflow.functions import Join, JsonGet
from sagemaker.workflow.parameters import ParameterFloat, ParameterString
from sagemaker.workflow.pipeline import Pipeline
from sagemaker.workflow.pipeline_context import PipelineSession
from sagemaker.workflow.properties import PropertyFile
from sagemaker.workflow.step_collections import RegisterModel
from sagemaker.workflow.steps import ProcessingStep, TrainingStep

# The facts file's reader is stdlib-only, so this environment can use the project's one copy of
# which instance families have local NVMe storage (SageMaker refuses a volume key for them).
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "policies"))
from awsfacts.instances import has_instance_storage  # noqa: E402

FIXTURES = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "pipelines"
CASES_FILE = FIXTURES / "cases.json"
REGION = "eu-west-1"
PROCESSING_ROOT = "/opt/ml/processing"
COMPARISONS = {">=": ConditionGreaterThanOrEqualTo, "<=": ConditionLessThanOrEqualTo}


def session(bucket: str) -> PipelineSession:
    # Region and bucket given so the SDK never asks STS or S3 for them; the dummy keys are never
    # sent (a PipelineSession records requests instead of making them). An explicit SDK config
    # keeps the user's own config files out and opts out of the SDK's telemetry, which would
    # otherwise try an HTTPS request per step.
    boto_session = boto3.Session(region_name=REGION, aws_access_key_id="unused", aws_secret_access_key="unused")
    sdk_config = {"SchemaVersion": "1.0", "SageMaker": {"PythonSDK": {"Modules": {"TelemetryOptOut": True}}}}
    return PipelineSession(boto_session=boto_session, default_bucket=bucket, sagemaker_config=sdk_config)


def pipeline(case: dict) -> Pipeline:
    sess = session(case["input_data_s3_uri"].removeprefix("s3://").split("/")[0])
    keys, network_case = case["encryption"], case["network"]
    input_data = ParameterString(name="InputDataUri", default_value=case["input_data_s3_uri"])
    threshold = ParameterFloat(name="MetricThreshold", default_value=case["gate"]["threshold"])

    def run_uri(leaf: str) -> Join:
        return Join(on="/", values=[case["run_s3_prefix"].rstrip("/"), ExecutionVariables.PIPELINE_EXECUTION_ID, leaf])

    network = None
    if network_case:
        network = NetworkConfig(
            enable_network_isolation=network_case["enable_network_isolation"],
            security_group_ids=network_case["security_group_ids"],
            subnets=network_case["subnet_ids"],
            encrypt_inter_container_traffic=network_case["encrypt_inter_container_traffic"],
        )

    def processor(job: dict) -> Processor:
        return Processor(
            role=case["role_arn"],
            image_uri=job["image_uri"],
            instance_count=job["instance_count"],
            instance_type=job["instance_type"],
            entrypoint=job["entrypoint"],
            volume_size_in_gb=job["volume_size_gb"],
            volume_kms_key=None if has_instance_storage(job["instance_type"]) else keys["volume_kms_key_id"],
            output_kms_key=keys["output_kms_key_id"],
            max_runtime_in_seconds=job["max_runtime_seconds"],
            network_config=network,
            sagemaker_session=sess,
        )

    def output(name: str) -> ProcessingOutput:
        return ProcessingOutput(output_name=name, source=f"{PROCESSING_ROOT}/{name}", destination=run_uri(name))

    prepare = ProcessingStep(
        name="PrepareData",
        step_args=processor(case["preparation"]).run(
            inputs=[ProcessingInput(source=input_data, destination=f"{PROCESSING_ROOT}/input", input_name="raw")],
            outputs=[output("train"), output("validation"), output("test")],
        ),
    )

    def prepared(name: str):
        return prepare.properties.ProcessingOutputConfig.Outputs[name].S3Output.S3Uri

    training, spot = case["training"], case["training"]["spot"]
    estimator = Estimator(
        image_uri=training["image_uri"],
        role=case["role_arn"],
        instance_count=training["instance_count"],
        instance_type=training["instance_type"],
        volume_size=training["volume_size_gb"],
        volume_kms_key=None if has_instance_storage(training["instance_type"]) else keys["volume_kms_key_id"],
        output_kms_key=keys["output_kms_key_id"],
        output_path=training["output_s3_uri"],
        max_run=training["max_runtime_seconds"],
        use_spot_instances=spot is not None,
        max_wait=spot["max_wait_seconds"] if spot else None,
        checkpoint_s3_uri=spot["checkpoint_s3_uri"] if spot else None,
        subnets=network_case["subnet_ids"] if network_case else None,
        security_group_ids=network_case["security_group_ids"] if network_case else None,
        enable_network_isolation=bool(network_case and network_case["enable_network_isolation"]),
        encrypt_inter_container_traffic=bool(network_case and network_case["encrypt_inter_container_traffic"]),
        # The SDK's own extras (Debugger hooks, profiler) are not part of the project's pipeline.
        debugger_hook_config=False,
        disable_profiler=True,
        sagemaker_session=sess,
    )
    train = TrainingStep(
        name="Train",
        step_args=estimator.fit(
            inputs={channel: TrainingInput(s3_data=prepared(channel), content_type=training["content_type"]) for channel in ("train", "validation")}
        ),
    )

    report = PropertyFile(name="EvaluationReport", output_name="evaluation", path="evaluation.json")
    model_data = train.properties.ModelArtifacts.S3ModelArtifacts
    evaluate = ProcessingStep(
        name="Evaluate",
        step_args=processor(case["evaluation"]).run(
            inputs=[
                ProcessingInput(source=model_data, destination=f"{PROCESSING_ROOT}/model", input_name="model"),
                ProcessingInput(source=prepared("test"), destination=f"{PROCESSING_ROOT}/test", input_name="test"),
            ],
            outputs=[output("evaluation")],
        ),
        property_files=[report],
    )

    registration = case["registration"]
    report_uri = Join(on="/", values=[evaluate.properties.ProcessingOutputConfig.Outputs["evaluation"].S3Output.S3Uri, "evaluation.json"])
    register = RegisterModel(
        name="Register",
        estimator=estimator,
        model_data=model_data,
        image_uri=registration["serving_image_uri"],
        content_types=registration["content_types"],
        response_types=registration["response_types"],
        inference_instances=registration["inference_instance_types"],
        transform_instances=registration["transform_instance_types"],
        model_package_group_name=registration["model_package_group_name"],
        approval_status="PendingManualApproval",
        model_metrics=ModelMetrics(model_statistics=MetricsSource(s3_uri=report_uri, content_type="application/json")),
    )
    # The collection names its step "<name>-RegisterModel"; the project's step is "RegisterModel".
    (register_step,) = register.steps
    register_step.name = "RegisterModel"

    gate = case["gate"]
    metric = JsonGet(step_name=evaluate.name, property_file=report, json_path=gate["json_path"])
    check = ConditionStep(name="CheckMetric", conditions=[COMPARISONS[gate["comparison"]](left=metric, right=threshold)], if_steps=[register], else_steps=[])
    return Pipeline(
        name=case["pipeline_name"],
        parameters=[input_data, threshold],
        steps=[prepare, train, evaluate, check],
        pipeline_experiment_config=None,
        sagemaker_session=sess,
    )


def published_schema_report(schema_path: Path, definitions: dict[str, dict]) -> int:
    """Print where AWS's published definition schema rejects the SDK's own definitions.

    Informational (exit 0 when it ran): the published schema lags the service (see
    tests/fixtures/pipelines/published-schema.source.json), so its findings are recorded, not gated on.
    """
    import jsonschema

    schema = json.loads(schema_path.read_text())
    kinds = {"Processing": "ProcessingStep", "Training": "TrainingStep", "Condition": "ConditionStep", "RegisterModel": "RegisterModelStep"}
    for name, definition in definitions.items():
        steps = [*definition["Steps"], *(s for step in definition["Steps"] for s in step.get("Arguments", {}).get("IfSteps", []))]
        for step in steps:
            # Each step against its own definition, so a finding names its field, not a oneOf.
            validator = jsonschema.Draft7Validator({"definitions": schema["definitions"], "$ref": f"#/definitions/{kinds[step['Type']]}"})
            for error in validator.iter_errors(step):
                where = "/".join(str(p) for p in error.absolute_path)
                print(f"{name}: {step['Name']}: {where or '(step)'}: {error.message[:160]}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=Path, default=CASES_FILE, help="the cases' inputs (default: %(default)s)")
    parser.add_argument("--out", type=Path, default=FIXTURES, help="directory of the golden JSON files (default: %(default)s)")
    parser.add_argument(
        "--published-schema",
        type=Path,
        help="a local copy of AWS's published pipeline-definition schema: report where it rejects the goldens, write nothing",
    )
    args = parser.parse_args(argv)
    cases = json.loads(args.cases.read_text())
    if args.published_schema:
        return published_schema_report(args.published_schema, {name: json.loads(pipeline(case).definition()) for name, case in cases.items()})
    args.out.mkdir(parents=True, exist_ok=True)
    for name, case in cases.items():
        definition = json.loads(pipeline(case).definition())
        path = args.out / f"{name}.json"
        path.write_text(json.dumps(definition, indent=2, sort_keys=True) + "\n")
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
