"""The alert topic's checks: who hears it, and that every alarm of the stack notifies it.

Subscriptions: every ``alerts.subscriptions`` entry must be subscribed to the topic, and nothing
else may be. SNS lists a subscription nobody confirmed with the ARN ``PendingConfirmation``; it
receives nothing. In staging and prod that means nobody hears the alerts a deployment rolls back
on, so it fails; in dev it is a warning, because a dev stack is created and destroyed often and its
subscribers confirm later (docs/operations.md).

Alarms: the stack's alarms are every alarm named under its name stem (``<namePrefix>-<env>-``):
the endpoints' rollback alarms ``<stem>-<endpoint>-<variant>-<kind>`` (components/serving) and
the dispatch dead-letter queue's. The stack outputs do not list them. Alarms that Application
Auto Scaling creates for target tracking (``TargetTracking-…``) act on the scaling policy, not the
topic, and are not under the stem.
"""

from __future__ import annotations

from mlopsctl.ops.awsclients import AWS_ERRORS, unless_missing
from mlopsctl.ops.verify.checks import FAIL, PASS, SKIP, WARN, Checks, memo

PENDING = "PendingConfirmation"
# Environments in which an unconfirmed subscription is a warning rather than a failure.
PENDING_WARNS_IN = frozenset({"dev"})


def verify_alerts(v: Checks, section: dict, endpoints: dict | None) -> None:
    topic_arn = section["topicArn"]
    _verify_subscriptions(v, topic_arn)
    _verify_alarms(v, topic_arn, endpoints or {})


def _verify_subscriptions(v: Checks, topic_arn: str) -> None:
    sns = v.clients.client("sns")
    topic = topic_arn.rsplit(":", 1)[-1]

    def listed():
        pages = sns.get_paginator("list_subscriptions_by_topic").paginate(TopicArn=topic_arn)
        return [s for page in pages for s in page["Subscriptions"]]

    subscriptions = memo(lambda: unless_missing(listed, "NotFound", None))
    configured = [(s.protocol, s.endpoint) for s in v.config.alerts.subscriptions]
    pending_status = WARN if v.config.environment in PENDING_WARNS_IN else FAIL

    def subscribed(protocol: str, endpoint: str):
        found = subscriptions()
        if found is None:
            return False, f"the alert topic {topic_arn} does not exist"
        matching = [s for s in found if (s.get("Protocol"), s.get("Endpoint")) == (protocol, endpoint)]
        if not matching:
            return False, f"not subscribed to {topic}: nobody hears the alerts there (pulumi up creates it)"
        if all(s.get("SubscriptionArn") == PENDING for s in matching):
            return pending_status, (f"pending: nobody confirmed the subscription to {topic}, so it receives nothing; confirm it from the "
                                    f"{'mail' if protocol == 'email' else 'SubscriptionConfirmation POST'} SNS sent (docs/alerts.md)")
        return True, f"confirmed ({next(s['SubscriptionArn'] for s in matching if s.get('SubscriptionArn') != PENDING)})"

    for protocol, endpoint in configured:
        v.check("alerts.subscription", f"sns {protocol} subscription {endpoint}", lambda p=protocol, e=endpoint: subscribed(p, e))
    if not configured:
        v.check("alerts.subscription", f"sns topic {topic}",
                lambda: (False, f"the alert topic {topic_arn} does not exist") if subscriptions() is None
                else (WARN, "alerts.subscriptions is empty: nobody hears this stack's alerts"))

    def extras():
        found = subscriptions() or []
        return [s for s in found if (s.get("Protocol"), s.get("Endpoint")) not in configured]

    # Subscribers added outside the stack: one failure each, after the listing has succeeded.
    try:
        unexpected = extras()
    except AWS_ERRORS:  # the listing's error is already the result of the checks above
        return
    for s in unexpected:
        state = "pending" if s.get("SubscriptionArn") == PENDING else "confirmed"
        v.fail("alerts.subscription", f"sns {s.get('Protocol')} subscription {s.get('Endpoint')}",
               f"{state}, subscribed to {topic} but not in alerts.subscriptions (added outside the stack: declare it or unsubscribe it)")


def _verify_alarms(v: Checks, topic_arn: str, endpoints: dict) -> None:
    cloudwatch = v.clients.client("cloudwatch")
    prefix = f"{v.config.resource_name()}-"

    def listed():
        pages = cloudwatch.get_paginator("describe_alarms").paginate(AlarmNamePrefix=prefix, AlarmTypes=["MetricAlarm", "CompositeAlarm"])
        return [a for page in pages for a in (*page.get("MetricAlarms", []), *page.get("CompositeAlarms", []))]

    alarms = memo(listed)
    expects_alarms = bool(v.config.serving.endpoints) or v.config.promotion.dispatch

    def present():
        found = alarms()
        if not found:
            if not expects_alarms:
                return SKIP, f"no alarm named {prefix}*, and the stack creates none (no endpoints, no approval dispatch)"
            return False, f"no alarm named {prefix}*; the stack's endpoints and approval dispatch create alarms that notify {topic_arn}"
        # Each endpoint variant needs an alarm of its own: its blue/green deployment rolls back on them.
        bare = [f"{out['name']}/{variant}" for out in endpoints.values() for variant in out.get("variantNames") or []
                if not any(_watches(a, out["name"], variant) for a in found)]
        if bare:
            return False, f"{len(found)} alarm(s) named {prefix}*, none on endpoint variant(s) {', '.join(bare)}: their deployments cannot roll back"
        return PASS, f"{len(found)} alarm(s) named {prefix}*"

    v.check("alarm.present", f"cloudwatch alarms {prefix}*", present)
    try:
        found = alarms()
    except AWS_ERRORS:  # the listing's error is already alarm.present's result
        return
    for alarm in found:
        v.check("alarm.actions", f"cloudwatch alarm {alarm['AlarmName']}", lambda a=alarm: _actions(a, topic_arn))


def _watches(alarm: dict, endpoint: str, variant: str) -> bool:
    dimensions = {d.get("Name"): d.get("Value") for d in alarm.get("Dimensions") or []}
    return dimensions.get("EndpointName") == endpoint and dimensions.get("VariantName") == variant


def _actions(alarm: dict, topic_arn: str) -> tuple[bool, str]:
    actions = list(alarm.get("AlarmActions") or [])
    if not actions:
        return False, "no alarm actions: nobody hears it fire"
    if topic_arn not in actions:
        return False, f"alarm actions {', '.join(actions)} do not include the alert topic {topic_arn}"
    if alarm.get("ActionsEnabled") is False:
        return False, f"actions disabled (ActionsEnabled false): it notifies nobody, though its actions name {topic_arn}"
    ok = " and on OK" if topic_arn in (alarm.get("OKActions") or []) else ""
    return True, f"notifies {topic_arn} on ALARM{ok}"
