"""Continuous training in the three stacks under mocks: what the engine would receive for each
family's pipeline, its execution role, the retrain guard, the triggers and MLflow; the role
policies evaluated as IAM would (moto has no SimulatePrincipalPolicy). The rules' patterns and the
guard run end to end in moto in tests/stack/test_training_triggers.py."""

from __future__ import annotations

import json

import jsonschema
import pytest

from components.training.experiments import MLFLOW_APP_ACTION
from mlopsctl.offline.harness import RecordedResource, Recording
from policies.awsfacts import EXPECTED_TRAINING_RUNS_TAG, PIPELINE_ROLE_TAG_VALUE, ROLE_TAG
from tests.support.iam_eval import is_allowed, service_is_allowed
from tests.support.pipeline_definitions import request_shape_errors, schema
from tests.support.stacks import STACK_ACCOUNTS, stack_preview

STACKS = ("dev", "staging", "prod")
REGION = "us-east-1"
PIPELINE = "aws:sagemaker/pipeline:Pipeline"
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
RULE = "aws:cloudwatch/eventRule:EventRule"
TARGET = "aws:cloudwatch/eventTarget:EventTarget"
MACHINE = "aws:sfn/stateMachine:StateMachine"
APP = "aws:sagemaker/mlflowApp:MlflowApp"


def recording(stack: str) -> Recording:
    return stack_preview(stack).recording


def definition(stack: str) -> dict:
    return json.loads(recording(stack).one(PIPELINE).inputs["pipelineDefinition"])


def job_steps(stack: str) -> dict[str, dict]:
    steps = definition(stack)["Steps"]
    jobs = {s["Name"]: s for s in steps if s["Type"] in ("Processing", "Training")}
    [check] = [s for s in steps if s["Type"] == "Condition"]
    return {**jobs, "RegisterModel": check["Arguments"]["IfSteps"][0]}


def policies_of(rec: Recording, role: RecordedResource) -> list[dict]:
    return [json.loads(p.inputs["policy"]) for p in rec.of_type(ROLE_POLICY) if p.propertyDependencies.get("role") == [role.urn]]


def outputs(stack: str) -> dict:
    return recording(stack).stack_outputs["training"]


@pytest.mark.parametrize("stack", STACKS)
def test_one_pipeline_per_family_named_under_the_stem_with_its_runs_tag(stack):
    rec = recording(stack)
    pipeline = rec.one(PIPELINE)
    assert pipeline.inputs["pipelineName"] == f"mlops-{stack}-churn-training"
    assert pipeline.inputs["parallelismConfiguration"] == {"maxParallelExecutionSteps": 1}
    family = stack_preview(stack).config.serving.endpoints[0].training
    assert pipeline.inputs["tags"] == {EXPECTED_TRAINING_RUNS_TAG: str(family.runs_per_month)}
    role = rec.one(ROLE, "training-churn-role")
    assert pipeline.propertyDependencies["roleArn"] == [role.urn]
    assert role.inputs["tags"] == {ROLE_TAG: PIPELINE_ROLE_TAG_VALUE}
    assert json.loads(role.inputs["assumeRolePolicy"])["Statement"][0]["Principal"] == {"Service": ["sagemaker.amazonaws.com"]}
    # Every policy of the role exists before the pipeline, so a first run never lacks a permission.
    assert {p.urn for p in rec.of_type(ROLE_POLICY) if p.propertyDependencies.get("role") == [role.urn]} <= set(pipeline.dependencies)


@pytest.mark.parametrize("stack", STACKS)
def test_the_definition_is_valid_for_the_schema_and_botocore(stack):
    validator = jsonschema.Draft202012Validator(schema())
    assert [e.message for e in validator.iter_errors(definition(stack))] == []
    assert request_shape_errors(definition(stack)) == []


