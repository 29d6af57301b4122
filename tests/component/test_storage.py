"""ArtifactStore under mocks: the wire-format inputs the engine receives, and every policy it writes."""

from __future__ import annotations

import json

import pulumi
import pulumi_aws as aws
import pytest

from components.config import ARTIFACT_PREFIXES
from components.iam.peers import PeerStack
from components.keys import PlatformKeys, PlatformKeysArgs
from components.scope import scope_for
from components.storage import ACCESS_LOG_TAG, ArtifactStore, ArtifactStoreArgs, validate_prefix
from mlopsctl.offline.harness import ACCOUNT_ID
from mlopsctl.offline.wire import UNKNOWN
from tests.support.programs import run_component
from tests.support.stacks import assert_one_line_config_error, stack_config, stack_preview

BUCKET = "aws:s3/bucket:Bucket"
SSE = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
PAB = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
OWNERSHIP = "aws:s3/bucketOwnershipControls:BucketOwnershipControls"
VERSIONING = "aws:s3/bucketVersioning:BucketVersioning"
POLICY = "aws:s3/bucketPolicy:BucketPolicy"
LIFECYCLE = "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"
LOGGING = "aws:s3/bucketLogging:BucketLogging"
REPLICATION = "aws:s3/bucketReplicationConfig:BucketReplicationConfig"
KEY = "aws:kms/key:Key"
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"


def build_store(config, grants=(), shared_with_account: str | None = None):
    """A program with the platform keys, the store and one workload role with ``grants``; with
    ``shared_with_account``, keys and store share ``models/`` with that account's prod stack."""
    seen = {}

    def program():
        provider = aws.Provider("aws", region=config.region)
        opts = pulumi.ResourceOptions(providers={"aws": provider})
        scope = scope_for(config, account_id=ACCOUNT_ID)
        peer = PeerStack(environment="prod", account=shared_with_account, name_prefix=config.name_prefix, scope=scope) if shared_with_account else None
        keys = PlatformKeys("keys", PlatformKeysArgs(scope=scope, deletion_window_days=config.storage.kms_deletion_window_days, protect=config.storage.protect,
                                                     shared_with=peer), opts=opts)
        store = ArtifactStore("store", ArtifactStoreArgs(config=config.storage, scope=scope, key=keys.artifacts, shared_with=peer), opts=opts)
        role = aws.iam.Role("workload", assume_role_policy="{}", opts=pulumi.ResourceOptions(provider=provider))
        for method, prefix in grants:
            getattr(store, method)(role, prefix=prefix)
        seen["store"] = store
        seen["uri"] = store.prefix_uri("models/")
        seen["uri"].apply(lambda value: seen.__setitem__("uri_value", value))

    rec = run_component(program)
    return rec, seen


@pytest.fixture(scope="module")
def prod():
    rec, _ = build_store(stack_config("prod"))
    return rec


@pytest.fixture(scope="module")
def dev():
    return build_store(
        stack_config("dev"),
        grants=[("grant_read", "models/"), ("grant_write", "data-capture/"), ("grant_read_write", "pipelines/churn/")],
    )


def exactly(rec, type_token, name):
    """The one resource of ``type_token`` named exactly ``name`` (``Recording.one`` matches
    substrings, and ``replica`` is a substring of the replica's log bucket's name)."""
    [match] = [r for r in rec.of_type(type_token) if r.name == name]
    return match


def bucket_named(rec, stem):
    return exactly(rec, BUCKET, f"store-{stem}")


def attached(rec, type_token, bucket):
    """The one resource of ``type_token`` whose ``bucket`` input depends on ``bucket`` (the way a
    policy pack joins them at preview time, when names are still unknown)."""
    matches = [r for r in rec.of_type(type_token) if r.propertyDependencies.get("bucket") == [bucket.urn]]
    assert len(matches) == 1, (type_token, bucket.name, [m.name for m in matches])
    return matches[0]


def doc(resource, key="policy"):
    return json.loads(resource.inputs[key])


def key_arn(rec, name):
    key = rec.one(KEY, name)
    return key, f"arn:aws:kms:{key.inputs.get('region', 'us-east-1')}:{ACCOUNT_ID}:key/{key.id}"


