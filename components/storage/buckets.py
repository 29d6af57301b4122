"""The artifact store's buckets: hardened, encrypted, lifecycled, and logged into their own bucket.

Every bucket of the store is versioned, blocks all public access, has ACLs off and is protected
per ``storage.protect``. Data buckets (the artifact bucket and its replica) are SSE-KMS with a
bucket key under their own customer-managed key and refuse plain HTTP, TLS below 1.2 and uploads
asking for another key. The access-log buckets are the one deliberate exception to SSE-KMS: S3
log delivery (``logging.s3.amazonaws.com``) sends no encryption headers and cannot write to an
SSE-KMS bucket, so they use SSE-S3 and carry the tag :data:`ACCESS_LOG_TAG` so policies can
recognise them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.config import CHECKPOINTS_PREFIX, StorageConfig
from components.iam.policy import Statement, policy_document
from components.scope import AwsScope
from policies.awsfacts import ROLE_TAG

# The tag that marks a bucket as an S3 server-access-log target (SSE-S3 by necessity).
ACCESS_LOG_TAG = (ROLE_TAG, "access-logs")
ARTIFACTS_TAG = (ROLE_TAG, "artifacts")
REPLICA_TAG = (ROLE_TAG, "artifacts-replica")
# Where a data bucket's access logs land in its log bucket.
ACCESS_LOG_PREFIX = "artifacts/"


def _deny_everyone(sid: str, actions: list[str], resources: list, conditions: dict) -> Statement:
    return Statement(sid=sid, effect="Deny", principals={"AWS": "*"}, actions=actions, resources=resources, conditions=conditions)


def tls_statements(bucket_arn: pulumi.Input[str]) -> list[Statement]:
    resources = [bucket_arn, pulumi.Output.concat(bucket_arn, "/*")]
    return [
        _deny_everyone("DenyInsecureTransport", ["s3:*"], resources, {"Bool": {"aws:SecureTransport": "false"}}),
        _deny_everyone("DenyTlsBelow12", ["s3:*"], resources, {"NumericLessThan": {"s3:TlsVersion": "1.2"}}),
    ]


def _key_id(key_arn: pulumi.Input[str]) -> pulumi.Output[str]:
    return pulumi.Output.from_input(key_arn).apply(lambda arn: arn.rsplit("/", 1)[-1])


def kms_upload_statements(bucket_arn: pulumi.Input[str], key_arn: pulumi.Input[str]) -> list[Statement]:
    """Refuse uploads that ask for anything but SSE-KMS with this bucket's key.

    ``...IfExists``: a request without encryption headers is encrypted by the bucket default (this
    key), and UploadPart requests (authorised as s3:PutObject) never carry the headers, so
    requiring them would break every multipart upload. Clients may name the key by ARN or key id.
    """
    objects = [pulumi.Output.concat(bucket_arn, "/*")]
    return [
        _deny_everyone(
            "DenyUploadsNotUsingSseKms",
            ["s3:PutObject"],
            objects,
            {"StringNotEqualsIfExists": {"s3:x-amz-server-side-encryption": "aws:kms"}},
        ),
        _deny_everyone(
            "DenyUploadsNamingAnotherKmsKey",
            ["s3:PutObject"],
            objects,
            {"StringNotEqualsIfExists": {"s3:x-amz-server-side-encryption-aws-kms-key-id": [key_arn, _key_id(key_arn)]}},
        ),
    ]


@dataclass(frozen=True)
class DataBucket:
    bucket: aws.s3.Bucket
    versioning: aws.s3.BucketVersioning


@dataclass(frozen=True)
class BucketBuilder:
    """Builds the store's buckets and their settings, every one a child of ``parent``.

    parent: the component the buckets belong to (required).
    storage: the ``storage`` section: protect, forceDestroy, lifecycle days, transitions and
        access-log expiry (required).
    scope: the stack's name stem (bucket name prefixes) and account (log-delivery trust) (required).
    """

    parent: pulumi.Resource
    storage: StorageConfig
    scope: AwsScope

    @property
    def data_opts(self) -> pulumi.ResourceOptions:
        """Options of buckets and keys: protected and retained per ``storage.protect``."""
        return pulumi.ResourceOptions(parent=self.parent, protect=self.storage.protect, retain_on_delete=self.storage.protect)

    def _child(self, **options) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(parent=self.parent, **options)

    def bucket(self, resource_name: str, bucket_stem: str, tag: tuple[str, str], region: str | None = None) -> aws.s3.Bucket:
        """A bucket named ``<namePrefix>-<env>-<bucket_stem>-<random>``, protected per config.

        ``bucket_prefix`` leaves room for the random suffix (S3 names are global); the longest
        stem here keeps the prefix within its 37-character limit.
        """
        return aws.s3.Bucket(
            resource_name,
            bucket_prefix=f"{self.scope.name(bucket_stem)}-",
            force_destroy=self.storage.force_destroy,
            region=region,
            tags=dict([tag]),
            opts=self.data_opts,
        )

    def harden(self, stem: str, bucket: aws.s3.Bucket, *, region: str | None = None) -> aws.s3.BucketVersioning:
        """Versioning, all four public-access blocks and ACLs off, for any bucket of the store."""
        aws.s3.BucketPublicAccessBlock(
            f"{stem}-public-access-block",
            bucket=bucket.id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
            region=region,
            opts=self._child(),
        )
        aws.s3.BucketOwnershipControls(
            f"{stem}-ownership",
            bucket=bucket.id,
            rule={"object_ownership": "BucketOwnerEnforced"},
            region=region,
            opts=self._child(),
        )
        return aws.s3.BucketVersioning(
            f"{stem}-versioning",
            bucket=bucket.id,
            versioning_configuration={"status": "Enabled"},
            region=region,
            opts=self._child(),
        )

    def data_bucket(
        self,
        stem: str,
        *,
        resource_name: str,
        bucket_stem: str,
        tag: tuple[str, str],
        key_arn: pulumi.Input[str],
        lifecycle_rules: list[dict],
        region: str | None = None,
        grants: Callable[[pulumi.Output[str]], list[Statement]] | None = None,
    ) -> DataBucket:
        """A hardened bucket under ``key_arn`` (SSE-KMS, bucket key on), its policy (TLS 1.2+,
        no other key, and the statements ``grants`` builds from the bucket's ARN) and its
        lifecycle; settings are named ``<stem>-...``."""
        bucket = self.bucket(resource_name, bucket_stem, tag, region=region)
        versioning = self.harden(stem, bucket, region=region)
        aws.s3.BucketServerSideEncryptionConfiguration(
            f"{stem}-encryption",
            bucket=bucket.id,
            rules=[
                {
                    "apply_server_side_encryption_by_default": {"sse_algorithm": "aws:kms", "kms_master_key_id": key_arn},
                    # One data key per bucket instead of one KMS call per object: cheaper, and
                    # the encryption context becomes the bucket ARN.
                    "bucket_key_enabled": True,
                }
            ],
            region=region,
            opts=self._child(),
        )
        aws.s3.BucketPolicy(
            f"{stem}-policy",
            bucket=bucket.id,
            policy=policy_document(
                [*tls_statements(bucket.arn), *kms_upload_statements(bucket.arn, key_arn), *(grants(bucket.arn) if grants else [])], kind="resource"
            ),
            region=region,
            opts=self._child(),
        )
        aws.s3.BucketLifecycleConfiguration(
            f"{stem}-lifecycle",
            bucket=bucket.id,
            rules=lifecycle_rules,
            region=region,
            opts=self._child(depends_on=[versioning]),
        )
        return DataBucket(bucket=bucket, versioning=versioning)

    def access_logs(self, source_stem: str, source: aws.s3.Bucket, *, bucket_stem: str, region: str | None = None) -> aws.s3.Bucket:
        """A hardened access-log bucket for ``source``, and ``source``'s server access logging into it.

        The log bucket (``<source_stem>-access-logs``, physical name stem ``bucket_stem``, tag
        :data:`ACCESS_LOG_TAG`) is protected like every data bucket, versioned, private, ACLs off
        and SSE-S3: log delivery (``logging.s3.amazonaws.com``) sends no encryption headers and
        cannot write to an SSE-KMS bucket. Its policy admits log delivery for ``source`` of this
        account only (no confused deputy), plus the TLS denies; logs expire after
        ``storage.accessLogExpirationDays``. A log target must be in its source's region, so both
        live in ``region`` (None: the provider's).
        """
        stem = f"{source_stem}-access-logs"
        logs = self.bucket(stem, bucket_stem, ACCESS_LOG_TAG, region=region)
        self.harden(stem, logs, region=region)
        aws.s3.BucketServerSideEncryptionConfiguration(
            f"{stem}-encryption",
            bucket=logs.id,
            rules=[{"apply_server_side_encryption_by_default": {"sse_algorithm": "AES256"}}],
            region=region,
            opts=self._child(),
        )
        log_delivery = Statement(
            sid="AllowS3ServerAccessLogDelivery",
            principals={"Service": ["logging.s3.amazonaws.com"]},
            actions=["s3:PutObject"],
            resources=[pulumi.Output.concat(logs.arn, "/", ACCESS_LOG_PREFIX, "*")],
            conditions={"ArnLike": {"aws:SourceArn": source.arn}, "StringEquals": {"aws:SourceAccount": self.scope.account_id}},
        )
        log_policy = aws.s3.BucketPolicy(
            f"{stem}-policy",
            bucket=logs.id,
            policy=policy_document([log_delivery, *tls_statements(logs.arn)], kind="resource"),
            region=region,
            opts=self._child(),
        )
        aws.s3.BucketLifecycleConfiguration(
            f"{stem}-lifecycle",
            bucket=logs.id,
            rules=[
                {"id": "expire-access-logs", "status": "Enabled", "filter": {}, "expiration": {"days": self.storage.access_log_expiration_days}},
                *self.cleanup_rules(),
            ],
            region=region,
            opts=self._child(),
        )
        # The delivery permission exists before logging is switched on.
        aws.s3.BucketLogging(
            f"{source_stem}-logging",
            bucket=source.id,
            target_bucket=logs.id,
            target_prefix=ACCESS_LOG_PREFIX,
            target_object_key_format={"partitioned_prefix": {"partition_date_source": "EventTime"}},
            region=region,
            opts=self._child(depends_on=[log_policy]),
        )
        return logs

    def cleanup_rules(self) -> list[dict]:
        return [
            {
                "id": "abort-incomplete-multipart-uploads",
                "status": "Enabled",
                "filter": {},
                "abort_incomplete_multipart_upload": {"days_after_initiation": self.storage.abort_incomplete_multipart_days},
            },
            {
                "id": "expire-noncurrent-versions",
                "status": "Enabled",
                "filter": {},
                "noncurrent_version_expiration": {"noncurrent_days": self.storage.noncurrent_version_expiration_days},
            },
        ]

    def expiration_rules(self) -> list[dict]:
        """One rule per prefix that expires (``StorageConfig.prefix_expirations``): current objects
        after the configured days; under ``checkpoints/`` also overwritten versions a day after
        they become noncurrent, since a training job rewrites its checkpoints throughout a run and
        the general noncurrent expiry would keep every rewrite for months."""
        rules = []
        for prefix, days in self.storage.prefix_expirations.items():
            rule = {"id": f"expire-{prefix.rstrip('/')}", "status": "Enabled", "filter": {"prefix": prefix}, "expiration": {"days": days}}
            if prefix == CHECKPOINTS_PREFIX:
                rule["noncurrent_version_expiration"] = {"noncurrent_days": 1}
            rules.append(rule)
        return rules

    def transition_rules(self) -> list[dict]:
        by_prefix: dict[str, list] = defaultdict(list)
        for transition in self.storage.transitions:
            by_prefix[transition.prefix].append({"days": transition.days, "storage_class": transition.storage_class})
        return [
            {
                "id": f"transition-{prefix.rstrip('/')}",
                "status": "Enabled",
                "filter": {"prefix": prefix},
                "transitions": sorted(transitions, key=lambda t: t["days"]),
            }
            for prefix, transitions in by_prefix.items()
        ]
