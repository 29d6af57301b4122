"""Tagging: own tags merged over the provider's JSON-encoded defaultTags (read through args.provider)."""

from __future__ import annotations

import json

import pulumi
import pulumi_aws as aws

from mlopsctl.offline.policycheck.process import PolicyPackProcess
from mlopsctl.review.policydata import TAGGABLE_FILE, render
from tests.support.policy import REQUIRED_TAGS, fired, tagged_provider
from tests.support.programs import run_component


def run(policy_pack, build, *, provider_tags, env="prod", unknowns=False):
    def program():
        build(pulumi.ResourceOptions(provider=tagged_provider(tags=provider_tags)))

    return policy_pack(env).analyze(run_component(program, stack=env, unknowns=unknowns))


def test_provider_default_tags_satisfy_the_requirement(policy_pack):
    report = run(policy_pack, lambda o: aws.kms.Key("k", enable_key_rotation=True, opts=o), provider_tags=REQUIRED_TAGS)
    assert report.by_policy("tagging-required-tags") == []


def test_missing_tags_fire_with_the_missing_keys_only_for_taggable_types(policy_pack):
    def program(o):
        aws.kms.Key("k", enable_key_rotation=True, tags={"owner": "ml-platform"}, opts=o)
        aws.kms.Alias("alias", name="alias/x", target_key_id="id", opts=o)  # KMS aliases take no tags

    report = run(policy_pack, program, provider_tags={"environment": "prod", "project": "mlops-platform"})
    [violation] = report.by_policy("tagging-required-tags")
    assert violation.urn.endswith("::k") and violation.level == "mandatory"
    assert "['cost-center']" in violation.message  # managed-by was added by the remediation


def test_remediation_adds_fixed_value_tags_before_analysis(policy_pack):
    report = run(policy_pack, lambda o: aws.kms.Key("k", enable_key_rotation=True, tags={"owner": "o", "cost-center": "cc", "project": "p"}, opts=o), provider_tags={})
    assert [r["policy"] for r in report.remediations] == ["tagging-default-tags-remediation"]
    assert report.remediations[0]["changed"] == ["tags"]
    # environment and managed-by are filled from policies/config/prod.json; nothing left to report.
    assert report.by_policy("tagging-required-tags") == []


def test_wrong_environment_tag_fires(policy_pack):
    report = run(policy_pack, lambda o: aws.kms.Key("k", enable_key_rotation=True, opts=o), provider_tags={**REQUIRED_TAGS, "environment": "dev"})
    assert any("environment='dev', expected 'prod'" in m for m in fired(report, "tagging-required-tags"))


def test_dev_tagging_is_advisory(policy_pack):
    report = run(policy_pack, lambda o: aws.kms.Key("k", opts=o), provider_tags={"environment": "dev"}, env="dev")
    assert {v.level for v in report.by_policy("tagging-required-tags")} == {"advisory"}


def test_unknown_tags_are_not_guessed_over(policy_pack):
    def program(o):
        key = aws.kms.Key("k", enable_key_rotation=True, opts=o)
        # A known key with an unknown value counts as present; a wholly unknown map cannot be judged.
        aws.kms.Key("value-unknown", enable_key_rotation=True, tags={"owner": key.key_id}, opts=o)
        aws.kms.Key("map-unknown", enable_key_rotation=True, tags=key.key_id.apply(lambda _: {"owner": "o"}), opts=o)

    others = {k: v for k, v in REQUIRED_TAGS.items() if k != "owner"}
    report = run(policy_pack, program, provider_tags=others, unknowns=True)
    by_name = {v.urn.rsplit("::", 1)[-1]: v for v in report.by_policy("tagging-required-tags")}
    assert "value-unknown" not in by_name
    assert by_name["map-unknown"].unknown and by_name["map-unknown"].level == "advisory"
    assert "k" in by_name and not by_name["k"].unknown  # no owner anywhere: reported
    assert [r for r in report.remediations if "unknown" in r["urn"]] == []


def test_taggable_types_file_matches_the_pinned_pulumi_aws():
    assert TAGGABLE_FILE.read_text() == render(), "run: .venv/bin/python -m mlopsctl.review.policydata"
    types = json.loads(TAGGABLE_FILE.read_text())["types"]
    assert "aws:s3/bucket:Bucket" in types and "aws:s3/bucketVersioning:BucketVersioning" not in types


def test_provider_properties_reach_the_pack_json_encoded():
    """The pack reads defaultTags from args.provider.props as the engine sends them: a JSON string."""
    recording = run_component(lambda: aws.kms.Key("k", enable_key_rotation=True, opts=pulumi.ResourceOptions(provider=tagged_provider())))
    provider = recording.one("pulumi:providers:aws")
    assert json.loads(provider.inputs["defaultTags"]) == {"tags": REQUIRED_TAGS}
    with PolicyPackProcess() as pack:
        pack.configure({"tagging-required-tags": {"enforcementLevel": "mandatory", "requiredTags": ["environment"], "expectedValues": {"environment": "staging"}}})
        [violation] = pack.analyze(recording).by_policy("tagging-required-tags")
        assert "environment='prod', expected 'staging'" in violation.message
