"""The workflows' runner boundary, read from .github/workflows/*.yml (pure YAML parsing, no GitHub).

The in-VPC CodeBuild runners (``runs-on: codebuild-...``) can reach the private EKS API servers, so:

- no job reachable from a ``pull_request``/``pull_request_target`` trigger (directly, or through a
  reusable workflow it calls with ``uses: ./.github/workflows/...``) may name a ``codebuild-``
  label; PR-reachable jobs must name a literal GitHub-hosted label, so an expression cannot hide one;
- every job on a ``codebuild-`` runner runs in a GitHub environment, is reachable only from a push
  to main or ``workflow_dispatch`` (through ``workflow_call`` from such a workflow), asks for
  ``id-token: write`` and assumes the environment's deploy role ``vars.AWS_ROLE_ARN``.

The checkers are plain functions over ``{file name: parsed workflow}``; the negative tests feed them
synthetic workflows so the checks cannot pass vacuously.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support.stacks import ROOT

WORKFLOWS_DIR = ROOT / ".github" / "workflows"
ACTIONS_DIR = ROOT / ".github" / "actions"
LOCAL_PREFIX = "./.github/workflows/"
LOCAL_ACTION_PREFIX = "./.github/actions/"
PROMOTION_ACTION = LOCAL_ACTION_PREFIX + "promotion-pull-request"
PR_EVENTS = frozenset({"pull_request", "pull_request_target"})
HOSTED_LABEL = re.compile(r"^(ubuntu|windows|macos)-[0-9a-z.-]+$")
DEPLOY_ROLE = "${{ vars.AWS_ROLE_ARN }}"
CODEBUILD_LABEL = "codebuild-${{ vars.CODEBUILD_RUNNER_PROJECT }}-${{ github.run_id }}-${{ github.run_attempt }}"
STACKS = ("dev", "staging", "prod")
# Variables that exist only on GitHub environments (one AWS account each): a job without
# `environment:` would read a repository variable of the same name instead, which must not exist.
ENVIRONMENT_VARIABLES = ("AWS_ROLE_ARN", "PULUMI_BACKEND_URL", "CODEBUILD_RUNNER_PROJECT")

Workflows = dict[str, dict]


# --- the checker -------------------------------------------------------------------------------

def load_workflows(directory: Path = WORKFLOWS_DIR) -> Workflows:
    return {path.name: yaml.safe_load(path.read_text()) for path in sorted(directory.glob("*.y*ml"))}


def triggers(workflow: dict) -> dict[str, Any]:
    """Event name -> its configuration (None when given without one)."""
    on = workflow.get("on", workflow.get(True))  # PyYAML (YAML 1.1) reads a bare `on` key as True
    if isinstance(on, str):
        return {on: None}
    if isinstance(on, list):
        return dict.fromkeys(on)
    return dict(on or {})


def iter_jobs(workflows: Workflows) -> Iterator[tuple[str, str, dict]]:
    for name, workflow in workflows.items():
        for job_id, job in (workflow.get("jobs") or {}).items():
            yield name, job_id, job


def local_target(job: dict) -> str | None:
    """The file name of the reusable workflow a job calls with `uses: ./.github/workflows/<name>`."""
    uses = job.get("uses")
    return uses[len(LOCAL_PREFIX):] if isinstance(uses, str) and uses.startswith(LOCAL_PREFIX) else None


def caller_jobs(workflows: Workflows, name: str) -> list[tuple[str, str, dict]]:
    return [(w, j, job) for w, j, job in iter_jobs(workflows) if local_target(job) == name]


def root_triggers(workflows: Workflows, name: str, _seen: frozenset[str] = frozenset()) -> set[tuple[str, str]]:
    """(workflow, event) pairs that start a run reaching workflow `name`: its own events other than
    `workflow_call`, and the root triggers of every workflow in this repository that calls it."""
    if name in _seen:
        return set()
    roots = {(name, event) for event in triggers(workflows[name]) if event != "workflow_call"}
    for caller, _, _ in caller_jobs(workflows, name):
        roots |= root_triggers(workflows, caller, _seen | {name})
    return roots


def runner_labels(job: dict) -> list[str]:
    runs_on = job.get("runs-on")
    if isinstance(runs_on, str):
        return [runs_on]
    if isinstance(runs_on, list):
        return [str(label) for label in runs_on]
    if isinstance(runs_on, dict):  # {group, labels}: a runner group is never GitHub-hosted here
        labels = runs_on.get("labels") or []
        return [f"group:{runs_on.get('group')}"] + ([labels] if isinstance(labels, str) else [str(x) for x in labels])
    return []


def targets_codebuild(job: dict) -> bool:
    return any("codebuild-" in label.lower() for label in runner_labels(job))


def push_to_main_only(config: Any) -> bool:
    return isinstance(config, dict) and config.get("branches") == ["main"] and not ({"tags", "branches-ignore", "tags-ignore"} & set(config))


def pr_runner_problems(workflows: Workflows) -> list[str]:
    """Every job reachable from a pull-request trigger that names a CodeBuild runner, or whose runner
    cannot be shown to be GitHub-hosted."""
    problems = []
    for name, job_id, job in iter_jobs(workflows):
        via = sorted(f"{w} on {e}" for w, e in root_triggers(workflows, name) if e in PR_EVENTS)
        if not via:
            continue
        where = f"{name}: job {job_id} (reachable from {', '.join(via)})"
        if "uses" in job:
            target = local_target(job)
            if target is None:
                problems.append(f"{where} calls {job['uses']!r}, whose runners this check cannot see")
            elif target not in workflows:
                problems.append(f"{where} calls {job['uses']!r}, which does not exist")
            continue  # the called workflow's jobs are checked with the same root triggers
        labels = runner_labels(job)
        if any("codebuild-" in label.lower() for label in labels):
            problems.append(f"{where} runs on a CodeBuild runner: {labels}")
        elif not labels or not all(HOSTED_LABEL.match(label) for label in labels):
            problems.append(f"{where} does not name a literal GitHub-hosted runner: {labels}")
    return problems


def codebuild_job_problems(workflows: Workflows) -> list[str]:
    """Every way a job on a CodeBuild runner departs from: protected environment, push-to-main or
    manual trigger only, GitHub OIDC into the environment's deploy role."""
    problems = []
    for name, job_id, job in iter_jobs(workflows):
        if not targets_codebuild(job):
            continue
        where = f"{name}: job {job_id} (CodeBuild runner)"
        if not job.get("environment"):
            problems.append(f"{where} has no environment:")
        roots = root_triggers(workflows, name)
        if not roots:
            problems.append(f"{where} is reached by no trigger in this repository")
        for workflow, event in sorted(roots):
            if event == "workflow_dispatch":
                continue
            if event == "push" and push_to_main_only(triggers(workflows[workflow])["push"]):
                continue
            problems.append(f"{where} is reachable from {event} in {workflow}")
        permissions = job.get("permissions")
        if not isinstance(permissions, dict) or permissions.get("id-token") != "write":
            problems.append(f"{where} does not ask for id-token: write")
        pending, seen = [name], set()
        while pending:  # every caller job on the way caps the permissions of the called workflow
            called = pending.pop()
            seen.add(called)
            for caller, caller_id, caller_job in caller_jobs(workflows, called):
                perms = caller_job.get("permissions")
                if not isinstance(perms, dict) or perms.get("id-token") != "write":
                    problems.append(f"{where} is called by {caller}: job {caller_id} without id-token: write")
                if caller not in seen:
                    pending.append(caller)
        credentials = [s for s in job.get("steps") or [] if str(s.get("uses", "")).startswith("aws-actions/configure-aws-credentials@")]
        if not credentials:
            problems.append(f"{where} assumes no role with aws-actions/configure-aws-credentials")
        for step in credentials:
            role = (step.get("with") or {}).get("role-to-assume")
            if role != DEPLOY_ROLE:
                problems.append(f"{where} assumes {role!r}, not the environment's deploy role {DEPLOY_ROLE}")
    return problems


