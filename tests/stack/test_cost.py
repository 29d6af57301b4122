"""Cost model: hand-computed totals of a small fixture program, unknown prices, scenario semantics."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json

import pytest

from mlopsctl import cli
from mlopsctl.offline.cost_report import blocks, budget_config, cost_section, price_recording, render_markdown, render_text
from policies.pricing import SCENARIOS, StackResource, budget_verdict, component_of, cost_json, default_table, plain, price_resources
from tests.support.priced_fixture_program import FixtureOptions, build
from tests.support.programs import run_component
from tests.support.stacks import STACKS, stack_preview

PRICED_ON = dt.date(2026, 11, 22)  # Kubernetes 1.35 (the fixture) is in standard support until 2027-03-27
H = 730

# Hand-computed from the fixture (tests/support/priced_fixture_program.py) and policies/pricing/prices.json:
EKS = 0.10 * H  # 73.00: control plane, standard support
SYSTEM = {"idle": 1 * 0.096 * H, "expected": 2 * 0.096 * H, "ceiling": 3 * 0.192 * H}  # m6i.large first; m6i.xlarge dearest
GPU_SPOT = {"idle": 0.0, "expected": 0.0, "ceiling": 2 * 1.212 * H}  # 0/0/2, dearest listed type at the ceiling
NAT = 0.045 * H  # 32.85
NAT_IP = 0.005 * H  # 3.65
STS_ENDPOINT = 2 * 0.01 * H  # 14.60: two subnets (AZs); the S3 gateway endpoint is free
KMS = {"idle": 1.0, "expected": 1.0, "ceiling": 3.0}  # rotation on: +$1 for each of the first two rotations
ALARM = 0.10
REALTIME = {"idle": 1 * 0.115 * H, "expected": 1 * 0.115 * H, "ceiling": 4 * 0.115 * H}  # autoscaling 1..4
SERVERLESS = {"idle": 0.0, "expected": 0.0, "ceiling": 5 * 2 * 0.00002 * 3600 * H}  # 5 x 2 GB busy all month

EXPECTED_TOTALS = {
    s: EKS + SYSTEM[s] + GPU_SPOT[s] + NAT + NAT_IP + STS_ENDPOINT + KMS[s] + ALARM + REALTIME[s] + SERVERLESS[s] for s in SCENARIOS
}


def test_hand_computed_totals_are_the_written_figures():
    # The same arithmetic, written out once more as plain numbers a reviewer can check by hand.
    assert {s: round(v, 2) for s, v in EXPECTED_TOTALS.items()} == {"idle": 279.23, "expected": 349.31, "ceiling": 3178.60}


@pytest.mark.parametrize("unknowns", [False, True], ids=["known-ids", "first-preview-unknowns"])
def test_fixture_stack_totals(unknowns):
    report = price_recording(run_component(build(), unknowns=unknowns), on_date=PRICED_ON)
    assert report.unknown_items == []
    for scenario in SCENARIOS:
        assert report.total(scenario) == pytest.approx(EXPECTED_TOTALS[scenario], abs=0.005)


def test_one_line_item_per_priced_resource_with_component_and_source():
    recording = run_component(build())
    report = price_recording(recording, on_date=PRICED_ON)
    priced_types = [item.type for item in report.line_items]
    assert sorted(priced_types) == sorted(
        [
            "aws:eks/cluster:Cluster",
            "aws:eks/nodeGroup:NodeGroup",
            "aws:eks/nodeGroup:NodeGroup",
            "aws:ec2/natGateway:NatGateway",
            "aws:ec2/eip:Eip",
            "aws:ec2/vpcEndpoint:VpcEndpoint",  # the interface one only
            "aws:kms/key:Key",
            "aws:cloudwatch/metricAlarm:MetricAlarm",
            "aws:sagemaker/endpointConfiguration:EndpointConfiguration",
            "aws:sagemaker/endpointConfiguration:EndpointConfiguration",
        ]
    )
    urns = {r.urn for r in recording.resources}
    sources = default_table().sources
    for item in report.line_items:
        assert item.urn in urns
        assert item.component == "mlops:fixture:CostFixture"
        assert item.source.split(" (as of ")[0] in sources
    section = cost_json(report)
    nat = next(i for i in section["lineItems"] if i["type"] == "aws:ec2/natGateway:NatGateway")
    assert (nat["quantity"], nat["unitPrice"], nat["unit"], nat["hours"]) == (1, 0.045, "gateway-hour", 730)
    assert nat["monthly"] == {"idle": 32.85, "expected": 32.85, "ceiling": 32.85}
    excluded = {e["item"] for e in section["excluded"]}
    assert {"NAT gateway data processing", "EBS volumes of nodes", "Bucket"} <= excluded


def test_component_comes_from_the_urn_parent_chain():
    urn = "urn:pulumi:prod::mlops-platform::mlops:index:MlopsPlatform$mlops:eks:EksCluster$aws:eks/nodeGroup:NodeGroup::ng"
    assert component_of(urn) == "mlops:eks:EksCluster"
    assert component_of("urn:pulumi:prod::p::mlops:index:MlopsPlatform$aws:kms/key:Key::k") == "mlops:index:MlopsPlatform"
    assert component_of("urn:pulumi:prod::p::aws:kms/key:Key::k") == "(stack)"


# ---------------------------------------------------------------------------------------------
# Unknown prices


def test_missing_prices_are_unknown_never_zero():
    options = FixtureOptions(system_types=("c7i.large",), serving_instance_type="ml.g6.xlarge")
    report = price_recording(run_component(build(options)), on_date=PRICED_ON)
    assert report.totals() == {"idle": None, "expected": None, "ceiling": None}
    unknown = {u.item: u for u in report.unknown_items}
    assert "no price for 'ec2.instance.c7i.large' in region us-east-1" in unknown["EC2 c7i.large"].reason
    assert "SageMaker endpoint variant primary (ml.g6.xlarge)" in unknown
    system = next(i for i in report.line_items if "c7i.large" in i.item)
    assert system.unit_prices == {"idle": None, "expected": None, "ceiling": None}
    assert system.monthly("expected") is None
    # The priced part excludes the unknown items: a lower bound, labelled as such.
    assert report.known_part("ceiling") == pytest.approx(EXPECTED_TOTALS["ceiling"] - SYSTEM["ceiling"] - REALTIME["ceiling"], abs=0.005)
    section = cost_json(report, monthly_budget_usd=100_000)
    assert section["monthly"] == {"idle": None, "expected": None, "ceiling": None}
    assert "ceiling unknown (priced part $" in section["summary"]
    assert section["budget"]["withinBudget"] is False  # an unpriced ceiling is never "within budget"
    assert "cannot be verified" in section["budget"]["message"]


def test_unknown_price_only_affects_scenarios_that_use_it():
    # ON_DEMAND uses the first listed type, so a dearer unpriced fallback type only hits the ceiling.
    report = price_recording(run_component(build(FixtureOptions(system_types=("m6i.large", "c7i.2xlarge")))), on_date=PRICED_ON)
    assert report.total("idle") == pytest.approx(EXPECTED_TOTALS["idle"], abs=0.005)
    assert report.total("expected") == pytest.approx(EXPECTED_TOTALS["expected"], abs=0.005)
    assert report.total("ceiling") is None
    assert [u.scenarios for u in report.unknown_items] == [("ceiling",)]


def test_gpu_group_at_zero_costs_nothing_even_unpriced():
    # g6.2xlarge has no row: the SPOT group's idle/expected (0 nodes) stay known, its ceiling does not.
    report = price_recording(run_component(build(FixtureOptions(gpu_types=("g6.2xlarge",)))), on_date=PRICED_ON)
    assert report.total("idle") == pytest.approx(EXPECTED_TOTALS["idle"], abs=0.005)
    assert report.total("ceiling") is None


def test_region_without_prices_is_unknown():
    resource = StackResource(urn="urn:pulumi:s::p::aws:ec2/natGateway:NatGateway::nat", type="aws:ec2/natGateway:NatGateway", inputs={}, region="ap-south-2")
    report = price_resources([resource], on_date=PRICED_ON)
    assert report.total("idle") is None
    assert "region ap-south-2" in report.unknown_items[0].reason


# ---------------------------------------------------------------------------------------------
# Scenario semantics


def _items(report, type_token):
    return [i for i in report.line_items if i.type == type_token]


def test_serverless_is_free_when_idle_and_busy_at_the_ceiling():
    report = price_recording(run_component(build()), on_date=PRICED_ON)
    serverless = next(i for i in report.line_items if "serverless" in i.item)
    assert serverless.quantities == {"idle": 0.0, "expected": 0.0, "ceiling": 10.0}  # GB: 5 concurrent x 2048 MB
    assert serverless.monthly("idle") == 0.0
    assert serverless.monthly("ceiling") == pytest.approx(525.60)


def test_autoscaling_min_and_max_bound_the_realtime_variant():
    report = price_recording(run_component(build()), on_date=PRICED_ON)
    realtime = next(i for i in report.line_items if "ml.m5.large" in i.item)
    assert realtime.quantities == {"idle": 1, "expected": 1, "ceiling": 4}
    assert "autoscaling 1..4" in realtime.note


def test_unmatched_autoscaling_target_makes_the_ceiling_unknown():
    target = StackResource(
        urn="urn:pulumi:s::p::aws:appautoscaling/target:Target::orphan",
        type="aws:appautoscaling/target:Target",
        inputs={"serviceNamespace": "sagemaker", "scalableDimension": "sagemaker:variant:DesiredInstanceCount", "resourceId": "endpoint/gone/variant/a", "minCapacity": 1, "maxCapacity": 9},
        region="us-east-1",
    )
    report = price_resources([target], on_date=PRICED_ON)
    assert report.total("idle") == 0 and report.total("ceiling") is None


def test_eks_extended_support_rate_after_standard_support_ends():
    recording = run_component(build())
    standard = _items(price_recording(recording, on_date=PRICED_ON), "aws:eks/cluster:Cluster")[0]
    extended = _items(price_recording(recording, on_date=dt.date(2027, 3, 27)), "aws:eks/cluster:Cluster")[0]
    assert standard.monthly("expected") == pytest.approx(73.0)
    assert extended.monthly("expected") == pytest.approx(438.0)  # $0.60/h
    assert "EXTENDED support until 2028-03-27" in extended.item
    old = run_component(build(FixtureOptions(eks_version="1.31")))
    in_extended = _items(price_recording(old, on_date=PRICED_ON), "aws:eks/cluster:Cluster")[0]
    assert in_extended.unit_prices["expected"] == 0.60
    past = price_recording(old, on_date=dt.date(2026, 11, 26))
    assert "past the end of extended support" in past.unknown_items[0].reason


def test_upgrade_policy_standard_never_pays_extended_support():
    cluster = StackResource(
        urn="urn:pulumi:s::p::aws:eks/cluster:Cluster::c",
        type="aws:eks/cluster:Cluster",
        inputs={"version": "1.33", "upgradePolicy": {"supportType": "STANDARD"}},
        region="us-east-1",
    )
    assert price_resources([cluster], on_date=PRICED_ON).total("expected") == pytest.approx(73.0)


def test_policy_sdk_proxies_are_read_without_tripping_on_unknowns():
    from pulumi_policy.proxy import unknown_checking_proxy

    unknown = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
    proxied = unknown_checking_proxy({"subnetIds": ["subnet-a", unknown], "version": unknown, "nested": {"x": [1]}})
    assert plain(proxied) == {"subnetIds": ["subnet-a", unknown], "version": unknown, "nested": {"x": [1]}}


# ---------------------------------------------------------------------------------------------
# Budget verdict, whole stacks, CLI


def test_budget_verdict_within_and_over():
    report = price_recording(run_component(build()), on_date=PRICED_ON)
    assert budget_verdict(report, 3200)["withinBudget"] is True
    over = budget_verdict(report, 3000)
    assert over["withinBudget"] is False and "$3,178.60/month exceeds the budget of $3,000.00" in over["message"]


def test_cost_section_contract_for_every_stack():
    for stack in STACKS:
        cost = stack_preview(stack).cost
        assert cost["evaluated"] is True and cost["currency"] == "USD" and cost["asOf"] == default_table().as_of
        assert set(cost["monthly"]) == set(SCENARIOS)
        assert isinstance(cost["unknownItems"], list) and isinstance(cost["lineItems"], list) and cost["summary"]
        assert cost["budget"]["monthlyBudgetUsd"] is not None
        assert isinstance(cost["budget"]["withinBudget"], bool)
        for item in cost["lineItems"]:
            assert {"urn", "type", "component", "item", "quantity", "unitPrice", "unit", "hours", "monthly", "source"} <= set(item)
        # idle <= expected <= ceiling whenever all three are known
        known = [cost["monthly"][s] for s in SCENARIOS]
        if None not in known:
            assert known == sorted(known)


def test_cost_section_of_a_recording_reads_the_stack_budget():
    cost = cost_section(run_component(build()), "prod", on_date=PRICED_ON)
    assert cost["budget"]["monthlyBudgetUsd"] == json.loads(open("policies/config/prod.json").read())["monthly-budget"]["monthlyBudgetUsd"]
    assert cost["budget"]["withinBudget"] is True
    text = render_text(cost, "fixture")
    markdown = render_markdown(cost, "fixture")
    assert "$3,178.60" in text and "$3,178.60" in markdown and "| `mlops:fixture:CostFixture` |" in markdown


def test_cli_cost_json(capsys):
    assert cli.main(["cost", "--stack", "dev", "--format", "json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["stack"] == "dev" and printed["cost"]["evaluated"] is True


def test_cli_cost_rejects_unknown_stack(capsys):
    assert cli.main(["cost", "--stack", "nope"]) == 2
    assert "error:" in capsys.readouterr().err


def test_cost_command_blocks_only_a_mandatory_budget_breach(tmp_path):
    (tmp_path / "prod.json").write_text(json.dumps({"monthly-budget": {"enforcementLevel": "mandatory", "monthlyBudgetUsd": 1000}}))
    (tmp_path / "dev.json").write_text(json.dumps({"monthly-budget": {"enforcementLevel": "advisory", "monthlyBudgetUsd": 1000}}))
    assert budget_config("prod", tmp_path) == (1000.0, "mandatory")
    assert budget_config("missing", tmp_path) == (None, "mandatory")
    recording = run_component(build())
    over = cost_json(price_recording(recording, on_date=PRICED_ON), monthly_budget_usd=1000)
    within = cost_json(price_recording(recording, on_date=PRICED_ON), monthly_budget_usd=5000)
    unbudgeted = cost_json(price_recording(recording, on_date=PRICED_ON))
    assert blocks(over, "mandatory") and not blocks(over, "advisory")
    assert not blocks(within, "mandatory") and not blocks(unbudgeted, "mandatory")


def test_unknown_variants_are_unknown_not_free():
    unknown = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
    config = StackResource(
        urn="urn:pulumi:s::p::aws:sagemaker/endpointConfiguration:EndpointConfiguration::c",
        type="aws:sagemaker/endpointConfiguration:EndpointConfiguration",
        inputs={"productionVariants": unknown},
        region="us-east-1",
    )
    report = price_resources([config], on_date=PRICED_ON)
    assert report.totals() == {"idle": None, "expected": None, "ceiling": None}


def test_every_aws_resource_of_the_stacks_is_classified():
    # Priced, known free, or named as usage-priced: a new billable type must be added to the model.
    for stack in STACKS:
        unclassified = [e["type"] for e in stack_preview(stack).cost["excluded"] if e["reason"].startswith("no price model")]
        assert unclassified == [], f"{stack}: add a price model or a free/usage entry in policies/pricing/engine.py for {unclassified}"


def test_pricing_needs_only_the_standard_library():
    # The pack ships policies/ alone; pricing must import without site-packages or the repo's code.
    import subprocess
    import sys

    from tests.support.stacks import ROOT

    probe = "import sys; sys.path.insert(0, 'policies'); import pricing; print(pricing.default_table().as_of)"
    done = subprocess.run([sys.executable, "-S", "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == default_table().as_of


def test_a_bare_string_budget_level_is_that_level(tmp_path):
    (tmp_path / "prod.json").write_text(json.dumps({"monthly-budget": "advisory"}))
    assert budget_config("prod", tmp_path) == (None, "advisory")
    (tmp_path / "prod.json").write_text(json.dumps({"all": "advisory", "monthly-budget": {"monthlyBudgetUsd": 10}}))
    assert budget_config("prod", tmp_path) == (10.0, "advisory")


# --- The alert path: a topic priced from its expected volume, free AWS-service rules -----------

ALERT_VOLUME = 100_000


def _alert_path(tagged: bool = True, custom_rule: bool = False):
    import pulumi
    import pulumi_aws as aws

    from policies.awsfacts import EXPECTED_NOTIFICATIONS_TAG

    def program():
        opts = pulumi.ResourceOptions(provider=aws.Provider("aws", region="us-east-1"))
        topic = aws.sns.Topic("alerts", tags={EXPECTED_NOTIFICATIONS_TAG: str(ALERT_VOLUME)} if tagged else None, opts=opts)
        aws.sns.TopicSubscription("oncall", topic=topic.arn, protocol="email", endpoint="oncall@example.com", opts=opts)
        aws.sns.TopicSubscription("hook", topic=topic.arn, protocol="https", endpoint="https://alerts.example.com/hook", opts=opts)
        source = "acme.orders" if custom_rule else "aws.sagemaker"
        rule = aws.cloudwatch.EventRule("failures", event_pattern=json.dumps({"source": [source]}), opts=opts)
        aws.cloudwatch.EventTarget("failures", rule=rule.name, arn=topic.arn, opts=opts)

    return price_recording(run_component(program), on_date=PRICED_ON)


def test_the_alert_topic_is_priced_from_its_expected_volume_per_delivery_protocol():
    report = _alert_path()
    monthly = {item.item: {s: round(item.monthly(s), 2) for s in SCENARIOS} for item in report.line_items}
    # Hand-computed: 100,000 messages x $0.50/M publishes, x $2.00/100K email, x $0.60/M HTTPS deliveries.
    assert monthly["SNS publishes (standard topic)"] == {"idle": 0.0, "expected": 0.05, "ceiling": 0.05}
    assert monthly["SNS email deliveries"] == {"idle": 0.0, "expected": 2.0, "ceiling": 2.0}
    assert monthly["SNS https deliveries"] == {"idle": 0.0, "expected": 0.06, "ceiling": 0.06}
    # A rule on AWS service events costs nothing, and says so with its source; its target carries no charge.
    [rule] = [i for i in report.line_items if i.type == "aws:cloudwatch/eventRule:EventRule"]
    assert rule.monthly("ceiling") == 0.0 and rule.source.startswith("eventbridge-aws-events-free-2026")
    assert report.totals() == {"idle": 0.0, "expected": pytest.approx(2.11), "ceiling": pytest.approx(2.11)}
    assert not [e for e in report.excluded if e.type == "aws:cloudwatch/eventTarget:EventTarget"]


def test_without_a_volume_or_with_custom_events_the_charges_are_named_not_priced():
    report = _alert_path(tagged=False, custom_rule=True)
    assert not [i for i in report.line_items if i.type.startswith("aws:sns/") or i.type.startswith("aws:cloudwatch/event")]
    excluded = {(e.type.rsplit(":", 1)[-1], e.item) for e in report.excluded}
    assert {("Topic", "SNS publishes"), ("TopicSubscription", "SNS email deliveries"), ("TopicSubscription", "SNS https deliveries"),
            ("EventRule", "EventBridge events")} <= excluded


def test_every_stack_prices_its_alert_topic_from_the_stack_file():
    for stack, volume in (("dev", 100), ("prod", 1000)):
        preview = stack_preview(stack)
        [topic] = preview.recording.of_type("aws:sns/topic:Topic")
        assert topic.inputs["tags"] == {"mlops:expected-notifications-per-month": str(volume)}
        deliveries = [i for i in preview.cost["lineItems"] if i["type"] == "aws:sns/topicSubscription:TopicSubscription"]
        assert len(deliveries) == len(preview.config.alerts.subscriptions) and all(i["quantities"]["expected"] == volume for i in deliveries)


# ---------------------------------------------------------------------------------------------
# ECR image storage: the planned size of each repository


@pytest.mark.parametrize("stack", STACKS)
def test_ecr_storage_is_priced_at_each_repositorys_planned_size(stack):
    result = stack_preview(stack)
    planned = {f"mlops-platform-images-{r.name}": r.expected_storage_gb for r in result.config.images.repositories}
    items = [i for i in result.cost["lineItems"] if i["type"] == "aws:ecr/repository:Repository"]
    assert sorted(i["urn"].rsplit("::", 1)[1] for i in items) == sorted(planned)
    for item in items:
        gb = planned[item["urn"].rsplit("::", 1)[1]]
        assert item["item"] == f"ECR image storage ({gb:g} GB planned)" and item["unit"] == "GB-month"
        # Storage bills whatever the traffic: the planned size in every scenario, at $0.10/GB-month (us-east-1).
        assert item["monthly"] == {s: pytest.approx(gb * 0.10) for s in SCENARIOS}
        assert item["source"].startswith("ecr-pricing-2026")
        assert "basic scanning on push is free" in item["note"]
    assert result.cost["byComponent"]["mlops:images:ImageRepositories"] == {s: pytest.approx(0.10 * sum(planned.values())) for s in SCENARIOS}
    # Transfer is named, never priced; the lifecycle and repository policies carry no charge.
    excluded = {(e["type"], e["item"]) for e in result.cost["excluded"] if e["type"].startswith("aws:ecr/")}
    assert excluded == {("aws:ecr/repository:Repository", "ECR data transfer")}


def test_a_repository_without_a_planned_size_is_excluded_and_a_malformed_one_is_unknown():
    def repository(tags):
        return StackResource(urn="urn:pulumi:s::p::aws:ecr/repository:Repository::r", type="aws:ecr/repository:Repository", inputs={"tags": tags}, region="us-east-1")

    bare = price_resources([repository({})], on_date=PRICED_ON)
    assert bare.line_items == [] and bare.unknown_items == []
    assert {e.item for e in bare.excluded} == {"ECR data transfer", "ECR image storage"}
    malformed = price_resources([repository({"mlops:expected-storage-gb": "lots"})], on_date=PRICED_ON)
    assert [u.reason for u in malformed.unknown_items] == ["tag mlops:expected-storage-gb is 'lots', not a number of GB"]
    assert malformed.total("expected") is None
    elsewhere = price_resources([dataclasses.replace(repository({"mlops:expected-storage-gb": "10"}), region="ap-south-2")], on_date=PRICED_ON)
    assert "no price for 'ecr.storage.gbMonth' in region ap-south-2" in elsewhere.unknown_items[0].reason


# ---------------------------------------------------------------------------------------------
# The approval dispatch: invocations from the rules' expected approvals, the connection's secret, the dead letters


def test_staging_prices_the_dispatch_from_its_expected_approvals_and_retries():
    preview = stack_preview("staging")
    promotion = preview.config.promotion
    items = {i["item"]: i for i in preview.cost["lineItems"] if i["component"] == "mlops:promotion:ApprovalDispatch"}
    invocations = items["EventBridge API destination invocations"]
    approvals = promotion.expected_approvals_per_month
    assert invocations["quantities"] == {"idle": 0.0, "expected": float(approvals), "ceiling": float(approvals * (1 + promotion.retry_attempts))}
    assert invocations["unitPrice"] == pytest.approx(0.0000002) and invocations["source"].startswith("eventbridge-api-destinations-2026")
    assert items["EventBridge connection secret (Secrets Manager)"]["monthly"] == {"idle": 0.0, "expected": 0.0, "ceiling": 0.0}
    assert items["EventBridge connection secret (Secrets Manager)"]["source"].startswith("eventbridge-connection-secret")
    assert items["SQS requests (dead letters)"]["quantities"] == {"idle": 0.0, "expected": 0.0, "ceiling": float(approvals * 3)}
    assert items["CloudWatch standard alarm (1 metric)"]["monthly"]["idle"] == pytest.approx(0.10)


def _dispatch_path(tagged: bool = True, retries: bool = True):
    import pulumi
    import pulumi_aws as aws

    from policies.awsfacts import EXPECTED_DISPATCHES_TAG

    def program():
        opts = pulumi.ResourceOptions(provider=aws.Provider("aws", region="us-east-1"))
        connection = aws.cloudwatch.EventConnection("c", authorization_type="API_KEY", auth_parameters={"api_key": {"key": "Authorization", "value": "x"}}, opts=opts)
        destination = aws.cloudwatch.EventApiDestination("d", connection_arn=connection.arn, http_method="POST",
                                                         invocation_endpoint="https://api.github.com/repos/o/r/dispatches", opts=opts)
        queue = aws.sqs.Queue("q", opts=opts)
        rule = aws.cloudwatch.EventRule("r", event_pattern=json.dumps({"source": ["aws.sagemaker"]}),
                                        tags={EXPECTED_DISPATCHES_TAG: "1000"} if tagged else None, opts=opts)
        aws.cloudwatch.EventTarget("t", rule=rule.name, arn=destination.arn, dead_letter_config={"arn": queue.arn},
                                   retry_policy={"maximum_retry_attempts": 4, "maximum_event_age_in_seconds": 3600} if retries else None, opts=opts)

    return price_recording(run_component(program), on_date=PRICED_ON)


def test_the_dispatch_ceiling_counts_every_retry_and_every_dead_letter():
    report = _dispatch_path()
    monthly = {i.item: {s: i.monthly(s) for s in SCENARIOS} for i in report.line_items}
    assert monthly["EventBridge API destination invocations"] == {"idle": 0.0, "expected": pytest.approx(0.0002), "ceiling": pytest.approx(0.001)}
    assert monthly["SQS requests (dead letters)"] == {"idle": 0.0, "expected": 0.0, "ceiling": pytest.approx(0.0012)}


@pytest.mark.parametrize(("tagged", "retries"), [(False, True), (True, False)])
def test_a_dispatch_without_a_volume_or_a_stated_retry_policy_is_named_not_priced(tagged, retries):
    report = _dispatch_path(tagged=tagged, retries=retries)
    assert not [i for i in report.line_items if i.item in ("EventBridge API destination invocations", "SQS requests (dead letters)")]
    excluded = {(e.type.rsplit(":", 1)[-1], e.item) for e in report.excluded}
    assert {("EventApiDestination", "API destination invocations"), ("Queue", "SQS requests")} <= excluded
