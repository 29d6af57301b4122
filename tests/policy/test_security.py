"""KMS, IAM, EKS, SageMaker, ECR and CloudWatch Logs policies: each fires on a bad program and passes a good one."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws
import pytest

from components.iam.policy import Statement, policy_document
from tests.support.policy import evaluate, fired
from tests.support.stacks import STACKS, stack_preview

SUBNETS = ["subnet-a", "subnet-b"]


def trust(service: str) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}]})


def document(*statements: dict) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def cluster(opts, **overrides):
    key = aws.kms.Key("eks-key", enable_key_rotation=True, opts=opts)
    args = dict(
        role_arn="arn:aws:iam::123456789012:role/eks",
        version="1.34",
        vpc_config={"subnet_ids": SUBNETS, "endpoint_public_access": False, "endpoint_private_access": True},
        encryption_config={"resources": ["secrets"], "provider": {"key_arn": key.arn}},
        enabled_cluster_log_types=["api", "audit", "authenticator"],
    )
    args.update(overrides)
    return aws.eks.Cluster("cluster", **{k: v for k, v in args.items() if v is not None}, opts=opts)


def launch_template(opts, **overrides):
    args = dict(
        metadata_options={"http_tokens": "required", "http_put_response_hop_limit": 2},
        block_device_mappings=[{"device_name": "/dev/xvda", "ebs": {"encrypted": "true", "volume_size": 100, "volume_type": "gp3"}}],
    )
    args.update(overrides)
    return aws.ec2.LaunchTemplate("nodes", **{k: v for k, v in args.items() if v is not None}, opts=opts)


def node_group(opts, *, instance_types=("g5.xlarge",), ami_type="AL2023_x86_64_NVIDIA", with_template=True, min_size=0, max_size=2):
    template = launch_template(opts) if with_template else None
    return aws.eks.NodeGroup(
        "gpu", cluster_name="c", node_role_arn="arn:aws:iam::123456789012:role/node", subnet_ids=SUBNETS,
        instance_types=list(instance_types), ami_type=ami_type,
        scaling_config={"min_size": min_size, "desired_size": min_size, "max_size": max_size},
        launch_template={"id": template.id, "version": template.latest_version.apply(str)} if template else None,
        opts=opts,
    )


def endpoint_config(opts, *, kms=True, capture=True, capture_kms=True, serverless=False):
    key = aws.kms.Key("serving-key", enable_key_rotation=True, opts=opts)
    variant = ({"model_name": "m", "variant_name": "AllTraffic", "serverless_config": {"memory_size_in_mb": 2048, "max_concurrency": 5}}
               if serverless else {"model_name": "m", "variant_name": "AllTraffic", "instance_type": "ml.m5.large", "initial_instance_count": 2})
    capture_config = {"enable_capture": True, "initial_sampling_percentage": 100, "destination_s3_uri": "s3://artifacts/data-capture/",
                      "capture_options": [{"capture_mode": "Input"}, {"capture_mode": "Output"}], **({"kms_key_id": key.arn} if capture_kms else {})}
    return aws.sagemaker.EndpointConfiguration(
        "config", production_variants=[variant], kms_key_arn=key.arn if kms else None,
        data_capture_config=capture_config if capture else None, opts=opts,
    )


@dataclass
class Case:
    policy: str
    good: Callable[[pulumi.ResourceOptions], None]
    bad: Callable[[pulumi.ResourceOptions], None]
    fragment: str


CASES = [
    Case("kms-key-rotation", lambda o: aws.kms.Key("k", enable_key_rotation=True, opts=o), lambda o: aws.kms.Key("k", opts=o), "enableKeyRotation is not true"),
    Case("kms-key-rotation", lambda o: aws.kms.Key("k", customer_master_key_spec="RSA_2048", key_usage="SIGN_VERIFY", opts=o),
         lambda o: aws.kms.Key("k", enable_key_rotation=False, opts=o), "enableKeyRotation is not true"),
    Case("kms-deletion-window", lambda o: aws.kms.Key("k", enable_key_rotation=True, deletion_window_in_days=30, opts=o),
         lambda o: aws.kms.Key("k", enable_key_rotation=True, deletion_window_in_days=7, opts=o), "at least 30 days"),
    Case("kms-no-lockout-bypass", lambda o: aws.kms.Key("k", enable_key_rotation=True, bypass_policy_lockout_safety_check=False, opts=o),
         lambda o: aws.kms.Key("k", enable_key_rotation=True, bypass_policy_lockout_safety_check=True, opts=o), "bypassPolicyLockoutSafetyCheck is true"),
    Case("kms-no-lockout-bypass",
         lambda o: aws.kms.KeyPolicy("kp", key_id=aws.kms.Key("k", enable_key_rotation=True, opts=o).id, policy=document({"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"}, "Action": "kms:*", "Resource": "*"}), opts=o),
         lambda o: aws.kms.KeyPolicy("kp", key_id=aws.kms.Key("k", enable_key_rotation=True, opts=o).id, policy=document({"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:role/app"}, "Action": "kms:Decrypt", "Resource": "*"}),
                                     bypass_policy_lockout_safety_check=True, opts=o),
         "unmanageable by anyone in the account"),
    Case("iam-no-star-action",
         lambda o: aws.iam.Policy("p", policy=policy_document([Statement(actions=["s3:GetObject"], resources=["arn:aws:s3:::b/*"])]), opts=o),
         lambda o: aws.iam.Policy("p", policy=document({"Effect": "Allow", "Action": "*", "Resource": "*"}), opts=o), "allows Action \"*\""),
    Case("iam-no-star-action",
         lambda o: aws.iam.Role("r", assume_role_policy=trust("sagemaker.amazonaws.com"), inline_policies=[{"name": "read", "policy": document({"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": "arn:aws:s3:::b/*"})}], opts=o),
         lambda o: aws.iam.Role("r", assume_role_policy=trust("sagemaker.amazonaws.com"), inline_policies=[{"name": "all", "policy": document({"Effect": "Allow", "NotAction": ["iam:*"], "Resource": "*"})}], opts=o),
         "NotAction"),
    Case("iam-no-star-resource-write",
         lambda o: aws.iam.RolePolicy("p", role="r", policy=document({"Effect": "Allow", "Action": ["ec2:DescribeInstances", "ecr:GetAuthorizationToken", "cloudwatch:PutMetricData"], "Resource": "*"}), opts=o),
         lambda o: aws.iam.RolePolicy("p", role="r", policy=document({"Effect": "Allow", "Action": ["s3:PutObject", "s3:GetObject"], "Resource": "*"}), opts=o),
         "['s3:PutObject']"),
    Case("iam-no-admin-attachments",
         lambda o: aws.iam.RolePolicyAttachment("a", role="r", policy_arn="arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy", opts=o),
         lambda o: aws.iam.RolePolicyAttachment("a", role="r", policy_arn="arn:aws:iam::aws:policy/AmazonSageMakerFullAccess", opts=o),
         "AmazonSageMakerFullAccess"),
    Case("iam-no-admin-attachments",
         lambda o: aws.iam.Role("r", assume_role_policy=trust("ec2.amazonaws.com"), opts=o),
         lambda o: aws.iam.Role("r", assume_role_policy=trust("ec2.amazonaws.com"), managed_policy_arns=["arn:aws:iam::aws:policy/AdministratorAccess"], opts=o),
         "AdministratorAccess"),
    Case("iam-no-wildcard-trust",
         lambda o: aws.iam.Role("r", assume_role_policy=trust("sagemaker.amazonaws.com"), opts=o),
         lambda o: aws.iam.Role("r", assume_role_policy=document({"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}), opts=o),
         "any principal"),
    Case("iam-github-oidc-repo",
         lambda o: aws.iam.Role("r", assume_role_policy=document({"Effect": "Allow", "Principal": {"Federated": "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"}, "Action": "sts:AssumeRoleWithWebIdentity",
                                                                   "Condition": {"StringEquals": {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com", "token.actions.githubusercontent.com:sub": "repo:acme/mlops-platform:environment:prod"}}}), opts=o),
         lambda o: aws.iam.Role("r", assume_role_policy=document({"Effect": "Allow", "Principal": {"Federated": "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"}, "Action": "sts:AssumeRoleWithWebIdentity",
                                                                  "Condition": {"StringLike": {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com", "token.actions.githubusercontent.com:sub": "repo:acme/*"}}}), opts=o),
         "does not pin one repository"),
    Case("eks-secrets-encryption", cluster, lambda o: cluster(o, encryption_config=None), "not envelope-encrypted"),
    Case("eks-control-plane-logging", cluster, lambda o: cluster(o, enabled_cluster_log_types=["api"]), "['audit', 'authenticator']"),
    Case("eks-no-public-endpoint", cluster, lambda o: cluster(o, vpc_config={"subnet_ids": SUBNETS}), "endpointPublicAccess is unset"),
    Case("eks-supported-version", cluster, lambda o: cluster(o, version="1.29"), "Kubernetes 1.29 is not in EKS standard or extended support"),
    Case("eks-node-imdsv2", launch_template, lambda o: launch_template(o, metadata_options=None), "unset (AWS default: optional)"),
    Case("eks-node-imdsv2", node_group, lambda o: node_group(o, with_template=False), "no launch template"),
    Case("eks-node-root-volume-encrypted", launch_template, lambda o: launch_template(o, block_device_mappings=None), "no blockDeviceMappings"),
    Case("eks-node-root-volume-encrypted", launch_template,
         lambda o: launch_template(o, block_device_mappings=[{"device_name": "/dev/xvda", "ebs": {"volume_size": 100}}]), "/dev/xvda is not encrypted"),
    Case("eks-gpu-ami-type", node_group, lambda o: node_group(o, ami_type="AL2023_x86_64_STANDARD"), "has no NVIDIA driver"),
    Case("eks-gpu-ami-type", lambda o: node_group(o, instance_types=("m6i.large",), ami_type="AL2023_x86_64_STANDARD"), lambda o: node_group(o, ami_type=None), "unset (AL2023 standard)"),
    Case("sagemaker-endpoint-kms", endpoint_config, lambda o: endpoint_config(o, kms=False), "kmsKeyArn is unset"),
    Case("sagemaker-endpoint-kms", lambda o: endpoint_config(o, kms=False, capture=False, serverless=True), lambda o: endpoint_config(o, kms=False, capture=False), "kmsKeyArn is unset"),
    Case("sagemaker-data-capture", endpoint_config, lambda o: endpoint_config(o, capture=False), "data capture is off"),
    Case("sagemaker-data-capture", endpoint_config, lambda o: endpoint_config(o, capture_kms=False), "dataCaptureConfig.kmsKeyId"),
    Case("sagemaker-model-network",
         lambda o: aws.sagemaker.Model("m", execution_role_arn="arn:aws:iam::123456789012:role/sm", primary_container={"image": "img"}, enable_network_isolation=True, opts=o),
         lambda o: aws.sagemaker.Model("m", execution_role_arn="arn:aws:iam::123456789012:role/sm", primary_container={"image": "img"}, opts=o), "internet access"),
    Case("sagemaker-notebook-hardened",
         lambda o: aws.sagemaker.NotebookInstance("nb", role_arn="arn:aws:iam::123456789012:role/sm", instance_type="ml.t3.medium", subnet_id="subnet-a", security_groups=["sg-1"], direct_internet_access="Disabled", root_access="Disabled", opts=o),
         lambda o: aws.sagemaker.NotebookInstance("nb", role_arn="arn:aws:iam::123456789012:role/sm", instance_type="ml.t3.medium", opts=o), "directInternetAccess is unset (AWS default: Enabled)"),
    Case("ecr-scan-on-push",
         lambda o: aws.ecr.Repository("repo", image_scanning_configuration={"scan_on_push": True}, opts=o), lambda o: aws.ecr.Repository("repo", opts=o), "scanOnPush"),
    Case("ecr-immutable-tags",
         lambda o: aws.ecr.Repository("repo", image_tag_mutability="IMMUTABLE", opts=o), lambda o: aws.ecr.Repository("repo", opts=o), "unset (AWS default: MUTABLE)"),
    Case("ecr-kms-encryption",
         lambda o: aws.ecr.Repository("repo", encryption_configurations=[{"encryption_type": "KMS", "kms_key": aws.kms.Key("k", enable_key_rotation=True, opts=o).arn}], opts=o),
         lambda o: aws.ecr.Repository("repo", encryption_configurations=[{"encryption_type": "KMS"}], opts=o), "customer-managed KMS key"),
    Case("log-group-retention", lambda o: aws.cloudwatch.LogGroup("lg", retention_in_days=365, opts=o), lambda o: aws.cloudwatch.LogGroup("lg", opts=o), "logs never expire"),
    Case("log-group-retention", lambda o: aws.cloudwatch.LogGroup("lg", retention_in_days=400, opts=o), lambda o: aws.cloudwatch.LogGroup("lg", retention_in_days=30, opts=o), "at least 365 days"),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.policy}:{c.fragment[:30]}")
def test_policy_fires_on_the_bad_program_and_passes_the_good_one(policy_pack, case):
    bad = evaluate(policy_pack, case.bad)
    messages = fired(bad, case.policy)
    assert messages and any(case.fragment in m for m in messages), bad.by_policy(case.policy)
    assert {v.level for v in bad.by_policy(case.policy)} == {"advisory" if case.policy == "sagemaker-model-network" else "mandatory"}
    good = evaluate(policy_pack, case.good)
    assert good.by_policy(case.policy) == []


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.policy}:{c.fragment[:30]}")
def test_policies_survive_a_first_preview_with_unknown_values(policy_pack, case):
    """With every computed output unknown, nothing crashes and nothing bad passes silently."""
    bad = evaluate(policy_pack, case.bad, unknowns=True)
    assert bad.by_policy(case.policy), f"{case.policy} passed silently on unknowns"
    good = evaluate(policy_pack, case.good, unknowns=True)
    assert fired(good, case.policy) == []


def test_a_lockout_bypass_is_mandatory_in_dev_too_and_no_platform_key_sets_it(policy_pack):
    bypass = evaluate(policy_pack, lambda o: aws.kms.Key("k", enable_key_rotation=True, bypass_policy_lockout_safety_check=True, opts=o), env="dev")
    assert [v.level for v in bypass.by_policy("kms-no-lockout-bypass")] == ["mandatory"]
    for stack in STACKS:
        result = stack_preview(stack)
        assert result.recording.of_type("aws:kms/key:Key")
        assert policy_pack(result.config.environment).analyze(result.recording).by_policy("kms-no-lockout-bypass") == []


def test_log_group_kms_applies_only_where_required(policy_pack):
    """log-group-kms is configured per environment; exercised with an explicit config on its own pack."""
    from mlopsctl.offline.policycheck.process import PolicyPackProcess
    from tests.support.policy import tagged_provider
    from tests.support.programs import run_component

    def program():
        opts = pulumi.ResourceOptions(provider=tagged_provider())
        aws.cloudwatch.LogGroup("eks", name="/aws/eks/mlops-prod/cluster", retention_in_days=365, opts=opts)
        aws.cloudwatch.LogGroup("flow", name="/mlops/vpc/flow-logs", retention_in_days=365, kms_key_id="arn:aws:kms:us-east-1:123456789012:key/1", opts=opts)
        aws.cloudwatch.LogGroup("other", name="/mlops/other", retention_in_days=365, opts=opts)

    recording = run_component(program)
    with PolicyPackProcess() as pack:
        pack.configure({"log-group-kms": {"enforcementLevel": "mandatory", "requireKms": True, "namePrefixes": ["/aws/eks/", "/mlops/vpc/"]}})
        flagged = {v.urn.rsplit("::", 1)[-1] for v in pack.analyze(recording).by_policy("log-group-kms")}
        assert flagged == {"eks"}
        pack.configure({"log-group-kms": {"requireKms": False}})
        assert pack.analyze(recording).by_policy("log-group-kms") == []


def test_dev_enforces_only_critical_security_as_mandatory(policy_pack):
    report = evaluate(policy_pack, lambda o: (aws.kms.Key("k", opts=o), aws.iam.Policy("p", policy=document({"Effect": "Allow", "Action": "*", "Resource": "*"}), opts=o)), env="dev")
    levels = {v.policy: v.level for v in report.violations}
    assert levels["iam-no-star-action"] == "mandatory"  # admin IAM: critical
    assert levels["kms-key-rotation"] == "advisory"


def test_endpoint_kms_is_not_required_on_local_nvme_instances(policy_pack):
    """ml.g5 hosts use local NVMe encrypted by the instance hardware (SageMaker host instance storage)."""

    def program(o):
        aws.sagemaker.EndpointConfiguration("config", production_variants=[{"model_name": "m", "variant_name": "v", "instance_type": "ml.g5.xlarge", "initial_instance_count": 2}], opts=o)

    assert evaluate(policy_pack, program).by_policy("sagemaker-endpoint-kms") == []


def test_models_served_only_serverless_are_exempt_from_vpc_or_isolation(policy_pack):
    def program(o, serverless: bool):
        model = aws.sagemaker.Model("m", execution_role_arn="arn:aws:iam::123456789012:role/sm", primary_container={"image": "img"}, opts=o)
        variant = {"serverless_config": {"memory_size_in_mb": 2048, "max_concurrency": 5}} if serverless else {"instance_type": "ml.m5.large", "initial_instance_count": 2}
        aws.sagemaker.EndpointConfiguration("config", production_variants=[{"model_name": model.name, "variant_name": "v", **variant}], opts=o)

    assert evaluate(policy_pack, lambda o: program(o, True), unknowns=True).by_policy("sagemaker-model-network") == []
    [violation] = evaluate(policy_pack, lambda o: program(o, False), unknowns=True).by_policy("sagemaker-model-network")
    assert violation.urn.endswith("::m") and violation.level == "advisory"


# --- CodeBuild: the CI runner ----------------------------------------------------------------


def runner(opts, *, actor_filter: bool = True, approval: str | None = "FORK_PULL_REQUESTS", privileged: bool = False, vpc: bool = True, key: bool = True):
    project = aws.codebuild.Project(
        "runner",
        service_role="arn:aws:iam::123456789012:role/runner",
        source={"type": "GITHUB", "location": "https://github.com/o/r.git"},
        artifacts={"type": "NO_ARTIFACTS"},
        environment={"type": "LINUX_CONTAINER", "compute_type": "BUILD_GENERAL1_SMALL", "image": "aws/codebuild/standard:7.0", "privileged_mode": privileged},
        vpc_config={"vpc_id": "vpc-1", "subnets": ["subnet-a"], "security_group_ids": ["sg-1"]} if vpc else None,
        encryption_key="arn:aws:kms:us-east-1:123456789012:key/k" if key else None,
        opts=opts,
    )
    filters = [{"type": "EVENT", "pattern": "WORKFLOW_JOB_QUEUED"}]
    if actor_filter:
        filters.append({"type": "ACTOR_ACCOUNT_ID", "pattern": "^(1234567)$"})
    aws.codebuild.Webhook(
        "runner",
        project_name=project.name,
        filter_groups=[{"filters": filters}],
        pull_request_build_policy={"requires_comment_approval": approval, "approver_roles": ["GITHUB_ADMIN"]} if approval else None,
        opts=opts,
    )


WEBHOOK_POLICY = "codebuild-runner-webhook-maintainers-only"


def test_runner_webhook_open_to_any_actor_or_without_approval_fires_everywhere(policy_pack):
    for env in ("dev", "prod"):
        report = evaluate(policy_pack, lambda o: runner(o, actor_filter=False, approval="DISABLED"), env=env)
        messages = fired(report, WEBHOOK_POLICY)
        assert any("builds WORKFLOW_JOB_QUEUED events from anyone" in m for m in messages)
        assert any("requiresCommentApproval is DISABLED" in m for m in messages)
        assert {v.level for v in report.by_policy(WEBHOOK_POLICY)} == {"mandatory"}
    assert any("is unset" in m for m in fired(evaluate(policy_pack, lambda o: runner(o, approval=None)), WEBHOOK_POLICY))
    assert fired(evaluate(policy_pack, runner), WEBHOOK_POLICY) == []


def test_codebuild_project_privileged_outside_the_vpc_or_without_a_cmk_fires(policy_pack):
    messages = fired(evaluate(policy_pack, lambda o: runner(o, privileged=True, vpc=False, key=False)), "codebuild-project-hardened")
    assert len(messages) == 3
    assert any("privilegedMode is true" in m for m in messages) and any("no vpcConfig" in m for m in messages)
    assert any("encryptionKey is unset" in m for m in messages)
    assert fired(evaluate(policy_pack, runner, unknowns=True), "codebuild-project-hardened") == []
