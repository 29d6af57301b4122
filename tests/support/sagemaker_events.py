"""Sample SageMaker events for the alert rules, one that must reach the topic and near misses that must not.

Each sample follows an event AWS documents: the layout (``source``, ``detail-type``, the
``detail`` fields and their spelling) is the documented one, at :data:`SOURCES`; only the values
that name resources (account, region, endpoint, schedule, group) are this stack's, and each
sample says which status it sets. The processing-job event has no example of its own for a
monitoring run: its ``detail`` is the job's description, so its fields are DescribeProcessingJob's
response fields (``MonitoringScheduleArn`` among them: the schedule that launched the job), with
the exit message Model Monitor's analyzer writes.

:func:`entry` turns a sample into a ``PutEvents`` entry, as SageMaker would send it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

SOURCES = {
    "events": "https://docs.aws.amazon.com/sagemaker/latest/dg/automating-sagemaker-with-eventbridge.html",
    "processing-job": "https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_DescribeProcessingJob.html",
    "monitor-results": "https://docs.aws.amazon.com/sagemaker/latest/dg/model-monitor-interpreting-results.html",
}


@dataclass(frozen=True)
class SampleEvent:
    """One event: what it is (``why``), where its layout is documented (``source``), and its fields."""

    why: str
    source: str
    detail_type: str
    detail: dict[str, Any]
    resources: tuple[str, ...] = ()


def entry(event: SampleEvent) -> dict[str, Any]:
    return {"Source": "aws.sagemaker", "DetailType": event.detail_type, "Detail": json.dumps(event.detail), "Resources": list(event.resources)}


def _arn(account: str, region: str, kind: str, name: str) -> str:
    return f"arn:aws:sagemaker:{region}:{account}:{kind}/{name}"


def deployment(account: str, region: str, endpoint: str, status: str, failure_reason: str | None = None) -> SampleEvent:
    """"SageMaker endpoint deployment state change", AWS's blue/green canary sample with ``status``."""
    detail: dict[str, Any] = {
        "EndpointName": endpoint,
        "EndpointArn": _arn(account, region, "endpoint", endpoint),
        "EndpointConfigName": f"{endpoint}-config-1",
        "ProductionVariants": [{"VariantName": "primary", "CurrentWeight": 1, "DesiredWeight": 1, "CurrentInstanceCount": 2, "DesiredInstanceCount": 2}],
        "EndpointStatus": status,
        "CreationTime": 1635195148181,
        "LastModifiedTime": 1635195148181,
        "Tags": {},
        "PendingDeploymentSummary": {
            "EndpointConfigName": f"{endpoint}-config-2",
            "ProductionVariants": [{
                "VariantName": "primary", "CurrentWeight": 1, "DesiredWeight": 1, "CurrentInstanceCount": 1, "DesiredInstanceCount": 2,
                "VariantStatus": [{"Status": "Baking", "StatusMessage": "Baking for 600 seconds (TerminationWaitInSeconds) with traffic enabled on canary capacity of 1 instance(s).",
                                   "StartTime": 1635195269181}],
            }],
        },
    }
    if failure_reason is not None:
        detail["FailureReason"] = failure_reason
    return SampleEvent(f"deployment of {endpoint} {status}", SOURCES["events"], "SageMaker Endpoint Deployment State Change", detail,
                       (_arn(account, region, "endpoint", endpoint),))


def endpoint_state(account: str, region: str, endpoint: str, status: str) -> SampleEvent:
    """"SageMaker endpoint state change", AWS's sample with ``status``."""
    detail = {
        "EndpointName": endpoint,
        "EndpointArn": _arn(account, region, "endpoint", endpoint),
        "EndpointConfigName": f"{endpoint}-config-1",
        "ProductionVariants": [{"DesiredWeight": 1.0, "DesiredInstanceCount": 1.0}],
        "EndpointStatus": status,
        "CreationTime": 1592411992203.0,
        "LastModifiedTime": 1592411994287.0,
        "Tags": {},
    }
    return SampleEvent(f"{endpoint} {status}", SOURCES["events"], "SageMaker Endpoint State Change", detail, (_arn(account, region, "endpoint", endpoint),))


def processing_job(account: str, region: str, job: str, status: str, *, exit_message: str | None = None, schedule_arn: str | None = None,
                   failure_reason: str | None = None) -> SampleEvent:
    """"SageMaker Processing Job State Change" of ``job``: a monitoring run when ``schedule_arn`` names its schedule."""
    detail: dict[str, Any] = {
        "ProcessingJobName": job,
        "ProcessingJobArn": _arn(account, region, "processing-job", job),
        "ProcessingJobStatus": status,
        "ProcessingResources": {"ClusterConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.large", "VolumeSizeInGB": 20}},
        "StoppingCondition": {"MaxRuntimeInSeconds": 1800},
        "AppSpecification": {"ImageUri": "156813124566.dkr.ecr.us-east-1.amazonaws.com/sagemaker-model-monitor-analyzer"},
        "RoleArn": f"arn:aws:iam::{account}:role/mlops-prod-drift-monitor",
        "CreationTime": 1589879735000,
        "LastModifiedTime": 1589879735000,
    }
    for key, value in (("ExitMessage", exit_message), ("MonitoringScheduleArn", schedule_arn), ("FailureReason", failure_reason)):
        if value is not None:
            detail[key] = value
    return SampleEvent(f"{job} {status} {exit_message or failure_reason or ''}".strip(), SOURCES["processing-job"], "SageMaker Processing Job State Change",
                       detail, (_arn(account, region, "processing-job", job),))


def model_package(account: str, region: str, group: str, approval: str, version: int = 2) -> SampleEvent:
    """"SageMaker model package state change", AWS's sample in ``group`` with ``approval``."""
    package = _arn(account, region, "model-package", f"{group}/{version}")
    detail = {
        "ModelPackageGroupName": group,
        "ModelPackageVersion": version,
        "ModelPackageArn": package,
        "CreationTime": "2021-02-24T17:00:14Z",
        "InferenceSpecification": {"Containers": [{"Image": "257758044811.dkr.ecr.us-east-2.amazonaws.com/sagemaker-xgboost:1.0-1-cpu-py3"}],
                                   "SupportedContentTypes": ["text/csv"], "SupportedResponseMIMETypes": ["text/csv"]},
        "ModelPackageStatus": "Completed",
        "ModelPackageStatusDetails": {"ValidationStatuses": [], "ImageScanStatuses": []},
        "CertifyForMarketplace": False,
        "ModelApprovalStatus": approval,
        "LastModifiedTime": "2021-02-24T17:00:14Z",
    }
    return SampleEvent(f"{group}/{version} {approval}", SOURCES["events"], "SageMaker Model Package State Change", detail, (package,))
