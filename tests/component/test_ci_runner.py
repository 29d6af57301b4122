"""The in-VPC GitHub Actions runner (CodeBuild): what layer 1 registers for it, and what its role may do."""

from __future__ import annotations

import json

import pytest

from tests.support.iam_eval import is_allowed
from tests.support.stacks import STACK_ACCOUNTS, STACKS, assert_one_line_config_error, stack_preview, stack_raw_config

PROJECT = "aws:codebuild/project:Project"
WEBHOOK = "aws:codebuild/webhook:Webhook"


def _runner(stack):
    preview = stack_preview(stack)
    rec = preview.recording
    component = rec.one("mlops:ci:GitHubRunner")
    return preview, rec, {r.type: r for r in rec.children_of(component.urn) if r.type != "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"}


@pytest.mark.parametrize("stack", STACKS)
def test_runner_project_runs_in_the_private_subnets_unprivileged_and_logged(stack):
    preview, rec, parts = _runner(stack)
    project = parts[PROJECT].inputs
    assert project["name"] == f"mlops-{stack}-gha-runner"
    private = sorted(s.id for s in rec.of_type("aws:ec2/subnet:Subnet") if s.inputs["tags"].get("kubernetes.io/role/internal-elb") == "1")
    assert sorted(project["vpcConfig"]["subnets"]) == private and project["vpcConfig"]["vpcId"] == rec.one("aws:ec2/vpc:Vpc").id
    assert project["vpcConfig"]["securityGroupIds"] == [parts["aws:ec2/securityGroup:SecurityGroup"].id]
    assert project["environment"] == {"type": "LINUX_CONTAINER", "computeType": "BUILD_GENERAL1_MEDIUM", "image": "aws/codebuild/standard:7.0",
                                      "privilegedMode": False, "imagePullCredentialsType": "CODEBUILD"}
    assert project["source"]["type"] == "GITHUB" and project["source"]["location"] == "https://github.com/example-org/mlops-platform.git"
    assert project["source"]["auth"] == {"type": "CODECONNECTIONS", "resource": preview.config.ci_runner.connection_arn}
    assert project["artifacts"] == {"type": "NO_ARTIFACTS"}
    assert project["encryptionKey"] == rec.stack_outputs["kmsKeys"]["artifacts"]
    group = parts["aws:cloudwatch/logGroup:LogGroup"].inputs
    assert project["logsConfig"]["cloudwatchLogs"] == {"status": "ENABLED", "groupName": group["name"]}
    assert group["name"] == f"/aws/codebuild/mlops-{stack}-gha-runner"
    assert group["retentionInDays"] == {"dev": 30, "staging": 90, "prod": 365}[stack]
    assert group["kmsKeyId"] == rec.stack_outputs["kmsKeys"]["logs"]
    # The role's policy exists before CreateProject checks the connection with it.
    assert parts["aws:iam/rolePolicy:RolePolicy"].urn in parts[PROJECT].dependencies


@pytest.mark.parametrize("stack", STACKS)
def test_webhook_builds_only_maintainers_queued_jobs(stack):
    _, _, parts = _runner(stack)
    webhook = parts[WEBHOOK].inputs
    assert webhook["buildType"] == "BUILD"
    assert webhook["filterGroups"] == [{"filters": [
        {"type": "EVENT", "pattern": "WORKFLOW_JOB_QUEUED"},
        {"type": "ACTOR_ACCOUNT_ID", "pattern": "^(1234567|7654321)$"},
    ]}]
    assert webhook["pullRequestBuildPolicy"] == {"requiresCommentApproval": "FORK_PULL_REQUESTS", "approverRoles": ["GITHUB_MAINTAIN", "GITHUB_ADMIN"]}
    assert parts["aws:iam/rolePolicy:RolePolicy"].urn in parts[WEBHOOK].dependencies


