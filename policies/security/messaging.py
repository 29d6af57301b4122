"""Queues and EventBridge connections: what they hold is encrypted under a customer-managed key.

A dead-letter queue holds the events nobody received (approvals, with their package ARNs); a
connection's secret holds the credentials EventBridge sends to an HTTP API (the GitHub token).
"""

from __future__ import annotations

from packlib import EVENT_CONNECTION, SQS_QUEUE, PolicyList, Severity, checkov, is_set, is_true, lookup, raw

POLICIES = PolicyList()
# SQS's own managed key: encryption without a key policy the stack controls.
AWS_MANAGED_SQS_KEY = "alias/aws/sqs"


@POLICIES.resource(
    "sqs-kms-encryption",
    "SQS queues are encrypted with a customer-managed KMS key.",
    types=(SQS_QUEUE,), category="security", severity=Severity.MEDIUM,
    remediation="Set kms_master_key_id to a platform key (the key's policy must let each producing service use it).",
    frameworks=[checkov("CKV_AWS_27", "Ensure all data stored in the SQS queue is encrypted")],
)
def _check_sqs_kms(args, report, cfg) -> None:
    key = raw(lookup(args.props, "kmsMasterKeyId"))
    if not is_set(args.props, "kmsMasterKeyId"):
        managed = " (sqsManagedSseEnabled: SQS-owned keys)" if is_true(lookup(args.props, "sqsManagedSseEnabled")) else ""
        report(f"the queue has no kmsMasterKeyId{managed}; encrypt it with a customer-managed key.")
    elif key == AWS_MANAGED_SQS_KEY:
        report(f"kmsMasterKeyId is {AWS_MANAGED_SQS_KEY}, the AWS-managed key; use a customer-managed key.")


@POLICIES.resource(
    "eventbridge-connection-kms",
    "EventBridge connections keep their credentials under a customer-managed KMS key.",
    types=(EVENT_CONNECTION,), category="security", severity=Severity.MEDIUM,
    remediation="Set kms_key_identifier to a platform key tagged EventBridgeApiDestinations=true (components/keys: the dispatch key).",
)
def _check_connection_kms(args, report, cfg) -> None:
    if not is_set(args.props, "kmsKeyIdentifier"):
        report("kmsKeyIdentifier is unset: the connection's secret (its credentials) is encrypted with an AWS-owned key the stack cannot audit or revoke.")
