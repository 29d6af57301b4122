"""Serving config: defaults per environment, limits from botocore, and one clear line per mistake."""

from __future__ import annotations

import subprocess
import sys

import pulumi
import pytest

from components import facts
from components.config import ConfigError, parse_platform_config
from components.program import main
from mlopsctl.offline.harness import ProgramError
from tests.support.programs import run_component
from tests.support.stacks import ROOT, assert_one_line_config_error, stack_raw_config


def _parse(stack: str, raw: dict):
    return parse_platform_config(raw, "us-east-1", f"stacks/Pulumi.{stack}.yaml")


def _endpoint(stack: str, **changes) -> dict:
    raw = stack_raw_config(stack)
    raw["serving"].update(changes.pop("_serving", {}))
    endpoint = raw["serving"]["endpoints"][0]
    for key, value in changes.items():
        if value is None:
            endpoint.pop(key, None)
        else:
            endpoint[key] = value
    return raw


STAGING_INSTANCE = stack_raw_config("staging")["serving"]["endpoints"][0]["instance"]


def _package(account: str, version: int = 7, region: str = "us-east-1") -> str:
    return f"arn:aws:sagemaker:{region}:{account}:model-package/churn/{version}"
LONG = "x" * 40

BAD = [
    # (id, stack, endpoint changes, key path under the platform object, words in the message)
    ("unknown-instance-type", "staging", {"instance": {**STAGING_INSTANCE, "instanceType": "ml.m5.huge"}}, "serving.endpoints[0].instance.instanceType", "ProductionVariantInstanceType"),
    ("ec2-type-not-ml", "staging", {"instance": {**STAGING_INSTANCE, "instanceType": "m5.large"}}, "serving.endpoints[0].instance.instanceType", "unknown SageMaker instance type"),
    ("serverless-memory", "dev", {"serverless": {"memorySizeMb": 1500}}, "serving.endpoints[0].serverless.memorySizeMb", "allowed: 1024, 2048"),
    ("serverless-concurrency", "dev", {"serverless": {"memorySizeMb": 2048, "maxConcurrency": 500}}, "serving.endpoints[0].serverless.maxConcurrency", "1..200"),
    ("min-gt-max", "staging", {"instance": {**STAGING_INSTANCE, "minCount": 5, "initialCount": 5, "maxCount": 3}}, "serving.endpoints[0].instance.minCount", "minCount <= initialCount <= maxCount"),
    ("initial-gt-max", "staging", {"instance": {**STAGING_INSTANCE, "initialCount": 4}}, "serving.endpoints[0].instance.minCount", "minCount <= initialCount <= maxCount"),
    ("canary-over-100", "staging", {"deployment": {"strategy": "canary", "sizePercent": 120}}, "serving.endpoints[0].deployment.sizePercent", "1..100"),
    ("canary-over-half", "staging", {"deployment": {"strategy": "canary", "sizePercent": 60}}, "serving.endpoints[0].deployment.sizePercent", "1..50%"),
    ("linear-too-small", "staging", {"deployment": {"strategy": "linear", "sizePercent": 5}}, "serving.endpoints[0].deployment.sizePercent", "10..50%"),
    ("wait-too-long", "staging", {"deployment": {"waitSeconds": 7200}}, "serving.endpoints[0].deployment.waitSeconds", "0..3600"),
    ("name-invalid", "staging", {"name": "churn_v2"}, "serving.endpoints[0].name", "EndpointName pattern"),
    ("name-leading-hyphen", "staging", {"name": "-churn"}, "serving.endpoints[0].name", "EndpointName pattern"),
    ("name-too-long-for-suffix", "staging", {"name": LONG}, "serving.endpoints[0].name", "26-character suffix"),
    ("name-over-63", "staging", {"name": "y" * 64}, "serving.endpoints[0].name", "allows 63"),
    ("both-kinds", "dev", {"instance": {"instanceType": "ml.m5.large"}}, "serving.endpoints[0].instance", "exactly one of instance or serverless"),
    ("neither-kind", "dev", {"serverless": None}, "serving.endpoints[0].instance", "exactly one of instance or serverless"),
    ("serverless-vpc", "dev", {"vpc": True}, "serving.endpoints[0].vpc", "serverless endpoints do not support"),
    ("serverless-isolation", "dev", {"networkIsolation": True}, "serving.endpoints[0].networkIsolation", "serverless endpoints do not support"),
    ("serverless-capture", "dev", {"dataCapture": {"enabled": True}}, "serving.endpoints[0].dataCapture.enabled", "serverless endpoints do not support"),
    ("two-model-sources", "staging", {"model": {"modelPackageArn": "arn:aws:sagemaker:us-east-1:210987654321:model-package/churn/7", "image": "210987654321.dkr.ecr.us-east-1.amazonaws.com/churn:v7"}}, "serving.endpoints[0].model.modelPackageArn", "exactly one of"),
    ("package-of-another-family", "staging", {"model": {"modelPackageArn": "arn:aws:sagemaker:us-east-1:210987654321:model-package/fraud/2"}}, "serving.endpoints[0].model.modelPackageArn", "model package group 'fraud'"),
    ("unversioned-package", "staging", {"model": {"modelPackageArn": "arn:aws:sagemaker:us-east-1:210987654321:model-package/churn"}}, "serving.endpoints[0].model.modelPackageArn", "versioned model package ARN"),
    ("prebuilt-without-data", "dev", {"model": {"prebuiltImage": {"repository": "sagemaker-xgboost", "tag": "1.7-1"}}}, "serving.endpoints[0].model.modelDataKey", "required with prebuiltImage"),
    ("model-data-outside-models", "dev", {"model": {"prebuiltImage": {"repository": "sagemaker-xgboost", "tag": "1.7-1"}, "modelDataKey": "datasets/x.tar.gz"}}, "serving.endpoints[0].model.modelDataKey", "models/"),
    ("not-an-ecr-image", "dev", {"model": {"image": "docker.io/library/python:3.12", "modelDataKey": "models/x.tar.gz"}}, "serving.endpoints[0].model.image", "not an ECR image URI"),
    ("unknown-key", "staging", {"instanceCount": 3}, "serving.endpoints[0].instanceCount", "allowed keys:"),
    ("sampling-over-100", "staging", {"dataCapture": {"samplingPercentage": 150}}, "serving.endpoints[0].dataCapture.samplingPercentage", "0..100"),
    ("prod-serverless", "prod", {"instance": None, "serverless": {"memorySizeMb": 2048}, "vpc": False, "networkIsolation": False, "dataCapture": {"enabled": False}, "_serving": {"driftMonitoring": {"enabled": False}}}, "serving.endpoints[0].serverless", "at least 2 instances"),
    ("prod-one-instance", "prod", {"instance": {"instanceType": "ml.m5.xlarge", "minCount": 1, "initialCount": 1, "maxCount": 4}}, "serving.endpoints[0].instance.minCount", "at least 2 instances"),
    # Model packages: this stack's registry, or promotion.promotedFrom's (which shares its packages), in this region.
    ("package-of-a-third-account", "staging", {"model": {"modelPackageArn": _package("999999999999")}}, "serving.endpoints[0].model.modelPackageArn",
     "is in account 999999999999; this stack deploys the packages of its own registry (accountId 210987654321) only (promotion.promotedFrom names"),
    ("package-of-the-next-environment", "staging", {"model": {"modelPackageArn": _package("345678901234")}}, "serving.endpoints[0].model.modelPackageArn",
     "is in account 345678901234; this stack deploys the packages of its own registry (accountId 210987654321) only"),
    ("challenger-of-a-third-account", "staging", {"instance": {**STAGING_INSTANCE, "challenger": {**STAGING_INSTANCE["challenger"], "model": {"modelPackageArn": _package("999999999999")}}}},
     "serving.endpoints[0].instance.challenger.model.modelPackageArn", "is in account 999999999999"),
    ("prod-package-of-dev", "prod", {"model": {"modelPackageArn": _package("123456789012")}}, "serving.endpoints[0].model.modelPackageArn",
     "is in account 123456789012; this stack deploys the packages of its own registry (accountId 345678901234) or of promotion.promotedFrom's (staging, 210987654321), which shares its packages with this account"),
    ("package-in-another-region", "prod", {"model": {"modelPackageArn": _package("210987654321", region="eu-west-1")}}, "serving.endpoints[0].model.modelPackageArn",
     "is in region eu-west-1; SageMaker deploys a model package in its own region, this stack's is us-east-1"),
]


