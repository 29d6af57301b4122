"""SageMaker serving under mocks: what the engine would receive for models, endpoint configs,
endpoints, alarms, autoscaling, IAM, registry and drift monitoring.

Components run with the real ArtifactStore (its grants are what the roles get), literal KMS,
subnet and VPC ids, and an explicit provider, the way MlopsPlatform wires them.
"""

from __future__ import annotations

import dataclasses
import json
import re
from functools import cache

import pulumi
import pulumi_aws as aws
import pytest

from components import facts
from components.config import PlatformConfig, parse_platform_config
from components.iam.peers import promotion_peers
from components.images import ImageRepositories, ImageRepositoriesArgs
from components.keys import PlatformKey
from components.scope import scope_for
from components.serving import Serving, ServingArgs
from components.storage import ArtifactStore, ArtifactStoreArgs
from mlopsctl.offline.harness import ACCOUNT_ID
from mlopsctl.offline.wire import UNKNOWN
from mlopsctl.ops.bootstrap.documents import boundary_policy
from mlopsctl.ops.bootstrap.names import Names
from tests.support.iam_eval import is_allowed, kms_is_allowed
from tests.support.programs import run_component
from tests.support.stacks import STACK_ACCOUNTS, stack_config, stack_preview, stack_raw_config

KMS = f"arn:aws:kms:us-east-1:{ACCOUNT_ID}:key/11111111-2222-3333-4444-555555555555"
SUBNETS = ["subnet-0aaa1111", "subnet-0bbb2222"]
VPC_ID = "vpc-0123abcd"
BOUNDARY = f"arn:aws:iam::{ACCOUNT_ID}:policy/platform-boundary"
ALERT_TOPIC = f"arn:aws:sns:us-east-1:{ACCOUNT_ID}:mlops-test-alerts"

ENDPOINT = "aws:sagemaker/endpoint:Endpoint"
ENDPOINT_CONFIG = "aws:sagemaker/endpointConfiguration:EndpointConfiguration"
MODEL = "aws:sagemaker/model:Model"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
TARGET = "aws:appautoscaling/target:Target"
POLICY = "aws:appautoscaling/policy:Policy"
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
PREBUILT_INVOKE = "aws:sagemaker/getPrebuiltEcrImage:getPrebuiltEcrImage"


def run_serving(config: PlatformConfig, *, unknowns: bool = False):
    def program():
        provider = aws.Provider("aws", region=config.region)
        opts = pulumi.ResourceOptions(providers={"aws": provider})
        scope = scope_for(config, account_id=ACCOUNT_ID)
        # The stack's promotion peers, as MlopsPlatform passes them.
        shared_with, promoted_from = promotion_peers(config, scope)
        store = ArtifactStore("store", ArtifactStoreArgs(config=config.storage, scope=scope, key=PlatformKey(KMS)), opts=opts)
        images = ImageRepositories(
            "images",
            ImageRepositoriesArgs(config=config.images, scope=scope, key=PlatformKey(KMS), name_prefix=config.name_prefix, environment=config.environment),
            opts=opts,
        )
        Serving(
            "serving",
            ServingArgs(
                config=config.serving,
                scope=dataclasses.replace(scope, permissions_boundary_arn=BOUNDARY),
                store=store,
                key=PlatformKey(KMS),
                images=images,
                alarm_topic_arn=ALERT_TOPIC,
                subnet_ids=SUBNETS,
                vpc_id=VPC_ID,
                retain_registry=config.storage.protect,
                shared_with=shared_with,
                promoted_from=promoted_from,
            ),
            opts=opts,
        )
        # The nodes pull every repository, as in MlopsPlatform; then the repository policies.
        images.grant_pull(aws.iam.Role("nodes", assume_role_policy="{}", opts=opts))
        images.seal()

    return run_component(program, unknowns=unknowns)


@cache
def recording(stack: str):
    return run_serving(stack_config(stack))


def _bucket(rec) -> str:
    """Physical name of the artifact store's bucket."""
    return rec.one("aws:s3/bucket:Bucket", "store-bucket").id


def _role_arn(role, account: str = ACCOUNT_ID) -> str:
    return f"arn:aws:iam::{account}:role{role.inputs.get('path') or '/'}{role.id}"


def _with_endpoint(stack: str, **changes):
    """A stack's config with its first endpoint changed (camelCase keys, shallow)."""
    raw = stack_raw_config(stack)
    raw["serving"]["endpoints"][0].update(changes)
    return parse_platform_config(raw, "us-east-1", f"stacks/Pulumi.{stack}.yaml")


def _statements(rec, role) -> list[dict]:
    """Every statement of every inline policy attached to ``role`` (policies parsed from JSON)."""
    role_id = role.id
    statements = []
    for policy in rec.of_type(ROLE_POLICY):
        if policy.inputs["role"] == role_id:
            statements += json.loads(policy.inputs["policy"])["Statement"]
    return statements


def _resources(statements, action) -> list[str]:
    return sorted(r for s in statements if action in s["Action"] for r in s["Resource"])


# ---------------------------------------------------------------------------------------------
# Model and containers


def test_prebuilt_image_model_reads_model_data_from_the_models_prefix():
    rec = recording("dev")
    assert PREBUILT_INVOKE in rec.invokes
    model = rec.one(MODEL, "primary")
    container = model.inputs["primaryContainer"]
    # SageMaker's scikit-learn registry account in us-east-1, as the provider's data source resolves it.
    assert container["image"] == "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3"
    assert container["modelDataUrl"] == f"s3://{_bucket(rec)}/models/churn/v7/model.tar.gz"
    assert "modelPackageName" not in container
    assert model.inputs["executionRoleArn"] == _role_arn(rec.one(ROLE, "execution"))
    assert model.inputs["enableNetworkIsolation"] is False and "vpcConfig" not in model.inputs
    assert model.propertyDependencies["executionRoleArn"] == [rec.one(ROLE, "execution").urn]


