"""The approval dispatch's checks (``promotion.dispatch``): its connection holds a token, and no approval is stuck.

Names come from components/config/physical_names.py, the builders the stack and
``mlopsctl dispatch-token`` use; the ``promotion`` outputs must name the same resources, or the
token would be set on a connection the API destination does not use.

``AUTHORIZED`` says EventBridge stored the API key, not that GitHub accepts it: EventBridge sends
an API key unverified. A token GitHub refuses shows as approvals in the dead-letter queue once
EventBridge's retries are spent, which is why the queue must be empty.
"""

from __future__ import annotations

from components.config import DISPATCH_AUTH_HEADER, DISPATCH_AUTHORIZATION_TYPE, dispatch_connection_name, dispatch_queue_name
from mlopsctl.ops.awsclients import unless_missing
from mlopsctl.ops.dispatch_token import AUTHORIZED
from mlopsctl.ops.verify.checks import Checks

# What SQS answers GetQueueUrl for a queue that does not exist (JSON protocol, and its query-compatible code).
_NO_QUEUE = ("AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist")
REDRIVE_DOCS = "docs/operations.md, \"Approvals GitHub did not receive\""


def verify_promotion(v: Checks, section: dict) -> None:
    stem = v.config.resource_name()
    connection_name, queue_name = dispatch_connection_name(stem), dispatch_queue_name(stem)
    events, sqs = v.clients.client("events"), v.clients.client("sqs")
    set_token = f"mlopsctl dispatch-token --stack {v.config.environment}"

    def connection():
        if section["connectionName"] != connection_name:
            return False, (f"the outputs' promotion.connectionName is {section['connectionName']}, but dispatch-token sets the token of "
                           f"{connection_name}")
        described = unless_missing(lambda: events.describe_connection(Name=connection_name), "ResourceNotFoundException", None)
        if described is None:
            return False, f"no EventBridge connection {connection_name} in {v.config.region}"
        state, kind = described.get("ConnectionState"), described.get("AuthorizationType")
        header = ((described.get("AuthParameters") or {}).get("ApiKeyAuthParameters") or {}).get("ApiKeyName")
        if (kind, header) != (DISPATCH_AUTHORIZATION_TYPE, DISPATCH_AUTH_HEADER):
            return False, f"authorization {kind} with key {header}, want {DISPATCH_AUTHORIZATION_TYPE} with header {DISPATCH_AUTH_HEADER}; set the token with {set_token}"
        if state != AUTHORIZED:
            reason = described.get("StateReason")
            return False, f"state {state}{f' ({reason})' if reason else ''}, want {AUTHORIZED}; set the token with {set_token}"
        return True, (f"{AUTHORIZED}, {DISPATCH_AUTHORIZATION_TYPE} in header {DISPATCH_AUTH_HEADER} (EventBridge stored a key; whether GitHub accepts it "
                      f"shows in {queue_name})")

    def dead_letters():
        if section["deadLetterQueueName"] != queue_name:
            return False, f"the outputs' promotion.deadLetterQueueName is {section['deadLetterQueueName']}, but the stack names it {queue_name}"
        url = unless_missing(lambda: sqs.get_queue_url(QueueName=queue_name)["QueueUrl"], _NO_QUEUE, None)
        if url is None:
            return False, f"no SQS queue {queue_name} in {v.config.region}"
        attributes = sqs.get_queue_attributes(
            QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
        waiting, in_flight = int(attributes.get("ApproximateNumberOfMessages", 0)), int(attributes.get("ApproximateNumberOfMessagesNotVisible", 0))
        if waiting or in_flight:
            held = f" ({in_flight} of them being read right now)" if in_flight else ""
            return False, (f"{waiting + in_flight} approval(s) GitHub did not receive{held}: no promote pull request was opened for them; "
                           f"fix the cause, then promote each by hand and delete it ({REDRIVE_DOCS})")
        return True, "empty: no approval is waiting for a dispatch GitHub did not accept"

    v.check("promotion.connection", f"eventbridge connection {connection_name}", connection)
    v.check("promotion.deadLetterQueue", f"sqs queue {queue_name}", dead_letters)
