"""The pull request a promotion opens: its branch, title and body (``mlopsctl promote --pr-dir``).

The promote workflow and the staging -> prod job of the deploy workflow open it with a GitHub App
token (.github/actions/promotion-pull-request). The branch, title and body come from the values
``mlopsctl promote`` accepted, so nothing from an event payload reaches git or the pull request
unchecked; the one free text is ``--pr-event``, which the workflows build from GitHub's own run
context.

The branch is named after what it deploys, so a second run for the same promotion (a repeated
approval event, a re-run deploy) finds the same branch and updates its pull request instead of
opening another: ``promote/<env>/<endpoint>/<version>`` for a package of the stack's own registry,
``promote/<env>/<endpoint>/<source env>-<version>`` for one shared by the environment it is
promoted from (versions count per registry, so staging's churn/9 is not prod's churn/9), and
``promote/<env>/from-<source env>/<endpoint>-<version>+...`` when one run changes several endpoints.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from mlopsctl.markdown import inline_text
from mlopsctl.offline.promote import Promotion, PromotionResult

# The files --pr-dir holds when the stack file changed; none of them when it did not.
PR_FILES = ("branch", "title", "body.md", "path")
BRANCH_PREFIX = "promote"
# A git ref component is a file name on most filesystems (255 bytes); stay well below.
_MAX_COMPONENT = 120
_MAX_EVENT = 500


def marker(stack: str) -> str:
    return f"<!-- mlopsctl-promote stack={stack} -->"


@dataclass(frozen=True)
class PullRequest:
    branch: str
    title: str
    body: str
    path: str  # the stack file to commit, as the repository names it


def pull_request(result: PromotionResult, event: str) -> PullRequest | None:
    """The pull request for ``result``'s changes, or None when the stack file did not change."""
    changed = result.changed
    if not changed:
        return None
    return PullRequest(_branch(result), _title(result), _body(result, _one_line(event)), result.display_path)


def write_pull_request(directory: Path, pr: PullRequest | None) -> None:
    """The PR's files in ``directory``; with nothing to open, any left there are removed, so an
    old run's files never read as this run's change."""
    for name in PR_FILES:
        (directory / name).unlink(missing_ok=True)
    if pr is None:
        return
    values = {"branch": pr.branch, "title": pr.title, "body.md": pr.body, "path": pr.path}
    for name in PR_FILES:
        (directory / name).write_text(values[name] + ("" if name == "body.md" else "\n"), encoding="utf-8")


def _registry(result: PromotionResult, promotion: Promotion) -> str | None:
    """None for the stack's own registry, else the environment that shares its package."""
    if promotion.account == result.config.account_id:
        return None
    peer = result.config.promotion.promoted_from
    assert peer is not None and peer.account_id == promotion.account  # promote accepts no other account
    return peer.environment


def _version_label(result: PromotionResult, promotion: Promotion) -> str:
    source = _registry(result, promotion)
    return f"{source}-{promotion.version}" if source else promotion.version


def _branch(result: PromotionResult) -> str:
    changed = result.changed
    if len(changed) == 1:
        (only,) = changed
        return f"{BRANCH_PREFIX}/{result.stack}/{only.endpoint}/{_version_label(result, only)}"
    component = "+".join(f"{p.endpoint}-{_version_label(result, p)}" for p in changed)
    if len(component) > _MAX_COMPONENT:
        component = f"{len(changed)}-endpoints-{hashlib.sha256(component.encode()).hexdigest()[:12]}"
    source = f"from-{result.from_stack}" if result.from_stack else "endpoints"
    return f"{BRANCH_PREFIX}/{result.stack}/{source}/{component}"


def _title(result: PromotionResult) -> str:
    changed = result.changed
    if len(changed) == 1:
        (only,) = changed
        source = _registry(result, only)
        shared = f" (approved in {source})" if source else ""
        return f"Promote {result.stack} endpoint {only.endpoint} to {only.group}/{only.version}{shared}"
    packages = ", ".join(f"{p.endpoint} to {p.group}/{p.version}" for p in changed)
    source = f"{result.from_stack}'s packages" if result.from_stack else "new packages"
    return f"Promote {result.stack} to {source}: {packages}"


def _body(result: PromotionResult, event: str) -> str:
    stack, file = result.stack, result.display_path
    endpoints = {e.name: e for e in result.config.serving.endpoints}
    rows = []
    for p in result.changed:
        source = _registry(result, p)
        registry = f"{source}'s (account {p.account}), shared with {stack}" if source else f"{stack}'s own (account {p.account})"
        rows.append(f"| `{p.endpoint}` | `{p.group}` | {p.version} | {registry} | `{p.new_arn}` | `{p.old_arn}` |")
    unchanged = [p for p in result.promotions if not p.changed]
    rollouts = []
    for p in result.changed:
        deployment = endpoints[p.endpoint].deployment
        if deployment.strategy == "canary":
            rollout = f"a canary of {deployment.size_percent}% of capacity, the rest after {deployment.wait_seconds} s"
        else:
            rollout = f"linear steps of {deployment.size_percent}% of capacity, {deployment.wait_seconds} s apart"
        rollouts.append(f"`{p.endpoint}`: {rollout}")
    lines = [
        marker(stack),
        f"### Promote `{stack}`: {len(result.changed)} model package(s)",
        "",
        f"`mlopsctl promote` changed only these `model.modelPackageArn` values in `{file}`; every other byte is as it was.",
        "",
        "| Endpoint | Model package group | Version | Registry | Package | Replaces |",
        "|---|---|---|---|---|---|",
        *rows,
        "",
    ]
    if unchanged:
        lines += ["Already deployed, unchanged: " + ", ".join(f"`{p.endpoint}` ({p.group}/{p.version})" for p in unchanged) + ".", ""]
    lines += [
        f"**Approval event:** {event}",
        "",
        "**Review.** The offline diff of this pull request should show, per endpoint, the SageMaker model replaced, the endpoint "
        "configuration it drags along and an update of the endpoint, and nothing else. The package must be Approved in its registry; "
        "the deploy checks that again.",
        "",
        f"**After the merge** the deploy workflow runs `mlopsctl verify --before-deploy --stack {stack}` (every package it deploys must exist "
        f"and be Approved, or nothing is deployed), then `pulumi up` rolls each endpoint out with SageMaker's blue/green deployment "
        f"({'; '.join(rollouts)}). SageMaker rolls back automatically when the endpoint's rollback alarms (5XX errors, model latency) "
        f"fire during the rollout, and the rollback reaches the alert topic. The `{stack}` deploy waits for the `{stack}` GitHub "
        "environment's required reviewers where it has them.",
        "",
    ]
    return "\n".join(lines)


def _one_line(text: str) -> str:
    """Free text from the caller, inert in markdown, on one line of bounded length."""
    line = " ".join(text.split())
    return inline_text(line if len(line) <= _MAX_EVENT else line[: _MAX_EVENT - 1] + "…")