def test_model_package_models_run_isolated_in_the_private_subnets_with_their_own_security_group():
    rec = recording("staging")
    primary, challenger = rec.one(MODEL, "churn-primary"), rec.one(MODEL, "churn-challenger")
    assert primary.inputs["primaryContainer"] == {"modelPackageName": "arn:aws:sagemaker:us-east-1:210987654321:model-package/churn/7"}
    assert challenger.inputs["primaryContainer"] == {"modelPackageName": "arn:aws:sagemaker:us-east-1:210987654321:model-package/churn/8"}
    group = rec.one("aws:ec2/securityGroup:SecurityGroup", "churn-model")
    assert group.inputs["vpcId"] == VPC_ID
    for model in (primary, challenger):
        assert model.inputs["enableNetworkIsolation"] is True
        assert model.inputs["vpcConfig"] == {"subnets": SUBNETS, "securityGroupIds": [group.id]}
    egress = rec.one("aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule", "churn-model-https")
    assert (egress.inputs["ipProtocol"], egress.inputs["fromPort"], egress.inputs["toPort"]) == ("tcp", 443, 443)
    assert not rec.of_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
    assert PREBUILT_INVOKE not in rec.invokes


def test_ecr_image_model_pulls_only_from_its_repository():
    image = f"{ACCOUNT_ID}.dkr.ecr.us-east-1.amazonaws.com/teams/churn@sha256:{'a' * 64}"
    rec = run_serving(_with_endpoint("dev", model={"image": image, "modelDataKey": "models/churn/v8/model.tar.gz"}))
    assert rec.one(MODEL, "primary").inputs["primaryContainer"]["image"] == image
    statements = _statements(rec, rec.one(ROLE, "execution"))
    assert _resources(statements, "ecr:BatchGetImage") == [f"arn:aws:ecr:us-east-1:{ACCOUNT_ID}:repository/teams/churn"]
    assert _resources(statements, "ecr:GetAuthorizationToken") == ["*"]  # the action names no resource


def _pull_statements(rec):
    statements = _statements(rec, rec.one(ROLE, "execution"))
    return [s for s in statements if s["Action"] == ["ecr:GetAuthorizationToken"] or "ecr:BatchGetImage" in s["Action"]]


def _serving_repository(account: str, stack: str, prefix: str = "mlops") -> str:
    return f"arn:aws:ecr:us-east-1:{account}:repository/{prefix}-{stack}/serve"


def test_model_package_models_pull_only_from_the_stacks_serving_repositories():
    """A model package names its image and no data source reads it at program time, so the pull
    scope is exactly the stack's serving repositories (images.grant_pull), never a wildcard."""
    rec = run_serving(stack_config("staging", namePrefix="acme"))
    assert {m.inputs["primaryContainer"]["modelPackageName"].rsplit("/", 1)[-1] for m in rec.of_type(MODEL)} == {"7", "8"}
    # Registration order of the two policies varies: compared in Sid order.
    assert sorted(_pull_statements(rec), key=lambda s: s["Sid"]) == [
        # GetAuthorizationToken supports no resource-level permissions; the runtime policy and the
        # grant (a whole grant on its own) each carry it.
        {"Sid": "EcrLogin", "Effect": "Allow", "Action": ["ecr:GetAuthorizationToken"], "Resource": ["*"]},
        {"Sid": "EcrLogin", "Effect": "Allow", "Action": ["ecr:GetAuthorizationToken"], "Resource": ["*"]},
        {
            "Sid": "PullPlatformImages",
            "Effect": "Allow",
            "Action": ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
            "Resource": [_serving_repository(ACCOUNT_ID, "staging", "acme")],
        },
    ]


def test_an_image_of_a_serving_repository_is_pulled_through_the_grant_not_by_its_uri():
    image = f"{ACCOUNT_ID}.dkr.ecr.us-east-1.amazonaws.com/mlops-dev/serve:v8"
    rec = run_serving(_with_endpoint("dev", model={"image": image, "modelDataKey": "models/churn/v8/model.tar.gz"}))
    statements = _statements(rec, rec.one(ROLE, "execution"))
    assert _resources(statements, "ecr:BatchGetImage") == [_serving_repository(ACCOUNT_ID, "dev")]
    assert [s["Sid"] for s in statements if "ecr:BatchGetImage" in s["Action"]] == ["PullPlatformImages"]


@pytest.mark.parametrize(("stack", "registry"), [("staging", "staging"), ("prod", "staging")])
def test_whole_stack_model_package_endpoints_pull_from_the_serving_repository_of_the_packages_registry(stack, registry):
    """Staging runs its own packages; prod runs staging's (promotion.promotedFrom), whose image is in staging's repository."""
    rec = stack_preview(stack).recording
    [role] = [r for r in rec.of_type(ROLE) if r.name == f"mlops-{stack}-churn-execution-role"]
    assert _resources(_statements(rec, role), "ecr:BatchGetImage") == [_serving_repository(STACK_ACCOUNTS[registry], registry)]


def test_model_package_pull_scope_under_the_iam_evaluator():
    rec = run_serving(stack_config("staging", namePrefix="acme"))
    role = rec.one(ROLE, "execution")
    documents = [json.loads(p.inputs["policy"]) for p in rec.of_type(ROLE_POLICY) if p.inputs["role"] == role.id]
    registry = f"arn:aws:ecr:us-east-1:{ACCOUNT_ID}:repository"
    for action in ("ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"):
        assert is_allowed(documents, None, action, f"{registry}/acme-staging/serve"), action
        assert not is_allowed(documents, None, action, f"{registry}/acme-staging/train"), action  # training images are the nodes'
        assert not is_allowed(documents, None, action, f"{registry}/acme-staging/serve/other"), action
        assert not is_allowed(documents, None, action, f"{registry}/acme/model"), action
        assert not is_allowed(documents, None, action, "arn:aws:ecr:us-east-1:999999999999:repository/acme-staging/serve"), action
        assert not is_allowed(documents, None, action, f"arn:aws:ecr:eu-west-1:{ACCOUNT_ID}:repository/acme-staging/serve"), action
    assert is_allowed(documents, None, "ecr:GetAuthorizationToken", "*")
    assert not is_allowed(documents, None, "ecr:PutImage", f"{registry}/acme-staging/serve")


