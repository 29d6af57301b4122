"""``mlopsctl verify`` of continuous training: each family's pipeline, guard, triggers and last run, and MLflow.

Pipelines, executions, state machines and rules run on moto (in-process). moto gaps, and how each
path is covered instead:
- moto has no MLflow API (DescribeMlflowApp, DescribeMlflowTrackingServer): the status paths are
  tested with botocore's Stubber, whose responses are validated against the sagemaker model; a
  whole stack with experiment tracking is answered by tests/support/mlflow.py.
- moto's DescribeStateMachine always says ACTIVE: another status is answered by the Stubber on the
  stepfunctions client (only the guard check uses it; moto answers the rest of the run).
- moto ignores ListPipelineExecutions' SortBy, SortOrder and MaxResults and lists every execution
  oldest first; verify takes the newest start of the page, and the request itself is checked with
  the Stubber. Every moto execution ends Succeeded: a Failed one is set on moto's backend object.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import boto3
import pytest
from botocore.exceptions import ParamValidationError
from botocore.stub import Stubber
from moto.sagemaker.models import sagemaker_backends

from components.config import parse_platform_config
from mlopsctl.ops.awsclients import AwsClients
from mlopsctl.ops.bootstrap import documents
from mlopsctl.ops.verify import FAIL, PASS, SKIP, WARN, Verifier, failed
from mlopsctl.ops.verify import training as checks
from mlopsctl.ops.verify.promotion import verify_promotion
from mlopsctl.ops.verify.training import verify_training
from policies.awsfacts import botocore_models
from tests.support import mlflow
from tests.support.aws_seed import ACCOUNT, BUCKET, REGION, Seed, moto_account, seed_stack, training_names
from tests.support.stacks import stack_raw_config
from tests.support.training import CHURN_TRAINING


def _config(stack: str, training: dict | None = None, experiments: dict | None = None):
    raw = stack_raw_config(stack)
    if training is not None:
        raw["serving"]["endpoints"][0]["training"] = {**CHURN_TRAINING, **training}
    else:
        raw["serving"]["endpoints"][0].pop("training", None)  # the shipped stacks train churn
    if experiments is not None:
        raw["training"] = {"experiments": experiments}
    raw.setdefault("storage", {})["replication"] = {"enabled": False}  # moto cannot represent SSE-KMS replication
    return parse_platform_config(raw, REGION, f"stacks/Pulumi.{stack}.yaml")


# prod: the schedule (enabled by training.schedulesByDefault) and retraining on drift (prod's drift
# monitoring watches churn), MLflow as a tracking server. staging: the schedule only, an MLflow app.
PROD = _config("prod", {}, {"enabled": True, "kind": "trackingServer"})
STAGING = _config("staging", {})
PIPELINE = training_names(PROD, "churn")
GUARD = f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:{PIPELINE['guard']}"
TRAINING_CHECKS = ("pipeline.", "experiments.")


@pytest.fixture
def aws(monkeypatch):
    with moto_account(monkeypatch, REGION):
        yield


def run(config, outputs, clients=None):
    return Verifier(config, outputs, clients or AwsClients(config.region)).run()


def training_results(results):
    return {(r.check, r.resource): r for r in results if r.check.startswith(TRAINING_CHECKS)}


def only_problem(results, check, reason, status=FAIL):
    bad = [r for r in results if r.status not in (PASS, SKIP)]
    assert len(bad) == 1, [(r.check, r.resource, r.status, r.reason) for r in bad]
    [result] = bad
    assert (result.check, result.status) == (check, status), result
    assert reason in result.reason, result.reason
    return result


def test_compliant_family_and_tracking_server_pass_every_check(aws):
    results = run(PROD, seed_stack(PROD))
    assert {r.status for r in results} == {PASS, SKIP}
    pipeline, rules = f"sagemaker pipeline {PIPELINE['pipeline']}", "eventbridge rule "
    assert {key: r.reason for key, r in training_results(results).items()} == {
        ("pipeline.status", pipeline): "status Active",
        ("pipeline.role", pipeline): f"runs as {PIPELINE['role']}",
        ("pipeline.guard", f"stepfunctions state machine {PIPELINE['guard']}"): f"ACTIVE ({PIPELINE['guard']})",
        ("pipeline.schedule", rules + PIPELINE["schedule"]): "ENABLED, cron(0 3 ? * MON *), targets the guard only",
        ("pipeline.drift", rules + PIPELINE["drift"]): "ENABLED, targets the guard only",
        ("pipeline.lastExecution", pipeline): "no execution yet",
        ("experiments.status", "sagemaker mlflow tracking server mlops-prod-mlflow"): "Created: in service",
        ("experiments.artifactStore", "sagemaker mlflow tracking server mlops-prod-mlflow"): f"artifacts in s3://{BUCKET}/experiments/",
    }


def test_staging_has_no_drift_trigger_and_an_mlflow_app(aws):
    results = training_results(run(STAGING, seed_stack(STAGING)))
    names = training_names(STAGING, "churn")
    assert results[("pipeline.drift", "training family churn")].status == SKIP
    assert results[("pipeline.drift", "training family churn")].reason == "no drift trigger in the stack config"
    assert results[("pipeline.schedule", f"eventbridge rule {names['schedule']}")].status == PASS
    assert results[("experiments.status", "sagemaker mlflow app mlops-staging-mlflow")].reason == "Created: in service"


def test_a_disabled_schedule_must_be_disabled(aws):
    dev = _config("dev", {"spot": False})  # dev: training.schedulesByDefault is false
    outputs = seed_stack(dev)
    rule = training_names(dev, "churn")["schedule"]
    schedule = training_results(run(dev, outputs))[("pipeline.schedule", f"eventbridge rule {rule}")]
    assert (schedule.status, schedule.reason) == (PASS, "DISABLED, cron(0 3 ? * MON *), targets the guard only")
    boto3.client("events", region_name=REGION).enable_rule(Name=rule)
    only_problem(run(dev, outputs), "pipeline.schedule", "state ENABLED, want DISABLED (schedule.enabled, else training.schedulesByDefault)")


def test_a_family_without_triggers_has_no_guard_and_needs_none(aws):
    manual = _config("staging", {"schedule": None})  # staging watches no drift: runs start by hand only
    outputs = seed_stack(manual)
    family = outputs["training"]["pipelines"]["churn"]
    family.update(guardStateMachineArn=None, scheduleRuleName=None)
    guard = training_results(run(manual, outputs))[("pipeline.guard", f"sagemaker pipeline {family['name']}")]
    assert (guard.status, guard.reason) == (PASS, "no retrain guard: the family has no trigger")


def test_a_family_with_a_trigger_but_no_guard_in_the_outputs_fails(aws):
    scheduled = seed_stack(STAGING)
    scheduled["training"]["pipelines"]["churn"]["guardStateMachineArn"] = None
    results = training_results(run(STAGING, scheduled))
    guard = results[("pipeline.guard", "sagemaker pipeline mlops-staging-churn-training")]
    assert (guard.status, guard.reason) == (FAIL, "the stack file gives this family a trigger, but the outputs name no retrain guard")
    # The schedule's target, the real guard, is then not the outputs' (none) either.
    assert results[("pipeline.schedule", f"eventbridge rule {training_names(STAGING, 'churn')['schedule']}")].status == FAIL


# --- the pipeline and its guard ---------------------------------------------------------------------


def test_a_missing_pipeline_fails_its_checks_and_its_last_execution(aws):
    outputs = seed_stack(PROD)
    boto3.client("sagemaker", region_name=REGION).delete_pipeline(PipelineName=PIPELINE["pipeline"], ClientRequestToken="d" * 32)
    failing = [(r.check, r.reason) for r in run(PROD, outputs) if r.status == FAIL]
    missing = f"no SageMaker pipeline {PIPELINE['pipeline']} in {REGION}"
    assert failing == [("pipeline.status", missing), ("pipeline.role", missing), ("pipeline.lastExecution", missing)]


def test_a_pipeline_being_deleted_fails(aws):
    outputs = seed_stack(PROD)
    sagemaker_backends[ACCOUNT][REGION].pipelines[PIPELINE["pipeline"]].pipeline_status = "Deleting"
    only_problem(run(PROD, outputs), "pipeline.status", "status Deleting, want Active")


def test_a_pipeline_running_as_another_role_fails(aws):
    outputs = seed_stack(PROD)
    outputs["training"]["pipelines"]["churn"]["roleArn"] = f"arn:aws:iam::{ACCOUNT}:role/other"
    only_problem(run(PROD, outputs), "pipeline.role",
                 f"runs as {PIPELINE['role']}; the outputs' training.pipelines.churn.roleArn is arn:aws:iam::{ACCOUNT}:role/other")


def test_a_missing_guard_fails(aws):
    outputs = seed_stack(PROD)
    boto3.client("stepfunctions", region_name=REGION).delete_state_machine(stateMachineArn=GUARD)
    only_problem(run(PROD, outputs), "pipeline.guard", f"no Step Functions state machine {GUARD}: no trigger can start a run")


def test_a_guard_being_deleted_fails_with_stubber(aws):
    """moto's DescribeStateMachine always answers ACTIVE; the stepfunctions client answers from the Stubber."""
    outputs = seed_stack(PROD)
    clients = AwsClients(REGION)
    stub = Stubber(clients.client("stepfunctions"))
    stub.add_response("describe_state_machine", {
        "stateMachineArn": GUARD, "name": PIPELINE["guard"], "status": "DELETING", "definition": "{}",
        "roleArn": f"arn:aws:iam::{ACCOUNT}:role/g", "type": "STANDARD", "creationDate": "2026-12-01T00:00:00Z"}, {"stateMachineArn": GUARD})
    with stub:
        results = run(PROD, outputs, clients)
    stub.assert_no_pending_responses()
    only_problem(results, "pipeline.guard", "status DELETING, want ACTIVE")


