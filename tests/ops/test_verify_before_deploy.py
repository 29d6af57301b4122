"""``mlopsctl verify --before-deploy``: the model packages a stack deploys, against moto's registry.

Staging's churn endpoint serves ``churn/7`` and its challenger ``churn/8``. moto numbers a group's
packages 1, 2, ... as they are created, so each test registers as many versions as it needs and
sets their approval status with UpdateModelPackage, as a reviewer's approval would.
"""

from __future__ import annotations

from datetime import UTC, datetime

import boto3
import pytest
from botocore.stub import Stubber

from mlopsctl.cli import main
from mlopsctl.offline.preview import load_config
from mlopsctl.offline.stackfile import load_stack_file
from mlopsctl.ops.awsclients import AwsClients
from mlopsctl.ops.verify.packages import deployed_packages
from tests.support.aws_errors import answer_every_client_with_error
from tests.support.aws_seed import REGION, moto_account, without_credentials

STAGING = load_config(load_stack_file("staging"))
PACKAGE = f"arn:aws:sagemaker:{REGION}:{STAGING.account_id}:model-package/churn"
BEFORE_DEPLOY = ["verify", "--before-deploy", "--stack", "staging"]


@pytest.fixture
def registry(monkeypatch):
    """moto as staging's account; ``register(status, ...)`` creates versions 1.. of group churn."""
    with moto_account(monkeypatch, REGION):
        monkeypatch.setenv("MOTO_ACCOUNT_ID", STAGING.account_id)
        sagemaker = boto3.client("sagemaker", region_name=REGION)
        sagemaker.create_model_package_group(ModelPackageGroupName="churn")

        def register(*statuses: str) -> None:
            for status in statuses:
                arn = sagemaker.create_model_package(ModelPackageGroupName="churn", ModelApprovalStatus="PendingManualApproval")["ModelPackageArn"]
                if status != "PendingManualApproval":
                    sagemaker.update_model_package(ModelPackageArn=arn, ModelApprovalStatus=status)

        yield register