# ---------------------------------------------------------------------------------------------
# Packages of the previous environment's registry (promotion.promotedFrom)

STAGING_ACCOUNT, PROD_ACCOUNT = STACK_ACCOUNTS["staging"], STACK_ACCOUNTS["prod"]
STAGING_PACKAGE = f"arn:aws:sagemaker:us-east-1:{STAGING_ACCOUNT}:model-package/churn/7"
PROD_PACKAGE = f"arn:aws:sagemaker:us-east-1:{PROD_ACCOUNT}:model-package/churn/3"
PROMOTED_FROM_STATEMENTS = [
    # Bucket ARNs name no account: staging's bucket by its name prefix, in staging's account only.
    {"Sid": "ReadPromotedFromModels", "Effect": "Allow", "Action": ["s3:GetObject"], "Resource": ["arn:aws:s3:::mlops-staging-artifacts-*/models/*"],
     "Condition": {"StringEquals": {"s3:ResourceAccount": STAGING_ACCOUNT}}},
    {"Sid": "DecryptPromotedFromModelsThroughS3", "Effect": "Allow", "Action": ["kms:Decrypt"], "Resource": [f"arn:aws:kms:us-east-1:{STAGING_ACCOUNT}:key/*"],
     "Condition": {"StringEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com"}, "StringLike": {"kms:EncryptionContext:aws:s3:arn": "arn:aws:s3:::mlops-staging-artifacts-*"}}},
    # staging's repositories of the names of prod's serving repositories.
    {"Sid": "PullPromotedFromImages", "Effect": "Allow", "Action": ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
     "Resource": [_serving_repository(STAGING_ACCOUNT, "staging")]},
]


def _prod_serving(**model_sources):
    """prod's config with its endpoint's primary (``model``) and optionally a challenger running the given packages."""
    raw = stack_raw_config("prod")
    endpoint = raw["serving"]["endpoints"][0]
    endpoint["model"] = {"modelPackageArn": model_sources["model"]}
    if "challenger" in model_sources:
        endpoint["instance"]["challenger"] = {"instanceType": "ml.m5.xlarge", "minCount": 2, "initialCount": 2, "maxCount": 4, "trafficPercent": 10,
                                              "model": {"modelPackageArn": model_sources["challenger"]}}
    return run_serving(parse_platform_config(raw, "us-east-1", "stacks/Pulumi.prod.yaml"))


def test_a_stack_that_promotes_shares_each_model_package_group_with_the_next_environments_roles():
    rec = recording("staging")
    [policy] = rec.of_type("aws:sagemaker/modelPackageGroupPolicy:ModelPackageGroupPolicy")
    group = rec.one("aws:sagemaker/modelPackageGroup:ModelPackageGroup")
    assert policy.inputs["modelPackageGroupName"] == "churn" and policy.propertyDependencies["modelPackageGroupName"] == [group.urn]
    assert policy.deleteBeforeReplace is True  # one per group: a replacement put first would be deleted with the old one
    assert policy.parent == rec.one("mlops:serving:ModelRegistry").urn
    readers = {"ArnLike": {"aws:PrincipalArn": [f"arn:aws:iam::{PROD_ACCOUNT}:role/mlops-deploy-prod", f"arn:aws:iam::{PROD_ACCOUNT}:role/mlops-preview-prod",
                                                f"arn:aws:iam::{PROD_ACCOUNT}:role/mlops-prod/serving/*"]}}
    assert json.loads(policy.inputs["resourcePolicy"]) == {"Version": "2012-10-17", "Statement": [
        {"Sid": "PromotedToDescribesTheGroup", "Effect": "Allow", "Principal": {"AWS": [f"arn:aws:iam::{PROD_ACCOUNT}:root"]},
         "Action": ["sagemaker:DescribeModelPackageGroup"], "Resource": [f"arn:aws:sagemaker:us-east-1:{ACCOUNT_ID}:model-package-group/churn"], "Condition": readers},
        # Never UpdateModelPackage: approving a version stays with staging's reviewers.
        {"Sid": "PromotedToReadsAndDeploysVersions", "Effect": "Allow", "Principal": {"AWS": [f"arn:aws:iam::{PROD_ACCOUNT}:root"]},
         "Action": ["sagemaker:CreateModel", "sagemaker:DescribeModelPackage", "sagemaker:ListModelPackages"],
         "Resource": [f"arn:aws:sagemaker:us-east-1:{ACCOUNT_ID}:model-package/churn/*"], "Condition": readers},
    ]}
    # A stack that promotes to none shares nothing.
    for stack in ("dev", "prod"):
        assert recording(stack).of_type("aws:sagemaker/modelPackageGroupPolicy:ModelPackageGroupPolicy") == [], stack


def test_every_endpoint_execution_role_is_under_the_stacks_serving_path():
    for stack in ("dev", "staging", "prod"):
        role = recording(stack).one(ROLE, "execution")
        assert role.inputs["path"] == f"/mlops-{stack}/serving/", stack
    # Nothing else of the platform is: the pattern that shares staging's models matches endpoint roles only.
    others = [r.name for r in stack_preview("prod").recording.of_type(ROLE) if r.inputs.get("path") and "execution" not in r.name]
    assert others == []