# --- the triggers -----------------------------------------------------------------------------------


def test_a_schedule_rule_in_the_wrong_state_fails(aws):
    outputs = seed_stack(PROD)
    boto3.client("events", region_name=REGION).disable_rule(Name=PIPELINE["schedule"])
    only_problem(run(PROD, outputs), "pipeline.schedule", "state DISABLED, want ENABLED (schedule.enabled, else training.schedulesByDefault)")


def test_a_schedule_with_another_expression_fails(aws):
    outputs = seed_stack(PROD)
    boto3.client("events", region_name=REGION).put_rule(Name=PIPELINE["schedule"], ScheduleExpression="rate(1 hour)", State="ENABLED")
    only_problem(run(PROD, outputs), "pipeline.schedule", "schedule rate(1 hour), config says cron(0 3 ? * MON *)")


def test_a_trigger_that_also_starts_the_pipeline_directly_fails(aws):
    outputs = seed_stack(PROD)
    pipeline_arn = outputs["training"]["pipelines"]["churn"]["arn"]
    boto3.client("events", region_name=REGION).put_targets(Rule=PIPELINE["drift"], Targets=[
        {"Id": "direct", "Arn": pipeline_arn, "RoleArn": f"arn:aws:iam::{ACCOUNT}:role/x"}])
    only_problem(run(PROD, outputs), "pipeline.drift", f"also targets {pipeline_arn}, which would start runs the guard never sees")


