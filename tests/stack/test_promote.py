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


# --- prod deploys staging's packages: promotion.promotedFrom / promotesTo --------------------------

PROD_ACCOUNT = "345678901234"
PROD_PRIMARY = f"arn:aws:sagemaker:{REGION}:{PROD_ACCOUNT}:model-package/churn/7"
# In the prod stack file the endpoint's group is churn too; staging's account is ACCOUNT.
STAGING_PACKAGE = NEW


def prod_text() -> str:
    """The prod stack file as it was before prod first deployed one of staging's packages (the shipped one serves staging's churn/7)."""
    return real_stack_text("prod").replace(f"modelPackageArn: {PRIMARY}\n", f"modelPackageArn: {PROD_PRIMARY}\n")


def both_stacks(tmp_path: Path, staging: str | None = None, prod: str | None = None) -> Path:
    stacks_with(tmp_path, staging if staging is not None else real_stack_text("staging"))
    return stacks_with(tmp_path, prod if prod is not None else prod_text(), "prod")


def promote_from(capsys, stacks: Path, *extra: str, stack: str = "prod", from_stack: str = "staging"):
    code = main(["promote", "--stack", stack, "--from-stack", from_stack, *extra, "--stacks-dir", str(stacks)])
    out, err = capsys.readouterr()
    return code, out, err


def snapshot(stacks: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in stacks.iterdir()}


def test_prod_accepts_a_package_of_the_account_it_is_promoted_from(tmp_path, capsys):
    text = prod_text()
    stacks = both_stacks(tmp_path, prod=text)
    code, out, err = promote(capsys, stacks, STAGING_PACKAGE, stack="prod")
    assert (code, err) == (0, ""), err
    assert out == f"{stacks / 'Pulumi.prod.yaml'}: {KEY}: {PROD_PRIMARY} → {STAGING_PACKAGE}\n"
    assert (stacks / "Pulumi.prod.yaml").read_bytes() == edited(text, f"modelPackageArn: {PROD_PRIMARY}\n", f"modelPackageArn: {STAGING_PACKAGE}\n").encode()


def test_prod_still_refuses_any_other_account(tmp_path, capsys):
    stacks = both_stacks(tmp_path)
    before = snapshot(stacks)
    other = STAGING_PACKAGE.replace(ACCOUNT, "111122223333")
    code, out, err = promote(capsys, stacks, other, stack="prod")
    assert (code, out, err.count("\n")) == (2, "", 1), err
    assert err.endswith(f"has account 111122223333; it must be {PROD_ACCOUNT}, the stack's account (mlops-platform:platform.accountId) or "
                        f"{ACCOUNT}, staging's, which the stack is promoted from (mlops-platform:platform.promotion.promotedFrom.accountId)\n")
    assert snapshot(stacks) == before


def test_from_stack_gives_each_shared_endpoint_the_other_stacks_package(tmp_path, capsys):
    prod = prod_text()
    stacks = both_stacks(tmp_path, prod=prod)
    staging_before = (stacks / "Pulumi.staging.yaml").read_bytes()
    code, out, err = promote_from(capsys, stacks)
    assert (code, err) == (0, ""), err
    assert out == f"{stacks / 'Pulumi.prod.yaml'}: {KEY}: {PROD_PRIMARY} → {PRIMARY}\n"
    assert (stacks / "Pulumi.prod.yaml").read_bytes() == edited(prod, f"modelPackageArn: {PROD_PRIMARY}\n", f"modelPackageArn: {PRIMARY}\n").encode()
    assert (stacks / "Pulumi.staging.yaml").read_bytes() == staging_before
    code, out, _ = promote_from(capsys, stacks, "--endpoint", "churn")
    assert (code, out) == (0, f"{stacks / 'Pulumi.prod.yaml'}: {KEY}: already {PRIMARY}; nothing changed\n")


