"""The real stacks under their own environment's policy config, and the preview integration."""

from __future__ import annotations

import json

import pulumi
import pulumi_aws as aws
import pytest

from mlopsctl import cli
from mlopsctl.offline import preview
from tests.support.cli import cached_in_process
from tests.support.policy import tagged_provider
from tests.support.programs import run_component
from tests.support.stacks import STACKS, stack_preview


@pytest.mark.parametrize("stack", STACKS)
@pytest.mark.parametrize("unknowns", [False, True], ids=["known", "first-preview"])
def test_real_stacks_have_no_mandatory_violations_under_their_own_config(policy_pack, stack, unknowns):
    result = stack_preview(stack, unknowns=unknowns)
    report = policy_pack(result.config.environment).analyze(result.recording)
    assert report.mandatory() == [], [v.to_json() for v in report.mandatory()]
    if not unknowns:
        # Fully known values: every policy could run, none was skipped as "unknown during preview".
        assert [v for v in report.violations if v.unknown] == []


def test_preview_json_carries_the_policy_result_and_retain_on_delete():
    code, stdout = cached_in_process("preview", "--stack", "prod", "--format", "json")
    assert code == 0
    document = json.loads(stdout)
    policy = document["policy"]
    assert policy["evaluated"] is True and policy["pack"]["name"] == "mlops-platform"
    assert policy["pack"]["config"].endswith("policies/config/prod.json")
    assert policy["violations"] == [] or all(v["level"] == "advisory" for v in policy["violations"])
    # The analyzer protocol has no retainOnDelete: the preview JSON shows it per resource instead.
    assert all("retainOnDelete" in r for r in document["resources"])


def _insecure_program():
    provider = tagged_provider(tags={"environment": "prod"})
    aws.s3.Bucket("leaky", opts=pulumi.ResourceOptions(provider=provider))


@pytest.mark.parametrize("fmt", ["json", "text", "markdown"])
def test_mandatory_violation_makes_preview_exit_1_and_is_shown_as_a_table(monkeypatch, capsys, fmt):
    """The CLI path end to end, with the program swapped for one that registers an insecure bucket."""
    monkeypatch.setattr(preview, "run_stack", lambda stack_file, unknowns=False, **_: run_component(_insecure_program, stack=stack_file.stack))
    monkeypatch.setattr(preview, "run_incluster", lambda stack_file, outputs, **_: run_component(lambda: None, stack=stack_file.stack))
    assert cli.main(["preview", "--stack", "prod", "--format", fmt]) == 1
    out = capsys.readouterr().out
    if fmt == "json":
        violations = json.loads(out)["policy"]["violations"]
        assert {"s3-public-access-block", "s3-sse-kms-cmk", "reliability-protect-data-stores", "tagging-required-tags"} <= {v["policy"] for v in violations}
        assert all(set(v) >= {"policy", "level", "urn", "message"} for v in violations)
    elif fmt == "text":
        assert "LEVEL" in out and "mandatory  s3-public-access-block" in out
    else:
        assert "| mandatory | `s3-public-access-block` | `leaky` |" in out


def test_preview_can_skip_the_pack(capsys):
    assert cli.main(["preview", "--stack", "dev", "--format", "json", "--no-policy"]) == 0
    assert json.loads(capsys.readouterr().out)["policy"]["evaluated"] is False