def test_a_trigger_without_the_guard_fails(aws):
    outputs = seed_stack(PROD)
    boto3.client("events", region_name=REGION).remove_targets(Rule=PIPELINE["schedule"], Ids=["retrain-guard"])
    only_problem(run(PROD, outputs), "pipeline.schedule", f"does not target the guard {GUARD} (targets: none)")


def test_a_missing_rule_fails(aws):
    outputs = seed_stack(PROD)
    events = boto3.client("events", region_name=REGION)
    events.remove_targets(Rule=PIPELINE["drift"], Ids=["retrain-guard"])
    events.delete_rule(Name=PIPELINE["drift"])
    only_problem(run(PROD, outputs), "pipeline.drift", f"no EventBridge rule {PIPELINE['drift']} in {REGION}")


def test_outputs_that_disagree_with_the_config_about_triggers_fail(aws):
    outputs = seed_stack(PROD)
    out = outputs["training"]["pipelines"]["churn"]
    out["scheduleEnabled"] = False
    only_problem(run(PROD, outputs), "pipeline.schedule",
                 "the outputs' training.pipelines.churn.scheduleEnabled is false, but the stack config says true: deploy the stack file")
    out["scheduleEnabled"], out["driftRuleName"] = True, None
    only_problem(run(PROD, outputs), "pipeline.drift",
                 "serving.endpoints[churn].training.retrainOnDrift (unset: on where drift monitoring watches churn) is set, but the outputs' "
                 "training.pipelines.churn.driftRuleName is null: no rule starts the guard")


def test_a_rule_the_config_does_not_have_fails(aws):
    outputs = seed_stack(STAGING)
    outputs["training"]["pipelines"]["churn"]["driftRuleName"] = "mlops-staging-churn-retrain-drift"
    only_problem(run(STAGING, outputs), "pipeline.drift",
                 "the outputs' training.pipelines.churn.driftRuleName names a rule, but the stack config has no drift trigger for churn")


