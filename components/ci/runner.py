"""GitHubRunner: an AWS CodeBuild project that runs GitHub Actions deploy jobs inside the VPC.

GitHub-hosted runners cannot reach a private-only EKS API server, so layer 2 deploys from here.
A job asks for it with ``runs-on: codebuild-<project>-${{ github.run_id }}-${{ github.run_attempt }}``.
The runner's own role can write its logs, place its network interfaces in the private subnets and
use the GitHub connection; nothing else: the job assumes the environment's deploy role through
GitHub OIDC, exactly as hosted jobs do. This repository is public, so only workflow jobs queued by
the configured maintainers' GitHub ids start a build (the webhook's filter); a fork's pull request
never does (docs/operations.md, "The in-VPC runner").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.config import CiRunnerConfig, runner_project_name
from components.iam.policy import Statement
from components.iam.roles import inline_policy, service_role
from components.scope import AwsScope

RUNS_ON_LABEL = "codebuild-{project}-${{{{ github.run_id }}}}-${{{{ github.run_attempt }}}}"
# Who may approve a pull request's build, if a PR event ever reached this webhook.
PR_APPROVER_ROLES = ("GITHUB_MAINTAIN", "GITHUB_ADMIN")


@dataclass(frozen=True)
class GitHubRunnerArgs:
    """Inputs of :class:`GitHubRunner`.

    config: the validated ``ciRunner`` section (required; with ``connectionArn``, else nothing is made).
    scope: where the project runs (region, account and partition scope the role's statements),
        the name stem of the project (``<stem>-gha-runner``), the boundary of the service role
        and the tags of the project (required).
    vpc_id, subnet_ids: the private subnets (with NAT egress) the builds run in (required).
    api_security_group_id: the EKS API server's additional security group; admits the runner on 443 (required).
    logs_kms_key_arn: KMS key of the build log group (required; its policy allows CloudWatch Logs).
    encryption_key_arn: KMS key CodeBuild would encrypt build artifacts with (required; this
        project has none, so the key is only ever used if artifacts are added later).
    """

    config: CiRunnerConfig
    scope: AwsScope
    vpc_id: pulumi.Input[str]
    subnet_ids: pulumi.Input[Sequence[pulumi.Input[str]]]
    api_security_group_id: pulumi.Input[str]
    logs_kms_key_arn: pulumi.Input[str]
    encryption_key_arn: pulumi.Input[str]


class GitHubRunner(pulumi.ComponentResource):
    """Security group, log group, service role, CodeBuild project and (when enabled) its webhook."""

    def __init__(self, name: str, args: GitHubRunnerArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("mlops:ci:GitHubRunner", name, None, opts)
        config, scope = args.config, args.scope
        child = pulumi.ResourceOptions(parent=self)
        self.project_name = runner_project_name(scope.name_stem)
        self.project: aws.codebuild.Project | None = None
        self.webhook: aws.codebuild.Webhook | None = None

        self.security_group = aws.ec2.SecurityGroup(
            f"{name}-sg",
            vpc_id=args.vpc_id,
            description=f"CodeBuild GitHub Actions runner {self.project_name}: HTTPS out only",
            egress=[],  # explicit rules below; no allow-all default
            tags={"Name": f"{self.project_name}"},
            opts=child,
        )
        # GitHub (job traffic, actions), AWS APIs and package registries are public HTTPS endpoints
        # reached through the NAT gateway; the EKS API server is inside the VPC.
        aws.vpc.SecurityGroupEgressRule(
            f"{name}-https-out",
            security_group_id=self.security_group.id,
            description="HTTPS to GitHub, AWS APIs and package registries (through NAT) and the EKS API server",
            ip_protocol="tcp",
            from_port=443,
            to_port=443,
            cidr_ipv4="0.0.0.0/0",
            opts=child,
        )
        self.api_ingress = aws.vpc.SecurityGroupIngressRule(
            f"{name}-to-eks-api",
            security_group_id=args.api_security_group_id,
            description=f"Kubernetes API (HTTPS) from the CI runner {self.project_name}",
            ip_protocol="tcp",
            from_port=443,
            to_port=443,
            referenced_security_group_id=self.security_group.id,
            opts=child,
        )
        self.log_group = aws.cloudwatch.LogGroup(
            f"{name}-logs",
            name=f"/aws/codebuild/{self.project_name}",
            retention_in_days=config.log_retention_days,
            kms_key_id=args.logs_kms_key_arn,
            opts=child,
        )
        project_arn = pulumi.Output.concat("arn:", scope.partition, f":codebuild:{scope.region}:", scope.account_id, f":project/{self.project_name}")
        self.role = service_role(
            f"{name}-role",
            scope,
            service="codebuild.amazonaws.com",
            description=f"CodeBuild GitHub Actions runner {self.project_name}: logs, VPC interfaces, the GitHub connection; no deploy rights",
            extra_conditions={"ArnLike": {"aws:SourceArn": project_arn}},
            opts=child,
        )
        self.policy = inline_policy(f"{name}-role", self.role, self._statements(args, config, self.security_group.id), child)
        self.outputs: dict[str, pulumi.Input] = {
            "projectName": self.project_name,
            "runsOn": RUNS_ON_LABEL.format(project=self.project_name),
            "securityGroupId": self.security_group.id,
            "serviceRoleArn": self.role.arn,
            "webhook": False,
        }
        if config.enabled:
            self._project(name, args, config)
        self.register_outputs(self.outputs)

    @staticmethod
    def _statements(args: GitHubRunnerArgs, config: CiRunnerConfig, security_group_id: pulumi.Input[str]) -> list[Statement]:
        scope = args.scope
        partition, region, account_id = scope.partition, scope.region, scope.account_id
        log_group = pulumi.Output.concat("arn:", partition, f":logs:{region}:", account_id, f":log-group:/aws/codebuild/{runner_project_name(scope.name_stem)}")
        subnet_arns = pulumi.Output.all(partition, account_id, args.subnet_ids).apply(
            lambda values: [f"arn:{values[0]}:ec2:{region}:{values[1]}:subnet/{subnet}" for subnet in values[2]]
        )
        network_interfaces = pulumi.Output.concat("arn:", partition, f":ec2:{region}:", account_id, ":network-interface/*")
        subnets = pulumi.Output.concat("arn:", partition, f":ec2:{region}:", account_id, ":subnet/*")
        security_group_arn = pulumi.Output.concat("arn:", partition, f":ec2:{region}:", account_id, ":security-group/", security_group_id)
        statements = [
            Statement(sid="WriteBuildLogs", actions=["logs:CreateLogStream", "logs:PutLogEvents"], resources=[log_group, pulumi.Output.concat(log_group, ":*")]),
            Statement(
                sid="DescribeTheNetwork",
                actions=["ec2:DescribeDhcpOptions", "ec2:DescribeNetworkInterfaces", "ec2:DescribeSecurityGroups", "ec2:DescribeSubnets", "ec2:DescribeVpcs"],
                resources=["*"],  # Describe calls support no resource scoping
            ),
            # CodeBuild's documented VPC set names "*": scoped here to interfaces with the runner's own group
            # (the subnets are fixed by the permission statement below, which only CodeBuild can use).
            Statement(
                sid="InterfacesWithTheRunnerGroup",
                actions=["ec2:CreateNetworkInterface"],
                resources=[network_interfaces, subnets, security_group_arn],
            ),
            Statement(sid="RemoveItsInterfaces", actions=["ec2:DeleteNetworkInterface"], resources=[network_interfaces]),
            Statement(
                sid="AttachInterfacesInPrivateSubnetsOnly",
                actions=["ec2:CreateNetworkInterfacePermission"],
                resources=[network_interfaces],
                conditions={"StringEquals": {"ec2:AuthorizedService": "codebuild.amazonaws.com"}, "ArnEquals": {"ec2:Subnet": subnet_arns}},
            ),
        ]
        if config.connection_arn:
            statements.append(
                Statement(
                    sid="UseTheGitHubConnection",
                    actions=["codeconnections:GetConnection", "codeconnections:GetConnectionToken", "codeconnections:UseConnection"],
                    resources=[config.connection_arn],
                )
            )
        return statements

    def _project(self, name: str, args: GitHubRunnerArgs, config: CiRunnerConfig) -> None:
        # CreateProject checks the connection with the role's own permissions: the policy first.
        after_policy = pulumi.ResourceOptions(parent=self, depends_on=[self.policy, self.log_group])
        self.project = aws.codebuild.Project(
            f"{name}-project",
            name=self.project_name,
            description=f"GitHub Actions runner for {config.github_repo} deploy jobs, inside the VPC (layer 2)",
            service_role=self.role.arn,
            source=aws.codebuild.ProjectSourceArgs(
                type="GITHUB",
                location=f"https://github.com/{config.github_repo}.git",
                auth=aws.codebuild.ProjectSourceAuthArgs(type="CODECONNECTIONS", resource=config.connection_arn),
                report_build_status=False,
            ),
            artifacts=aws.codebuild.ProjectArtifactsArgs(type="NO_ARTIFACTS"),
            environment=aws.codebuild.ProjectEnvironmentArgs(
                type="LINUX_CONTAINER", compute_type=config.compute_type, image=config.image, privileged_mode=False,
                image_pull_credentials_type="CODEBUILD",
            ),
            vpc_config=aws.codebuild.ProjectVpcConfigArgs(vpc_id=args.vpc_id, subnets=args.subnet_ids, security_group_ids=[self.security_group.id]),
            logs_config=aws.codebuild.ProjectLogsConfigArgs(
                cloudwatch_logs=aws.codebuild.ProjectLogsConfigCloudwatchLogsArgs(status="ENABLED", group_name=self.log_group.name),
                s3_logs=aws.codebuild.ProjectLogsConfigS3LogsArgs(status="DISABLED"),
            ),
            encryption_key=args.encryption_key_arn,
            build_timeout=config.build_timeout_minutes,
            queued_timeout=30,
            concurrent_build_limit=config.concurrent_build_limit,
            tags=dict(args.scope.tags),
            opts=after_policy,
        )
        self.outputs["projectArn"] = self.project.arn
        if not config.webhook:
            return
        actors = "|".join(str(actor) for actor in config.allowed_actor_ids)
        self.webhook = aws.codebuild.Webhook(
            f"{name}-webhook",
            project_name=self.project.name,
            build_type="BUILD",
            filter_groups=[
                aws.codebuild.WebhookFilterGroupArgs(
                    filters=[
                        aws.codebuild.WebhookFilterGroupFilterArgs(type="EVENT", pattern="WORKFLOW_JOB_QUEUED"),
                        # Only the maintainers' own jobs: a fork's pull request is queued by its author.
                        aws.codebuild.WebhookFilterGroupFilterArgs(type="ACTOR_ACCOUNT_ID", pattern=f"^({actors})$"),
                    ]
                )
            ],
            pull_request_build_policy=aws.codebuild.WebhookPullRequestBuildPolicyArgs(
                requires_comment_approval="FORK_PULL_REQUESTS", approver_roles=list(PR_APPROVER_ROLES)
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.policy]),
        )
        self.outputs["webhook"] = True
