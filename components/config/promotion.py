"""The ``promotion`` section: how an approved model package becomes a reviewed pull request, and
how a stack shares its approved packages with the next environment (components/promotion,
docs/promotion.md)."""

from __future__ import annotations

import typing

from pydantic import Field

from components import facts
from components.config.base import Model
from components.config.environments import Environment

# The order models travel in: a stack shares with the next environment, deploys from the previous.
ENVIRONMENT_ORDER: tuple[str, ...] = typing.get_args(Environment)
# EventBridge's PutTargets limits, from botocore's RetryPolicy shapes.
_ATTEMPTS = facts.shape_limits("events", "MaximumRetryAttempts")
_AGE = facts.shape_limits("events", "MaximumEventAgeInSeconds")
RETRY_ATTEMPTS_MAX = _ATTEMPTS["max"]
EVENT_AGE_MIN_S, EVENT_AGE_MAX_S = _AGE["min"], _AGE["max"]
# SQS's MessageRetentionPeriod upper bound, 14 days (botocore types queue attributes as strings,
# so the bound is SQS's documented one: SetQueueAttributes, MessageRetentionPeriod).
QUEUE_RETENTION_MAX_S = 1_209_600


# The dispatch connection's credential: EventBridge sends it as this header, "Bearer <token>". The
# stack creates the connection with the placeholder value and ignores the value's input path ever
# after; `mlopsctl dispatch-token` sets the real token (components/promotion, mlopsctl/ops).
DISPATCH_AUTHORIZATION_TYPE = "API_KEY"
DISPATCH_AUTH_HEADER = "Authorization"
DISPATCH_AUTH_SCHEME = "Bearer "
DISPATCH_TOKEN_PLACEHOLDER = f"{DISPATCH_AUTH_SCHEME}unset-run-mlopsctl-dispatch-token"
DISPATCH_TOKEN_INPUT = "authParameters.apiKey.value"
# GitHub's REST headers for the dispatch ("Create a repository dispatch event"): media type and API version.
GITHUB_API_HEADERS = {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28"}


def next_environment(environment: str) -> str | None:
    index = ENVIRONMENT_ORDER.index(environment)
    return ENVIRONMENT_ORDER[index + 1] if index + 1 < len(ENVIRONMENT_ORDER) else None


def previous_environment(environment: str) -> str | None:
    index = ENVIRONMENT_ORDER.index(environment)
    return ENVIRONMENT_ORDER[index - 1] if index > 0 else None


class PromotionPeerConfig(Model):
    """Another environment's stack: its environment name and its own AWS account."""

    environment: Environment = Field(description="The other environment (dev, staging or prod).")
    account_id: str = Field(pattern=r"^\d{12}$", description="That environment's accountId, as in its own stack file (`mlopsctl promote --from-stack` checks they agree).")


class PromotionConfig(Model):
    """Promotion by approval: an approval in this stack's registry dispatches the promote workflow."""

    dispatch: bool = Field(
        False,
        description=(
            "When a model package of one of this stack's model package groups is Approved, call GitHub's repository_dispatch on "
            "`ciRunner.githubRepo` (EventBridge rule, API destination and connection) so the promote workflow opens the pull request. "
            "Needs `ciRunner.githubRepo`; the connection's token is set with `mlopsctl dispatch-token` (docs/promotion.md)."
        ),
    )
    invocation_rate_per_second: int = Field(1, ge=facts.shape_limits("events", "ApiDestinationInvocationRateLimitPerSecond")["min"], le=300, description="The API destination's invocation rate limit (at most EventBridge's default quota of 300 per second); approvals are rare, and GitHub rate-limits tokens.")
    retry_attempts: int = Field(
        24, ge=_ATTEMPTS["min"], le=RETRY_ATTEMPTS_MAX, description=f"EventBridge retries of a failed dispatch (0-{RETRY_ATTEMPTS_MAX}) before the event goes to the dead-letter queue."
    )
    maximum_event_age_seconds: int = Field(
        86_400, ge=EVENT_AGE_MIN_S, le=EVENT_AGE_MAX_S,
        description=f"How long EventBridge keeps retrying one approval ({EVENT_AGE_MIN_S}-{EVENT_AGE_MAX_S} s); a day outlasts a GitHub outage.",
    )
    dead_letter_retention_seconds: int = Field(
        QUEUE_RETENTION_MAX_S, ge=60, le=QUEUE_RETENTION_MAX_S,
        description="How long an undelivered approval stays in the dead-letter queue (SQS allows up to 14 days); its depth alarms the alert topic.",
    )
    expected_approvals_per_month: int = Field(
        20, ge=0, le=1_000_000, description="Approvals the registry is expected to see a month; the cost model prices the dispatches (API destination invocations) from it."
    )
    promotes_to: PromotionPeerConfig | None = Field(
        None,
        description=(
            "The next environment (staging -> prod): its account may deploy this stack's approved packages. The registry's groups, the "
            "artifact store's `models/` prefix, its key and the serving image repositories grant that account's roles read access (docs/promotion.md)."
        ),
    )
    promoted_from: PromotionPeerConfig | None = Field(
        None,
        description=(
            "The previous environment (prod <- staging): endpoints may deploy its approved packages (ARNs in its account), and the serving "
            "roles may read their artifacts and images there. Must match that stack's promotesTo."
        ),
    )

    def check_stack(self, environment: str, own_account: str, github_repo: str | None, promotable_endpoints: list[str]) -> None:
        """Checks that need the environment, its account, the platform repository and the endpoints
        whose champion is a model package (called by PlatformConfig)."""
        if self.dispatch and not github_repo:
            raise ValueError("@promotion.dispatch: needs ciRunner.githubRepo, the repository whose promote workflow receives the dispatch")
        if self.dispatch and not promotable_endpoints:
            raise ValueError(
                "@promotion.dispatch: no endpoint serves a model package (serving.endpoints[].model.modelPackageArn), so no approval could be promoted; "
                "set it to false or deploy a model package"
            )
        for key, peer, expected in (
            ("promotesTo", self.promotes_to, next_environment(environment)),
            ("promotedFrom", self.promoted_from, previous_environment(environment)),
        ):
            if peer is None:
                continue
            if peer.environment != expected:
                allowed = f"only {expected}" if expected else "nothing"
                raise ValueError(f"@promotion.{key}.environment: {environment} can be {key} {allowed}, got {peer.environment}")
            if peer.account_id == own_account:
                raise ValueError(f"@promotion.{key}.accountId: {peer.account_id} is this environment's own accountId; each environment has its own account")
