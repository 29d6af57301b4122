"""The review a platform team reads, on the real stacks: a prod VPC CIDR change, and a head that cannot be previewed.

The first runs both layers of the real prod and dev stacks under the mocks, before and after the
change, and compares them as ``mlopsctl diff`` does. The second runs the pull-request workflow's own
diff step (its ``run`` script from .github/workflows/pr.yml) in a copy of this repository whose head
has a bad stack file, and reads the comment it leaves for the sticky-comment job.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest
import yaml

from mlopsctl import cli
from mlopsctl.offline.preview import preview_stack
from mlopsctl.review.diff.compare import Side, compare
from mlopsctl.review.diff.render import marker, render_markdown
from tests.support.gitrepo import copy_project, git, init_repo
from tests.support.stacks import ROOT, stack_preview

NEW_CIDR = "10.99.0.0/16"


def _preview_json(result) -> dict:
    return json.loads(json.dumps(result.to_json()))


@pytest.fixture(scope="module", params=["prod", "dev"])
def vpc_cidr_diff(request, tmp_path_factory):
    stack = request.param
    stacks = tmp_path_factory.mktemp(f"stacks-{stack}")
    shutil.copytree(ROOT / "stacks", stacks / "layer1")
    shutil.copytree(ROOT / "incluster" / "stacks", stacks / "layer2")
    stack_file = stacks / "layer1" / f"Pulumi.{stack}.yaml"
    document = yaml.safe_load(stack_file.read_text())
    document["config"]["mlops-platform:platform"]["network"]["vpcCidr"] = NEW_CIDR
    stack_file.write_text(yaml.safe_dump(document))
    head = preview_stack(stack, stacks_dir=stacks / "layer1", incluster_stacks_dir=stacks / "layer2")
    base = _preview_json(stack_preview(stack))
    return compare(stack, Side("main", base, None), Side("head", _preview_json(head), None), environment=head.config.environment)


def _names(changes) -> dict[str, str]:
    return {c.name: c.label for c in changes}


def test_the_vpc_is_replaced_and_drags_subnets_cluster_and_node_groups_along(vpc_cidr_diff):
    labels = _names(vpc_cidr_diff.changes)
    assert labels["mlops-platform-network-vpc"] == "replace"
    assert [r.name for r in vpc_cidr_diff.roots] == ["mlops-platform-network-vpc"]
    subnets = [c for c in vpc_cidr_diff.changes if c.type == "aws:ec2/subnet:Subnet"]
    assert subnets and all(c.label == "replace" and c.replace_reasons == ["cidrBlock"] for c in subnets)
    assert labels["mlops-platform-eks-cluster"] == "replace"
    node_groups = [c for c in vpc_cidr_diff.changes if c.type == "aws:eks/nodeGroup:NodeGroup"]
    assert node_groups and all(c.label == "replace" for c in node_groups)
    dragged = {c.urn for c in vpc_cidr_diff.dependents_of(vpc_cidr_diff.roots[0])}
    assert {c.urn for c in subnets + node_groups} <= dragged
    in_cluster = [c for c in vpc_cidr_diff.changes if "::mlops-platform-incluster::" in c.urn]
    assert in_cluster and all(c.label == "replace" for c in in_cluster)  # a new cluster starts empty
    # The bucket, the keys and the registry hold data and are not touched by a network change.
    assert not [c for c in vpc_cidr_diff.changes if c.type in ("aws:s3/bucket:Bucket", "aws:kms/key:Key")]
    summary = vpc_cidr_diff.summary()
    assert summary["replace"] > 50 and summary["mayReplace"] == 0


def test_prod_refuses_the_change_and_dev_asks_for_care(vpc_cidr_diff):
    problems = vpc_cidr_diff.blocking_problems()
    if vpc_cidr_diff.stack == "prod":
        assert problems[0].startswith("prod: this change replaces aws:eks/cluster:Cluster mlops-platform-eks-cluster")
        assert any("kubernetes:core/v1:Namespace" in p for p in problems)
        assert vpc_cidr_diff.verdict()[0] == "blocked"
        assert render_markdown(vpc_cidr_diff).splitlines()[3].startswith(":no_entry: **Blocked**")
    else:
        assert problems == []
        status, line = vpc_cidr_diff.verdict()
        assert status == "needs care" and line.startswith(f"needs care: {len(vpc_cidr_diff.replacements)} replacement(s), 3 data store(s) touched")


def test_the_cli_exits_1_on_a_refused_replacement(vpc_cidr_diff, monkeypatch, capsys):
    from mlopsctl.review.diff import run as diff_run

    monkeypatch.setattr(diff_run, "run_diff", lambda stack, base, head_label: vpc_cidr_diff)
    code = cli.main(["diff", "--stack", vpc_cidr_diff.stack, "--base", "HEAD", "--format", "json"])
    errors = capsys.readouterr().err.splitlines()
    assert (code, len(errors) > 0) == ((1, True) if vpc_cidr_diff.stack == "prod" else (0, False))
    assert all(line.startswith("error: prod: this change replaces") for line in errors)


def _workflow_diff_script() -> str:
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "pr.yml").read_text())
    (step,) = [s for s in workflow["jobs"]["offline-diff"]["steps"] if s.get("id") == "diff"]
    return step["run"]


def test_the_workflow_replaces_the_comment_with_one_line_when_the_head_cannot_be_previewed(tmp_path):
    repo = tmp_path / "repo"
    copy_project(repo)
    init_repo(repo, "base")
    stack_file = repo / "stacks" / "Pulumi.staging.yaml"
    stack_file.write_text(stack_file.read_text().replace("vpcCidr: 10.20.0.0/16", "vpcCidr: 10.20.0.0/33"))
    git(repo, "commit", "--quiet", "-am", "head with a bad CIDR")
    (repo / ".venv").symlink_to(ROOT / ".venv")
    summary, outputs = tmp_path / "summary.md", tmp_path / "outputs"
    env = {**os.environ, "STACK": "staging", "HEAD_SHA": "0123456789abcdef0123456789abcdef01234567",
           "GITHUB_STEP_SUMMARY": str(summary), "GITHUB_OUTPUT": str(outputs)}
    env.pop("PYTHONPATH", None)
    result = subprocess.run(["bash", "-e", "-c", _workflow_diff_script()], cwd=repo, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr  # the step records the status; the next step fails the job
    assert outputs.read_text() == "status=2\n"
    comment = (repo / "out" / "diff-staging.md").read_text()
    lines = comment.splitlines()
    assert lines[0] == marker("staging")  # the sticky-comment job finds and replaces the stale diff by it
    assert lines[-1].startswith(":no_entry: **Cannot preview** head <code>0123456789abcdef0123456789abcdef01234567</code>: ")
    assert "stacks/Pulumi.staging.yaml" in lines[-1] and "vpcCidr" in lines[-1]
    assert not (repo / "out" / "diff-staging.json").exists()
    assert summary.read_text() == comment
    assert git(repo, "worktree", "list").count("\n") == 1