# --- the repository's workflows ---------------------------------------------------------------

@pytest.fixture(scope="module")
def workflows() -> Workflows:
    return load_workflows()


def _job(workflows: Workflows, name: str, job_id: str) -> dict:
    return workflows[name]["jobs"][job_id]


def _step(job: dict, uses_prefix: str) -> dict:
    (step,) = [s for s in job["steps"] if str(s.get("uses", "")).startswith(uses_prefix)]
    return step


def _runs(job: dict) -> list[str]:
    return [s["run"] for s in job.get("steps") or [] if "run" in s]


def _commands(job: dict) -> list[str]:
    """Each run block on one line (continuations joined, whitespace collapsed)."""
    return [" ".join(run.replace("\\\n", " ").split()) for run in _runs(job)]


def test_the_workflows_are_read(workflows):
    assert {"pr.yml", "deploy.yml", "deploy-stack.yml", "promote.yml"} <= set(workflows)
    assert set(triggers(workflows["pr.yml"])) == {"pull_request"}
    assert root_triggers(workflows, "deploy-stack.yml") == {("deploy.yml", "push")}


def test_no_pull_request_job_reaches_a_codebuild_runner(workflows):
    assert pr_runner_problems(workflows) == []


def test_codebuild_jobs_are_protected_deploy_jobs(workflows):
    assert [(name, job_id) for name, job_id, job in iter_jobs(workflows) if targets_codebuild(job)] == [("deploy-stack.yml", "cluster")]
    assert codebuild_job_problems(workflows) == []