def tls_denies(bucket_name):
    resources = [f"arn:aws:s3:::{bucket_name}", f"arn:aws:s3:::{bucket_name}/*"]
    return [
        {
            "Sid": "DenyInsecureTransport",
            "Effect": "Deny",
            "Principal": {"AWS": "*"},
            "Action": ["s3:*"],
            "Resource": resources,
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        },
        {
            "Sid": "DenyTlsBelow12",
            "Effect": "Deny",
            "Principal": {"AWS": "*"},
            "Action": ["s3:*"],
            "Resource": resources,
            "Condition": {"NumericLessThan": {"s3:TlsVersion": "1.2"}},
        },
    ]


def kms_denies(bucket_name, key_arn_value):
    objects = [f"arn:aws:s3:::{bucket_name}/*"]
    return [
        {
            "Sid": "DenyUploadsNotUsingSseKms",
            "Effect": "Deny",
            "Principal": {"AWS": "*"},
            "Action": ["s3:PutObject"],
            "Resource": objects,
            "Condition": {"StringNotEqualsIfExists": {"s3:x-amz-server-side-encryption": "aws:kms"}},
        },
        {
            "Sid": "DenyUploadsNamingAnotherKmsKey",
            "Effect": "Deny",
            "Principal": {"AWS": "*"},
            "Action": ["s3:PutObject"],
            "Resource": objects,
            "Condition": {
                "StringNotEqualsIfExists": {"s3:x-amz-server-side-encryption-aws-kms-key-id": [key_arn_value, key_arn_value.rsplit("/", 1)[-1]]}
            },
        },
    ]


# ---------------------------------------------------------------------------------------------
# The artifact bucket


def test_artifact_bucket_uses_sse_kms_with_the_platform_artifacts_key_and_a_bucket_key(dev):
    rec, _ = dev
    bucket = bucket_named(rec, "bucket")
    key, arn = key_arn(rec, "keys-artifacts")
    sse = attached(rec, SSE, bucket)
    assert sse.inputs["rules"] == [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "aws:kms", "kmsMasterKeyId": arn}, "bucketKeyEnabled": True}]
    assert key.urn in sse.propertyDependencies["rules"]


@pytest.mark.parametrize(
    ("stack", "stem"),
    [("dev", "bucket"), ("dev", "access-logs"), ("prod", "bucket"), ("prod", "access-logs"), ("prod", "replica"), ("prod", "replica-access-logs")],
)
def test_every_bucket_blocks_public_access_disables_acls_and_versions(request, stack, stem):
    rec = request.getfixturevalue("prod") if stack == "prod" else request.getfixturevalue("dev")[0]
    assert len(rec.of_type(BUCKET)) == (4 if stack == "prod" else 2)
    bucket = bucket_named(rec, stem)
    pab = attached(rec, PAB, bucket)
    assert {k: pab.inputs[k] for k in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")} == dict.fromkeys(
        ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"), True
    )
    assert attached(rec, OWNERSHIP, bucket).inputs["rule"] == {"objectOwnership": "BucketOwnerEnforced"}
    assert attached(rec, VERSIONING, bucket).inputs["versioningConfiguration"] == {"status": "Enabled"}


def test_artifact_bucket_policy_denies_plain_http_old_tls_and_foreign_or_missing_sse_kms(dev):
    rec, _ = dev
    bucket = bucket_named(rec, "bucket")
    _, arn = key_arn(rec, "keys-artifacts")
    policy = doc(attached(rec, POLICY, bucket))
    assert policy == {"Version": "2012-10-17", "Statement": tls_denies(bucket.id) + kms_denies(bucket.id, arn)}


def test_a_store_shared_with_the_next_environment_lets_its_serving_roles_read_models_and_nothing_else():
    """Its account root, narrowed to the serving roles' IAM path (a policy naming a role that does
    not exist yet is refused), s3:GetObject under models/ only; the Deny statements stay as they were."""
    rec, _ = build_store(stack_config("prod"), shared_with_account="444455556666")
    bucket = bucket_named(rec, "bucket")
    _, kms = key_arn(rec, "keys-artifacts")
    assert doc(attached(rec, POLICY, bucket))["Statement"] == [
        *tls_denies(bucket.id),
        *kms_denies(bucket.id, kms),
        {
            "Sid": "PromotedToServingRolesReadModels",
            "Effect": "Allow",
            "Principal": {"AWS": ["arn:aws:iam::444455556666:root"]},
            "Action": ["s3:GetObject"],
            "Resource": [f"arn:aws:s3:::{bucket.id}/models/*"],
            "Condition": {"ArnLike": {"aws:PrincipalArn": ["arn:aws:iam::444455556666:role/mlops-prod/serving/*"]}},
        },
    ]
    # The replica is a copy for disaster recovery, not a source of promotions.
    replica = bucket_named(rec, "replica")
    assert all("Promoted" not in s["Sid"] for s in doc(attached(rec, POLICY, replica))["Statement"])


