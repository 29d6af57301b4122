"""The SageMaker pipeline definition builder against the official SDK's goldens, a schema and botocore.

Goldens: tools/pipeline-goldens/generate.py builds the same pipelines from
tests/fixtures/pipelines/cases.json with SageMaker Python SDK v2 (offline) and writes
tests/fixtures/pipelines/<case>.json; regenerate as its README says.
"""

from __future__ import annotations

import dataclasses
import json

import jsonschema
import pytest

from components.training import (
    Encryption,
    MetricGate,
    NetworkSettings,
    PipelineDefinitionError,
    SpotTraining,
    build_pipeline_definition,
)
from components.training import pipeline_definition as builder
from tests.support.pipeline_definitions import (
    cases,
    golden,
    load_case,
    request_shape_errors,
    schema,
    sdk_normalised,
)

CASES = sorted(cases())
# Exactly the SDK placeholders sdk_normalised drops (see its docstring); nothing else may differ.
SDK_PLACEHOLDERS = {
    "Metadata",
    "PipelineExperimentConfig",
    "Steps[3].Arguments.IfSteps[0].Arguments.ModelMetrics.Bias",
    "Steps[3].Arguments.IfSteps[0].Arguments.ModelMetrics.Explainability",
}


def built(name: str) -> dict:
    return build_pipeline_definition(load_case(cases()[name]))


def job_steps(definition: dict) -> list[dict]:
    steps = [s for s in definition["Steps"] if s["Type"] in ("Processing", "Training")]
    assert [s["Name"] for s in steps] == [builder.PREPARE_STEP, builder.TRAIN_STEP, builder.EVALUATE_STEP]
    return steps


@pytest.mark.parametrize("name", CASES)
def test_builder_equals_the_sdk_golden_after_dropping_its_empty_placeholders(name):
    expected, dropped = sdk_normalised(golden(name))
    assert set(dropped) == SDK_PLACEHOLDERS
    assert built(name) == expected


@pytest.mark.parametrize("name", CASES)
def test_builder_output_is_plain_json(name):
    definition = built(name)
    assert json.loads(json.dumps(definition)) == definition


@pytest.mark.parametrize("source", ["builder", "sdk"])
@pytest.mark.parametrize("name", CASES)
def test_definitions_validate_against_the_schema_and_botocore_request_shapes(name, source):
    definition = built(name) if source == "builder" else golden(name)
    validator = jsonschema.Draft202012Validator(schema())
    assert [e.message for e in validator.iter_errors(definition)] == []
    assert request_shape_errors(definition) == []


def test_the_schema_is_valid_and_rejects_what_the_service_would():
    jsonschema.Draft202012Validator.check_schema(schema())
    validator = jsonschema.Draft202012Validator(schema())
    definition = built("churn-dev")
    definition["Steps"][1]["PropertyFiles"] = []  # only processing steps have property files
    definition["Steps"][3]["Arguments"]["Conditions"][0]["Type"] = "AtLeast"
    definition["Version"] = "2021-01-01"
    messages = [e.message for e in validator.iter_errors(definition)]
    assert len(messages) == 3, messages


def test_request_shape_check_finds_unknown_fields_bad_enums_and_patterns():
    definition = built("churn-isolated")
    definition["Steps"][0]["Arguments"]["ProcessingJobNamePrefix"] = "x"
    definition["Steps"][1]["Arguments"]["ResourceConfig"]["InstanceType"] = "ml.nope.large"
    definition["Steps"][2]["Arguments"]["ProcessingOutputConfig"]["KmsKeyId"] = "not a key!"
    definition["Steps"][3]["Arguments"]["IfSteps"][0]["Arguments"]["ModelApprovalStatus"] = "Approve"
    errors = request_shape_errors(definition)
    assert len(errors) == 4, errors
    assert any("ProcessingJobNamePrefix" in e for e in errors)
    assert any("TrainingInstanceType enum" in e for e in errors)
    assert any("KmsKeyId pattern" in e for e in errors)
    assert any("ModelApprovalStatus enum" in e for e in errors)


