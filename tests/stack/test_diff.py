"""`mlopsctl diff` against a throwaway git repository with two commits.

The repository is a copy of this project. Its first commit adds a small fixture capability to the
program (a wrapper around ``components.program.build``); the second commit changes that fixture
and the dev stack file, so the diff must show a create, a delete, nested and secret updates, a
replace-on-change input and an option change, whatever the real platform registers by then.

The diff of that repository runs once per module, as the CLI runs it: the base commit's own code
previews in a subprocess in a temporary worktree, the head in this process (with the head commit's
fixture registered as its program hook does, and its stack files). The CLI then renders that one
diff in every format; a stack new in the change runs the whole CLI as a subprocess.
"""

from __future__ import annotations

import contextlib
import functools
import io
import json
import subprocess
import sys
import types
from pathlib import Path

import pytest

import components.program
from mlopsctl import cli
from mlopsctl.offline.preview import preview_stack
from mlopsctl.review.diff import run as diff_run
from mlopsctl.review.diff.compare import MASK, Side, StackDiff, compare, diff_values
from mlopsctl.review.diff.render import GITHUB_COMMENT_LIMIT, marker, render_markdown, render_text
from mlopsctl.review.diff.replace_rules import ReplaceTable, load_replace_table
from tests.support.gitrepo import copy_project, git, init_repo

pytestmark = pytest.mark.xdist_group("diff-fixture-repo")  # the module fixture runs its diff once

STACK_FILE = "stacks/Pulumi.dev.yaml"
BASE_SECRET, HEAD_SECRET = "hunter2-base-plaintext", "hunter2-head-plaintext"
CIPHERTEXT = "v1:AAAABBBBCCCCsecretciphertext"

PROGRAM_HOOK = '''

# --- diff test fixture: registers components/difffixture.py's resources under the platform ---
_build_platform = build


def build(config):
    platform = _build_platform(config)
    from components.difffixture import register

    register(platform)
    return platform
'''

FIXTURE_BASE = f'''
import pulumi
import pulumi_aws as aws


def register(platform):
    opts = pulumi.ResourceOptions(parent=platform)
    aws.s3.Bucket("fixture-retired", bucket="fixture-retired-bucket", opts=opts)
    aws.s3.Bucket("fixture-data", bucket="fixture-data-v1", tags={{"tier": "gold"}}, opts=opts)
    aws.ssm.Parameter("fixture-token", type="SecureString", value=pulumi.Output.secret("{BASE_SECRET}"), opts=opts)
    aws.eks.NodeGroup(
        "fixture-ng",
        cluster_name="fixture",
        node_role_arn="arn:aws:iam::123456789012:role/fixture-node",
        subnet_ids=["subnet-a", "subnet-b"],
        scaling_config=aws.eks.NodeGroupScalingConfigArgs(min_size=0, desired_size=1, max_size=3),
        opts=pulumi.ResourceOptions(parent=platform, ignore_changes=["scalingConfig.desiredSize"]),
    )
'''

FIXTURE_HEAD = f'''
import pulumi
import pulumi_aws as aws


def register(platform):
    opts = pulumi.ResourceOptions(parent=platform)
    aws.s3.Bucket("fixture-data", bucket="fixture-data-v2", tags={{"tier": "platinum"}}, opts=opts)
    aws.s3.Bucket("fixture-fresh", bucket="fixture-fresh-bucket", opts=opts)
    aws.ssm.Parameter("fixture-token", type="SecureString", value=pulumi.Output.secret("{HEAD_SECRET}"), opts=opts)
    aws.eks.NodeGroup(
        "fixture-ng",
        cluster_name="fixture",
        node_role_arn="arn:aws:iam::123456789012:role/fixture-node",
        subnet_ids=["subnet-a", "subnet-b"],
        scaling_config=aws.eks.NodeGroupScalingConfigArgs(min_size=0, desired_size=2, max_size=5),
        opts=pulumi.ResourceOptions(parent=platform, ignore_changes=["scalingConfig.desiredSize"], protect=True),
    )
'''


