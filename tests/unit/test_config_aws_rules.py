"""The AWS rules the config applies, one by one: botocore's tag patterns (Java \\p{..} classes),
S3 bucket names, the facts they read, multi-line ConfigErrors, secrets the preview cannot read."""

from __future__ import annotations

import pytest

from components import facts
from components.config import ConfigError, bucket_name_problem, parse_platform_config, unread_key_issues
from tests.support.stacks import stack_raw_config

IAM_TAG_VALUE = r"[\p{L}\p{Z}\p{N}_.:/=+\-@]*"


@pytest.mark.parametrize(("value", "allowed"), [
    ("cost-center", True),
    ("Émile Zoë 1", True),  # Unicode letters and spaces
    ("\u0663", True),  # an Arabic-Indic digit is \p{N}
    ("a\u00a0b", True),  # a no-break space is \p{Z}
    ("_.:/=+-@", True),
    ("", True),
    ("a,b", False),
    ("tab\there", False),  # a tab is a control character, not \p{Z}
    ("50%", False),
])
def test_botocore_tag_patterns_match_by_unicode_category(value, allowed):
    assert facts.matches_botocore_pattern(IAM_TAG_VALUE, value) is allowed


def test_a_pattern_without_property_classes_is_a_plain_regular_expression():
    assert facts.matches_botocore_pattern(r"[a-z]+", "abc") and not facts.matches_botocore_pattern(r"[a-z]+", "ABC")


def test_a_pattern_mixing_property_classes_and_literal_letters_is_refused_not_guessed():
    with pytest.raises(ValueError, match="mixes property classes"):
        facts.matches_botocore_pattern(r"[\p{L}a-z]+", "x")


def test_tag_rules_are_the_tightest_of_the_services_tagged():
    rules = facts.tag_rules()
    assert (rules["key"]["min"], rules["key"]["max"]) == (1, facts.shape_limits("iam", "tagKeyType")["max"]) == (1, 128)
    assert (rules["value"]["min"], rules["value"]["max"]) == (0, facts.shape_limits("iam", "tagValueType")["max"]) == (0, 256)
    assert rules["value"]["patterns"]["iam tagValueType"] == IAM_TAG_VALUE
    assert rules["reservedPrefix"] == "aws:"


@pytest.mark.parametrize(("name", "problem"), [
    ("mlops-dev-artifacts-20261207000000000000000001", None),
    ("ab", "is 2 characters; S3 allows 3-63"),
    ("a" * 64, "is 64 characters; S3 allows 3-63"),
    ("Mlops-dev", "may hold only lowercase letters, digits, '.' and '-', and must begin and end with a letter or digit"),
    ("mlops-dev-", "may hold only lowercase letters, digits, '.' and '-', and must begin and end with a letter or digit"),
    ("mlops_dev", "may hold only lowercase letters, digits, '.' and '-', and must begin and end with a letter or digit"),
    ("mlops..dev", "holds two adjacent periods"),
    ("192.168.5.4", "is formatted as an IP address"),
    ("xn--mlops", "starts with 'xn--', a prefix S3 reserves"),
    ("sthree-configurator", "starts with 'sthree-', a prefix S3 reserves"),
    ("amzn-s3-demo-bucket", "starts with 'amzn-s3-demo-', a prefix S3 reserves"),
    ("mlops-s3alias", "ends with '-s3alias', a suffix S3 reserves"),
    ("mlops--ol-s3", "ends with '--ol-s3', a suffix S3 reserves"),
    ("mlops.mrap", "ends with '.mrap', a suffix S3 reserves"),
    ("mlops--x-s3", "ends with '--x-s3', a suffix S3 reserves"),
    ("mlops--table-s3", "ends with '--table-s3', a suffix S3 reserves"),
])
def test_s3_bucket_naming_rules(name, problem):
    assert bucket_name_problem(name) == problem


def test_every_gpu_family_has_its_most_gpus_per_instance():
    data = facts.facts()
    assert set(data["maxNvidiaGpusPerInstanceByFamily"]["families"]) == set(data["gpuInstanceFamilies"]["ec2"])
    assert facts.max_gpus_per_instance("g5.xlarge") == 8 and facts.max_gpus_per_instance("m6i.large") is None


def test_gpus_per_instance_type_stay_within_their_family_and_cover_every_stack():
    data = facts.facts()
    per_type = data["nvidiaGpusPerInstanceType"]["types"]
    for instance_type, gpus in per_type.items():
        family = facts.instance_family(instance_type)
        assert family in data["gpuInstanceFamilies"]["ec2"], instance_type
        assert 1 <= gpus <= data["maxNvidiaGpusPerInstanceByFamily"]["families"][family], instance_type
        assert instance_type in facts.ec2_instance_types(), instance_type  # botocore knows the type
    # The family maximum is some listed size's count wherever the family's largest size is listed.
    assert max(n for t, n in per_type.items() if t.startswith("g5.")) == data["maxNvidiaGpusPerInstanceByFamily"]["families"]["g5"]
    from tests.support.stacks import STACKS, stack_config

    for stack in STACKS:
        for group in stack_config(stack).eks.gpu_node_groups:
            assert all(t in per_type for t in group.instance_types), (stack, group.name)
    assert "docs.aws.amazon.com/batch" in data["nvidiaGpusPerInstanceType"]["source"]


def test_every_new_fact_names_its_source():
    data = facts.facts()
    for section in ("awsTagRules", "s3BucketNaming", "vpcCidrNetmask", "eksManagedNodeGroupQuotas", "maxNvidiaGpusPerInstanceByFamily"):
        assert "docs.aws.amazon.com" in data[section]["source"], section


def test_a_config_error_with_several_problems_is_one_line_each():
    error = ConfigError.of("stacks/Pulumi.dev.yaml", [("a.b", "first"), ("c", "second")])
    assert str(error) == "stacks/Pulumi.dev.yaml: a.b: first\nstacks/Pulumi.dev.yaml: c: second"
    assert (error.key_path, error.message, error.issues) == ("a.b", "first", [("a.b", "first"), ("c", "second")])


def test_a_secret_stand_in_is_not_held_to_tag_rules_it_cannot_show():
    raw = {**stack_raw_config("dev"), "costCenter": "[stand-in]"}
    with pytest.raises(ConfigError, match=r"costCenter: the 'cost-center' tag's value '\[stand-in\]' contains '\[\]'"):
        parse_platform_config(raw, "us-east-1", "stacks/Pulumi.dev.yaml")
    config = parse_platform_config(raw, "us-east-1", "stacks/Pulumi.dev.yaml", secret_paths=["mlops-platform:platform.costCenter"])
    assert config.cost_center == "[stand-in]"


def test_unread_keys_are_those_of_the_namespace_only():
    keys = ["mlops-platform:platform", "mlops-platform:x", "aws:region", "mlops-platform-incluster:y"]
    assert unread_key_issues(keys, "mlops-platform", ["mlops-platform:platform"]) == [
        ("mlops-platform:x", "unknown key; mlops-platform reads only mlops-platform:platform")
    ]
