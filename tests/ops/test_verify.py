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
- moto's CodeBuild has no webhooks: the runner project's webhook is set on moto's backend object.

What verify refuses before any check (whose stack, which sections, credentials) is in
test_verify_inputs.py.
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from botocore.stub import Stubber
from moto.eks.models import eks_backends
from moto.sagemaker.models import sagemaker_backends

from mlopsctl.offline.preview import load_config
from mlopsctl.offline.stackfile import load_stack_file
from mlopsctl.ops.awsclients import AwsClients
from mlopsctl.ops.verify import ERROR, FAIL, PASS, SKIP, Verifier
from mlopsctl.ops.verify.serving import verify_endpoints
from mlopsctl.ops.verify.storage import verify_replication
from tests.support.aws_errors import answer_with_error
from tests.support.aws_seed import (
    ACCOUNT,
    BUCKET,
    CLUSTER,
    ENDPOINT,
    MODELS,
    PREBUILT_REGISTRY,
    REGION,
    REPLICA,
    Seed,
    moto_account,
    seed_stack,
)

PROD = load_config(load_stack_file("prod"))


def _without_replication(config):
    storage = config.storage.model_copy(update={"replication": config.storage.replication.model_copy(update={"enabled": False})})
    return config.model_copy(update={"storage": storage})


@pytest.fixture
def aws(monkeypatch):
    with moto_account(monkeypatch, REGION):
        yield


# Checks made once per subscription or alarm: keyed by their resource.
PER_RESOURCE = ("alerts.subscription", "alarm.actions")


def _key(r):
    if r.check.startswith("nodegroup"):
        return r.check, r.resource.split(" (")[-1].rstrip(")")
    return r.check, r.resource if r.check in PER_RESOURCE else r.check


def verify(config, outputs, clients=None):
    results = Verifier(config, outputs, clients or AwsClients(config.region)).run()
    keyed = {_key(r): r for r in results}
    assert len(keyed) == len(results), [(r.check, r.resource) for r in results]
    return keyed


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
    # store 4 + replication; network 4; cluster 4; 3 node groups x 5; runner 4; one endpoint x 5;
    # 2 subscriptions; alarms present + 2 of the endpoint's one variant + the dead-letter queue's; connection and queue;
    # the churn pipeline's status, role, guard, schedule, drift trigger and last execution (prod tracks no experiments)
    assert len(results) == 4 + 1 + 4 + 4 + 3 * 5 + 4 + 5 + 2 + 1 + 3 + 2 + 6
    assert {r.check.split(".")[0] for r in results.values()} == {"artifactStore", "network", "cluster", "nodegroup", "ciRunner", "endpoint",
                                                                 "alerts", "alarm", "promotion", "pipeline"}
    assert results[("endpoint.model", "endpoint.model")].reason == f"primary serves {PROD.serving.endpoints[0].model.model_package_arn}"


OTHER_CONNECTION = f"arn:aws:codeconnections:{REGION}:{ACCOUNT}:connection/99999999-1111-4a6b-9c3d-7e8f90a1b2c3"

