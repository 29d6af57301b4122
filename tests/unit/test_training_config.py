"""Continuous-training config: serving.endpoints[].training and the training section. Defaults per
environment, limits from botocore, GPU families from the facts file, and one clear line per mistake."""

from __future__ import annotations

import re

import botocore.session
import pytest
import yaml

from components import facts
from components.config import MAX_TRAINING_RUNTIME_SECONDS, ExperimentsConfig, parse_platform_config, rate_minutes
from tests.support.stacks import ROOT, assert_one_line_config_error, stack_raw_config
from tests.support.training import CHURN_TRAINING


def _with_training(stack: str, training: dict | None = None, *, remove: tuple[str, ...] = (), serving: dict | None = None, top: dict | None = None) -> dict:
    raw = stack_raw_config(stack)
    family = {**CHURN_TRAINING, **(training or {})}
    for key in remove:
        family.pop(key)
    raw["serving"]["endpoints"][0]["training"] = family
    raw["serving"].update(serving or {})
    raw.update(top or {})
    return raw


def _parse(stack: str, raw: dict):
    return parse_platform_config(raw, "us-east-1", f"stacks/Pulumi.{stack}.yaml")


def _family(stack: str, training: dict | None = None, **kwargs):
    return _parse(stack, _with_training(stack, training, **kwargs)).serving.endpoints[0].training


# ---------------------------------------------------------------------------------------------
# Defaults per environment


@pytest.mark.parametrize(("stack", "spot", "schedules", "experiments"), [("dev", True, False, True), ("staging", False, True, True), ("prod", False, True, False)])
def test_environment_defaults(stack, spot, schedules, experiments):
    config = _parse(stack, stack_raw_config(stack))
    assert (config.training.spot_by_default, config.training.schedules_by_default, config.training.experiments.enabled) == (spot, schedules, experiments)
    assert config.training.experiments.kind == "serverless" and config.training.experiments.server_size is None


def test_staging_trains_on_demand_on_schedule_without_drift_retraining():
    family = _family("staging")
    assert (family.uses_spot, family.uses_checkpoints, family.schedule_enabled, family.retrains_on_drift) == (False, False, True, False)
    assert family.checkpoint_prefix == "checkpoints/churn/"
    assert family.min_interval_minutes == 360


def test_dev_trains_on_spot_with_checkpoints_and_its_schedule_off():
    family = _family("dev", {"maxWaitSeconds": 7200})
    assert (family.uses_spot, family.uses_checkpoints, family.schedule_enabled) == (True, True, False)
    assert family.checkpoint_prefix == "checkpoints/churn/"


def test_prod_retrains_on_drift_where_drift_monitoring_watches_the_endpoint():
    assert _family("prod").retrains_on_drift is True
    assert _family("prod", {"retrainOnDrift": False}).retrains_on_drift is False


def test_stated_values_win_over_the_environment():
    family = _family("dev", {"spot": False, "schedule": {"expression": "rate(7 days)", "enabled": True}})
    assert (family.uses_spot, family.uses_checkpoints, family.schedule_enabled) == (False, False, True)
    family = _family("staging", {"spot": True, "maxWaitSeconds": 3600, "checkpoints": True, "schedule": {"expression": "rate(1 day)", "enabled": False}})
    assert (family.uses_spot, family.uses_checkpoints, family.schedule_enabled) == (True, True, False)
    assert _family("staging", {"checkpoints": True}).uses_checkpoints is True


def test_a_family_outside_a_platform_config_has_no_checkpoint_prefix():
    from components.config import EndpointTrainingConfig

    with pytest.raises(ValueError, match="endpoint is unknown"):
        _ = EndpointTrainingConfig.model_validate(CHURN_TRAINING).checkpoint_prefix


def test_the_family_speaks_the_builders_units():
    from components.training import MetricGate, RetrainGuardArgs

    family = _family("staging", {"evaluation": {"metric": "regression_metrics.rmse.value", "threshold": 0.3, "comparison": "lessThanOrEqualTo"}})
    gate = MetricGate(json_path=family.evaluation.metric, comparison=family.evaluation.operator, threshold=family.evaluation.threshold)
    assert gate.comparison == "<=" and _family("staging").evaluation.operator == ">="
    guard = RetrainGuardArgs(pipeline_name="mlops-staging-churn", minimum_interval_seconds=family.min_interval_seconds)
    assert guard.minimum_interval_seconds == 360 * 60


def test_no_schedule_means_no_scheduled_runs():
    assert _family("staging", remove=("schedule",)).schedule_enabled is False


def test_endpoints_without_training_are_untouched():
    raw = stack_raw_config("staging")
    del raw["serving"]["endpoints"][0]["training"]
    config = _parse("staging", raw)
    assert all(e.training is None for e in config.serving.endpoints)


