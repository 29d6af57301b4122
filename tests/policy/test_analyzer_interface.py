"""The pack over its real gRPC Analyzer interface: metadata, configuration, request faithfulness."""

from __future__ import annotations

import json
import re

import pulumi
import pulumi_aws as aws
import pytest
from google.protobuf import json_format

from mlopsctl.offline.policycheck.config import CONFIG_DIR, PolicyPackError, load_config_file, reconcile_config
from mlopsctl.offline.policycheck.process import PolicyPackProcess
from mlopsctl.offline.policycheck.requests import analyze_request, duration_seconds, engine_value, stack_resource
from mlopsctl.offline.wire import OUTPUT_VALUE_SIG, RESOURCE_SIG, SECRET_SIG, SIG_KEY, UNKNOWN
from tests.support.policy import tagged_provider
from tests.support.programs import run_component
from tests.support.stacks import ROOT

ENVIRONMENTS = ("dev", "staging", "prod")
# Warnings, never blockers: a model's network mode is a trade-off; a forced upgrade is a date to plan for.
ADVISORY_BY_DESIGN = ("sagemaker-model-network", "eks-standard-support-ending")
# Critical security: public data, admin IAM, unencrypted secrets, SSH/RDP open to the internet, a
# key policy that can lock everyone out (mandatory even in dev).
CRITICAL = {"s3-public-access-block", "s3-no-public-acl-or-policy", "iam-no-star-action", "iam-no-admin-attachments", "iam-no-wildcard-trust", "eks-secrets-encryption",
            "codebuild-runner-webhook-maintainers-only", "sg-no-internet-admin-ports", "eks-node-ssh-not-from-internet", "kms-no-lockout-bypass",
            "iam-pipeline-role-no-wildcards"}
# Not critical, yet mandatory in dev as well: every platform pipeline already encrypts (the builder
# requires both keys), and dev trains on spot by default, where a run without checkpoints or with a
# wait below its runtime is lost work or a refused job (docs/policies.md).
MANDATORY_IN_DEV_BY_DESIGN = ("sagemaker-pipeline-kms", "reliability-spot-training-checkpoints")


@pytest.fixture(scope="module")
def info(policy_pack):
    return policy_pack("prod").info


def test_every_policy_carries_its_metadata(info):
    assert info.name == "mlops-platform" and info.supportsConfig
    assert len(info.policies) >= 40
    names = [p.name for p in info.policies]
    assert len(names) == len(set(names))
    for policy in info.policies:
        assert policy.description and policy.remediation_steps, f"{policy.name}: needs description and remediation steps"
        assert policy.severity != 0, f"{policy.name}: needs a severity"  # POLICY_SEVERITY_UNSPECIFIED
        assert list(policy.tags[:1]) in (["security"], ["cost"], ["tagging"], ["reliability"]), f"{policy.name}: first tag must be its concern"
    critical = {p.name for p in info.policies if p.severity == 4}
    assert critical == CRITICAL
    frameworks = {p.name: (p.framework.name, p.framework.reference) for p in info.policies if p.framework.name}
    assert frameworks["eks-secrets-encryption"] == ("checkov", "CKV_AWS_58")
    assert frameworks["s3-tls-only"] == ("CIS AWS Foundations Benchmark", "2.1.1")


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_environment_configs_cover_every_policy_with_the_agreed_enforcement(info, environment):
    config = load_config_file(CONFIG_DIR / f"{environment}.json")
    assert set(config) == {p.name for p in info.policies}
    reconciled = reconcile_config(info, config)  # validates every property against its schema
    for policy in info.policies:
        level = reconciled[policy.name][0]
        category = policy.tags[0] if policy.tags else None
        if policy.name == "tagging-default-tags-remediation":
            assert level == "remediate"
        elif environment == "dev" and (policy.name in CRITICAL or policy.name in MANDATORY_IN_DEV_BY_DESIGN):
            assert level == "mandatory", policy.name
        elif environment == "dev":
            assert level in {"advisory", "disabled"}, policy.name
        elif category in {"security", "reliability"} and policy.name not in ADVISORY_BY_DESIGN:
            # staging runs one NAT gateway by design; that check is prod's (disabled in staging)
            assert level == ("disabled" if (environment, policy.name) == ("staging", "reliability-nat-per-az") else "mandatory"), policy.name
    for name in ADVISORY_BY_DESIGN:
        assert reconciled[name][0] == "advisory", name