def test_an_endpoint_running_a_package_of_stagings_registry_reads_its_models_key_and_images_there():
    rec = _prod_serving(model=STAGING_PACKAGE)
    role = rec.one(ROLE, "execution")
    [shared] = [p for p in rec.of_type(ROLE_POLICY) if p.name == "mlops-prod-churn-execution-promoted-from"]
    assert shared.inputs["role"] == role.id and shared.parent == rec.one("mlops:serving:ExecutionRole").urn
    assert json.loads(shared.inputs["policy"])["Statement"] == PROMOTED_FROM_STATEMENTS
    assert rec.one(MODEL, "primary").inputs["primaryContainer"] == {"modelPackageName": STAGING_PACKAGE}
    # prod's own serving repositories hold nothing this endpoint runs: no grant on them.
    assert _resources(_statements(rec, role), "ecr:BatchGetImage") == [_serving_repository(STAGING_ACCOUNT, "staging")]
    # The models wait for the shared policy too.
    assert shared.urn in rec.one(MODEL, "primary").dependencies


def test_only_an_endpoint_that_runs_a_package_of_stagings_registry_reads_there():
    own = _prod_serving(model=PROD_PACKAGE)
    assert [p.name for p in own.of_type(ROLE_POLICY) if "promoted-from" in p.name] == []
    assert _resources(_statements(own, own.one(ROLE, "execution")), "ecr:BatchGetImage") == [_serving_repository(ACCOUNT_ID, "prod")]
    # A challenger of staging's registry next to a primary of prod's own: both repositories, each exactly.
    mixed = _prod_serving(model=PROD_PACKAGE, challenger=STAGING_PACKAGE)
    statements = _statements(mixed, mixed.one(ROLE, "execution"))
    assert _resources(statements, "ecr:BatchGetImage") == sorted([_serving_repository(ACCOUNT_ID, "prod"), _serving_repository(STAGING_ACCOUNT, "staging")])
    assert [s for s in statements if "PromotedFrom" in s["Sid"]] == PROMOTED_FROM_STATEMENTS


# ---------------------------------------------------------------------------------------------
# Endpoint configuration


def test_instance_endpoint_config_is_encrypted_captures_data_and_keeps_stable_variant_names():
    rec = recording("staging")
    config = rec.one(ENDPOINT_CONFIG)
    assert config.inputs["kmsKeyArn"] == KMS
    capture = config.inputs["dataCaptureConfig"]
    assert capture["enableCapture"] is True
    assert capture["initialSamplingPercentage"] == 50
    assert capture["destinationS3Uri"] == f"s3://{_bucket(rec)}/data-capture/churn"
    assert capture["kmsKeyId"] == KMS
    assert [o["captureMode"] for o in capture["captureOptions"]] == ["Input", "Output"]
    variants = config.inputs["productionVariants"]
    assert [v["variantName"] for v in variants] == ["primary", "challenger"]
    assert [v["initialVariantWeight"] for v in variants] == [90, 10]
    assert [v["instanceType"] for v in variants] == ["ml.m5.large", "ml.m5.large"]
    assert variants[0]["modelName"] == rec.one(MODEL, "churn-primary").id
    assert variants[1]["modelName"] == rec.one(MODEL, "churn-challenger").id


def test_serverless_endpoint_config_has_memory_and_concurrency_but_no_capture():
    rec = recording("dev")
    config = rec.one(ENDPOINT_CONFIG)
    (variant,) = config.inputs["productionVariants"]
    assert variant["variantName"] == "primary"
    assert variant["serverlessConfig"] == {"memorySizeInMb": 2048, "maxConcurrency": 5}
    assert "instanceType" not in variant and "initialInstanceCount" not in variant
    assert "dataCaptureConfig" not in config.inputs
    # Serverless endpoint configs accept KmsKeyId (AWS docs: it encrypts the ECR image copy).
    assert config.inputs["kmsKeyArn"] == KMS
    assert not rec.of_type(TARGET) and not rec.of_type(POLICY)


def test_local_nvme_instances_get_no_kms_key_id_because_create_endpoint_config_rejects_it():
    instance = {"instanceType": "ml.g5.xlarge", "initialCount": 2, "minCount": 2, "maxCount": 4}
    rec = run_serving(_with_endpoint("prod", instance=instance))
    config = rec.one(ENDPOINT_CONFIG)
    assert facts.has_instance_storage("ml.g5.xlarge") and not facts.has_instance_storage("ml.m5.xlarge")
    assert "kmsKeyArn" not in config.inputs
    assert config.inputs["dataCaptureConfig"]["kmsKeyId"] == KMS  # captured data stays on the platform key


def test_endpoint_config_is_auto_named_from_a_prefix_and_replaced_before_delete():
    for stack in ("dev", "staging", "prod"):
        config = recording(stack).one(ENDPOINT_CONFIG)
        assert "name" not in config.inputs
        assert config.inputs["namePrefix"] == f"mlops-{stack}-churn-"
        assert config.deleteBeforeReplace is False
        endpoint = recording(stack).one(ENDPOINT)
        assert endpoint.inputs["endpointConfigName"] == config.id
        assert endpoint.inputs["endpointConfigName"].startswith(config.inputs["namePrefix"])
        assert endpoint.propertyDependencies["endpointConfigName"] == [config.urn]


# ---------------------------------------------------------------------------------------------
# Endpoint, deployment config and alarms


def test_endpoint_has_a_deterministic_name_and_canary_blue_green_with_rollback_on_its_alarms():
    rec = recording("staging")
    endpoint = rec.one(ENDPOINT)
    assert endpoint.inputs["name"] == "mlops-staging-churn"
    policy = endpoint.inputs["deploymentConfig"]["blueGreenUpdatePolicy"]
    assert policy["trafficRoutingConfiguration"] == {"type": "CANARY", "waitIntervalInSeconds": 300, "canarySize": {"type": "CAPACITY_PERCENT", "value": 20}}
    assert policy["terminationWaitInSeconds"] == 300
    alarms = rec.of_type(ALARM)
    rollback = [a["alarmName"] for a in endpoint.inputs["deploymentConfig"]["autoRollbackConfiguration"]["alarms"]]
    assert sorted(rollback) == sorted(a.id for a in alarms)
    assert len(rollback) == 4  # 5XX and latency for each of two variants
    assert set(endpoint.propertyDependencies["deploymentConfig"]) == {a.urn for a in alarms}