def test_the_example_in_docs_training_md_is_valid_for_staging():
    text = (ROOT / "docs" / "training.md").read_text()
    (block,) = re.findall(r"<!-- example:staging-training -->\n```yaml\n(.*?)```\n<!-- /example:staging-training -->", text, re.S)
    example = yaml.safe_load(block)
    raw = stack_raw_config("staging")
    raw["training"] = example["training"]
    (endpoint,) = example["serving"]["endpoints"]
    assert raw["serving"]["endpoints"][0]["name"] == endpoint["name"]
    raw["serving"]["endpoints"][0]["training"] = endpoint["training"]
    config = _parse("staging", raw)
    family = config.serving.endpoints[0].training
    # What the page says the example resolves to.
    assert (family.uses_spot, family.uses_checkpoints, family.checkpoint_prefix) == (True, True, "checkpoints/churn/")
    assert (family.schedule_enabled, family.retrains_on_drift, family.uses_gpu) == (True, False, True)
    assert config.training.experiments.enabled and config.training.experiments.server_size is None


# ---------------------------------------------------------------------------------------------
# Instance types: botocore's TrainingInstanceType enum; GPU families from the facts file


@pytest.mark.parametrize(("instance_type", "gpu"), [("ml.m5.xlarge", False), ("ml.c5.2xlarge", False), ("ml.g5.2xlarge", True), ("ml.p4d.24xlarge", True), ("ml.trn1.2xlarge", False)])
def test_gpu_or_cpu_follows_the_facts_file(instance_type, gpu):
    assert instance_type in facts.sagemaker_training_instance_types()
    family = _family("staging", {"instanceType": instance_type})
    assert family.uses_gpu is gpu


def test_instance_storage_families_are_known_for_the_volume_key_rule():
    assert _family("staging", {"instanceType": "ml.g5.2xlarge"}).has_instance_storage is True
    assert _family("staging", {"instanceType": "ml.m5.xlarge"}).has_instance_storage is False


def test_a_serving_only_instance_type_is_not_a_training_type():
    serving_only = sorted(facts.sagemaker_instance_types() - facts.sagemaker_training_instance_types())
    assert serving_only, "botocore lists no serving-only type to test with"
    assert_one_line_config_error(_with_training("staging", {"instanceType": serving_only[0]}), "serving.endpoints[0].training.instanceType",
                                 "not in botocore's sagemaker TrainingInstanceType enum", stack="staging")


def test_the_runtime_limit_is_the_one_botocore_documents():
    member = botocore.session.get_session().get_service_model("sagemaker").shape_for("StoppingCondition").members["MaxRuntimeInSeconds"]
    assert "The maximum value is 28 days." in re.sub(r"<[^>]+>", "", member.documentation)
    assert MAX_TRAINING_RUNTIME_SECONDS == 28 * 86400
    assert _family("staging", {"maxRuntimeSeconds": MAX_TRAINING_RUNTIME_SECONDS}).max_runtime_seconds == MAX_TRAINING_RUNTIME_SECONDS


# ---------------------------------------------------------------------------------------------
# Schedule expressions


@pytest.mark.parametrize(
    "expression",
    ["rate(1 day)", "rate(12 hours)", "rate(1 hour)", "rate(90 minutes)", "cron(0 3 ? * MON-FRI *)", "cron(0/15 * * * ? *)", "cron(0 8 1 * ? *)",
     "cron(0 18 ? * 6L 2026-2030)", "cron(0 10 ? * 2#1 *)", "cron(0 0 L * ? *)", "cron(0 0 15W * ? *)", "cron(0 12 ? JAN,JUL SUN *)", "cron(30 2 1-7 * ? *)", "cron(0 6 ? * mon-fri *)"],
)
def test_schedule_expressions_eventbridge_accepts(expression):
    assert _family("staging", {"schedule": {"expression": expression}, "minIntervalMinutes": 1}).schedule.expression == expression


