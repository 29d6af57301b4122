"""Config parsing: the three stacks load; bad input fails with one line naming file, key and what is allowed."""

from __future__ import annotations

import copy

import pytest
from pydantic import ValidationError

from components import facts
from components.config import CONFIG_KEY, ENVIRONMENT_DEFAULTS, ConfigError, parse_platform_config
from tests.support.stacks import STACKS, assert_one_line_config_error, stack_raw_config

SOURCE = "stacks/Pulumi.dev.yaml"


@pytest.mark.parametrize("stack", STACKS)
def test_real_stacks_parse(stack):
    config = parse_platform_config(stack_raw_config(stack), "us-east-1", f"stacks/Pulumi.{stack}.yaml")
    assert config.environment == stack
    assert config.default_tags["environment"] == stack


def test_environments_differ_the_way_a_team_would_choose():
    dev, prod = (parse_platform_config(stack_raw_config(s), "us-east-1", s) for s in ("dev", "prod"))
    assert dev.network.nat_gateways == "single" and prod.network.nat_gateways == "perAz"
    assert all(g.capacity_type == "SPOT" and g.min_size == 0 for g in dev.eks.gpu_node_groups)
    assert prod.eks.deletion_protection and not dev.eks.deletion_protection
    assert prod.storage.protect and not dev.storage.protect
    assert prod.storage.replication.enabled and not dev.storage.replication.enabled
    assert not prod.eks.endpoint_public_access


def test_environment_defaults_apply_when_stack_is_silent():
    raw = {"environment": "prod", "accountId": "345678901234", "owner": "o", "costCenter": "c", "storage": {"replication": {"region": "us-west-2"}},
           "eks": {"deployRoleArn": "arn:aws:iam::345678901234:role/deploy"}}
    config = parse_platform_config(raw, "us-east-1", "x.yaml")
    assert config.network.nat_gateways == ENVIRONMENT_DEFAULTS["prod"]["network"]["natGateways"] == "perAz"
    assert config.storage.protect is True
    assert config.eks.deletion_protection is True


def _mutate(path: str, value, base: str = "dev"):
    raw = stack_raw_config(base)
    node = raw
    parts = path.split(".")
    for part in parts[:-1]:
        node = node[int(part)] if part.isdigit() else node[part]
    last = parts[-1]
    if value is _DELETE:
        del node[last]
    elif last.isdigit():
        node[int(last)] = value
    else:
        node[last] = value
    return raw


_DELETE = object()