@pytest.mark.parametrize("stack", STACKS)
def test_every_job_encrypts_with_the_artifacts_key_except_local_nvme_volumes(stack):
    rec, steps = recording(stack), job_steps(stack)
    key = rec.one("aws:kms/key:Key", "keys-artifacts")
    prepare, train, evaluate = steps["PrepareData"]["Arguments"], steps["Train"]["Arguments"], steps["Evaluate"]["Arguments"]
    keys = {prepare["ProcessingOutputConfig"]["KmsKeyId"], evaluate["ProcessingOutputConfig"]["KmsKeyId"], train["OutputDataConfig"]["KmsKeyId"],
            prepare["ProcessingResources"]["ClusterConfig"]["VolumeKmsKeyId"], evaluate["ProcessingResources"]["ClusterConfig"]["VolumeKmsKeyId"]}
    assert len(keys) == 1 and next(iter(keys)).startswith(f"arn:aws:kms:{REGION}:{STACK_ACCOUNTS[stack]}:key/")
    assert rec.one(PIPELINE).dependencies and key.urn in {u for deps in rec.one(PIPELINE).propertyDependencies.values() for u in deps}
    # ml.g5 (staging, prod) trains on local NVMe storage, which SageMaker refuses a volume key for.
    assert ("VolumeKmsKeyId" in train["ResourceConfig"]) == (stack == "dev")


@pytest.mark.parametrize("stack", STACKS)
def test_staging_and_prod_run_in_the_private_subnets_isolated_and_dev_outside(stack):
    rec, steps = recording(stack), job_steps(stack)
    subnets = rec.stack_outputs["network"]["privateSubnetIds"]
    groups = rec.of_type("aws:ec2/securityGroup:SecurityGroup")
    [group] = [g for g in groups if "training-churn-jobs" in g.name] or [None]
    assert (group is None) == (stack == "dev")
    for name in ("PrepareData", "Evaluate"):
        network = steps[name]["Arguments"].get("NetworkConfig")
        if stack == "dev":
            assert network is None
        else:
            assert network == {"EnableInterContainerTrafficEncryption": True, "EnableNetworkIsolation": True,
                               "VpcConfig": {"SecurityGroupIds": [group.id], "Subnets": subnets}}
    train = steps["Train"]["Arguments"]
    if stack == "dev":
        assert "VpcConfig" not in train and "EnableNetworkIsolation" not in train
    else:
        assert train["VpcConfig"] == {"SecurityGroupIds": [group.id], "Subnets": subnets}
        assert train["EnableNetworkIsolation"] is True and train["EnableInterContainerTrafficEncryption"] is True


