"""Cross-region replication of the artifact store: a replica bucket under a replica-region key.

The replica lives in ``storage.replication.region`` (pulumi-aws v7's per-resource ``region``)
with its own key and its own access-log bucket there. Deletions in the primary are not
replicated, so the replica is the copy that survives an accidental or malicious delete.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.config import REPLICA_LOG_BUCKET_STEM
from components.iam.policy import Statement, policy_document
from components.iam.roles import inline_policy, service_role
from components.keys import KmsAction, PlatformKey, key_policy_statements
from components.keys.platform_keys import customer_managed_key
from components.storage.buckets import REPLICA_TAG, BucketBuilder, DataBucket


@dataclass(frozen=True)
class Replica:
    key: aws.kms.Key
    bucket: aws.s3.Bucket
    log_bucket: aws.s3.Bucket
    role: aws.iam.Role


def replicate(name: str, buckets: BucketBuilder, *, source: DataBucket, source_key: PlatformKey, region: str) -> Replica:
    """Replica bucket, its key and its access-log bucket in ``region``, plus the replication
    role and rule on ``source``."""
    scope, storage, parent = buckets.scope, buckets.storage, buckets.parent
    key = customer_managed_key(
        f"{name}-replica-key",
        description=f"{scope.name('artifacts-replica')}: replica of the artifact store in {region}",
        deletion_window_days=storage.kms_deletion_window_days,
        policy=policy_document(key_policy_statements("artifacts", scope, region=region), kind="key"),
        region=region,
        opts=buckets.data_opts,
    )
    aws.kms.Alias(
        f"{name}-replica-key-alias",
        name=f"alias/{scope.name('artifacts-replica')}",
        target_key_id=key.key_id,
        region=region,
        opts=pulumi.ResourceOptions(parent=parent),
    )
    replica = buckets.data_bucket(
        f"{name}-replica",
        resource_name=f"{name}-replica",
        bucket_stem="replica",
        tag=REPLICA_TAG,
        key_arn=key.arn,
        # S3 replicates no lifecycle expiry, so the replica expires the same prefixes itself;
        # otherwise it would keep every checkpoint the primary has long dropped.
        lifecycle_rules=[*buckets.cleanup_rules(), *buckets.expiration_rules()],
        region=region,
    )
    log_bucket = buckets.access_logs(f"{name}-replica", replica.bucket, bucket_stem=REPLICA_LOG_BUCKET_STEM, region=region)

    role = service_role(
        f"{name}-replication-role",
        scope,
        service="s3.amazonaws.com",
        description="S3 replication of the artifact store to its replica region",
        opts=pulumi.ResourceOptions(parent=parent),
    )
    inline_policy(
        f"{name}-replication-policy",
        role,
        replication_statements(
            source_bucket_arn=source.bucket.arn,
            source_key=source_key,
            source_region=scope.region,
            replica_bucket_arn=replica.bucket.arn,
            replica_key=PlatformKey(arn=key.arn),
            replica_region=region,
        ),
        opts=pulumi.ResourceOptions(parent=parent),
    )
    aws.s3.BucketReplicationConfig(
        f"{name}-replication",
        bucket=source.bucket.id,
        role=role.arn,
        rules=[
            {
                "id": "replicate-everything",
                "status": "Enabled",
                "filter": {},
                # Deletions in the primary do not hide objects in the replica: the replica is
                # the copy that survives an accidental or malicious delete.
                "delete_marker_replication": {"status": "Disabled"},
                "source_selection_criteria": {"sse_kms_encrypted_objects": {"status": "Enabled"}},
                "destination": {
                    "bucket": replica.bucket.arn,
                    "storage_class": "STANDARD",
                    "encryption_configuration": {"replica_kms_key_id": key.arn},
                },
            }
        ],
        opts=pulumi.ResourceOptions(parent=parent, depends_on=[source.versioning, replica.versioning]),
    )
    return Replica(key=key, bucket=replica.bucket, log_bucket=log_bucket, role=role)


def replication_statements(
    *,
    source_bucket_arn: pulumi.Input[str],
    source_key: PlatformKey,
    source_region: str,
    replica_bucket_arn: pulumi.Input[str],
    replica_key: PlatformKey,
    replica_region: str,
) -> list[Statement]:
    """What S3 replication needs, and nothing else (AWS S3 User Guide, "Setting up permissions")."""

    def context(bucket_arn):
        # With a bucket key the encryption context is the bucket ARN; without, the object ARN.
        return {"aws:s3:arn": [bucket_arn, pulumi.Output.concat(bucket_arn, "/*")]}

    return [
        Statement(sid="ReadReplicationConfiguration", actions=["s3:GetReplicationConfiguration", "s3:ListBucket"], resources=[source_bucket_arn]),
        Statement(
            sid="ReadSourceVersions",
            actions=["s3:GetObjectVersionForReplication", "s3:GetObjectVersionAcl", "s3:GetObjectVersionTagging"],
            resources=[pulumi.Output.concat(source_bucket_arn, "/*")],
        ),
        Statement(
            sid="WriteReplicas",
            actions=["s3:ReplicateObject", "s3:ReplicateDelete", "s3:ReplicateTags"],
            resources=[pulumi.Output.concat(replica_bucket_arn, "/*")],
        ),
        source_key.allow(
            "DecryptSourceObjects",
            [KmsAction.DECRYPT],
            via_service=f"s3.{source_region}.amazonaws.com",
            encryption_context=context(source_bucket_arn),
        ),
        replica_key.allow(
            "EncryptReplicas",
            [KmsAction.ENCRYPT, KmsAction.GENERATE_DATA_KEY],
            via_service=f"s3.{replica_region}.amazonaws.com",
            encryption_context=context(replica_bucket_arn),
        ),
    ]