BAD_CONFIGS = [
    # (case id, stack, mutation path, value, expected key path, expected words in the message)
    ("unknown-environment", "dev", "environment", "qa", "environment", "'dev', 'staging' or 'prod'"),
    ("typo-key-top", "dev", "ownr", "x", "ownr", "unknown key; allowed keys:"),
    ("typo-key-nested", "dev", "eks.gpuNodeGroups.0.maxsize", 3, "eks.gpuNodeGroups[0].maxsize", "allowed keys:"),
    ("min-gt-max", "dev", "eks.gpuNodeGroups.0.minSize", 5, "eks.gpuNodeGroups[0].minSize", "minSize <= desiredSize <= maxSize"),
    ("desired-gt-max", "dev", "eks.systemNodeGroup.desiredSize", 9, "eks.systemNodeGroup.minSize", "minSize <= desiredSize <= maxSize"),
    ("bad-cidr", "dev", "network.vpcCidr", "10.0.0.0/33", "network.vpcCidr", "not a valid CIDR"),
    ("overlapping-subnets", "dev", "network.privateSubnetCidrs", ["10.10.0.0/20", "10.10.8.0/21"], "network.privateSubnetCidrs", "overlaps"),
    ("subnet-outside-vpc", "dev", "network.publicSubnetCidrs", ["10.99.0.0/24", "10.99.1.0/24"], "network.publicSubnetCidrs", "outside vpcCidr"),
    ("unknown-instance-type", "dev", "eks.systemNodeGroup.instanceTypes", ["m6i.huge"], "eks.systemNodeGroup.instanceTypes[0]", "botocore"),
    ("cpu-type-in-gpu-group", "dev", "eks.gpuNodeGroups.0.instanceTypes", ["m6i.large"], "eks.gpuNodeGroups[0].instanceTypes", "GPU families"),
    ("gpu-type-in-system-group", "dev", "eks.systemNodeGroup.instanceTypes", ["g5.xlarge"], "eks.systemNodeGroup.instanceTypes", "CPU-only"),
    ("unsupported-k8s", "dev", "eks.version", "1.27", "eks.version", "supported:"),
    ("public-endpoint-in-prod", "prod", "eks", {**stack_raw_config("prod")["eks"], "endpointPublicAccess": True, "publicAccessCidrs": ["198.51.100.0/24"]}, "eks.endpointPublicAccess", "must be false in prod"),
    ("world-open-endpoint", "dev", "eks.publicAccessCidrs", ["0.0.0.0/0"], "eks.publicAccessCidrs", "0.0.0.0/0"),
    ("replication-same-region", "prod", "storage.replication.region", "us-east-1", "storage.replication.region", "must differ from aws:region"),
    ("unknown-replica-region", "prod", "storage.replication.region", "mars-north-1", "storage.replication.region", "not an AWS region"),
    ("negative-lifecycle-days", "dev", "storage.noncurrentVersionExpirationDays", -1, "storage.noncurrentVersionExpirationDays", "greater than or equal to 1"),
    ("prefix-outside-layout", "dev", "storage.transitions", [{"prefix": "tmp/", "days": 3, "storageClass": "STANDARD_IA"}], "storage.transitions[0].prefix", "allowed: models/"),
    ("force-destroy-in-prod", "prod", "storage.forceDestroy", True, "storage.forceDestroy", "cannot be combined with protect"),
    ("bad-log-retention", "dev", "eks.logRetentionDays", 10, "eks.logRetentionDays", "allowed: 1, 3, 5"),
    ("missing-owner", "dev", "owner", _DELETE, "owner", "required key is missing"),
    ("bad-role-arn", "dev", "eks.adminRoleArns", ["admins"], "eks.adminRoleArns[0]", "not an IAM role ARN"),
    ("duplicate-gpu-group", "prod", "eks.gpuNodeGroups.1.name", "g5", "eks.gpuNodeGroups", "repeated"),
    ("wrong-type", "dev", "network.azCount", "two", "network.azCount", "must be an integer, got the string 'two'"),
    ("too-many-azs", "dev", "network.azCount", 4, "network.azCount", "less than or equal to 3"),
    ("plain-http-alerts", "staging", "alerts.subscriptions.1", {"protocol": "http", "endpoint": "http://alerts.example.com/hook"},
     "alerts.subscriptions[1].protocol", "'email' or 'https'"),
    ("http-url-as-https", "staging", "alerts.subscriptions.1.endpoint", "http://alerts.example.com/hook", "alerts.subscriptions[1].endpoint",
     "not an https:// URL; alerts never travel over plain HTTP"),
    ("credentials-in-hook-url", "staging", "alerts.subscriptions.1.endpoint", "https://user:secret@alerts.example.com/hook",
     "alerts.subscriptions[1].endpoint", "no credentials in the URL"),
    ("not-an-email", "dev", "alerts.subscriptions.0.endpoint", "ml-platform at example.com", "alerts.subscriptions[0].endpoint", "not an email address"),
    ("subscribed-twice", "prod", "alerts.subscriptions.1", {"protocol": "email", "endpoint": "ml-platform-oncall@example.com"},
     "alerts.subscriptions", "repeated: ml-platform-oncall@example.com"),
    ("negative-alert-volume", "dev", "alerts.expectedNotificationsPerMonth", -1, "alerts.expectedNotificationsPerMonth", "greater than or equal to 0"),
]


@pytest.mark.parametrize("case", BAD_CONFIGS, ids=[c[0] for c in BAD_CONFIGS])
def test_bad_config_fails_with_one_clear_line(case):
    _, stack, path, value, key_path, words = case
    assert_one_line_config_error(_mutate(path, value, base=stack), key_path, words, stack=stack)


def test_unknown_region_names_the_region_key():
    with pytest.raises(ConfigError) as caught:
        parse_platform_config(stack_raw_config("dev"), "us-middle-9", SOURCE)
    assert str(caught.value).startswith(f"{SOURCE}: aws:region: 'us-middle-9' is not an AWS region known to botocore")


def test_missing_region_and_missing_object():
    with pytest.raises(ConfigError, match="aws:region: required key is missing"):
        parse_platform_config(stack_raw_config("dev"), None, SOURCE)
    with pytest.raises(ConfigError, match=f"{CONFIG_KEY}: required key is missing"):
        parse_platform_config(None, "us-east-1", SOURCE)


def test_config_is_immutable():
    config = parse_platform_config(stack_raw_config("dev"), "us-east-1", SOURCE)
    with pytest.raises(ValidationError, match="frozen"):
        config.environment = "prod"  # type: ignore[misc]


def test_derived_subnets_do_not_overlap_and_fit_the_vpc():
    import ipaddress

    for stack in STACKS:
        config = parse_platform_config(stack_raw_config(stack), "us-east-1", stack)
        public, private = config.network.subnet_layout()
        nets = [ipaddress.ip_network(c) for c in public + private]
        assert len(public) == len(private) == config.network.az_count
        vpc = ipaddress.ip_network(config.network.vpc_cidr)
        assert all(n.subnet_of(vpc) for n in nets)
        assert not any(a.overlaps(b) for i, a in enumerate(nets) for b in nets[i + 1 :])


def test_original_raw_config_is_not_mutated_by_defaults():
    raw = stack_raw_config("dev")
    before = copy.deepcopy(raw)
    parse_platform_config(raw, "us-east-1", SOURCE)
    assert raw == before


