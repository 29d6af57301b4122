"""``mlopsctl verify`` after deploy: the served models, who hears the alerts, and the approval dispatch (moto, in-process).

Each test breaks one thing of a compliant seeded stack and expects exactly that check to fail
(or warn) for its reason. moto gaps (tests/support/aws_seed.py): SNS confirms every subscription
at once, so a pending one is set on moto's backend object; EventBridge connections are always
AUTHORIZED, so other states are set there too; moto lacks UpdateEndpoint, so an endpoint moved to
another config is recreated on it.
"""

from __future__ import annotations

import boto3
import pytest
from moto.events.models import events_backends

from mlopsctl.offline.preview import load_config
from mlopsctl.offline.stackfile import load_stack_file
from mlopsctl.ops.awsclients import AwsClients
from mlopsctl.ops.verify import ERROR, FAIL, PASS, SKIP, WARN, Verifier, failed
from tests.support.aws_seed import ACCOUNT, BUCKET, ENDPOINT, MODELS, PREBUILT_REGISTRY, REGION, Seed, moto_account, put_alarm, seed_stack

STAGING = load_config(load_stack_file("staging"))
DEV = load_config(load_stack_file("dev"))
PROD = load_config(load_stack_file("prod"))
PACKAGE = f"arn:aws:sagemaker:{REGION}:{STAGING.account_id}:model-package/churn"
EMAIL, HOOK = "ml-platform-staging@example.com", "https://alerts.example.com/hooks/mlops-staging"
TOPIC = f"arn:aws:sns:{REGION}:{ACCOUNT}:mlops-staging-alerts"


def _without_replication(config):
    storage = config.storage.model_copy(update={"replication": config.storage.replication.model_copy(update={"enabled": False})})
    return config.model_copy(update={"storage": storage})


PROD = _without_replication(PROD)


@pytest.fixture
def aws(monkeypatch):
    with moto_account(monkeypatch, REGION):
        yield


def run(config, outputs):
    return Verifier(config, outputs, AwsClients(config.region)).run()


def only_problem(results, check, reason, status=FAIL, resource=None):
    """Exactly one result is not a pass or skip: ``check`` with ``status``, ``reason`` in its reason."""
    bad = [r for r in results if r.status not in (PASS, SKIP)]
    assert len(bad) == 1, [(r.check, r.resource, r.status, r.reason) for r in bad]
    [result] = bad
    assert (result.check, result.status) == (check, status), result
    assert reason in result.reason, result.reason
    if resource:
        assert result.resource == resource
    return result


def test_compliant_staging_checks_each_new_section(aws):
    results = run(STAGING, seed_stack(STAGING))
    assert {r.status for r in results} == {PASS, SKIP}
    by = {(r.check, r.resource): r for r in results}
    assert by[("endpoint.model", f"sagemaker endpoint {ENDPOINT}")].reason == f"primary serves {PACKAGE}/7; challenger serves {PACKAGE}/8"
    assert by[("alerts.subscription", f"sns email subscription {EMAIL}")].reason.startswith(f"confirmed (arn:aws:sns:{REGION}:{ACCOUNT}:mlops-staging-alerts:")
    assert by[("alerts.subscription", f"sns https subscription {HOOK}")].status == PASS
    assert by[("alarm.present", "cloudwatch alarms mlops-staging-*")].reason == "5 alarm(s) named mlops-staging-*"
    assert sorted(r.resource for r in results if r.check == "alarm.actions") == [
        f"cloudwatch alarm mlops-staging-churn-{variant}-{kind}" for variant in ("challenger", "primary") for kind in ("model-latency", "server-errors")
    ] + ["cloudwatch alarm mlops-staging-dispatch-dlq-not-empty"]
    assert all(r.reason == f"notifies {TOPIC} on ALARM and on OK" for r in results if r.check == "alarm.actions")
    assert by[("promotion.connection", "eventbridge connection mlops-staging-github-dispatch")].reason.startswith(
        "AUTHORIZED, API_KEY in header Authorization (EventBridge stored a key; whether GitHub accepts it shows in mlops-staging-dispatch-dlq)")
    assert by[("promotion.deadLetterQueue", "sqs queue mlops-staging-dispatch-dlq")].status == PASS