@pytest.fixture(scope="module")
def fixture_repo(tmp_path_factory) -> Path:
    repo = tmp_path_factory.mktemp("diff-repo")
    copy_project(repo)
    (repo / "components" / "program.py").write_text((repo / "components" / "program.py").read_text() + PROGRAM_HOOK)
    (repo / "components" / "difffixture.py").write_text(FIXTURE_BASE)
    init_repo(repo, "base")

    (repo / "components" / "difffixture.py").write_text(FIXTURE_HEAD)
    stack_text = (repo / STACK_FILE).read_text()
    assert "    costCenter: cc-ml-dev\n" in stack_text
    (repo / STACK_FILE).write_text(stack_text.replace("    costCenter: cc-ml-dev\n", f"    costCenter:\n      secure: {CIPHERTEXT}\n"))
    git(repo, "commit", "--quiet", "-am", "head")
    return repo


def mlopsctl(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "mlopsctl", *args], cwd=cwd, capture_output=True, text=True, timeout=300)


def _with_fixture(build, register):
    """``build`` followed by ``register(platform)``: what the fixture's program hook does."""

    def hooked(config):
        platform = build(config)
        register(platform)
        return platform

    return hooked


@pytest.fixture(scope="module")
def fixture_diff(fixture_repo) -> StackDiff:
    """``run_diff`` in the fixture repository, the head side in this process as the CLI runs it."""
    head_fixture = types.ModuleType("difffixture_head")
    exec(FIXTURE_HEAD, head_fixture.__dict__)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(diff_run, "ROOT", fixture_repo)
        patch.setattr(diff_run, "preview_stack", functools.partial(
            preview_stack, stacks_dir=fixture_repo / "stacks", incluster_stacks_dir=fixture_repo / "incluster" / "stacks"))
        patch.setattr(components.program, "build", _with_fixture(components.program.build, head_fixture.register))
        diff = diff_run.run_diff("dev", "HEAD~1")
    assert git(fixture_repo, "worktree", "list").count("\n") == 1, "the temporary base worktree was left behind"
    return diff


@pytest.fixture(scope="module")
def cli_diffs(fixture_diff, tmp_path_factory) -> dict[str, tuple[str, dict]]:
    """The CLI's output of the fixture diff per format, each run also writing its JSON document (``--json-out``)."""
    runs = {}
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(diff_run, "run_diff", lambda stack, base, head_label="working tree": fixture_diff)
        for fmt in ("json", "markdown", "text"):
            json_out = tmp_path_factory.mktemp(f"diff-{fmt}") / "diff.json"
            stdout = io.StringIO()
            with contextlib.redirect_stdout(stdout):
                code = cli.main(["diff", "--stack", "dev", "--base", "HEAD~1", "--format", fmt, "--json-out", str(json_out)])
            # The fixture's bare buckets break mandatory policies (public data), so the head exits 1.
            assert code == 1
            runs[fmt] = (stdout.getvalue(), json.loads(json_out.read_text()))
    return runs


@pytest.fixture(scope="module")
def json_diff(cli_diffs) -> dict:
    return cli_diffs["json"][1]


def _change(document: dict, name: str) -> dict:
    matches = [c for c in document["changes"] if c["name"] == name]
    assert len(matches) == 1, [c["name"] for c in document["changes"]]
    return matches[0]


def test_create_and_delete(json_diff):
    fresh = _change(json_diff, "fixture-fresh")
    retired = _change(json_diff, "fixture-retired")
    assert (fresh["op"], fresh["type"]) == ("create", "aws:s3/bucket:Bucket")
    assert (retired["op"], retired["type"]) == ("delete", "aws:s3/bucket:Bucket")
    assert json_diff["summary"]["create"] == 1 and json_diff["summary"]["delete"] == 1
    assert json_diff["base"]["label"].startswith("HEAD~1 (")


def test_update_lists_changed_paths_with_old_and_new_values(json_diff):
    data = _change(json_diff, "fixture-data")
    assert data["op"] == "update"
    paths = {c["path"]: (c["old"], c["new"]) for c in data["inputs"]}
    assert paths == {"bucket": ("fixture-data-v1", "fixture-data-v2"), "tags.tier": ("gold", "platinum")}