def test_linear_rollout_in_prod():
    endpoint = recording("prod").one(ENDPOINT)
    policy = endpoint.inputs["deploymentConfig"]["blueGreenUpdatePolicy"]
    assert policy["trafficRoutingConfiguration"] == {"type": "LINEAR", "waitIntervalInSeconds": 600, "linearStepSize": {"type": "CAPACITY_PERCENT", "value": 25}}
    assert policy["terminationWaitInSeconds"] == 900
    assert policy["maximumExecutionTimeoutInSeconds"] == 7200


def test_alarms_watch_5xx_and_model_latency_per_variant():
    rec = recording("staging")
    for variant in ("primary", "challenger"):
        errors = rec.one(ALARM, f"{variant}-server-errors")
        assert (errors.inputs["namespace"], errors.inputs["metricName"], errors.inputs["statistic"]) == ("AWS/SageMaker", "Invocation5XXErrors", "Sum")
        assert errors.inputs["dimensions"] == {"EndpointName": "mlops-staging-churn", "VariantName": variant}
        assert errors.inputs["threshold"] == 5
        assert errors.inputs["comparisonOperator"] == "GreaterThanOrEqualToThreshold"
        latency = rec.one(ALARM, f"{variant}-model-latency")
        assert (latency.inputs["metricName"], latency.inputs["extendedStatistic"], latency.inputs["unit"]) == ("ModelLatency", "p99", "Microseconds")
        assert "statistic" not in latency.inputs
        assert latency.inputs["threshold"] == 500 * 1000  # 500 ms in microseconds
        assert latency.inputs["dimensions"] == errors.inputs["dimensions"]
        for alarm in (errors, latency):
            assert alarm.inputs["period"] == 60 and alarm.inputs["evaluationPeriods"] == 3
            assert alarm.inputs["treatMissingData"] == "notBreaching"
            # People hear of a rollback alarm firing and of it clearing.
            assert alarm.inputs["alarmActions"] == [ALERT_TOPIC] and alarm.inputs["okActions"] == [ALERT_TOPIC]


# ---------------------------------------------------------------------------------------------
# Autoscaling


def test_each_instance_variant_has_a_scaling_target_and_target_tracking_policy():
    rec = recording("staging")
    endpoint = rec.one(ENDPOINT)
    expected = {"primary": (1, 3), "challenger": (1, 2)}
    for variant, (low, high) in expected.items():
        target = rec.one(TARGET, f"churn-{variant}-scaling")
        assert target.inputs["resourceId"] == f"endpoint/mlops-staging-churn/variant/{variant}"
        assert target.inputs["scalableDimension"] == "sagemaker:variant:DesiredInstanceCount"
        assert target.inputs["serviceNamespace"] == "sagemaker"
        assert (target.inputs["minCapacity"], target.inputs["maxCapacity"]) == (low, high)
        assert target.propertyDependencies["resourceId"] == [endpoint.urn]
        policy = rec.one(POLICY, f"churn-{variant}-invocations")
        assert policy.inputs["policyType"] == "TargetTrackingScaling"
        assert policy.inputs["resourceId"] == target.inputs["resourceId"]
        assert policy.propertyDependencies["resourceId"] == [target.urn]
        tracking = policy.inputs["targetTrackingScalingPolicyConfiguration"]
        assert tracking["predefinedMetricSpecification"] == {"predefinedMetricType": "SageMakerVariantInvocationsPerInstance"}
        assert tracking["targetValue"] == 200
        assert (tracking["scaleInCooldown"], tracking["scaleOutCooldown"]) == (600, 60)


def test_prod_scales_between_two_and_eight_on_demand_instances():
    rec = recording("prod")
    target = rec.one(TARGET)
    assert (target.inputs["minCapacity"], target.inputs["maxCapacity"]) == (2, 8)
    (variant,) = rec.one(ENDPOINT_CONFIG).inputs["productionVariants"]
    assert variant["initialInstanceCount"] >= 2
    assert "serverlessConfig" not in variant


# ---------------------------------------------------------------------------------------------
# IAM


def test_execution_role_is_trusted_by_sagemaker_for_this_account_only_and_bounded():
    role = recording("staging").one(ROLE, "execution")
    trust = json.loads(role.inputs["assumeRolePolicy"])["Statement"]
    assert trust == [
        {
            "Sid": "TrustService",
            "Effect": "Allow",
            "Principal": {"Service": ["sagemaker.amazonaws.com"]},
            "Action": ["sts:AssumeRole"],
            "Condition": {"StringEquals": {"aws:SourceAccount": ACCOUNT_ID}},
        }
    ]
    assert role.inputs["permissionsBoundary"] == BOUNDARY


def test_execution_role_reads_models_writes_its_capture_prefix_and_nothing_wider():
    rec = recording("staging")
    bucket_arn = f"arn:aws:s3:::{_bucket(rec)}"
    statements = _statements(rec, rec.one(ROLE, "execution"))
    assert _resources(statements, "s3:GetObject") == [f"{bucket_arn}/models/*"]
    assert _resources(statements, "s3:PutObject") == [f"{bucket_arn}/data-capture/churn/*"]
    listing = [s for s in statements if "s3:ListBucket" in s["Action"]]
    assert [s["Condition"]["StringLike"]["s3:prefix"] for s in listing] == [["models/*"]]
    assert "s3:DeleteObject" not in {a for s in statements for a in s["Action"]}
    assert set(_resources(statements, "kms:Decrypt")) == {KMS}
    # ECR: the stack's serving repository (model packages), never the whole registry.
    assert _resources(statements, "ecr:BatchGetImage") == [_serving_repository(ACCOUNT_ID, "staging")]
    # Logs: only under /aws/sagemaker/ (the shared SageMaker role builder in components/iam).
    assert _resources(statements, "logs:PutLogEvents") == [f"arn:aws:logs:us-east-1:{ACCOUNT_ID}:log-group:/aws/sagemaker/*:log-stream:*"]
    for statement in statements:
        assert all(not a.endswith(":*") and a != "*" for a in statement["Action"]), statement
    # ENIs only in the platform VPC, with the endpoint's own security group.
    eni = next(s for s in statements if "ec2:CreateNetworkInterface" in s["Action"])
    assert eni["Condition"] == {"ArnEquals": {"ec2:Vpc": f"arn:aws:ec2:us-east-1:{ACCOUNT_ID}:vpc/{VPC_ID}"}}
    group = rec.one("aws:ec2/securityGroup:SecurityGroup").id
    assert f"arn:aws:ec2:us-east-1:{ACCOUNT_ID}:security-group/{group}" in eni["Resource"]