def test_artifact_bucket_lifecycle_follows_the_stack_config():
    config = stack_config("prod")
    rec, _ = build_store(config)
    lifecycle = attached(rec, LIFECYCLE, bucket_named(rec, "bucket"))
    assert lifecycle.inputs["rules"] == [
        {"id": "abort-incomplete-multipart-uploads", "status": "Enabled", "filter": {}, "abortIncompleteMultipartUpload": {"daysAfterInitiation": 7}},
        {"id": "expire-noncurrent-versions", "status": "Enabled", "filter": {}, "noncurrentVersionExpiration": {"noncurrentDays": 180}},
        {"id": "expire-checkpoints", "status": "Enabled", "filter": {"prefix": "checkpoints/"}, "expiration": {"days": 14},
         "noncurrentVersionExpiration": {"noncurrentDays": 1}},
        {"id": "transition-data-capture", "status": "Enabled", "filter": {"prefix": "data-capture/"}, "transitions": [{"days": 30, "storageClass": "STANDARD_IA"}]},
        {"id": "transition-datasets", "status": "Enabled", "filter": {"prefix": "datasets/"}, "transitions": [{"days": 90, "storageClass": "INTELLIGENT_TIERING"}]},
        {"id": "transition-pipelines", "status": "Enabled", "filter": {"prefix": "pipelines/"}, "transitions": [{"days": 180, "storageClass": "GLACIER_IR"}]},
    ]
    versioning = attached(rec, VERSIONING, bucket_named(rec, "bucket"))
    assert versioning.urn in lifecycle.dependencies


def test_transitions_of_one_prefix_become_one_rule_in_age_order():
    config = stack_config(
        "dev",
        storage={
            "transitions": [
                {"prefix": "datasets/", "days": 365, "storageClass": "GLACIER"},
                {"prefix": "datasets/", "days": 30, "storageClass": "STANDARD_IA"},
            ],
            "noncurrentVersionExpirationDays": 3,
            "abortIncompleteMultipartDays": 2,
        },
    )
    rec, _ = build_store(config)
    rules = attached(rec, LIFECYCLE, bucket_named(rec, "bucket")).inputs["rules"]
    assert rules[0]["abortIncompleteMultipartUpload"] == {"daysAfterInitiation": 2}
    assert rules[1]["noncurrentVersionExpiration"] == {"noncurrentDays": 3}
    assert rules[2]["id"] == "expire-checkpoints"
    assert rules[3:] == [
        {
            "id": "transition-datasets",
            "status": "Enabled",
            "filter": {"prefix": "datasets/"},
            "transitions": [{"days": 30, "storageClass": "STANDARD_IA"}, {"days": 365, "storageClass": "GLACIER"}],
        }
    ]


def test_checkpoints_always_expire_and_experiments_only_when_configured():
    rec, _ = build_store(stack_config("dev", storage={"checkpointExpirationDays": 3, "experimentArtifactExpirationDays": 400}))
    rules = {r["id"]: r for r in attached(rec, LIFECYCLE, bucket_named(rec, "bucket")).inputs["rules"]}
    assert rules["expire-checkpoints"] == {
        "id": "expire-checkpoints", "status": "Enabled", "filter": {"prefix": "checkpoints/"},
        "expiration": {"days": 3}, "noncurrentVersionExpiration": {"noncurrentDays": 1},
    }
    assert rules["expire-experiments"] == {"id": "expire-experiments", "status": "Enabled", "filter": {"prefix": "experiments/"}, "expiration": {"days": 400}}
    # Nothing else expires current objects: models, datasets, captured data and pipeline outputs are kept.
    expiring = sorted(r["filter"].get("prefix", "") for r in rules.values() if "expiration" in r)
    assert expiring == ["checkpoints/", "experiments/"]


