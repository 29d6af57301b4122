"""CI runner policies: AWS CodeBuild as a GitHub Actions runner (who may queue builds, how the project runs)."""

from __future__ import annotations

from packlib import (
    CODEBUILD_PROJECT,
    CODEBUILD_WEBHOOK,
    MISSING,
    PolicyList,
    Severity,
    as_list,
    is_set,
    is_true,
    lookup,
)

POLICIES = PolicyList()


def _filters(group) -> list:
    return [f for f in as_list(lookup(group, "filters")) if f is not MISSING]


@POLICIES.resource(
    "codebuild-runner-webhook-maintainers-only",
    "CodeBuild runner webhooks build WORKFLOW_JOB_QUEUED events only from listed GitHub actors, and fork pull requests need approval.",
    types=(CODEBUILD_WEBHOOK,), category="security", severity=Severity.CRITICAL,
    remediation="Add filter {type: ACTOR_ACCOUNT_ID, pattern: '^(<id>|<id>)$'} to every WORKFLOW_JOB_QUEUED filter group (ciRunner.allowedActorIds) and pull_request_build_policy requires_comment_approval=FORK_PULL_REQUESTS.",
)
def _check_runner_webhook(args, report, cfg) -> None:
    """A public repository's fork can queue workflow jobs; only a maintainer filter keeps them off the runner."""
    for index, group in enumerate(as_list(lookup(args.props, "filterGroups"))):
        filters = _filters(group)
        events = [lookup(f, "pattern") for f in filters if lookup(f, "type") == "EVENT"]
        if not any(isinstance(e, str) and "WORKFLOW_JOB_QUEUED" in e for e in events):
            continue
        actors = [f for f in filters if lookup(f, "type") == "ACTOR_ACCOUNT_ID" and not is_true(lookup(f, "excludeMatchedPattern"))]
        if not actors:
            report(
                f"filterGroups[{index}] builds WORKFLOW_JOB_QUEUED events from anyone; add an ACTOR_ACCOUNT_ID filter naming the "
                "maintainers' GitHub ids, or a fork's pull request can run code on the runner."
            )
    approval = lookup(args.props, "pullRequestBuildPolicy", "requiresCommentApproval")
    if approval is MISSING or approval == "DISABLED":
        state = "unset" if approval is MISSING else "DISABLED"
        report(f"pullRequestBuildPolicy.requiresCommentApproval is {state}; require approval for FORK_PULL_REQUESTS (or ALL_PULL_REQUESTS).")


@POLICIES.resource(
    "codebuild-project-hardened",
    "CodeBuild projects run unprivileged, in the VPC, with a customer-managed key and CloudWatch build logs.",
    types=(CODEBUILD_PROJECT,), category="security", severity=Severity.HIGH,
    remediation="Set environment.privileged_mode=False, vpc_config on the private subnets, encryption_key to a CMK and logs_config.cloudwatch_logs enabled.",
)
def _check_codebuild_project(args, report, cfg) -> None:
    if is_true(lookup(args.props, "environment", "privilegedMode")):
        report("environment.privilegedMode is true (Docker-in-Docker as root); runner builds do not need it.")
    if not is_set(args.props, "encryptionKey"):
        report("encryptionKey is unset (AWS-managed key); name a customer-managed KMS key.")
    if not is_set(args.props, "vpcConfig", "vpcId"):
        report("the project has no vpcConfig; a runner that deploys to a private cluster runs in its private subnets.")
    if lookup(args.props, "logsConfig", "cloudwatchLogs", "status") == "DISABLED":
        report("logsConfig.cloudwatchLogs.status is DISABLED; keep build logs (encrypted, with a retention) for the audit trail.")
