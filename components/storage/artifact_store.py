"""ArtifactStore: the platform's S3 artifact store, built so it cannot lose data and cannot leak it.

One versioned bucket encrypted with the platform's ``artifacts`` KMS key (SSE-KMS, bucket key on),
ACLs off, all public access blocked, TLS 1.2+ only, uploads that ask for another key refused, a
lifecycle that cleans up without touching current data, server access logs in a separate
hardened bucket, and optional cross-region replication to a bucket under a replica-region key,
whose access logs go to a second hardened log bucket in the replica region.

Workloads get access through grants in the AWS CDK style, scoped to one prefix of the layout::

    store.grant_read(sagemaker_role, prefix="models/")
    store.grant_write(sagemaker_role, prefix="data-capture/")

The access-log buckets are the one deliberate exception to SSE-KMS: S3 log delivery
(``logging.s3.amazonaws.com``) sends no encryption headers and cannot write to an SSE-KMS bucket,
so they use SSE-S3 and carry the tag :data:`ACCESS_LOG_TAG` so policies can recognise them.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.config import ARTIFACT_PREFIXES, PlatformConfig
from components.iam.policy import Statement, policy_document
from components.iam.roles import inline_policy, service_role
from components.keys.platform_keys import customer_managed_key, key_policy_statements

# The tag that marks a bucket as an S3 server-access-log target (SSE-S3 by necessity).
ACCESS_LOG_TAG = ("mlops:role", "access-logs")
ARTIFACTS_TAG = ("mlops:role", "artifacts")
REPLICA_TAG = ("mlops:role", "artifacts-replica")
# Where the artifact bucket's access logs land in the log bucket.
ACCESS_LOG_PREFIX = "artifacts/"

# Stack-output key of each prefix of the layout.
PREFIX_OUTPUT_KEYS: dict[str, str] = {"models/": "models", "datasets/": "datasets", "data-capture/": "dataCapture", "pipelines/": "pipelines"}
assert tuple(PREFIX_OUTPUT_KEYS) == ARTIFACT_PREFIXES

READ_ACTIONS = ("s3:GetObject", "s3:GetObjectVersion")
WRITE_ACTIONS = ("s3:PutObject", "s3:AbortMultipartUpload")

_SAFE_PREFIX = re.compile(r"^[a-z0-9][a-z0-9-]*/([A-Za-z0-9!_.'()-]+/)*$")


def validate_prefix(prefix: str) -> str:
    """Return ``prefix`` if it lies inside the layout (``models/`` or a sub-prefix such as
    ``models/churn/``), else raise ``ValueError`` naming what is allowed."""
    allowed = ", ".join(ARTIFACT_PREFIXES)
    if not isinstance(prefix, str) or not prefix:
        raise ValueError(f"a grant needs a prefix of the artifact store layout ({allowed})")
    if not any(prefix.startswith(p) for p in ARTIFACT_PREFIXES) or not _SAFE_PREFIX.match(prefix) or "/../" in f"/{prefix}" or "/./" in f"/{prefix}":
        raise ValueError(
            f"prefix {prefix!r} is outside the artifact store layout; use one of {allowed} "
            "or a sub-prefix of one ending in '/' (e.g. 'models/churn/'), without wildcards"
        )
    return prefix


@dataclass(frozen=True)
class ArtifactStoreArgs:
    """Inputs of :class:`ArtifactStore`.

    config: the validated stack configuration (required). Used: ``region``, ``resource_name`` for
        bucket name prefixes, ``storage`` (protect, forceDestroy, lifecycle days, transitions,
        access-log expiry, replication, KMS deletion window for the replica key) and
        ``iam.permissions_boundary_arn`` (on the replication role).
    kms_key_arn: ARN of the customer-managed key that encrypts the bucket (required; the
        platform passes ``PlatformKeys.artifacts.arn``).
    account_id: the AWS account (required; scopes the log-delivery and replication trust).
    partition: the AWS partition (default ``"aws"``).
    """

    config: PlatformConfig
    kms_key_arn: pulumi.Input[str]
    account_id: pulumi.Input[str]
    partition: pulumi.Input[str] = "aws"


def _deny_everyone(sid: str, actions: list[str], resources: list, conditions: dict) -> Statement:
    return Statement(sid=sid, effect="Deny", principals={"AWS": "*"}, actions=actions, resources=resources, conditions=conditions)


def _tls_statements(bucket_arn: pulumi.Input[str]) -> list[Statement]:
    resources = [bucket_arn, pulumi.Output.concat(bucket_arn, "/*")]
    return [
        _deny_everyone("DenyInsecureTransport", ["s3:*"], resources, {"Bool": {"aws:SecureTransport": "false"}}),
        _deny_everyone("DenyTlsBelow12", ["s3:*"], resources, {"NumericLessThan": {"s3:TlsVersion": "1.2"}}),
    ]


def _key_id(key_arn: pulumi.Input[str]) -> pulumi.Output[str]:
    return pulumi.Output.from_input(key_arn).apply(lambda arn: arn.rsplit("/", 1)[-1])


def _kms_upload_statements(bucket_arn: pulumi.Input[str], key_arn: pulumi.Input[str]) -> list[Statement]:
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


class ArtifactStore(pulumi.ComponentResource):
    """S3 artifact store (see module docstring).

    Attributes: ``bucket``, ``log_bucket``, ``replica_bucket`` and ``replica_log_bucket``
    (``aws.s3.Bucket`` or None), ``replica_key`` (``aws.kms.Key`` or None), ``replication_role``
    (``aws.iam.Role`` or None), ``bucket_name``, ``bucket_arn``, ``kms_key_arn``,
    ``log_bucket_name``, ``replica_region``, ``prefixes`` (output key -> prefix) and ``outputs``
    (the ``artifactStore`` stack output).
    """

    def __init__(self, name: str, args: ArtifactStoreArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("mlops:storage:ArtifactStore", name, None, opts)
        self._name_stem = name
        config = args.config
        storage = config.storage
        self.config = config
        self.region = config.region
        self.kms_key_arn = pulumi.Output.from_input(args.kms_key_arn)
        # Buckets and keys: protected and retained per config.
        self._data_opts = pulumi.ResourceOptions(parent=self, protect=storage.protect, retain_on_delete=storage.protect)
        self.bucket = self._new_bucket(f"{name}-bucket", "artifacts", ARTIFACTS_TAG)

        # --- artifact bucket ---------------------------------------------------------------------
        self.versioning = self._harden(f"{name}", self.bucket)
        aws.s3.BucketServerSideEncryptionConfiguration(
            f"{name}-encryption",
            bucket=self.bucket.id,
            rules=[
                {
                    "apply_server_side_encryption_by_default": {"sse_algorithm": "aws:kms", "kms_master_key_id": self.kms_key_arn},
                    # One data key per bucket instead of one KMS call per object: cheaper, and
                    # the encryption context becomes the bucket ARN.
                    "bucket_key_enabled": True,
                }
            ],
            opts=pulumi.ResourceOptions(parent=self),
        )
        aws.s3.BucketPolicy(
            f"{name}-policy",
            bucket=self.bucket.id,
            policy=policy_document([*_tls_statements(self.bucket.arn), *_kms_upload_statements(self.bucket.arn, self.kms_key_arn)], kind="resource"),
            opts=pulumi.ResourceOptions(parent=self),
        )
        aws.s3.BucketLifecycleConfiguration(
            f"{name}-lifecycle",
            bucket=self.bucket.id,
            rules=[*self._cleanup_rules(), *self._transition_rules()],
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.versioning]),
        )
        # --- access-log bucket: SSE-S3, because log delivery sends no encryption headers --------
        self.log_bucket = self._access_logs(name, self.bucket, bucket_stem="access-logs", account_id=args.account_id)

        # --- optional cross-region replica --------------------------------------------------------
        self.replica_bucket: aws.s3.Bucket | None = None
        self.replica_key: aws.kms.Key | None = None
        self.replica_log_bucket: aws.s3.Bucket | None = None
        self.replication_role: aws.iam.Role | None = None
        self.replica_region: str | None = storage.replication.region if storage.replication.enabled else None
        if self.replica_region is not None:
            self._replicate(name, args, self.replica_region)

        self.bucket_name: pulumi.Output[str] = self.bucket.bucket
        self.bucket_arn: pulumi.Output[str] = self.bucket.arn
        self.log_bucket_name: pulumi.Output[str] = self.log_bucket.bucket
        self.prefixes: dict[str, str] = {key: prefix for prefix, key in PREFIX_OUTPUT_KEYS.items()}
        self.outputs: dict[str, pulumi.Input] = {
            "bucketName": self.bucket_name,
            "bucketArn": self.bucket_arn,
            "kmsKeyArn": self.kms_key_arn,
            "logBucketName": self.log_bucket_name,
            "replicaBucketName": self.replica_bucket.bucket if self.replica_bucket else None,
            "replicaRegion": self.replica_region,
            "prefixes": dict(self.prefixes),
        }
        self.register_outputs(self.outputs)

    # -- building blocks ------------------------------------------------------------------------

    def _new_bucket(self, resource_name: str, name_stem: str, tag: tuple[str, str], region: str | None = None) -> aws.s3.Bucket:
        """A bucket named ``<namePrefix>-<env>-<name_stem>-<random>``, protected per config.

        ``bucket_prefix`` leaves room for the random suffix (S3 names are global); the longest
        stem here keeps the prefix within its 37-character limit.
        """
        return aws.s3.Bucket(
            resource_name,
            bucket_prefix=f"{self.config.resource_name(name_stem)}-",
            force_destroy=self.config.storage.force_destroy,
            region=region,
            tags=dict([tag]),
            opts=self._data_opts,
        )

    def _harden(self, stem: str, bucket: aws.s3.Bucket, *, region: str | None = None) -> aws.s3.BucketVersioning:
        """Versioning, all four public-access blocks and ACLs off, for any bucket of the store."""
        child = pulumi.ResourceOptions(parent=self)
        aws.s3.BucketPublicAccessBlock(
            f"{stem}-public-access-block",
            bucket=bucket.id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
            region=region,
            opts=child,
        )
        aws.s3.BucketOwnershipControls(
            f"{stem}-ownership",
            bucket=bucket.id,
            rule={"object_ownership": "BucketOwnerEnforced"},
            region=region,
            opts=child,
        )
        return aws.s3.BucketVersioning(
            f"{stem}-versioning",
            bucket=bucket.id,
            versioning_configuration={"status": "Enabled"},
            region=region,
            opts=child,
        )

    def _access_logs(
        self, source_stem: str, source: aws.s3.Bucket, *, bucket_stem: str, account_id: pulumi.Input[str], region: str | None = None
    ) -> aws.s3.Bucket:
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
        child = pulumi.ResourceOptions(parent=self)
        logs = self._new_bucket(stem, bucket_stem, ACCESS_LOG_TAG, region=region)
        self._harden(stem, logs, region=region)
        aws.s3.BucketServerSideEncryptionConfiguration(
            f"{stem}-encryption",
            bucket=logs.id,
            rules=[{"apply_server_side_encryption_by_default": {"sse_algorithm": "AES256"}}],
            region=region,
            opts=child,
        )
        log_delivery = Statement(
            sid="AllowS3ServerAccessLogDelivery",
            principals={"Service": ["logging.s3.amazonaws.com"]},
            actions=["s3:PutObject"],
            resources=[pulumi.Output.concat(logs.arn, "/", ACCESS_LOG_PREFIX, "*")],
            conditions={"ArnLike": {"aws:SourceArn": source.arn}, "StringEquals": {"aws:SourceAccount": account_id}},
        )
        log_policy = aws.s3.BucketPolicy(
            f"{stem}-policy",
            bucket=logs.id,
            policy=policy_document([log_delivery, *_tls_statements(logs.arn)], kind="resource"),
            region=region,
            opts=child,
        )
        aws.s3.BucketLifecycleConfiguration(
            f"{stem}-lifecycle",
            bucket=logs.id,
            rules=[
                {"id": "expire-access-logs", "status": "Enabled", "filter": {}, "expiration": {"days": self.config.storage.access_log_expiration_days}},
                *self._cleanup_rules(),
            ],
            region=region,
            opts=child,
        )
        # The delivery permission exists before logging is switched on.
        aws.s3.BucketLogging(
            f"{source_stem}-logging",
            bucket=source.id,
            target_bucket=logs.id,
            target_prefix=ACCESS_LOG_PREFIX,
            target_object_key_format={"partitioned_prefix": {"partition_date_source": "EventTime"}},
            region=region,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[log_policy]),
        )
        return logs

    def _cleanup_rules(self) -> list[dict]:
        storage = self.config.storage
        return [
            {
                "id": "abort-incomplete-multipart-uploads",
                "status": "Enabled",
                "filter": {},
                "abort_incomplete_multipart_upload": {"days_after_initiation": storage.abort_incomplete_multipart_days},
            },
            {
                "id": "expire-noncurrent-versions",
                "status": "Enabled",
                "filter": {},
                "noncurrent_version_expiration": {"noncurrent_days": storage.noncurrent_version_expiration_days},
            },
        ]

    def _transition_rules(self) -> list[dict]:
        by_prefix: dict[str, list] = defaultdict(list)
        for transition in self.config.storage.transitions:
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

    def _replicate(self, name: str, args: ArtifactStoreArgs, region: str) -> None:
        """Replica bucket, its key and its access-log bucket in ``region`` (pulumi-aws v7
        per-resource ``region``), plus the replication role and rule."""
        config = self.config
        storage = config.storage
        self.replica_key = customer_managed_key(
            f"{name}-replica-key",
            description=f"{config.resource_name('artifacts-replica')}: replica of the artifact store in {region}",
            deletion_window_days=storage.kms_deletion_window_days,
            policy=policy_document(key_policy_statements("artifacts", region=region, account_id=args.account_id, partition=args.partition), kind="key"),
            region=region,
            opts=self._data_opts,
        )
        aws.kms.Alias(
            f"{name}-replica-key-alias",
            name=f"alias/{config.resource_name('artifacts-replica')}",
            target_key_id=self.replica_key.key_id,
            region=region,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.replica_bucket = self._new_bucket(f"{name}-replica", "replica", REPLICA_TAG, region=region)
        replica_versioning = self._harden(f"{name}-replica", self.replica_bucket, region=region)
        aws.s3.BucketServerSideEncryptionConfiguration(
            f"{name}-replica-encryption",
            bucket=self.replica_bucket.id,
            rules=[{"apply_server_side_encryption_by_default": {"sse_algorithm": "aws:kms", "kms_master_key_id": self.replica_key.arn}, "bucket_key_enabled": True}],
            region=region,
            opts=pulumi.ResourceOptions(parent=self),
        )
        aws.s3.BucketPolicy(
            f"{name}-replica-policy",
            bucket=self.replica_bucket.id,
            policy=policy_document(
                [*_tls_statements(self.replica_bucket.arn), *_kms_upload_statements(self.replica_bucket.arn, self.replica_key.arn)], kind="resource"
            ),
            region=region,
            opts=pulumi.ResourceOptions(parent=self),
        )
        aws.s3.BucketLifecycleConfiguration(
            f"{name}-replica-lifecycle",
            bucket=self.replica_bucket.id,
            rules=self._cleanup_rules(),
            region=region,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[replica_versioning]),
        )
        self.replica_log_bucket = self._access_logs(
            f"{name}-replica", self.replica_bucket, bucket_stem="replica-logs", account_id=args.account_id, region=region
        )

        self.replication_role = service_role(
            f"{name}-replication-role",
            service="s3.amazonaws.com",
            account_id=args.account_id,
            description="S3 replication of the artifact store to its replica region",
            permissions_boundary_arn=config.iam.permissions_boundary_arn,
            opts=pulumi.ResourceOptions(parent=self),
        )
        inline_policy(
            f"{name}-replication-policy",
            self.replication_role,
            replication_statements(
                source_bucket_arn=self.bucket.arn,
                source_key_arn=self.kms_key_arn,
                source_region=config.region,
                replica_bucket_arn=self.replica_bucket.arn,
                replica_key_arn=self.replica_key.arn,
                replica_region=region,
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        aws.s3.BucketReplicationConfig(
            f"{name}-replication",
            bucket=self.bucket.id,
            role=self.replication_role.arn,
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
                        "bucket": self.replica_bucket.arn,
                        "storage_class": "STANDARD",
                        "encryption_configuration": {"replica_kms_key_id": self.replica_key.arn},
                    },
                }
            ],
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.versioning, replica_versioning]),
        )

    # -- grants ---------------------------------------------------------------------------------

    def prefix_uri(self, prefix: str) -> pulumi.Output[str]:
        """``s3://<bucket>/<prefix>`` for a prefix of the layout."""
        validate_prefix(prefix)
        return pulumi.Output.concat("s3://", self.bucket.bucket, "/", prefix)

    def grant_statements(self, prefix: str, *, read: bool, write: bool) -> list[Statement]:
        """The least-privilege statements behind the grants, for composing other policies."""
        validate_prefix(prefix)
        if not (read or write):
            raise ValueError("a grant needs read, write or both")
        objects = pulumi.Output.concat(self.bucket.arn, "/", prefix, "*")
        statements: list[Statement] = []
        if read:
            statements += [
                Statement(
                    sid="ListPrefix",
                    actions=["s3:ListBucket"],
                    resources=[self.bucket.arn],
                    conditions={"StringLike": {"s3:prefix": [f"{prefix}*"]}},
                ),
                Statement(sid="ReadObjects", actions=list(READ_ACTIONS), resources=[objects]),
            ]
        if write:
            statements.append(Statement(sid="WriteObjects", actions=list(WRITE_ACTIONS), resources=[objects]))
        # Reading needs Decrypt; writing needs GenerateDataKey, and Decrypt too for multipart
        # uploads (S3 decrypts the data key to assemble the parts).
        kms_actions = ["kms:Decrypt"] + (["kms:GenerateDataKey"] if write else [])
        statements.append(
            Statement(
                sid="UseStoreKeyThroughS3",
                actions=kms_actions,
                resources=[self.kms_key_arn],
                conditions={"StringEquals": {"kms:ViaService": f"s3.{self.region}.amazonaws.com"}},
            )
        )
        return statements

    def _grant(self, role: aws.iam.Role, prefix: str, access: str, read: bool, write: bool) -> aws.iam.RolePolicy:
        statements = self.grant_statements(prefix, read=read, write=write)
        slug = prefix.rstrip("/").replace("/", "-")
        return inline_policy(
            f"{self._name_stem}-{role._name}-{access}-{slug}",
            role,
            statements,
            opts=pulumi.ResourceOptions(parent=self),
        )

    def grant_read(self, role: aws.iam.Role, prefix: str) -> aws.iam.RolePolicy:
        """Let ``role`` list and read objects under ``prefix`` (an inline policy on the role)."""
        return self._grant(role, prefix, "read", read=True, write=False)

    def grant_write(self, role: aws.iam.Role, prefix: str) -> aws.iam.RolePolicy:
        """Let ``role`` upload objects under ``prefix`` (no delete, no listing)."""
        return self._grant(role, prefix, "write", read=False, write=True)

    def grant_read_write(self, role: aws.iam.Role, prefix: str) -> aws.iam.RolePolicy:
        """Both :meth:`grant_read` and :meth:`grant_write` on ``prefix``, as one policy."""
        return self._grant(role, prefix, "read-write", read=True, write=True)


