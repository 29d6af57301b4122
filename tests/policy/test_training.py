"""Continuous-training policies over gRPC: a pipeline's job steps encrypt and run in the VPC, spot
training checkpoints, and the pipeline role grants no wildcard SageMaker or PassRole permissions.

The definitions are the builder's own output for the fixture cases (tests/fixtures/pipelines/
cases.json: ``churn-dev`` without a VPC and on spot, ``churn-isolated`` in the VPC with isolation),
each failing case one mutation of them; the role's passing case is the real pipeline role's statements.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import pulumi
import pulumi_aws as aws
import pytest

from components.iam.policy import Statement, policy_document
from components.keys import PlatformKey
from components.scope import scope_for
from components.training import PipelineNetwork, PipelineRoleArgs, build_pipeline_definition, pipeline_role_statements
from mlopsctl.offline.harness import ACCOUNT_ID
from policies.awsfacts import EXPECTED_TRAINING_RUNS_TAG, PIPELINE_ROLE_TAG_VALUE, ROLE_TAG
from tests.support.pipeline_definitions import cases, load_case
from tests.support.policy import evaluate, fired
from tests.support.stacks import stack_config

KMS = "sagemaker-pipeline-kms"
NETWORK = "sagemaker-pipeline-network"
SPOT = "reliability-spot-training-checkpoints"
ROLE = "iam-pipeline-role-no-wildcards"
DEFINITION_POLICIES = (KMS, NETWORK, SPOT)

ROLE_NAME = "mlops-prod-churn-pipeline"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT_ID}:role/{ROLE_NAME}"
PIPELINE_TAG = {ROLE_TAG: PIPELINE_ROLE_TAG_VALUE}


def definition(case: str) -> dict:
    return build_pipeline_definition(load_case(cases()[case]))


def step(document: dict, name: str) -> dict:
    """A step of ``document`` by name, searching condition branches too."""
    pending = list(document["Steps"])
    while pending:
        current = pending.pop(0)
        if current["Name"] == name:
            return current
        pending += current.get("Arguments", {}).get("IfSteps", []) + current.get("Arguments", {}).get("ElseSteps", [])
    raise KeyError(name)


def mutated(case: str, change: Callable[[dict], None]) -> dict:
    document = definition(case)
    change(document)
    return document


def args_of(document: dict, name: str) -> dict:
    return step(document, name)["Arguments"]


def pipeline(document: dict | None, **extra) -> Callable[[pulumi.ResourceOptions], None]:
    def build(opts: pulumi.ResourceOptions) -> None:
        aws.sagemaker.Pipeline(
            "churn", pipeline_name="mlops-prod-churn", pipeline_display_name="mlops-prod-churn", role_arn=ROLE_ARN,
            pipeline_definition=json.dumps(document) if document is not None else None,
            tags={EXPECTED_TRAINING_RUNS_TAG: "4"}, opts=opts, **extra,
        )

    return build


# --- pipeline definitions -----------------------------------------------------------------------


def _drop(*path: str, step_name: str) -> Callable[[dict], None]:
    def change(document: dict) -> None:
        holder = args_of(document, step_name)
        for key in path[:-1]:
            holder = holder[key]
        del holder[path[-1]]

    return change


def _set(value, *path: str, step_name: str) -> Callable[[dict], None]:
    def change(document: dict) -> None:
        holder = args_of(document, step_name)
        for key in path[:-1]:
            holder = holder[key]
        holder[path[-1]] = value

    return change


def _both(*changes: Callable[[dict], None]) -> Callable[[dict], None]:
    def change(document: dict) -> None:
        for each in changes:
            each(document)

    return change


def _unencrypted_step_in_a_branch(document: dict) -> None:
    evaluate_step = json.loads(json.dumps(step(document, "Evaluate")))
    evaluate_step["Name"] = "EvaluateAgain"
    del evaluate_step["Arguments"]["ProcessingOutputConfig"]["KmsKeyId"]
    args_of(document, "CheckMetric")["ElseSteps"].append(evaluate_step)


def _tuning_step(document: dict) -> None:
    document["Steps"].append({"Name": "Tune", "Type": "Tuning", "Arguments": {"HyperParameterTuningJobConfig": {}}})


# (policy, fixture case, mutation, fragment of the message)
BAD_DEFINITIONS = [
    (KMS, "churn-isolated", _drop("ProcessingOutputConfig", "KmsKeyId", step_name="PrepareData"), "step PrepareData (Processing): ProcessingOutputConfig.KmsKeyId is not a key ARN"),
    (KMS, "churn-isolated", _drop("ProcessingResources", "ClusterConfig", "VolumeKmsKeyId", step_name="Evaluate"), "step Evaluate (Processing): ProcessingResources.ClusterConfig.VolumeKmsKeyId"),
    (KMS, "churn-isolated", _drop("OutputDataConfig", "KmsKeyId", step_name="Train"), "step Train (Training): OutputDataConfig.KmsKeyId is not a key ARN"),
    (KMS, "churn-dev", _drop("ResourceConfig", "VolumeKmsKeyId", step_name="Train"), "step Train (Training): ResourceConfig.VolumeKmsKeyId is not a key ARN"),
    (KMS, "churn-dev", _set({"Get": "Parameters.OutputKey"}, "OutputDataConfig", "KmsKeyId", step_name="Train"), "OutputDataConfig.KmsKeyId is not a key ARN"),
    (KMS, "churn-dev", _set("", "ProcessingResources", "ClusterConfig", "VolumeKmsKeyId", step_name="PrepareData"), "ClusterConfig.VolumeKmsKeyId is not a key ARN"),
    (KMS, "churn-dev", _unencrypted_step_in_a_branch, "step EvaluateAgain (Processing): ProcessingOutputConfig.KmsKeyId"),
    (KMS, "churn-dev", _tuning_step, "step Tune is a Tuning step, whose settings the pack cannot check"),
    (NETWORK, "churn-dev", lambda d: None, "step PrepareData (Processing): no NetworkConfig.VpcConfig: the job runs outside the VPC"),
    (NETWORK, "churn-dev", lambda d: None, "step Train (Training): no VpcConfig: the job runs outside the VPC"),
    (NETWORK, "churn-dev", lambda d: None, "step Train (Training): EnableNetworkIsolation is not true"),
    (NETWORK, "churn-isolated", _set(False, "NetworkConfig", "EnableNetworkIsolation", step_name="Evaluate"), "step Evaluate (Processing): NetworkConfig.EnableNetworkIsolation is not true"),
    (NETWORK, "churn-isolated", _drop("EnableNetworkIsolation", step_name="Train"), "step Train (Training): EnableNetworkIsolation is not true"),
    (NETWORK, "churn-isolated", _set([], "VpcConfig", "Subnets", step_name="Train"), "step Train (Training): VpcConfig.Subnets names none"),
    (NETWORK, "churn-isolated", _drop("NetworkConfig", "VpcConfig", "SecurityGroupIds", step_name="PrepareData"), "NetworkConfig.VpcConfig.SecurityGroupIds names none"),
    (NETWORK, "churn-isolated", _tuning_step, "step Tune is a Tuning step"),
    (SPOT, "churn-dev", _drop("CheckpointConfig", step_name="Train"), "step Train (managed spot training): no CheckpointConfig.S3Uri"),
    (SPOT, "churn-dev", _set(3600, "StoppingCondition", "MaxWaitTimeInSeconds", step_name="Train"), "MaxWaitTimeInSeconds (3600) is below MaxRuntimeInSeconds (7200)"),
    (SPOT, "churn-dev", _drop("StoppingCondition", "MaxWaitTimeInSeconds", step_name="Train"), "StoppingCondition needs literal MaxRuntimeInSeconds and MaxWaitTimeInSeconds"),
    (SPOT, "churn-isolated", _set({"Get": "Parameters.UseSpot"}, "EnableManagedSpotTraining", step_name="Train"), "step Train (managed spot training): no CheckpointConfig.S3Uri"),
]


@pytest.mark.parametrize(("policy", "case", "change", "fragment"), BAD_DEFINITIONS, ids=lambda v: v[:40] if isinstance(v, str) else "")
def test_a_mutated_fixture_definition_fires_and_the_fixture_passes(policy_pack, policy, case, change, fragment):
    report = evaluate(policy_pack, pipeline(mutated(case, change)), env="prod")
    assert any(fragment in m for m in fired(report, policy)), fired(report, policy)
    assert {v.level for v in report.by_policy(policy)} == {"mandatory"}
    if policy == NETWORK and case == "churn-dev":
        return  # the dev fixture runs outside the VPC by design: prod's network policy refuses it as it is
    assert evaluate(policy_pack, pipeline(definition(case)), env="prod").by_policy(policy) == []


@pytest.mark.parametrize("case", ["churn-dev", "churn-isolated"])
def test_the_fixture_definitions_pass_where_they_are_meant_to_run(policy_pack, case):
    env = "dev" if case == "churn-dev" else "prod"
    report = evaluate(policy_pack, pipeline(definition(case)), env=env)
    assert [v for p in DEFINITION_POLICIES for v in report.by_policy(p)] == []


def test_volumes_on_local_nvme_instances_need_no_volume_key(policy_pack):
    """ml.g5 (training) and ml.m5d (processing) have local NVMe storage, where SageMaker refuses VolumeKmsKeyId."""

    def change(document: dict) -> None:
        train = args_of(document, "Train")["ResourceConfig"]
        assert train["InstanceType"].startswith("ml.g5.")
        assert "VolumeKmsKeyId" not in train  # the builder leaves it out for local NVMe families
        prepare = args_of(document, "PrepareData")["ProcessingResources"]["ClusterConfig"]
        prepare["InstanceType"] = "ml.m5d.xlarge"
        del prepare["VolumeKmsKeyId"]

    assert evaluate(policy_pack, pipeline(mutated("churn-isolated", change))).by_policy(KMS) == []
    # Outputs still need their key on those instances.
    report = evaluate(policy_pack, pipeline(mutated("churn-isolated", _both(change, _drop("OutputDataConfig", "KmsKeyId", step_name="Train")))))
    assert [m.split(": ", 1)[1] for m in fired(report, KMS)] == ["OutputDataConfig.KmsKeyId is not a key ARN: what the job writes to S3 is not encrypted with a customer-managed key."]


def test_a_definition_in_s3_cannot_be_checked_and_is_refused(policy_pack):
    def build(opts):
        aws.sagemaker.Pipeline("churn", pipeline_name="mlops-prod-churn", pipeline_display_name="mlops-prod-churn", role_arn=ROLE_ARN,
                               pipeline_definition_s3_location={"bucket": "b", "object_key": "definition.json"}, opts=opts)

    report = evaluate(policy_pack, build)
    for policy in DEFINITION_POLICIES:
        assert any("the definition is in S3 (pipelineDefinitionS3Location)" in m for m in fired(report, policy)), policy


@pytest.mark.parametrize("env", ["dev", "staging", "prod"])
def test_levels_per_environment(policy_pack, env):
    """KMS and spot checkpoints are mandatory everywhere; the VPC only outside dev, whose pipelines run outside it."""
    spot_without_checkpoints = _both(_drop("CheckpointConfig", step_name="Train"), _drop("ResourceConfig", "VolumeKmsKeyId", step_name="Train"))
    report = evaluate(policy_pack, pipeline(mutated("churn-dev", spot_without_checkpoints)), env=env)
    levels = {p: {v.level for v in report.by_policy(p)} for p in DEFINITION_POLICIES}
    assert levels == {KMS: {"mandatory"}, SPOT: {"mandatory"}, NETWORK: set() if env == "dev" else {"mandatory"}}


def _unknown_definition_pipeline(document: dict, secret: bool) -> Callable[[pulumi.ResourceOptions], None]:
    """The component's shape: the definition is built in an apply over the role's ARN, unknown in a first preview."""

    def build(opts):
        role = aws.iam.Role("pipeline-role", assume_role_policy=trust(), tags=PIPELINE_TAG, opts=opts)
        body = role.arn.apply(lambda arn: json.dumps(document))
        aws.sagemaker.Pipeline("churn", pipeline_name="mlops-prod-churn", pipeline_display_name="mlops-prod-churn", role_arn=role.arn,
                               pipeline_definition=pulumi.Output.secret(body) if secret else body, opts=opts)

    return build


@pytest.mark.parametrize("secret", [False, True], ids=["plain", "secret"])
def test_an_unknown_definition_is_skipped_in_a_first_preview_and_checked_once_known(policy_pack, secret):
    bad = mutated("churn-dev", _both(_drop("CheckpointConfig", step_name="Train"), _drop("OutputDataConfig", "KmsKeyId", step_name="Train")))
    preview = evaluate(policy_pack, _unknown_definition_pipeline(bad, secret), unknowns=True)
    for policy in DEFINITION_POLICIES:
        found = preview.by_policy(policy)
        # Nothing fails: the SDK says the policy could not run during preview (advisory), nothing more.
        assert found and all(v.unknown and v.level == "advisory" for v in found), found
    known = evaluate(policy_pack, _unknown_definition_pipeline(bad, secret))
    assert all(fired(known, policy) for policy in DEFINITION_POLICIES)


def test_a_pipeline_without_a_definition_is_skipped(policy_pack):
    report = evaluate(policy_pack, pipeline(None))
    assert [v for p in DEFINITION_POLICIES for v in report.by_policy(p)] == []


# --- the pipeline role ------------------------------------------------------------------------


def trust() -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "sagemaker.amazonaws.com"}, "Action": "sts:AssumeRole"}]})


def document(*statements: dict) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


class _Store:
    """The artifact store's grant_statements, one read statement per prefix (enough for the role's shape)."""

    def grant_statements(self, prefix: str, *, read: bool, write: bool) -> list[Statement]:
        actions = ["s3:GetObject"] + (["s3:PutObject"] if write else [])
        return [Statement(sid="Objects", actions=actions, resources=[f"arn:aws:s3:::mlops-prod-artifacts/{prefix}*"])]


def real_pipeline_role_statements(network: bool) -> list[Statement]:
    scope = scope_for(stack_config("prod"), account_id=ACCOUNT_ID)
    region = "us-east-1"
    return pipeline_role_statements(PipelineRoleArgs(
        scope=scope, role_arn=ROLE_ARN, store=_Store(), key=PlatformKey(f"arn:aws:kms:{region}:{ACCOUNT_ID}:key/artifacts"),
        data_prefix="datasets/churn/", run_prefix="pipelines/churn/", model_prefix="models/churn/", checkpoint_prefix="checkpoints/churn/",
        model_package_group_arn=f"arn:aws:sagemaker:{region}:{ACCOUNT_ID}:model-package-group/churn",
        image_repository_arns=[f"arn:aws:ecr:{region}:{ACCOUNT_ID}:repository/mlops-prod-train"],
        processing_instance_types=["ml.m5.xlarge"], training_instance_types=["ml.g5.2xlarge"],
        network=PipelineNetwork(vpc_id="vpc-0a1b2c3d4e5f60718", subnet_ids=["subnet-0a1b2c3d4e5f60718"], security_group_ids=["sg-0a1b2c3d4e5f60718"]) if network else None,
    ))


def tagged_role_with(policy: pulumi.Input[str] | None = None, *, tags: dict | None = PIPELINE_TAG, inline: str | None = None, name: str | None = None):
    def build(opts):
        role = aws.iam.Role("pipeline-role", name=name, assume_role_policy=trust(), tags=tags,
                            inline_policies=[{"name": "inline", "policy": inline}] if inline else None, opts=opts)
        if policy is not None:
            aws.iam.RolePolicy("pipeline-permissions", role=role.id, policy=policy, opts=opts)
        return role

    return build


PASS_OWN_ROLE = {"Effect": "Allow", "Action": "iam:PassRole", "Resource": ROLE_ARN, "Condition": {"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}}}
BAD_STATEMENTS = [
    ({"Effect": "Allow", "Action": "sagemaker:*", "Resource": "*"}, 'Action "sagemaker:*" is a wildcard that grants every SageMaker action'),
    ({"Effect": "Allow", "Action": ["sagemaker:Create*"], "Resource": "arn:aws:sagemaker:us-east-1:123456789012:training-job/pipelines-*"}, 'Action "sagemaker:Create*" is a wildcard'),
    ({"Effect": "Allow", "Action": ["SageMaker:Describe?rainingJob"], "Resource": "*"}, 'Action "SageMaker:Describe?rainingJob" is a wildcard'),
    ({"Effect": "Allow", "Action": "*", "Resource": ROLE_ARN}, 'Action "*" is a wildcard that grants every SageMaker action it matches and iam:PassRole'),
    ({"Effect": "Allow", "Action": "iam:*", "Resource": ROLE_ARN}, 'Action "iam:*" is a wildcard that grants iam:PassRole'),
    ({"Effect": "Allow", "Action": "iam:Pass*", "Resource": ROLE_ARN, "Condition": PASS_OWN_ROLE["Condition"]}, 'Action "iam:Pass*" is a wildcard that grants iam:PassRole'),
    ({**PASS_OWN_ROLE, "Resource": "*"}, "allows iam:PassRole on ['*']"),
    ({**PASS_OWN_ROLE, "Resource": f"arn:aws:iam::{ACCOUNT_ID}:role/mlops-*"}, "allows iam:PassRole on ['arn:aws:iam::"),
    ({k: v for k, v in PASS_OWN_ROLE.items() if k != "Condition"}, "allows iam:PassRole without an iam:PassedToService condition"),
    ({**PASS_OWN_ROLE, "Condition": {"StringNotEquals": {"iam:PassedToService": "ec2.amazonaws.com"}}}, "without an iam:PassedToService condition"),
    ({**PASS_OWN_ROLE, "Condition": {"StringLike": {"iam:PassedToService": "*.amazonaws.com"}}}, "without an iam:PassedToService condition"),
    ({"Effect": "Allow", "NotAction": ["s3:*"], "Resource": "*"}, "combines Allow with NotAction"),
]


@pytest.mark.parametrize(("statement", "fragment"), BAD_STATEMENTS, ids=[f[:40] for _, f in BAD_STATEMENTS])
def test_a_wildcard_sagemaker_or_passrole_grant_on_the_pipeline_role_fires(policy_pack, statement, fragment):
    report = evaluate(policy_pack, tagged_role_with(document(PASS_OWN_ROLE, statement)))
    messages = fired(report, ROLE)
    assert any(fragment in m for m in messages), messages
    assert all(v.urn.endswith("::pipeline-permissions") for v in report.by_policy(ROLE))
    assert fired(evaluate(policy_pack, tagged_role_with(document(PASS_OWN_ROLE))), ROLE) == []


@pytest.mark.parametrize("network", [False, True], ids=["dev", "vpc"])
@pytest.mark.parametrize("unknowns", [False, True], ids=["known", "first-preview"])
def test_the_real_pipeline_role_statements_pass(policy_pack, network, unknowns):
    report = evaluate(policy_pack, tagged_role_with(policy_document(real_pipeline_role_statements(network), kind="identity")), unknowns=unknowns)
    assert fired(report, ROLE) == []
    if not unknowns:
        assert report.by_policy(ROLE) == []


@pytest.mark.parametrize("env", ["dev", "staging", "prod"])
def test_the_role_policy_is_mandatory_everywhere_and_reads_inline_policies_too(policy_pack, env):
    report = evaluate(policy_pack, tagged_role_with(inline=document({"Effect": "Allow", "Action": "sagemaker:*", "Resource": "*"})), env=env)
    [violation] = report.by_policy(ROLE)
    assert violation.level == "mandatory" and violation.urn.endswith("::pipeline-role")
    assert "inline policy inline" in violation.message


def test_only_pipeline_roles_are_judged_found_by_tag_by_roleArn_or_by_name(policy_pack):
    wildcard = document({"Effect": "Allow", "Action": "sagemaker:*", "Resource": "*"})
    # Another role may hold what the pipeline role may not (iam-no-star-action and friends judge it).
    assert evaluate(policy_pack, tagged_role_with(wildcard, tags={ROLE_TAG: "serving"})).by_policy(ROLE) == []
    assert evaluate(policy_pack, tagged_role_with(document({"Effect": "Deny", "Action": "sagemaker:*", "Resource": "*"}))).by_policy(ROLE) == []

    def referenced_by_dependency(opts):
        role = tagged_role_with(wildcard, tags=None)(opts)
        aws.sagemaker.Pipeline("other", pipeline_name="other", pipeline_display_name="other", role_arn=role.arn,
                               pipeline_definition=json.dumps(definition("churn-isolated")), opts=opts)

    assert len(fired(evaluate(policy_pack, referenced_by_dependency), ROLE)) == 1

    def referenced_by_literal_arn(opts):
        tagged_role_with(tags=None, name=ROLE_NAME)(opts)
        aws.iam.RolePolicy("literal-permissions", role=ROLE_NAME, policy=wildcard, opts=opts)  # a literal name: no dependency
        pipeline(definition("churn-isolated"))(opts)

    report = evaluate(policy_pack, referenced_by_literal_arn)
    assert [v.urn.rsplit("::", 1)[-1] for v in report.by_policy(ROLE)] == ["literal-permissions"]


def test_an_unknown_role_policy_is_not_passed_silently(policy_pack):
    def build(opts):
        key = aws.kms.Key("k", enable_key_rotation=True, opts=opts)
        statement = key.arn.apply(lambda arn: document({"Effect": "Allow", "Action": "sagemaker:*", "Resource": arn}))
        tagged_role_with(statement)(opts)

    preview = evaluate(policy_pack, build, unknowns=True)
    assert preview.by_policy(ROLE) and all(v.unknown for v in preview.by_policy(ROLE))
    assert fired(evaluate(policy_pack, build), ROLE)