@pytest.mark.parametrize(
    ("expression", "words"),
    [
        ("rate(1 days)", "singular unit for 1"),
        ("rate(5 minute)", "plural one otherwise"),
        ("rate(0 hours)", "not rate(<n> <unit>) or cron(<six fields>)"),
        ("rate(2 weeks)", "not rate(<n> <unit>) or cron(<six fields>)"),
        ("every day", "not rate(<n> <unit>) or cron(<six fields>)"),
        ("cron(0 3 ? * MON)", "six fields"),
        ("cron(0 3 * * * *)", "exactly one of day-of-month and day-of-week must be '?'"),
        ("cron(0 3 ? * ? *)", "exactly one of day-of-month and day-of-week must be '?'"),
        ("cron(61 3 ? * MON *)", "minutes '61' is not 0-59"),
        ("cron(0 24 ? * MON *)", "hours '24' is not 0-23"),
        ("cron(0 3 ? * 8 *)", "day-of-week '8' is not 1-7 or SUN"),
        ("cron(0 3 32W * ? *)", "day-of-month '32W' is outside 1-31"),
        ("cron(0 3 1 FOO ? *)", "month 'FOO' is not 1-12 or JAN"),
        ("cron(0 3 1 * ? 1969)", "year '1969' is not 1970-2199"),
        ("cron(? 3 1 * ? *)", "minutes cannot be '?'"),
        ("cron(0/0 3 1 * ? *)", "minutes step '0' is not a positive number"),
    ],
)
def test_bad_schedule_expressions(expression, words):
    assert_one_line_config_error(_with_training("staging", {"schedule": {"expression": expression}}), "serving.endpoints[0].training.schedule.expression",
                                 words, stack="staging")


def test_rate_minutes():
    assert [rate_minutes(e) for e in ("rate(1 minute)", "rate(3 hours)", "rate(2 days)", "cron(0 3 ? * MON *)")] == [1, 180, 2880, None]


# ---------------------------------------------------------------------------------------------
# Experiment tracking


def test_a_tracking_server_is_small_unless_sized():
    assert ExperimentsConfig(kind="trackingServer").server_size == "Small"
    assert ExperimentsConfig(kind="trackingServer", trackingServerSize="Large", mlflowVersion="3.0").server_size == "Large"
    assert facts.mlflow_tracking_server_sizes() == ("Small", "Medium", "Large")


# ---------------------------------------------------------------------------------------------
# One line per mistake

BAD = [
    # (id, stack, training changes, key path under the platform object, words in the message)
    ("data-s3-uri", "staging", {"dataPrefix": "s3://bucket/datasets/churn/"}, "dataPrefix", "the store's bucket is auto-named, so an s3:// URI cannot name it"),
    ("data-outside-datasets", "staging", {"dataPrefix": "models/churn/"}, "dataPrefix", "outside the artifact store layout; use datasets/ or a sub-prefix of it ending in '/'"),
    ("data-all-datasets", "staging", {"dataPrefix": "datasets/"}, "dataPrefix", "name the family's own prefix under datasets/"),
    ("data-wildcard", "staging", {"dataPrefix": "datasets/*/"}, "dataPrefix", "without wildcards"),
    ("data-no-slash", "staging", {"dataPrefix": "datasets/churn"}, "dataPrefix", "ending in '/'"),
    ("data-dot-dot", "staging", {"dataPrefix": "datasets/../models/"}, "dataPrefix", "outside the artifact store layout"),
    ("image-serving-repo", "staging", {"image": {"repository": "serve", "tag": "1"}}, "image.repository",
     "'serve' is not one of this stack's training repositories (train); declare it in images.repositories with purpose: training"),
    ("image-unknown-repo", "staging", {"image": {"repository": "nope", "tag": "1"}}, "image.repository", "not one of this stack's training repositories"),
    ("image-bad-tag", "staging", {"image": {"repository": "train", "tag": "-x"}}, "image.tag", "should match pattern"),
    ("image-tag-number", "staging", {"image": {"repository": "train", "tag": 1.4}}, "image.tag", "must be a string, got the number 1.4"),
    ("instance-unknown", "staging", {"instanceType": "ml.m5.huge"}, "instanceType", "TrainingInstanceType"),
    ("instance-ec2", "staging", {"instanceType": "m5.xlarge"}, "instanceType", "unknown training instance type"),
    ("instance-count-zero", "staging", {"instanceCount": 0}, "instanceCount", "greater than or equal to 1"),
    ("volume-zero", "staging", {"volumeSizeGb": 0}, "volumeSizeGb", "greater than or equal to 1"),
    ("runtime-zero", "staging", {"maxRuntimeSeconds": 0}, "maxRuntimeSeconds", "greater than or equal to 1"),
    ("runtime-over-28-days", "staging", {"maxRuntimeSeconds": 28 * 86400 + 1}, "maxRuntimeSeconds", "less than or equal to 2419200"),
    ("wait-below-runtime", "staging", {"spot": True, "maxWaitSeconds": 1800}, "maxWaitSeconds", "must be at least maxRuntimeSeconds (3600), got 1800"),
    ("wait-without-spot", "staging", {"maxWaitSeconds": 7200}, "maxWaitSeconds", "only with spot training"),
    ("spot-without-wait", "staging", {"spot": True}, "maxWaitSeconds", "required with spot: the time to wait for capacity"),
    ("dev-spot-default-without-wait", "dev", {}, "maxWaitSeconds", "required with spot (training.spotByDefault)"),
    ("spot-without-checkpoints", "dev", {"maxWaitSeconds": 7200, "checkpoints": False}, "checkpoints",
     "spot (training.spotByDefault) requires checkpoints: a reclaimed instance resumes from them"),
    ("metric-with-space", "staging", {"evaluation": {"metric": "auc value", "threshold": 0.8}}, "evaluation.metric", "should match pattern"),
    ("metric-too-long", "staging", {"evaluation": {"metric": "m" * 256, "threshold": 0.8}}, "evaluation.metric", "at most 255 characters"),
    ("threshold-nan", "staging", {"evaluation": {"metric": "auc", "threshold": float("nan")}}, "evaluation.threshold", "finite number"),
    ("threshold-string", "staging", {"evaluation": {"metric": "auc", "threshold": "0.8"}}, "evaluation.threshold", "must be a number, got the string '0.8'; write it without quotes"),
    ("comparison-symbol", "staging", {"evaluation": {"metric": "auc", "threshold": 0.8, "comparison": ">="}}, "evaluation.comparison",
     "'greaterThanOrEqualTo' or 'lessThanOrEqualTo'"),
    ("evaluation-missing", "staging", {"evaluation": None}, "evaluation", "must be a mapping of keys to values"),
    ("interval-not-shorter-than-rate", "staging", {"schedule": {"expression": "rate(6 hours)"}}, "minIntervalMinutes",
     "360 minutes is not shorter than the schedule's rate(6 hours)"),
    ("interval-zero", "staging", {"minIntervalMinutes": 0}, "minIntervalMinutes", "greater than or equal to 1"),
    ("drift-without-monitoring", "staging", {"retrainOnDrift": True}, "retrainOnDrift", "drift monitoring does not watch endpoint 'churn'"),
    ("schedule-enabled-string", "staging", {"schedule": {"expression": "rate(1 day)", "enabled": "yes"}}, "schedule.enabled", "write true or false"),
    ("unknown-key", "staging", {"instanceSize": "big"}, "instanceSize", "allowed keys: checkpoints, dataPrefix, evaluation, expectedRunsPerMonth, image, instanceCount"),
]


