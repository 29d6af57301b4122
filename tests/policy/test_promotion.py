"""The pack's policies on the approval dispatch over gRPC, on the real staging and prod stacks: they
pass as built, and fire on the same resources once one setting is weakened."""

from __future__ import annotations

import copy
import dataclasses

import pytest

from tests.support.stacks import stack_preview

QUEUE = "aws:sqs/queue:Queue"
CONNECTION = "aws:cloudwatch/eventConnection:EventConnection"
TARGET = "aws:cloudwatch/eventTarget:EventTarget"
POLICIES = ("sqs-kms-encryption", "eventbridge-connection-kms", "reliability-api-destination-dead-letters")
DISPATCH_STACKS = ("staging", "prod")


def _weakened(recording, resource_type, change, only=lambda r: True):
    resources = []
    for resource in recording.resources:
        if resource.type == resource_type and only(resource):
            inputs = copy.deepcopy(resource.inputs)
            change(inputs)
            resource = dataclasses.replace(resource, inputs=inputs)
        resources.append(resource)
    return resources


def _dispatch_target(resource) -> bool:
    return "mlops:promotion:ApprovalDispatch" in resource.urn


@pytest.mark.parametrize("stack", DISPATCH_STACKS)
def test_the_dispatch_passes_the_pack(policy_pack, stack):
    result = stack_preview(stack)
    assert result.recording.of_type(QUEUE) and result.recording.of_type(CONNECTION)
    report = policy_pack(result.config.environment).analyze(result.recording)
    for policy in POLICIES:
        assert report.by_policy(policy) == [], policy


WEAKENINGS = [
    ("sqs-kms-encryption", QUEUE, lambda i: i.pop("kmsMasterKeyId"), "no kmsMasterKeyId"),
    ("sqs-kms-encryption", QUEUE, lambda i: i.update(kmsMasterKeyId="alias/aws/sqs"), "AWS-managed key"),
    ("eventbridge-connection-kms", CONNECTION, lambda i: i.pop("kmsKeyIdentifier"), "AWS-owned key"),
    ("reliability-api-destination-dead-letters", TARGET, lambda i: i.pop("deadLetterConfig"), "without deadLetterConfig.arn"),
    ("reliability-api-destination-dead-letters", TARGET, lambda i: i.pop("retryPolicy"), "without an explicit retryPolicy"),
]


@pytest.mark.parametrize(("policy", "resource_type", "change", "fragment"), WEAKENINGS, ids=[f"{w[0]}-{w[3]}" for w in WEAKENINGS])
def test_a_weakened_dispatch_fires_its_policy_mandatory_in_staging(policy_pack, policy, resource_type, change, fragment):
    result = stack_preview("staging")
    report = policy_pack(result.config.environment).analyze(_weakened(result.recording, resource_type, change, _dispatch_target))
    violations = report.by_policy(policy)
    expected = [r.urn for r in result.recording.of_type(resource_type) if _dispatch_target(r)]
    assert sorted(v.urn for v in violations) == sorted(expected) and expected
    assert all(fragment in v.message for v in violations), [v.message for v in violations]
    assert {v.level for v in violations} == {"mandatory"}


def test_alert_targets_that_publish_to_the_topic_need_no_dead_letter_queue(policy_pack):
    # The rule is about HTTP APIs: a target whose arn is the topic is not selected.
    result = stack_preview("staging")
    report = policy_pack("staging").analyze(_weakened(result.recording, TARGET, lambda i: i.pop("retryPolicy", None), lambda r: not _dispatch_target(r)))
    assert report.by_policy("reliability-api-destination-dead-letters") == []
