"""A small Pulumi program with one of every priced resource kind, for the cost-model tests.

Run under the recording mock monitor (``run_component``), so the pricing engine sees the same
wire-format inputs, parents and property dependencies as it would in a real preview. Every
number here feeds the hand-computed totals in ``tests/stack/test_cost.py``.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

ROLE = "arn:aws:iam::123456789012:role/fixture"


@dataclass(frozen=True)
class FixtureOptions:
    system_types: tuple[str, ...] = ("m6i.large", "m6i.xlarge")
    gpu_types: tuple[str, ...] = ("g5.xlarge", "g5.2xlarge")
    serving_instance_type: str = "ml.m5.large"
    eks_version: str = "1.35"


class CostFixture(pulumi.ComponentResource):
    def __init__(self, name: str, options: FixtureOptions, opts: pulumi.ResourceOptions | None = None):
        super().__init__("mlops:fixture:CostFixture", name, None, opts)
        provider = aws.Provider(f"{name}-aws", region="us-east-1", opts=pulumi.ResourceOptions(parent=self))
        child = pulumi.ResourceOptions(parent=self, provider=provider)
        subnets = ["subnet-a", "subnet-b"]

        cluster = aws.eks.Cluster(
            f"{name}-cluster",
            role_arn=ROLE,
            version=options.eks_version,
            vpc_config=aws.eks.ClusterVpcConfigArgs(subnet_ids=subnets),
            opts=child,
        )
        aws.eks.NodeGroup(
            f"{name}-system",
            cluster_name=cluster.name,
            node_role_arn=ROLE,
            subnet_ids=subnets,
            instance_types=list(options.system_types),
            capacity_type="ON_DEMAND",
            scaling_config=aws.eks.NodeGroupScalingConfigArgs(min_size=1, desired_size=2, max_size=3),
            opts=child,
        )
        aws.eks.NodeGroup(
            f"{name}-gpu",
            cluster_name=cluster.name,
            node_role_arn=ROLE,
            subnet_ids=subnets,
            instance_types=list(options.gpu_types),
            capacity_type="SPOT",
            scaling_config=aws.eks.NodeGroupScalingConfigArgs(min_size=0, desired_size=0, max_size=2),
            opts=child,
        )

        nat_ip = aws.ec2.Eip(f"{name}-nat-ip", domain="vpc", opts=child)
        aws.ec2.NatGateway(f"{name}-nat", allocation_id=nat_ip.id, subnet_id="subnet-public-a", opts=child)
        aws.ec2.VpcEndpoint(
            f"{name}-sts",
            vpc_id="vpc-1",
            service_name="com.amazonaws.us-east-1.sts",
            vpc_endpoint_type="Interface",
            subnet_ids=subnets,
            opts=child,
        )
        aws.ec2.VpcEndpoint(f"{name}-s3", vpc_id="vpc-1", service_name="com.amazonaws.us-east-1.s3", vpc_endpoint_type="Gateway", opts=child)

        aws.kms.Key(f"{name}-key", enable_key_rotation=True, opts=child)
        aws.cloudwatch.MetricAlarm(
            f"{name}-alarm",
            comparison_operator="GreaterThanThreshold",
            evaluation_periods=1,
            metric_name="Invocation5XXErrors",
            namespace="AWS/SageMaker",
            period=60,
            statistic="Sum",
            threshold=1,
            opts=child,
        )

        # An instance-backed endpoint, autoscaled 1..4, joined to its config only through the
        # engine's property dependencies (all names are auto-generated).
        realtime_config = aws.sagemaker.EndpointConfiguration(
            f"{name}-realtime",
            production_variants=[
                aws.sagemaker.EndpointConfigurationProductionVariantArgs(
                    variant_name="primary", model_name="model", instance_type=options.serving_instance_type, initial_instance_count=1
                )
            ],
            opts=child,
        )
        realtime = aws.sagemaker.Endpoint(f"{name}-realtime-endpoint", endpoint_config_name=realtime_config.name, opts=child)
        aws.appautoscaling.Target(
            f"{name}-realtime-scaling",
            service_namespace="sagemaker",
            scalable_dimension="sagemaker:variant:DesiredInstanceCount",
            resource_id=pulumi.Output.concat("endpoint/", realtime.name, "/variant/primary"),
            min_capacity=1,
            max_capacity=4,
            opts=child,
        )

        # A serverless endpoint: free at zero traffic, 5 x 2 GB busy at the ceiling.
        serverless_config = aws.sagemaker.EndpointConfiguration(
            f"{name}-serverless",
            production_variants=[
                aws.sagemaker.EndpointConfigurationProductionVariantArgs(
                    variant_name="primary",
                    model_name="model",
                    serverless_config=aws.sagemaker.EndpointConfigurationProductionVariantServerlessConfigArgs(
                        memory_size_in_mb=2048, max_concurrency=5
                    ),
                )
            ],
            opts=child,
        )
        aws.sagemaker.Endpoint(f"{name}-serverless-endpoint", endpoint_config_name=serverless_config.name, opts=child)
        aws.s3.Bucket(f"{name}-bucket", opts=child)
        self.register_outputs({"cluster": cluster.name})


def build(options: FixtureOptions = FixtureOptions()):
    return lambda: CostFixture("fx", options)
