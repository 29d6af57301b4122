"""Price rules of the approval dispatch: the API destination's invocations, the connection's
secret and the dead-letter queue's requests.

The volume is each approval rule's :data:`EXPECTED_DISPATCHES_TAG` (``promotion.expectedApprovalsPerMonth``),
summed over the rules whose targets call the destination. Idle: no approval, nothing invoked.
Expected: each approval is one invocation GitHub accepts. Ceiling: GitHub refuses every one, so
EventBridge invokes each ``1 + maximumRetryAttempts`` times (retries bill as invocations), and each
lands in the dead-letter queue: one SendMessage, and a person's ReceiveMessage and DeleteMessage.
"""

from __future__ import annotations

from collections.abc import Mapping

from .facts import EXPECTED_DISPATCHES_TAG
from .facts import resource_types as types
from .inputs import StackResource, as_int, tag_count
from .ledger import Ledger

# SendMessage by EventBridge, then ReceiveMessage and DeleteMessage by whoever redrives it.
REQUESTS_PER_DEAD_LETTER = 3


def _expected_dispatches(rule: StackResource) -> int | None:
    return tag_count(rule, EXPECTED_DISPATCHES_TAG)


def _targets_of(ledger: Ledger, urn: str, key: str) -> list[StackResource]:
    return [t for t in ledger.resources if t.type == types.EVENT_TARGET and urn in t.deps(key)]


def _volumes(ledger: Ledger, targets: list[StackResource]) -> tuple[int, int] | None:
    """(expected, ceiling) invocations a month of ``targets``; None when a rule's volume is unknown."""
    expected = ceiling = 0
    for target in targets:
        rules = [ledger.by_urn[u] for u in target.deps("rule") if u in ledger.by_urn and ledger.by_urn[u].type == types.EVENT_RULE]
        volume = _expected_dispatches(rules[0]) if rules else None
        if volume is None:
            return None
        retry = target.inputs.get("retryPolicy")
        attempts = as_int(retry.get("maximumRetryAttempts")) if isinstance(retry, Mapping) else None
        if attempts is None:
            return None  # EventBridge's own default applies, which the inputs do not state
        expected += volume
        ceiling += volume * (1 + attempts)
    return expected, ceiling


def api_destination(ledger: Ledger, r: StackResource) -> None:
    volumes = _volumes(ledger, _targets_of(ledger, r.urn, "arn"))
    if volumes is None:
        ledger.exclude(r, "API destination invocations", f"a rule calling it has no {EXPECTED_DISPATCHES_TAG} tag or its target no maximumRetryAttempts: usage the model cannot guess")
        return
    expected, ceiling = volumes
    ledger.usage(r, "events.apiDestination.invocation", "EventBridge API destination invocations", unit="invocation",
                 quantities={"idle": 0.0, "expected": float(expected), "ceiling": float(ceiling)},
                 note=f"{expected:,} approvals a month ({EXPECTED_DISPATCHES_TAG}); the ceiling retries every one to the limit")


def event_connection(ledger: Ledger, r: StackResource) -> None:
    price = ledger.price_or_unknown(r, "events.connection.secret.month", "EventBridge connection secret (Secrets Manager)")
    if price is not None:
        ledger.flat(r, "EventBridge connection secret (Secrets Manager)", price, 1, hourly=False, unit="connection-month",
                    note="storing and reading the connection's secret is included in the API destination's invocation price")


def sqs_queue(ledger: Ledger, r: StackResource) -> None:
    targets = _targets_of(ledger, r.urn, "deadLetterConfig")
    volumes = _volumes(ledger, targets) if targets else None
    if volumes is None:
        ledger.exclude(r, "SQS requests", "per-request charge of a queue no priced rule sends to: usage-dependent")
        return
    dead_letters, _ = volumes  # at the ceiling every approval the rules expect ends here
    ledger.usage(r, "sqs.standard.request", "SQS requests (dead letters)", unit="request",
                 quantities={"idle": 0.0, "expected": 0.0, "ceiling": float(dead_letters * REQUESTS_PER_DEAD_LETTER)},
                 note=f"none while GitHub accepts the dispatches; the ceiling dead-letters every approval ({REQUESTS_PER_DEAD_LETTER} requests each)")
    ledger.exclude(r, "KMS requests of the encrypted queue", "GenerateDataKey/Decrypt per data key SQS reuses (5 minutes): usage-dependent")