def test_bucket_rename_is_a_replacement_from_the_derived_facts(json_diff):
    data = _change(json_diff, "fixture-data")
    assert data["label"] == "replace" and data["replace"] is True
    assert data["replaceReasons"] == ["bucket"]  # tags.tier changed too, in place
    assert "bucket" in load_replace_table().document["types"]["aws:s3/bucket:Bucket"]["replacePaths"]
    assert data["holdsData"] and json_diff["environment"] == "dev" and json_diff["blocked"] == []


def test_nested_path_option_change_and_ignore_changes(json_diff):
    node_group = _change(json_diff, "fixture-ng")
    assert node_group["label"] == "update"  # scalingConfig is updated in place
    assert [(c["path"], c["old"], c["new"]) for c in node_group["inputs"]] == [("scalingConfig.maxSize", 3, 5)]
    assert node_group["ignoredByIgnoreChanges"] == ["scalingConfig.desiredSize"]
    assert [(o["path"], o["old"], o["new"]) for o in node_group["options"]] == [("protect", False, True)]


def test_stack_file_change_reaches_the_provider_as_a_nested_json_path(json_diff):
    provider = next(c for c in json_diff["changes"] if c["type"] == "pulumi:providers:aws")
    paths = {c["path"]: (c["old"], c["new"]) for c in provider["inputs"]}
    assert paths['defaultTags.tags["cost-center"]'] == ("cc-ml-dev", "[secret: not decrypted offline]")


def test_policy_delta_comes_from_the_real_pack(json_diff):
    policy = json_diff["policy"]
    assert policy["evaluated"] is True
    new = {v["urn"].rsplit("::", 1)[-1] for v in policy["new"]}
    fixed = {v["urn"].rsplit("::", 1)[-1] for v in policy["fixed"]}
    assert "fixture-fresh" in new and "fixture-retired" not in new
    assert "fixture-retired" in fixed and "fixture-fresh" not in fixed
    assert any(v["level"] == "mandatory" for v in policy["headMandatory"])


def _assert_no_plaintext(output: str) -> None:
    for plaintext in (BASE_SECRET, HEAD_SECRET, "hunter2", CIPHERTEXT):
        assert plaintext not in output
    assert MASK in output  # the SSM parameter's value changed, shown masked
    assert "mlops-platform:platform.costCenter" in output  # the secure: key is named, its value is not


@pytest.mark.parametrize("fmt", ["text", "markdown"])
def test_secrets_never_show_in_text_or_markdown(cli_diffs, fmt, json_diff):
    stdout, document = cli_diffs[fmt]
    _assert_no_plaintext(stdout)
    assert document == json_diff  # --json-out: the same document whatever the format
    if fmt == "markdown":
        assert stdout.startswith(marker("dev"))
        assert "<b>fixture-data</b>: replace · <b>holds data</b> (bucket)" in stdout and "<code>fixture-fresh</code>" in stdout
    else:
        assert "~ aws:s3/bucket:Bucket  fixture-data  replace: bucket  [holds data]" in stdout
        assert "scalingConfig.maxSize: 3 -> 5" in stdout


def test_format_json_prints_the_json_out_document(cli_diffs):
    stdout, document = cli_diffs["json"]
    assert json.loads(stdout) == document


def test_secrets_never_show_in_json(json_diff):
    _assert_no_plaintext(json.dumps(json_diff))


