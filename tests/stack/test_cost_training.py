"""Cost model of continuous training: pipeline job compute from the definition and the planned runs,
the MLflow tracking server by size, the serverless MLflow app; synthetic programs under the mock runtime.

The shipped price table has no SageMaker training, processing or MLflow rows (no sourced figure was
found; docs/cost.md), so the arithmetic is checked against a copy of the table with rows this test
adds (tests/support/training_cost_programs.py), marked test-only; the shipped table must leave the same items unknown, never zero.
"""

from __future__ import annotations

import pytest

from policies.awsfacts import EXPECTED_TRAINING_RUNS_TAG
from policies.pricing import SCENARIOS, StackResource, budget_verdict, cost_json, default_table, price_resources
from policies.pricing.inputs import UNKNOWN_SENTINELS
from tests.support.training_cost_programs import (
    ACCOUNT,
    PREPARE_PER_RUN,
    PRICED_ON,
    TRAIN_PER_RUN,
    pipeline_program,
    price_program,
    table_with_test_prices,
    tracking_server_program,
    training_definition,
)

STRING_UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"  # the wire format's unknown string
assert STRING_UNKNOWN in UNKNOWN_SENTINELS


def _monthly(report) -> dict[str, dict[str, float | None]]:
    return {i.item: {s: i.monthly(s) for s in SCENARIOS} for i in report.line_items}


def test_each_job_step_costs_runs_times_max_runtime_times_count_and_price():
    report = price_program(pipeline_program(runs="10"))
    assert report.unknown_items == []
    monthly = _monthly(report)
    assert set(monthly) == {
        "pipeline step PrepareData (Processing, ml.m5.xlarge x 1)",
        "pipeline step Train (Training, ml.g5.2xlarge x 2)",
        "pipeline step Evaluate (Processing, ml.m5.xlarge x 1)",  # inside no condition; RegisterModel has no compute
    }
    assert monthly["pipeline step Train (Training, ml.g5.2xlarge x 2)"] == {"idle": 0.0, "expected": pytest.approx(10 * TRAIN_PER_RUN), "ceiling": pytest.approx(10 * TRAIN_PER_RUN)}
    assert monthly["pipeline step PrepareData (Processing, ml.m5.xlarge x 1)"]["ceiling"] == pytest.approx(10 * PREPARE_PER_RUN)
    assert report.total("idle") == 0.0
    assert report.total("ceiling") == pytest.approx(10 * (TRAIN_PER_RUN + 2 * PREPARE_PER_RUN))  # 82.50


def test_a_step_inside_a_condition_branch_is_counted():
    definition = training_definition()
    evaluate = definition["Steps"].pop(2)
    condition = definition["Steps"][-1]
    condition["Arguments"]["ElseSteps"].append(evaluate)  # the same job, now only on one branch
    report = price_program(pipeline_program(definition, runs="4"))
    assert _monthly(report)["pipeline step Evaluate (Processing, ml.m5.xlarge x 1)"]["expected"] == pytest.approx(4 * PREPARE_PER_RUN)


def test_spot_training_is_priced_on_demand_and_the_saving_is_listed_without_a_figure():
    on_demand = price_program(pipeline_program(runs="10"))
    spot = price_program(pipeline_program(runs="10", spot=True))
    assert spot.total("ceiling") == pytest.approx(on_demand.total("ceiling"))
    train = next(i for i in spot.line_items if i.item.startswith("pipeline step Train"))
    assert "on-demand rate (an upper bound" in train.note
    saving = [e for e in spot.excluded if e.item == "managed spot saving of pipeline step Train"]
    assert len(saving) == 1 and "no saving is subtracted" in saving[0].reason
    assert not any(e.item.startswith("managed spot saving") for e in on_demand.excluded)


def test_an_instance_type_without_a_price_is_unknown_not_zero():
    report = price_program(pipeline_program(runs="10", training_type="ml.g5.xlarge"))  # no test row for it
    unknown = [u for u in report.unknown_items if u.item == "pipeline step Train (Training, ml.g5.xlarge x 2)"]
    assert len(unknown) == 1 and "sagemaker.training.ml.g5.xlarge" in unknown[0].reason
    assert unknown[0].scenarios == ("expected", "ceiling")
    assert report.total("idle") == 0.0  # no execution runs while idle, whatever it would cost
    assert report.total("expected") is None and report.total("ceiling") is None
    assert report.known_part("ceiling") == pytest.approx(10 * 2 * PREPARE_PER_RUN)


def test_the_shipped_table_leaves_training_compute_unknown():
    report = price_program(pipeline_program(runs="10"), table=default_table())
    assert {u.item for u in report.unknown_items} == {
        "pipeline step PrepareData (Processing, ml.m5.xlarge x 1)",
        "pipeline step Train (Training, ml.g5.2xlarge x 2)",
        "pipeline step Evaluate (Processing, ml.m5.xlarge x 1)",
    }
    assert report.total("ceiling") is None