@pytest.mark.parametrize("case", BAD, ids=[c[0] for c in BAD])
def test_bad_serving_config_fails_with_one_clear_line(case):
    _, stack, changes, key_path, words = case
    assert_one_line_config_error(_endpoint(stack, **changes), key_path, words, stack=stack)


def test_prod_deploys_packages_of_stagings_registry_or_its_own():
    """prod's promotion.promotedFrom is staging: staging's packages are shared with it; its own registry is its own."""
    for account in ("210987654321", "345678901234"):
        config = _parse("prod", _endpoint("prod", model={"modelPackageArn": _package(account, 9)}))
        assert config.serving.endpoints[0].model.model_package_arn == _package(account, 9)
    raw = _endpoint("prod", model={"modelPackageArn": _package("210987654321")})
    raw["promotion"] = {"dispatch": True}  # without promotedFrom, staging's registry is just another account's
    assert_one_line_config_error(raw, "serving.endpoints[0].model.modelPackageArn", "is in account 210987654321; this stack deploys the packages of its own registry "
                                 "(accountId 345678901234) only", stack="prod")


def test_drift_monitoring_in_prod_needs_a_baseline_for_every_captured_endpoint():
    raw = stack_raw_config("prod")
    del raw["serving"]["driftMonitoring"]["baselines"]
    with pytest.raises(ConfigError) as caught:
        _parse("prod", raw)
    assert str(caught.value) == (
        "stacks/Pulumi.prod.yaml: mlops-platform:platform.serving.driftMonitoring.baselines: "
        "drift monitoring needs a baseline for every endpoint with data capture; missing: churn"
    )
    raw["serving"]["driftMonitoring"]["enabled"] = False
    assert _parse("prod", raw).serving.monitored_endpoints() == []