def _second_endpoint(text: str, after: str, account: str, version: int, count: int) -> str:
    block = ("        - name: fraud\n          modelPackageGroup: fraud\n          model:\n"
             f"            modelPackageArn: arn:aws:sagemaker:{REGION}:{account}:model-package/fraud/{version}\n"
             f"          instance: {{instanceType: ml.m5.large, initialCount: {count}, minCount: {count}, maxCount: {count}}}\n"
             "          dataCapture: {enabled: false}\n")
    return edited(text, after, after + block)


def two_endpoint_stacks(tmp_path: Path) -> tuple[Path, str]:
    staging = _second_endpoint(real_stack_text("staging"), "alarms: {serverErrorsThreshold: 5, modelLatencyThresholdMs: 500}\n", ACCOUNT, 3, 1)
    prod = _second_endpoint(prod_text(), "alarms: {serverErrorsThreshold: 3, modelLatencyThresholdMs: 300, latencyStatistic: p99}\n",
                            PROD_ACCOUNT, 2, 2)
    return both_stacks(tmp_path, staging, prod), prod


def test_from_stack_writes_several_endpoints_at_once(tmp_path, capsys):
    stacks, prod = two_endpoint_stacks(tmp_path)
    code, out, err = promote_from(capsys, stacks)
    assert (code, err) == (0, ""), err
    fraud_key = KEY.replace("endpoints[0]", "endpoints[1]")
    fraud_old, fraud_new = (f"arn:aws:sagemaker:{REGION}:{PROD_ACCOUNT}:model-package/fraud/2", f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:model-package/fraud/3")
    path = stacks / "Pulumi.prod.yaml"
    assert out.splitlines() == [f"{path}: {KEY}: {PROD_PRIMARY} → {PRIMARY}", f"{path}: {fraud_key}: {fraud_old} → {fraud_new}"]
    expected = edited(edited(prod, f"modelPackageArn: {PROD_PRIMARY}\n", f"modelPackageArn: {PRIMARY}\n"), fraud_old, fraud_new)
    assert path.read_bytes() == expected.encode()


def test_from_stack_writes_nothing_when_one_endpoint_is_refused(tmp_path, capsys):
    stacks, _ = two_endpoint_stacks(tmp_path)
    staging = (stacks / "Pulumi.staging.yaml").read_text()
    (stacks / "Pulumi.staging.yaml").write_text(staging.replace("- name: fraud\n          modelPackageGroup: fraud\n",
                                                                 "- name: fraud\n          modelPackageGroup: fraud-v2\n")
                                                .replace("model-package/fraud/3", "model-package/fraud-v2/3"))
    before = snapshot(stacks)
    code, _, err = promote_from(capsys, stacks)
    assert (code, err.count("\n")) == (2, 1), err
    assert "endpoints[1].model.modelPackageArn: staging's package arn:aws:sagemaker:us-east-1:210987654321:model-package/fraud-v2/3 has group fraud-v2; " \
           "it must be fraud, the modelPackageGroup of endpoint 'fraud'" in err
    assert snapshot(stacks) == before  # churn, which alone would have been accepted, is not written either


PROMOTED_FROM = '      promotedFrom: {environment: staging, accountId: "210987654321"}\n'
PROMOTES_TO = '      promotesTo: {environment: prod, accountId: "345678901234"}\n'


@pytest.mark.parametrize(("staging_edit", "prod_edit", "args", "message"), [
    (None, (PROMOTED_FROM, ""), (), "Pulumi.prod.yaml: mlops-platform:platform.promotion.promotedFrom: is not set, not staging; "
                                     "promote --from-stack needs both stack files to agree that staging promotes to prod"),
    (None, (PROMOTED_FROM, PROMOTED_FROM.replace("210987654321", "111122223333")), (),
     "Pulumi.prod.yaml: mlops-platform:platform.promotion.promotedFrom.accountId: 111122223333, but "),
    ((PROMOTES_TO, ""), None, (), "Pulumi.staging.yaml: mlops-platform:platform.promotion.promotesTo: is not set, not prod; "),
    ((PROMOTES_TO, PROMOTES_TO.replace("345678901234", "111122223333")), None, (),
     "Pulumi.staging.yaml: mlops-platform:platform.promotion.promotesTo.accountId: 111122223333, but "),
    ("moved to account 222233334444", None, (),
     "Pulumi.prod.yaml: mlops-platform:platform.promotion.promotedFrom.accountId: 210987654321, but "),
    (None, None, ("--endpoint", "fraud"), "Pulumi.prod.yaml: mlops-platform:platform.serving.endpoints: no endpoint named 'fraud'; endpoints: churn"),
    (("        - name: churn\n", "        - name: scoring\n"), None, (),
     "--from-stack staging: no endpoint of "),
    (None, None, ("--from-stack", "dev"), "Pulumi.prod.yaml: mlops-platform:platform.promotion.promotedFrom: names staging, not dev; "),
    (None, None, ("--stack", "staging", "--from-stack", "prod"), "Pulumi.staging.yaml: mlops-platform:platform.promotion.promotedFrom: is not set, not prod"),
])
def test_from_stack_refuses_stack_files_that_do_not_agree(tmp_path, capsys, staging_edit, prod_edit, args, message):
    staging, prod = real_stack_text("staging"), prod_text()
    if staging_edit == "moved to account 222233334444":  # every ARN of staging's too, so staging itself stays valid
        staging = staging.replace(ACCOUNT, "222233334444")
    elif staging_edit:
        staging = edited(staging, *staging_edit)
    if prod_edit:
        prod = edited(prod, *prod_edit)
    stacks = both_stacks(tmp_path, staging, prod)
    stacks_with(tmp_path, real_stack_text("dev"), "dev")
    before = snapshot(stacks)
    flags = dict(zip(args[::2], args[1::2], strict=True))
    stack, from_stack = flags.pop("--stack", "prod"), flags.pop("--from-stack", "staging")
    code, out, err = promote_from(capsys, stacks, *[x for kv in flags.items() for x in kv], stack=stack, from_stack=from_stack)
    assert (code, out, err.count("\n")) == (2, "", 1), err
    assert message in err
    assert snapshot(stacks) == before


def test_from_stack_refuses_a_source_endpoint_without_a_model_package(tmp_path, capsys):
    # staging promoted from dev, whose churn serves a prebuilt image: nothing to copy.
    staging = edited(real_stack_text("staging"), PROMOTES_TO, PROMOTES_TO + '      promotedFrom: {environment: dev, accountId: "123456789012"}\n')
    dev = edited(real_stack_text("dev"), "    promotion:\n", '    promotion:\n      promotesTo: {environment: staging, accountId: "210987654321"}\n')
    stacks = stacks_with(tmp_path, staging)
    stacks_with(tmp_path, dev, "dev")
    before = snapshot(stacks)
    code, _, err = promote_from(capsys, stacks, stack="staging", from_stack="dev")
    assert (code, err.count("\n")) == (2, 1), err
    assert err.endswith("Pulumi.dev.yaml: mlops-platform:platform.serving.endpoints[0].model: endpoint 'churn' serves no model package in dev, "
                        "so there is none to promote to staging\n")
    assert snapshot(stacks) == before


@pytest.mark.parametrize(("args", "message"), [
    (["--model-package-arn", NEW], "error: --endpoint: required with --model-package-arn (which endpoint gets the package)\n"),
    (["--endpoint", "churn"], "one of the arguments --model-package-arn --from-stack is required\n"),
    (["--endpoint", "churn", "--model-package-arn", NEW, "--from-stack", "prod"], "argument --from-stack: not allowed with argument --model-package-arn\n"),
    (["--from-stack", "prod", "--pr-dir", "no-such-dir"], "argument --pr-dir: no-such-dir: not a directory\n"),
])
def test_the_package_comes_from_exactly_one_place(tmp_path, capsys, args, message):
    stacks = stacks_with(tmp_path, real_stack_text("staging"))
    before = snapshot(stacks)
    try:
        code = main(["promote", "--stack", "staging", *args, "--stacks-dir", str(stacks)])
    except SystemExit as exc:  # argparse refuses while parsing, also one line and exit 2
        code = exc.code
    err = capsys.readouterr().err
    assert (code, err.count("\n"), err.endswith(message)) == (2, 1, True), err
    assert snapshot(stacks) == before


# --- the pull request's files (--pr-dir) ------------------------------------------------------------

def test_pr_dir_holds_the_pull_request_of_a_change(tmp_path, capsys):
    stacks = stacks_with(tmp_path, real_stack_text("staging"))
    pr_dir = tmp_path / "pr"
    pr_dir.mkdir()
    code = main(["promote", "--stack", "staging", "--endpoint", "churn", "--model-package-arn", NEW, "--stacks-dir", str(stacks),
                 "--pr-dir", str(pr_dir), "--pr-event", "repository_dispatch\nmlops-model-approved   (`test` | <b>)"])
    assert code == 0, capsys.readouterr().err
    files = {path.name: path.read_text() for path in pr_dir.iterdir()}
    assert set(files) == {"branch", "title", "body.md", "path"}
    assert files["branch"] == "promote/staging/churn/9\n"
    assert files["title"] == "Promote staging endpoint churn to churn/9\n"
    assert files["path"] == f"{stacks / 'Pulumi.staging.yaml'}\n"
    body = files["body.md"].splitlines()
    assert body[0] == "<!-- mlopsctl-promote stack=staging -->"
    assert f"| `churn` | `churn` | 9 | staging's own (account {ACCOUNT}) | `{NEW}` | `{PRIMARY}` |" in body
    # One line, inert in markdown, whatever it was given.
    assert r"**Approval event:** repository\_dispatch mlops-model-approved (\`test\` &#124; &lt;b&gt;)" in body


def test_pr_dir_is_left_empty_when_nothing_changed_or_the_promotion_is_refused(tmp_path, capsys):
    stacks = both_stacks(tmp_path)
    pr_dir = tmp_path / "pr"
    pr_dir.mkdir()
    for stale in ("branch", "title", "body.md", "path"):
        (pr_dir / stale).write_text("from an earlier run\n")
    (pr_dir / "unrelated").write_text("kept\n")
    assert main(["promote", "--stack", "staging", "--endpoint", "churn", "--model-package-arn", PRIMARY, "--stacks-dir", str(stacks),
                 "--pr-dir", str(pr_dir)]) == 0
    assert sorted(p.name for p in pr_dir.iterdir()) == ["unrelated"]
    (pr_dir / "branch").write_text("from an earlier run\n")
    assert main(["promote", "--stack", "prod", "--from-stack", "dev", "--stacks-dir", str(stacks), "--pr-dir", str(pr_dir)]) == 2
    assert sorted(p.name for p in pr_dir.iterdir()) == ["unrelated"]
    capsys.readouterr()


def test_pr_dir_names_the_source_environment_and_every_endpoint_of_a_from_stack_promotion(tmp_path, capsys):
    stacks, _ = two_endpoint_stacks(tmp_path)
    pr_dir = tmp_path / "pr"
    pr_dir.mkdir()
    assert main(["promote", "--stack", "prod", "--from-stack", "staging", "--stacks-dir", str(stacks), "--pr-dir", str(pr_dir)]) == 0
    assert (pr_dir / "branch").read_text() == "promote/prod/from-staging/churn-staging-7+fraud-staging-3\n"
    assert (pr_dir / "title").read_text() == "Promote prod to staging's packages: churn to churn/7, fraud to fraud/3\n"
    body = (pr_dir / "body.md").read_text()
    assert f"| `fraud` | `fraud` | 3 | staging's (account {ACCOUNT}), shared with prod |" in body
    assert "(`churn`: linear steps of 25% of capacity, 600 s apart; `fraud`: a canary of 10% of capacity, the rest after 300 s)" in body
    assert "**Approval event:** mlopsctl promote run by hand" in body
    capsys.readouterr()
