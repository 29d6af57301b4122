"""``mlopsctl promote``: one endpoint's model package ARN rewritten, every other byte kept.

Each refusal is one line on stderr with exit 2, and leaves the stack file's bytes as they were.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from mlopsctl.cli import main
from mlopsctl.offline import promote as promote_module
from mlopsctl.offline.stackfile import StackFileError, load_stack_file
from tests.support.stackfiles import edited, real_stack_text

ACCOUNT, REGION = "210987654321", "us-east-1"
PRIMARY = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:model-package/churn/7"
CHALLENGER = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:model-package/churn/8"
NEW = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:model-package/churn/9"
KEY = "mlops-platform:platform.serving.endpoints[0].model.modelPackageArn"


def stacks_with(tmp_path: Path, text: str, stack: str = "staging", newline: str | None = None) -> Path:
    stacks = tmp_path / "stacks"
    stacks.mkdir(exist_ok=True)
    (stacks / f"Pulumi.{stack}.yaml").write_bytes(text.replace("\n", newline or "\n").encode())
    return stacks


def promote(capsys, stacks: Path, arn: str = NEW, endpoint: str = "churn", stack: str = "staging"):
    code = main(["promote", "--stack", stack, "--endpoint", endpoint, "--model-package-arn", arn, "--stacks-dir", str(stacks)])
    out, err = capsys.readouterr()
    return code, out, err


def test_rewrites_only_the_value_and_says_what_changed(tmp_path, capsys):
    text = real_stack_text("staging")
    stacks = stacks_with(tmp_path, text)
    code, out, err = promote(capsys, stacks)
    path = stacks / "Pulumi.staging.yaml"
    assert (code, err) == (0, "")
    assert out == f"{path}: {KEY}: {PRIMARY} → {NEW}\n"
    assert path.read_bytes() == edited(text, f"modelPackageArn: {PRIMARY}\n", f"modelPackageArn: {NEW}\n").encode()
    config = load_stack_file("staging", stacks).config["mlops-platform:platform"]["serving"]["endpoints"][0]
    assert (config["model"]["modelPackageArn"], config["instance"]["challenger"]["model"]["modelPackageArn"]) == (NEW, CHALLENGER)


@pytest.mark.parametrize(("written", "rewritten"), [
    (f'"{PRIMARY}"  # approved 2026-01-04', f'"{NEW}"  # approved 2026-01-04'),
    (f"'{PRIMARY}'", f"'{NEW}'"),
    (f"{PRIMARY}   # trailing comment", f"{NEW}   # trailing comment"),
])
def test_keeps_the_quoting_style_and_comments(tmp_path, capsys, written, rewritten):
    text = edited(real_stack_text("staging"), f"modelPackageArn: {PRIMARY}\n", f"modelPackageArn: {written}\n")
    stacks = stacks_with(tmp_path, text)
    assert promote(capsys, stacks)[0] == 0
    assert (stacks / "Pulumi.staging.yaml").read_bytes() == edited(text, written, rewritten).encode()


def test_keeps_crlf_line_ends_and_an_unnamespaced_platform_key(tmp_path, capsys):
    text = edited(real_stack_text("staging"), "  mlops-platform:platform:\n", "  platform:\n")
    stacks = stacks_with(tmp_path, text, newline="\r\n")
    assert promote(capsys, stacks)[0] == 0
    expected = edited(text, f"modelPackageArn: {PRIMARY}\n", f"modelPackageArn: {NEW}\n").replace("\n", "\r\n")
    assert (stacks / "Pulumi.staging.yaml").read_bytes() == expected.encode()


def test_the_same_arn_changes_nothing(tmp_path, capsys):
    stacks = stacks_with(tmp_path, real_stack_text("staging"))
    before = (stacks / "Pulumi.staging.yaml").read_bytes()
    code, out, _ = promote(capsys, stacks, PRIMARY)
    assert (code, out.endswith(f"already {PRIMARY}; nothing changed\n")) == (0, True)
    assert (stacks / "Pulumi.staging.yaml").read_bytes() == before


@pytest.mark.parametrize(("arn", "endpoint", "stack", "message"), [
    ("churn-9", "churn", "staging", "--model-package-arn: 'churn-9' is not a versioned model package ARN "
                                    "(arn:<partition>:sagemaker:<region>:<account>:model-package/<group>/<version>)"),
    (f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:model-package/churn", "churn", "staging", "is not a versioned model package ARN"),
    (f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:model-package-group/churn", "churn", "staging", "is not a versioned model package ARN"),
    (NEW.replace(REGION, "eu-west-1"), "churn", "staging", f"{KEY}: --model-package-arn {NEW.replace(REGION, 'eu-west-1')} has region "
                                                           f"eu-west-1; it must be {REGION}, the stack's region (aws:region)"),
    (NEW.replace(ACCOUNT, "111122223333"), "churn", "staging", "has account 111122223333; it must be 210987654321, the stack's account "
                                                               "(mlops-platform:platform.accountId)"),
    (NEW.replace("churn/9", "fraud/9"), "churn", "staging", "has group fraud; it must be churn, the modelPackageGroup of endpoint 'churn'"),
    (NEW.replace("arn:aws:", "arn:aws-cn:"), "churn", "staging", "has partition aws-cn; it must be aws"),
    (NEW, "fraud", "staging", "mlops-platform:platform.serving.endpoints: no endpoint named 'fraud'; endpoints: churn"),
    (NEW, "churn", "qa", "no such stack 'qa'"),
    (f"arn:aws:sagemaker:{REGION}:123456789012:model-package/churn/9", "churn", "dev",
     "mlops-platform:platform.serving.endpoints[0].model: endpoint 'churn' serves a prebuiltImage source, not a model package"),
])
def test_bad_input_is_one_line_and_leaves_the_file_untouched(tmp_path, capsys, arn, endpoint, stack, message):
    stacks = stacks_with(tmp_path, real_stack_text("staging"))
    stacks_with(tmp_path, real_stack_text("dev"), "dev")
    before = {path.name: path.read_bytes() for path in stacks.iterdir()}
    code, out, err = promote(capsys, stacks, arn, endpoint, stack)
    assert (code, out, err.count("\n")) == (2, "", 1), err
    assert message in err
    assert {path.name: path.read_bytes() for path in stacks.iterdir()} == before


def test_an_anchored_value_shared_with_the_challenger_is_left_to_a_person(tmp_path, capsys):
    text = edited(real_stack_text("staging"), f"modelPackageArn: {PRIMARY}\n", f"modelPackageArn: &package {PRIMARY}\n")
    text = edited(text, f"modelPackageArn: {CHALLENGER}\n", "modelPackageArn: *package\n")
    stacks = stacks_with(tmp_path, text)
    code, _, err = promote(capsys, stacks)
    assert (code, f"written with an anchor, alias, tag or escape ('&package {PRIMARY}')" in err) == (2, True), err
    assert (stacks / "Pulumi.staging.yaml").read_text() == text


def test_a_block_scalar_is_left_to_a_person(tmp_path, capsys):
    text = edited(real_stack_text("staging"), f"modelPackageArn: {PRIMARY}\n", f"modelPackageArn: >-\n              {PRIMARY}\n")
    stacks = stacks_with(tmp_path, text)
    code, _, err = promote(capsys, stacks)
    assert (code, "written as a block or multi-line scalar" in err) == (2, True), err
    assert (stacks / "Pulumi.staging.yaml").read_text() == text


def test_a_rewrite_that_would_not_load_is_not_written(tmp_path, capsys, monkeypatch):
    stacks = stacks_with(tmp_path, real_stack_text("staging"))
    before = (stacks / "Pulumi.staging.yaml").read_bytes()

    def refuse(stack, path, text, **kwargs):
        assert NEW in text  # only the rewritten text is parsed here
        raise StackFileError(f"{path}: line 83: not valid YAML: something")

    monkeypatch.setattr(promote_module, "parse_stack_text", refuse)
    code, _, err = promote(capsys, stacks)
    assert code == 2 and err.endswith("the rewritten file would not load (" + f"{stacks / 'Pulumi.staging.yaml'}: line 83: not valid YAML: something); left unchanged\n")
    assert (stacks / "Pulumi.staging.yaml").read_bytes() == before


def test_a_rewrite_that_changes_anything_else_is_not_written(tmp_path, capsys, monkeypatch):
    stacks = stacks_with(tmp_path, real_stack_text("staging"))
    before = (stacks / "Pulumi.staging.yaml").read_bytes()
    rewrite = promote_module._rewritten
    monkeypatch.setattr(promote_module, "_rewritten", lambda text, *args: rewrite(text, *args).replace(CHALLENGER, NEW))
    code, _, err = promote(capsys, stacks)
    assert code == 2 and err.endswith(f"{KEY}: the rewritten file would change more than this value; left unchanged\n"), err
    assert (stacks / "Pulumi.staging.yaml").read_bytes() == before