# --- each endpoint serves the configured model ---------------------------------------------------


@pytest.mark.parametrize(("seed", "reason"), [
    (Seed(served={"challenger": {"ModelPackageName": f"{PACKAGE}/6"}}),
     f"variant challenger (model {MODELS['challenger']}) serves {PACKAGE}/6; "
     f"serving.endpoints[churn].instance.challenger.model.modelPackageArn is {PACKAGE}/8"),
    (Seed(served={"primary": {"Image": f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/churn:1"}}),
     f"variant primary (model {MODELS['primary']}) serves no model package (image {ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/churn:1); "
     f"serving.endpoints[churn].model.modelPackageArn is {PACKAGE}/7"),
    (Seed(challenger=False), "mlops-prod-churn-20261122 has no variant challenger; the stack config declares "
                             "serving.endpoints[churn].instance.challenger.model"),
], ids=["other-package", "image-not-package", "no-challenger"])
def test_an_endpoint_serving_another_model_fails_naming_variant_and_both(aws, seed, reason):
    only_problem(run(STAGING, seed_stack(STAGING, seed)), "endpoint.model", reason, resource=f"sagemaker endpoint {ENDPOINT}")


def test_a_variant_the_config_does_not_declare_fails(aws):
    outputs = seed_stack(PROD)
    sagemaker = boto3.client("sagemaker", region_name=REGION)
    sagemaker.create_model(ModelName="shadow", ExecutionRoleArn=f"arn:aws:iam::{ACCOUNT}:role/x", PrimaryContainer={"Image": "x"})
    sagemaker.create_endpoint_config(EndpointConfigName="with-shadow", ProductionVariants=[
        {"VariantName": "primary", "ModelName": MODELS["primary"], "InstanceType": "ml.m5.large", "InitialInstanceCount": 2},
        {"VariantName": "shadow", "ModelName": "shadow", "InstanceType": "ml.m5.large", "InitialInstanceCount": 1}])
    sagemaker.delete_endpoint(EndpointName=ENDPOINT)  # moto lacks UpdateEndpoint
    sagemaker.create_endpoint(EndpointName=ENDPOINT, EndpointConfigName="with-shadow")
    [model] = [r for r in run(PROD, outputs) if r.check == "endpoint.model"]
    assert (model.status, model.reason) == (FAIL, "variant shadow of with-shadow is not one the stack config declares")


@pytest.mark.parametrize(("container", "reason"), [
    ({"Image": f"{PREBUILT_REGISTRY}/sagemaker-scikit-learn:1.0-1-cpu-py3", "ModelDataUrl": f"s3://{BUCKET}/models/churn/v7/model.tar.gz"},
     "serves image 683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.0-1-cpu-py3, "
     "serving.endpoints[churn].model.prebuiltImage is sagemaker-scikit-learn:1.2-1-cpu-py3"),
    ({"Image": f"{PREBUILT_REGISTRY}/sagemaker-scikit-learn:1.2-1-cpu-py3", "ModelDataUrl": f"s3://{BUCKET}/models/churn/v6/model.tar.gz"},
     f"serves model data s3://{BUCKET}/models/churn/v6/model.tar.gz, serving.endpoints[churn].model.modelDataKey is "
     f"s3://{BUCKET}/models/churn/v7/model.tar.gz"),
    ({"ModelPackageName": f"arn:aws:sagemaker:{REGION}:{DEV.account_id}:model-package/churn/3"},
     f"serves model package arn:aws:sagemaker:{REGION}:{DEV.account_id}:model-package/churn/3; serving.endpoints[churn].model names an image"),
], ids=["image-tag", "model-data", "package-not-image"])
def test_an_image_endpoint_is_checked_by_image_and_model_data(aws, container, reason):
    only_problem(run(DEV, seed_stack(DEV, Seed(served={"primary": container}))), "endpoint.model", reason)


def test_an_image_endpoint_never_passes_as_a_package(aws):
    [model] = [r for r in run(DEV, seed_stack(DEV)) if r.check == "endpoint.model"]
    assert model.status == PASS
    assert model.reason.endswith("(no model package to compare: the image and model data are checked instead)")


# --- who hears the alerts ------------------------------------------------------------------------


def test_a_missing_subscription_fails(aws):
    only_problem(run(STAGING, seed_stack(STAGING, Seed(unsubscribed=(HOOK,)))), "alerts.subscription",
                 "not subscribed to mlops-staging-alerts: nobody hears the alerts there", resource=f"sns https subscription {HOOK}")


@pytest.mark.parametrize(("config", "endpoint", "status"), [(STAGING, EMAIL, FAIL), (PROD, "ml-platform-oncall@example.com", FAIL),
                                                            (DEV, "ml-platform-dev@example.com", WARN)])
def test_a_pending_subscription_fails_in_staging_and_prod_and_warns_in_dev(aws, config, endpoint, status):
    results = run(config, seed_stack(config, Seed(pending=(endpoint,))))
    only_problem(results, "alerts.subscription", "pending: nobody confirmed the subscription to", status=status,
                 resource=f"sns email subscription {endpoint}")
    assert failed(results) is (status == FAIL)


def test_a_subscription_made_outside_the_stack_fails(aws):
    extra = ("email", "someone@example.org")
    only_problem(run(STAGING, seed_stack(STAGING, Seed(extra_subscriptions=(extra,)))), "alerts.subscription",
                 "confirmed, subscribed to mlops-staging-alerts but not in alerts.subscriptions", resource="sns email subscription someone@example.org")


def test_a_topic_that_does_not_exist_fails_every_subscription(aws):
    outputs = seed_stack(STAGING)
    outputs["alerts"]["topicArn"] += "-gone"
    bad = [(r.check, r.status, r.reason) for r in run(STAGING, outputs) if r.status not in (PASS, SKIP)]
    assert bad[:2] == [("alerts.subscription", FAIL, f"the alert topic {TOPIC}-gone does not exist")] * 2
    # and no alarm notifies a topic that is not the outputs'
    assert {(c, s) for c, s, _ in bad[2:]} == {("alarm.actions", FAIL)}


def test_a_stack_without_subscribers_warns_that_nobody_hears(aws):
    silent = DEV.model_copy(update={"alerts": DEV.alerts.model_copy(update={"subscriptions": []})})
    only_problem(run(silent, seed_stack(silent)), "alerts.subscription", "alerts.subscriptions is empty: nobody hears this stack's alerts",
                 status=WARN, resource="sns topic mlops-dev-alerts")


# --- every alarm notifies the alert topic ---------------------------------------------------------


@pytest.mark.parametrize(("actions", "enabled", "reason"), [
    ([], True, "no alarm actions: nobody hears it fire"),
    ([f"arn:aws:sns:{REGION}:{ACCOUNT}:elsewhere"], True, f"alarm actions arn:aws:sns:{REGION}:{ACCOUNT}:elsewhere do not include the alert topic {TOPIC}"),
    ([TOPIC], False, f"actions disabled (ActionsEnabled false): it notifies nobody, though its actions name {TOPIC}"),
], ids=["none", "other-topic", "disabled"])
def test_an_alarm_that_notifies_nobody_fails(aws, actions, enabled, reason):
    outputs = seed_stack(STAGING)
    put_alarm("mlops-staging-churn-challenger-server-errors", actions, {"EndpointName": ENDPOINT, "VariantName": "challenger"}, enabled=enabled)
    only_problem(run(STAGING, outputs), "alarm.actions", reason, resource="cloudwatch alarm mlops-staging-churn-challenger-server-errors")


def test_alarms_of_another_stack_are_not_this_stacks(aws):
    outputs = seed_stack(STAGING)
    put_alarm("mlops-prod-churn-primary-server-errors", [], {"EndpointName": "mlops-prod-churn", "VariantName": "primary"})
    assert not [r for r in run(STAGING, outputs) if r.status not in (PASS, SKIP)]


def test_no_alarms_at_all_fails(aws):
    only_problem(run(STAGING, seed_stack(STAGING, Seed(alarms=False))), "alarm.present",
                 "no alarm named mlops-staging-*; the stack's endpoints and approval dispatch create alarms")


def test_an_endpoint_variant_without_an_alarm_fails(aws):
    outputs = seed_stack(STAGING)
    boto3.client("cloudwatch", region_name=REGION).delete_alarms(
        AlarmNames=["mlops-staging-churn-challenger-server-errors", "mlops-staging-churn-challenger-model-latency"])
    only_problem(run(STAGING, outputs), "alarm.present",
                 f"3 alarm(s) named mlops-staging-*, none on endpoint variant(s) {ENDPOINT}/challenger: their deployments cannot roll back")


# --- the approval dispatch ----------------------------------------------------------------------


def test_a_missing_connection_fails(aws):
    only_problem(run(STAGING, seed_stack(STAGING, Seed(connection=False))), "promotion.connection",
                 f"no EventBridge connection mlops-staging-github-dispatch in {REGION}")


def test_a_connection_that_is_not_authorized_fails(aws):
    outputs = seed_stack(STAGING)
    connection = events_backends[ACCOUNT][REGION].connections["mlops-staging-github-dispatch"]
    connection.state = "DEAUTHORIZED"
    only_problem(run(STAGING, outputs), "promotion.connection",
                 "state DEAUTHORIZED, want AUTHORIZED; set the token with mlopsctl dispatch-token --stack staging")


def test_outputs_that_name_another_connection_fail(aws):
    outputs = seed_stack(STAGING)
    outputs["promotion"]["connectionName"] = "mlops-staging-other"
    only_problem(run(STAGING, outputs), "promotion.connection",
                 "the outputs' promotion.connectionName is mlops-staging-other, but dispatch-token sets the token of mlops-staging-github-dispatch")


def test_approvals_in_the_dead_letter_queue_fail_with_how_many(aws):
    only_problem(run(STAGING, seed_stack(STAGING, Seed(dead_letters=2))), "promotion.deadLetterQueue",
                 "2 approval(s) GitHub did not receive: no promote pull request was opened for them; fix the cause, then promote each by hand "
                 "and delete it (docs/operations.md, \"Approvals GitHub did not receive\")")


def test_a_missing_dead_letter_queue_fails(aws):
    outputs = seed_stack(STAGING)
    boto3.client("sqs", region_name=REGION).delete_queue(QueueUrl=outputs["promotion"]["deadLetterQueueUrl"])
    only_problem(run(STAGING, outputs), "promotion.deadLetterQueue", f"no SQS queue mlops-staging-dispatch-dlq in {REGION}")


def test_without_dispatch_nothing_of_it_is_checked_and_its_outputs_are_unexpected(aws):
    off = STAGING.model_copy(update={"promotion": STAGING.promotion.model_copy(update={"dispatch": False})})
    outputs = seed_stack(STAGING)
    only_problem(run(off, outputs), "promotion.present", "the outputs have a 'promotion' section, but promotion.dispatch is off in stacks/Pulumi.staging.yaml")
    del outputs["promotion"]
    results = run(off, outputs)
    assert not [r for r in results if r.check.startswith("promotion") or r.status not in (PASS, SKIP)]


def test_aws_errors_of_the_new_checks_are_per_check(aws):
    from tests.support.aws_errors import answer_with_error

    outputs = seed_stack(STAGING)
    clients = AwsClients(REGION)
    answer_with_error(clients.client("sqs"), "GetQueueUrl", 400, "AccessDenied", "not authorized to sqs:GetQueueUrl")
    answer_with_error(clients.client("cloudwatch"), "DescribeAlarms", 400, "AccessDenied", "not authorized to cloudwatch:DescribeAlarms")
    results = Verifier(STAGING, outputs, clients).run()
    errors = [(r.check, r.reason) for r in results if r.status == ERROR]
    assert errors == [("alarm.present", "permission denied for DescribeAlarms (AccessDenied): not authorized to cloudwatch:DescribeAlarms"),
                      ("promotion.deadLetterQueue", "permission denied for GetQueueUrl (AccessDenied): not authorized to sqs:GetQueueUrl")]
    assert all(r.status in (PASS, SKIP) for r in results if r.status != ERROR)