def run(capsys, *args: str):
    code = main([*BEFORE_DEPLOY, *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_the_packages_are_each_endpoints_primary_and_challenger():
    assert [(p.endpoint, p.variant, p.arn) for p in deployed_packages(STAGING)] == [
        ("churn", "primary", f"{PACKAGE}/7"), ("churn", "challenger", f"{PACKAGE}/8")]
    assert deployed_packages(load_config(load_stack_file("dev"))) == []  # a prebuilt image carries no approval


def test_approved_packages_pass(registry, capsys):
    registry(*["Approved"] * 8)
    code, out, err = run(capsys)
    assert (code, err) == (0, "")
    assert out == (f"ok   endpoint churn (primary): {PACKAGE}/7: Approved\n"
                   f"ok   endpoint churn (challenger): {PACKAGE}/8: Approved\n")


@pytest.mark.parametrize(("statuses", "problem"), [
    (["Approved"] * 7 + ["PendingManualApproval"], f"endpoint churn (challenger): {PACKAGE}/8: PendingManualApproval, not Approved"),
    (["Approved"] * 7 + ["Rejected"], f"endpoint churn (challenger): {PACKAGE}/8: Rejected, not Approved"),
    (["Approved"] * 7, f"endpoint churn (challenger): {PACKAGE}/8: not found in the model registry"),
])
def test_a_package_that_is_not_approved_stops_the_deploy(registry, capsys, statuses, problem):
    registry(*statuses)
    code, out, err = run(capsys)
    lines = out.splitlines()
    assert (code, err, len(lines)) == (1, "", 3), out
    assert lines[0] == f"ok   endpoint churn (primary): {PACKAGE}/7: Approved"
    assert lines[1].startswith(f"FAIL {problem}")
    assert lines[2] == "1 of 2 model packages are not deployable; nothing was deployed"


def test_a_stack_without_model_packages_checks_the_credentials_only(registry, capsys, monkeypatch):
    monkeypatch.setenv("MOTO_ACCOUNT_ID", "123456789012")  # dev's account
    code, out, err = run(capsys)
    assert (code, out, "wrong account" in err) == (2, "", True)
    code, out, err = main(["verify", "--before-deploy", "--stack", "dev"]), *capsys.readouterr()
    assert (code, out, err) == (0, "stacks/Pulumi.dev.yaml: no endpoint serves a model package; nothing to approve\n", "")


def test_without_credentials_it_is_one_line_and_exit_2(monkeypatch, tmp_path, capsys):
    without_credentials(monkeypatch, tmp_path)
    code, out, err = run(capsys)
    assert (code, out, err.count("\n")) == (2, "", 1)
    assert err.startswith("error: no usable AWS credentials: ")


def test_credentials_refused_at_the_registry_are_exit_2(registry, capsys, monkeypatch):
    registry(*["Approved"] * 8)
    calls = answer_every_client_with_error(monkeypatch, "sagemaker", "DescribeModelPackage", 403, "ExpiredToken", "The token is expired")
    code, out, err = run(capsys)
    assert (code, out, calls) == (2, "", ["DescribeModelPackage"])  # stops at the first refusal
    assert err == "error: the AWS credentials were refused (ExpiredToken: The token is expired); refresh them and re-run\n"


def test_a_registry_that_refuses_the_read_is_a_problem_per_package(registry, capsys, monkeypatch):
    registry(*["Approved"] * 8)
    answer_every_client_with_error(monkeypatch, "sagemaker", "DescribeModelPackage", 400, "AccessDeniedException", "not authorized")
    code, out, _ = run(capsys)
    assert code == 1
    assert out.splitlines()[0] == (f"FAIL endpoint churn (primary): {PACKAGE}/7: cannot be checked: "
                                   "permission denied for DescribeModelPackage (AccessDeniedException): not authorized")


def test_outputs_and_json_are_not_for_before_deploy(capsys):
    for extra in (["--outputs", "-"], ["--format", "json"]):
        code, out, err = run(capsys, *extra)
        assert (code, out) == (2, "")
        assert err.startswith("error: --before-deploy: checks the stack file's model packages only")


# --- prod deploys staging's packages (promotion.promotedFrom) ---------------------------------
# moto keeps one registry per account and answers only its own account's packages, so it cannot
# serve staging's package to prod's credentials the way SageMaker does under staging's group
# policy: that call is checked with botocore's Stubber (requests and responses validated against
# the SageMaker model), with moto answering STS as prod's account.

PROD = load_config(load_stack_file("prod"))
STAGING_PACKAGE = f"arn:aws:sagemaker:{REGION}:{STAGING.account_id}:model-package/churn/7"


@pytest.fixture
def staging_registry(monkeypatch):
    """Prod's credentials (moto STS); the SageMaker client every AwsClients hands out is stubbed."""
    with moto_account(monkeypatch, REGION):
        monkeypatch.setenv("MOTO_ACCOUNT_ID", PROD.account_id)
        client = boto3.client("sagemaker", region_name=REGION)
        real = AwsClients.client
        monkeypatch.setattr(AwsClients, "client", lambda self, service, region=None: client if service == "sagemaker" else real(self, service, region))
        with Stubber(client) as stub:
            yield stub
            stub.assert_no_pending_responses()


def _described(status: str) -> dict:
    return {"ModelPackageName": "churn", "ModelPackageGroupName": "churn", "ModelPackageVersion": 7, "ModelPackageArn": STAGING_PACKAGE,
            "CreationTime": datetime(2026, 12, 1, tzinfo=UTC), "ModelPackageStatus": "Completed",
            "ModelPackageStatusDetails": {"ValidationStatuses": []}, "ModelApprovalStatus": status}


def test_prod_names_a_package_of_stagings_registry():
    assert PROD.promotion.promoted_from.account_id == STAGING.account_id
    assert [(p.endpoint, p.variant, p.arn) for p in deployed_packages(PROD)] == [("churn", "primary", STAGING_PACKAGE)]


@pytest.mark.parametrize(("status", "code", "line"), [
    ("Approved", 0, f"ok   endpoint churn (primary): {STAGING_PACKAGE}: Approved"),
    ("Rejected", 1, f"FAIL endpoint churn (primary): {STAGING_PACKAGE}: Rejected, not Approved: approve it in the registry first"),
])
def test_a_package_of_stagings_registry_is_described_by_its_full_arn_with_prods_credentials(staging_registry, capsys, status, code, line):
    staging_registry.add_response("describe_model_package", _described(status), {"ModelPackageName": STAGING_PACKAGE})
    assert main(["verify", "--before-deploy", "--stack", "prod"]) == code
    out, err = capsys.readouterr()
    assert (out.splitlines()[0], err) == (line, "")


def test_stagings_registry_refusing_prod_says_where_the_sharing_comes_from(staging_registry, capsys):
    staging_registry.add_client_error("describe_model_package", "AccessDeniedException", "not authorized to perform sagemaker:DescribeModelPackage",
                                      400, expected_params={"ModelPackageName": STAGING_PACKAGE})
    assert main(["verify", "--before-deploy", "--stack", "prod"]) == 1
    first = capsys.readouterr().out.splitlines()[0]
    assert first == (f"FAIL endpoint churn (primary): {STAGING_PACKAGE}: cannot be checked: permission denied for DescribeModelPackage "
                     "(AccessDeniedException): not authorized to perform sagemaker:DescribeModelPackage; it is in staging's registry, which shares "
                     f"it with this account once staging's stack (promotion.promotesTo: prod, {PROD.account_id}) is deployed")