def test_reconciliation_follows_the_engine_order_defaults_all_then_policy(info):
    reconciled = reconcile_config(info, {"all": {"enforcementLevel": "disabled"}, "kms-deletion-window": {"minDays": 14}, "s3-versioning": {"enforcementLevel": "advisory"}})
    assert reconciled["kms-key-rotation"] == ("disabled", {})
    assert reconciled["kms-deletion-window"] == ("disabled", {"minDays": 14})
    assert reconciled["s3-versioning"] == ("advisory", {"exemptAccessLogTargets": False})
    assert reconciled["log-group-retention"][1] == {"minRetentionDays": 1}  # schema default


@pytest.mark.parametrize(
    ("config", "fragment"),
    [
        ({"kms-deletion-window": {"minDays": 3}}, "kms-deletion-window.minDays"),
        ({"kms-deletion-window": {"minimumDays": 30}}, "Additional properties"),
        ({"no-such-policy": "mandatory"}, "does not have"),
        ({"s3-versioning": "blocking"}, "unknown enforcement level"),
    ],
)
def test_bad_policy_config_is_rejected_like_the_engine_does(info, config, fragment):
    with pytest.raises(PolicyPackError, match=fragment):
        reconcile_config(info, config)


def test_configured_enforcement_reaches_the_pack_and_all_disables_everything():
    recording = run_component(lambda: aws.kms.Key("k", opts=pulumi.ResourceOptions(provider=tagged_provider())))
    with PolicyPackProcess() as pack:
        pack.configure({"kms-key-rotation": "mandatory"})
        assert {v.level for v in pack.analyze(recording).by_policy("kms-key-rotation")} == {"mandatory"}
        pack.configure({"kms-key-rotation": "advisory"})
        assert {v.level for v in pack.analyze(recording).by_policy("kms-key-rotation")} == {"advisory"}
        pack.configure({"all": "disabled"})
        assert pack.analyze(recording).violations == []
        process = pack.process
    assert process.returncode is not None  # stopped cleanly on exit


def test_requests_carry_options_parent_provider_and_dependencies_as_the_engine_sends_them():
    def program():
        provider = tagged_provider()
        parent = pulumi.ComponentResource("mlops:test:Parent", "parent")
        key = aws.kms.Key("key", enable_key_rotation=True, opts=pulumi.ResourceOptions(
            provider=provider, parent=parent, protect=True, ignore_changes=["description"], delete_before_replace=True,
            additional_secret_outputs=["arn"], custom_timeouts=pulumi.CustomTimeouts(create="1h30m", delete="90s"),
        ))
        aws.kms.Alias("alias", name="alias/x", target_key_id=key.key_id, opts=pulumi.ResourceOptions(provider=provider))

    recording = run_component(program, unknowns=True)
    by_urn = {r.urn: r for r in recording.resources}
    key = recording.one("aws:kms/key:Key")
    request = json_format.MessageToDict(analyze_request(key, by_urn))
    assert request["type"] == "aws:kms/key:Key" and request["name"] == "key"
    options = request["options"]
    assert options["protect"] is True and options["ignoreChanges"] == ["description"]
    assert options["deleteBeforeReplace"] is True and options["additionalSecretOutputs"] == ["arn"]
    assert options["customTimeouts"] == {"create": 5400.0, "delete": 90.0}
    assert options["parent"] == recording.one("mlops:test:Parent").urn
    assert "retainOnDelete" not in options  # the protocol has no such field
    provider = request["provider"]
    assert provider["type"] == "pulumi:providers:aws" and provider["name"] == "aws"
    assert json.loads(provider["properties"]["defaultTags"])["tags"]["environment"] == "prod"

    alias = recording.one("aws:kms/alias:Alias")
    entry = json_format.MessageToDict(stack_resource(alias, by_urn))
    assert entry["properties"]["targetKeyId"] == UNKNOWN
    assert entry["propertyDependencies"]["targetKeyId"]["urns"] == [key.urn]
    assert key.urn in entry["dependencies"]
    assert "parent" not in entry["options"]  # AnalyzeStack carries the parent as a field