def test_masked_secret_value_in_json(json_diff):
    token = _change(json_diff, "fixture-token")
    assert token["inputs"] == [{"path": "value", "old": MASK, "new": MASK, "masked": True}]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--stack", "dev", "--base", "no-such-ref"), "error: unknown git ref 'no-such-ref'"),
        (("--stack", "qa", "--base", "HEAD~1"), "error: stacks/Pulumi.qa.yaml: no such stack 'qa'; available stacks: dev, prod, staging"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(fixture_repo, args, message):
    result = mlopsctl(fixture_repo, "diff", *args)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.strip() == message


def test_not_a_git_repository_is_one_line_and_exit_2(tmp_path):
    copy_project(tmp_path)
    result = mlopsctl(tmp_path, "diff", "--stack", "dev", "--base", "HEAD~1")
    assert result.returncode == 2
    assert result.stderr.strip() == f"error: {tmp_path} is not inside a git repository"


# ---------------------------------------------------------------------------------------------
# compare() and rendering on hand-built previews: cost and policy deltas, truncation


def _resource(name: str, type_: str = "aws:s3/bucket:Bucket", **inputs) -> dict:
    return {"urn": f"urn:pulumi:dev::mlops-platform::{type_}::{name}", "type": type_, "name": name, "protect": False,
            "retainOnDelete": False, "deleteBeforeReplace": False, "ignoreChanges": [], "replaceOnChanges": [],
            "additionalSecretOutputs": [], "provider": None, "inputs": inputs}


def _preview(resources, cost=None, violations=None) -> dict:
    policy = {"evaluated": violations is not None, "violations": violations or []}
    return {"resources": resources, "cost": cost or {"evaluated": False}, "policy": policy}


def _violation(policy, name, level="mandatory") -> dict:
    return {"policy": policy, "level": level, "urn": f"urn:pulumi:dev::mlops-platform::aws:s3/bucket:Bucket::{name}", "message": f"{policy} on {name}"}


def test_cost_and_policy_deltas_when_both_sides_evaluated():
    base = _preview([_resource("a")], {"evaluated": True, "monthly": {"idle": 100, "expected": 250.5, "ceiling": 900}},
                    [_violation("bucket-versioning", "a"), _violation("bucket-encryption", "a", "advisory")])
    head = _preview([_resource("a")], {"evaluated": True, "monthly": {"idle": 110, "expected": 240.5, "ceiling": None}},
                    [_violation("bucket-encryption", "a", "advisory"), _violation("budget", "a")])
    diff = compare("dev", Side("main (abc1234)", base, None), Side("working tree", head, None))
    assert diff.cost["monthly"]["idle"] == {"base": 100.0, "head": 110.0, "delta": 10.0}
    assert diff.cost["monthly"]["expected"]["delta"] == -10.0
    assert diff.cost["monthly"]["ceiling"] == {"base": 900.0, "head": None, "delta": None}  # unknown stays unknown
    assert [v["policy"] for v in diff.policy["new"]] == ["budget"]
    assert [v["policy"] for v in diff.policy["fixed"]] == ["bucket-versioning"]
    assert diff.policy["remaining"] == 1
    assert len(diff.head_mandatory_violations()) == 1
    text = render_text(diff)
    assert "idle $100.00 -> $110.00 (+$10.00)" in text and "expected $250.50 -> $240.50 (-$10.00)" in text
    assert "ceiling $900.00 -> unknown (unknown)" in text
    assert "new   [mandatory] budget: a: budget on a" in text and "fixed [mandatory] bucket-versioning" in text
    markdown = render_markdown(diff)
    assert "| idle | $100.00 | $110.00 | +$10.00 |" in markdown
    assert "1 mandatory violation(s) at the head" in markdown


def test_cost_and_policy_not_evaluated_on_either_side():
    base = _preview([], {"evaluated": True, "monthly": {"idle": 1, "expected": 1, "ceiling": 1}}, [])
    head = _preview([])
    diff = compare("dev", Side("main", base, None), Side("working tree", head, None))
    assert diff.cost == {"evaluated": False, "note": "not evaluated (the head preview has no priced monthly cost)"}
    assert diff.policy["evaluated"] is False
    assert "Cost: not evaluated (the head preview has no priced monthly cost)" in render_text(diff)
    assert "_not evaluated (the head preview has no policy results)_" in render_markdown(diff)


def test_endpoint_config_variant_change_replaces_but_tags_do_not():
    token = "aws:sagemaker/endpointConfiguration:EndpointConfiguration"
    old = _resource("ec", token, productionVariants=[{"variantName": "blue", "instanceType": "ml.m5.large"}], tags={"a": "1"})
    new = _resource("ec", token, productionVariants=[{"variantName": "blue", "instanceType": "ml.g5.xlarge"}], tags={"a": "2"})
    diff = compare("dev", Side("b", _preview([old]), None), Side("h", _preview([new]), None))
    (change,) = diff.changes
    assert change.label == "replace"
    assert change.replace_reasons == ["productionVariants[0].instanceType"]
    tags_only = compare("dev", Side("b", _preview([old]), None),
                        Side("h", _preview([{**old, "inputs": {**old["inputs"], "tags": {"a": "2"}}}]), None))
    assert tags_only.changes[0].label == "update"


def test_a_new_key_replaces_an_image_repository_which_prod_refuses_while_lifecycle_changes_replace_only_the_rules():
    token = "aws:ecr/repository:Repository"
    old = _resource("serve", token, encryptionConfigurations=[{"encryptionType": "KMS", "kmsKey": "arn:aws:kms:us-east-1:1:key/a"}], imageTagMutability="IMMUTABLE")
    rekeyed = _resource("serve", token, encryptionConfigurations=[{"encryptionType": "KMS", "kmsKey": "arn:aws:kms:us-east-1:1:key/b"}], imageTagMutability="IMMUTABLE")
    diff = compare("prod", Side("b", _preview([old]), None), Side("h", _preview([rekeyed]), None), environment="prod")
    (change,) = diff.changes
    assert (change.label, change.replace_reasons) == ("replace", ["encryptionConfigurations[0].kmsKey"])
    assert diff.data_loss_problems() == [
        "prod: this change replaces aws:ecr/repository:Repository serve (encryptionConfigurations[0].kmsKey), losing its images: what "
        "training jobs and endpoints run (a model package names its image, which must stay pullable)"]
    mutable = {**old, "inputs": {**old["inputs"], "imageTagMutability": "MUTABLE"}}
    assert compare("prod", Side("b", _preview([old]), None), Side("h", _preview([mutable]), None)).changes[0].label == "update"
    lifecycle = "aws:ecr/lifecyclePolicy:LifecyclePolicy"
    rules = compare("prod", Side("b", _preview([_resource("rules", lifecycle, repository="mlops-prod/serve", policy='{"rules": [1]}')]), None),
                    Side("h", _preview([_resource("rules", lifecycle, repository="mlops-prod/serve", policy='{"rules": [2]}')]), None), environment="prod")
    assert (rules.changes[0].label, rules.data_loss_problems()) == ("replace", [])


def test_replace_on_changes_option_makes_a_certain_replace():
    old = _resource("q", "aws:sqs/queue:Queue", fifoQueue=False)
    new = {**_resource("q", "aws:sqs/queue:Queue", fifoQueue=True), "replaceOnChanges": ["fifoQueue"]}
    (change,) = compare("dev", Side("b", _preview([old]), None), Side("h", _preview([new]), None)).changes
    assert change.label == "replace" and change.forced_replace == ["fifoQueue"]


def test_markdown_cells_escape_backticks_pipes_and_html():
    old = _resource("b", Description="plain")
    new = _resource("b", Description="a `tick` | pipe <script> @team")
    markdown = render_markdown(compare("dev", Side("b", _preview([old]), None), Side("h", _preview([new]), None)))
    assert '<code>"a `tick` &#124; pipe &lt;script&gt; @team"</code>' in markdown
    assert "<script>" not in markdown


def test_secret_wrappers_and_credential_names_are_masked():
    secret = {"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270"}
    changes = diff_values(
        {"value": {**secret, "value": "old-plain"}, "masterPassword": "pw-old", "nested": {"list": [{**secret, "value": "x"}]}},
        {"value": {**secret, "value": "new-plain"}, "masterPassword": "pw-new", "nested": {"list": [{**secret, "value": "y"}]}},
    )
    assert [(c.path, c.old, c.new) for c in changes] == [
        ("value", MASK, MASK), ("masterPassword", MASK, MASK), ("nested.list[0]", MASK, MASK)]
    assert diff_values({"value": {**secret, "value": "same"}}, {"value": {**secret, "value": "same"}}) == []
    # A flag or a number under a credential-like name is no credential: shown, not masked.
    (flag,) = diff_values({"automountServiceAccountToken": None}, {"automountServiceAccountToken": False})
    assert (flag.path, flag.old, flag.new, flag.masked) == ("automountServiceAccountToken", None, False, False)
    (token,) = diff_values({"apiToken": None}, {"apiToken": "t0k"})
    assert (token.old, token.new) == (None, MASK)


def test_markdown_is_truncated_to_the_github_limit_longest_section_first():
    base = [_resource(f"old-{i}") for i in range(3)]
    head = [_resource(f"created-bucket-with-a-long-name-{i:05d}") for i in range(4000)]
    diff = compare("dev", Side("main", _preview(base), None), Side("working tree", _preview(head), None))
    full = render_markdown(diff, limit=10**9)
    assert len(full) > GITHUB_COMMENT_LIMIT
    comment = render_markdown(diff)
    assert len(comment) <= GITHUB_COMMENT_LIMIT
    assert "Truncated to fit GitHub's 65,536-character comment limit (longest sections first)" in comment
    assert "more not shown: truncated to fit GitHub's 65,536-character comment limit" in comment
    # The short Deletes section survives whole; the long Creates section gave way.
    assert all(f"<code>old-{i}</code>" in comment for i in range(3))
    assert "<code>created-bucket-with-a-long-name-00000</code>" in comment
    assert "<code>created-bucket-with-a-long-name-03999</code>" not in comment
    assert comment.count("| <code>aws:s3/bucket:Bucket</code> | <code>created-") > 500  # it keeps as much as fits
    untruncated = render_markdown(compare("dev", Side("main", _preview(base), None), Side("working tree", _preview(base[:1]), None)))
    assert "Truncated" not in untruncated and "more not shown" not in untruncated


def test_a_stack_new_in_the_change_is_all_creates(tmp_path):
    copy_project(tmp_path)
    added = [Path("stacks/Pulumi.staging.yaml"), Path("incluster/stacks/Pulumi.staging.yaml")]
    kept = {path: (tmp_path / path).read_text() for path in added}
    for path in added:
        (tmp_path / path).unlink()
    init_repo(tmp_path, "base without staging")
    for path, text in kept.items():  # uncommitted: the working tree counts
        (tmp_path / path).write_text(text)
    result = mlopsctl(tmp_path, "diff", "--stack", "staging", "--base", "HEAD", "--format", "json")
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["base"]["stackExists"] is False
    assert document["changes"] and {c["op"] for c in document["changes"]} == {"create"}
    assert document["summary"]["create"] == len(document["changes"]) and document["summary"]["unchanged"] == 0
    assert {c["urn"].split("::")[1] for c in document["changes"]} == {"mlops-platform", "mlops-platform-incluster"}


def test_added_blocks_and_json_strings_are_masked_leaf_by_leaf():
    changes = diff_values(
        {"name": "svc"},
        {"name": "svc", "auth": {"user": "admin", "password": "p4ss"}, "kubeconfig": '{"users": [{"token": "t0k"}]}'},
    )
    assert [(c.path, c.old, c.new) for c in changes] == [
        ("auth.user", None, "admin"), ("auth.password", None, MASK), ("kubeconfig.users[0].token", None, MASK)]


def test_a_block_replaced_by_a_scalar_shows_no_credentials():
    (change,) = diff_values({"auth": "none"}, {"auth": {"mode": "basic", "password": "p4ss"}})
    assert (change.path, change.old, change.new) == ("auth", "none", {"mode": "basic", "password": MASK})


def test_a_provider_change_may_replace_and_unchanged_resources_are_counted():
    old = {**_resource("b"), "provider": "urn:pulumi:dev::mlops-platform::pulumi:providers:aws::east::id-1"}
    new = {**_resource("b"), "provider": "urn:pulumi:dev::mlops-platform::pulumi:providers:aws::west::id-2"}
    same = _resource("same", bucket="x")
    diff = compare("dev", Side("b", _preview([old, same]), None), Side("h", _preview([new, same]), None))
    (change,) = diff.changes
    assert change.label == "update (may replace)" and change.replace_reasons == []
    assert change.may_replace_reasons == ["provider (the engine replaces a resource moved to another provider unless the provider says otherwise)"]
    assert [o.path for o in change.options] == ["provider"]
    assert diff.summary() == {"create": 0, "update": 0, "replace": 0, "mayReplace": 1, "dependents": 0, "dataTouched": 1,
                              "tagOnly": 0, "delete": 0, "unchanged": 1}


# --- Kubernetes version changes: seen only where both sides are visible ----------------------


def _cluster_side(version: str, label: str) -> Side:
    cluster = {"urn": "urn:pulumi:prod::mlops-platform::aws:eks/cluster:Cluster::eks-cluster", "type": "aws:eks/cluster:Cluster",
               "name": "eks-cluster", "inputs": {"version": version, "upgradePolicy": {"supportType": "EXTENDED"}}}
    preview = {"stack": "prod", "resources": [cluster], "policy": {"evaluated": True, "violations": []},
               "cost": {"evaluated": True, "monthly": {"idle": 0, "expected": 0, "ceiling": 0}}}
    return Side(label, preview, None)


@pytest.mark.parametrize(
    ("old", "new", "problem"),
    [
        ("1.34", "1.35", None),
        ("1.34", "1.36", "skips 1 minor(s); EKS upgrades one minor at a time"),
        ("1.36", "1.35", "is a downgrade, which EKS cannot do"),
    ],
)
def test_kubernetes_version_changes_are_explained_or_blocked(old, new, problem):
    diff = compare("prod", _cluster_side(old, "base"), _cluster_side(new, "head"), table=ReplaceTable({}))
    [upgrade] = diff.kubernetes_upgrades
    assert (upgrade.old, upgrade.new) == (old, new)
    if problem is None:
        assert diff.blocking_problems() == []
        assert "control plane first" in upgrade.explanation() and "then the managed addons" in upgrade.explanation()
        assert f"Upgrade: Kubernetes {old} -> {new}" in render_text(diff)
        assert "**Kubernetes upgrade:**" in render_markdown(diff)
    else:
        [blocked] = diff.blocking_problems()
        assert problem in blocked
        assert f"BLOCKED: Kubernetes {old} -> {new}" in render_text(diff)
        assert ":no_entry: **Blocked**: 1 problem(s): Kubernetes" in render_markdown(diff)
    assert diff.to_json()["blocked"] == diff.blocking_problems()


def test_a_blocked_upgrade_exits_1_with_one_line(monkeypatch, capsys):
    from mlopsctl import cli
    from mlopsctl.review.diff import run as diff_run

    monkeypatch.setattr(diff_run, "run_diff", lambda stack, base, head_label: compare(stack, _cluster_side("1.34", "base"), _cluster_side("1.36", "head"), table=ReplaceTable({})))
    assert cli.main(["diff", "--stack", "prod", "--base", "HEAD"]) == 1
    assert capsys.readouterr().err.startswith("error: Kubernetes 1.34 -> 1.36 on 'eks-cluster' skips 1 minor(s)")


def test_json_out_is_what_format_json_prints(monkeypatch, capsys, tmp_path):
    """The CLI in-process on a hand-built diff: --format json prints exactly the document --json-out writes."""
    from mlopsctl import cli
    from mlopsctl.review.diff import run as diff_run

    head = _preview([_resource("a", bucket="a-v2"), _resource("b")], violations=[_violation("bucket-versioning", "b")])
    diff = compare("dev", Side("main (abc1234)", _preview([_resource("a", bucket="a-v1")], violations=[]), None),
                   Side("working tree", head, None))
    monkeypatch.setattr(diff_run, "run_diff", lambda stack, base, head_label: diff)
    for fmt in ("json", "text", "markdown"):
        json_out = tmp_path / f"{fmt}.json"
        assert cli.main(["diff", "--stack", "dev", "--base", "HEAD~1", "--format", fmt, "--json-out", str(json_out)]) == 1
        out = capsys.readouterr().out
        assert json.loads(json_out.read_text()) == diff.to_json()
        assert out == {"json": json_out.read_text(), "text": render_text(diff), "markdown": render_markdown(diff)}[fmt]