def test_the_api_server_admits_the_runner_on_443_and_the_runner_only_speaks_https():
    _, rec, parts = _runner("prod")
    runner_group = parts["aws:ec2/securityGroup:SecurityGroup"]
    assert runner_group.inputs["egress"] == []
    [ingress] = [r for r in rec.of_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule") if r.inputs.get("referencedSecurityGroupId") == runner_group.id]
    api_group = rec.by_urn(ingress.propertyDependencies["securityGroupId"][0])
    assert api_group.name == "mlops-platform-eks-api"
    assert (ingress.inputs["ipProtocol"], ingress.inputs["fromPort"], ingress.inputs["toPort"]) == ("tcp", 443, 443)
    [egress] = [r for r in rec.of_type("aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule") if r.inputs["securityGroupId"] == runner_group.id]
    assert (egress.inputs["ipProtocol"], egress.inputs["fromPort"], egress.inputs["toPort"], egress.inputs["cidrIpv4"]) == ("tcp", 443, 443, "0.0.0.0/0")


def test_runner_role_has_no_deploy_rights_and_no_cluster_access():
    preview, rec, parts = _runner("prod")
    account = STACK_ACCOUNTS["prod"]
    role = parts["aws:iam/role:Role"]
    [trust] = json.loads(role.inputs["assumeRolePolicy"])["Statement"]
    assert trust["Principal"] == {"Service": ["codebuild.amazonaws.com"]}
    assert trust["Condition"] == {"StringEquals": {"aws:SourceAccount": account},
                                  "ArnLike": {"aws:SourceArn": f"arn:aws:codebuild:us-east-1:{account}:project/mlops-prod-gha-runner"}}
    assert role.inputs["permissionsBoundary"] == preview.config.iam.permissions_boundary_arn
    documents = [json.loads(parts["aws:iam/rolePolicy:RolePolicy"].inputs["policy"])]
    connection = preview.config.ci_runner.connection_arn
    log_group = f"arn:aws:logs:us-east-1:{account}:log-group:/aws/codebuild/mlops-prod-gha-runner"
    assert is_allowed(documents, None, "logs:PutLogEvents", f"{log_group}:log-stream:abc")
    assert is_allowed(documents, None, "codeconnections:GetConnectionToken", connection)
    assert not is_allowed(documents, None, "codeconnections:GetConnectionToken", connection.rsplit("/", 1)[0] + "/00000000-0000-0000-0000-000000000000")
    interface = f"arn:aws:ec2:us-east-1:{account}:network-interface/eni-1"
    private = [s.id for s in rec.of_type("aws:ec2/subnet:Subnet") if s.inputs["tags"].get("kubernetes.io/role/internal-elb") == "1"]
    private_arn = f"arn:aws:ec2:us-east-1:{account}:subnet/{private[0]}"
    public = [s.id for s in rec.of_type("aws:ec2/subnet:Subnet") if s.inputs["tags"].get("kubernetes.io/role/elb") == "1"]
    permission = {"ec2:AuthorizedService": "codebuild.amazonaws.com"}
    assert is_allowed(documents, None, "ec2:CreateNetworkInterfacePermission", interface, {**permission, "ec2:Subnet": private_arn})
    assert not is_allowed(documents, None, "ec2:CreateNetworkInterfacePermission", interface, {**permission, "ec2:Subnet": f"arn:aws:ec2:us-east-1:{account}:subnet/{public[0]}"})
    assert not is_allowed(documents, None, "ec2:CreateNetworkInterfacePermission", interface, {"ec2:AuthorizedService": "lambda.amazonaws.com", "ec2:Subnet": private_arn})
    for action, resource in [
        ("sts:AssumeRole", preview.config.eks.deploy_role_arn),
        ("eks:DescribeCluster", f"arn:aws:eks:us-east-1:{account}:cluster/mlops-prod"),
        ("eks:AccessKubernetesApi", f"arn:aws:eks:us-east-1:{account}:cluster/mlops-prod"),
        ("s3:GetObject", "arn:aws:s3:::mlops-pulumi-state/x"),
        ("iam:PassRole", f"arn:aws:iam::{account}:role/mlops-deploy-prod"),
        ("kms:Decrypt", rec.stack_outputs["kmsKeys"]["artifacts"]),
    ]:
        assert not is_allowed(documents, None, action, resource), action
    assert {a for d in documents for s in d["Statement"] for a in s["Action"]} <= {
        "logs:CreateLogStream", "logs:PutLogEvents", "ec2:CreateNetworkInterface", "ec2:DeleteNetworkInterface", "ec2:DescribeDhcpOptions",
        "ec2:DescribeNetworkInterfaces", "ec2:DescribeSecurityGroups", "ec2:DescribeSubnets", "ec2:DescribeVpcs", "ec2:CreateNetworkInterfacePermission",
        "codeconnections:GetConnection", "codeconnections:GetConnectionToken", "codeconnections:UseConnection",
    }
    assert rec.stack_outputs["ciRunner"]["runsOn"] == "codebuild-mlops-prod-gha-runner-${{ github.run_id }}-${{ github.run_attempt }}"


def test_without_a_connection_there_is_no_project_and_without_the_switch_no_webhook():
    from components.config import parse_platform_config
    from components.program import build
    from tests.support.programs import run_component

    for runner, expect in (({}, set()), ({"githubRepo": "o/r", "connectionArn": stack_raw_config("dev")["ciRunner"]["connectionArn"]}, {PROJECT})):
        raw = {**stack_raw_config("dev"), "ciRunner": runner}
        config = parse_platform_config(raw, "us-east-1", "stacks/Pulumi.dev.yaml")
        rec = run_component(lambda c=config: build(c), stack="dev")
        assert {r.type for r in rec.resources} & {PROJECT, WEBHOOK} == expect
        assert rec.stack_outputs["ciRunner"]["webhook"] is False


@pytest.mark.parametrize(
    ("runner", "key", "words"),
    [
        ({"webhook": True}, "ciRunner.webhook", "needs connectionArn"),
        ({"githubRepo": "o/r", "connectionArn": "arn:aws:codeconnections:us-east-1:123456789012:connection/0d5c1e2a-1111-4a6b-9c3d-7e8f90a1b2c3", "webhook": True},
         "ciRunner.allowedActorIds", "required with webhook"),
        ({"connectionArn": "arn:aws:codeconnections:us-east-1:123456789012:connection/0d5c1e2a-1111-4a6b-9c3d-7e8f90a1b2c3"}, "ciRunner.githubRepo", "required with connectionArn"),
        ({"connectionArn": "arn:aws:codestar-connections:us-east-1:123456789012:connection/x"}, "ciRunner.connectionArn", "not a CodeConnections connection ARN"),
        ({"githubRepo": "o/r", "connectionArn": "arn:aws:codeconnections:us-east-1:999999999999:connection/0d5c1e2a-1111-4a6b-9c3d-7e8f90a1b2c3"},
         "ciRunner.connectionArn", "not this environment's accountId 123456789012"),
        ({"githubRepo": "not a repo"}, "ciRunner.githubRepo", "is not <org>/<repo>"),
        ({"computeType": "BUILD_LAMBDA_1GB"}, "ciRunner.computeType", "BUILD_GENERAL1_MEDIUM"),
        ({"buildTimeoutMinutes": 3}, "ciRunner.buildTimeoutMinutes", "greater than or equal to 5"),
        ({"allowedActorIds": [0]}, "ciRunner.allowedActorIds[0]", "greater than 0"),
    ],
)
def test_bad_runner_config_is_one_line(runner, key, words):
    assert_one_line_config_error({**stack_raw_config("dev"), "ciRunner": runner}, key, words)


def test_runner_compute_types_and_timeout_bounds_come_from_botocore():
    import typing

    from components import facts
    from components.config import CiRunnerConfig

    compute = typing.get_args(CiRunnerConfig.model_fields["compute_type"].annotation)
    assert set(compute) <= set(facts._shape("codebuild", "ComputeType")["enum"])
    bounds = facts.shape_limits("codebuild", "BuildTimeOut")
    field = CiRunnerConfig.model_fields["build_timeout_minutes"]
    assert [m.ge for m in field.metadata if hasattr(m, "ge")] == [bounds["min"]] and [m.le for m in field.metadata if hasattr(m, "le")] == [bounds["max"]]