def test_experiment_artifacts_are_kept_by_default(each_stack):
    rec = each_stack.recording
    data_buckets = [b for b in rec.of_type(BUCKET) if b.inputs.get("tags", {}).get("mlops:role") in ("artifacts", "artifacts-replica")]
    assert len(data_buckets) == (2 if each_stack.stack_file.stack == "prod" else 1)
    for bucket in data_buckets:
        rules = attached(rec, LIFECYCLE, bucket).inputs["rules"]
        assert [r["filter"]["prefix"] for r in rules if "expiration" in r] == ["checkpoints/"], bucket.name


def test_the_replica_expires_the_same_prefixes_as_the_primary(prod):
    primary = attached(prod, LIFECYCLE, bucket_named(prod, "bucket")).inputs["rules"]
    replica = attached(prod, LIFECYCLE, bucket_named(prod, "replica")).inputs["rules"]
    assert [r for r in replica if "expiration" in r] == [r for r in primary if "expiration" in r] != []


# ---------------------------------------------------------------------------------------------
# The access-log bucket (the documented SSE-S3 exception)


def test_access_logs_go_to_a_separate_sse_s3_bucket_marked_as_log_target(dev):
    rec, _ = dev
    bucket, logs = bucket_named(rec, "bucket"), bucket_named(rec, "access-logs")
    logging = attached(rec, LOGGING, bucket)
    assert logging.inputs["targetBucket"] == logs.id
    assert logging.propertyDependencies["targetBucket"] == [logs.urn]
    assert logging.inputs["targetPrefix"] == "artifacts/"
    assert logs.inputs["tags"] == {ACCESS_LOG_TAG[0]: ACCESS_LOG_TAG[1]} == {"mlops:role": "access-logs"}
    assert bucket.inputs["tags"]["mlops:role"] == "artifacts"
    # logging.s3.amazonaws.com sends no encryption headers: SSE-S3, never SSE-KMS.
    assert attached(rec, SSE, logs).inputs["rules"] == [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "AES256"}}]
    # The delivery permission exists before logging is switched on.
    assert attached(rec, POLICY, logs).urn in logging.dependencies


def test_access_log_bucket_admits_only_log_delivery_for_this_accounts_artifact_bucket(dev):
    rec, _ = dev
    bucket, logs = bucket_named(rec, "bucket"), bucket_named(rec, "access-logs")
    policy = doc(attached(rec, POLICY, logs))
    assert policy["Statement"] == [
        {
            "Sid": "AllowS3ServerAccessLogDelivery",
            "Effect": "Allow",
            "Principal": {"Service": ["logging.s3.amazonaws.com"]},
            "Action": ["s3:PutObject"],
            "Resource": [f"arn:aws:s3:::{logs.id}/artifacts/*"],
            "Condition": {"ArnLike": {"aws:SourceArn": f"arn:aws:s3:::{bucket.id}"}, "StringEquals": {"aws:SourceAccount": ACCOUNT_ID}},
        },
        *tls_denies(logs.id),
    ]


def test_access_log_bucket_expires_logs_per_config(dev):
    rec, _ = dev
    rules = attached(rec, LIFECYCLE, bucket_named(rec, "access-logs")).inputs["rules"]
    assert rules[0] == {"id": "expire-access-logs", "status": "Enabled", "filter": {}, "expiration": {"days": 30}}
    assert {r["id"] for r in rules[1:]} == {"abort-incomplete-multipart-uploads", "expire-noncurrent-versions"}


