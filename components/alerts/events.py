"""The SageMaker events the platform alerts on: one EventBridge rule each, its pattern and its message.

Every event is one SageMaker sends to the account's default bus (source ``aws.sagemaker``; the
detail types and fields are those of AWS's "Events that Amazon SageMaker AI sends to Amazon
EventBridge", https://docs.aws.amazon.com/sagemaker/latest/dg/automating-sagemaker-with-eventbridge.html;
docs/alerts.md says what each rule means). Each pattern is restricted to this stack's resources:

- endpoints by name: every platform endpoint is named ``<namePrefix>-<environment>-<name>``
  (``scope.name``), so an ``EndpointName`` prefix of the stack's name stem and ``-``;
- monitoring runs by the schedule that launched them: a Model Monitor run is a processing job, and
  the event's detail is the job's description, whose ``MonitoringScheduleArn`` names the schedule
  (DescribeProcessingJob). Schedules are auto-named from ``<name stem>-<endpoint>-drift``, so an
  ARN prefix of this account's, region's and stack's schedules; processing jobs of anyone else
  (training pipelines, other teams, other stacks) never match;
- model packages by group: the registry's groups, by exact name.

Messages go through an input transformer so a person reads what happened and to what, not a raw
event. Placeholders sit inside JSON strings, where EventBridge inserts the value as text.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi

from components.scope import AwsScope

SAGEMAKER_SOURCE = "aws.sagemaker"
# Statuses in the spelling EventBridge's SageMaker events use (upper snake case: "IN_SERVICE",
# "UPDATING" in AWS's samples) for DescribeEndpoint's Failed, RollingBack, UpdateRollbackFailed
# and OutOfService.
ENDPOINT_FAILED = ("FAILED", "UPDATE_ROLLBACK_FAILED", "OUT_OF_SERVICE")
DEPLOYMENT_FAILED_OR_ROLLED_BACK = ("FAILED", "ROLLING_BACK", "UPDATE_ROLLBACK_FAILED")
# Model Monitor's exit message of a run that found violations starts with this (the monitoring
# execution status CompletedWithViolations; "Interpret results" in the Model Monitor guide).
VIOLATIONS_EXIT_MESSAGE_PREFIX = "CompletedWithViolations"
APPROVAL_DECISIONS = ("Approved", "Rejected")
APPROVED = "Approved"
MODEL_PACKAGE_STATE_CHANGE = "SageMaker Model Package State Change"
PROCESSING_JOB_STATE_CHANGE = "SageMaker Processing Job State Change"


@dataclass(frozen=True)
class AlertRule:
    """One rule: ``stem`` names it (``<name stem>-<stem>``), ``detail_type`` and ``detail`` make its
    pattern, ``paths`` and ``message`` its input transformer (``message`` values may hold ``<path>``)."""

    stem: str
    description: str
    detail_type: str
    detail: Mapping[str, Any]
    paths: Mapping[str, str]
    message: Mapping[str, str] = field(default_factory=dict)

    def event_pattern(self) -> pulumi.Output[str]:
        pattern = {"source": [SAGEMAKER_SOURCE], "detail-type": [self.detail_type], "detail": dict(self.detail)}
        return pulumi.Output.from_input(pattern).apply(lambda value: json.dumps(value, sort_keys=True))

    def input_template(self) -> str:
        return json.dumps(dict(self.message), sort_keys=False)


_COMMON_PATHS = {"account": "$.account", "region": "$.region", "at": "$.time"}
_COMMON_MESSAGE = {"account": "<account>", "region": "<region>", "at": "<at>"}


def monitoring_schedules_prefix(scope: AwsScope, name_prefix: str) -> pulumi.Output[str]:
    """The ARN prefix of this account's and region's monitoring schedules auto-named from
    ``name_prefix`` (Pulumi appends ``-<suffix>``): the stack's (its stem) or one endpoint's
    (``<stem>-<endpoint>-drift``)."""
    return pulumi.Output.concat(
        "arn:", scope.partition, ":sagemaker:", scope.region, ":", scope.account_id, ":monitoring-schedule/", name_prefix, "-"
    )


def alert_rules(scope: AwsScope, model_package_groups: Sequence[str]) -> list[AlertRule]:
    """The platform's rules for ``scope``'s stack; the approval rule only when there are groups."""
    endpoints = [{"prefix": f"{scope.name_stem}-"}]
    schedules = monitoring_schedules_prefix(scope, scope.name_stem)
    rules = [
        AlertRule(
            stem="endpoint-deployment",
            description="A blue/green deployment of a platform endpoint failed or was rolled back",
            detail_type="SageMaker Endpoint Deployment State Change",
            # A rollback that finished leaves the endpoint IN_SERVICE with the reason it rolled back.
            detail={"EndpointName": endpoints, "$or": [{"EndpointStatus": list(DEPLOYMENT_FAILED_OR_ROLLED_BACK)}, {"FailureReason": [{"exists": True}]}]},
            paths={"endpoint": "$.detail.EndpointName", "status": "$.detail.EndpointStatus", "reason": "$.detail.FailureReason", **_COMMON_PATHS},
            message={"alert": "Endpoint deployment failed or rolled back", "endpoint": "<endpoint>", "status": "<status>", "reason": "<reason>",
                     **_COMMON_MESSAGE},
        ),
        AlertRule(
            stem="endpoint-status",
            description="A platform endpoint failed or went out of service",
            detail_type="SageMaker Endpoint State Change",
            detail={"EndpointName": endpoints, "EndpointStatus": list(ENDPOINT_FAILED)},
            paths={"endpoint": "$.detail.EndpointName", "status": "$.detail.EndpointStatus", **_COMMON_PATHS},
            message={"alert": "Endpoint failed", "endpoint": "<endpoint>", "status": "<status>", **_COMMON_MESSAGE},
        ),
        AlertRule(
            stem="drift-monitoring",
            description="A drift-monitoring run of a platform endpoint found violations or failed",
            detail_type=PROCESSING_JOB_STATE_CHANGE,
            detail={
                "MonitoringScheduleArn": [{"prefix": schedules}],
                "$or": [
                    {"ProcessingJobStatus": ["Completed"], "ExitMessage": [{"prefix": VIOLATIONS_EXIT_MESSAGE_PREFIX}]},
                    {"ProcessingJobStatus": ["Failed"]},
                ],
            },
            paths={"job": "$.detail.ProcessingJobName", "schedule": "$.detail.MonitoringScheduleArn", "status": "$.detail.ProcessingJobStatus",
                   "result": "$.detail.ExitMessage", "reason": "$.detail.FailureReason", **_COMMON_PATHS},
            message={"alert": "Drift monitoring found violations or failed", "schedule": "<schedule>", "job": "<job>", "status": "<status>",
                     "result": "<result>", "reason": "<reason>", **_COMMON_MESSAGE},
        ),
    ]
    if model_package_groups:
        rules.append(
            AlertRule(
                stem="model-approval",
                description="A model package of a platform model family was approved or rejected",
                detail_type=MODEL_PACKAGE_STATE_CHANGE,
                detail={"ModelPackageGroupName": sorted(set(model_package_groups)), "ModelApprovalStatus": list(APPROVAL_DECISIONS)},
                paths={"group": "$.detail.ModelPackageGroupName", "version": "$.detail.ModelPackageVersion", "package": "$.detail.ModelPackageArn",
                       "approval": "$.detail.ModelApprovalStatus", **_COMMON_PATHS},
                message={"alert": "Model package approval changed", "group": "<group>", "version": "<version>", "package": "<package>",
                         "approval": "<approval>", **_COMMON_MESSAGE},
            )
        )
    return rules