def test_families_missing_from_the_outputs_or_the_config_fail(aws):
    outputs = seed_stack(PROD)
    pipelines = outputs["training"]["pipelines"]
    pipelines["fraud"] = pipelines.pop("churn")
    failing = [(r.check, r.resource, r.reason) for r in run(PROD, outputs) if r.status == FAIL]
    assert failing == [
        ("pipeline.present", "training family churn", "serving.endpoints[churn].training declares a pipeline; the outputs' training.pipelines have no 'churn'"),
        ("pipeline.present", f"sagemaker pipeline {PIPELINE['pipeline']}",
         "training.pipelines.fraud is in the outputs but serving.endpoints[fraud] has no training in the stack config")]


# --- the last execution ----------------------------------------------------------------------------


def _executions(name):
    return list(sagemaker_backends[ACCOUNT][REGION].pipelines[name].pipeline_executions.values())


def test_the_last_execution_is_reported_and_a_failed_one_warns(aws):
    outputs = seed_stack(PROD, Seed(executions=2))
    older, newest = sorted(_executions(PIPELINE["pipeline"]), key=lambda e: e.start_time)
    [last] = [r for r in run(PROD, outputs) if r.check == "pipeline.lastExecution"]
    assert (last.status, last.reason.split(", started")[0]) == (PASS, f"last execution {newest.arn.rsplit('/', 1)[-1]} Succeeded")
    older.pipeline_execution_status = "Failed"  # not the newest: nothing to warn about
    assert [r.status for r in run(PROD, outputs) if r.check == "pipeline.lastExecution"] == [PASS]
    newest.pipeline_execution_status, newest.pipeline_execution_failure_reason = "Failed", "Step Train failed: AlgorithmError"
    results = run(PROD, outputs)
    result = only_problem(results, "pipeline.lastExecution", f"last execution {newest.arn.rsplit('/', 1)[-1]} Failed, started ", status=WARN)
    assert result.reason.endswith(" UTC (Step Train failed: AlgorithmError): no model of this family was registered by it; see the execution's steps")
    assert not failed(results)


def test_the_last_execution_is_asked_for_newest_first_with_stubber(aws):
    """moto ignores SortBy, SortOrder and MaxResults; the Stubber checks the request verify sends."""
    outputs = seed_stack(PROD)
    clients = AwsClients(REGION)
    sagemaker = clients.client("sagemaker")
    stub = Stubber(sagemaker)
    stub.add_response("describe_pipeline", {"PipelineName": PIPELINE["pipeline"], "PipelineStatus": "Active", "RoleArn": PIPELINE["role"]},
                      {"PipelineName": PIPELINE["pipeline"]})
    stub.add_response("list_pipeline_executions", {"PipelineExecutionSummaries": [
        {"PipelineExecutionArn": f"{outputs['training']['pipelines']['churn']['arn']}/execution/abc", "PipelineExecutionStatus": "Executing",
         "StartTime": datetime(2026, 12, 7, 3, 0, tzinfo=UTC)}]},
        {"PipelineName": PIPELINE["pipeline"], "SortBy": "CreationTime", "SortOrder": "Descending", "MaxResults": 1})
    verifier = Verifier(PROD, outputs, clients)
    with stub:
        verify_training(verifier, {"pipelines": outputs["training"]["pipelines"], "experiments": None}, outputs["artifactStore"])
    stub.assert_no_pending_responses()
    [last] = [r for r in verifier.results if r.check == "pipeline.lastExecution"]
    assert (last.status, last.reason) == (PASS, "last execution abc Executing, started 2026-12-07 03:00 UTC")


# --- MLflow ----------------------------------------------------------------------------------------

APP_ARN = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:mlflow-app/app-ABCDEFGHIJKL"
# Stacks without a family: only experiment tracking to check.
STAGING_APP = _config("staging")
PROD_SERVER = _config("prod", None, {"enabled": True, "kind": "trackingServer"})
STORE = {"bucketName": BUCKET, "kmsKeyArn": "k", "prefixes": {"experiments": "experiments/"}}
URI = f"s3://{BUCKET}/experiments/"


def _mlflow_run(config, experiments, operation, response, params):
    """verify_training of ``experiments`` alone, its one MLflow describe answered by the Stubber (moto has no MLflow API)."""
    clients = AwsClients(REGION)
    stub = Stubber(clients.client("sagemaker"))
    if response is None:
        stub.add_client_error(operation, service_error_code="ResourceNotFound", service_message="not found", expected_params=params)
    else:
        stub.add_response(operation, response, params)
    verifier = Verifier(config, {"environment": config.environment, "region": REGION}, clients)
    with stub:
        verify_training(verifier, {"pipelines": {}, "experiments": experiments}, STORE)
    stub.assert_no_pending_responses()
    return {r.check: r for r in verifier.results}