def test_replica_access_logs_go_to_a_hardened_sse_s3_log_bucket_in_the_replica_region(prod):
    replica, logs = bucket_named(prod, "replica"), bucket_named(prod, "replica-access-logs")
    # Its own bucket in the replica region: a log target must be in its source bucket's region.
    assert logs.inputs["region"] == "us-west-2"
    assert logs.inputs["bucketPrefix"] == "mlops-prod-replica-logs-"
    assert logs.inputs["tags"] == {"mlops:role": "access-logs"}
    assert (logs.protect, logs.retainOnDelete) == (True, True)
    assert logs.inputs["forceDestroy"] is False
    logging = attached(prod, LOGGING, replica)
    assert logging.inputs == {
        "bucket": replica.id,
        "targetBucket": logs.id,
        "targetPrefix": "artifacts/",
        "targetObjectKeyFormat": {"partitionedPrefix": {"partitionDateSource": "EventTime"}},
        "region": "us-west-2",
    }
    assert logging.propertyDependencies["targetBucket"] == [logs.urn]
    # logging.s3.amazonaws.com sends no encryption headers: SSE-S3, never SSE-KMS.
    assert attached(prod, SSE, logs).inputs["rules"] == [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "AES256"}}]
    policy = attached(prod, POLICY, logs)
    assert doc(policy)["Statement"] == [
        {
            "Sid": "AllowS3ServerAccessLogDelivery",
            "Effect": "Allow",
            "Principal": {"Service": ["logging.s3.amazonaws.com"]},
            "Action": ["s3:PutObject"],
            "Resource": [f"arn:aws:s3:::{logs.id}/artifacts/*"],
            # Only the replica bucket of this account may deliver here.
            "Condition": {"ArnLike": {"aws:SourceArn": f"arn:aws:s3:::{replica.id}"}, "StringEquals": {"aws:SourceAccount": ACCOUNT_ID}},
        },
        *tls_denies(logs.id),
    ]
    assert policy.urn in logging.dependencies
    rules = attached(prod, LIFECYCLE, logs).inputs["rules"]
    assert rules[0] == {"id": "expire-access-logs", "status": "Enabled", "filter": {}, "expiration": {"days": 365}}
    assert {r["id"] for r in rules[1:]} == {"abort-incomplete-multipart-uploads", "expire-noncurrent-versions"}
    for token in (SSE, PAB, OWNERSHIP, VERSIONING, POLICY, LIFECYCLE):
        assert attached(prod, token, logs).inputs["region"] == "us-west-2", token
    # The primary's log bucket stays in the primary region and admits only the artifact bucket.
    primary_logs = bucket_named(prod, "access-logs")
    assert "region" not in primary_logs.inputs and "region" not in attached(prod, LOGGING, bucket_named(prod, "bucket")).inputs
    assert doc(attached(prod, POLICY, primary_logs))["Statement"][0]["Condition"]["ArnLike"] == {"aws:SourceArn": f"arn:aws:s3:::{bucket_named(prod, 'bucket').id}"}


def test_bucket_name_prefixes_fit_s3s_37_characters_with_the_longest_name_prefix_and_environment():
    """``bucket_prefix`` may be at most 37 characters; the replica's log bucket has the longest stem."""
    config = stack_config("staging", namePrefix="abcdefghijkl", storage={"replication": {"enabled": True, "region": "us-west-2"}})
    rec, _ = build_store(config)
    prefixes = sorted((b.inputs["bucketPrefix"] for b in rec.of_type(BUCKET)), key=len)
    assert len(prefixes) == 4
    assert prefixes[-1] == "abcdefghijkl-staging-replica-logs-"
    assert all(len(p) <= 37 for p in prefixes), prefixes


# ---------------------------------------------------------------------------------------------
# Data safety and replication per environment (the real stack files)


@pytest.mark.parametrize(("stack", "protected", "force_destroy"), [("dev", False, True), ("staging", True, False), ("prod", True, False)])
def test_buckets_and_keys_are_protected_and_retained_per_environment(stack, protected, force_destroy):
    rec = stack_preview(stack).recording
    buckets = rec.of_type(BUCKET)
    # artifacts and access logs; prod adds the replica and the replica's own access-log bucket.
    assert len(buckets) == (4 if stack == "prod" else 2)
    for resource in buckets + rec.of_type(KEY):
        assert (resource.protect, resource.retainOnDelete) == (protected, protected), resource.name
    for bucket in buckets:
        assert bucket.inputs["forceDestroy"] is force_destroy


@pytest.mark.parametrize(("stack", "replicated"), [("dev", False), ("staging", False), ("prod", True)])
def test_replication_is_on_only_where_the_stack_enables_it(stack, replicated):
    rec = stack_preview(stack).recording
    assert len(rec.of_type(REPLICATION)) == int(replicated)
    outputs = rec.stack_outputs["artifactStore"]
    if replicated:
        assert outputs["replicaRegion"] == "us-west-2"
        assert outputs["replicaBucketName"] == exactly(rec, BUCKET, "mlops-platform-artifacts-replica").id
    else:
        assert outputs["replicaRegion"] is None and outputs["replicaBucketName"] is None