def test_baselines_must_name_an_endpoint_with_data_capture():
    raw = stack_raw_config("prod")
    raw["serving"]["driftMonitoring"]["baselines"]["fraud"] = raw["serving"]["driftMonitoring"]["baselines"]["churn"]
    with pytest.raises(ConfigError, match=r"serving\.driftMonitoring\.baselines\.fraud: not an endpoint with data capture enabled"):
        _parse("prod", raw)


def test_duplicate_endpoint_names_are_rejected():
    raw = stack_raw_config("staging")
    raw["serving"]["endpoints"].append(dict(raw["serving"]["endpoints"][0]))
    with pytest.raises(ConfigError, match=r"serving\.endpoints: endpoint names must be unique; repeated: \['churn'\]"):
        _parse("staging", raw)


def test_data_capture_is_on_by_default_in_staging_and_prod_and_off_in_dev():
    for stack, expected in (("dev", False), ("staging", True), ("prod", True)):
        raw = stack_raw_config(stack)
        endpoint = raw["serving"]["endpoints"][0]
        endpoint.pop("dataCapture", None)
        if stack == "dev":  # an instance endpoint in dev: capture still off unless asked for
            endpoint.pop("serverless")
            endpoint["instance"] = {"instanceType": "ml.m5.large"}
        config = _parse(stack, raw)
        assert config.serving.endpoints[0].captures_data is expected, stack
        assert config.serving.endpoints[0].data_capture.enabled is None  # stays unstated: follows the environment
    # An explicit setting wins over the environment default.
    raw = stack_raw_config("staging")
    raw["serving"]["endpoints"][0]["dataCapture"] = {"enabled": False}
    assert _parse("staging", raw).serving.endpoints[0].captures_data is False