@pytest.mark.parametrize(("stack", "changes", "key", "words"), [case[1:] for case in BAD], ids=[case[0] for case in BAD])
def test_bad_training_values_fail_with_one_line(stack, changes, key, words):
    assert_one_line_config_error(_with_training(stack, changes), f"serving.endpoints[0].training.{key}", words, stack=stack)


def test_a_required_training_key_is_named():
    assert_one_line_config_error(_with_training("staging", remove=("image",)), "serving.endpoints[0].training.image", "required key is missing", stack="staging")


BAD_EXPERIMENTS = [
    ({"kind": "trackingServer", "trackingServerSize": "Tiny"}, "trackingServerSize", "'Tiny' is not a tracking server size; allowed: Small, Medium, Large"),
    ({"kind": "trackingServer", "trackingServerSize": "small"}, "trackingServerSize", "allowed: Small, Medium, Large"),
    ({"trackingServerSize": "Small"}, "trackingServerSize", "only with kind: trackingServer"),
    ({"mlflowVersion": "3.0"}, "mlflowVersion", "only with kind: trackingServer (aws.sagemaker.MlflowApp takes no mlflowVersion)"),
    ({"kind": "trackingServer", "mlflowVersion": "latest"}, "mlflowVersion", "is not an MLflow version"),
    ({"kind": "trackingServer", "mlflowVersion": "3.0.0.1.2.3.4.5.6"}, "mlflowVersion", "is not an MLflow version"),
    ({"kind": "mlflow"}, "kind", "'serverless' or 'trackingServer'"),
    ({"enabled": "on"}, "enabled", "write true or false"),
]


@pytest.mark.parametrize(("experiments", "key", "words"), BAD_EXPERIMENTS, ids=[f"{c[1]}-{i}" for i, c in enumerate(BAD_EXPERIMENTS)])
def test_bad_experiment_settings_fail_with_one_line(experiments, key, words):
    raw = stack_raw_config("staging")
    raw["training"] = {"experiments": experiments}
    assert_one_line_config_error(raw, f"training.experiments.{key}", words, stack="staging")


def test_an_unknown_training_section_key_lists_the_allowed_ones():
    raw = stack_raw_config("dev")
    raw["training"] = {"spot": True}
    assert_one_line_config_error(raw, "training.spot", "unknown key; allowed keys: experiments, schedulesByDefault, spotByDefault")