# One test per check, each failing for its own reason and only that check failing.
CASES = [
    ("artifactStore.encryption", Seed(bucket_key_enabled=False), "S3 bucket key is off", None),
    ("artifactStore.kmsKey", Seed(use_other_key=True), "want arn:aws:kms:", None),
    ("artifactStore.versioning", Seed(versioning="Suspended"), "versioning is Suspended, want Enabled", None),
    ("artifactStore.publicAccessBlock", Seed(public_access_block={"BlockPublicAcls": True, "IgnorePublicAcls": True,
                                                                   "BlockPublicPolicy": True, "RestrictPublicBuckets": False}),
     "public access block off: RestrictPublicBuckets", None),
    ("network.vpc", Seed(vpc_cidr="10.99.0.0/16"), "CIDR 10.99.0.0/16, config says 10.30.0.0/16", None),
    ("network.privateSubnets", Seed(private_subnets=2), "2 private subnet(s) in 2 zone(s) (us-east-1a, us-east-1b); config says azCount 3", None),
    ("network.natGateways", Seed(nat_gateways=1), "1 available NAT gateway(s); config natGateways perAz wants 3", None),
    ("network.flowLog", Seed(flow_log=False), "no active flow log of ALL traffic (flow logs: none)", None),
    ("ciRunner.source", Seed(runner_connection=OTHER_CONNECTION),
     f"source auth is CODECONNECTIONS {OTHER_CONNECTION}, config says CODECONNECTIONS {PROD.ci_runner.connection_arn}", None),
    ("ciRunner.webhook", Seed(runner_webhook=False), "the project has no webhook; config sets ciRunner.webhook: true", None),
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
    outputs["training"]["pipelines"] = {}  # the stated endpoint below has no training
    stated = config.model_copy(update={"serving": SimpleNamespace(data_capture_by_default=True, endpoints=[
        {"name": "churn", "model": {"modelPackageArn": config.serving.endpoints[0].model.model_package_arn},
         "instance": {"minCount": 2, "maxCount": 6}, "dataCapture": {"enabled": True}}])})
    assert_only_failure(verify(stated, outputs), "endpoint.autoscaling", "bounds 2-8, config says 2-6")


def test_data_capture_must_go_to_the_endpoints_prefix(aws):
    config = _without_replication(PROD)
    outputs = seed_stack(config)
    outputs["endpoints"]["churn"]["name"] = ENDPOINT
    outputs["artifactStore"]["prefixes"]["dataCapture"] = "capture/"
    assert_only_failure(verify(config, outputs), "endpoint.dataCapture", f"want s3://{BUCKET}/capture/{ENDPOINT}/")


def test_endpoint_declared_but_missing_and_one_the_config_lacks(aws):
    config = _without_replication(PROD)
    outputs = seed_stack(config)
    outputs["endpoints"] = {"fraud": outputs["endpoints"].pop("churn")}
    results = Verifier(config, outputs, AwsClients(config.region)).run()
    failing = [(r.check, r.resource, r.reason) for r in results if r.status == FAIL]
    assert failing == [("endpoint.present", "endpoint churn", "serving.endpoints declares 'churn'; the outputs' endpoints have no 'churn'"),
                       ("endpoint.present", f"sagemaker endpoint {ENDPOINT}",
                        "endpoint 'fraud' is in the outputs but not in the stack config's serving.endpoints")]


# --- the in-VPC runner ---------------------------------------------------------------------------

RUNNER = "mlops-prod-gha-runner"


def test_runner_project_missing_fails_every_runner_check(aws):
    config = _without_replication(PROD)
    results = verify(config, seed_stack(config, Seed(runner=False)))
    failing = [(r.check, r.reason) for r in results.values() if r.status in (FAIL, ERROR)]
    assert failing == [("ciRunner.project", f"no CodeBuild project {RUNNER} in us-east-1")] + [
        (check, f"no CodeBuild project {RUNNER}") for check in ("ciRunner.source", "ciRunner.vpc", "ciRunner.webhook")]


def test_runner_outside_its_security_group_or_subnets(aws):
    config = _without_replication(PROD)
    outputs = seed_stack(config)
    group = outputs["ciRunner"]["securityGroupId"]
    outputs["ciRunner"]["securityGroupId"] = "sg-0123456789abcdef0"
    outputs["network"]["privateSubnetIds"] = outputs["network"]["privateSubnetIds"][:2]
    [bad] = [r for r in verify(config, outputs).values() if r.check == "ciRunner.vpc"]
    assert bad.status == FAIL
    assert bad.reason.startswith(f"security groups ['{group}'] lack the runner's sg-0123456789abcdef0; subnets subnet-")
    assert bad.reason.endswith("are not the private subnets")


def test_runner_webhook_must_be_limited_to_the_configured_actors(aws):
    from moto.codebuild.models import codebuild_backends

    config = _without_replication(PROD)
    outputs = seed_stack(config)
    webhook = codebuild_backends[ACCOUNT][REGION].codebuild_projects[RUNNER].project_metadata["webhook"]
    webhook["filterGroups"] = [[{"type": "EVENT", "pattern": "WORKFLOW_JOB_QUEUED"}]]  # any actor, forks included
    assert_only_failure(verify(config, outputs), "ciRunner.webhook",
                        "no webhook filter group of WORKFLOW_JOB_QUEUED limited to ACTOR_ACCOUNT_ID ^(1234567|7654321)$")


def test_runner_without_webhook_in_config_skips_the_webhook_check(aws):
    config = _without_replication(PROD)
    no_webhook = config.model_copy(update={"ci_runner": config.ci_runner.model_copy(update={"webhook": False})})
    results = verify(no_webhook, seed_stack(no_webhook))
    [webhook] = by_check(results, "ciRunner.webhook")
    assert (webhook.status, webhook.reason) == (SKIP, "ciRunner.webhook is false: no webhook to check")
    assert {r.status for r in results.values() if r.check.startswith("ciRunner.") and r.check != "ciRunner.webhook"} == {PASS}


def test_stack_without_a_runner_connection_checks_no_runner(aws):
    config = _without_replication(PROD)
    outputs = seed_stack(config)
    bare = config.model_copy(update={"ci_runner": config.ci_runner.model_copy(update={"connection_arn": None, "webhook": False})})
    results = verify(bare, outputs)
    assert [(r.check, r.status) for r in results.values() if r.check.startswith("ciRunner")] == [("ciRunner", SKIP)]
    assert "ciRunner.connectionArn is not set" in results[("ciRunner", "ciRunner")].reason


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
    store = {"bucketName": BUCKET, "bucketArn": f"arn:aws:s3:::{BUCKET}", "kmsKeyArn": "k", "replicaBucketName": REPLICA,
             "replicaRegion": "us-west-2"}
    verifier = Verifier(PROD, {"environment": "prod", "region": REGION, "artifactStore": store}, clients)
    return verifier, store, primary_stub, replica_stub


@pytest.mark.parametrize(("rules", "replica_versioning", "passed", "reason"), [
    ([_replication_rule()], "Enabled", True, f"replicates SSE-KMS objects to {REPLICA} in us-west-2"),
    ([_replication_rule()], "Suspended", False, f"replica bucket {REPLICA} versioning is Suspended"),
    ([_replication_rule("elsewhere-bucket")], None, False, f"no enabled replication rule to arn:aws:s3:::{REPLICA}"),
])
def test_replication_paths_with_stubber(aws, rules, replica_versioning, passed, reason):
    verifier, store, primary_stub, replica_stub = _stubbed_replication_verifier(rules, replica_versioning)
    with primary_stub, replica_stub:
        ok, why = verify_replication(verifier, store, "us-west-2")
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
    stub.add_response("describe_model", {
        "ModelName": "m", "ModelArn": f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:model/m", "CreationTime": "2026-11-22T00:00:00Z",
        "PrimaryContainer": {"ModelPackageName": PROD.serving.endpoints[0].model.model_package_arn}}, {"ModelName": "m"})
    autoscaling = clients.client("application-autoscaling")
    scaling_stub = Stubber(autoscaling)
    scaling_stub.add_response("describe_scalable_targets", {"ScalableTargets": [{
        "ServiceNamespace": "sagemaker", "ResourceId": "endpoint/gpu/variant/primary", "ScalableDimension": "sagemaker:variant:DesiredInstanceCount",
        "MinCapacity": 2, "MaxCapacity": 8, "RoleARN": f"arn:aws:iam::{ACCOUNT}:role/aas", "CreationTime": "2026-11-22T00:00:00Z"}]},
        {"ServiceNamespace": "sagemaker", "ResourceIds": ["endpoint/gpu/variant/primary"], "ScalableDimension": "sagemaker:variant:DesiredInstanceCount"})
    outputs = {"environment": "prod", "region": REGION, "artifactStore": {"bucketName": BUCKET, "kmsKeyArn": key},
               "endpoints": {"churn": {"name": "gpu"}}}
    verifier = Verifier(PROD, outputs, clients)
    with stub, scaling_stub:
        verify_endpoints(verifier, outputs["endpoints"], outputs["artifactStore"])
    stub.assert_no_pending_responses()
    scaling_stub.assert_no_pending_responses()
    assert [(r.check, r.status) for r in verifier.results] == [
        ("endpoint.status", PASS), ("endpoint.kmsKey", SKIP), ("endpoint.dataCapture", PASS), ("endpoint.autoscaling", PASS),
        ("endpoint.model", PASS)]
    assert "local-NVMe" in verifier.results[1].reason


def test_serverless_endpoint_wants_the_key_skips_autoscaling_and_wants_no_capture(aws):
    dev = load_config(load_stack_file("dev"))
    outputs = seed_stack(dev, Seed(autoscaling_min=None, data_capture=False, endpoint_kms=False))
    import boto3

    sagemaker = boto3.client("sagemaker", region_name=REGION)
    sagemaker.create_endpoint_config(EndpointConfigName="serverless-cfg", KmsKeyId=outputs["artifactStore"]["kmsKeyArn"], ProductionVariants=[{
        "VariantName": "primary", "ModelName": MODELS["primary"], "ServerlessConfig": {"MemorySizeInMB": 2048, "MaxConcurrency": 5}}])
    sagemaker.delete_endpoint(EndpointName=ENDPOINT)  # moto lacks UpdateEndpoint; recreate on the new config
    sagemaker.create_endpoint(EndpointName=ENDPOINT, EndpointConfigName="serverless-cfg")
    results = verify(dev, outputs)
    endpoint = {r.check: r for r in results.values() if r.check.startswith("endpoint.")}
    assert {c: r.status for c, r in endpoint.items()} == {"endpoint.status": PASS, "endpoint.kmsKey": PASS,
                                                           "endpoint.dataCapture": PASS, "endpoint.autoscaling": SKIP, "endpoint.model": PASS}
    assert "serverless scales itself" in endpoint["endpoint.autoscaling"].reason
    # dev's model is a prebuilt image with model data: no package to compare, and the line says what was compared instead
    assert endpoint["endpoint.model"].reason == (
        f"primary serves prebuilt image {PREBUILT_REGISTRY}/sagemaker-scikit-learn:1.2-1-cpu-py3 with model data "
        f"s3://{BUCKET}/models/churn/v7/model.tar.gz (no model package to compare: the image and model data are checked instead)")


# --- AWS errors are per check -----------------------------------------------------------------


def test_throttling_is_retried_then_reported_on_that_check_only(aws, monkeypatch):
    config = _without_replication(PROD)
    outputs = seed_stack(config)
    clients = AwsClients(REGION)
    calls: list[str] = []
    answer_with_error(clients.client("sagemaker"), "DescribeEndpoint", 400, "ThrottlingException", "Rate exceeded", calls, retried=True)
    monkeypatch.setattr("botocore.endpoint.time.sleep", lambda seconds: None)  # botocore's backoff, not the test's
    results = verify(config, outputs, clients)
    assert len(calls) == 1 + 8  # the first attempt and 8 retries (botocore: max_attempts counts retries)
    errors = [r for r in results.values() if r.status == ERROR]
    assert {r.check for r in errors} == {"endpoint.status", "endpoint.kmsKey", "endpoint.dataCapture", "endpoint.autoscaling", "endpoint.model"}
    assert all("throttled on DescribeEndpoint after standard-mode retries (ThrottlingException)" in r.reason for r in errors)
    assert all(r.status in (PASS, SKIP) for r in results.values() if not r.check.startswith("endpoint."))


def test_permission_error_is_reported_on_that_check_only(aws):
    config = _without_replication(PROD)
    outputs = seed_stack(config)
    clients = AwsClients(REGION)
    calls: list[str] = []
    answer_with_error(clients.client("eks"), "DescribeCluster", 403, "AccessDeniedException",
                      "User is not authorized to perform: eks:DescribeCluster", calls)
    results = verify(config, outputs, clients)
    assert len(calls) == 1  # not retried
    errors = sorted(r.check for r in results.values() if r.status == ERROR)
    assert errors == ["cluster.logging", "cluster.secretsEncryption", "cluster.status", "cluster.version"]
    assert "permission denied for DescribeCluster (AccessDeniedException)" in results[("cluster.status", "cluster.status")].reason
    assert all(r.status in (PASS, SKIP) for r in results.values() if not r.check.startswith("cluster."))
