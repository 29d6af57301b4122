"""The promote workflow's own steps, and the staging -> prod job of the deploy workflow, run in a clone
of this repository whose `origin` is a local bare repository.

The `run:` scripts come from .github/workflows/promote.yml, deploy.yml and the composite action
.github/actions/promotion-pull-request, executed by bash with the env GitHub would compute from the
event (tests/support/workflow_steps.py). Two things are not GitHub here: `gh` is a recording stub on
PATH (it records the arguments it was called with and answers nothing, so the "pull request already
open" branch of the script, which needs gh's answer, is not exercised), and
actions/create-github-app-token is a recording stand-in that hands out a dummy token (its `with:` is
asserted). `git push` is real, to the bare repository.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from components.config import ENVIRONMENT_ORDER
from mlopsctl.offline.stackfile import available_stacks
from tests.support.gitrepo import copy_project, git, init_repo
from tests.support.stacks import ROOT
from tests.support.workflow_steps import ActionStandIn, Runner, load_yaml, recording_stub

REPOSITORY = "example-org/mlops-platform"
STAGING, PROD = "210987654321", "345678901234"
STAGING_NOW = f"arn:aws:sagemaker:us-east-1:{STAGING}:model-package/churn/7"
PROD_NOW = f"arn:aws:sagemaker:us-east-1:{PROD}:model-package/churn/7"
APPROVED = f"arn:aws:sagemaker:us-east-1:{STAGING}:model-package/churn/9"
APP_ID, PRIVATE_KEY, TOKEN = "123456", "-----BEGIN RSA PRIVATE KEY----- test", "ghs_" + "0" * 36
TOKEN_ACTION = "actions/create-github-app-token@"
SETUP_USES = ("actions/checkout@", "actions/setup-python@")


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    """This project committed once on main."""
    source = tmp_path_factory.mktemp("project") / "src"
    copy_project(source)
    init_repo(source, "base")
    return source


@pytest.fixture
def remote(project, tmp_path) -> Path:
    """The test's own origin: a bare clone of the project, so no test sees another's branches."""
    bare = tmp_path / "origin.git"
    subprocess.run(["git", "clone", "--quiet", "--bare", str(project), str(bare)], check=True)
    return bare


class Run:
    """One job run in a fresh clone of ``remote``."""

    def __init__(self, tmp_path: Path, remote: Path, name: str = "run"):
        self.root = tmp_path / name
        self.clone, self.temp, self.bin = self.root / "work", self.root / "runner-temp", self.root / "bin"
        self.remote = remote
        self.temp.mkdir(parents=True)
        subprocess.run(["git", "clone", "--quiet", str(remote), str(self.clone)], check=True)
        (self.clone / ".venv").symlink_to(ROOT / ".venv")  # stands for `make setup`
        self.gh_calls_file = recording_stub(self.bin, "gh")
        self.token = ActionStandIn(lambda with_: {"token": TOKEN, "app-slug": "mlops-promotion", "installation-id": "7"})
        empty_config = self.root / "gitconfig"
        empty_config.write_text("")
        self.env = {
            "PATH": f"{self.bin}:{os.environ['PATH']}", "HOME": str(self.root), "LANG": "C.UTF-8",
            "GIT_CONFIG_GLOBAL": str(empty_config), "GIT_CONFIG_NOSYSTEM": "1",
            "GITHUB_REPOSITORY": REPOSITORY, "GITHUB_SERVER_URL": "https://github.com", "GITHUB_RUN_ID": "4242",
            "GITHUB_ACTOR": "mlops-dispatch-bot", "GITHUB_SHA": git(self.clone, "rev-parse", "HEAD").strip(),
            "GITHUB_REF": "refs/heads/main", "RUNNER_TEMP": str(self.temp),
        }

    def run(self, workflow: str, job: str, event_name: str, event: dict, inputs: dict | None = None, **env: str):
        event = {"repository": {"default_branch": "main", "full_name": REPOSITORY}, **event}
        event_path = self.root / "event.json"
        event_path.write_text(json.dumps(event))
        contexts = {
            "github": {"event_name": event_name, "event": event, "repository": REPOSITORY, "sha": self.env["GITHUB_SHA"]},
            "inputs": inputs or {}, "vars": {"PROMOTION_APP_ID": APP_ID}, "secrets": {"PROMOTION_APP_PRIVATE_KEY": PRIVATE_KEY},
            "runner": {"temp": str(self.temp)},
        }
        self.runner = Runner(self.clone, contexts, {**self.env, "GITHUB_EVENT_NAME": event_name, "GITHUB_EVENT_PATH": str(event_path), **env},
                             skipped_uses=SETUP_USES, skipped_runs=("make setup",), stand_ins={TOKEN_ACTION: self.token})
        return self.runner.run_job(load_yaml(f".github/workflows/{workflow}")["jobs"][job])

    def dispatch(self, **payload_changes):
        payload = {"environment": "staging", "endpoint": "churn", "group": "churn", "version": "9", "modelPackageArn": APPROVED}
        payload.update(payload_changes)
        payload = {k: v for k, v in payload.items() if v is not None}
        return self.run("promote.yml", "promote", "repository_dispatch", {"action": "mlops-model-approved", "client_payload": payload})

    def by_hand(self, stack: str, endpoint: str, arn: str, **env: str):
        inputs = {"stack": stack, "endpoint": endpoint, "model-package-arn": arn}
        return self.run("promote.yml", "promote", "workflow_dispatch", {"inputs": inputs}, inputs, **env)

    @property
    def gh_calls(self) -> list[list[str]]:
        return [json.loads(line) for line in self.gh_calls_file.read_text().splitlines()] if self.gh_calls_file.exists() else []

    def remote_branches(self) -> list[str]:
        return git(self.remote, "for-each-ref", "--format=%(refname:short)", "refs/heads").split()

    def output(self) -> str:
        return "\n".join(line for run in self.runner.runs for line in run.lines)


def _changed_lines(remote: Path, branch: str) -> list[str]:
    diff = git(remote, "diff", "--unified=0", "main", branch)
    return [line for line in diff.splitlines() if line[:1] in "+-" and not line.startswith(("+++", "---"))]


def _assert_opened(run: Run, branch: str, title: str, file: str, old: str, new: str) -> None:
    assert run.remote_branches() == ["main", branch]
    assert git(run.remote, "diff", "--name-only", "main", branch).split() == [file]
    assert _changed_lines(run.remote, branch) == [f"-            modelPackageArn: {old}", f"+            modelPackageArn: {new}"]
    assert git(run.remote, "log", "--format=%P", "-1", branch).strip() == git(run.remote, "rev-parse", "main").strip()
    assert git(run.remote, "log", "--format=%s|%an", "-1", branch).strip() == f"{title}|mlops-promotion[bot]"
    body = str(run.temp / "promotion" / "body.md")
    assert run.gh_calls == [
        ["pr", "list", "--repo", REPOSITORY, "--head", branch, "--base", "main", "--state", "open", "--json", "number", "--jq", ".[0].number // empty"],
        ["pr", "create", "--repo", REPOSITORY, "--base", "main", "--head", branch, "--title", title, "--body-file", body],
    ]
    assert run.token.calls == [{"app-id": APP_ID, "private-key": PRIVATE_KEY, "permission-contents": "write", "permission-pull-requests": "write"}]
    # Only what the clone and the symlinked .venv stand for was skipped; every other step ran.
    assert [s.split("@")[0] for s in run.runner.skipped] == ["actions/checkout", "actions/setup-python", "make setup"]


def _assert_nothing_opened(run: Run) -> None:
    assert run.remote_branches() == ["main"]
    assert run.gh_calls == [] and run.token.calls == []
    assert git(run.clone, "status", "--porcelain", "--untracked-files=no") == ""


def test_an_approval_dispatch_opens_a_pull_request_that_changes_only_that_arn(tmp_path, remote):
    run = Run(tmp_path, remote)
    assert run.dispatch() is None, run.output()
    branch, title = "promote/staging/churn/9", "Promote staging endpoint churn to churn/9"
    _assert_opened(run, branch, title, "stacks/Pulumi.staging.yaml", STAGING_NOW, APPROVED)
    assert f"stacks/Pulumi.staging.yaml: mlops-platform:platform.serving.endpoints[0].model.modelPackageArn: {STAGING_NOW} → {APPROVED}" in run.output()
    body = (run.temp / "promotion" / "body.md").read_text()
    assert body.startswith("<!-- mlopsctl-promote stack=staging -->\n")
    assert f"| `churn` | `churn` | 9 | staging's own (account {STAGING}) | `{APPROVED}` | `{STAGING_NOW}` |" in body
    # Markdown-escaped free text (repository\_dispatch renders as repository_dispatch).
    assert (r"**Approval event:** repository\_dispatch mlops-model-approved from the staging registry's approval rule, sent as "
            "@mlops-dispatch-bot; run https://github.com/example-org/mlops-platform/actions/runs/4242") in body
    assert "blue/green deployment (`churn`: a canary of 20% of capacity, the rest after 300 s)" in body
    assert "rolls back automatically" in body


def test_the_same_approval_again_moves_the_same_branch_instead_of_adding_one(tmp_path, remote):
    first = Run(tmp_path, remote, "first")
    assert first.dispatch() is None, first.output()
    second = Run(tmp_path, remote, "second")
    assert second.dispatch() is None, second.output()
    assert second.remote_branches() == ["main", "promote/staging/churn/9"]
    assert _changed_lines(remote, "promote/staging/churn/9") == [f"-            modelPackageArn: {STAGING_NOW}", f"+            modelPackageArn: {APPROVED}"]
    # The open pull request is found by its head branch; whether gh then edits or creates depends on
    # gh's answer, which the recording stub does not give.
    assert second.gh_calls[0][:6] == ["pr", "list", "--repo", REPOSITORY, "--head", "promote/staging/churn/9"]


def test_an_approval_of_the_package_already_deployed_opens_nothing(tmp_path, remote):
    run = Run(tmp_path, remote)
    assert run.dispatch(version="7", modelPackageArn=STAGING_NOW) is None, run.output()
    assert f"already {STAGING_NOW}; nothing changed" in run.output()
    assert "no pull request: mlopsctl promote changed nothing" in run.output()
    _assert_nothing_opened(run)
    assert [s for s in run.runner.skipped if "(if:" in s] == [
        "GitHub App installation token (this repository's contents and pull requests only) (if: steps.change.outputs.open == 'true')",
        "Commit, push the branch, open or update its pull request (if: steps.change.outputs.open == 'true')",
    ]


def test_a_person_promotes_stagings_package_to_prod_by_hand(tmp_path, remote):
    run = Run(tmp_path, remote)
    assert run.by_hand("prod", "churn", APPROVED) is None, run.output()
    _assert_opened(run, "promote/prod/churn/staging-9", "Promote prod endpoint churn to churn/9 (approved in staging)",
                   "stacks/Pulumi.prod.yaml", STAGING_NOW, APPROVED)
    body = (run.temp / "promotion" / "body.md").read_text()
    assert f"| `churn` | `churn` | 9 | staging's (account {STAGING}), shared with prod | `{APPROVED}` | `{STAGING_NOW}` |" in body
    assert r"**Approval event:** workflow\_dispatch by @mlops-dispatch-bot; run " in body


OTHER_ACCOUNT = APPROVED.replace(STAGING, "111122223333")
NO_ENDPOINT = "error: stacks/Pulumi.staging.yaml: mlops-platform:platform.serving.endpoints: no endpoint named"


@pytest.mark.parametrize(("payload", "step", "line"), [
    ({"environment": "qa"}, "Validate the request",
     "::error::promote: environment qa: not a stack of this repository; stacks: dev,prod,staging"),
    ({"environment": "../stacks/Pulumi.prod"}, "Validate the request", "::error::promote: environment ../stacks/Pulumi.prod: not a stack"),
    ({"environment": "$(touch pwned)"}, "Validate the request", r"::error::promote: environment \$\(touch\ pwned\): not a stack"),
    ({"modelPackageArn": OTHER_ACCOUNT}, "mlopsctl promote",
     f"error: stacks/Pulumi.staging.yaml: mlops-platform:platform.serving.endpoints[0].model.modelPackageArn: --model-package-arn "
     f"{OTHER_ACCOUNT} has account 111122223333; it must be {STAGING}, the stack's account (mlops-platform:platform.accountId)"),
    ({"endpoint": "$(id)"}, "mlopsctl promote", f"{NO_ENDPOINT} '$(id)'; endpoints: churn"),
    ({"endpoint": "churn`touch pwned`"}, "mlopsctl promote", f"{NO_ENDPOINT} 'churn`touch pwned`'"),
    ({"endpoint": "churn\n::warning::injected"}, "mlopsctl promote", f"{NO_ENDPOINT} 'churn\\n::warning::injected'"),
    ({"version": "8"}, "Validate the request", f"::error::promote: group churn and version 8 do not name the package {APPROVED}"),
    ({"version": 9}, "Validate the request",
     "::error::promote: client_payload: must hold exactly the strings environment, endpoint, group, version and modelPackageArn"),
    ({"extra": "x"}, "Validate the request", "::error::promote: client_payload: must hold exactly the strings"),
    ({"group": None}, "Validate the request", "::error::promote: client_payload: must hold exactly the strings"),
    ({"endpoint": ""}, "Validate the request", "::error::promote: endpoint: empty"),
])
def test_a_bad_dispatch_is_refused_with_one_line_and_changes_nothing(tmp_path, remote, payload, step, line):
    run = Run(tmp_path, remote)
    failed = run.dispatch(**payload)
    assert failed is not None and failed.returncode != 0, run.output()
    assert failed.name.startswith(step)
    assert len(failed.lines) == 1 and failed.lines[0].startswith(line), failed.lines
    _assert_nothing_opened(run)
    assert not (run.clone / "pwned").exists() and "uid=" not in run.output()
    assert not (run.temp / "promotion" / "branch").exists()


def test_a_promotion_by_hand_from_another_branch_is_refused(tmp_path, remote):
    run = Run(tmp_path, remote)
    failed = run.by_hand("staging", "churn", APPROVED, GITHUB_REF="refs/heads/feature/x")
    assert failed is not None and failed.lines == [
        "::error::promote: run from refs/heads/feature/x: a promotion edits the default branch main, so run it there"]
    _assert_nothing_opened(run)


def _prod_serves(run, arn: str) -> None:
    stack_file = run.clone / "stacks" / "Pulumi.prod.yaml"
    stack_file.write_text(stack_file.read_text().replace(STAGING_NOW, arn))
    git(run.clone, "-c", "user.name=t", "-c", "user.email=t@example.invalid", "commit", "--quiet", "-am", f"prod serves {arn}")
    git(run.clone, "push", "--quiet", "origin", "HEAD:main")


def test_after_staging_is_verified_the_deploy_opens_the_prod_pull_request(tmp_path, remote):
    run = Run(tmp_path, remote)
    _prod_serves(run, PROD_NOW)  # prod's own package, before it first deployed one of staging's
    assert run.run("deploy.yml", "promote-prod", "push", {"ref": "refs/heads/main"}) is None, run.output()
    title = "Promote prod endpoint churn to churn/7 (approved in staging)"
    _assert_opened(run, "promote/prod/churn/staging-7", title, "stacks/Pulumi.prod.yaml", PROD_NOW, STAGING_NOW)
    body = (run.temp / "promotion" / "body.md").read_text()
    assert f"**Approval event:** staging deployed and verified at {run.env['GITHUB_SHA']}; deploy run https://github.com/" in body


def test_the_deploy_opens_nothing_when_prod_already_serves_stagings_packages(tmp_path, remote):
    run = Run(tmp_path, remote)  # the shipped prod stack file already serves staging's churn/7
    assert run.run("deploy.yml", "promote-prod", "push", {"ref": "refs/heads/main"}) is None, run.output()
    assert f"already {STAGING_NOW}; nothing changed" in run.output()
    _assert_nothing_opened(run)


def test_the_manual_trigger_offers_exactly_the_stacks():
    stack_input = load_yaml(".github/workflows/promote.yml")[True]["workflow_dispatch"]["inputs"]["stack"]
    assert stack_input["options"] == list(ENVIRONMENT_ORDER) and sorted(stack_input["options"]) == available_stacks()
