"""Security-group rules more than one component writes the same way."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws


def https_to_aws_apis(name: str, security_group_id: pulumi.Input[str], parent: pulumi.Resource) -> aws.vpc.SecurityGroupEgressRule:
    """TCP 443 to anywhere: SageMaker's containers fetch data, images and logs over HTTPS through the
    S3 gateway endpoint, interface endpoints or NAT, whose addresses are not a stable list
    (docs/policies.md, "Deliberate deviations")."""
    return aws.vpc.SecurityGroupEgressRule(
        name,
        security_group_id=security_group_id,
        description="HTTPS to AWS APIs",
        ip_protocol="tcp",
        from_port=443,
        to_port=443,
        cidr_ipv4="0.0.0.0/0",
        opts=pulumi.ResourceOptions(parent=parent),
    )