def test_serverless_execution_role_has_no_network_grants_and_writes_only_its_own_prefix():
    rec = recording("dev")
    statements = _statements(rec, rec.one(ROLE, "execution"))
    # The shared role builder always grants the capture prefix; it is this endpoint's alone.
    assert _resources(statements, "s3:PutObject") == [f"arn:aws:s3:::{_bucket(rec)}/data-capture/churn/*"]
    assert not any(a.startswith("ec2:") for s in statements for a in s["Action"])
    # The prebuilt image's repository in SageMaker's registry account.
    assert _resources(statements, "ecr:BatchGetImage") == ["arn:aws:ecr:us-east-1:683313688378:repository/sagemaker-scikit-learn"]


def test_models_and_endpoint_wait_for_the_role_policies_and_grants_they_rely_on():
    rec = recording("staging")
    role_id = rec.one(ROLE, "execution").id
    policies = {p.name: p.urn for p in rec.of_type(ROLE_POLICY) if p.inputs["role"] == role_id}
    assert sorted(policies) == sorted(
        [
            "mlops-staging-churn-execution-runtime",  # ECR pull, logs
            "mlops-staging-churn-execution-network",  # VPC ENIs
            "store-mlops-staging-churn-execution-role-read-models",
            "store-mlops-staging-churn-execution-role-write-data-capture-churn",
            "images-mlops-staging-churn-execution-role-pull-serving",  # the serving repositories
        ]
    )
    # The engine receives a component dependency expanded to its children: role policies and grants.
    execution, store, images = rec.one("mlops:serving:ExecutionRole"), rec.one("mlops:storage:ArtifactStore"), rec.one("mlops:images:ImageRepositories")
    assert {rec.by_urn(u).parent for u in policies.values()} == {execution.urn, store.urn, images.urn}
    for resource in (rec.one(ENDPOINT), *rec.of_type(MODEL)):
        assert set(policies.values()) <= set(resource.dependencies), resource.name


# ---------------------------------------------------------------------------------------------
# Registry and drift monitoring


def test_one_model_package_group_per_family_retained_where_storage_is_protected():
    for stack, retained in (("dev", False), ("prod", True)):
        group = recording(stack).one("aws:sagemaker/modelPackageGroup:ModelPackageGroup")
        assert group.inputs["modelPackageGroupName"] == "churn"
        assert group.retainOnDelete is retained
    two = _with_endpoint("dev")
    raw_second = two.serving.endpoints[0].model_copy(update={"name": "churn-b"})
    config = two.model_copy(update={"serving": two.serving.model_copy(update={"endpoints": [two.serving.endpoints[0], raw_second]})})
    rec = run_serving(config)
    assert len(rec.of_type("aws:sagemaker/modelPackageGroup:ModelPackageGroup")) == 1
    assert len(rec.of_type(ENDPOINT)) == 2


def test_prod_drift_monitoring_reads_captured_data_against_the_configured_baseline():
    rec = recording("prod")
    definition = rec.one("aws:sagemaker/dataQualityJobDefinition:DataQualityJobDefinition")
    baseline = definition.inputs["dataQualityBaselineConfig"]
    assert baseline["statisticsResource"]["s3Uri"] == "s3://mlops-prod-baselines-345678901234/churn/v7/statistics.json"
    assert baseline["constraintsResource"]["s3Uri"] == "s3://mlops-prod-baselines-345678901234/churn/v7/constraints.json"
    assert definition.inputs["dataQualityAppSpecification"]["imageUri"] == "156813124566.dkr.ecr.us-east-1.amazonaws.com/sagemaker-model-monitor-analyzer:latest"
    endpoint_input = definition.inputs["dataQualityJobInput"]["endpointInput"]
    assert endpoint_input["endpointName"] == "mlops-prod-churn"
    assert definition.propertyDependencies["dataQualityJobInput"] == [rec.one(ENDPOINT).urn]
    output = definition.inputs["dataQualityJobOutputConfig"]
    assert output["kmsKeyId"] == KMS
    assert output["monitoringOutputs"]["s3Output"]["s3Uri"] == f"s3://{_bucket(rec)}/pipelines/monitoring/churn"
    assert definition.inputs["networkConfig"]["enableNetworkIsolation"] is True
    assert definition.inputs["jobResources"]["clusterConfig"]["volumeKmsKeyId"] == KMS
    assert definition.inputs["stoppingCondition"]["maxRuntimeInSeconds"] == 1800
    schedule = rec.one("aws:sagemaker/monitoringSchedule:MonitoringSchedule")
    config = schedule.inputs["monitoringScheduleConfig"]
    assert config["monitoringType"] == "DataQuality"
    assert config["monitoringJobDefinitionName"] == definition.id
    assert config["scheduleConfig"]["scheduleExpression"] == "cron(0 * ? * * *)"