def test_drift_monitoring_defaults_on_only_in_prod():
    assert [_parse(s, stack_raw_config(s)).serving.drift_monitoring.enabled for s in ("dev", "staging", "prod")] == [False, False, True]


def test_stack_files_declare_what_issue_5_asks_for():
    dev, staging, prod = (_parse(s, stack_raw_config(s)).serving.endpoints for s in ("dev", "staging", "prod"))
    assert all(e.serverless and not e.instance for e in dev)
    for endpoint in staging + prod:
        assert endpoint.instance and endpoint.captures_data and endpoint.vpc
    assert all(e.instance.min_count >= 2 and e.instance.initial_count >= 2 for e in prod)


def test_name_limits_come_from_botocore():
    limit, pattern = facts.sagemaker_name_limits("EndpointName")
    assert limit == facts.shape_limits("sagemaker", "EndpointName")["max"]
    assert pattern == facts.shape_limits("sagemaker", "EndpointName")["pattern"]
    # Room for the endpoint config's unique suffix: "<prefix>-<env>-<name>-" + 26 characters.
    room = facts.sagemaker_name_limits("EndpointConfigName")[0] - facts.PREFIXED_UNIQUE_SUFFIX_LENGTH - 1 - len("mlops-staging-")
    assert _parse("staging", _endpoint("staging", name="n" * room)).serving.endpoints[0].name == "n" * room
    with pytest.raises(ConfigError, match="26-character suffix"):
        _parse("staging", _endpoint("staging", name="n" * (room + 1)))


def test_data_file_facts_exist_in_botocore():
    sagemaker_types = facts.sagemaker_instance_types()
    for family in facts.facts()["sagemakerInstanceStorageFamilies"]["values"]:
        assert any(t.rsplit(".", 1)[0] == family for t in sagemaker_types), family
    for region in facts.facts()["sagemakerModelMonitorAnalyzerAccounts"]["accounts"]:
        assert region in facts.known_regions(), region
    assert facts.model_monitor_image_uri("us-east-1") == "156813124566.dkr.ecr.us-east-1.amazonaws.com/sagemaker-model-monitor-analyzer:latest"
    assert facts.model_monitor_image_uri("mars-north-1") is None
    for section in ("sagemakerInstanceStorageFamilies", "sagemakerModelMonitorAnalyzerAccounts"):
        assert facts.facts()[section]["source"]


def test_cli_rejects_a_bad_serving_config_in_one_line_with_exit_2(tmp_path):
    text = (ROOT / "stacks" / "Pulumi.dev.yaml").read_text().replace("memorySizeMb: 2048", "memorySizeMb: 1500")
    assert "memorySizeMb: 1500" in text
    (tmp_path / "Pulumi.dev.yaml").write_text(text)
    result = subprocess.run(
        [sys.executable, "-m", "mlopsctl", "preview", "--stack", "dev", "--stacks-dir", str(tmp_path), "--format", "json"],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.strip() == (
        f"error: {tmp_path}/Pulumi.dev.yaml: mlops-platform:platform.serving.endpoints[0].serverless.memorySizeMb: "
        "1500 MB is not a serverless memory size; allowed: 1024, 2048, 3072, 4096, 5120, 6144"
    )


def test_program_registers_nothing_when_serving_config_is_bad():
    raw = _endpoint("staging", instance={**STAGING_INSTANCE, "instanceType": "ml.m5.huge"})
    with pytest.raises(ProgramError) as caught:
        run_component(main, stack="staging", config={"mlops-platform:platform": raw})
    assert isinstance(caught.value.cause, pulumi.RunError)
    assert str(caught.value.cause).startswith("stacks/Pulumi.staging.yaml: mlops-platform:platform.serving.endpoints[0].instance.instanceType: unknown SageMaker instance type 'ml.m5.huge'")
    assert caught.value.recording.resources == []