APP = {"kind": "serverless", "name": "mlops-staging-mlflow", "arn": APP_ARN, "artifactStoreUri": URI}
SERVER = {"kind": "trackingServer", "name": "mlops-prod-mlflow", "arn": f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:mlflow-tracking-server/mlops-prod-mlflow",
          "artifactStoreUri": URI}


@pytest.mark.parametrize(("status", "maintenance", "outcome", "reason"), [
    ("Created", None, PASS, "Created: in service"),
    ("Updated", "MaintenanceComplete", PASS, "Updated: in service"),
    ("Updating", None, WARN, "Updating: not in service yet; re-run verify once it settles"),
    ("Created", "MaintenanceInProgress", WARN, "maintenance MaintenanceInProgress: not in service yet; re-run verify once it settles"),
    ("Created", "MaintenanceFailed", FAIL, "maintenance MaintenanceFailed: failed, not in service"),
    ("CreateFailed", None, FAIL, "CreateFailed: failed, not in service"),
    ("Deleted", None, FAIL, "Deleted: not in service"),
    ("Exploded", None, FAIL, "status Exploded: not one of botocore's model, so not known to be in service"),
])
def test_an_mlflow_app_is_in_service_failed_or_settling_with_stubber(aws, status, maintenance, outcome, reason):
    response = {"Arn": APP_ARN, "Name": APP["name"], "ArtifactStoreUri": URI, "Status": status,
                **({"MaintenanceStatus": maintenance} if maintenance else {})}
    results = _mlflow_run(STAGING_APP, APP, "describe_mlflow_app", response, {"Arn": APP_ARN})
    assert (results["experiments.status"].status, results["experiments.status"].reason) == (outcome, reason)
    assert results["experiments.artifactStore"].status == PASS  # one DescribeMlflowApp for both checks


@pytest.mark.parametrize(("status", "active", "outcome", "reason"), [
    ("Started", "Active", PASS, "Started: in service"),
    ("MaintenanceComplete", "Active", PASS, "MaintenanceComplete: in service"),
    ("Created", "Inactive", FAIL, "status Created but IsActive Inactive, want Active"),
    ("Starting", "Inactive", WARN, "Starting: not in service yet; re-run verify once it settles"),
    ("Stopped", "Inactive", FAIL, "Stopped: not in service"),
    ("StartFailed", "Inactive", FAIL, "StartFailed: failed, not in service"),
])
def test_a_tracking_server_is_in_service_only_when_active_with_stubber(aws, status, active, outcome, reason):
    response = {"TrackingServerArn": SERVER["arn"], "TrackingServerName": SERVER["name"], "ArtifactStoreUri": URI,
                "TrackingServerStatus": status, "IsActive": active}
    results = _mlflow_run(PROD_SERVER, SERVER, "describe_mlflow_tracking_server", response, {"TrackingServerName": SERVER["name"]})
    assert (results["experiments.status"].status, results["experiments.status"].reason) == (outcome, reason)


def test_missing_mlflow_and_another_artifact_store_fail_with_stubber(aws):
    results = _mlflow_run(STAGING_APP, APP, "describe_mlflow_app", None, {"Arn": APP_ARN})
    assert {c: (r.status, r.reason) for c, r in results.items()} == {
        "experiments.status": (FAIL, f"no MLflow app {APP_ARN} in {REGION}"), "experiments.artifactStore": (FAIL, f"no MLflow app {APP_ARN} in {REGION}")}
    response = {"Arn": APP_ARN, "Name": APP["name"], "ArtifactStoreUri": f"s3://{BUCKET}/mlflow/", "Status": "Created"}
    results = _mlflow_run(STAGING_APP, APP, "describe_mlflow_app", response, {"Arn": APP_ARN})
    assert results["experiments.artifactStore"].reason == f"stores its artifacts in s3://{BUCKET}/mlflow/, want {URI}"


