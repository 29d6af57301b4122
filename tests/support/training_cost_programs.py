"""Synthetic programs of continuous training for the cost-model tests: a pipeline whose definition
comes from the project's builder (components/training/pipeline_definition.py), an MLflow tracking
server, and a copy of the price table with test-only rows (not AWS figures) for the arithmetic."""

from __future__ import annotations

import copy
import datetime as dt
import json

from components.training.pipeline_definition import (
    Encryption,
    MetricGate,
    ModelRegistration,
    PipelineDefinitionArgs,
    ProcessingJob,
    SpotTraining,
    TrainingJob,
    build_pipeline_definition,
)
from mlopsctl.offline.cost_report import stack_resources
from policies.awsfacts import EXPECTED_TRAINING_RUNS_TAG
from policies.pricing import PriceTable, default_table, price_resources
from tests.support.programs import run_component

PRICED_ON = dt.date(2026, 11, 22)
ACCOUNT = "111122223333"
KEY = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
IMAGE = f"{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/mlops-training:1"

# Test-only unit prices (not AWS figures): round numbers so the hand arithmetic below is checkable.
TEST_PRICES = {
    "sagemaker.processing.ml.m5.xlarge": 0.25,
    "sagemaker.training.ml.g5.2xlarge": 2.0,
    "sagemaker.mlflow.trackingServer.Small": 0.5,
    "sagemaker.mlflow.trackingServer.Medium": 1.0,
}


def table_with_test_prices() -> PriceTable:
    data = copy.deepcopy(default_table().data)
    data["sources"]["test-only"] = "unit-test prices, not AWS figures"
    for key, usd in TEST_PRICES.items():
        data["regions"]["us-east-1"][key] = {"usd": usd, "per": "hour", "source": "test-only"}
    return PriceTable(data)


def training_definition(*, spot: bool = False, training_type: str = "ml.g5.2xlarge", runtime: int = 7200) -> dict:
    bucket = "s3://mlops-dev-artifacts"
    processing = ProcessingJob(image_uri=IMAGE, entrypoint=("python3", "/opt/program/run.py"), instance_type="ml.m5.xlarge", max_runtime_seconds=1800)
    training = TrainingJob(
        image_uri=IMAGE, instance_type=training_type, output_s3_uri=f"{bucket}/models/churn", max_runtime_seconds=runtime, instance_count=2,
        spot=SpotTraining(checkpoint_s3_uri=f"{bucket}/checkpoints/churn", max_wait_seconds=runtime * 2) if spot else None,
    )
    args = PipelineDefinitionArgs(
        pipeline_name="mlops-dev-churn", role_arn=f"arn:aws:iam::{ACCOUNT}:role/mlops-dev-churn-pipeline",
        input_data_s3_uri=f"{bucket}/datasets/churn", run_s3_prefix=f"{bucket}/pipelines/churn",
        encryption=Encryption(volume_kms_key_id=KEY, output_kms_key_id=KEY),
        preparation=processing, training=training, evaluation=processing,
        gate=MetricGate(json_path="metrics.auc.value", comparison=">=", threshold=0.8),
        registration=ModelRegistration(model_package_group_name="mlops-dev-churn", serving_image_uri=IMAGE),
    )
    return build_pipeline_definition(args)


# Hand-computed from training_definition and TEST_PRICES, per run: PrepareData and Evaluate each 1 x 0.5 h
# x $0.25; Train 2 instances x 2 h x $2.00.
PREPARE_PER_RUN = 1 * 0.5 * 0.25
TRAIN_PER_RUN = 2 * 2 * 2.0


def price_program(program, table: PriceTable | None = None):
    return price_resources(stack_resources(run_component(program).resources), table=table or table_with_test_prices(), on_date=PRICED_ON)


def pipeline_program(definition=None, *, runs: str | None = "10", **definition_options):
    import pulumi
    import pulumi_aws as aws

    def program():
        opts = pulumi.ResourceOptions(provider=aws.Provider("aws", region="us-east-1"))
        aws.sagemaker.Pipeline(
            "churn", pipeline_name="mlops-dev-churn", pipeline_display_name="mlops-dev-churn", role_arn=f"arn:aws:iam::{ACCOUNT}:role/p",
            pipeline_definition=json.dumps(definition if definition is not None else training_definition(**definition_options)),
            tags={EXPECTED_TRAINING_RUNS_TAG: runs} if runs is not None else None, opts=opts,
        )

    return program


def tracking_server_program(size: str | None):
    import pulumi
    import pulumi_aws as aws

    def program():
        opts = pulumi.ResourceOptions(provider=aws.Provider("aws", region="us-east-1"))
        aws.sagemaker.MlflowTrackingServer("mlflow", tracking_server_name="mlops-dev", role_arn=f"arn:aws:iam::{ACCOUNT}:role/m",
                                           artifact_store_uri="s3://mlops-dev-artifacts/experiments", tracking_server_size=size, opts=opts)

    return program
