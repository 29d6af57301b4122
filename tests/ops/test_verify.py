"""``mlopsctl verify`` against resources seeded in moto (in-process), one failing test per check.

moto gaps, and how each path is covered instead:
- S3 replication: moto drops ``SourceSelectionCriteria`` from stored replication rules, so a rule
  that replicates SSE-KMS objects cannot be represented. Failure paths run on moto (that very
  shape is a real misconfiguration); the passing path runs on botocore's Stubber, whose responses
  are validated against the S3 service model.
- SageMaker: moto rejects newer instance types (ml.g5.*) in endpoint configs; seeded endpoints use
  ml.m5.large and a GPU variant is covered with the Stubber.
- moto reports every cluster, node group and endpoint as ACTIVE/InService. Non-ACTIVE states are
  set on moto's backend objects, the state a real API would report.
- moto has no throttling or permission errors; those are injected at botocore's ``before-send``
  hook, so botocore's standard retry mode really runs (its backoff sleep is short-circuited).
"""

from __future__ import annotations

import io
import json
from types import SimpleNamespace

import pytest
from botocore.awsrequest import AWSResponse
from botocore.stub import Stubber
from moto.eks.models import eks_backends
from moto.sagemaker.models import sagemaker_backends

from mlopsctl.cli import main
from mlopsctl.offline.preview import load_config
from mlopsctl.offline.stackfile import load_stack_file
from mlopsctl.ops.awsclients import AwsClients
from mlopsctl.ops.verify import ERROR, FAIL, PASS, SKIP, Verifier
from tests.support.aws_seed import ACCOUNT, BUCKET, CLUSTER, ENDPOINT, REGION, REPLICA, Seed, moto_account, seed_stack

PROD = load_config(load_stack_file("prod"))


def _without_replication(config):
    storage = config.storage.model_copy(update={"replication": config.storage.replication.model_copy(update={"enabled": False})})
    return config.model_copy(update={"storage": storage})


@pytest.fixture
def aws(monkeypatch):
    with moto_account(monkeypatch, REGION):
        yield


def verify(config, outputs, clients=None):
    results = Verifier(config, outputs, clients or AwsClients(config.region)).run()
    return {(r.check, r.resource.split(" (")[-1].rstrip(")") if r.check.startswith("nodegroup") else r.check): r for r in results}


def by_check(results, check):
    return [r for r in results.values() if r.check == check]


def assert_only_failure(results, check, reason, group=None):
    failing = [r for r in results.values() if r.status in (FAIL, ERROR)]
    assert len(failing) == 1, [(r.check, r.resource, r.reason) for r in failing]
    [bad] = failing
    assert bad.check == check
    assert reason in bad.reason, bad.reason
    if group:
        assert f"({group})" in bad.resource


def test_compliant_stack_passes_every_check(aws):
    config = _without_replication(PROD)
    outputs = seed_stack(config)
    results = verify(config, outputs)
    statuses = {key: r.status for key, r in results.items()}
    assert {r.status for r in results.values()} == {PASS, SKIP}, statuses
    assert [r.check for r in results.values() if r.status == SKIP] == ["artifactStore.replication"]
    groups = {r.resource for r in by_check(results, "nodegroup.taints")}
    assert groups == {f"eks nodegroup {CLUSTER}/{outputs['cluster']['nodeGroups'][g]} ({g})" for g in ("system", "g5", "g6-batch")}
    assert len(results) == 4 + 1 + 4 + 3 * 5 + 4


