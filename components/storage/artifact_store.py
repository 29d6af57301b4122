"""ArtifactStore: the platform's S3 artifact store, built so it cannot lose data and cannot leak it.

One versioned bucket encrypted with the platform's ``artifacts`` KMS key (SSE-KMS, bucket key on),
ACLs off, all public access blocked, TLS 1.2+ only, uploads that ask for another key refused, a
lifecycle that cleans up without touching current data outside the transient prefixes
(``checkpoints/`` always expires, ``experiments/`` if configured), server access logs in a separate
hardened bucket (``buckets.py``), and optional cross-region replication to a bucket under a
replica-region key, whose access logs go to a second hardened log bucket in the replica region
(``replication.py``).

Workloads get access through grants in the AWS CDK style, scoped to one prefix of the layout::

    store.grant_read(sagemaker_role, prefix="models/")
    store.grant_write(sagemaker_role, prefix="data-capture/")
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.config import ARTIFACT_PREFIXES, ARTIFACTS_BUCKET_STEM, MODELS_PREFIX, StorageConfig, prefix_problem
from components.iam.peers import PeerStack
from components.iam.policy import Statement
from components.iam.roles import inline_policy
from components.keys import KmsAction, PlatformKey
from components.scope import AwsScope
from components.storage.buckets import ARTIFACTS_TAG, BucketBuilder
from components.storage.replication import replicate

# Stack-output key of each prefix of the layout.
PREFIX_OUTPUT_KEYS: dict[str, str] = {
    "models/": "models",
    "datasets/": "datasets",
    "data-capture/": "dataCapture",
    "pipelines/": "pipelines",
    "checkpoints/": "checkpoints",
    "experiments/": "experiments",
}
assert tuple(PREFIX_OUTPUT_KEYS) == ARTIFACT_PREFIXES

READ_ACTIONS = ("s3:GetObject", "s3:GetObjectVersion")
WRITE_ACTIONS = ("s3:PutObject", "s3:AbortMultipartUpload")

def validate_prefix(prefix: str) -> str:
    """Return ``prefix`` if it lies inside the layout (``models/`` or a sub-prefix such as
    ``models/churn/``), else raise ``ValueError`` naming what is allowed."""
    problem = prefix_problem(prefix)
    if problem:
        raise ValueError(problem)
    return prefix


def shared_models_statements(bucket_arn: pulumi.Input[str], shared_with: PeerStack) -> list[Statement]:
    """``s3:GetObject`` on ``models/`` for the serving roles of ``shared_with`` (another account).

    Its account root is the principal, narrowed by ``aws:PrincipalArn`` to the serving roles' IAM
    path: a bucket policy naming a role that does not exist yet is refused. A model package names
    its model data object, so neither listing nor older versions are shared; nothing outside
    ``models/`` (datasets, captured requests, pipelines) is. The bucket's Deny statements (TLS,
    uploads under another key) hold for these roles too.
    """
    return [
        Statement(
            sid="PromotedToServingRolesReadModels",
            principals={"AWS": [shared_with.root_arn]},
            actions=["s3:GetObject"],
            resources=[pulumi.Output.concat(bucket_arn, "/", MODELS_PREFIX, "*")],
            conditions=shared_with.principal_condition(shared_with.serving_roles_arn_pattern),
        )
    ]


@dataclass(frozen=True)
class ArtifactStoreArgs:
    """Inputs of :class:`ArtifactStore`.

    config: the validated ``storage`` section (required): protect, forceDestroy, lifecycle days,
        transitions, access-log expiry, replication and the replica key's deletion window.
    scope: the stack's account (log-delivery and replication trust), partition, region, name
        stem (bucket and alias names) and permissions boundary (the replication role) (required).
    key: the customer-managed key that encrypts the bucket (required; the platform passes
        ``PlatformKeys.artifacts``). Grants to the store include its use through S3.
    shared_with: the stack whose serving roles may read ``models/`` (``promotion.promotesTo``;
        default None): the bucket policy lets them (:func:`shared_models_statements`); the key's
        policy must let them decrypt too (``PlatformKeysArgs.shared_with``).
    """

    config: StorageConfig
    scope: AwsScope
    key: PlatformKey
    shared_with: PeerStack | None = None


class ArtifactStore(pulumi.ComponentResource):
    """S3 artifact store (see module docstring).

    Attributes: ``bucket``, ``log_bucket``, ``replica_bucket`` and ``replica_log_bucket``
    (``aws.s3.Bucket`` or None), ``replica_key`` (``aws.kms.Key`` or None), ``replication_role``
    (``aws.iam.Role`` or None), ``key`` (the bucket's :class:`PlatformKey`), ``kms_key_arn``,
    ``bucket_name``, ``bucket_arn``, ``log_bucket_name``, ``replica_region``, ``prefixes``
    (output key -> prefix) and ``outputs`` (the ``artifactStore`` stack output).
    """

    def __init__(self, name: str, args: ArtifactStoreArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("mlops:storage:ArtifactStore", name, None, opts)
        storage = args.config
        self.region = args.scope.region
        self.key = args.key
        self.kms_key_arn = pulumi.Output.from_input(args.key.arn)
        buckets = BucketBuilder(parent=self, storage=storage, scope=args.scope)

        artifacts = buckets.data_bucket(
            name,
            resource_name=f"{name}-bucket",
            bucket_stem=ARTIFACTS_BUCKET_STEM,
            tag=ARTIFACTS_TAG,
            key_arn=self.kms_key_arn,
            lifecycle_rules=[*buckets.cleanup_rules(), *buckets.expiration_rules(), *buckets.transition_rules()],
            grants=(lambda arn: shared_models_statements(arn, args.shared_with)) if args.shared_with else None,
        )
        self.bucket = artifacts.bucket
        self.versioning = artifacts.versioning
        # SSE-S3, because log delivery sends no encryption headers (buckets.py).
        self.log_bucket = buckets.access_logs(name, self.bucket, bucket_stem="access-logs")

        self.replica_bucket: aws.s3.Bucket | None = None
        self.replica_key: aws.kms.Key | None = None
        self.replica_log_bucket: aws.s3.Bucket | None = None
        self.replication_role: aws.iam.Role | None = None
        self.replica_region: str | None = storage.replication.region if storage.replication.enabled else None
        if self.replica_region is not None:
            replica = replicate(name, buckets, source=artifacts, source_key=self.key, region=self.replica_region)
            self.replica_bucket, self.replica_key = replica.bucket, replica.key
            self.replica_log_bucket, self.replication_role = replica.log_bucket, replica.role

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
        key_actions = [KmsAction.DECRYPT] + ([KmsAction.GENERATE_DATA_KEY] if write else [])
        statements.append(self.key.allow("UseStoreKeyThroughS3", key_actions, via_service=f"s3.{self.region}.amazonaws.com"))
        return statements

    def _grant(self, role: aws.iam.Role, prefix: str, access: str, read: bool, write: bool) -> aws.iam.RolePolicy:
        statements = self.grant_statements(prefix, read=read, write=write)
        slug = prefix.rstrip("/").replace("/", "-")
        return inline_policy(
            f"{self.pulumi_resource_name}-{role.pulumi_resource_name}-{access}-{slug}",
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