def replication_statements(
    *,
    source_bucket_arn: pulumi.Input[str],
    source_key_arn: pulumi.Input[str],
    source_region: str,
    replica_bucket_arn: pulumi.Input[str],
    replica_key_arn: pulumi.Input[str],
    replica_region: str,
) -> list[Statement]:
    """What S3 replication needs, and nothing else (AWS S3 User Guide, "Setting up permissions")."""

    def context(bucket_arn):
        # With a bucket key the encryption context is the bucket ARN; without, the object ARN.
        return {"kms:EncryptionContext:aws:s3:arn": [bucket_arn, pulumi.Output.concat(bucket_arn, "/*")]}

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
        Statement(
            sid="DecryptSourceObjects",
            actions=["kms:Decrypt"],
            resources=[source_key_arn],
            conditions={"StringEquals": {"kms:ViaService": f"s3.{source_region}.amazonaws.com"}, "StringLike": context(source_bucket_arn)},
        ),
        Statement(
            sid="EncryptReplicas",
            actions=["kms:Encrypt", "kms:GenerateDataKey"],
            resources=[replica_key_arn],
            conditions={"StringEquals": {"kms:ViaService": f"s3.{replica_region}.amazonaws.com"}, "StringLike": context(replica_bucket_arn)},
        ),
    ]
