"""The artifact store's checks: encryption, its key, versioning, public access, replication."""

from __future__ import annotations

from mlopsctl.ops.awsclients import default_encryption_rule, unless_missing
from mlopsctl.ops.verify.checks import Checks, memo


def verify_artifact_store(v: Checks, store: dict) -> None:
    s3 = v.clients.client("s3")
    bucket, key_arn = store["bucketName"], store["kmsKeyArn"]
    resource = f"s3://{bucket}"
    default_encryption = memo(lambda: default_encryption_rule(s3, bucket))

    def sse():
        rule = default_encryption()
        algorithm = rule.get("ApplyServerSideEncryptionByDefault", {}).get("SSEAlgorithm")
        if algorithm not in ("aws:kms", "aws:kms:dsse"):
            return False, f"default encryption is {algorithm or 'not configured'}, want SSE-KMS (aws:kms)"
        if not rule.get("BucketKeyEnabled"):
            return False, f"SSE-KMS ({algorithm}) but the S3 bucket key is off"
        return True, f"SSE-KMS ({algorithm}) with the S3 bucket key"

    def key():
        actual = default_encryption().get("ApplyServerSideEncryptionByDefault", {}).get("KMSMasterKeyID")
        if v.same_key(actual, key_arn):
            return True, f"default encryption uses {key_arn}"
        return False, f"default encryption key is {actual or 'the AWS-managed aws/s3 key'}, want {key_arn}"

    def versioning():
        status = s3.get_bucket_versioning(Bucket=bucket).get("Status")
        return status == "Enabled", f"versioning is {status or 'never enabled'}" + ("" if status == "Enabled" else ", want Enabled")

    def public_access_block():
        pab = unless_missing(lambda: s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"],
                             "NoSuchPublicAccessBlockConfiguration", None)
        if pab is None:
            return False, "no public access block configured"
        flags = ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")
        off = [f for f in flags if not pab.get(f)]
        return not off, "all four public access block settings on" if not off else f"public access block off: {', '.join(off)}"

    v.check("artifactStore.encryption", resource, sse)
    v.check("artifactStore.kmsKey", resource, key)
    v.check("artifactStore.versioning", resource, versioning)
    v.check("artifactStore.publicAccessBlock", resource, public_access_block)
    replication = v.config.storage.replication
    if replication.enabled:
        v.check("artifactStore.replication", resource, lambda: verify_replication(v, store, replication.region))
    else:
        v.skip("artifactStore.replication", resource, "replication is not configured for this stack")


def verify_replication(v: Checks, store: dict, expected_region: str) -> tuple[bool, str]:
    bucket = store["bucketName"]
    replica, replica_region = store.get("replicaBucketName"), store.get("replicaRegion")
    if not replica:
        return False, "replication is configured but the outputs name no replicaBucketName"
    if replica_region != expected_region:
        return False, f"replica region in outputs is {replica_region}, config says {expected_region}"
    rules = unless_missing(lambda: v.clients.client("s3").get_bucket_replication(Bucket=bucket)["ReplicationConfiguration"]["Rules"],
                           "ReplicationConfigurationNotFoundError", None)
    if rules is None:
        return False, "no replication configuration on the bucket"
    destination = f"arn:{_partition(store)}:s3:::{replica}"
    matching = [r for r in rules if r.get("Status") == "Enabled" and r.get("Destination", {}).get("Bucket") == destination]
    if not matching:
        return False, f"no enabled replication rule to {destination}"
    rule = matching[0]
    if (rule.get("SourceSelectionCriteria", {}).get("SseKmsEncryptedObjects", {}).get("Status") != "Enabled"
            or not rule["Destination"].get("EncryptionConfiguration", {}).get("ReplicaKmsKeyID")):
        return False, f"rule {rule.get('ID')} does not replicate SSE-KMS objects with a replica-region key"
    status = v.clients.client("s3", replica_region).get_bucket_versioning(Bucket=replica).get("Status")
    if status != "Enabled":
        return False, f"replica bucket {replica} versioning is {status or 'never enabled'}"
    return True, f"rule {rule.get('ID')} replicates SSE-KMS objects to {replica} in {replica_region}"


def _partition(store: dict) -> str:
    arn = store.get("bucketArn")
    return arn.split(":")[1] if isinstance(arn, str) and arn.startswith("arn:") else "aws"