def test_experiments_must_be_in_the_outputs_as_configured(aws):
    outputs = seed_stack(STAGING)
    experiments = outputs["training"]["experiments"]
    outputs["training"]["experiments"] = None
    only_problem(run(STAGING, outputs), "experiments.present",
                 "training.experiments.enabled is true in the stack config, but the outputs' training.experiments is null")
    outputs["training"]["experiments"] = {**experiments, "kind": "trackingServer"}
    only_problem(run(STAGING, outputs), "experiments.present", "the outputs' training.experiments.kind is trackingServer, the stack config's is serverless")
    off = _config("staging", {}, {"enabled": False})
    outputs["training"]["experiments"] = experiments
    only_problem(run(off, outputs), "experiments.present",
                 "the outputs have training.experiments, but training.experiments.enabled is false in the stack config")


def test_a_whole_stack_whose_mlflow_is_still_updating_warns(aws):
    outputs = seed_stack(STAGING, Seed(mlflow_status="Updating"))
    results = run(STAGING, outputs)
    only_problem(results, "experiments.status", "Updating: not in service yet", status=WARN)
    assert not failed(results)
    mlflow.update("DescribeMlflowApp", APP_ARN, Status="UpdateFailed")
    results = run(STAGING, outputs)
    only_problem(results, "experiments.status", "UpdateFailed: failed, not in service")
    assert failed(results)


# --- the section as a whole ------------------------------------------------------------------------


def test_a_stack_deployed_before_training_existed_is_fine_when_the_config_declares_none(aws):
    bare = _config("prod")  # no family; prod's experiments are off
    outputs = seed_stack(bare)
    assert outputs["training"] == {"pipelines": {}, "experiments": None}
    del outputs["training"]
    results = run(bare, outputs)
    assert not [r for r in results if r.check.startswith(("training", *TRAINING_CHECKS))]
    assert not failed(results)


def test_a_stack_deployed_before_training_existed_fails_when_the_config_declares_it(aws):
    outputs = seed_stack(PROD)
    del outputs["training"]
    only_problem(run(PROD, outputs), "training.present",
                 "stacks/Pulumi.prod.yaml declares it (serving.endpoints[churn].training, training.experiments.enabled), but the outputs "
                 "have no 'training' section, so none of its checks ran")


def test_status_groups_are_botocores_enums():
    def enum(kind):
        return botocore_models.enum(*checks.STATUSES[kind])

    for kind, groups in (("mlflowApp", checks.MLFLOW_APP), ("trackingServer", checks.TRACKING_SERVER), ("maintenance", checks.MAINTENANCE)):
        members = [status for group in groups.values() for status in group]
        assert len(members) == len(set(members)), kind  # no status in two groups
        assert set(members) == enum(kind), kind  # and every status of the model in one
    assert checks.PIPELINE_ACTIVE in enum("pipeline")
    assert checks.EXECUTION_FAILED in enum("execution")
    assert checks.STATE_MACHINE_ACTIVE in enum("stateMachine")
    assert {checks.RULE_ENABLED, checks.RULE_DISABLED} <= enum("rule")
    assert checks.TRACKING_SERVER_ACTIVE in enum("trackingServerActive")


def test_mlflow_answers_are_validated_against_botocores_model(aws):
    mlflow.put("DescribeMlflowApp", APP_ARN, {"Arn": APP_ARN, "Status": 5})
    with pytest.raises(ParamValidationError, match="Status"):
        AwsClients(REGION).client("sagemaker").describe_mlflow_app(Arn=APP_ARN)


def _operations(config, outputs) -> set[str]:
    """The AWS operations verify's promotion and training checks make for ``outputs``."""
    clients, seen = AwsClients(REGION), set()
    for service in ("sagemaker", "stepfunctions", "events", "sqs"):
        clients.client(service).meta.events.register("before-parameter-build", lambda model, **_: seen.add(model.name))
    verifier = Verifier(config, outputs, clients)
    verify_promotion(verifier, outputs["promotion"])
    verify_training(verifier, outputs["training"], outputs["artifactStore"])
    return seen


def test_the_calls_bootstrap_grants_verify_are_the_calls_it_makes(monkeypatch):
    """mlopsctl/ops/bootstrap/data/provider_api_calls.json lists what verify calls as the deploy role beyond the
    whole-service grants; tests/ops/test_bootstrap_provider_calls.py checks the deploy role allows each."""
    recorded = json.loads((Path(documents.__file__).parent / "data" / "provider_api_calls.json").read_text())
    [verify] = [record for caller, record in recorded["otherCallers"].items() if caller.startswith("mlopsctl verify ")]
    listed = {call["operation"] for call in verify["calls"]}
    made = set()
    for config in (PROD, STAGING):  # a family with both triggers and a tracking server; an MLflow app
        with moto_account(monkeypatch, REGION):
            made |= _operations(config, seed_stack(config))
    assert made == listed
