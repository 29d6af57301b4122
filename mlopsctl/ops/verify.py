"""``mlopsctl verify``: post-deploy checks of live resources against the stack's config.

Inputs: the stack outputs (``pulumi stack output --json``; physical names, see the stack-output
contract in the README) and the stack file (expected versions, sizes, AMI types...). Each check
yields pass/fail with the resource and the reason. An AWS error (permission, throttling after
botocore's standard retries, anything else) fails only the check that hit it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TextIO

from components import facts
from components.config import GPU_TAINT_EFFECT, GPU_TAINT_KEY, GPU_TAINT_VALUE, PlatformConfig
from mlopsctl.ops.awsclients import AWS_ERRORS, AwsClients, default_encryption_rule, describe_aws_error, unless_missing
from policies.awsfacts import SAGEMAKER_VARIANT_SCALABLE_DIMENSION as SCALABLE_DIMENSION

PASS, FAIL, ERROR, SKIP = "pass", "fail", "error", "skip"

# Control-plane log types the platform enables at least; a stack may enable more.
REQUIRED_CLUSTER_LOG_TYPES = ("api", "audit", "authenticator")
GPU_TAINT = {"key": GPU_TAINT_KEY, "value": GPU_TAINT_VALUE, "effect": GPU_TAINT_EFFECT}


class OutputsError(ValueError):
    """Unreadable or malformed stack outputs. ``str()`` is one line."""


@dataclass
class CheckResult:
    check: str
    resource: str
    status: str
    reason: str

    def to_json(self) -> dict[str, str]:
        return {"check": self.check, "resource": self.resource, "status": self.status, "reason": self.reason}


# ---------------------------------------------------------------------------------------------
# Outputs


def read_outputs(source: str | None, stdin: TextIO) -> dict[str, Any]:
    if source in (None, "-"):
        text, where = stdin.read(), "stdin"
    else:
        try:
            with open(source, encoding="utf-8") as handle:
                text, where = handle.read(), source
        except OSError as exc:
            raise OutputsError(f"--outputs {source}: {exc.strerror or exc}") from None
    try:
        outputs = json.loads(text)
    except json.JSONDecodeError as exc:
        raise OutputsError(f"outputs ({where}): not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    if not isinstance(outputs, dict):
        raise OutputsError(f"outputs ({where}): must be a JSON object (pulumi stack output --json), got {type(outputs).__name__}")
    return outputs


def _section(outputs: dict, key: str, fields: dict[str, type | tuple]) -> dict | None:
    section = outputs.get(key)
    if section is None:
        return None
    if not isinstance(section, dict):
        raise OutputsError(f"outputs: {key}: must be an object")
    for name, kind in fields.items():
        if not isinstance(section.get(name), kind):
            raise OutputsError(f"outputs: {key}.{name}: missing or not a {getattr(kind, '__name__', 'value')}")
    return section


# ---------------------------------------------------------------------------------------------
# Checks


class Verifier:
    def __init__(self, config: PlatformConfig, outputs: dict[str, Any], clients: AwsClients):
        self.config = config
        self.outputs = outputs
        self.clients = clients
        self.results: list[CheckResult] = []
        # Validate every section's shape before any AWS call, so bad input is exit 2, not a half run.
        self.store = _section(outputs, "artifactStore", {"bucketName": str, "kmsKeyArn": str})
        self.cluster = _section(outputs, "cluster", {"name": str, "nodeGroups": dict})
        endpoints = outputs.get("endpoints")
        if endpoints is not None and not (isinstance(endpoints, dict) and all(
                isinstance(v, dict) and isinstance(v.get("name"), str) for v in endpoints.values())):
            raise OutputsError("outputs: endpoints: must map each endpoint to an object with a string 'name'")
        self.endpoints = endpoints

    def check(self, check: str, resource: str, run: Callable[[], tuple[bool, str] | tuple[str, str]]) -> None:
        try:
            outcome, reason = run()
        except AWS_ERRORS as exc:
            self.results.append(CheckResult(check, resource, ERROR, describe_aws_error(exc)))
            return
        status = outcome if isinstance(outcome, str) else (PASS if outcome else FAIL)
        self.results.append(CheckResult(check, resource, status, reason))

    def skip(self, check: str, resource: str, reason: str) -> None:
        self.results.append(CheckResult(check, resource, SKIP, reason))

    def run(self) -> list[CheckResult]:
        for key, verify in (("artifactStore", self.verify_artifact_store), ("cluster", self.verify_cluster),
                            ("endpoints", self.verify_endpoints)):
            if self.outputs.get(key) is None:
                self.skip(key, "-", f"no '{key}' section in the stack outputs; its checks were skipped")
            else:
                verify()
        return self.results

    # -----------------------------------------------------------------------------------------
    # KMS helper

    def _same_key(self, actual: str | None, expected_arn: str, region: str | None = None) -> bool:
        if not actual:
            return False
        if actual == expected_arn:
            return True
        # Key ids, alias names and alias ARNs all resolve to the key's ARN.
        return self.clients.client("kms", region).describe_key(KeyId=actual)["KeyMetadata"]["Arn"] == expected_arn

    # -----------------------------------------------------------------------------------------
    # Artifact store

    def verify_artifact_store(self) -> None:
        s3 = self.clients.client("s3")
        bucket, key_arn = self.store["bucketName"], self.store["kmsKeyArn"]
        resource = f"s3://{bucket}"

        @_memo
        def default_encryption() -> dict:
            return default_encryption_rule(s3, bucket)

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
            if self._same_key(actual, key_arn):
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

        self.check("artifactStore.encryption", resource, sse)
        self.check("artifactStore.kmsKey", resource, key)
        self.check("artifactStore.versioning", resource, versioning)
        self.check("artifactStore.publicAccessBlock", resource, public_access_block)
        replication = self.config.storage.replication
        if replication.enabled:
            self.check("artifactStore.replication", resource, lambda: self._replication(bucket, replication.region))
        else:
            self.skip("artifactStore.replication", resource, "replication is not configured for this stack")

    def _replication(self, bucket: str, expected_region: str) -> tuple[bool, str]:
        replica, replica_region = self.store.get("replicaBucketName"), self.store.get("replicaRegion")
        if not replica:
            return False, "replication is configured but the outputs name no replicaBucketName"
        if replica_region != expected_region:
            return False, f"replica region in outputs is {replica_region}, config says {expected_region}"
        rules = unless_missing(lambda: self.clients.client("s3").get_bucket_replication(Bucket=bucket)["ReplicationConfiguration"]["Rules"],
                               "ReplicationConfigurationNotFoundError", None)
        if rules is None:
            return False, "no replication configuration on the bucket"
        destination = f"arn:{self._partition()}:s3:::{replica}"
        matching = [r for r in rules if r.get("Status") == "Enabled" and r.get("Destination", {}).get("Bucket") == destination]
        if not matching:
            return False, f"no enabled replication rule to {destination}"
        rule = matching[0]
        if (rule.get("SourceSelectionCriteria", {}).get("SseKmsEncryptedObjects", {}).get("Status") != "Enabled"
                or not rule["Destination"].get("EncryptionConfiguration", {}).get("ReplicaKmsKeyID")):
            return False, f"rule {rule.get('ID')} does not replicate SSE-KMS objects with a replica-region key"
        status = self.clients.client("s3", replica_region).get_bucket_versioning(Bucket=replica).get("Status")
        if status != "Enabled":
            return False, f"replica bucket {replica} versioning is {status or 'never enabled'}"
        return True, f"rule {rule.get('ID')} replicates SSE-KMS objects to {replica} in {replica_region}"

    def _partition(self) -> str:
        arn = self.store.get("bucketArn") if self.store else None
        return arn.split(":")[1] if isinstance(arn, str) and arn.startswith("arn:") else "aws"

    # -----------------------------------------------------------------------------------------
    # EKS

    def verify_cluster(self) -> None:
        eks = self.clients.client("eks")
        name = self.cluster["name"]
        resource = f"eks cluster {name}"
        cluster = _memo(lambda: eks.describe_cluster(name=name)["cluster"])

        def status():
            s = cluster().get("status")
            return s == "ACTIVE", f"status {s}" + ("" if s == "ACTIVE" else ", want ACTIVE")

        def version():
            actual, expected = cluster().get("version"), self.config.eks.version
            return actual == expected, f"Kubernetes {actual}" + ("" if actual == expected else f", config says {expected}")

        def logging():
            enabled = {t for entry in cluster().get("logging", {}).get("clusterLogging", []) if entry.get("enabled")
                       for t in entry.get("types", [])}
            missing = [t for t in REQUIRED_CLUSTER_LOG_TYPES if t not in enabled]
            return not missing, (f"control-plane logs {', '.join(sorted(enabled))}" if not missing
                                 else f"control-plane log types off: {', '.join(missing)}")

        def encryption():
            for entry in cluster().get("encryptionConfig", []) or []:
                if "secrets" in entry.get("resources", []) and entry.get("provider", {}).get("keyArn"):
                    return True, f"secrets envelope-encrypted with {entry['provider']['keyArn']}"
            return False, "Kubernetes secrets are not envelope-encrypted with a KMS key"

        self.check("cluster.status", resource, status)
        self.check("cluster.version", resource, version)
        self.check("cluster.logging", resource, logging)
        self.check("cluster.secretsEncryption", resource, encryption)
        self._verify_node_groups(name)

    def _expected_node_groups(self) -> dict[str, Any]:
        eks = self.config.eks
        return {"system": eks.system_node_group, **{g.name: g for g in eks.gpu_node_groups}}

    def _verify_node_groups(self, cluster: str) -> None:
        eks = self.clients.client("eks")
        expected = self._expected_node_groups()
        physical: dict[str, str] = self.cluster["nodeGroups"]
        for group in expected:
            if group not in physical:
                self.results.append(CheckResult("nodegroup.present", f"node group {group}", FAIL,
                                                f"configured node group {group!r} is not in the outputs' cluster.nodeGroups"))
        for group, nodegroup_name in physical.items():
            resource = f"eks nodegroup {cluster}/{nodegroup_name} ({group})"
            want = expected.get(group)
            if want is None:
                self.results.append(CheckResult("nodegroup.present", resource, FAIL, f"node group {group!r} is not in the stack config"))
                continue
            nodegroup = _memo(lambda name=nodegroup_name: eks.describe_nodegroup(clusterName=cluster, nodegroupName=name)["nodegroup"])

            def status(nodegroup=nodegroup):
                s = nodegroup().get("status")
                return s == "ACTIVE", f"status {s}" + ("" if s == "ACTIVE" else ", want ACTIVE")

            def ami(nodegroup=nodegroup, want=want):
                actual = nodegroup().get("amiType")
                return actual == want.ami_type, f"AMI type {actual}" + ("" if actual == want.ami_type else f", config says {want.ami_type}")

            def capacity(nodegroup=nodegroup, want=want):
                actual = nodegroup().get("capacityType")
                return actual == want.capacity_type, f"capacity {actual}" + (
                    "" if actual == want.capacity_type else f", config says {want.capacity_type}")

            def scaling(nodegroup=nodegroup, want=want):
                # desiredSize is owned by the autoscaler after creation; only the bounds are config's.
                s = nodegroup().get("scalingConfig", {})
                actual, wanted = (s.get("minSize"), s.get("maxSize")), (want.min_size, want.max_size)
                return actual == wanted, f"min {actual[0]}, max {actual[1]}" + ("" if actual == wanted else f"; config says min {wanted[0]}, max {wanted[1]}")

            def taints(nodegroup=nodegroup, group=group):
                wanted = [] if group == "system" else [GPU_TAINT]
                actual = [{k: t.get(k) for k in ("key", "value", "effect")} for t in nodegroup().get("taints", []) or []]
                same = sorted(map(_taint_text, actual)) == sorted(map(_taint_text, wanted))
                shown = ", ".join(sorted(map(_taint_text, actual))) or "none"
                return same, f"taints {shown}" + ("" if same else f"; want {', '.join(map(_taint_text, wanted)) or 'none'}")

            self.check("nodegroup.status", resource, status)
            self.check("nodegroup.amiType", resource, ami)
            self.check("nodegroup.capacityType", resource, capacity)
            self.check("nodegroup.scaling", resource, scaling)
            self.check("nodegroup.taints", resource, taints)

    # -----------------------------------------------------------------------------------------
    # SageMaker

    def _endpoint_settings(self, name: str) -> dict[str, Any]:
        """The stack config's entry for endpoint ``name`` as a camelCase dict (typed or raw config)."""
        for entry in self.config.serving.endpoints:
            raw = entry.model_dump(by_alias=True) if hasattr(entry, "model_dump") else dict(entry)
            if raw.get("name") == name:
                return raw
        return {}

    def verify_endpoints(self) -> None:
        sagemaker = self.clients.client("sagemaker")
        for key, endpoint_out in self.endpoints.items():
            name = endpoint_out["name"]
            resource = f"sagemaker endpoint {name}"
            settings = self._endpoint_settings(key) or self._endpoint_settings(name)
            endpoint = _memo(lambda name=name: sagemaker.describe_endpoint(EndpointName=name))
            current_config = _memo(lambda endpoint=endpoint: sagemaker.describe_endpoint_config(EndpointConfigName=endpoint()["EndpointConfigName"]))

            def status(endpoint=endpoint):
                s = endpoint().get("EndpointStatus")
                reason = f"status {s}" + ("" if s == "InService" else f", want InService ({endpoint().get('FailureReason', 'no failure reason')})")
                return s == "InService", reason

            self.check("endpoint.status", resource, status)
            self.check("endpoint.kmsKey", resource, lambda c=current_config: self._endpoint_key(c()))
            self.check("endpoint.dataCapture", resource, lambda c=current_config, n=name, s=settings: self._data_capture(c(), n, s))
            self.check("endpoint.autoscaling", resource, lambda c=current_config, n=name, s=settings: self._autoscaling(c(), n, s))

    @staticmethod
    def _serverless_only(config: dict) -> bool:
        variants = config.get("ProductionVariants", [])
        return bool(variants) and all("ServerlessConfig" in v and not v.get("InstanceType") for v in variants)

    def _endpoint_key(self, config: dict):
        name = config["EndpointConfigName"]
        local_storage = [v["InstanceType"] for v in config.get("ProductionVariants", []) if v.get("InstanceType") and facts.has_instance_storage(v["InstanceType"])]
        if local_storage:
            # The serving component leaves KmsKeyId out here: SageMaker rejects it for local NVMe storage.
            return SKIP, f"config {name} runs on local-NVMe instance types {local_storage}; the platform sets no KmsKeyId there"
        if not self.store:
            return SKIP, "no artifactStore outputs to name the expected KMS key"
        expected, actual = self.store["kmsKeyArn"], config.get("KmsKeyId")
        if self._same_key(actual, expected):
            return True, f"current config {name} encrypts with {expected}"
        return False, f"current config {name} KmsKeyId is {actual or 'not set'}, want {expected}"

    def _data_capture(self, config: dict, endpoint: str, settings: dict):
        name = config["EndpointConfigName"]
        capture = config.get("DataCaptureConfig") or {}
        enabled = bool(capture.get("EnableCapture", bool(capture)))
        serverless = self._serverless_only(config)
        stated = (settings.get("dataCapture") or {}).get("enabled") if isinstance(settings.get("dataCapture"), dict) else None
        default = self.config.serving.data_capture_by_default
        want = False if serverless else (stated if stated is not None else default)
        source = "serverless: unsupported" if serverless else ("stack config" if stated is not None else "serving.dataCaptureByDefault")
        if not want:
            return not enabled, f"data capture {'on' if enabled else 'off'} in {name}; want off ({source})"
        if not enabled:
            return False, f"data capture off in {name}; want on ({source})"
        destination = capture.get("DestinationS3Uri", "")
        if self.store:
            prefix = (self.store.get("prefixes") or {}).get("dataCapture", "data-capture/")
            wanted = f"s3://{self.store['bucketName']}/{prefix.rstrip('/')}/{endpoint}"
            if not destination.rstrip("/").startswith(wanted):
                return False, f"data capture goes to {destination or 'nowhere'}; want {wanted}/"
        return True, f"data capture on in {name} to {destination} ({capture.get('InitialSamplingPercentage')}% sampled)"

    def _autoscaling(self, config: dict, endpoint: str, settings: dict):
        variants = [v["VariantName"] for v in config.get("ProductionVariants", []) if v.get("InstanceType")]
        if not variants:
            return SKIP, "no instance-based variants (serverless scales itself)"
        instance = settings.get("instance") or {}
        if instance and not instance.get("autoscaling", True):
            return SKIP, "instance.autoscaling is false in the stack config (step one of an instance-type change)"
        # Bounds per variant name, as the serving component registers them.
        wanted = {"primary": (instance.get("minCount"), instance.get("maxCount"))}
        if instance.get("challenger"):
            wanted["challenger"] = (instance["challenger"].get("minCount"), instance["challenger"].get("maxCount"))
        resource_ids = [f"endpoint/{endpoint}/variant/{v}" for v in variants]
        targets = self.clients.client("application-autoscaling").describe_scalable_targets(
            ServiceNamespace="sagemaker", ResourceIds=resource_ids, ScalableDimension=SCALABLE_DIMENSION)["ScalableTargets"]
        found = {t["ResourceId"]: t for t in targets}
        problems, seen = [], []
        for variant, resource_id in zip(variants, resource_ids, strict=True):
            target = found.get(resource_id)
            if target is None:
                problems.append(f"no scalable target for {resource_id}")
                continue
            low, high = target["MinCapacity"], target["MaxCapacity"]
            seen.append(f"{resource_id} {low}-{high}")
            want_min, want_max = wanted.get(variant, (None, None))
            if want_min is None:
                problems.append(f"{resource_id} is not a variant the stack config declares")
            elif (low, high) != (want_min, want_max):
                problems.append(f"{resource_id} bounds {low}-{high}, config says {want_min}-{want_max}")
        if problems:
            return False, "; ".join(problems)
        return True, "scalable targets " + ", ".join(seen)