def test_environment_variables_are_read_only_in_environment_jobs(workflows):
    for name, job_id, job in iter_jobs(workflows):
        text = json.dumps(job)
        for variable in ENVIRONMENT_VARIABLES:
            if re.search(rf"vars\.{variable}\b", text):
                assert job.get("environment"), f"{name}: job {job_id} reads vars.{variable} outside a GitHub environment"


def test_pr_preview_uses_each_stacks_own_preview_role_and_state_bucket(workflows):
    job = _job(workflows, "pr.yml", "pulumi-preview")
    assert "environment" not in job, "an environment would change the OIDC subject to the deploy role's"
    assert HOSTED_LABEL.match(job["runs-on"])
    assert "github.event.pull_request.head.repo.full_name == github.repository" in job["if"]
    include = {entry["stack"]: entry for entry in job["strategy"]["matrix"]["include"]}
    assert tuple(include) == STACKS
    for stack, entry in include.items():
        assert entry["preview-role"] == f"${{{{ vars.AWS_PREVIEW_ROLE_ARN_{stack.upper()} }}}}"
        assert entry["backend-url"] == f"${{{{ vars.PULUMI_BACKEND_URL_{stack.upper()} }}}}"
    assert job["env"]["PULUMI_BACKEND_URL"] == "${{ matrix.backend-url }}"
    assert _step(job, "aws-actions/configure-aws-credentials@")["with"]["role-to-assume"] == "${{ matrix.preview-role }}"
    preview = _step(job, "pulumi/actions@")["with"]
    assert (preview["command"], preview["stack-name"], preview["cloud-url"]) == ("preview", "${{ matrix.stack }}", "${{ matrix.backend-url }}")
    assert (preview["policyPacks"], preview["policyPackConfigs"]) == ("policies", "policies/config/${{ matrix.stack }}.json")
    assert preview.get("work-dir", "./") == "./", "PRs preview layer 1 only; layer 2 needs cluster write access"


def test_the_retired_single_account_variables_are_gone(workflows):
    for name in workflows:
        text = (WORKFLOWS_DIR / name).read_text()
        assert not re.search(r"vars\.AWS_PREVIEW_ROLE_ARN\b", text), name
        assert not re.search(r"vars\[", text), f"{name}: name variables literally"


def test_offline_diff_turns_an_unpreviewable_head_into_a_one_line_comment(workflows):
    job = _job(workflows, "pr.yml", "offline-diff")
    (diff,) = [s for s in job["steps"] if s.get("id") == "diff"]
    assert diff["env"]["HEAD_SHA"] == "${{ github.event.pull_request.head.sha }}"
    assert "${{" not in diff["run"]
    # mlopsctl writes the error comment itself (tests/stack/test_diff.py runs this script on a bad config).
    assert '--head-label "$HEAD_SHA"' in diff["run"] and '--out "out/diff-$STACK.md"' in diff["run"]
    upload = next(i for i, s in enumerate(job["steps"]) if str(s.get("uses", "")).startswith("actions/upload-artifact@"))
    fail = next(i for i, s in enumerate(job["steps"]) if s.get("if") == "steps.diff.outputs.status != '0'")
    assert job["steps"].index(diff) < upload < fail, "the error comment is uploaded before the job fails"


def test_deploy_runs_dev_then_staging_then_prod_on_push_to_main(workflows):
    deploy = workflows["deploy.yml"]
    assert triggers(deploy) == {"push": {"branches": ["main"]}}
    previous = "test"
    for stack in STACKS:
        job = deploy["jobs"][stack]
        assert (job["uses"], job["with"], job["needs"]) == (f"{LOCAL_PREFIX}deploy-stack.yml", {"stack": stack}, previous)
        previous = stack


