"""Run EksCluster alone under the recording mock monitor, with literal network/key inputs."""

from __future__ import annotations

import json
from typing import Any

import pulumi
import pulumi_aws as aws

from components.config import PlatformConfig
from components.eks.access import deployer_role_arn
from components.eks.eks_cluster import EksCluster, EksClusterArgs
from components.storage import ArtifactStore, ArtifactStoreArgs
from mlopsctl.harness import Recording
from tests.conftest import run_component, stack_config

ACCOUNT = "123456789012"
SUBNETS = ["subnet-0aaa", "subnet-0bbb", "subnet-0ccc"]
VPC_ID = "vpc-0123"
SECRETS_KEY = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/secrets"
EBS_KEY = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/ebs"
LOGS_KEY = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/logs"
VPC_CIDR = "10.0.0.0/16"
ARTIFACTS_KEY = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/artifacts"

_cache: dict[str, tuple[PlatformConfig, Recording, dict]] = {}


def cluster_name(config: PlatformConfig) -> str:
    return config.resource_name()


def artifact_store(config: PlatformConfig):
    """A real ArtifactStore next to the cluster (its grants are what the workload roles get)."""

    def factory(opts: pulumi.ResourceOptions) -> ArtifactStore:
        return ArtifactStore("artifacts", ArtifactStoreArgs(config=config, kms_key_arn=ARTIFACTS_KEY, account_id=ACCOUNT), opts=opts)

    return factory


def build(config: PlatformConfig, *, artifact_store_factory=None, unknowns: bool = False) -> tuple[Recording, dict]:
    """Run the component; returns the recording and the component's Python-side handles."""
    handles: dict[str, Any] = {}

    def program():
        provider = aws.Provider("aws", region=config.region)
        opts = pulumi.ResourceOptions(providers={"aws": provider})
        # As the platform does: the deployer's role from its session, before anything else.
        deployer = deployer_role_arn(pulumi.InvokeOptions(provider=provider))
        store = artifact_store_factory(opts) if artifact_store_factory else None
        component = EksCluster(
            "eks",
            EksClusterArgs(
                config=config.eks,
                cluster_name=cluster_name(config),
                region=config.region,
                subnet_ids=SUBNETS,
                vpc_id=VPC_ID,
                secrets_kms_key_arn=SECRETS_KEY,
                ebs_kms_key_arn=EBS_KEY,
                logs_kms_key_arn=LOGS_KEY,
                deployer_role_arn=deployer,
                account_id=ACCOUNT,
                private_api_cidrs=[VPC_CIDR],
                assume_role_arn=config.assume_role_arn,
                tags=config.default_tags,
                artifact_store=store,
            ),
            opts=opts,
        )
        handles["component"] = component
        pulumi.export("cluster", component.outputs)
        pulumi.export("kubeconfig", component.kubeconfig)

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