def _memo(call: Callable[[], Any]) -> Callable[[], Any]:
    """Call AWS once for all checks of a resource; a failure is remembered too (no hammering when throttled)."""
    box: dict[str, Any] = {}

    def get() -> Any:
        if "error" in box:
            raise box["error"]
        if "value" not in box:
            try:
                box["value"] = call()
            except AWS_ERRORS as exc:
                box["error"] = exc
                raise
        return box["value"]

    return get


def _taint_text(taint: dict) -> str:
    return f"{taint.get('key')}={taint.get('value')}:{taint.get('effect')}"


# ---------------------------------------------------------------------------------------------
# Rendering


def summary(results: list[CheckResult]) -> dict[str, int]:
    return {status: sum(1 for r in results if r.status == status) for status in (PASS, FAIL, ERROR, SKIP)}


def failed(results: list[CheckResult]) -> bool:
    return any(r.status in (FAIL, ERROR) for r in results)


def to_json(stack: str, config: PlatformConfig, results: list[CheckResult]) -> dict[str, Any]:
    return {"stack": stack, "region": config.region, "ok": not failed(results), "summary": summary(results),
            "checks": [r.to_json() for r in results]}


def render_text(stack: str, config: PlatformConfig, results: list[CheckResult]) -> str:
    out = [f"Verify stack '{stack}' in {config.region}", ""]
    width = max((len(r.check) for r in results), default=10)
    for r in results:
        out.append(f"  {r.status.upper():5} {r.check:{width}}  {r.resource}: {r.reason}")
    counts = summary(results)
    out += ["", f"{counts[PASS]} passed, {counts[FAIL]} failed, {counts[ERROR]} errors, {counts[SKIP]} skipped"]
    return "\n".join(out) + "\n"
