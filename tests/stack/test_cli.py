"""The mlopsctl command line: each preview contract once as a user runs it (a subprocess), the
formats and flags in-process, rendering the cached previews."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from mlopsctl.offline import preview
from tests.support.cli import cached_in_process, mlopsctl, run_in_process
from tests.support.stacks import ROOT, stack_preview

PROD_JSON = ("preview", "--stack", "prod", "--format", "json")

pytestmark = pytest.mark.xdist_group("prod-preview-subprocess")  # its module fixture runs once


def _other_hash_seed() -> str:
    """A PYTHONHASHSEED unlike this process's, so that set and dict-of-set orders differ between the two."""
    ours = os.environ.get("PYTHONHASHSEED", "")
    return str(int(ours) + 1) if ours.isdigit() else "1"


@pytest.fixture(scope="module")
def prod_json_subprocess():
    """The prod preview with the pack, both layers, as ``mlopsctl preview`` prints it from a fresh process."""
    result = mlopsctl(*PROD_JSON, env={"PYTHONHASHSEED": _other_hash_seed()})
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_preview_json_follows_the_contract(prod_json_subprocess):
    document = json.loads(prod_json_subprocess)
    assert document["stack"] == "prod"
    assert set(document) >= {"stack", "resources", "policy", "cost"}
    assert document["policy"]["evaluated"] is True and [layer["project"] for layer in document["layers"]] == ["mlops-platform", "mlops-platform-incluster"]
    keys = {"urn", "type", "name", "parent", "custom", "protect", "retainOnDelete", "deleteBeforeReplace", "ignoreChanges",
            "replaceOnChanges", "additionalSecretOutputs", "provider", "dependencies", "propertyDependencies", "inputs"}
    assert document["resources"] and all(set(r) == keys for r in document["resources"])


def test_two_previews_of_one_commit_are_byte_for_byte_equal(prod_json_subprocess):
    """Registration order, dependency order, hash seeds and the pack's parallel analysis vary; the output does not.

    One run is the subprocess above (its own hash seed, a cold start); the other runs in this
    worker, which has other previews' caches warm.
    """
    code, stdout = cached_in_process(*PROD_JSON)
    assert code == 0
    assert stdout == prod_json_subprocess and len(stdout) > 100_000


@pytest.mark.parametrize("fmt", ["text", "markdown"])
def test_preview_text_and_markdown(monkeypatch, fmt):
    cached = stack_preview("staging")

    def previewed(stack, *, stacks_dir, unknowns, policy):
        assert (stack, stacks_dir, unknowns, policy) == ("staging", ROOT / "stacks", False, False)  # --no-policy reached it
        return cached

    monkeypatch.setattr(preview, "preview_stack", previewed)
    code, stdout = run_in_process("preview", "--stack", "staging", "--format", fmt, "--no-policy")
    assert code == 0
    assert stdout == {"text": preview.render_text, "markdown": preview.render_markdown}[fmt](cached)
    assert "pulumi:providers:aws" in stdout
    if fmt == "markdown":
        assert stdout.startswith("### Offline preview: `staging`")
        assert "| Type | Count |" in stdout
    else:
        assert "Resources:" in stdout and "+ mlops:index:MlopsPlatform" in stdout


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
    code, stdout = run_in_process("preview", "--stack", "dev", "--stacks-dir", str(tmp_path), "--format", "json", "--no-policy")
    assert code == 0
    document = json.loads(stdout)
    assert document["secrets"]["keys"] == ["mlops-platform:platform.costCenter"]
    provider = next(r for r in document["resources"] if r["type"] == "pulumi:providers:aws")
    assert json.loads(provider["inputs"]["defaultTags"])["tags"]["cost-center"] == "[secret: not decrypted offline]"


def test_bad_arguments_exit_2():
    result = mlopsctl("preview", "--stack", "dev", "--format", "yaml")
    assert result.returncode == 2
    assert "invalid choice" in result.stderr


def _unwritable_directory(tmp_path):
    """A directory this process may not write: a read-only one of our own, or (as root, who may write any) one of /proc."""
    own = tmp_path / "read-only"
    own.mkdir()
    own.chmod(0o500)
    for candidate in (own, Path("/proc/self")):
        if not os.access(candidate, os.W_OK):
            return candidate
    pytest.fail("found no directory this process cannot write")


@pytest.mark.parametrize("flag", ["--out", "--json-out"])
def test_an_unusable_output_path_is_refused_before_any_preview(monkeypatch, tmp_path, capsys, flag):
    from mlopsctl import cli
    from mlopsctl.review.diff import run

    monkeypatch.setattr(run, "run_diff", lambda *args, **kwargs: pytest.fail("the diff ran despite a bad output path"))
    unwritable = _unwritable_directory(tmp_path)
    cases = {
        str(tmp_path / "missing" / "diff.md"): f"directory {tmp_path / 'missing'} does not exist",
        str(tmp_path): "is a directory",
        str(unwritable / "diff.md"): "not writable",
    }
    for path, reason in cases.items():
        with pytest.raises(SystemExit) as stopped:
            cli.main(["diff", "--stack", "dev", "--base", "HEAD", flag, path])
        out, err = capsys.readouterr()
        assert (stopped.value.code, out) == (2, "")
        assert err == f"mlopsctl diff: error: argument {flag}: {path}: {reason}\n"
