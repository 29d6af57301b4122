"""Run EksCluster alone under the recording mock monitor, with literal network/key inputs."""

from __future__ import annotations

import json
from typing import Any

import pulumi
import pulumi_aws as aws

from components.config import PlatformConfig
from components.eks.component import EksCluster, EksClusterArgs
from components.keys import PlatformKey
from components.scope import scope_for
from components.storage import ArtifactStore, ArtifactStoreArgs
from mlopsctl.offline.harness import Recording
from tests.support.programs import run_component
from tests.support.stacks import stack_config

ACCOUNT = "123456789012"
SUBNETS = ["subnet-0aaa", "subnet-0bbb", "subnet-0ccc"]
VPC_ID = "vpc-0123"
SECRETS_KEY = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/secrets"
EBS_KEY = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/ebs"
LOGS_KEY = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/logs"
VPC_CIDR = "10.0.0.0/16"
ARTIFACTS_KEY = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/artifacts"

# The platform names each stack's cluster <namePrefix>-<environment>; no stack file sets namePrefix.
CLUSTER_NAMES = {"dev": "mlops-dev", "staging": "mlops-staging", "prod": "mlops-prod"}

_cache: dict[str, tuple[PlatformConfig, Recording, dict]] = {}


def artifact_store(config: PlatformConfig):
    """A real ArtifactStore next to the cluster (its grants are what the workload roles get)."""

    def factory(opts: pulumi.ResourceOptions) -> ArtifactStore:
        return ArtifactStore("artifacts", ArtifactStoreArgs(config=config.storage, scope=scope_for(config, account_id=ACCOUNT), key=PlatformKey(ARTIFACTS_KEY)), opts=opts)

    return factory


def build(config: PlatformConfig, *, artifact_store_factory=None, unknowns: bool = False) -> tuple[Recording, dict]:
    """Run the component; returns the recording and the component's Python-side handles."""
    handles: dict[str, Any] = {}

    def program():
        provider = aws.Provider("aws", region=config.region)
        opts = pulumi.ResourceOptions(providers={"aws": provider})
        store = artifact_store_factory(opts) if artifact_store_factory else None
        component = EksCluster(
            "eks",
            EksClusterArgs(
                config=config.eks,
                scope=scope_for(config, account_id=ACCOUNT),
                environment=config.environment,
                cluster_name=CLUSTER_NAMES[config.environment],
                subnet_ids=SUBNETS,
                vpc_id=VPC_ID,
                secrets_key=PlatformKey(SECRETS_KEY),
                ebs_key=PlatformKey(EBS_KEY),
                logs_kms_key_arn=LOGS_KEY,
                private_api_cidrs=[VPC_CIDR],
                assume_role_arn=config.assume_role_arn,
                artifact_store=store,
            ),
            opts=opts,
        )
        handles["component"] = component
        pulumi.export("cluster", component.outputs)
        pulumi.export("kubeconfig", component.kubeconfig)
        pulumi.export("inCluster", component.in_cluster)

    return run_component(program, unknowns=unknowns), handles


def stack(stack_name: str) -> tuple[PlatformConfig, Recording]:
    """The real stack's eks config, built once per test session."""
    if stack_name not in _cache:
        config = stack_config(stack_name)
        recording, handles = build(config, artifact_store_factory=artifact_store(config))
        _cache[stack_name] = (config, recording, handles)
    config, recording, _ = _cache[stack_name]
    return config, recording


def policy(resource) -> dict:
    document = resource.inputs.get("policy") or resource.inputs.get("assumeRolePolicy")
    return json.loads(document)


_incluster_cache: dict[str, Recording] = {}


def incluster_of(layer1: Recording, stack_name: str, *, unknowns: bool = False) -> Recording:
    """Layer 2, reading ``layer1``'s exported outputs through its StackReference."""
    from components.incluster.config import PROJECT, InClusterConfig
    from components.incluster.program import build as build_incluster
    from mlopsctl.offline.harness import run_program
    from mlopsctl.offline.preview import stack_reference_state

    reference = f"organization/mlops-platform/{stack_name}"
    return run_program(
        lambda: build_incluster(InClusterConfig(platform_stack=reference)),
        stack=stack_name,
        project=PROJECT,
        config={},
        unknowns=unknowns,
        stack_references={reference: stack_reference_state(layer1.stack_outputs)},
    )


def incluster(stack_name: str, *, unknowns: bool = False) -> Recording:
    """Layer 2 of the real stack's eks config (cached per test session)."""
    key = f"{stack_name}:{unknowns}"
    if key not in _incluster_cache:
        _incluster_cache[key] = incluster_of(stack(stack_name)[1], stack_name, unknowns=unknowns)
    return _incluster_cache[key]
