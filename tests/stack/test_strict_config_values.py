"""Values AWS or ``pulumi up`` would refuse are refused by the offline preview first: strict types
(every error shown), AWS tag rules, S3 bucket names, VPC netmasks, node counts and GPU quotas.
Each case runs ``mlopsctl preview --stack dev --stacks-dir stacks`` in this process and asserts
its exact lines, exit 2, no traceback, and that no program started (``Refusal``)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import yaml

from tests.support.stackfiles import Refusal, edited, real_stack_text

DEV = real_stack_text("dev")
FILE = "stacks/Pulumi.dev.yaml"
KEY = f"{FILE}: mlops-platform:platform"


@pytest.fixture
def refusal(tmp_path, monkeypatch, capsys) -> Refusal:
    return Refusal(tmp_path, monkeypatch, capsys)


def with_platform(change: Callable[[dict], object]) -> str:
    """The dev stack file with its platform object changed in place by ``change`` (re-dumped: comments go)."""
    document = yaml.safe_load(DEV)
    change(document["config"]["mlops-platform:platform"])
    return yaml.safe_dump(document, sort_keys=False)


# ---------------------------------------------------------------------------------------------
# Strict types, every error shown


def test_strict_types_show_every_error_on_its_own_line(refusal):
    text = DEV
    for old, new in (("owner: ml-platform", "owner: 12"), ("azCount: 2", "azCount: true"), ('version: "1.35"', "version: 1.30"),
                     ("        maxSize: 3", '        maxSize: "3"'), ("webhook: true", "webhook: 1")):
        text = edited(text, old, new)
    refusal.write(text)
    assert refusal.lines() == [
        f"{KEY}.owner: must be a string, got the number 12; quote it in the stack file",
        f"{KEY}.network.azCount: must be an integer, got the boolean true",
        f'{KEY}.eks.version: must be a string, got the number 1.3; quote it in the stack file, e.g. "1.30" (YAML reads an unquoted 1.30 as the number 1.3)',
        f"{KEY}.eks.systemNodeGroup.maxSize: must be an integer, got the string '3'; write it without quotes",
        f"{KEY}.ciRunner.webhook: must be true or false, got the number 1",
    ]


def test_yes_is_a_string_as_the_cli_reads_it_not_a_boolean(refusal):
    refusal.write(edited(DEV, "webhook: true", "webhook: yes"))
    assert refusal.lines() == [
        f"{KEY}.ciRunner.webhook: must be true or false, got the string 'yes'; write true or false (the Pulumi CLI reads YAML 1.2, where yes is a string)"
    ]


def test_an_unquoted_date_for_a_string_is_named_as_a_date(refusal):
    refusal.write(edited(DEV, "costCenter: cc-ml-dev", "costCenter: 2026-01-31"))
    assert refusal.lines() == [f"{KEY}.costCenter: must be a string, got the date 2026-01-31; quote it in the stack file"]


def test_a_boolean_is_not_one_of_the_integer_choices(refusal):
    refusal.write(edited(DEV, "        diskSizeGib: 50\n", "        diskSizeGib: 50\n        imdsHopLimit: true\n"))
    assert refusal.lines() == [f"{KEY}.eks.systemNodeGroup.imdsHopLimit: must be one of 1, 2, got the boolean true"]


def test_a_number_where_a_section_belongs(refusal):
    refusal.write(edited(DEV, "    storage:\n      forceDestroy: true\n      noncurrentVersionExpirationDays: 14\n      accessLogExpirationDays: 30\n",
                         "    storage: 5\n"))
    assert refusal.lines() == [f"{KEY}.storage: must be a mapping of keys to values, got the number 5"]


# ---------------------------------------------------------------------------------------------
# AWS tag rules on every tag the platform writes, and extraTags against the platform's own


def test_tag_keys_and_values_follow_aws_rules(refusal):
    def change(platform):
        platform.update(owner="AWS:team", costCenter="cc,ml", extraTags={"team#1": "x", "aws:origin": "v", "ok": "aws:y", "long": "v" * 257})

    refusal.write(with_platform(change))
    assert refusal.lines() == [
        f"{KEY}.extraTags.team#1: tag key 'team#1' contains '#', which AWS tags do not allow (Unicode letters, digits, spaces and _ . : / = + - @; "
        r"botocore iam tagKeyType [\p{L}\p{Z}\p{N}_.:/=+\-@]+)",
        f"{KEY}.extraTags.aws:origin: tag key 'aws:origin' starts with 'aws:', which AWS reserves for its own tags (in any case)",
        f"{KEY}.extraTags.ok: the 'ok' tag's value 'aws:y' starts with 'aws:', which AWS reserves for its own tags (in any case)",
        f"{KEY}.extraTags.long: the 'long' tag's value '{'v' * 60}'... is 257 characters; AWS tag values are 0-256",
        f"{KEY}.owner: the 'owner' tag's value 'AWS:team' starts with 'aws:', which AWS reserves for its own tags (in any case)",
        f"{KEY}.costCenter: the 'cost-center' tag's value 'cc,ml' contains ',', which AWS tags do not allow (Unicode letters, digits, spaces and "
        r"_ . : / = + - @; botocore iam tagValueType [\p{L}\p{Z}\p{N}_.:/=+\-@]*)",
    ]


def test_the_project_tag_follows_aws_rules_too(refusal):
    refusal.write(with_platform(lambda platform: platform.update(project="mlops;platform")))
    assert refusal.lines() == [
        f"{KEY}.project: the 'project' tag's value 'mlops;platform' contains ';', which AWS tags do not allow (Unicode letters, digits, spaces and "
        r"_ . : / = + - @; botocore iam tagValueType [\p{L}\p{Z}\p{N}_.:/=+\-@]*)",
    ]


def test_a_tag_key_longer_than_aws_allows(refusal):
    refusal.write(with_platform(lambda platform: platform.update(extraTags={"k" * 129: "v"})))
    assert refusal.lines() == [f"{KEY}.extraTags.{'k' * 129}: String should have at most 128 characters"]


def test_extra_tags_may_not_set_the_platforms_own_keys_in_any_case(refusal):
    refusal.write(with_platform(lambda platform: platform.update(extraTags={"Owner": "x", "Name": "y", "kubernetes.io/cluster/x": "z", "unrelated": "ok"})))
    allowed = ("extraTags may not set environment, owner, cost-center, managed-by, project (default tags), Name, node-group, mlops:role, "
               "mlops:expected-notifications-per-month, mlops:expected-storage-gb, mlops:expected-dispatches-per-month, mlops:expected-training-runs-per-month, EventBridgeApiDestinations or kubernetes.io/*, k8s.io/* (set on single resources)")
    assert refusal.lines() == [
        f"{KEY}.extraTags.Owner: collides with the platform's own tag 'owner'; {allowed}",
        f"{KEY}.extraTags.Name: collides with the platform's own tag 'Name'; {allowed}",
        f"{KEY}.extraTags.kubernetes.io/cluster/x: collides with the platform's own tag 'kubernetes.io/*'; {allowed}",
    ]


# ---------------------------------------------------------------------------------------------
# S3 bucket names, VPC netmasks


@pytest.mark.parametrize(("prefix", "bucket", "reserved"), [
    ("sthree", "sthree-dev-artifacts", "sthree-"),
    ("xn-", "xn--dev-artifacts", "xn--"),
    ("amzn-s3-demo", "amzn-s3-demo-dev-artifacts", "amzn-s3-demo-"),
])
def test_every_bucket_name_the_prefix_makes_follows_s3_rules(refusal, prefix, bucket, reserved):
    refusal.write(with_platform(lambda platform: platform.update(namePrefix=prefix)))
    assert refusal.lines() == [
        f"{KEY}.namePrefix: {prefix!r} makes the bucket name {bucket}-<26-character suffix>, which S3 refuses: it starts with {reserved!r}, a prefix S3 reserves"
    ]


def test_a_vpc_larger_than_aws_allows(refusal):
    refusal.write(edited(DEV, "vpcCidr: 10.10.0.0/16", "vpcCidr: 10.0.0.0/8"))
    assert refusal.lines() == [f"{KEY}.network.vpcCidr: 10.0.0.0/8 is larger than AWS allows; a VPC's IPv4 block is /16 to /28"]


def test_a_subnet_smaller_than_aws_allows(refusal):
    refusal.write(with_platform(lambda platform: platform["network"].update(privateSubnetCidrs=["10.10.0.0/29", "10.10.0.16/29"])))
    assert refusal.lines() == [f"{KEY}.network.privateSubnetCidrs: 10.10.0.0/29 is not a size AWS allows; a subnet's IPv4 block is /16 to /28"]


# ---------------------------------------------------------------------------------------------
# Node counts and GPU quotas: EKS's quotas, the private subnets' addresses, the groups' GPUs


def test_a_node_group_larger_than_the_eks_quota(refusal):
    refusal.write(with_platform(lambda platform: platform["eks"]["gpuNodeGroups"][0].update(maxSize=451)))
    assert refusal.lines() == [
        f"{KEY}.eks.gpuNodeGroups[0].maxSize: at most 450 nodes per managed node group (EKS default quota 'Nodes per managed node group'), got 451"
    ]


def test_more_node_groups_than_the_eks_quota(refusal):
    def change(platform):
        group = platform["eks"]["gpuNodeGroups"][0]
        platform["eks"]["gpuNodeGroups"] = [{**group, "name": f"g{i}"} for i in range(30)]

    refusal.write(with_platform(change))
    assert refusal.lines() == [
        f"{KEY}.eks.gpuNodeGroups: 30 GPU node groups and the system group make 31 managed node groups; EKS allows 30 per cluster "
        "(default quota 'Managed node groups per cluster')"
    ]


def test_nodes_must_fit_the_derived_private_subnets(refusal):
    def change(platform):
        platform["network"]["vpcCidr"] = "10.10.0.0/20"
        platform["eks"]["systemNodeGroup"]["maxSize"] = 450
        group = platform["eks"]["gpuNodeGroups"][0]
        platform["eks"]["gpuNodeGroups"] = [{**group, "name": f"g{i}", "maxSize": 450} for i in range(2)]

    refusal.write(with_platform(change))
    assert refusal.lines() == [
        f"{KEY}.eks: the node groups can grow to 1350 nodes (maxSize: systemNodeGroup 450, g0 450, g1 450), more than the 1014 addresses of the "
        "private subnets (10.10.0.0/23, 10.10.2.0/23, after the 5 AWS reserves in each); every node needs one, and its pods more"
    ]


def test_nodes_must_fit_explicit_private_subnets(refusal):
    def change(platform):
        platform["network"]["privateSubnetCidrs"] = ["10.10.0.0/28", "10.10.0.16/28"]
        platform["eks"]["gpuNodeGroups"][0]["maxSize"] = 20

    refusal.write(with_platform(change))
    assert refusal.lines() == [
        f"{KEY}.eks: the node groups can grow to 23 nodes (maxSize: systemNodeGroup 3, g5-spot 20), more than the 22 addresses of the "
        "private subnets (10.10.0.0/28, 10.10.0.16/28, after the 5 AWS reserves in each); every node needs one, and its pods more"
    ]


def test_gpu_quotas_within_what_the_gpu_groups_can_hold(refusal):
    refusal.write(with_platform(lambda platform: platform["eks"].update(gpuQuota={"training": 17, "serving": 100})))
    assert refusal.lines() == [
        f"{KEY}.eks.gpuQuota.training: 17 GPUs is more than the GPU node groups can ever hold, at most 16 (g5-spot: maxSize 2 x up to 8 GPUs)",
        f"{KEY}.eks.gpuQuota.serving: 100 GPUs is more than the GPU node groups can ever hold, at most 16 (g5-spot: maxSize 2 x up to 8 GPUs)",
    ]


# ---------------------------------------------------------------------------------------------
# Continuous training (docs/training.md)


def test_bad_training_values_are_refused_before_the_program_runs(refusal):
    def change(platform):
        platform["serving"]["endpoints"][0]["training"] = {
            "dataPrefix": "s3://my-bucket/datasets/churn/",
            "image": {"repository": "train", "tag": "1.4.0"},
            "servingImage": {"repository": "serve", "tag": "1.4.0"},
            "instanceType": "ml.g5.2xlarge",
            "evaluation": {"metric": "auc", "threshold": 0.8},
            "schedule": {"expression": "cron(0 3 * * * *)"},
        }
        platform["training"] = {"experiments": {"kind": "trackingServer", "trackingServerSize": "Huge"}}

    refusal.write(with_platform(change))
    training = f"{KEY}.serving.endpoints[0].training"
    assert refusal.lines() == [
        f"{training}.dataPrefix: 's3://my-bucket/datasets/churn/': give the key prefix under the artifact store's datasets/ (e.g. datasets/churn/); "
        "the store's bucket is auto-named, so an s3:// URI cannot name it",
        f"{training}.schedule.expression: 'cron(0 3 * * * *)' is not an EventBridge schedule expression: exactly one of day-of-month and day-of-week must be '?'",
        f"{KEY}.training.experiments.trackingServerSize: 'Huge' is not a tracking server size; allowed: Small, Medium, Large (botocore sagemaker TrackingServerSize)",
    ]


def test_spot_training_in_dev_needs_a_maximum_wait(refusal):
    def change(platform):
        platform["serving"]["endpoints"][0]["training"] = {
            "dataPrefix": "datasets/churn/",
            "image": {"repository": "train", "tag": "1.4.0"},
            "servingImage": {"repository": "serve", "tag": "1.4.0"},
            "instanceType": "ml.m5.xlarge",
            "evaluation": {"metric": "auc", "threshold": 0.8},
        }

    refusal.write(with_platform(change))
    assert refusal.lines() == [
        f"{KEY}.serving.endpoints[0].training.maxWaitSeconds: required with spot (training.spotByDefault): "
        "the time to wait for capacity plus the runtime, at least maxRuntimeSeconds"
    ]