def test_gpu_families_in_data_file_exist_in_botocore():
    ec2_types = facts.ec2_instance_types()
    # SageMaker GPU families span endpoints and training jobs (ml.p3dn trains only).
    sm_types = facts.sagemaker_instance_types() | facts.sagemaker_training_instance_types()
    data = facts.facts()
    for family in data["gpuInstanceFamilies"]["ec2"]:
        assert any(t.rsplit(".", 1)[0] == family for t in ec2_types), family
    for family in data["gpuInstanceFamilies"]["sagemaker"]:
        assert any(t.rsplit(".", 1)[0] == family for t in sm_types), family
    assert set(data["gpuAcceleratorByFamily"]) - {"source"} == set(data["gpuInstanceFamilies"]["ec2"])


def test_data_file_records_source_and_date():
    data = facts.facts()
    assert data["asOf"]
    for section in ("gpuInstanceFamilies", "gpuAcceleratorByFamily", "sagemakerServerlessMemorySizesMB"):
        assert data[section]["source"], section


def test_serverless_memory_steps_fit_botocore_bounds():
    limits = facts.shape_limits("sagemaker", "ServerlessMemorySizeInMB")
    assert all(limits["min"] <= m <= limits["max"] for m in facts.serverless_memory_sizes())


def test_supported_versions_follow_the_lifecycle_dates():
    import datetime as dt

    from policies.awsfacts import eks_versions

    assert "1.31" in eks_versions.supported(dt.date(2026, 11, 1))
    assert "1.31" not in eks_versions.supported(dt.date(2026, 12, 1))
    assert eks_versions.phase("1.32", dt.date(2026, 11, 22)) == eks_versions.EXTENDED
    assert eks_versions.phase("1.35", dt.date(2026, 11, 22)) == eks_versions.STANDARD


def test_facts_read_the_same_models_botocore_loads():
    import botocore.session

    session = botocore.session.get_session()
    assert facts.ec2_instance_types() == frozenset(session.get_service_model("ec2").shape_for("InstanceType").enum)
    sagemaker = session.get_service_model("sagemaker")
    assert facts.sagemaker_instance_types() == frozenset(sagemaker.shape_for("ProductionVariantInstanceType").enum)
    assert facts.shape_limits("sagemaker", "EndpointName")["max"] == sagemaker.shape_for("EndpointName").metadata["max"]
    assert facts.eks_ami_types() == frozenset(session.get_service_model("eks").shape_for("AMITypes").enum)
    assert set(session.get_available_regions("ec2")) <= facts.known_regions()


def test_botocore_shape_cache_is_derived_and_survives_a_corrupt_file(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    facts._value_shapes.cache_clear()
    try:
        fresh = facts._value_shapes("eks")
        (cache_file,) = (tmp_path / "mlops-platform").glob("botocore-eks-*.json")
        cache_file.write_text("{not json")
        facts._value_shapes.cache_clear()
        assert facts._value_shapes("eks") == fresh
        assert fresh["AMITypes"]["enum"] == sorted(facts.eks_ami_types(), key=fresh["AMITypes"]["enum"].index)
    finally:
        facts._value_shapes.cache_clear()


def test_name_prefix_is_one_rule_with_bootstrap_bounded_by_the_replica_log_bucket():
    from components.config import NAME_PREFIX_MAX
    from mlopsctl.ops.bootstrap import names as bootstrap_names

    assert NAME_PREFIX_MAX == 15  # <prefix>-staging-replica-logs- + 26 = 63
    longest, too_long = "a" * NAME_PREFIX_MAX, "a" * (NAME_PREFIX_MAX + 1)
    assert len(f"{longest}-staging-replica-logs-") + facts.PREFIXED_UNIQUE_SUFFIX_LENGTH == 63
    raw = stack_raw_config("staging")
    config = parse_platform_config({**raw, "namePrefix": longest}, "us-east-1", "stacks/Pulumi.staging.yaml")
    assert config.resource_name("replica-logs") == f"{longest}-staging-replica-logs"
    with pytest.raises(ConfigError, match="namePrefix"):
        parse_platform_config({**raw, "namePrefix": too_long}, "us-east-1", "stacks/Pulumi.staging.yaml")
    bootstrap_names.validate_name(longest, "ap-southeast-5")
    with pytest.raises(bootstrap_names.BootstrapInputError, match="2-15 chars"):
        bootstrap_names.validate_name(too_long, "us-east-1")


def _section_models() -> dict[str, type]:
    """name -> model class, for every config model defined in a module of components/config/."""
    import importlib
    import pkgutil

    from components import config

    found: dict[str, type] = {}
    for module_info in pkgutil.iter_modules(config.__path__):
        module = importlib.import_module(f"{config.__name__}.{module_info.name}")
        for name, value in vars(module).items():
            if isinstance(value, type) and issubclass(value, config.Model) and value.__module__ == module.__name__:
                found[name] = value
    return found


def test_every_config_model_is_importable_from_the_package_and_named_config():
    from components import config

    models = _section_models()
    assert {"PlatformConfig", "NetworkConfig", "EksConfig", "StorageConfig", "ServingConfig", "EndpointConfig"} <= set(models)
    assert {name for name in models if getattr(config, name, None) is not models[name]} == set()
    assert set(config.__all__) <= set(vars(config))
    # Model and Scaling are the bases the sections build on, not sections of the stack file.
    assert sorted(name for name in models if not name.endswith("Config")) == ["Model", "Scaling"]
