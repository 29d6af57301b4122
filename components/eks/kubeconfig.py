"""Kubeconfig (a secret output of layer 1; layer 2 builds its provider from the same renderer).

Authentication uses ``aws eks get-token`` at the time of use, so the kubeconfig holds no token
and works for whoever runs ``pulumi up`` with the same role (``--role-arn`` when the stack's AWS
provider assumes one).
"""

from __future__ import annotations

import json

import pulumi
import pulumi_aws as aws


def get_token_args(*, cluster_name: str, region: str, assume_role_arn: str | None) -> list[str]:
    args = ["--region", region, "eks", "get-token", "--cluster-name", cluster_name, "--output", "json"]
    if assume_role_arn:
        args += ["--role-arn", assume_role_arn]
    return args


def render_kubeconfig(*, cluster_name: str, endpoint: str, ca_data: str, token_args: list[str]) -> str:
    """A kubeconfig document (JSON is valid YAML) for one cluster and one exec-auth user."""
    return json.dumps(
        {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": cluster_name, "cluster": {"server": endpoint, "certificate-authority-data": ca_data}}],
            "users": [
                {
                    "name": f"{cluster_name}-aws",
                    "user": {
                        "exec": {
                            "apiVersion": "client.authentication.k8s.io/v1beta1",
                            "command": "aws",
                            "args": token_args,
                            "interactiveMode": "Never",
                        }
                    },
                }
            ],
            "contexts": [{"name": cluster_name, "context": {"cluster": cluster_name, "user": f"{cluster_name}-aws"}}],
            "current-context": cluster_name,
        },
        indent=2,
    )


def kubeconfig(cluster: aws.eks.Cluster, *, cluster_name: str, region: str, assume_role_arn: str | None) -> pulumi.Output[str]:
    token_args = get_token_args(cluster_name=cluster_name, region=region, assume_role_arn=assume_role_arn)
    document = pulumi.Output.all(cluster.endpoint, cluster.certificate_authority.apply(lambda ca: ca.data)).apply(
        lambda values: render_kubeconfig(cluster_name=cluster_name, endpoint=values[0], ca_data=values[1], token_args=token_args)
    )
    return pulumi.Output.secret(document)