def test_deploy_stack_runs_layer_one_hosted_and_layer_two_on_the_runner(workflows):
    aws, cluster = _job(workflows, "deploy-stack.yml", "aws"), _job(workflows, "deploy-stack.yml", "cluster")
    assert HOSTED_LABEL.match(aws["runs-on"]) and cluster["runs-on"] == CODEBUILD_LABEL
    assert cluster["needs"] == "aws"
    for job in (aws, cluster):
        assert job["environment"] == "${{ inputs.stack }}"
        assert job["concurrency"] == {"group": "deploy-${{ inputs.stack }}", "cancel-in-progress": False}
        assert job["permissions"] == {"contents": "read", "id-token": "write"}
        assert _step(job, "aws-actions/configure-aws-credentials@")["with"]["role-to-assume"] == DEPLOY_ROLE
        assert job["env"]["PULUMI_BACKEND_URL"] == "${{ vars.PULUMI_BACKEND_URL }}"
        assert job["timeout-minutes"] > 0
    installs = [_step(job, "pulumi/actions@") for job in (aws, cluster)]
    assert installs[0] == installs[1] and "command" not in installs[0]["with"] and installs[0]["with"]["pulumi-version"]
    assert _step(aws, "actions/setup-python@") == _step(cluster, "actions/setup-python@")

    pack = '--policy-pack "$GITHUB_WORKSPACE/policies" --policy-pack-config "$GITHUB_WORKSPACE/policies/config/$STACK.json"'
    assert [r for r in _commands(aws) if r.startswith("pulumi ")] == [f'pulumi up --yes --non-interactive --stack "$STACK" {pack}']
    steps = aws["steps"]
    credentials = steps.index(_step(aws, "aws-actions/configure-aws-credentials@"))
    [before_deploy] = [i for i, s in enumerate(steps) if "mlopsctl verify --before-deploy" in s.get("run", "")]
    [up] = [i for i, s in enumerate(steps) if s.get("run", "").startswith("pulumi up ")]
    assert steps[before_deploy]["run"].strip() == '.venv/bin/python -m mlopsctl verify --before-deploy --stack "$STACK"'
    assert credentials < before_deploy == up - 1, "the model packages are checked with the deploy credentials, right before layer 1's up"
    assert _commands(cluster)[1:] == [
        f'pulumi preview --non-interactive --diff --cwd incluster --stack "$STACK" {pack}',
        f'pulumi up --yes --non-interactive --cwd incluster --stack "$STACK" {pack}',
        'set -o pipefail pulumi stack output --json --stack "$STACK" | .venv/bin/python -m mlopsctl verify --stack "$STACK" --outputs -',
    ]


def load_actions(directory: Path = ACTIONS_DIR) -> dict[str, dict]:
    """The repository's own actions, by their `uses:` path."""
    return {LOCAL_ACTION_PREFIX + path.parent.name: yaml.safe_load(path.read_text()) for path in sorted(directory.glob("*/action.yml"))}


def test_no_run_script_interpolates_an_expression(workflows):
    # Values reach a shell only through env: (zizmor's template-injection, and the runner jobs' rule).
    scripts = [(f"{name}: job {job_id}", run) for name, job_id, job in iter_jobs(workflows) for run in _runs(job)]
    scripts += [(uses, step["run"]) for uses, action in load_actions().items() for step in action["runs"]["steps"] if "run" in step]
    assert len(scripts) > 10
    for where, run in scripts:
        assert "${{" not in run, f"{where}: pass values through env:"


def test_actions_are_pinned_by_commit_with_their_tag(workflows):
    files = [WORKFLOWS_DIR / name for name in workflows] + sorted(ACTIONS_DIR.glob("*/action.yml"))
    for path in files:
        name = path.relative_to(ROOT)
        for line in path.read_text().splitlines():
            match = re.match(r"\s*(?:- )?uses: (\S+)(.*)", line)
            if match and not match.group(1).startswith((LOCAL_PREFIX, LOCAL_ACTION_PREFIX)):
                assert re.fullmatch(r"[\w.-]+/[\w./-]+@[0-9a-f]{40}", match.group(1)), f"{name}: {line.strip()}"
                assert re.match(r"\s+# v\d+\.\d+\.\d+$", match.group(2)), f"{name}: {line.strip()}: tag comment"