def test_replica_lives_in_the_replica_region_under_its_own_key(prod):
    replica = bucket_named(prod, "replica")
    assert replica.inputs["region"] == "us-west-2"
    assert replica.inputs["tags"] == {"mlops:role": "artifacts-replica"}
    key, arn = key_arn(prod, "store-replica-key")
    assert key.inputs["region"] == "us-west-2" and key.inputs["enableKeyRotation"] is True
    assert (key.protect, key.retainOnDelete) == (True, True)
    assert json.loads(key.inputs["policy"])["Statement"] == [
        {"Sid": "EnableIamPolicies", "Effect": "Allow", "Principal": {"AWS": [f"arn:aws:iam::{ACCOUNT_ID}:root"]}, "Action": ["kms:*"], "Resource": ["*"]}
    ]
    assert prod.one("aws:kms/alias:Alias", "replica").inputs == {"name": "alias/mlops-prod-artifacts-replica", "targetKeyId": key.id, "region": "us-west-2"}
    for token in (SSE, PAB, OWNERSHIP, VERSIONING, POLICY, LIFECYCLE):
        assert attached(prod, token, replica).inputs["region"] == "us-west-2", token
    sse = attached(prod, SSE, replica)
    assert sse.inputs["rules"] == [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "aws:kms", "kmsMasterKeyId": arn}, "bucketKeyEnabled": True}]
    assert doc(attached(prod, POLICY, replica))["Statement"] == tls_denies(replica.id) + kms_denies(replica.id, arn)
    # Primary-region resources carry no region and so use the provider's.
    for token in (SSE, POLICY, LIFECYCLE, REPLICATION):
        assert "region" not in attached(prod, token, bucket_named(prod, "bucket")).inputs


def test_replication_rule_and_its_least_privilege_role(prod):
    bucket, replica = bucket_named(prod, "bucket"), bucket_named(prod, "replica")
    _, source_key = key_arn(prod, "keys-artifacts")
    _, replica_key = key_arn(prod, "store-replica-key")
    replication = attached(prod, REPLICATION, bucket)
    role = prod.one(ROLE, "store-replication-role")
    assert replication.inputs["role"] == f"arn:aws:iam::{ACCOUNT_ID}:role/{role.id}"
    assert replication.inputs["rules"] == [
        {
            "id": "replicate-everything",
            "status": "Enabled",
            "filter": {},
            "deleteMarkerReplication": {"status": "Disabled"},
            "sourceSelectionCriteria": {"sseKmsEncryptedObjects": {"status": "Enabled"}},
            "destination": {"bucket": f"arn:aws:s3:::{replica.id}", "storageClass": "STANDARD", "encryptionConfiguration": {"replicaKmsKeyId": replica_key}},
        }
    ]
    versionings = {attached(prod, VERSIONING, b).urn for b in (bucket, replica)}
    assert versionings <= set(replication.dependencies)
    assert doc(role, "assumeRolePolicy")["Statement"] == [
        {
            "Sid": "TrustService",
            "Effect": "Allow",
            "Principal": {"Service": ["s3.amazonaws.com"]},
            "Action": ["sts:AssumeRole"],
            "Condition": {"StringEquals": {"aws:SourceAccount": ACCOUNT_ID}},
        }
    ]
    source, target = f"arn:aws:s3:::{bucket.id}", f"arn:aws:s3:::{replica.id}"
    assert doc(prod.one(ROLE_POLICY, "store-replication-policy"))["Statement"] == [
        {"Sid": "ReadReplicationConfiguration", "Effect": "Allow", "Action": ["s3:GetReplicationConfiguration", "s3:ListBucket"], "Resource": [source]},
        {
            "Sid": "ReadSourceVersions",
            "Effect": "Allow",
            "Action": ["s3:GetObjectVersionAcl", "s3:GetObjectVersionForReplication", "s3:GetObjectVersionTagging"],
            "Resource": [f"{source}/*"],
        },
        {"Sid": "WriteReplicas", "Effect": "Allow", "Action": ["s3:ReplicateDelete", "s3:ReplicateObject", "s3:ReplicateTags"], "Resource": [f"{target}/*"]},
        {
            "Sid": "DecryptSourceObjects",
            "Effect": "Allow",
            "Action": ["kms:Decrypt"],
            "Resource": [source_key],
            "Condition": {
                "StringEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com"},
                "StringLike": {"kms:EncryptionContext:aws:s3:arn": [source, f"{source}/*"]},
            },
        },
        {
            "Sid": "EncryptReplicas",
            "Effect": "Allow",
            "Action": ["kms:Encrypt", "kms:GenerateDataKey"],
            "Resource": [replica_key],
            "Condition": {
                "StringEquals": {"kms:ViaService": "s3.us-west-2.amazonaws.com"},
                "StringLike": {"kms:EncryptionContext:aws:s3:arn": [target, f"{target}/*"]},
            },
        },
    ]