# One test per check, each failing for its own reason and only that check failing.
CASES = [
    ("artifactStore.encryption", Seed(bucket_key_enabled=False), "S3 bucket key is off", None),
    ("artifactStore.kmsKey", Seed(use_other_key=True), "want arn:aws:kms:", None),
    ("artifactStore.versioning", Seed(versioning="Suspended"), "versioning is Suspended, want Enabled", None),
    ("artifactStore.publicAccessBlock", Seed(public_access_block={"BlockPublicAcls": True, "IgnorePublicAcls": True,
                                                                   "BlockPublicPolicy": True, "RestrictPublicBuckets": False}),
     "public access block off: RestrictPublicBuckets", None),
    ("cluster.version", Seed(cluster_version="1.33"), "Kubernetes 1.33, config says 1.35", None),
    ("cluster.logging", Seed(log_types=("api", "audit")), "control-plane log types off: authenticator", None),
    ("cluster.secretsEncryption", Seed(secrets_encryption=False), "not envelope-encrypted", None),
    ("nodegroup.amiType", Seed(gpu_ami_type="BOTTLEROCKET_x86_64_NVIDIA"), "AMI type BOTTLEROCKET_x86_64_NVIDIA, config says AL2023_x86_64_NVIDIA", "g5"),
    ("nodegroup.capacityType", Seed(gpu_capacity_type="SPOT"), "capacity SPOT, config says ON_DEMAND", "g5"),
    ("nodegroup.scaling", Seed(gpu_max_size=16), "min 1, max 16; config says min 1, max 8", "g5"),
    ("nodegroup.taints", Seed(gpu_taints=False), "taints none; want nvidia.com/gpu=true:NO_SCHEDULE", "g5"),
    ("endpoint.kmsKey", Seed(endpoint_kms=False), "KmsKeyId is not set", None),
    ("endpoint.dataCapture", Seed(data_capture=False), "data capture off in mlops-prod-churn-20261122; want on (serving.dataCaptureByDefault)", None),
    ("endpoint.autoscaling", Seed(autoscaling_min=1), "bounds 1-8, config says 2-8", None),
    ("endpoint.autoscaling", Seed(autoscaling_min=None), f"no scalable target for endpoint/{ENDPOINT}/variant/primary", None),
]