def test_the_jobs_security_group_admits_only_itself_and_sends_https():
    rec = recording("prod")
    group = rec.one("aws:ec2/securityGroup:SecurityGroup", "training-churn-jobs")
    ingress = [r for r in rec.of_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule") if r.propertyDependencies.get("securityGroupId") == [group.urn]]
    egress = [r for r in rec.of_type("aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule") if r.propertyDependencies.get("securityGroupId") == [group.urn]]
    assert [(r.inputs["ipProtocol"], r.propertyDependencies.get("referencedSecurityGroupId")) for r in ingress] == [("-1", [group.urn])]
    assert sorted((r.inputs["ipProtocol"], r.inputs.get("fromPort"), r.inputs.get("cidrIpv4")) for r in egress) == [("-1", None, None), ("tcp", 443, "0.0.0.0/0")]


@pytest.mark.parametrize(("stack", "spot"), [("dev", True), ("staging", True), ("prod", False)])
def test_spot_training_checkpoints_under_the_familys_prefix(stack, spot):
    train = job_steps(stack)["Train"]["Arguments"]
    assert train.get("EnableManagedSpotTraining", False) is spot
    if spot:
        assert train["CheckpointConfig"]["S3Uri"].startswith(f"s3://mlops-{stack}-artifacts-") and train["CheckpointConfig"]["S3Uri"].endswith("/checkpoints/churn")
        assert train["StoppingCondition"]["MaxWaitTimeInSeconds"] >= train["StoppingCondition"]["MaxRuntimeInSeconds"]
    else:
        assert "CheckpointConfig" not in train and "MaxWaitTimeInSeconds" not in train["StoppingCondition"]


@pytest.mark.parametrize("stack", STACKS)
def test_the_model_is_registered_pending_approval_into_the_endpoints_group_with_the_stacks_images(stack):
    steps = job_steps(stack)
    register = steps["RegisterModel"]["Arguments"]
    assert register["ModelPackageGroupName"] == "churn" and register["ModelApprovalStatus"] == "PendingManualApproval"
    registry = f"{STACK_ACCOUNTS[stack]}.dkr.ecr.{REGION}.amazonaws.com/mlops-{stack}"
    assert register["InferenceSpecification"]["Containers"][0]["Image"] == f"{registry}/serve:1.4.0"
    for name in ("PrepareData", "Evaluate"):
        assert steps[name]["Arguments"]["AppSpecification"]["ImageUri"] == f"{registry}/train:1.4.0"
    assert steps["Train"]["Arguments"]["AlgorithmSpecification"]["TrainingImage"] == f"{registry}/train:1.4.0"
    endpoint = stack_preview(stack).config.serving.endpoints[0]
    expected_types = [endpoint.instance.instance_type] if endpoint.instance else ["ml.m5.large"]
    assert register["InferenceSpecification"]["SupportedRealtimeInferenceInstanceTypes"][: len(expected_types)] == expected_types


# -- the pipeline role, evaluated ------------------------------------------------------------------


def pipeline_role(stack: str) -> tuple[Recording, RecordedResource, list[dict], str]:
    rec = recording(stack)
    role = rec.one(ROLE, "training-churn-role")
    role_arn = outputs(stack)["pipelines"]["churn"]["roleArn"]
    return rec, role, policies_of(rec, role), role_arn


@pytest.mark.parametrize("stack", STACKS)
def test_the_pipeline_role_passes_only_itself_and_only_to_sagemaker(stack):
    _, _, policies, role_arn = pipeline_role(stack)
    assert is_allowed(policies, None, "iam:PassRole", role_arn, {"iam:PassedToService": "sagemaker.amazonaws.com"})
    assert not is_allowed(policies, None, "iam:PassRole", role_arn, {"iam:PassedToService": "ec2.amazonaws.com"})
    other = role_arn.rsplit("/", 1)[0] + "/mlops-admin"
    assert not is_allowed(policies, None, "iam:PassRole", other, {"iam:PassedToService": "sagemaker.amazonaws.com"})


@pytest.mark.parametrize("stack", STACKS)
def test_the_pipeline_role_reads_its_data_and_writes_only_its_own_prefixes(stack):
    rec, _, policies, _ = pipeline_role(stack)
    bucket = rec.stack_outputs["artifactStore"]["bucketArn"]
    for prefix, writable in (("datasets/churn/", False), ("pipelines/mlops-{s}-churn-training/", True), ("models/churn/", True)):
        key = f"{bucket}/{prefix.format(s=stack)}part-0001"
        assert is_allowed(policies, None, "s3:GetObject", key)
        assert is_allowed(policies, None, "s3:PutObject", key) is writable
    spot = stack != "prod"
    assert is_allowed(policies, None, "s3:PutObject", f"{bucket}/checkpoints/churn/step-10.pt") is spot
    for foreign in ("datasets/fraud/x", "models/fraud/model.tar.gz", "experiments/run/x"):
        assert not is_allowed(policies, None, "s3:GetObject", f"{bucket}/{foreign}")


@pytest.mark.parametrize("stack", STACKS)
def test_the_pipeline_role_pulls_the_training_and_serving_images_and_its_arn_is_in_their_policies(stack):
    rec, role, policies, role_arn = pipeline_role(stack)
    repositories = rec.stack_outputs["images"]["repositories"]
    for name in ("train", "serve"):
        assert is_allowed(policies, None, "ecr:BatchGetImage", repositories[name]["arn"])
        [policy] = [p for p in rec.of_type("aws:ecr/repositoryPolicy:RepositoryPolicy") if p.inputs["repository"] == repositories[name]["name"]]
        [pull] = [s for s in json.loads(policy.inputs["policy"])["Statement"] if s["Sid"] == "PullByPlatformRoles"]
        assert role_arn in pull["Condition"]["StringEquals"]["aws:PrincipalArn"]


@pytest.mark.parametrize("stack", STACKS)
def test_the_pipeline_role_logs_to_mlflow_only_where_experiments_are_tracked(stack):
    _, _, policies, _ = pipeline_role(stack)
    experiments = outputs(stack)["experiments"]
    if stack == "prod":
        assert experiments is None
        assert not any(MLFLOW_APP_ACTION in json.dumps(p) for p in policies)
        return
    assert experiments["kind"] == "serverless"
    assert is_allowed(policies, None, MLFLOW_APP_ACTION, experiments["arn"])
    assert not is_allowed(policies, None, MLFLOW_APP_ACTION, experiments["arn"].rsplit("/", 1)[0] + "/app-someoneelse")


# -- guard and triggers -------------------------------------------------------------------------------


@pytest.mark.parametrize("stack", STACKS)
def test_the_guard_may_only_list_and_start_its_own_pipeline(stack):
    rec = recording(stack)
    guard = rec.one(MACHINE)
    assert guard.inputs["name"] == f"mlops-{stack}-churn-retrain-guard" and guard.inputs["type"] == "STANDARD"
    role = rec.one(ROLE, "training-churn-guard-role")
    assert guard.propertyDependencies["roleArn"] == [role.urn]
    pipeline_arn = outputs(stack)["pipelines"]["churn"]["arn"]
    policies = policies_of(rec, role)
    for action in ("sagemaker:ListPipelineExecutions", "sagemaker:StartPipelineExecution"):
        assert is_allowed(policies, None, action, pipeline_arn)
        assert not is_allowed(policies, None, action, pipeline_arn.replace("churn-training", "fraud-training"))
    trust = json.loads(role.inputs["assumeRolePolicy"])
    machine_arn = f"arn:aws:states:{REGION}:{STACK_ACCOUNTS[stack]}:stateMachine:mlops-{stack}-churn-retrain-guard"
    assert service_is_allowed(trust, "states.amazonaws.com", "sts:AssumeRole", role.urn,
                              {"aws:SourceAccount": STACK_ACCOUNTS[stack], "aws:SourceArn": machine_arn})
    assert not service_is_allowed(trust, "states.amazonaws.com", "sts:AssumeRole", role.urn,
                                  {"aws:SourceAccount": STACK_ACCOUNTS[stack], "aws:SourceArn": machine_arn + "-copy"})


@pytest.mark.parametrize(("stack", "schedule_state", "drift"), [("dev", "DISABLED", False), ("staging", "ENABLED", False), ("prod", "ENABLED", True)])
def test_the_triggers_follow_the_environment(stack, schedule_state, drift):
    rec = recording(stack)
    rules = {r.inputs["name"]: r for r in rec.of_type(RULE) if "RetrainingPipeline" in r.urn}
    expected = {f"mlops-{stack}-churn-retrain-schedule"} | ({f"mlops-{stack}-churn-retrain-drift"} if drift else set())
    assert set(rules) == expected
    schedule = rules[f"mlops-{stack}-churn-retrain-schedule"]
    assert schedule.inputs["state"] == schedule_state and schedule.inputs["scheduleExpression"].startswith("cron(")
    family = outputs(stack)["pipelines"]["churn"]
    assert family["scheduleEnabled"] is (schedule_state == "ENABLED")
    assert family["scheduleRuleName"] == schedule.inputs["name"] and (family["driftRuleName"] is not None) is drift
    guard = rec.one(MACHINE)
    for rule in rules.values():
        targets = [t for t in rec.of_type(TARGET) if t.inputs["rule"] == rule.inputs["name"]]
        into_guard = [t for t in targets if t.propertyDependencies.get("arn") == [guard.urn]]
        assert len(into_guard) == 1, rule.inputs["name"]
        # Nothing but the guard starts the pipeline.
        assert not any(t.inputs["arn"] == family["arn"] for t in targets)


def test_the_drift_rule_also_tells_the_alert_topic():
    rec = recording("prod")
    targets = [t for t in rec.of_type(TARGET) if t.inputs["rule"] == "mlops-prod-churn-retrain-drift"]
    topic = rec.one("aws:sns/topic:Topic")
    [alert] = [t for t in targets if t.propertyDependencies.get("arn") == [topic.urn]]
    message = json.loads(alert.inputs["inputTransformer"]["inputTemplate"].replace("<job>", "j").replace("<result>", "r").replace("<at>", "t"))
    assert message["endpoint"] == "churn" and message["pipeline"] == "mlops-prod-churn-training"


@pytest.mark.parametrize("stack", STACKS)
def test_the_trigger_role_starts_only_this_guard_for_this_familys_rules(stack):
    rec = recording(stack)
    role = rec.one(ROLE, "training-churn-trigger-role")
    guard = rec.one(MACHINE)
    policies = policies_of(rec, role)
    assert is_allowed(policies, None, "states:StartExecution", guard.id)
    assert not is_allowed(policies, None, "states:StartExecution", guard.id + "-other")
    trust = json.loads(role.inputs["assumeRolePolicy"])
    account = STACK_ACCOUNTS[stack]
    rule = f"arn:aws:events:{REGION}:{account}:rule/mlops-{stack}-churn-retrain-schedule"
    assert service_is_allowed(trust, "events.amazonaws.com", "sts:AssumeRole", role.urn, {"aws:SourceAccount": account, "aws:SourceArn": rule})
    promote = f"arn:aws:events:{REGION}:{account}:rule/mlops-{stack}-churn-promote"
    assert not service_is_allowed(trust, "events.amazonaws.com", "sts:AssumeRole", role.urn, {"aws:SourceAccount": account, "aws:SourceArn": promote})


# -- experiment tracking ------------------------------------------------------------------------------


@pytest.mark.parametrize(("stack", "tracked"), [("dev", True), ("staging", True), ("prod", False)])
def test_mlflow_where_experiments_are_on_with_artifacts_under_experiments(stack, tracked):
    rec = recording(stack)
    apps = rec.of_type(APP)
    assert len(apps) == int(tracked)
    if not tracked:
        return
    [app] = apps
    assert app.inputs["name"] == f"mlops-{stack}-mlflow" and app.inputs["modelRegistrationMode"] == "AutoModelRegistrationDisabled"
    assert app.inputs["artifactStoreUri"].startswith(f"s3://mlops-{stack}-artifacts-") and app.inputs["artifactStoreUri"].endswith("/experiments/")
    role = [r for r in rec.of_type(ROLE) if [r.urn] == app.propertyDependencies["roleArn"]][0]
    policies = policies_of(rec, role)
    bucket = rec.stack_outputs["artifactStore"]["bucketArn"]
    assert is_allowed(policies, None, "s3:PutObject", f"{bucket}/experiments/1/run/artifacts/model.pkl")
    assert not is_allowed(policies, None, "s3:GetObject", f"{bucket}/datasets/churn/part-0001")


@pytest.mark.parametrize("stack", ["dev", "staging"])
def test_only_the_training_workloads_and_pipeline_roles_may_use_mlflow(stack):
    rec = recording(stack)
    app_arn = outputs(stack)["experiments"]["arn"]
    users = set()
    for role in rec.of_type(ROLE):
        if is_allowed(policies_of(rec, role), None, MLFLOW_APP_ACTION, app_arn):
            users.add(role.name)
    assert users == {"mlops-platform-eks-ml-training-training", "mlops-platform-training-churn-role"}