def test_store_outputs_follow_the_contract(each_stack):
    rec = each_stack.recording
    outputs = rec.stack_outputs["artifactStore"]
    bucket = rec.one(BUCKET, "artifacts-bucket")
    assert outputs["bucketName"] == bucket.id
    assert outputs["bucketArn"] == f"arn:aws:s3:::{bucket.id}"
    assert outputs["kmsKeyArn"] == rec.stack_outputs["kmsKeys"]["artifacts"]
    assert outputs["logBucketName"] == exactly(rec, BUCKET, "mlops-platform-artifacts-access-logs").id
    assert outputs["prefixes"] == {"models": "models/", "datasets": "datasets/", "dataCapture": "data-capture/", "pipelines": "pipelines/",
                                   "checkpoints": "checkpoints/", "experiments": "experiments/"}
    assert sorted(outputs["prefixes"].values()) == sorted(ARTIFACT_PREFIXES)


def test_first_preview_links_every_bucket_setting_to_its_bucket_while_names_are_unknown():
    rec = stack_preview("prod", unknowns=True).recording
    for bucket in rec.of_type(BUCKET):
        for token in (SSE, PAB, OWNERSHIP, VERSIONING, POLICY, LIFECYCLE):
            resource = attached(rec, token, bucket)
            assert resource.inputs["bucket"] == UNKNOWN


# ---------------------------------------------------------------------------------------------
# Grants


def _grant_policies(rec):
    return {r.name: doc(r) for r in rec.of_type(ROLE_POLICY)}


def test_grant_read_lists_and_reads_one_prefix_and_decrypts_through_s3_only(dev):
    rec, _ = dev
    bucket = bucket_named(rec, "bucket")
    _, arn = key_arn(rec, "keys-artifacts")
    policy = _grant_policies(rec)["store-workload-read-models"]
    assert policy["Statement"] == [
        {
            "Sid": "ListPrefix",
            "Effect": "Allow",
            "Action": ["s3:ListBucket"],
            "Resource": [f"arn:aws:s3:::{bucket.id}"],
            "Condition": {"StringLike": {"s3:prefix": ["models/*"]}},
        },
        {"Sid": "ReadObjects", "Effect": "Allow", "Action": ["s3:GetObject", "s3:GetObjectVersion"], "Resource": [f"arn:aws:s3:::{bucket.id}/models/*"]},
        {
            "Sid": "UseStoreKeyThroughS3",
            "Effect": "Allow",
            "Action": ["kms:Decrypt"],
            "Resource": [arn],
            "Condition": {"StringEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com"}},
        },
    ]


def test_grant_write_uploads_to_one_prefix_with_the_store_key(dev):
    rec, _ = dev
    bucket = bucket_named(rec, "bucket")
    _, arn = key_arn(rec, "keys-artifacts")
    policy = _grant_policies(rec)["store-workload-write-data-capture"]
    assert policy["Statement"] == [
        {
            "Sid": "WriteObjects",
            "Effect": "Allow",
            "Action": ["s3:AbortMultipartUpload", "s3:PutObject"],
            "Resource": [f"arn:aws:s3:::{bucket.id}/data-capture/*"],
        },
        {
            "Sid": "UseStoreKeyThroughS3",
            "Effect": "Allow",
            "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
            "Resource": [arn],
            "Condition": {"StringEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com"}},
        },
    ]


def test_grant_read_write_on_a_sub_prefix_is_scoped_to_that_sub_prefix(dev):
    rec, _ = dev
    bucket = bucket_named(rec, "bucket")
    policy = _grant_policies(rec)["store-workload-read-write-pipelines-churn"]
    statements = {s["Sid"]: s for s in policy["Statement"]}
    assert sorted(statements) == ["ListPrefix", "ReadObjects", "UseStoreKeyThroughS3", "WriteObjects"]
    assert statements["ListPrefix"]["Condition"] == {"StringLike": {"s3:prefix": ["pipelines/churn/*"]}}
    assert statements["ReadObjects"]["Resource"] == [f"arn:aws:s3:::{bucket.id}/pipelines/churn/*"]
    assert statements["WriteObjects"]["Resource"] == [f"arn:aws:s3:::{bucket.id}/pipelines/churn/*"]
    assert statements["UseStoreKeyThroughS3"]["Action"] == ["kms:Decrypt", "kms:GenerateDataKey"]