def test_wire_values_are_marshalled_like_the_engine_does_for_analyzers():
    secret = {SIG_KEY: SECRET_SIG, "value": "s3cr3t"}
    assert engine_value(secret) == secret  # KeepSecrets
    assert engine_value({SIG_KEY: OUTPUT_VALUE_SIG}) == UNKNOWN
    assert engine_value({SIG_KEY: OUTPUT_VALUE_SIG, "value": "x", "secret": True}) == secret | {"value": "x"}
    assert engine_value({SIG_KEY: RESOURCE_SIG, "urn": "urn:a", "id": "i-1"}) == "i-1"
    assert engine_value({SIG_KEY: RESOURCE_SIG, "urn": "urn:a", "id": ""}) == UNKNOWN
    assert engine_value({SIG_KEY: RESOURCE_SIG, "urn": "urn:a"}) == "urn:a"
    assert engine_value([{"k": {SIG_KEY: OUTPUT_VALUE_SIG}}]) == [{"k": UNKNOWN}]
    assert duration_seconds("2h5m10s") == 7510.0


def test_pack_process_that_fails_to_start_is_reported(tmp_path):
    (tmp_path / "__main__.py").write_text("raise SystemExit('broken pack')\n")
    with pytest.raises(PolicyPackError, match="broken pack"):
        PolicyPackProcess(pack_dir=tmp_path).start()


def test_pack_is_self_contained():
    """Pulumi ships only policies/: nothing there may import the repository's packages."""
    repository_import = re.compile(r"^\s*(from|import)\s+(components|mlopsctl|tests)\b", re.M)
    for path in (ROOT / "policies").rglob("*.py"):
        assert not repository_import.search(path.read_text()), path
    # One facts file, inside the pack's folder; the program reads the same file.
    from components import facts

    assert not (ROOT / "components" / "data" / "aws_facts.json").exists()
    assert not (ROOT / "policies" / "data" / "aws_facts.json").exists()
    assert facts.FACTS_FILE == ROOT / "policies" / "awsfacts" / "aws_facts.json"
    assert {"gpuInstanceFamilies", "sagemakerInstanceStorageFamilies"} <= set(json.loads(facts.FACTS_FILE.read_text()))
    requirements = (ROOT / "policies" / "requirements.txt").read_text().split()
    assert {r.split("==")[0] for r in requirements} == {"pulumi", "pulumi-policy", "botocore"}
    assert all("==" in r for r in requirements)


def test_docs_and_readme_policy_tables_match_the_pack_and_configs():
    from mlopsctl.review.policydata import TABLE_FILES, docs_with_table, policy_table

    table = policy_table()
    for path in TABLE_FILES:
        text = path.read_text()
        assert docs_with_table(text, table) == text, f"{path.name}: run .venv/bin/python -m mlopsctl.review.policydata table"
        assert "pulumi preview --stack prod --policy-pack policies --policy-pack-config policies/config/prod.json" in text


def test_pack_stops_cleanly_on_interrupt():
    pack = PolicyPackProcess().start()
    process = pack.process
    pack.close()
    assert process.returncode == 0  # PolicyPack stopped its server on KeyboardInterrupt
    assert pack.process is None and pack.stub is None


def test_every_policy_has_tests_that_name_it(info):
    """Each policy is exercised by name in the policy tests (fires in one case, passes in another)."""
    sources = "".join(p.read_text() for p in (ROOT / "tests" / "policy").glob("test_*.py"))
    missing = [p.name for p in info.policies if f'"{p.name}"' not in sources]
    assert missing == []


@pytest.mark.parametrize(
    "config",
    [
        {"monthly-budget": "advisory"},  # a bare string is a level (cost.py once read it as mandatory)
        {"monthly-budget": {"monthlyBudgetUsd": 900}},
        {"all": "advisory", "monthly-budget": {"monthlyBudgetUsd": 900}},
        {"all": {"enforcementLevel": "disabled"}, "monthly-budget": {"enforcementLevel": "mandatory", "monthlyBudgetUsd": 5}},
    ],
)
def test_cost_reads_the_budget_config_as_the_engine_does(info, tmp_path, config):
    from mlopsctl.offline.cost_report import budget_config

    (tmp_path / "prod.json").write_text(json.dumps(config))
    level, props = reconcile_config(info, config)["monthly-budget"]
    budget = props.get("monthlyBudgetUsd")
    assert budget_config("prod", tmp_path) == (None if budget is None else float(budget), level)
