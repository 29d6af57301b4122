"""The mlopsctl command line, run as a user runs it (a subprocess)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.support.stacks import ROOT


def mlopsctl(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "mlopsctl", *args], cwd=ROOT, capture_output=True, text=True, timeout=120)


def test_preview_json_follows_the_contract():
    result = mlopsctl("preview", "--stack", "dev", "--format", "json", "--no-policy")  # the pack: test_policies_stacks.py
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["stack"] == "dev"
    assert set(document) >= {"stack", "resources", "policy", "cost"}
    keys = {"urn", "type", "name", "parent", "custom", "protect", "retainOnDelete", "deleteBeforeReplace", "ignoreChanges",
            "replaceOnChanges", "additionalSecretOutputs", "provider", "dependencies", "propertyDependencies", "inputs"}
    assert document["resources"] and all(set(r) == keys for r in document["resources"])


@pytest.mark.parametrize("fmt", ["text", "markdown"])
def test_preview_text_and_markdown(fmt):
    result = mlopsctl("preview", "--stack", "staging", "--format", fmt, "--no-policy")
    assert result.returncode == 0, result.stderr
    assert "pulumi:providers:aws" in result.stdout
    if fmt == "markdown":
        assert result.stdout.startswith("### Offline preview: `staging`")
        assert "| Type | Count |" in result.stdout
    else:
        assert "Resources:" in result.stdout and "+ mlops:index:MlopsPlatform" in result.stdout


def test_unknown_stack_is_one_line_and_exit_2():
    result = mlopsctl("preview", "--stack", "qa")
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.strip().count("\n") == 0
    assert "no such stack 'qa' in stacks; available stacks: dev, prod, staging" in result.stderr
    assert "Traceback" not in result.stderr


def test_bad_config_is_one_line_exit_2_and_prints_no_resources(tmp_path):
    text = (ROOT / "stacks" / "Pulumi.dev.yaml").read_text().replace("azCount: 2", "azCount: 7")
    (tmp_path / "Pulumi.dev.yaml").write_text(text)
    result = mlopsctl("preview", "--stack", "dev", "--stacks-dir", str(tmp_path), "--format", "json")
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.strip() == (
        f"error: {tmp_path}/Pulumi.dev.yaml: mlops-platform:platform.network.azCount: Input should be less than or equal to 3"
    )


def test_secure_values_become_marked_placeholders(tmp_path):
    text = (ROOT / "stacks" / "Pulumi.dev.yaml").read_text().replace(
        "    costCenter: cc-ml-dev", "    costCenter:\n      secure: v1:AAAABBBBCCCC"
    )
    (tmp_path / "Pulumi.dev.yaml").write_text(text)
    result = mlopsctl("preview", "--stack", "dev", "--stacks-dir", str(tmp_path), "--format", "json", "--no-policy")
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["secrets"]["keys"] == ["mlops-platform:platform.costCenter"]
    provider = next(r for r in document["resources"] if r["type"] == "pulumi:providers:aws")
    assert json.loads(provider["inputs"]["defaultTags"])["tags"]["cost-center"] == "[secret: not decrypted offline]"


def test_bad_arguments_exit_2():
    result = mlopsctl("preview", "--stack", "dev", "--format", "yaml")
    assert result.returncode == 2
    assert "invalid choice" in result.stderr


def test_two_previews_of_one_commit_are_byte_for_byte_equal():
    """Registration order, dependency order and the pack's parallel analysis vary; the output does not."""
    runs = [
        subprocess.run([sys.executable, "-m", "mlopsctl", "preview", "--stack", "prod", "--format", "json"], cwd=ROOT, capture_output=True, text=True, timeout=300)
        for _ in range(2)
    ]
    assert [r.returncode for r in runs] == [0, 0], runs[0].stderr
    assert runs[0].stdout == runs[1].stdout and len(runs[0].stdout) > 100_000