def test_zero_planned_runs_cost_nothing_even_without_aprice_program():
    report = price_program(pipeline_program(runs="0"), table=default_table())
    assert report.unknown_items == []
    assert {s: report.total(s) for s in SCENARIOS} == {"idle": 0.0, "expected": 0.0, "ceiling": 0.0}


@pytest.mark.parametrize("runs", [None, "ten"], ids=["no-tag", "not-a-number"])
def test_a_pipeline_without_planned_runs_is_excluded_with_the_reason(runs):
    report = price_program(pipeline_program(runs=runs))
    assert report.line_items == [] and report.unknown_items == []
    excluded = [e for e in report.excluded if e.item == "SageMaker pipeline job compute"]
    assert len(excluded) == 1 and EXPECTED_TRAINING_RUNS_TAG in excluded[0].reason


@pytest.mark.parametrize(
    ("mutate", "reason"),
    [
        (lambda d: d["Steps"][1]["Arguments"]["StoppingCondition"].pop("MaxRuntimeInSeconds"), "MaxRuntimeInSeconds"),
        (lambda d: d["Steps"][1]["Arguments"]["ResourceConfig"].update(InstanceCount={"Get": "Parameters.Count"}), "not a literal"),
        (lambda d: d["Steps"].append({"Name": "BatchScore", "Type": "Transform", "Arguments": {}}), "no price model for Transform steps"),
    ],
    ids=["no-max-runtime", "count-from-a-parameter", "unpriced-step-type"],
)
def test_a_step_the_model_cannot_bound_is_unknown(mutate, reason):
    definition = training_definition()
    mutate(definition)
    report = price_program(pipeline_program(definition))
    assert any(reason in u.reason for u in report.unknown_items), report.unknown_items
    assert report.total("ceiling") is None


def test_a_definition_unknown_at_preview_is_unknown():
    # A definition built inside an apply (from ARNs) is the string sentinel at a first preview.
    pipeline = StackResource(urn="urn:pulumi:test::p::aws:sagemaker/pipeline:Pipeline::churn", type="aws:sagemaker/pipeline:Pipeline",
                             inputs={"pipelineDefinition": STRING_UNKNOWN, "tags": {EXPECTED_TRAINING_RUNS_TAG: "10"}}, region="us-east-1")
    report = price_resources([pipeline], table=table_with_test_prices(), on_date=PRICED_ON)
    assert [(u.reason, u.scenarios) for u in report.unknown_items] == [("pipelineDefinition unknown at preview time", ("expected", "ceiling"))]
    assert report.total("idle") == 0.0 and report.total("ceiling") is None


@pytest.mark.parametrize(("size", "hourly"), [("Medium", 1.0), (None, 0.5)], ids=["medium", "unset-is-small"])
def test_the_tracking_server_bills_every_hour_by_size(size, hourly):
    report = price_program(tracking_server_program(size))
    assert report.unknown_items == []
    assert {s: report.total(s) for s in SCENARIOS} == {s: pytest.approx(hourly * 730) for s in SCENARIOS}
    assert cost_json(report)["lineItems"][0]["unit"] == "server-hour"


def test_a_tracking_server_size_without_a_price_is_unknown():
    report = price_program(tracking_server_program("Large"))
    assert [u.item for u in report.unknown_items] == ["SageMaker MLflow tracking server (Large)"]
    assert all(report.total(s) is None for s in SCENARIOS)


def test_the_serverless_mlflow_app_is_unknown_until_its_billing_is_sourced():
    import pulumi
    import pulumi_aws as aws

    def program():
        opts = pulumi.ResourceOptions(provider=aws.Provider("aws", region="us-east-1"))
        aws.sagemaker.MlflowApp("app", name="mlops-dev", role_arn=f"arn:aws:iam::{ACCOUNT}:role/m", artifact_store_uri="s3://mlops-dev-artifacts/experiments", opts=opts)

    report = price_program(program)
    assert [u.item for u in report.unknown_items] == ["SageMaker serverless MLflow app"]
    assert report.total("ceiling") is None


def test_the_budget_verdict_counts_training_and_tracking():
    def program():
        pipeline_program(runs="10")()
        tracking_server_program("Small")()

    report = price_program(program)
    ceiling = 10 * (TRAIN_PER_RUN + 2 * PREPARE_PER_RUN) + 0.5 * 730  # 82.50 + 365.00
    assert report.total("ceiling") == pytest.approx(ceiling)
    assert budget_verdict(report, 447.0)["withinBudget"] is False
    assert budget_verdict(report, 448.0)["withinBudget"] is True