def test_least_privilege_and_no_persisted_credentials(workflows):
    for name, workflow in workflows.items():
        assert workflow["permissions"] == {}, name
    for name, job_id, job in iter_jobs(workflows):
        assert isinstance(job.get("permissions"), dict), f"{name}: job {job_id}"
        if "uses" not in job:
            assert job.get("timeout-minutes"), f"{name}: job {job_id}"
        for step in job.get("steps") or []:
            if str(step.get("uses", "")).startswith("actions/checkout@"):
                assert step["with"]["persist-credentials"] is False, f"{name}: job {job_id}"


def _promotion_jobs(workflows: Workflows) -> dict[str, dict]:
    return {"promote.yml": _job(workflows, "promote.yml", "promote"), "deploy.yml": _job(workflows, "deploy.yml", "promote-prod")}


def test_promote_runs_on_the_approval_dispatch_and_by_hand(workflows):
    on = triggers(workflows["promote.yml"])
    assert set(on) == {"repository_dispatch", "workflow_dispatch"}
    assert on["repository_dispatch"] == {"types": ["mlops-model-approved"]}
    assert set(on["workflow_dispatch"]["inputs"]) == {"stack", "endpoint", "model-package-arn"}
    steps = _job(workflows, "promote.yml", "promote")["steps"]
    names = [s.get("name", s.get("uses", s.get("run"))) for s in steps]
    validate = names.index("Validate the request")
    promote = next(i for i, n in enumerate(names) if n.startswith("mlopsctl promote"))
    setup = next(i for i, s in enumerate(steps) if str(s.get("uses", "")).startswith("actions/setup-python@"))
    assert validate < setup < promote, "the request is checked before anything else runs"


def test_promotion_pull_requests_are_opened_by_one_action_with_the_app_token(workflows):
    action = load_actions()[PROMOTION_ACTION]
    for name, job in _promotion_jobs(workflows).items():
        assert job["permissions"] == {"contents": "read"}, name
        assert HOSTED_LABEL.match(job["runs-on"]) and "environment" not in job, name
        (step,) = [s for s in job["steps"] if str(s.get("uses", "")).startswith(LOCAL_ACTION_PREFIX)]
        assert step["uses"] == PROMOTION_ACTION, name
        assert step["with"] == {"pr-dir": "${{ runner.temp }}/promotion", "app-id": "${{ vars.PROMOTION_APP_ID }}",
                                "private-key": "${{ secrets.PROMOTION_APP_PRIVATE_KEY }}"}, name
        assert any('--pr-dir "$RUNNER_TEMP/promotion"' in run for run in _runs(job)), name
    # The one place that writes: nobody else creates an App token or talks to gh.
    for name, job_id, job in iter_jobs(workflows):
        assert not any(str(s.get("uses", "")).startswith("actions/create-github-app-token@") for s in job.get("steps") or []), f"{name}: {job_id}"
        assert not any(re.search(r"\bgh\b", run) for run in _runs(job)), f"{name}: {job_id}"
    (token,) = [s for s in action["runs"]["steps"] if str(s.get("uses", "")).startswith("actions/create-github-app-token@")]
    assert {k: v for k, v in token["with"].items() if k.startswith("permission-")} == {"permission-contents": "write", "permission-pull-requests": "write"}
    assert "owner" not in token["with"] and "repositories" not in token["with"], "the token is for this repository only"
    assert token["if"] == "steps.change.outputs.open == 'true'"


def test_prod_is_promoted_only_after_staging_deployed_and_verified(workflows):
    job = _job(workflows, "deploy.yml", "promote-prod")
    assert job["needs"] == "staging"  # the staging job's deploy-stack run ends with mlopsctl verify
    assert _commands(job)[1].startswith('mkdir -p "$RUNNER_TEMP/promotion" .venv/bin/python -m mlopsctl promote --stack prod --from-stack staging ')
    assert _commands(_job(workflows, "deploy-stack.yml", "cluster"))[-1].endswith('mlopsctl verify --stack "$STACK" --outputs -')


# --- negative tests: the checkers catch what they must ------------------------------------------

HOSTED_JOB = {"runs-on": "ubuntu-24.04", "permissions": {}, "steps": [{"run": "true"}]}


def _runner_job(**overrides) -> dict:
    job = {
        "runs-on": CODEBUILD_LABEL,
        "environment": "prod",
        "permissions": {"contents": "read", "id-token": "write"},
        "steps": [{"uses": "aws-actions/configure-aws-credentials@" + "0" * 40, "with": {"role-to-assume": DEPLOY_ROLE}}],
    }
    job.update(overrides)
    return job