def test_drift_monitoring_role_is_least_privilege():
    rec = recording("prod")
    role = rec.one(ROLE, "drift-monitor")
    assert json.loads(role.inputs["assumeRolePolicy"])["Statement"][0]["Principal"] == {"Service": ["sagemaker.amazonaws.com"]}
    assert rec.one("aws:sagemaker/dataQualityJobDefinition:DataQualityJobDefinition").inputs["roleArn"] == _role_arn(role)
    assert role.id != rec.one(ROLE, "execution").id
    bucket_arn = f"arn:aws:s3:::{_bucket(rec)}"
    statements = _statements(rec, role)
    assert _resources(statements, "s3:GetObject") == sorted(
        [
            f"{bucket_arn}/data-capture/churn/*",
            "arn:aws:s3:::mlops-prod-baselines-345678901234/churn/v7/constraints.json",
            "arn:aws:s3:::mlops-prod-baselines-345678901234/churn/v7/statistics.json",
        ]
    )
    assert _resources(statements, "s3:PutObject") == [f"{bucket_arn}/pipelines/monitoring/churn/*"]
    metrics = next(s for s in statements if "cloudwatch:PutMetricData" in s["Action"])
    assert metrics["Condition"] == {"StringEquals": {"cloudwatch:namespace": "aws/sagemaker/Endpoints/data-metrics"}}
    assert not any("models/" in r for r in _resources(statements, "s3:GetObject"))


def test_drift_monitoring_describes_its_volume_key_unconditionally_and_creates_grants_only_for_aws_resources():
    rec = recording("prod")
    statements = _statements(rec, rec.one(ROLE, "drift-monitor"))
    assert [s for s in statements if {"kms:DescribeKey", "kms:CreateGrant"} & set(s["Action"])] == [
        # DescribeKey requests never carry kms:GrantIsForAWSResource: it cannot share that condition.
        {"Sid": "DescribeVolumeKey", "Effect": "Allow", "Action": ["kms:DescribeKey"], "Resource": [KMS]},
        {
            "Sid": "GrantVolumeKeyToAwsResources",
            "Effect": "Allow",
            "Action": ["kms:CreateGrant"],
            "Resource": [KMS],
            "Condition": {"Bool": {"kms:GrantIsForAWSResource": "true"}},
        },
    ]


def test_drift_monitoring_role_under_the_key_policy_and_boundary_may_describe_the_key_and_grant_it_to_aws_resources():
    """The prod stack's documents through the IAM evaluator: role policies, permissions boundary
    (the one bootstrap creates) and the artifacts key's policy."""
    rec = stack_preview("prod").recording
    account = STACK_ACCOUNTS["prod"]
    [role] = [r for r in rec.of_type(ROLE) if r.name == "mlops-prod-drift-monitor"]
    names = Names("mlops", "345678901234", "us-east-1")
    assert role.inputs["permissionsBoundary"] == "arn:aws:iam::345678901234:policy/mlops-ci-boundary"  # the one bootstrap creates
    boundary = boundary_policy(names, "arn:aws:kms:us-east-1:345678901234:key/pulumi-secrets")
    documents = [json.loads(p.inputs["policy"]) for p in rec.of_type(ROLE_POLICY) if p.inputs["role"] == role.id]
    keys = {k.name: (json.loads(k.inputs["policy"]), f"arn:aws:kms:us-east-1:{account}:key/{k.id}") for k in rec.of_type("aws:kms/key:Key")}
    key_policy, volume_key = keys["mlops-platform-keys-artifacts"]
    assert rec.one("aws:sagemaker/dataQualityJobDefinition:DataQualityJobDefinition").inputs["jobResources"]["clusterConfig"]["volumeKmsKeyId"] == volume_key

    def can(action, key="mlops-platform-keys-artifacts", **context):
        policy, arn = keys[key]
        return kms_is_allowed(
            policy, documents, boundary, principal=_role_arn(role, account), account_root=f"arn:aws:iam::{account}:root", action=action, key_arn=arn, context=context
        )

    assert key_policy["Statement"][0]["Principal"] == {"AWS": [f"arn:aws:iam::{account}:root"]}  # IAM policies decide
    # A DescribeKey request carries no kms:GrantIsForAWSResource.
    assert can("kms:DescribeKey")
    assert can("kms:CreateGrant", **{"kms:GrantIsForAWSResource": "true"})
    assert not can("kms:CreateGrant")
    assert not can("kms:CreateGrant", **{"kms:GrantIsForAWSResource": "false"})
    # Only that key.
    assert not can("kms:DescribeKey", key="mlops-platform-keys-logs")
    assert not can("kms:CreateGrant", key="mlops-platform-keys-ebs", **{"kms:GrantIsForAWSResource": "true"})


def test_no_drift_monitoring_outside_prod_by_default():
    for stack in ("dev", "staging"):
        assert not recording(stack).of_type("aws:sagemaker/monitoringSchedule:MonitoringSchedule")


# ---------------------------------------------------------------------------------------------
# Names: within SageMaker's limits even after Pulumi's suffixes


@pytest.mark.parametrize("stack", ["dev", "staging", "prod"])
def test_generated_names_fit_sagemaker_limits_including_suffix_headroom(stack):
    rec = recording(stack)
    endpoint_max, endpoint_pattern = facts.sagemaker_name_limits("EndpointName")
    config_max, config_pattern = facts.sagemaker_name_limits("EndpointConfigName")
    model_max, model_pattern = facts.sagemaker_name_limits("ModelName")
    endpoint = rec.one(ENDPOINT).inputs["name"]
    assert len(endpoint) <= endpoint_max and re.fullmatch(endpoint_pattern, endpoint)
    # A real provider appends 26 characters to namePrefix; the longest possible name must fit.
    longest_config = rec.one(ENDPOINT_CONFIG).inputs["namePrefix"] + "9" * facts.PREFIXED_UNIQUE_SUFFIX_LENGTH
    assert len(longest_config) <= config_max and re.fullmatch(config_pattern, longest_config)
    auto_named = [(MODEL, "ModelName"), ("aws:sagemaker/dataQualityJobDefinition:DataQualityJobDefinition", "MonitoringJobDefinitionName"),
                  ("aws:sagemaker/monitoringSchedule:MonitoringSchedule", "MonitoringScheduleName")]
    for token, shape in auto_named:
        limit, pattern = facts.sagemaker_name_limits(shape)
        for resource in rec.of_type(token):
            # Auto-named: the logical name plus "-" and 7 random characters.
            longest = resource.name + "-" + "f" * (facts.PULUMI_RANDOM_SUFFIX_LENGTH - 1)
            assert len(longest) <= limit and re.fullmatch(pattern, longest), (shape, longest)
            assert re.fullmatch(pattern, resource.id)
    assert model_max == 63 and model_pattern


