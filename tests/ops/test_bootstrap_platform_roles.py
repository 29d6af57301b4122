"""Every role a shipped stack creates works under the permissions boundary bootstrap creates.

Each action of each statement of every platform role's inline policy, in the offline previews of
dev, staging and prod, on each resource the statement names, must pass the boundary
(``iam.permissionsBoundaryArn`` puts it on every one of those roles). The statement's own conditions
are the role's business, not the boundary's, so each action is evaluated on its own; the boundary's
denies still apply. AWS managed policies attached to roles (EKS nodes, CNI) are not in the stack
and not checked here. Outside the ceiling services, the boundary must allow exactly what the
platform needs of Step Functions and of the MLflow tracking server, and no more.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from components.iam.policy import expand_action
from components.training.experiments import MLFLOW_APP_ACTION, tracking_server_logging_actions
from mlopsctl.ops.bootstrap import documents as docs
from mlopsctl.ops.bootstrap.names import Names
from policies.awsfacts import resource_types
from tests.support.iam_eval import is_allowed
from tests.support.stacks import STACK_ACCOUNTS, STACKS, stack_preview

ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
CALLS = json.loads((Path(docs.__file__).parent / "data" / "provider_api_calls.json").read_text())
REGION = "us-east-1"  # the stack files' aws:region


def _boundary(stack: str) -> dict:
    return docs.boundary_policy(Names("mlops", STACK_ACCOUNTS[stack], REGION), f"arn:aws:kms:{REGION}:{STACK_ACCOUNTS[stack]}:key/pulumi-secrets")


def _as_list(value):
    return value if isinstance(value, list) else [value]


def _granted(stack: str) -> list[tuple[str, str, str]]:
    """(policy name, action, resource) for every allowed action of every platform role policy of the stack's preview."""
    granted = []
    for policy in stack_preview(stack).recording.of_type(ROLE_POLICY):
        for statement in _as_list(json.loads(policy.inputs["policy"])["Statement"]):
            if statement["Effect"] != "Allow":
                continue
            for pattern in _as_list(statement["Action"]):
                service = pattern.split(":")[0]
                for record in expand_action(pattern):
                    for resource in _as_list(statement.get("Resource", "*")):
                        granted.append((policy.name, f"{service}:{record['name']}", resource))
    return granted


def _refused(stack: str, granted) -> list[tuple[str, str, str]]:
    boundary = _boundary(stack)
    return [(name, action, resource) for name, action, resource in granted
            if not is_allowed([{"Statement": [{"Effect": "Allow", "Action": action, "Resource": resource}]}], boundary, action, resource)]


@pytest.mark.parametrize("stack", STACKS)
def test_every_action_of_every_platform_role_policy_passes_the_boundary(stack):
    granted = _granted(stack)
    assert _refused(stack, granted) == []
    # The continuous-training roles are among those checked (non-vacuous): the pipeline role, the
    # retrain guard's and trigger's roles, MLflow's store grant and the logging grants.
    actions_by_policy = {}
    for name, action, _ in granted:
        actions_by_policy.setdefault(name, set()).add(action)
    actions = set().union(*actions_by_policy.values())
    assert {"sagemaker:CreateTrainingJob", "sagemaker:CreateProcessingJob", "sagemaker:CreateModelPackage", "ec2:CreateNetworkInterface",
            "sagemaker:ListPipelineExecutions", "sagemaker:StartPipelineExecution", "states:StartExecution"} <= actions
    # Where the stack tracks experiments (dev and staging; prod's stack file has none), the EKS
    # ml-training role and the pipeline role log to the MLflow app.
    if stack_preview(stack).recording.of_type(resource_types.SAGEMAKER_MLFLOW_APP):
        loggers = {name for name, found in actions_by_policy.items() if MLFLOW_APP_ACTION in found}
        assert loggers == {"mlops-platform-experiments-eks-training", "mlops-platform-training-churn-experiments"}, loggers
    else:
        assert stack == "prod" and MLFLOW_APP_ACTION not in actions


def test_a_grant_outside_the_boundary_is_reported():
    granted = [("extra", "states:StopExecution", "*"), ("extra", "lambda:InvokeFunction", "*"), ("extra", "sagemaker-mlflow:DeleteRun", "*"),
               ("ok", "states:StartExecution", f"arn:aws:states:{REGION}:{STACK_ACCOUNTS['dev']}:stateMachine:mlops-dev-churn-retrain-guard")]
    assert [action for _, action, _ in _refused("dev", granted)] == ["states:StopExecution", "lambda:InvokeFunction", "sagemaker-mlflow:DeleteRun"]


def _allowed_by_boundary(service: str) -> set[str]:
    boundary = _boundary("dev")
    return {f"{service}:{record['name']}" for record in expand_action(f"{service}:*")
            if is_allowed([{"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}], boundary, f"{service}:{record['name']}", "*")}


def test_the_boundary_allows_exactly_the_step_functions_actions_the_platform_calls():
    # The provider's calls for the state machine (every phase and its plan-time validation), and the
    # trigger role's StartExecution; nothing else of Step Functions (no StopExecution, no activities).
    record = CALLS["types"][resource_types.STATE_MACHINE]
    provider = {call["action"] for calls in record["phases"].values() for call in calls} | {c["action"] for c in record["plan"]}
    provider |= {need["action"] for need in record["serviceRequired"] if need["action"].startswith("states:")}
    assert _allowed_by_boundary("states") == provider | set(docs.RETRAIN_TRIGGER_ACTIONS)
    assert "states" not in docs.CEILING_SERVICES


def test_the_boundary_allows_exactly_the_mlflow_tracking_server_logging_the_grant_gives():
    # No shipped stack runs a tracking server, but training.experiments.kind may choose one: its
    # logging grant (the same actions) must work under the boundary, and nothing else of
    # sagemaker-mlflow (no deletions, no AccessUI).
    assert _allowed_by_boundary("sagemaker-mlflow") == set(tracking_server_logging_actions())
    assert "sagemaker-mlflow" not in docs.CEILING_SERVICES