def test_grants_attach_to_the_given_role(dev):
    rec, _ = dev
    role = rec.one(ROLE, "workload")
    grants = rec.of_type(ROLE_POLICY)
    assert len(grants) == 3
    for grant in grants:
        assert grant.inputs["role"] == role.id
        assert grant.propertyDependencies["role"] == [role.urn]
        assert grant.parent == rec.one("mlops:storage:ArtifactStore").urn


def test_prefix_uri(dev):
    rec, seen = dev
    assert seen["uri_value"] == f"s3://{bucket_named(rec, 'bucket').id}/models/"


@pytest.mark.parametrize("prefix", ["models/", "data-capture/", "models/churn/", "pipelines/run-1/step.2/", "checkpoints/churn/", "experiments/"])
def test_prefixes_inside_the_layout_are_accepted(prefix):
    assert validate_prefix(prefix) == prefix


@pytest.mark.parametrize("prefix", ["", "tmp/", "models", "models/*", "/models/", "models/../datasets/", "modelsx/", "Models/", "*", "models/a b/"])
def test_prefixes_outside_the_layout_are_rejected(prefix):
    with pytest.raises(ValueError, match="artifact store layout"):
        validate_prefix(prefix)


def test_a_grant_outside_the_layout_fails_before_anything_is_attached():
    config = stack_config("dev")
    with pytest.raises(Exception) as caught:
        build_store(config, grants=[("grant_read", "secrets/")])
    assert ("prefix 'secrets/' is outside the artifact store layout; use one of models/, datasets/, data-capture/, pipelines/, checkpoints/, experiments/ "
            "or a sub-prefix") in str(caught.value)
    assert caught.value.recording.of_type(ROLE_POLICY) == []


# ---------------------------------------------------------------------------------------------
# Bad storage config fails cleanly (the config tests cover replication-region and noncurrent days)


@pytest.mark.parametrize(
    ("storage", "key_path", "message"),
    [
        ({"abortIncompleteMultipartDays": -1}, "storage.abortIncompleteMultipartDays", "greater than or equal to 1"),
        ({"accessLogExpirationDays": 0}, "storage.accessLogExpirationDays", "greater than or equal to 1"),
        ({"transitions": [{"prefix": "datasets/", "days": -5, "storageClass": "GLACIER"}]}, "storage.transitions[0].days", "greater than or equal to 0"),
        ({"transitions": [{"prefix": "datasets/", "days": 7, "storageClass": "STANDARD_IA"}]}, "storage.transitions[0].days", "at least 30 days"),
        ({"replication": {"enabled": True}}, "storage.replication.region", "required when replication.enabled"),
        ({"replication": {"enabled": True, "region": "us-east-1"}}, "storage.replication.region", "must differ from aws:region (us-east-1)"),
        ({"kmsDeletionWindowDays": 3}, "storage.kmsDeletionWindowDays", "greater than or equal to 7"),
        ({"checkpointExpirationDays": 0}, "storage.checkpointExpirationDays", "greater than or equal to 1"),
        ({"experimentArtifactExpirationDays": 0}, "storage.experimentArtifactExpirationDays", "greater than or equal to 1"),
        ({"transitions": [{"prefix": "checkpoints/", "days": 30, "storageClass": "STANDARD_IA"}]}, "storage.transitions[0].days",
         "objects under checkpoints/ expire after 14 days (checkpointExpirationDays); a transition must come earlier, got 30"),
        ({"experimentArtifactExpirationDays": 60, "transitions": [{"prefix": "experiments/", "days": 90, "storageClass": "GLACIER_IR"}]},
         "storage.transitions[0].days", "objects under experiments/ expire after 60 days (experimentArtifactExpirationDays)"),
    ],
)
def test_bad_storage_config_names_the_key(storage, key_path, message):
    raw = {"environment": "dev", "accountId": "123456789012", "owner": "o", "costCenter": "c", "storage": storage,
           "eks": {"deployRoleArn": "arn:aws:iam::123456789012:role/deploy"}}
    assert_one_line_config_error(raw, key_path, message)