@pytest.mark.parametrize(("check", "seed", "reason", "group"), CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_each_check_fails_for_its_reason(aws, check, seed, reason, group):
    config = _without_replication(PROD)
    results = verify(config, seed_stack(config, seed))
    assert_only_failure(results, check, reason, group)


def test_encryption_check_names_the_wrong_algorithm(aws):
    config = _without_replication(PROD)
    results = verify(config, seed_stack(config, Seed(sse_algorithm="AES256")))
    assert "default encryption is AES256, want SSE-KMS" in results[("artifactStore.encryption", "artifactStore.encryption")].reason
    assert results[("artifactStore.kmsKey", "artifactStore.kmsKey")].status == FAIL


def test_cluster_not_active(aws):
    config = _without_replication(PROD)
    outputs = seed_stack(config)
    eks_backends[ACCOUNT][REGION].clusters[CLUSTER].status = "UPDATING"
    assert_only_failure(verify(config, outputs), "cluster.status", "status UPDATING, want ACTIVE")


def test_node_group_not_active(aws):
    config = _without_replication(PROD)
    outputs = seed_stack(config)
    eks_backends[ACCOUNT][REGION].clusters[CLUSTER].nodegroups[outputs["cluster"]["nodeGroups"]["g6-batch"]].status = "DEGRADED"
    assert_only_failure(verify(config, outputs), "nodegroup.status", "status DEGRADED, want ACTIVE", "g6-batch")


def test_node_groups_missing_from_outputs_or_config(aws):
    config = _without_replication(PROD)
    outputs = seed_stack(config)
    groups = outputs["cluster"]["nodeGroups"]
    groups["a100"] = groups.pop("g6-batch")
    results = verify(config, outputs)
    failing = sorted((r.check, r.reason) for r in results.values() if r.status == FAIL)
    assert failing == [("nodegroup.present", "configured node group 'g6-batch' is not in the outputs' cluster.nodeGroups"),
                       ("nodegroup.present", "node group 'a100' is not in the stack config")]


def test_endpoint_not_in_service(aws):
    config = _without_replication(PROD)
    outputs = seed_stack(config)
    endpoint = sagemaker_backends[ACCOUNT][REGION].endpoints[ENDPOINT]
    endpoint.endpoint_status = "Failed"
    assert_only_failure(verify(config, outputs), "endpoint.status", "status Failed, want InService")


def test_autoscaling_bounds_from_stack_config(aws):
    # Endpoint settings are read from the stack config; typed or raw, they dump to camelCase keys.
    config = _without_replication(PROD)
    outputs = seed_stack(config)  # the prod stack's 2-8
    stated = config.model_copy(update={"serving": SimpleNamespace(data_capture_by_default=True, endpoints=[
        {"name": "churn", "instance": {"minCount": 2, "maxCount": 6}, "dataCapture": {"enabled": True}}])})
    assert_only_failure(verify(stated, outputs), "endpoint.autoscaling", "bounds 2-8, config says 2-6")


def test_data_capture_must_go_to_the_endpoints_prefix(aws):
    config = _without_replication(PROD)
    outputs = seed_stack(config)
    outputs["endpoints"]["churn"]["name"] = ENDPOINT
    outputs["artifactStore"]["prefixes"]["dataCapture"] = "capture/"
    assert_only_failure(verify(config, outputs), "endpoint.dataCapture", f"want s3://{BUCKET}/capture/{ENDPOINT}/")


# --- replication --------------------------------------------------------------------------------


def test_replication_configured_but_absent(aws):
    outputs = seed_stack(PROD, Seed(replication=False))
    assert_only_failure(verify(PROD, outputs), "artifactStore.replication", "no replication configuration on the bucket")


def test_replication_rule_without_sse_kms_selection(aws):
    # What moto stores for any rule: no SourceSelectionCriteria. On real S3 such a rule skips SSE-KMS objects.
    outputs = seed_stack(PROD)
    assert_only_failure(verify(PROD, outputs), "artifactStore.replication", "does not replicate SSE-KMS objects")


def test_replication_to_the_wrong_region_in_outputs(aws):
    outputs = seed_stack(PROD)
    outputs["artifactStore"]["replicaRegion"] = "eu-west-1"
    assert_only_failure(verify(PROD, outputs), "artifactStore.replication", "replica region in outputs is eu-west-1, config says us-west-2")


def _replication_rule(destination=REPLICA):
    return {"ID": "replicate-all", "Priority": 1, "Status": "Enabled", "Filter": {"Prefix": ""},
            "DeleteMarkerReplication": {"Status": "Enabled"},
            "SourceSelectionCriteria": {"SseKmsEncryptedObjects": {"Status": "Enabled"}},
            "Destination": {"Bucket": f"arn:aws:s3:::{destination}",
                            "EncryptionConfiguration": {"ReplicaKmsKeyID": f"arn:aws:kms:us-west-2:{ACCOUNT}:key/replica"}}}


def _stubbed_replication_verifier(rules, replica_versioning):
    """A Verifier whose S3 clients answer from the Stubber (responses validated against the model)."""
    clients = AwsClients(REGION)
    primary, replica = clients.client("s3"), clients.client("s3", "us-west-2")
    primary_stub, replica_stub = Stubber(primary), Stubber(replica)
    primary_stub.add_response("get_bucket_replication", {"ReplicationConfiguration": {
        "Role": f"arn:aws:iam::{ACCOUNT}:role/mlops-prod-replication", "Rules": rules}}, {"Bucket": BUCKET})
    if replica_versioning is not None:
        replica_stub.add_response("get_bucket_versioning", {"Status": replica_versioning}, {"Bucket": REPLICA})
    outputs = {"artifactStore": {"bucketName": BUCKET, "bucketArn": f"arn:aws:s3:::{BUCKET}", "kmsKeyArn": "k",
                                 "replicaBucketName": REPLICA, "replicaRegion": "us-west-2"}}
    verifier = Verifier(PROD, outputs, clients)
    return verifier, primary_stub, replica_stub


@pytest.mark.parametrize(("rules", "replica_versioning", "passed", "reason"), [
    ([_replication_rule()], "Enabled", True, f"replicates SSE-KMS objects to {REPLICA} in us-west-2"),
    ([_replication_rule()], "Suspended", False, f"replica bucket {REPLICA} versioning is Suspended"),
    ([_replication_rule("elsewhere-bucket")], None, False, f"no enabled replication rule to arn:aws:s3:::{REPLICA}"),
])
def test_replication_paths_with_stubber(aws, rules, replica_versioning, passed, reason):
    verifier, primary_stub, replica_stub = _stubbed_replication_verifier(rules, replica_versioning)
    with primary_stub, replica_stub:
        ok, why = verifier._replication(BUCKET, "us-west-2")
    primary_stub.assert_no_pending_responses()
    replica_stub.assert_no_pending_responses()
    assert (ok, reason in why) == (passed, True), why


def test_gpu_endpoint_variant_with_stubber(aws):
    """moto rejects ml.g5.xlarge; the real API shape of a GPU endpoint is checked via the Stubber.

    ml.g5 has local NVMe storage, where SageMaker rejects KmsKeyId, so the platform sets none and
    verify skips the key check with that reason.
    """
    clients = AwsClients(REGION)
    sagemaker = clients.client("sagemaker")
    key = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/platform"
    stub = Stubber(sagemaker)
    stub.add_response("describe_endpoint", {
        "EndpointName": "gpu", "EndpointArn": f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:endpoint/gpu", "EndpointConfigName": "gpu-cfg",
        "EndpointStatus": "InService", "CreationTime": "2026-11-22T00:00:00Z", "LastModifiedTime": "2026-11-22T00:00:00Z"},
        {"EndpointName": "gpu"})
    stub.add_response("describe_endpoint_config", {
        "EndpointConfigName": "gpu-cfg", "EndpointConfigArn": f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:endpoint-config/gpu-cfg",
        "ProductionVariants": [{"VariantName": "primary", "ModelName": "m", "InstanceType": "ml.g5.xlarge", "InitialInstanceCount": 2}],
        "CreationTime": "2026-11-22T00:00:00Z",
        "DataCaptureConfig": {"EnableCapture": True, "InitialSamplingPercentage": 10, "DestinationS3Uri": f"s3://{BUCKET}/data-capture/gpu",
                              "CaptureOptions": [{"CaptureMode": "Input"}]}},
        {"EndpointConfigName": "gpu-cfg"})
    autoscaling = clients.client("application-autoscaling")
    scaling_stub = Stubber(autoscaling)
    scaling_stub.add_response("describe_scalable_targets", {"ScalableTargets": [{
        "ServiceNamespace": "sagemaker", "ResourceId": "endpoint/gpu/variant/primary", "ScalableDimension": "sagemaker:variant:DesiredInstanceCount",
        "MinCapacity": 2, "MaxCapacity": 8, "RoleARN": f"arn:aws:iam::{ACCOUNT}:role/aas", "CreationTime": "2026-11-22T00:00:00Z"}]},
        {"ServiceNamespace": "sagemaker", "ResourceIds": ["endpoint/gpu/variant/primary"], "ScalableDimension": "sagemaker:variant:DesiredInstanceCount"})
    outputs = {"artifactStore": {"bucketName": BUCKET, "kmsKeyArn": key}, "endpoints": {"churn": {"name": "gpu"}}}
    verifier = Verifier(PROD, outputs, clients)
    with stub, scaling_stub:
        verifier.verify_endpoints()
    stub.assert_no_pending_responses()
    scaling_stub.assert_no_pending_responses()
    assert [(r.check, r.status) for r in verifier.results] == [
        ("endpoint.status", PASS), ("endpoint.kmsKey", SKIP), ("endpoint.dataCapture", PASS), ("endpoint.autoscaling", PASS)]
    assert "local-NVMe" in verifier.results[1].reason


def test_serverless_endpoint_wants_the_key_skips_autoscaling_and_wants_no_capture(aws):
    dev = load_config(load_stack_file("dev"))
    outputs = seed_stack(dev, Seed(autoscaling_min=None, data_capture=False, endpoint_kms=False))
    import boto3

    sagemaker = boto3.client("sagemaker", region_name=REGION)
    sagemaker.create_endpoint_config(EndpointConfigName="serverless-cfg", KmsKeyId=outputs["artifactStore"]["kmsKeyArn"], ProductionVariants=[{
        "VariantName": "primary", "ModelName": "churn-model", "ServerlessConfig": {"MemorySizeInMB": 2048, "MaxConcurrency": 5}}])
    sagemaker.delete_endpoint(EndpointName=ENDPOINT)  # moto lacks UpdateEndpoint; recreate on the new config
    sagemaker.create_endpoint(EndpointName=ENDPOINT, EndpointConfigName="serverless-cfg")
    results = verify(dev, outputs)
    endpoint = {r.check: r for r in results.values() if r.check.startswith("endpoint.")}
    assert {c: r.status for c, r in endpoint.items()} == {"endpoint.status": PASS, "endpoint.kmsKey": PASS,
                                                           "endpoint.dataCapture": PASS, "endpoint.autoscaling": SKIP}
    assert "serverless scales itself" in endpoint["endpoint.autoscaling"].reason


# --- AWS errors are per check -----------------------------------------------------------------


class _Raw:
    def __init__(self, body: bytes):
        self._body = body

    def stream(self, **_):
        yield self._body


def _inject(client, operation: str, status: int, body: dict, calls: list):
    def before_send(request, **_):
        calls.append(request.headers.get("X-Amz-Target", request.url))
        return AWSResponse(request.url, status, {"Content-Type": "application/x-amz-json-1.1"}, _Raw(json.dumps(body).encode()))

    client.meta.events.register(f"before-send.{client.meta.service_model.service_name.replace(' ', '-').lower()}.{operation}", before_send)


def test_throttling_is_retried_then_reported_on_that_check_only(aws, monkeypatch):
    config = _without_replication(PROD)
    outputs = seed_stack(config)
    clients = AwsClients(REGION)
    calls: list[str] = []
    _inject(clients.client("sagemaker"), "DescribeEndpoint", 400, {"__type": "ThrottlingException", "message": "Rate exceeded"}, calls)
    monkeypatch.setattr("botocore.endpoint.time.sleep", lambda seconds: None)  # botocore's backoff, not the test's
    results = verify(config, outputs, clients)
    assert len(calls) == 1 + 8  # the first attempt and 8 retries (botocore: max_attempts counts retries)
    errors = [r for r in results.values() if r.status == ERROR]
    assert {r.check for r in errors} == {"endpoint.status", "endpoint.kmsKey", "endpoint.dataCapture", "endpoint.autoscaling"}
    assert all("throttled on DescribeEndpoint after standard-mode retries (ThrottlingException)" in r.reason for r in errors)
    assert all(r.status in (PASS, SKIP) for r in results.values() if not r.check.startswith("endpoint."))


def test_permission_error_is_reported_on_that_check_only(aws):
    config = _without_replication(PROD)
    outputs = seed_stack(config)
    clients = AwsClients(REGION)
    calls: list[str] = []
    _inject(clients.client("eks"), "DescribeCluster", 403,
            {"__type": "AccessDeniedException", "message": "User is not authorized to perform: eks:DescribeCluster"}, calls)
    results = verify(config, outputs, clients)
    assert len(calls) == 1  # not retried
    errors = sorted(r.check for r in results.values() if r.status == ERROR)
    assert errors == ["cluster.logging", "cluster.secretsEncryption", "cluster.status", "cluster.version"]
    assert "permission denied for DescribeCluster (AccessDeniedException)" in results[("cluster.status", "cluster.status")].reason
    assert all(r.status in (PASS, SKIP) for r in results.values() if not r.check.startswith("cluster."))


# --- CLI: output, exit codes and bad input ----------------------------------------------------


def run_cli(args, capsys, stdin_text=None, monkeypatch=None):
    if stdin_text is not None:
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin_text))
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_json_and_exit_codes(aws, capsys, monkeypatch, tmp_path):
    config = load_config(load_stack_file("staging"))
    outputs = seed_stack(config, Seed(autoscaling_min=1))
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps(outputs))
    code, out, err = run_cli(["verify", "--stack", "staging", "--outputs", str(path), "--format", "json"], capsys)
    document = json.loads(out)
    assert (code, err, document["ok"]) == (0, "", True), out
    assert document["summary"] == {"pass": 4 + 4 + 2 * 5 + 4, "fail": 0, "error": 0, "skip": 1}
    assert set(document["checks"][0]) == {"check", "resource", "status", "reason"}

    import boto3

    boto3.client("s3", region_name=REGION).put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Suspended"})
    code, out, _ = run_cli(["verify", "--stack", "staging"], capsys, json.dumps(outputs), monkeypatch)
    assert code == 1
    assert "FAIL  artifactStore.versioning" in out and f"s3://{BUCKET}: versioning is Suspended, want Enabled" in out
    assert out.rstrip().endswith("21 passed, 1 failed, 0 errors, 1 skipped")