@pytest.mark.parametrize("event", sorted(PR_EVENTS))
def test_a_pull_request_job_on_a_codebuild_runner_is_caught(event):
    synthetic = {"evil.yml": {"on": {event: {"branches": ["main"]}}, "jobs": {"hosted": HOSTED_JOB, "sneaky": _runner_job()}}}
    assert len(pr_runner_problems(synthetic)) == 1 and "job sneaky" in pr_runner_problems(synthetic)[0]
    problems = codebuild_job_problems(synthetic)
    assert any(f"reachable from {event}" in p for p in problems)


def test_a_codebuild_job_behind_a_reusable_workflow_called_from_a_pull_request_is_caught():
    synthetic = {
        "pr.yml": {"on": ["pull_request"], "jobs": {"call": {"uses": LOCAL_PREFIX + "inner.yml", "permissions": {"id-token": "write"}}}},
        "inner.yml": {"on": {"workflow_call": {}}, "jobs": {"deep": _runner_job()}},
    }
    synthetic["inner.yml"]["jobs"]["deep"]["runs-on"] = [CODEBUILD_LABEL, "image:linux-7.0"]
    problems = pr_runner_problems(synthetic)
    assert len(problems) == 1 and problems[0].startswith("inner.yml: job deep (reachable from pr.yml on pull_request)")
    assert any("reachable from pull_request in pr.yml" in p for p in codebuild_job_problems(synthetic))


@pytest.mark.parametrize("runs_on", ["${{ vars.RUNNER }}", "self-hosted", ["ubuntu-24.04", "${{ inputs.extra }}"], {"group": "vpc"}])
def test_a_pull_request_job_whose_runner_cannot_be_shown_hosted_is_caught(runs_on):
    synthetic = {"pr.yml": {"on": "pull_request", "jobs": {"j": {**HOSTED_JOB, "runs-on": runs_on}}}}
    assert len(pr_runner_problems(synthetic)) == 1


def test_a_pull_request_calling_a_remote_reusable_workflow_is_caught():
    synthetic = {"pr.yml": {"on": "pull_request", "jobs": {"j": {"uses": "acme/other/.github/workflows/x.yml@" + "0" * 40}}}}
    assert "cannot see" in pr_runner_problems(synthetic)[0]


def _mutations():
    def no_environment(w):
        del w["deploy-stack.yml"]["jobs"]["cluster"]["environment"]

    def push_to_any_branch(w):
        w["deploy.yml"]["on"] = {"push": None}

    def push_to_feature_branches(w):
        w["deploy.yml"]["on"] = {"push": {"branches": ["main", "feature/*"]}}

    def also_on_pull_request(w):
        w["deploy.yml"]["on"] = {"push": {"branches": ["main"]}, "pull_request": {"branches": ["main"]}}

    def on_schedule(w):
        w["deploy.yml"]["on"] = {"schedule": [{"cron": "0 3 * * *"}]}

    def no_id_token(w):
        w["deploy-stack.yml"]["jobs"]["cluster"]["permissions"] = {"contents": "read"}

    def caller_without_id_token(w):
        w["deploy.yml"]["jobs"]["prod"]["permissions"] = {"contents": "read"}

    def preview_role(w):
        _step(w["deploy-stack.yml"]["jobs"]["cluster"], "aws-actions/configure-aws-credentials@")["with"]["role-to-assume"] = "${{ vars.AWS_PREVIEW_ROLE_ARN_PROD }}"

    def no_role(w):
        steps = w["deploy-stack.yml"]["jobs"]["cluster"]["steps"]
        steps[:] = [s for s in steps if not str(s.get("uses", "")).startswith("aws-actions/configure-aws-credentials@")]

    def uncalled(w):
        for stack in STACKS:
            del w["deploy.yml"]["jobs"][stack]

    return [no_environment, push_to_any_branch, push_to_feature_branches, also_on_pull_request, on_schedule,
            no_id_token, caller_without_id_token, preview_role, no_role, uncalled]


@pytest.mark.parametrize("mutate", _mutations(), ids=lambda f: f.__name__)
def test_a_codebuild_job_that_leaves_the_deploy_path_is_caught(workflows, mutate):
    mutated = copy.deepcopy(workflows)
    mutate(mutated)
    assert codebuild_job_problems(mutated) != []
