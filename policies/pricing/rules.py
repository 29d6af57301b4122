"""Price rules per resource kind: EKS control planes and node groups, NAT gateways, public IPv4
addresses, interface VPC endpoints, KMS keys, CloudWatch alarms and ECR image storage (the alert
path's topic, subscriptions and rules: ``notifications.py``; training pipelines and MLflow:
``training.py``).

Each rule reads one resource's inputs and records line items, unknown items and exclusions in the
run's :class:`~.ledger.Ledger`. SageMaker endpoint configurations have their own module
(``sagemaker.py``): their sizes come from the autoscaling targets joined to their variants.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from .dispatch import api_destination, event_connection, sqs_queue
from .facts import EXPECTED_STORAGE_GB_TAG, eks_versions
from .facts import resource_types as types
from .inputs import StackResource, as_int, component_of, is_unknown
from .ledger import Ledger
from .notifications import event_rule, sns_subscription, sns_topic
from .report import SCENARIOS, LineItem
from .training import mlflow_app, mlflow_tracking_server, sagemaker_pipeline

# EKS's CreateNodegroup default when neither instanceTypes nor a launch template sets one.
EKS_DEFAULT_NODE_INSTANCE_TYPE = "t3.medium"


def eks_cluster(ledger: Ledger, r: StackResource) -> None:
    version = r.inputs.get("version")
    support_type = (r.inputs.get("upgradePolicy") or {}).get("supportType", "EXTENDED")
    if is_unknown(version):
        ledger.unknown(r, "EKS control plane", "Kubernetes version unknown at preview time")
        return
    if version is None:
        key, label = "eks.controlPlane.standard", "EKS control plane (version unset: EKS creates its newest, standard-support version)"
    else:
        lifecycle = eks_versions.lookup(str(version))
        if lifecycle is None:
            ledger.unknown(r, f"EKS control plane {version}", f"no support dates for Kubernetes {version} in {eks_versions.VERSIONS_FILE.name}")
            return
        end_standard, end_extended = lifecycle.end_of_standard_support, lifecycle.end_of_extended_support
        phase = lifecycle.phase(ledger.on_date)
        if phase in (eks_versions.UNRELEASED, eks_versions.STANDARD):
            key, label = "eks.controlPlane.standard", f"EKS control plane, Kubernetes {version} (standard support until {end_standard})"
        elif support_type == "STANDARD":
            key, label = "eks.controlPlane.standard", f"EKS control plane, Kubernetes {version} (past standard support; upgradePolicy STANDARD auto-upgrades)"
        elif phase == eks_versions.EXTENDED:
            key, label = "eks.controlPlane.extended", f"EKS control plane, Kubernetes {version} (EXTENDED support until {end_extended})"
        else:
            ledger.unknown(r, f"EKS control plane {version}", f"Kubernetes {version} is past the end of extended support ({end_extended}); EKS upgrades it")
            return
    price = ledger.price_or_unknown(r, key, label)
    if price is None:
        return
    ledger.flat(r, label, price, 1, hourly=True, unit="cluster-hour")


def node_group(ledger: Ledger, r: StackResource) -> None:
    scaling = r.inputs.get("scalingConfig")
    sizes = {s: as_int((scaling or {}).get(k)) if isinstance(scaling, Mapping) else None for s, k in zip(SCENARIOS, ("minSize", "desiredSize", "maxSize"), strict=True)}
    types = r.inputs.get("instanceTypes")
    if types is None:
        types = _launch_template_type(ledger, r)
    if not isinstance(types, list) or not types or any(is_unknown(t) for t in types) or any(v is None for v in sizes.values()):
        ledger.unknown(r, "EKS managed node group", "scalingConfig or instance types unknown at preview time")
        return
    capacity = r.inputs.get("capacityType") or "ON_DEMAND"
    prices = [ledger.price(r, f"ec2.instance.{t}") for t in types]
    known = [p for p in prices if p is not None]
    missing = [t for t, p in zip(types, prices, strict=True) if p is None]
    ceiling_price = max(known, key=lambda p: p.usd) if not missing else None
    if capacity == "SPOT":
        base = min(known, key=lambda p: p.usd) if not missing else None
        note = "SPOT capacity priced at the on-demand rate (an upper bound): the cheapest listed type when idle/expected, the dearest at the ceiling"
    else:
        base = prices[0]
        note = "ON_DEMAND uses the listed order (prioritized allocation): the first type when idle/expected; the dearest listed type at the ceiling (fallback when the first has no capacity)"
    unit_prices = {"idle": base.usd if base else None, "expected": base.usd if base else None, "ceiling": ceiling_price.usd if ceiling_price else None}
    affected = tuple(s for s in SCENARIOS if sizes[s] and unit_prices[s] is None)
    if missing and affected:
        ledger.unknown(r, f"EC2 {', '.join(missing)}", "; ".join(ledger.missing_price(r, f"ec2.instance.{t}") for t in missing), scenarios=affected)
    cited = ceiling_price or base or (known[0] if known else None)
    ledger.line_items.append(
        LineItem(
            urn=r.urn,
            type=r.type,
            component=component_of(r.urn),
            item=f"EKS nodes {'/'.join(types)} ({capacity})",
            unit="instance-hour",
            hours=ledger.table.hours_per_month,
            quantities={s: float(sizes[s] or 0) for s in SCENARIOS},
            unit_prices=unit_prices,
            source=cited.cite() if cited else "no price in table",
            note=note,
        )
    )
    ledger.exclude(r, "EBS volumes of nodes", f"gp3 root/data volume per node (diskSize {r.inputs.get('diskSize', 'default')} GiB) and data transfer are storage/traffic charges")


def _launch_template_type(ledger: Ledger, r: StackResource) -> list[str] | None:
    if "launchTemplate" not in r.inputs:
        return [EKS_DEFAULT_NODE_INSTANCE_TYPE]
    for urn in r.deps("launchTemplate"):
        template = ledger.by_urn.get(urn)
        if template is not None and template.type == types.LAUNCH_TEMPLATE:
            instance_type = template.inputs.get("instanceType")
            return [instance_type] if isinstance(instance_type, str) else None
    return None


def nat_gateway(ledger: Ledger, r: StackResource) -> None:
    price = ledger.price_or_unknown(r, "ec2.natGateway.hour", "NAT gateway")
    if price is None:
        return
    per_gb = ledger.price(r, "ec2.natGateway.dataProcessed")
    ledger.flat(r, "NAT gateway", price, 1, hourly=True, unit="gateway-hour", note="its Elastic IP is priced on the Eip resource")
    ledger.exclude(r, "NAT gateway data processing", (f"${per_gb.usd:g}/GB" if per_gb else "per-GB rate") + " processed: traffic-dependent")


def eip(ledger: Ledger, r: StackResource) -> None:
    price = ledger.price_or_unknown(r, "ec2.publicIpv4.hour", "public IPv4 address")
    if price is None:
        return
    ledger.flat(r, "public IPv4 address (Elastic IP)", price, 1, hourly=True, unit="address-hour")


def vpc_endpoint(ledger: Ledger, r: StackResource) -> None:
    kind = r.inputs.get("vpcEndpointType") or "Gateway"
    service = r.inputs.get("serviceName")
    label = f"interface VPC endpoint {service}" if isinstance(service, str) and not is_unknown(service) else "interface VPC endpoint"
    if kind == "Gateway":
        return  # S3/DynamoDB gateway endpoints carry no charge
    if kind != "Interface":
        ledger.unknown(r, f"{kind} VPC endpoint", f"no price model for {kind} endpoints")
        return
    subnets = r.inputs.get("subnetIds")
    if not isinstance(subnets, list) or not subnets:
        ledger.unknown(r, label, "subnetIds unknown at preview time (interface endpoints bill per AZ)")
        return
    price = ledger.price_or_unknown(r, "vpc.interfaceEndpoint.azHour", label)
    if price is None:
        return
    ledger.flat(r, label, price, len(subnets), hourly=True, unit="endpoint-AZ-hour", note="one endpoint network interface per subnet (AZ)")
    per_gb = ledger.price(r, "vpc.interfaceEndpoint.dataProcessed")
    ledger.exclude(r, f"{label} data processing", (f"${per_gb.usd:g}/GB" if per_gb else "per-GB rate") + " processed: traffic-dependent")


def kms_key(ledger: Ledger, r: StackResource) -> None:
    price = ledger.price_or_unknown(r, "kms.key.month", "KMS key")
    if price is None:
        return
    rotation = r.inputs.get("enableKeyRotation") is True
    rotated = ledger.price_or_unknown(r, "kms.rotatedKeyMaterial.month", "KMS key rotation", scenarios=("ceiling",)) if rotation else None
    ceiling = price.usd + 2 * rotated.usd if rotated else (None if rotation else price.usd)
    label = "KMS multi-Region replica key" if r.type == types.KMS_REPLICA_KEY else "KMS customer managed key"
    ledger.line_items.append(
        LineItem(
            urn=r.urn, type=r.type, component=component_of(r.urn), item=label, unit="key-month", hours=None,
            quantities={s: 1.0 for s in SCENARIOS}, unit_prices={"idle": price.usd, "expected": price.usd, "ceiling": ceiling},
            source=price.cite(),
            note="automatic rotation: each of the first two rotations adds a backing key-month (ceiling = after the second rotation)" if rotation else "",
        )
    )
    ledger.exclude(r, "KMS requests", "API requests beyond the free tier: usage-dependent")


def metric_alarm(ledger: Ledger, r: StackResource) -> None:
    queries = r.inputs.get("metricQueries")
    periods = [r.inputs.get("period")]
    metrics = 1
    if isinstance(queries, list) and queries:
        metric_queries = [q for q in queries if isinstance(q, Mapping) and q.get("metric")]
        metrics = max(1, len(metric_queries))
        periods = [(q.get("metric") or {}).get("period") for q in metric_queries]
    if r.inputs.get("thresholdMetricId"):
        metrics += 2  # anomaly-detection alarms bill the metric plus the band's two bounds
    high_resolution = any(isinstance(p, (int, float)) and p < 60 for p in periods)
    key = "cloudwatch.alarm.highResolution.month" if high_resolution else "cloudwatch.alarm.standard.month"
    price = ledger.price_or_unknown(r, key, "CloudWatch alarm")
    if price is None:
        return
    label = f"CloudWatch {'high-resolution' if high_resolution else 'standard'} alarm ({metrics} metric{'s' if metrics > 1 else ''})"
    ledger.flat(r, label, price, metrics, hourly=False, unit="alarm-metric-month")


def composite_alarm(ledger: Ledger, r: StackResource) -> None:
    price = ledger.price_or_unknown(r, "cloudwatch.alarm.composite.month", "CloudWatch composite alarm")
    if price is None:
        return
    ledger.flat(r, "CloudWatch composite alarm", price, 1, hourly=False, unit="alarm-month")


def ecr_repository(ledger: Ledger, r: StackResource) -> None:
    """Image storage at the size the stack plans for the repository (its ``mlops:expected-storage-gb``
    tag, from ``images.repositories[].expectedStorageGb``): storage bills whatever the traffic."""
    ledger.exclude(r, "ECR data transfer", "same-region pulls are free; cross-region and internet transfer bill per GB: traffic-dependent")
    tags = r.inputs.get("tags")
    planned = tags.get(EXPECTED_STORAGE_GB_TAG) if isinstance(tags, Mapping) else None
    if planned is None:
        ledger.exclude(r, "ECR image storage", f"GB-month of the images pushed: usage-dependent (no {EXPECTED_STORAGE_GB_TAG} tag plans a size)")
        return
    try:
        size = float(planned)
    except (TypeError, ValueError):
        ledger.unknown(r, "ECR image storage", f"tag {EXPECTED_STORAGE_GB_TAG} is {planned!r}, not a number of GB")
        return
    price = ledger.price_or_unknown(r, "ecr.storage.gbMonth", "ECR image storage")
    if price is None:
        return
    ledger.flat(
        r, f"ECR image storage ({size:g} GB planned)", price, size, hourly=False, unit="GB-month",
        note=f"the planned size (tag {EXPECTED_STORAGE_GB_TAG}) in every scenario: the lifecycle policy, not traffic, bounds it; "
        "basic scanning on push is free (enhanced scanning would be Amazon Inspector's, per image scanned)",
    )


Rule = Callable[[Ledger, StackResource], None]

RULES: dict[str, Rule] = {
    types.EKS_CLUSTER: eks_cluster,
    types.EKS_NODE_GROUP: node_group,
    types.NAT_GATEWAY: nat_gateway,
    types.EIP: eip,
    types.VPC_ENDPOINT: vpc_endpoint,
    types.KMS_KEY: kms_key,
    types.KMS_REPLICA_KEY: kms_key,
    types.METRIC_ALARM: metric_alarm,
    types.COMPOSITE_ALARM: composite_alarm,
    types.SNS_TOPIC: sns_topic,
    types.SNS_TOPIC_SUBSCRIPTION: sns_subscription,
    types.EVENT_RULE: event_rule,
    types.ECR_REPOSITORY: ecr_repository,
    types.EVENT_API_DESTINATION: api_destination,
    types.EVENT_CONNECTION: event_connection,
    types.SQS_QUEUE: sqs_queue,
    types.SAGEMAKER_PIPELINE: sagemaker_pipeline,
    types.SAGEMAKER_MLFLOW_TRACKING_SERVER: mlflow_tracking_server,
    types.SAGEMAKER_MLFLOW_APP: mlflow_app,
}