def test_every_job_step_encrypts_volumes_and_outputs_with_the_named_keys():
    case = cases()["churn-isolated"]  # distinct volume and output keys, so a swap shows
    volume_key, output_key = case["encryption"]["volume_kms_key_id"], case["encryption"]["output_kms_key_id"]
    assert volume_key != output_key
    prepare, train, evaluate = job_steps(built("churn-isolated"))
    for step in (prepare, evaluate):
        assert step["Arguments"]["ProcessingResources"]["ClusterConfig"]["VolumeKmsKeyId"] == volume_key
        assert step["Arguments"]["ProcessingOutputConfig"]["KmsKeyId"] == output_key
    assert train["Arguments"]["OutputDataConfig"]["KmsKeyId"] == output_key
    # ml.g5 trains on local NVMe storage, for which SageMaker refuses a volume key; the dev case's
    # ml.m5 has an EBS volume, encrypted with the key.
    assert case["training"]["instance_type"].startswith("ml.g5.")
    assert "VolumeKmsKeyId" not in train["Arguments"]["ResourceConfig"]
    dev = cases()["churn-dev"]
    assert job_steps(built("churn-dev"))[1]["Arguments"]["ResourceConfig"]["VolumeKmsKeyId"] == dev["encryption"]["volume_kms_key_id"]


def test_in_a_vpc_every_job_step_is_network_isolated_and_outside_none_is():
    network = cases()["churn-isolated"]["network"]
    prepare, train, evaluate = job_steps(built("churn-isolated"))
    for step in (prepare, evaluate):
        config = step["Arguments"]["NetworkConfig"]
        assert config["EnableNetworkIsolation"] is True
        assert config["VpcConfig"] == {"SecurityGroupIds": network["security_group_ids"], "Subnets": network["subnet_ids"]}
    assert train["Arguments"]["EnableNetworkIsolation"] is True
    assert train["Arguments"]["VpcConfig"]["Subnets"] == network["subnet_ids"]
    for step in job_steps(built("churn-dev")):
        assert not {"NetworkConfig", "VpcConfig", "EnableNetworkIsolation"} & set(step["Arguments"])


def test_spot_training_sets_checkpoints_and_the_wait_and_on_demand_sets_neither():
    spot = cases()["churn-dev"]["training"]["spot"]
    train = job_steps(built("churn-dev"))[1]["Arguments"]
    assert train["EnableManagedSpotTraining"] is True
    assert train["CheckpointConfig"] == {"S3Uri": spot["checkpoint_s3_uri"]}
    assert train["StoppingCondition"]["MaxWaitTimeInSeconds"] == spot["max_wait_seconds"]
    on_demand = job_steps(built("churn-isolated"))[1]["Arguments"]
    assert not {"EnableManagedSpotTraining", "CheckpointConfig"} & set(on_demand)
    assert set(on_demand["StoppingCondition"]) == {"MaxRuntimeInSeconds"}


@pytest.mark.parametrize(("name", "condition"), [("churn-dev", "GreaterThanOrEqualTo"), ("churn-isolated", "LessThanOrEqualTo")])
def test_the_gate_compares_the_report_metric_and_registers_pending_approval(name, condition):
    case = cases()[name]
    check = built(name)["Steps"][3]
    (gate,) = check["Arguments"]["Conditions"]
    assert gate["Type"] == condition
    assert gate["LeftValue"]["Std:JsonGet"]["Path"] == case["gate"]["json_path"]
    assert gate["RightValue"] == {"Get": f"Parameters.{builder.THRESHOLD_PARAMETER}"}
    (register,) = check["Arguments"]["IfSteps"]
    assert check["Arguments"]["ElseSteps"] == []
    assert register["Arguments"]["ModelApprovalStatus"] == "PendingManualApproval"
    assert register["Arguments"]["ModelPackageGroupName"] == case["registration"]["model_package_group_name"]
    report_uri = register["Arguments"]["ModelMetrics"]["ModelQuality"]["Statistics"]["S3Uri"]["Std:Join"]["Values"]
    assert report_uri == [{"Get": "Steps.Evaluate.ProcessingOutputConfig.Outputs['evaluation'].S3Output.S3Uri"}, "evaluation.json"]


# Bad inputs -------------------------------------------------------------------------------------


