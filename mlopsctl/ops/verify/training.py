"""Continuous training's checks (``training``): each family's pipeline, its retrain guard and triggers, its last run, and MLflow.

Every family of ``serving.endpoints[].training`` must be in the outputs' ``training.pipelines``
(keyed by endpoint), and nothing else; experiment tracking must be in ``training.experiments``
exactly when ``training.experiments.enabled``, of the configured kind. Whether a family has a
schedule, whether it is enabled, and whether it retrains on drift are the stack file's; the
outputs must agree, or the stack was deployed from another config.

Triggers start the guard, never the pipeline (components/training/retrain_guard.py): a rule with
any other target would start runs the guard never sees, so it fails.

The last execution is information: a Failed one warns (the model family is not being retrained),
none yet passes (a new family, or one whose schedule is off). It never fails the deploy.

Statuses are botocore's enums (``STATUSES`` names each shape; tests/ops/test_verify_training.py
checks that each group below is a partition of the installed model's enum). MLflow: in service
passes; failed, or stopped, deleting or deleted, fails; still creating, updating, starting or in
maintenance warns, because it is not the deploy's fault and settles without it (MLflow is not in
the serving path); a status outside the enum fails.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from components.config import EXPERIMENTS_PREFIX
from mlopsctl.ops.awsclients import unless_missing
from mlopsctl.ops.verify.checks import PASS, WARN, Checks, memo
from mlopsctl.ops.verify.outputs import configured_families

# The botocore shapes each status below belongs to: (service, shape).
STATUSES = {
    "pipeline": ("sagemaker", "PipelineStatus"),
    "execution": ("sagemaker", "PipelineExecutionStatus"),
    "stateMachine": ("stepfunctions", "StateMachineStatus"),
    "rule": ("events", "RuleState"),
    "mlflowApp": ("sagemaker", "MlflowAppStatus"),
    "trackingServer": ("sagemaker", "TrackingServerStatus"),
    "trackingServerActive": ("sagemaker", "IsTrackingServerActive"),
    "maintenance": ("sagemaker", "MaintenanceStatus"),
}
PIPELINE_ACTIVE = "Active"
EXECUTION_FAILED = "Failed"
STATE_MACHINE_ACTIVE = "ACTIVE"
RULE_ENABLED, RULE_DISABLED = "ENABLED", "DISABLED"
TRACKING_SERVER_ACTIVE = "Active"

# MLflow status groups: in service, transitioning (warns), failed or out of service (fails).
MLFLOW_APP = {
    "inService": frozenset({"Created", "Updated"}),
    "transitioning": frozenset({"Creating", "Updating"}),
    "failed": frozenset({"CreateFailed", "UpdateFailed", "DeleteFailed"}),
    "outOfService": frozenset({"Deleting", "Deleted"}),
}
TRACKING_SERVER = {
    "inService": frozenset({"Created", "Updated", "Started", "MaintenanceComplete"}),
    "transitioning": frozenset({"Creating", "Updating", "Starting", "MaintenanceInProgress"}),
    "failed": frozenset({"CreateFailed", "UpdateFailed", "DeleteFailed", "StopFailed", "StartFailed", "MaintenanceFailed"}),
    "outOfService": frozenset({"Deleting", "Stopping", "Stopped"}),
}
# An MLflow app's MaintenanceStatus, next to its Status.
MAINTENANCE = {"inService": frozenset({"MaintenanceComplete"}), "transitioning": frozenset({"MaintenanceInProgress"}),
               "failed": frozenset({"MaintenanceFailed"})}

# What each API answers for a resource that does not exist. DescribePipeline: ResourceNotFound
# (botocore's model), ValidationException from moto (and from AWS for a name it cannot parse).
_NO_PIPELINE = ("ResourceNotFound", "ValidationException")
_NO_STATE_MACHINE = "StateMachineDoesNotExist"
_NO_RULE = "ResourceNotFoundException"
_NO_MLFLOW = "ResourceNotFound"
_NEVER = datetime.min.replace(tzinfo=UTC)


def verify_training(v: Checks, section: dict, store: dict | None) -> None:
    families = configured_families(v.config)
    pipelines = section["pipelines"]
    for endpoint in families:
        if endpoint not in pipelines:
            v.fail("pipeline.present", f"training family {endpoint}",
                   f"serving.endpoints[{endpoint}].training declares a pipeline; the outputs' training.pipelines have no {endpoint!r}")
    for endpoint, out in pipelines.items():
        family = families.get(endpoint)
        if family is None:
            v.fail("pipeline.present", f"sagemaker pipeline {out['name']}",
                   f"training.pipelines.{endpoint} is in the outputs but serving.endpoints[{endpoint}] has no training in the stack config")
            continue
        _verify_pipeline(v, endpoint, out, family)
    _verify_experiments(v, section["experiments"], store)


def _verify_pipeline(v: Checks, endpoint: str, out: dict, family: Any) -> None:
    sagemaker, events = v.clients.client("sagemaker"), v.clients.client("events")
    name, guard = out["name"], out["guardStateMachineArn"]
    resource = f"sagemaker pipeline {name}"
    described = memo(lambda: unless_missing(lambda: sagemaker.describe_pipeline(PipelineName=name), _NO_PIPELINE, None))
    missing = f"no SageMaker pipeline {name} in {v.config.region}"

    def status():
        found = described()
        if found is None:
            return False, missing
        state = found.get("PipelineStatus")
        return state == PIPELINE_ACTIVE, f"status {state}" + ("" if state == PIPELINE_ACTIVE else f", want {PIPELINE_ACTIVE}")

    def role():
        found = described()
        if found is None:
            return False, missing
        actual = found.get("RoleArn")
        if actual != out["roleArn"]:
            return False, f"runs as {actual or 'no role'}; the outputs' training.pipelines.{endpoint}.roleArn is {out['roleArn']}"
        return True, f"runs as {actual}"

    def state_machine():
        stepfunctions = v.clients.client("stepfunctions")
        found = unless_missing(lambda: stepfunctions.describe_state_machine(stateMachineArn=guard), _NO_STATE_MACHINE, None)
        if found is None:
            return False, f"no Step Functions state machine {guard}: no trigger can start a run"
        state = found.get("status")
        if state != STATE_MACHINE_ACTIVE:
            return False, f"status {state}, want {STATE_MACHINE_ACTIVE}"
        return True, f"{STATE_MACHINE_ACTIVE} ({found.get('name')})"

    def last_execution():
        if described() is None:
            return False, missing
        summaries = sagemaker.list_pipeline_executions(
            PipelineName=name, SortBy="CreationTime", SortOrder="Descending", MaxResults=1).get("PipelineExecutionSummaries") or []
        if not summaries:
            return PASS, "no execution yet"
        # The newest of the page: one execution on AWS; moto ignores SortOrder and MaxResults.
        newest = max(summaries, key=lambda s: s.get("StartTime") or _NEVER)
        state, started = newest.get("PipelineExecutionStatus"), newest.get("StartTime")
        shown = f"last execution {newest.get('PipelineExecutionArn', '').rsplit('/', 1)[-1]} {state}"
        if started:
            shown += f", started {started.astimezone(UTC):%Y-%m-%d %H:%M} UTC"
        if state == EXECUTION_FAILED:
            why = newest.get("PipelineExecutionFailureReason")
            return WARN, f"{shown}{f' ({why})' if why else ''}: no model of this family was registered by it; see the execution's steps"
        return PASS, shown

    schedule = family.schedule
    v.check("pipeline.status", resource, status)
    v.check("pipeline.role", resource, role)
    if guard is None:
        # No schedule and no drift trigger: runs start by hand only, and there is nothing to guard.
        v.check("pipeline.guard", resource, lambda: (schedule is None and not family.retrains_on_drift,
                                                     "no retrain guard: the family has no trigger" if schedule is None and not family.retrains_on_drift
                                                     else "the stack file gives this family a trigger, but the outputs name no retrain guard"))
    else:
        v.check("pipeline.guard", f"stepfunctions state machine {guard.rsplit(':', 1)[-1]}", state_machine)
    _verify_trigger(v, events, endpoint, "schedule", out["scheduleRuleName"], guard, wanted=schedule is not None,
                    enabled=family.schedule_enabled, stated_enabled=out["scheduleEnabled"],
                    expression=schedule.expression if schedule is not None else None)
    _verify_trigger(v, events, endpoint, "drift", out["driftRuleName"], guard, wanted=family.retrains_on_drift, enabled=True)
    v.check("pipeline.lastExecution", resource, last_execution)


def _verify_trigger(v: Checks, events, endpoint: str, kind: str, rule: str | None, guard: str, *, wanted: bool, enabled: bool,
                    stated_enabled: bool | None = None, expression: str | None = None) -> None:
    """One trigger rule (``kind`` schedule or drift): present as the config says, in the wanted state, targeting the guard only."""
    check, key = f"pipeline.{kind}", f"training.pipelines.{endpoint}.{kind}RuleName"
    declared = (f"serving.endpoints[{endpoint}].training.schedule" if kind == "schedule"
                else f"serving.endpoints[{endpoint}].training.retrainOnDrift (unset: on where drift monitoring watches {endpoint})")
    if rule is None:
        if wanted:
            v.fail(check, f"training family {endpoint}", f"{declared} is set, but the outputs' {key} is null: no rule starts the guard")
        else:
            v.skip(check, f"training family {endpoint}", f"no {kind} trigger in the stack config")
        return
    resource = f"eventbridge rule {rule}"
    if not wanted:
        v.fail(check, resource, f"the outputs' {key} names a rule, but the stack config has no {kind} trigger for {endpoint}")
        return
    state = RULE_ENABLED if enabled else RULE_DISABLED

    def run():
        if stated_enabled is not None and stated_enabled != enabled:
            return False, (f"the outputs' training.pipelines.{endpoint}.scheduleEnabled is {str(stated_enabled).lower()}, but the stack "
                           f"config says {str(enabled).lower()}: deploy the stack file")
        found = unless_missing(lambda: events.describe_rule(Name=rule), _NO_RULE, None)
        if found is None:
            return False, f"no EventBridge rule {rule} in {v.config.region}"
        problems = []
        if found.get("State") != state:
            problems.append(f"state {found.get('State')}, want {state}" + (" (schedule.enabled, else training.schedulesByDefault)" if kind == "schedule" else ""))
        if expression is not None and found.get("ScheduleExpression") != expression:
            problems.append(f"schedule {found.get('ScheduleExpression') or 'none'}, config says {expression}")
        targets = [t.get("Arn") for t in events.list_targets_by_rule(Rule=rule).get("Targets") or []]
        if guard not in targets:
            problems.append(f"does not target the guard {guard} (targets: {', '.join(targets) or 'none'})")
        others = [t for t in targets if t != guard]
        if others:
            problems.append(f"also targets {', '.join(others)}, which would start runs the guard never sees")
        if problems:
            return False, "; ".join(problems)
        return True, f"{state}{f', {expression}' if expression else ''}, targets the guard only"

    v.check(check, resource, run)


def _verify_experiments(v: Checks, experiments: dict | None, store: dict | None) -> None:
    wanted = v.config.training.experiments
    if experiments is None:
        if wanted.enabled:
            v.fail("experiments.present", "-", "training.experiments.enabled is true in the stack config, but the outputs' training.experiments is null")
        return
    resource = f"sagemaker mlflow {'app' if experiments['kind'] == 'serverless' else 'tracking server'} {experiments['name']}"
    if not wanted.enabled:
        v.fail("experiments.present", resource, "the outputs have training.experiments, but training.experiments.enabled is false in the stack config")
        return
    if experiments["kind"] != wanted.kind:
        v.fail("experiments.present", resource, f"the outputs' training.experiments.kind is {experiments['kind']}, the stack config's is {wanted.kind}")
        return
    sagemaker = v.clients.client("sagemaker")
    if wanted.kind == "serverless":
        described = memo(lambda: unless_missing(lambda: sagemaker.describe_mlflow_app(Arn=experiments["arn"]), _NO_MLFLOW, None))
    else:
        described = memo(lambda: unless_missing(lambda: sagemaker.describe_mlflow_tracking_server(TrackingServerName=experiments["name"]),
                                                _NO_MLFLOW, None))
    missing = f"no MLflow {'app ' + experiments['arn'] if wanted.kind == 'serverless' else 'tracking server ' + experiments['name']} in {v.config.region}"

    def status():
        found = described()
        if found is None:
            return False, missing
        if wanted.kind == "serverless":
            outcome = _mlflow_status(found.get("Status"), MLFLOW_APP)
            maintenance = found.get("MaintenanceStatus")
            if outcome[0] == PASS and maintenance and maintenance not in MAINTENANCE["inService"]:
                outcome = _mlflow_status(maintenance, MAINTENANCE, "maintenance ")
            return outcome
        outcome = _mlflow_status(found.get("TrackingServerStatus"), TRACKING_SERVER)
        active = found.get("IsActive")
        if outcome[0] == PASS and active != TRACKING_SERVER_ACTIVE:
            return False, f"status {found.get('TrackingServerStatus')} but IsActive {active or 'not reported'}, want {TRACKING_SERVER_ACTIVE}"
        return outcome

    def artifact_store():
        found = described()
        if found is None:
            return False, missing
        live, stated = found.get("ArtifactStoreUri"), experiments["artifactStoreUri"]
        if not store:
            return False, "the outputs have no artifactStore to check the artifact store URI against"
        prefix = (store.get("prefixes") or {}).get("experiments", EXPERIMENTS_PREFIX)
        expected = f"s3://{store['bucketName']}/{prefix.rstrip('/')}/"
        problems = []
        if (live or "").rstrip("/") + "/" != expected:
            problems.append(f"stores its artifacts in {live or 'nothing'}, want {expected}")
        if stated.rstrip("/") + "/" != expected:
            problems.append(f"the outputs' training.experiments.artifactStoreUri is {stated}, want {expected}")
        return (False, "; ".join(problems)) if problems else (True, f"artifacts in {expected}")

    v.check("experiments.status", resource, status)
    v.check("experiments.artifactStore", resource, artifact_store)


def _mlflow_status(state: str | None, groups: dict[str, frozenset[str]], label: str = "") -> tuple[Any, str]:
    if state in groups["inService"]:
        return PASS, f"{label}{state}: in service"
    if state in groups["transitioning"]:
        return WARN, f"{label}{state}: not in service yet; re-run verify once it settles"
    if state in groups["failed"]:
        return False, f"{label}{state}: failed, not in service"
    if state in groups.get("outOfService", ()):
        return False, f"{label}{state}: not in service"
    return False, f"{label}status {state or 'not reported'}: not one of botocore's model, so not known to be in service"

