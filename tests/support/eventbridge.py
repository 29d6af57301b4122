"""A registered EventBridge rule and one of its targets in moto, delivering into an SQS queue that
stands in for the real target (API destination, SNS topic): what the queue receives is what the
input transformer writes for each event."""

from __future__ import annotations

import json
from collections.abc import Callable

import boto3

from tests.support import sagemaker_events as events


def rule_into_queue(region: str, rule: dict, target: dict) -> Callable[[events.SampleEvent], list[dict]]:
    """Put ``rule`` (its registered inputs) and ``target``'s input transformer on moto's default bus
    (inside an active moto context); returns ``deliver(sample)``: the bodies the target receives."""
    sqs, bus = boto3.client("sqs", region_name=region), boto3.client("events", region_name=region)
    queue = sqs.create_queue(QueueName=f"{rule['name']}-target")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    bus.put_rule(Name=rule["name"], EventPattern=rule["eventPattern"], State=rule.get("state", "ENABLED"))
    transformer = target["inputTransformer"]
    bus.put_targets(Rule=rule["name"], Targets=[{"Id": target["targetId"], "Arn": queue_arn, "InputTransformer": {
        "InputPathsMap": transformer["inputPaths"], "InputTemplate": transformer["inputTemplate"]}}])

    def deliver(sample: events.SampleEvent) -> list[dict]:
        assert bus.put_events(Entries=[events.entry(sample)])["FailedEntryCount"] == 0
        received = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get("Messages", [])
        for message in received:
            sqs.delete_message(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"])
        return [json.loads(m["Body"]) for m in received]

    return deliver