def test_longest_allowed_endpoint_name_still_fits_after_the_suffix():
    config_max, _ = facts.sagemaker_name_limits("EndpointConfigName")
    room = config_max - facts.PREFIXED_UNIQUE_SUFFIX_LENGTH - 1 - len("mlops-staging-")
    config = _with_endpoint("staging", name="c" * room)
    rec = run_serving(config)
    prefix = rec.one(ENDPOINT_CONFIG).inputs["namePrefix"]
    assert len(prefix) + facts.PREFIXED_UNIQUE_SUFFIX_LENGTH == config_max
    for model in rec.of_type(MODEL):
        assert len(model.name) + facts.PULUMI_RANDOM_SUFFIX_LENGTH <= facts.sagemaker_name_limits("ModelName")[0]
    role = rec.one(ROLE, "execution")
    assert len(role.name) + facts.PULUMI_RANDOM_SUFFIX_LENGTH <= 64  # IAM role names: 64 characters


def test_longest_allowed_endpoint_name_keeps_drift_monitoring_names_within_limits():
    config_max, _ = facts.sagemaker_name_limits("EndpointConfigName")
    room = config_max - facts.PREFIXED_UNIQUE_SUFFIX_LENGTH - 1 - len("mlops-prod-")
    raw = stack_raw_config("prod")
    drift = raw["serving"]["driftMonitoring"]
    drift["baselines"] = {"c" * room: drift["baselines"]["churn"]}
    raw["serving"]["endpoints"][0]["name"] = "c" * room
    rec = run_serving(parse_platform_config(raw, "us-east-1", "stacks/Pulumi.prod.yaml"))
    for token, shape in (("aws:sagemaker/dataQualityJobDefinition:DataQualityJobDefinition", "MonitoringJobDefinitionName"),
                         ("aws:sagemaker/monitoringSchedule:MonitoringSchedule", "MonitoringScheduleName")):
        resource = rec.one(token)
        assert len(resource.name) + facts.PULUMI_RANDOM_SUFFIX_LENGTH <= facts.sagemaker_name_limits(shape)[0], resource.name


# ---------------------------------------------------------------------------------------------
# First preview of a new stack: everything computed is unknown


def test_first_preview_with_unknown_outputs_still_registers_everything():
    rec = run_serving(stack_config("staging"), unknowns=True)
    endpoint = rec.one(ENDPOINT)
    assert endpoint.inputs["name"] == "mlops-staging-churn"  # deterministic, known at preview
    assert endpoint.inputs["endpointConfigName"] == UNKNOWN
    # Alarm names are deterministic too, so reviewers see the rollback alarms in the first preview.
    alarms = [a["alarmName"] for a in endpoint.inputs["deploymentConfig"]["autoRollbackConfiguration"]["alarms"]]
    assert alarms == [f"mlops-staging-churn-{v}-{kind}" for v in ("primary", "challenger") for kind in ("server-errors", "model-latency")]
    assert len(rec.of_type(TARGET)) == 2


# ---------------------------------------------------------------------------------------------
# Whole stacks: the `endpoints` output contract and what each environment gets


@pytest.mark.parametrize("stack", ["dev", "staging", "prod"])
def test_stack_exports_the_endpoints_contract(stack):
    preview = stack_preview(stack)
    endpoints = preview.recording.stack_outputs["endpoints"]
    name = f"mlops-{stack}-churn"
    variants = ["primary", "challenger"] if stack == "staging" else ["primary"]
    assert endpoints == {
        "churn": {
            "name": name,
            "arn": f"arn:aws:sagemaker:us-east-1:{STACK_ACCOUNTS[stack]}:endpoint/{name}",
            "invokeUrl": f"https://runtime.sagemaker.us-east-1.amazonaws.com/endpoints/{name}/invocations",
            "variantNames": variants,
            "modelPackageGroup": "churn",
        }
    }


@pytest.mark.parametrize("stack", ["dev", "staging", "prod"])
def test_stack_serving_is_wired_to_the_platform_store_key_and_private_subnets(stack):
    rec = stack_preview(stack).recording
    platform = rec.one("mlops:index:MlopsPlatform")
    serving = rec.one("mlops:serving:Serving")
    assert serving.parent == platform.urn
    artifacts_key = rec.one("aws:kms/key:Key", "keys-artifacts")
    config = rec.one(ENDPOINT_CONFIG)
    assert config.propertyDependencies["kmsKeyArn"] == [artifacts_key.urn]
    models = rec.of_type(MODEL)
    if stack == "dev":
        assert config.inputs["productionVariants"][0]["serverlessConfig"]["memorySizeInMb"] == 2048
        assert all("vpcConfig" not in m.inputs for m in models)
    else:
        private = {s.urn for s in rec.of_type("aws:ec2/subnet:Subnet") if "private" in s.name}
        assert private
        for model in models:
            assert set(model.propertyDependencies["vpcConfig"]) >= private
        assert rec.of_type(TARGET) and rec.of_type(ALARM) and config.inputs["dataCaptureConfig"]["enableCapture"]


def test_autoscaling_can_be_switched_off_for_the_first_step_of_an_instance_type_change():
    instance = {**stack_raw_config("prod")["serving"]["endpoints"][0]["instance"], "autoscaling": False}
    rec = run_serving(_with_endpoint("prod", instance=instance))
    assert not rec.of_type(TARGET) and not rec.of_type(POLICY)
    assert rec.one(ENDPOINT_CONFIG).inputs["productionVariants"][0]["initialInstanceCount"] == 2
