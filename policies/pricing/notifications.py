"""Price rules of the alert path: the SNS topic's publishes, its deliveries per subscription, and
the EventBridge rules that feed it.

The volume is the topic's :data:`EXPECTED_NOTIFICATIONS_TAG` (``alerts.expectedNotificationsPerMonth``):
idle sends nothing (no alarm fires), expected and ceiling send the configured volume, each message
published once and delivered once per subscription. A topic without the tag is usage the model
cannot guess: named, not priced. Rules matching only AWS services' own events cost nothing
(EventBridge bills custom events, not AWS service events on the default bus).
"""

from __future__ import annotations

import json

from .facts import EXPECTED_NOTIFICATIONS_TAG
from .facts import resource_types as types
from .inputs import StackResource, is_unknown, tag_count
from .ledger import Ledger

DELIVERY_PRICES = {"email": "sns.delivery.email", "email-json": "sns.delivery.email", "https": "sns.delivery.https", "http": "sns.delivery.https"}


def expected_notifications(topic: StackResource) -> int | None:
    """The topic's expected monthly messages from its tag; None when it has none (or it is unknown)."""
    return tag_count(topic, EXPECTED_NOTIFICATIONS_TAG)


def _per_message(ledger: Ledger, r: StackResource, key: str, item: str, volume: int, unit: str) -> None:
    ledger.usage(r, key, item, unit=unit, quantities={"idle": 0.0, "expected": float(volume), "ceiling": float(volume)},
                 note=f"{volume:,} messages a month ({EXPECTED_NOTIFICATIONS_TAG}); none while nothing fires")


def sns_topic(ledger: Ledger, r: StackResource) -> None:
    volume = expected_notifications(r)
    if volume is None:
        ledger.exclude(r, "SNS publishes", f"per-request charge; set the topic's {EXPECTED_NOTIFICATIONS_TAG} tag to price a volume")
        return
    _per_message(ledger, r, "sns.publish.request", "SNS publishes (standard topic)", volume, "request")
    ledger.exclude(r, "KMS requests of the encrypted topic", "GenerateDataKey/Decrypt per data key SNS caches (up to 5 minutes): usage-dependent")


def sns_subscription(ledger: Ledger, r: StackResource) -> None:
    protocol = r.inputs.get("protocol")
    topic = next((ledger.by_urn[u] for u in r.deps("topic") if u in ledger.by_urn and ledger.by_urn[u].type == types.SNS_TOPIC), None)
    volume = expected_notifications(topic) if topic is not None else None
    key = DELIVERY_PRICES.get(protocol) if isinstance(protocol, str) else None
    if key is None or volume is None:
        ledger.exclude(r, f"SNS {protocol} deliveries", "per-delivery charge of a topic without an expected volume, or a protocol without a price model")
        return
    _per_message(ledger, r, key, f"SNS {protocol} deliveries", volume, "notification")


def event_rule(ledger: Ledger, r: StackResource) -> None:
    pattern = r.inputs.get("eventPattern")
    try:
        sources = json.loads(pattern).get("source") if isinstance(pattern, str) and not is_unknown(pattern) else None
    except ValueError:
        sources = None
    if not isinstance(sources, list) or not sources or not all(isinstance(s, str) and s.startswith("aws.") for s in sources):
        ledger.exclude(r, "EventBridge events", "custom or unknown event sources: custom events are billed per million published")
        return
    price = ledger.price_or_unknown(r, "events.awsServiceEvent", "EventBridge rule on AWS service events")
    if price is None:
        return
    ledger.flat(r, f"EventBridge rule on {', '.join(sources)} events (AWS service events are free)", price, 1, hourly=False, unit="rule")