def replaced(name: str, **changes) -> None:
    """Rebuild the case's args with ``changes`` (nested: ``training__instance_type``)."""
    args = load_case(cases()[name])
    top: dict = {}
    nested: dict[str, dict] = {}
    for key, value in changes.items():
        if "__" in key:
            part, field = key.split("__", 1)
            nested.setdefault(part, {})[field] = value
        else:
            top[key] = value
    for part, fields in nested.items():
        top[part] = dataclasses.replace(getattr(args, part), **fields)
    dataclasses.replace(args, **top)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"pipeline_name": "churn_pipeline"}, "pipeline_name is 'churn_pipeline'; allowed: botocore sagemaker PipelineName"),
        ({"role_arn": "mlops-dev-churn-pipeline"}, "role_arn is 'mlops-dev-churn-pipeline'; allowed: botocore sagemaker RoleArn"),
        ({"input_data_s3_uri": "/data/churn"}, "input_data_s3_uri is '/data/churn'; allowed: an s3://bucket/prefix URI"),
        ({"run_s3_prefix": "https://example.com/x"}, "run_s3_prefix is 'https://example.com/x'; allowed: an s3://"),
        ({"training__instance_type": "ml.m5.huge"}, "training.instance_type is 'ml.m5.huge'; allowed: botocore's sagemaker TrainingInstanceType enum"),
        ({"training__max_runtime_seconds": 0}, "training.max_runtime_seconds is 0; allowed: an integer from 1"),
        ({"training__instance_count": True}, "training.instance_count is True"),
        ({"training__spot": SpotTraining("s3://b/checkpoints/x", 60)}, "spot.max_wait_seconds is 60; allowed: at least training.max_runtime_seconds (7200)"),
        ({"preparation__instance_type": "ml.p5.48xlarge-typo"}, "preparation.instance_type is 'ml.p5.48xlarge-typo'; allowed: botocore's sagemaker ProcessingInstanceType enum"),
        ({"evaluation__max_runtime_seconds": 10**7}, "evaluation.max_runtime_seconds is 10000000; allowed: an integer from 1 to 777600"),
        ({"evaluation__entrypoint": ()}, "evaluation.entrypoint is (); allowed: a non-empty tuple"),
        ({"registration__inference_instance_types": ("ml.m5.large", "ml.m5.large")}, "registration.inference_instance_types repeats a value"),
        ({"registration__transform_instance_types": ("ml.t2.medium",)}, "registration.transform_instance_types has 'ml.t2.medium'; allowed: botocore's TransformInstanceType enum"),
        ({"registration__model_package_group_name": "churn group"}, "registration.model_package_group_name is 'churn group'"),
        ({"encryption": "arn:aws:kms:eu-west-1:111122223333:key/x"}, "encryption is a str; allowed: Encryption"),
        ({"network": ("subnet-1",)}, "network is a tuple; allowed: NetworkSettings or None"),
    ],
)
def test_bad_inputs_raise_one_clear_error_naming_the_field(changes, message):
    with pytest.raises(PipelineDefinitionError) as raised:
        replaced("churn-dev", **changes)
    assert str(raised.value).startswith("pipeline definition: ")
    assert message in str(raised.value)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: Encryption(volume_kms_key_id="", output_kms_key_id="alias/x"), "encryption.volume_kms_key_id is empty"),
        (lambda: Encryption(volume_kms_key_id="k", output_kms_key_id="key with spaces"), "encryption.output_kms_key_id is 'key with spaces'"),
        (lambda: NetworkSettings(subnet_ids=(), security_group_ids=("sg-1",)), "network.subnet_ids is (); allowed: a non-empty tuple"),
        (lambda: NetworkSettings(subnet_ids="subnet-1", security_group_ids=("sg-1",)), "network.subnet_ids is 'subnet-1'"),
        (lambda: SpotTraining(checkpoint_s3_uri="checkpoints/", max_wait_seconds=3600), "spot.checkpoint_s3_uri is 'checkpoints/'"),
        (lambda: MetricGate(json_path="metrics.auc.value", comparison=">", threshold=0.8), "gate.comparison is '>'; allowed: >=, <="),
        (lambda: MetricGate(json_path="", comparison=">=", threshold=0.8), "gate.json_path is ''"),
        (lambda: MetricGate(json_path="metrics.auc", comparison=">=", threshold=float("nan")), "gate.threshold is nan; allowed: a finite number"),
        (lambda: MetricGate(json_path="metrics.auc", comparison=">=", threshold="0.8"), "gate.threshold is '0.8'"),
        (lambda: build_pipeline_definition({"pipeline_name": "x"}), "args is a dict; allowed: PipelineDefinitionArgs"),
    ],
)
def test_bad_parts_raise_one_clear_error_naming_the_field(make, message):
    with pytest.raises(PipelineDefinitionError) as raised:
        make()
    assert message in str(raised.value)