def test_absent_sections_are_skipped_with_a_note(aws, capsys, monkeypatch):
    code, out, _ = run_cli(["verify", "--stack", "dev", "--outputs", "-"], capsys, json.dumps({"network": {"vpcId": "vpc-1"}}), monkeypatch)
    assert code == 0
    for section in ("artifactStore", "cluster", "endpoints"):
        assert f"SKIP  {section}" in out and f"no '{section}' section in the stack outputs" in out


@pytest.mark.parametrize(("args", "stdin", "message"), [
    (["verify", "--stack", "qa"], "{}", "error: stacks/Pulumi.qa.yaml: no such stack 'qa' in stacks; available stacks: dev, prod, staging"),
    (["verify", "--stack", "dev"], "{not json", "error: outputs (stdin): not valid JSON: Expecting property name enclosed in double quotes at line 1 column 2"),
    (["verify", "--stack", "dev"], "[1, 2]", "error: outputs (stdin): must be a JSON object (pulumi stack output --json), got list"),
    (["verify", "--stack", "dev"], '{"artifactStore": {"kmsKeyArn": "k"}}', "error: outputs: artifactStore.bucketName: missing or not a str"),
    (["verify", "--stack", "dev"], '{"endpoints": {"a": 1}}', "error: outputs: endpoints: must map each endpoint to an object with a string 'name'"),
    (["verify", "--stack", "dev", "--outputs", "/nonexistent/outputs.json"], "", "error: --outputs /nonexistent/outputs.json: No such file or directory"),
    (["verify"], "", "mlopsctl verify: error: the following arguments are required: --stack"),
])
def test_bad_input_is_one_line_and_exit_2(aws, capsys, monkeypatch, args, stdin, message):
    code, out, err = run_cli(args, capsys, stdin, monkeypatch) if args != ["verify"] else _argparse_exit(args, capsys)
    assert (code, out) == (2, "")
    assert err.strip() == message
    assert "Traceback" not in err


def _argparse_exit(args, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(args)
    out, err = capsys.readouterr()
    return exit_info.value.code, out, err


def test_missing_region_in_stack_file_is_bad_input(aws, capsys, monkeypatch, tmp_path):
    text = (load_stack_file("dev").path).read_text().replace("  aws:region: us-east-1\n", "")
    (tmp_path / "Pulumi.dev.yaml").write_text(text)
    code, out, err = run_cli(["verify", "--stack", "dev", "--stacks-dir", str(tmp_path)], capsys, "{}", monkeypatch)
    assert (code, out) == (2, "")
    assert err.strip() == f"error: {tmp_path}/Pulumi.dev.yaml: aws:region: required key is missing (set the AWS region, e.g. us-east-1)"
