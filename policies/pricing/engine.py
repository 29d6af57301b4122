"""Price a stack: each resource goes to the price rule of its type, or is named as usage-only or free.

Every ``aws:`` type is accounted for: priced by a rule (``rules.py``, ``sagemaker.py``), listed as
a traffic- or volume-dependent charge (:data:`USAGE_ONLY`), known to carry no charge of its own
(:data:`FREE_TYPES`), or excluded as "no price model", so a new billable type shows up in the
report instead of passing as zero.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable, Iterable
from functools import partial

from .facts import clock, resource_types
from .inputs import StackResource
from .ledger import Ledger
from .report import CostReport
from .rules import RULES
from .sagemaker import EndpointConfigPricing
from .table import PriceTable, default_table

# Charges that depend on traffic or data volume: named, never priced, never zero.
USAGE_ONLY: dict[str, str] = {
    "aws:s3/bucket:Bucket": "S3 storage (GB-month), requests and replication traffic",
    "aws:s3/bucketV2:BucketV2": "S3 storage (GB-month), requests and replication traffic",
    "aws:cloudwatch/logGroup:LogGroup": "CloudWatch Logs ingestion (per GB) and storage",
    "aws:ec2/flowLog:FlowLog": "VPC flow-log delivery (vended logs, per GB)",
    "aws:sagemaker/endpoint:Endpoint": "SageMaker data processed and data-capture storage (instances are priced on the endpoint configuration)",
    "aws:sagemaker/monitoringSchedule:MonitoringSchedule": "Model Monitor processing-job instance time per scheduled run (depends on the captured data)",
    "aws:sagemaker/dataQualityJobDefinition:DataQualityJobDefinition": "Model Monitor processing-job instance time per scheduled run (depends on the captured data)",
    "aws:codebuild/project:Project": "CodeBuild build minutes of the CI runner (one build per deploy job; nothing while idle)",
    "aws:sfn/stateMachine:StateMachine": "Step Functions state transitions of the retrain guard (Standard workflows bill per transition; a handful per trigger event)",
}

# Resource types that carry no charge of their own (their cost, if any, is priced elsewhere).
_FREE_MODULES = frozenset({"iam"})
FREE_TYPES = frozenset(
    {
        "aws:ec2/vpc:Vpc",
        "aws:ec2/subnet:Subnet",
        "aws:ec2/routeTable:RouteTable",
        "aws:ec2/routeTableAssociation:RouteTableAssociation",
        "aws:ec2/route:Route",
        "aws:ec2/internetGateway:InternetGateway",
        "aws:ec2/securityGroup:SecurityGroup",
        "aws:codebuild/webhook:Webhook",
        "aws:ec2/securityGroupRule:SecurityGroupRule",
        "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup",
        "aws:ec2/defaultNetworkAcl:DefaultNetworkAcl",
        "aws:ec2/networkAcl:NetworkAcl",
        "aws:ec2/tag:Tag",
        "aws:ec2/launchTemplate:LaunchTemplate",
        "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
        "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule",
        "aws:eks/addon:Addon",
        "aws:eks/accessEntry:AccessEntry",
        "aws:eks/accessPolicyAssociation:AccessPolicyAssociation",
        "aws:eks/podIdentityAssociation:PodIdentityAssociation",
        "aws:autoscaling/tag:Tag",
        "aws:appautoscaling/target:Target",
        "aws:appautoscaling/policy:Policy",
        "aws:kms/alias:Alias",
        "aws:kms/keyPolicy:KeyPolicy",
        "aws:kms/grant:Grant",
        resource_types.ECR_LIFECYCLE_POLICY,
        resource_types.ECR_REPOSITORY_POLICY,
        "aws:sagemaker/model:Model",
        "aws:sagemaker/modelPackageGroup:ModelPackageGroup",
        resource_types.MODEL_PACKAGE_GROUP_POLICY,
        "aws:sns/topicPolicy:TopicPolicy",
        resource_types.SQS_QUEUE_POLICY,
        resource_types.EVENT_TARGET,  # its rule is priced
    }
)


def is_free(type_token: str) -> bool:
    module = type_token.split(":")[1].split("/")[0] if ":" in type_token else ""
    return type_token in FREE_TYPES or module in _FREE_MODULES or type_token.startswith(("aws:s3/bucket", "aws:s3/Bucket"))


def price_resources(
    resources: Iterable[StackResource],
    *,
    table: PriceTable | None = None,
    on_date: _dt.date | None = None,
) -> CostReport:
    """Price every resource. ``on_date`` (default: the platform clock) decides EKS standard vs extended support."""
    ledger = Ledger(list(resources), table or default_table(), on_date or clock.today())
    endpoint_configs = EndpointConfigPricing(ledger)  # joins the autoscaling targets first
    rules: dict[str, Callable[[StackResource], None]] = {token: partial(rule, ledger) for token, rule in RULES.items()}
    rules[resource_types.SAGEMAKER_ENDPOINT_CONFIG] = endpoint_configs.price
    for resource in ledger.resources:
        rule = rules.get(resource.type)
        if rule is not None:
            rule(resource)
        if resource.type in USAGE_ONLY:
            ledger.exclude(resource, resource.type.rsplit(":", 1)[-1], USAGE_ONLY[resource.type])
        elif rule is None and resource.type.startswith("aws:") and not is_free(resource.type):
            ledger.exclude(resource, resource.type.rsplit(":", 1)[-1], "no price model for this resource type (not counted; review whether it bills)")
    endpoint_configs.report_unjoined_targets()
    return ledger.report()
