"""Helpers for policy tests: run a small Pulumi program under the recording monitor, then the pack."""

from __future__ import annotations

from collections.abc import Callable

import pulumi
import pulumi_aws as aws

from mlopsctl.offline.policycheck.report import PolicyReport
from tests.support.programs import run_component

REQUIRED_TAGS = {"environment": "prod", "owner": "ml-platform", "cost-center": "cc", "managed-by": "pulumi", "project": "mlops-platform"}


def tagged_provider(name: str = "aws", tags: dict | None = None) -> aws.Provider:
    """An explicit provider with the required default tags, like MlopsPlatform's."""
    return aws.Provider(name, region="us-east-1", default_tags=aws.ProviderDefaultTagsArgs(tags=REQUIRED_TAGS if tags is None else tags))


def evaluate(policy_pack, build: Callable[[pulumi.ResourceOptions], None], *, env: str = "prod", unknowns: bool = False) -> PolicyReport:
    """Run ``build(opts)`` (opts carry the tagged provider) and analyze it with ``env``'s config."""

    def program() -> None:
        build(pulumi.ResourceOptions(provider=tagged_provider()))

    recording = run_component(program, unknowns=unknowns, stack=env)
    return policy_pack(env).analyze(recording)


def fired(report: PolicyReport, policy: str) -> list[str]:
    """Messages of ``policy``'s violations (unknown-during-preview diagnostics excluded)."""
    return [v.message for v in report.by_policy(policy) if not v.unknown]
