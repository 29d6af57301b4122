"""Price a stack from the resources the Pulumi engine sees (type token + wire-format inputs).

Three monthly figures (``hoursPerMonth`` from the table, 730):

- **idle**: every minimum size (node groups at ``minSize``, autoscaled endpoints at ``minCapacity``),
  serverless endpoints at zero traffic;
- **expected**: desired sizes (``desiredSize``, ``initialInstanceCount``); serverless still without
  traffic, because invocations are usage that this model does not guess;
- **ceiling**: every maximum (``maxSize``, autoscaling ``maxCapacity``, serverless busy at
  ``maxConcurrency`` around the clock, KMS keys after their second rotation).

A price the table lacks, or an input that is unknown at preview time, makes the affected scenario's
total ``None`` and is listed in ``unknown_items``: never a silent zero. Traffic-dependent charges
(NAT and endpoint data processing, log ingestion, storage GB, data transfer) are listed in
``excluded``. Inputs arrive exactly as the engine receives them: from ``RecordedResource.inputs``
under the mock runtime, or from a policy's ``props`` (see :func:`plain`).
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .table import Price, PriceTable, default_table

try:  # imported as ``policies.pricing`` by the repository's code
    from ..awsfacts import SAGEMAKER_VARIANT_SCALABLE_DIMENSION, clock, eks_versions
except ImportError:  # imported as the pack's top-level ``pricing`` (policies/ is on sys.path there)
    from awsfacts import SAGEMAKER_VARIANT_SCALABLE_DIMENSION, clock, eks_versions  # type: ignore[no-redef]

SCENARIOS = ("idle", "expected", "ceiling")

# Wire-format sentinels of values unknown at preview time (pulumi/sdk proto; pulumi_policy.proxy).
UNKNOWN_SENTINELS = frozenset(
    {
        "04da6b54-80e4-46f7-96ec-b56ff0331ba9",  # string
        "1c4a061d-8072-4f0a-a4cb-0ff528b18fe7",  # boolean
        "3eeb2bf0-c639-47a8-9e75-3b44932eb421",  # number
        "6a19a0b0-7e62-4c92-b797-7f8e31da9cc2",  # array
        "030794c1-ac77-496b-92df-f27374a8bd58",  # asset
        "e48ece36-62e2-4504-bad9-02848725956a",  # archive
        "dd056dcd-154b-4c76-9bd3-c8f88648b5ff",  # object
    }
)
_SIG_KEY = "4dabf18193072939515e22adb298388d"
_SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"

EKS_CLUSTER = "aws:eks/cluster:Cluster"
NODE_GROUP = "aws:eks/nodeGroup:NodeGroup"
LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
NAT_GATEWAY = "aws:ec2/natGateway:NatGateway"
EIP = "aws:ec2/eip:Eip"
VPC_ENDPOINT = "aws:ec2/vpcEndpoint:VpcEndpoint"
ENDPOINT_CONFIG = "aws:sagemaker/endpointConfiguration:EndpointConfiguration"
SAGEMAKER_ENDPOINT = "aws:sagemaker/endpoint:Endpoint"
SCALING_TARGET = "aws:appautoscaling/target:Target"
KMS_KEY = "aws:kms/key:Key"
KMS_REPLICA_KEY = "aws:kms/replicaKey:ReplicaKey"
METRIC_ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
COMPOSITE_ALARM = "aws:cloudwatch/compositeAlarm:CompositeAlarm"

# EKS's CreateNodegroup default when neither instanceTypes nor a launch template sets one.
EKS_DEFAULT_NODE_INSTANCE_TYPE = "t3.medium"

# Charges that depend on traffic or data volume: named, never priced, never zero.
USAGE_ONLY: dict[str, str] = {
    "aws:s3/bucket:Bucket": "S3 storage (GB-month), requests and replication traffic",
    "aws:s3/bucketV2:BucketV2": "S3 storage (GB-month), requests and replication traffic",
    "aws:cloudwatch/logGroup:LogGroup": "CloudWatch Logs ingestion (per GB) and storage",
    "aws:ec2/flowLog:FlowLog": "VPC flow-log delivery (vended logs, per GB)",
    "aws:ecr/repository:Repository": "ECR image storage (GB-month) and transfer",
    "aws:sagemaker/endpoint:Endpoint": "SageMaker data processed and data-capture storage (instances are priced on the endpoint configuration)",
    "aws:sagemaker/monitoringSchedule:MonitoringSchedule": "Model Monitor processing-job instance time per scheduled run (depends on the captured data)",
    "aws:sagemaker/dataQualityJobDefinition:DataQualityJobDefinition": "Model Monitor processing-job instance time per scheduled run (depends on the captured data)",
    "aws:codebuild/project:Project": "CodeBuild build minutes of the CI runner (one build per deploy job; nothing while idle)",
}

# Resource types that carry no charge of their own (their cost, if any, is priced elsewhere).
_FREE_MODULES = frozenset({"iam"})
FREE_TYPES = frozenset(
    {
        "aws:ec2/vpc:Vpc",
        "aws:ec2/subnet:Subnet",
        "aws:ec2/routeTable:RouteTable",
        "aws:ec2/routeTableAssociation:RouteTableAssociation",
        "aws:ec2/route:Route",
        "aws:ec2/internetGateway:InternetGateway",
        "aws:ec2/securityGroup:SecurityGroup",
        "aws:codebuild/webhook:Webhook",
        "aws:ec2/securityGroupRule:SecurityGroupRule",
        "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup",
        "aws:ec2/defaultNetworkAcl:DefaultNetworkAcl",
        "aws:ec2/networkAcl:NetworkAcl",
        "aws:ec2/tag:Tag",
        "aws:ec2/launchTemplate:LaunchTemplate",
        "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
        "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule",
        "aws:eks/addon:Addon",
        "aws:eks/accessEntry:AccessEntry",
        "aws:eks/accessPolicyAssociation:AccessPolicyAssociation",
        "aws:eks/podIdentityAssociation:PodIdentityAssociation",
        "aws:autoscaling/tag:Tag",
        "aws:appautoscaling/target:Target",
        "aws:appautoscaling/policy:Policy",
        "aws:kms/alias:Alias",
        "aws:kms/keyPolicy:KeyPolicy",
        "aws:kms/grant:Grant",
        "aws:sagemaker/model:Model",
        "aws:sagemaker/modelPackageGroup:ModelPackageGroup",
        "aws:sagemaker/modelPackageGroupPolicy:ModelPackageGroupPolicy",
        "aws:sns/topic:Topic",
        "aws:sns/topicPolicy:TopicPolicy",
    }
)


# ---------------------------------------------------------------------------------------------
# Input model


@dataclass(frozen=True)
class StackResource:
    """A resource as the engine sees it. ``region`` is the resource's own ``region`` input or its provider's."""

    urn: str
    type: str
    inputs: Mapping[str, Any]
    region: str | None = None
    property_dependencies: Mapping[str, Sequence[str]] = field(default_factory=dict)
    dependencies: Sequence[str] = ()

    @property
    def effective_region(self) -> str | None:
        own = self.inputs.get("region")
        if isinstance(own, str) and not is_unknown(own):
            return own
        return self.region

    def deps(self, key: str) -> list[str]:
        return list(self.property_dependencies.get(key, ())) or list(self.dependencies)


def is_unknown(value: Any) -> bool:
    return isinstance(value, str) and value in UNKNOWN_SENTINELS


def plain(value: Any) -> Any:
    """Plain dicts/lists from wire-format values: secrets unwrapped, policy-SDK proxies unpacked.

    ``pulumi_policy`` wraps props in read-only proxies that raise on unknown values; this reads the
    underlying containers instead (their ``"__target"`` item), so unknowns stay visible as sentinels.
    """
    if isinstance(value, Mapping):
        target = value["__target"] if type(value).__name__ == "_DictProxy" else value
        if target.get(_SIG_KEY) == _SECRET_SIG:
            return plain(target.get("value"))
        return {k: plain(target[k]) for k in target}
    if isinstance(value, Sequence) and not isinstance(value, (str, bytes)):
        target = value["__target"] if type(value).__name__ == "_ListProxy" else value  # type: ignore[index]
        return [plain(v) for v in target]
    secret_value = getattr(value, "value", None)
    if type(value).__name__ == "Secret" and secret_value is not None:
        return plain(secret_value)
    return value


def component_of(urn: str) -> str:
    """The capability a resource belongs to, from its URN's parent-type chain.

    ``...::mlops:index:MlopsPlatform$mlops:eks:EksCluster$aws:eks/nodeGroup:NodeGroup::name`` ->
    ``mlops:eks:EksCluster``: the outermost component below the root (``index`` module) platform.
    """
    parts = urn.split("::")
    qualified = parts[2] if len(parts) >= 4 else ""
    chain = qualified.split("$")[:-1]
    below_root = [t for t in chain if t.count(":") >= 2 and t.split(":")[1] != "index"]
    if below_root:
        return below_root[0]
    return chain[-1] if chain else "(stack)"


# ---------------------------------------------------------------------------------------------
# Output model


@dataclass
class LineItem:
    urn: str
    type: str
    component: str
    item: str
    unit: str
    hours: float | None  # None: a flat monthly price
    quantities: dict[str, float]
    unit_prices: dict[str, float | None]
    source: str
    note: str = ""

    def monthly(self, scenario: str) -> float | None:
        quantity = self.quantities[scenario]
        if quantity == 0:
            return 0.0  # nothing runs, whatever it would cost
        price = self.unit_prices[scenario]
        if price is None:
            return None
        return quantity * price * (self.hours if self.hours is not None else 1.0)

    def to_json(self) -> dict[str, Any]:
        return {
            "urn": self.urn,
            "type": self.type,
            "component": self.component,
            "item": self.item,
            "quantity": self.quantities["expected"],
            "unitPrice": _round_price(self.unit_prices["expected"]),
            "unit": self.unit,
            "hours": self.hours,
            "monthly": {s: _round(self.monthly(s)) for s in SCENARIOS},
            "source": self.source,
            # Additive detail: the scenario-specific figures behind "quantity" and "unitPrice".
            "quantities": dict(self.quantities),
            "unitPrices": {s: _round_price(p) for s, p in self.unit_prices.items()},
            "note": self.note,
        }


@dataclass
class UnknownItem:
    urn: str
    type: str
    component: str
    item: str
    reason: str
    scenarios: tuple[str, ...] = SCENARIOS

    def to_json(self) -> dict[str, Any]:
        return {"urn": self.urn, "type": self.type, "component": self.component, "item": self.item, "reason": self.reason, "scenarios": list(self.scenarios)}


@dataclass
class Exclusion:
    urn: str
    type: str
    component: str
    item: str
    reason: str

    def to_json(self) -> dict[str, Any]:
        return {"urn": self.urn, "type": self.type, "component": self.component, "item": self.item, "reason": self.reason}


@dataclass
class CostReport:
    currency: str
    as_of: str
    priced_on: str
    hours_per_month: float
    line_items: list[LineItem]
    unknown_items: list[UnknownItem]
    excluded: list[Exclusion]

    def total(self, scenario: str) -> float | None:
        """Monthly total of one scenario; ``None`` when any item of it has no price."""
        if any(scenario in u.scenarios for u in self.unknown_items):
            return None
        values = [item.monthly(scenario) for item in self.line_items]
        if any(v is None for v in values):
            return None
        return sum(v for v in values if v is not None)

    def known_part(self, scenario: str) -> float:
        """Sum of the priced items only (a lower bound when the total is unknown)."""
        return sum(v for v in (item.monthly(scenario) for item in self.line_items) if v is not None)

    def totals(self) -> dict[str, float | None]:
        return {s: self.total(s) for s in SCENARIOS}

    def by_component(self) -> dict[str, dict[str, float | None]]:
        grouped: dict[str, dict[str, float | None]] = {}
        for item in self.line_items:
            sums = grouped.setdefault(item.component, {s: 0.0 for s in SCENARIOS})
            for s in SCENARIOS:
                value = item.monthly(s)
                current = sums[s]
                sums[s] = None if value is None or current is None else current + value
        return grouped

    def summary(self) -> str:
        parts = []
        for s in SCENARIOS:
            total = self.total(s)
            parts.append(f"{s} {_money(total)}" if total is not None else f"{s} unknown (priced part {_money(self.known_part(s))})")
        text = f"{', '.join(parts)} per month ({self.currency}, prices as of {self.as_of}, {len(self.line_items)} line items"
        if self.unknown_items:
            text += f", {len(self.unknown_items)} unknown"
        return text + "; traffic, storage and data processing excluded)"


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def _round_price(value: float | None) -> float | None:
    return None if value is None else round(value, 6)


def _money(value: float | None) -> str:
    return "unknown" if value is None else f"${value:,.2f}"


# ---------------------------------------------------------------------------------------------
# Pricing


def _int(value: Any) -> int | None:
    if value is None or is_unknown(value):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


class _Pricer:
    def __init__(self, resources: Sequence[StackResource], table: PriceTable, on_date: _dt.date):
        self.resources = resources
        self.table = table
        self.on_date = on_date
        self.by_urn = {r.urn: r for r in resources}
        self.line_items: list[LineItem] = []
        self.unknown_items: list[UnknownItem] = []
        self.excluded: list[Exclusion] = []
        self.variant_scaling = self._join_autoscaling_targets()

    # -- helpers --------------------------------------------------------------------------------

    def price(self, resource: StackResource, key: str) -> Price | None:
        return self.table.price(resource.effective_region, key)

    def unknown(self, resource: StackResource, item: str, reason: str, scenarios: tuple[str, ...] = SCENARIOS) -> None:
        self.unknown_items.append(UnknownItem(resource.urn, resource.type, component_of(resource.urn), item, reason, scenarios))

    def exclude(self, resource: StackResource, item: str, reason: str) -> None:
        self.excluded.append(Exclusion(resource.urn, resource.type, component_of(resource.urn), item, reason))

    def missing_price(self, resource: StackResource, key: str) -> str:
        return f"no price for '{key}' in region {resource.effective_region or '(unknown region)'} in the price table"

    def flat(self, resource: StackResource, item: str, price: Price, quantity: float, *, hourly: bool, unit: str, note: str = "") -> None:
        self.line_items.append(
            LineItem(
                urn=resource.urn,
                type=resource.type,
                component=component_of(resource.urn),
                item=item,
                unit=unit,
                hours=self.table.hours_per_month if hourly else None,
                quantities={s: quantity for s in SCENARIOS},
                unit_prices={s: price.usd for s in SCENARIOS},
                source=price.cite(),
                note=note,
            )
        )

    # -- per type -------------------------------------------------------------------------------

    def run(self) -> None:
        handlers = {
            EKS_CLUSTER: self.eks_cluster,
            NODE_GROUP: self.node_group,
            NAT_GATEWAY: self.nat_gateway,
            EIP: self.eip,
            VPC_ENDPOINT: self.vpc_endpoint,
            ENDPOINT_CONFIG: self.endpoint_config,
            KMS_KEY: self.kms_key,
            KMS_REPLICA_KEY: self.kms_key,
            METRIC_ALARM: self.metric_alarm,
            COMPOSITE_ALARM: self.composite_alarm,
        }
        for resource in self.resources:
            handler = handlers.get(resource.type)
            if handler is not None:
                handler(resource)
            if resource.type in USAGE_ONLY:
                self.exclude(resource, resource.type.rsplit(":", 1)[-1], USAGE_ONLY[resource.type])
            elif handler is None and resource.type.startswith("aws:") and not self._free(resource.type):
                self.exclude(resource, resource.type.rsplit(":", 1)[-1], "no price model for this resource type (not counted; review whether it bills)")

    @staticmethod
    def _free(type_token: str) -> bool:
        module = type_token.split(":")[1].split("/")[0] if ":" in type_token else ""
        return type_token in FREE_TYPES or module in _FREE_MODULES or type_token.startswith(("aws:s3/bucket", "aws:s3/Bucket"))

    def eks_cluster(self, r: StackResource) -> None:
        version = r.inputs.get("version")
        support_type = (r.inputs.get("upgradePolicy") or {}).get("supportType", "EXTENDED")
        if is_unknown(version):
            self.unknown(r, "EKS control plane", "Kubernetes version unknown at preview time")
            return
        if version is None:
            key, label = "eks.controlPlane.standard", "EKS control plane (version unset: EKS creates its newest, standard-support version)"
        else:
            lifecycle = eks_versions.lookup(str(version))
            if lifecycle is None:
                self.unknown(r, f"EKS control plane {version}", f"no support dates for Kubernetes {version} in {eks_versions.VERSIONS_FILE.name}")
                return
            end_standard, end_extended = lifecycle.end_of_standard_support, lifecycle.end_of_extended_support
            phase = lifecycle.phase(self.on_date)
            if phase in (eks_versions.UNRELEASED, eks_versions.STANDARD):
                key, label = "eks.controlPlane.standard", f"EKS control plane, Kubernetes {version} (standard support until {end_standard})"
            elif support_type == "STANDARD":
                key, label = "eks.controlPlane.standard", f"EKS control plane, Kubernetes {version} (past standard support; upgradePolicy STANDARD auto-upgrades)"
            elif phase == eks_versions.EXTENDED:
                key, label = "eks.controlPlane.extended", f"EKS control plane, Kubernetes {version} (EXTENDED support until {end_extended})"
            else:
                self.unknown(r, f"EKS control plane {version}", f"Kubernetes {version} is past the end of extended support ({end_extended}); EKS upgrades it")
                return
        price = self.price(r, key)
        if price is None:
            self.unknown(r, label, self.missing_price(r, key))
            return
        self.flat(r, label, price, 1, hourly=True, unit="cluster-hour")

    def node_group(self, r: StackResource) -> None:
        scaling = r.inputs.get("scalingConfig")
        sizes = {s: _int((scaling or {}).get(k)) if isinstance(scaling, Mapping) else None for s, k in zip(SCENARIOS, ("minSize", "desiredSize", "maxSize"), strict=True)}
        types = r.inputs.get("instanceTypes")
        if types is None:
            types = self._launch_template_type(r)
        if not isinstance(types, list) or not types or any(is_unknown(t) for t in types) or any(v is None for v in sizes.values()):
            self.unknown(r, "EKS managed node group", "scalingConfig or instance types unknown at preview time")
            return
        capacity = r.inputs.get("capacityType") or "ON_DEMAND"
        prices = [self.price(r, f"ec2.instance.{t}") for t in types]
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
            self.unknown(r, f"EC2 {', '.join(missing)}", "; ".join(self.missing_price(r, f"ec2.instance.{t}") for t in missing), scenarios=affected)
        cited = ceiling_price or base or (known[0] if known else None)
        self.line_items.append(
            LineItem(
                urn=r.urn,
                type=r.type,
                component=component_of(r.urn),
                item=f"EKS nodes {'/'.join(types)} ({capacity})",
                unit="instance-hour",
                hours=self.table.hours_per_month,
                quantities={s: float(sizes[s] or 0) for s in SCENARIOS},
                unit_prices=unit_prices,
                source=cited.cite() if cited else "no price in table",
                note=note,
            )
        )
        self.exclude(r, "EBS volumes of nodes", f"gp3 root/data volume per node (diskSize {r.inputs.get('diskSize', 'default')} GiB) and data transfer are storage/traffic charges")

    def _launch_template_type(self, r: StackResource) -> list[str] | None:
        if "launchTemplate" not in r.inputs:
            return [EKS_DEFAULT_NODE_INSTANCE_TYPE]
        for urn in r.deps("launchTemplate"):
            template = self.by_urn.get(urn)
            if template is not None and template.type == LAUNCH_TEMPLATE:
                instance_type = template.inputs.get("instanceType")
                return [instance_type] if isinstance(instance_type, str) else None
        return None

    def nat_gateway(self, r: StackResource) -> None:
        price = self.price(r, "ec2.natGateway.hour")
        if price is None:
            self.unknown(r, "NAT gateway", self.missing_price(r, "ec2.natGateway.hour"))
            return
        per_gb = self.price(r, "ec2.natGateway.dataProcessed")
        self.flat(r, "NAT gateway", price, 1, hourly=True, unit="gateway-hour", note="its Elastic IP is priced on the Eip resource")
        self.exclude(r, "NAT gateway data processing", (f"${per_gb.usd:g}/GB" if per_gb else "per-GB rate") + " processed: traffic-dependent")

    def eip(self, r: StackResource) -> None:
        price = self.price(r, "ec2.publicIpv4.hour")
        if price is None:
            self.unknown(r, "public IPv4 address", self.missing_price(r, "ec2.publicIpv4.hour"))
            return
        self.flat(r, "public IPv4 address (Elastic IP)", price, 1, hourly=True, unit="address-hour")

    def vpc_endpoint(self, r: StackResource) -> None:
        kind = r.inputs.get("vpcEndpointType") or "Gateway"
        service = r.inputs.get("serviceName")
        label = f"interface VPC endpoint {service}" if isinstance(service, str) and not is_unknown(service) else "interface VPC endpoint"
        if kind == "Gateway":
            return  # S3/DynamoDB gateway endpoints carry no charge
        if kind != "Interface":
            self.unknown(r, f"{kind} VPC endpoint", f"no price model for {kind} endpoints")
            return
        subnets = r.inputs.get("subnetIds")
        if not isinstance(subnets, list) or not subnets:
            self.unknown(r, label, "subnetIds unknown at preview time (interface endpoints bill per AZ)")
            return
        price = self.price(r, "vpc.interfaceEndpoint.azHour")
        if price is None:
            self.unknown(r, label, self.missing_price(r, "vpc.interfaceEndpoint.azHour"))
            return
        self.flat(r, label, price, len(subnets), hourly=True, unit="endpoint-AZ-hour", note="one endpoint network interface per subnet (AZ)")
        per_gb = self.price(r, "vpc.interfaceEndpoint.dataProcessed")
        self.exclude(r, f"{label} data processing", (f"${per_gb.usd:g}/GB" if per_gb else "per-GB rate") + " processed: traffic-dependent")

    def kms_key(self, r: StackResource) -> None:
        price = self.price(r, "kms.key.month")
        if price is None:
            self.unknown(r, "KMS key", self.missing_price(r, "kms.key.month"))
            return
        rotation = r.inputs.get("enableKeyRotation") is True
        rotated = self.price(r, "kms.rotatedKeyMaterial.month") if rotation else None
        if rotation and rotated is None:
            self.unknown(r, "KMS key rotation", self.missing_price(r, "kms.rotatedKeyMaterial.month"), scenarios=("ceiling",))
        ceiling = price.usd + 2 * rotated.usd if rotated else (None if rotation else price.usd)
        label = "KMS multi-Region replica key" if r.type == KMS_REPLICA_KEY else "KMS customer managed key"
        self.line_items.append(
            LineItem(
                urn=r.urn, type=r.type, component=component_of(r.urn), item=label, unit="key-month", hours=None,
                quantities={s: 1.0 for s in SCENARIOS}, unit_prices={"idle": price.usd, "expected": price.usd, "ceiling": ceiling},
                source=price.cite(),
                note="automatic rotation: each of the first two rotations adds a backing key-month (ceiling = after the second rotation)" if rotation else "",
            )
        )
        self.exclude(r, "KMS requests", "API requests beyond the free tier: usage-dependent")

    def metric_alarm(self, r: StackResource) -> None:
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
        price = self.price(r, key)
        if price is None:
            self.unknown(r, "CloudWatch alarm", self.missing_price(r, key))
            return
        label = f"CloudWatch {'high-resolution' if high_resolution else 'standard'} alarm ({metrics} metric{'s' if metrics > 1 else ''})"
        self.flat(r, label, price, metrics, hourly=False, unit="alarm-metric-month")

    def composite_alarm(self, r: StackResource) -> None:
        price = self.price(r, "cloudwatch.alarm.composite.month")
        if price is None:
            self.unknown(r, "CloudWatch composite alarm", self.missing_price(r, "cloudwatch.alarm.composite.month"))
            return
        self.flat(r, "CloudWatch composite alarm", price, 1, hourly=False, unit="alarm-month")

    # -- SageMaker --------------------------------------------------------------------------------

    def _join_autoscaling_targets(self) -> dict[tuple[str, str], tuple[int | None, int | None, str]]:
        """(endpoint-config URN, variant name) -> (minCapacity, maxCapacity, target URN).

        A target's ``resourceId`` is ``endpoint/<endpoint name>/variant/<variant name>``. The endpoint
        is found by its ``name`` input, or, when names are computed (auto-naming, unknowns at
        preview), through ``propertyDependencies`` of ``resourceId``; the endpoint's config likewise
        by ``endpointConfigName`` or its property dependencies.
        """
        endpoints = [r for r in self.resources if r.type == SAGEMAKER_ENDPOINT]
        configs = [r for r in self.resources if r.type == ENDPOINT_CONFIG]
        joined: dict[tuple[str, str], tuple[int | None, int | None, str]] = {}
        self.unjoined_targets: list[StackResource] = []
        for target in self.resources:
            if target.type != SCALING_TARGET or target.inputs.get("serviceNamespace") != "sagemaker":
                continue
            if target.inputs.get("scalableDimension") != SAGEMAKER_VARIANT_SCALABLE_DIMENSION:
                continue
            resource_id = target.inputs.get("resourceId")
            endpoint_name = variant = None
            if isinstance(resource_id, str) and not is_unknown(resource_id):
                pieces = resource_id.split("/")
                if len(pieces) == 4 and pieces[0] == "endpoint" and pieces[2] == "variant":
                    endpoint_name, variant = pieces[1], pieces[3]
            endpoint = next((e for e in endpoints if endpoint_name is not None and e.inputs.get("name") == endpoint_name), None)
            if endpoint is None:
                endpoint = next((self.by_urn[u] for u in target.deps("resourceId") if u in self.by_urn and self.by_urn[u].type == SAGEMAKER_ENDPOINT), None)
            config = None
            if endpoint is not None:
                config_name = endpoint.inputs.get("endpointConfigName")
                config = next((c for c in configs if isinstance(config_name, str) and not is_unknown(config_name) and c.inputs.get("name") == config_name), None)
                if config is None:
                    config = next((self.by_urn[u] for u in endpoint.deps("endpointConfigName") if u in self.by_urn and self.by_urn[u].type == ENDPOINT_CONFIG), None)
            if config is not None and variant is None:
                names = [v.get("variantName") for v in _variants(config)]
                variant = names[0] if len(names) == 1 else None
            if config is None or variant is None:
                self.unjoined_targets.append(target)
                continue
            joined[(config.urn, variant)] = (_int(target.inputs.get("minCapacity")), _int(target.inputs.get("maxCapacity")), target.urn)
        return joined

    def endpoint_config(self, r: StackResource) -> None:
        for key in ("productionVariants", "shadowProductionVariants"):
            value = r.inputs.get(key)
            if is_unknown(value) or (isinstance(value, list) and any(not isinstance(v, Mapping) for v in value)):
                self.unknown(r, f"SageMaker endpoint configuration {key}", f"{key} unknown at preview time")
        for index, variant in enumerate(_variants(r)):
            self._variant(r, variant, index)

    def _variant(self, r: StackResource, variant: Mapping[str, Any], index: int) -> None:
        name = variant.get("variantName") if isinstance(variant.get("variantName"), str) else f"#{index}"
        serverless = variant.get("serverlessConfig")
        if isinstance(serverless, Mapping):
            self._serverless_variant(r, name, serverless)
            return
        instance_type = variant.get("instanceType")
        label = f"SageMaker endpoint variant {name} ({instance_type})"
        if not isinstance(instance_type, str) or is_unknown(instance_type):
            self.unknown(r, label, "variant instanceType unknown at preview time")
            return
        initial = _int(variant.get("initialInstanceCount"))
        initial = 1 if initial is None and "initialInstanceCount" not in variant else initial
        low = high = initial
        scaling_note = "no autoscaling target: fixed at initialInstanceCount"
        if (r.urn, name) in self.variant_scaling:
            low, high, target_urn = self.variant_scaling[(r.urn, name)]
            scaling_note = f"autoscaling {low}..{high} instances ({target_urn.rsplit('::', 1)[-1]})"
        managed = variant.get("managedInstanceScaling")
        if isinstance(managed, Mapping) and managed.get("status") == "ENABLED":
            low, high = _int(managed.get("minInstanceCount")), _int(managed.get("maxInstanceCount"))
            scaling_note = f"managed instance scaling {low}..{high} instances"
        quantities = {"idle": low, "expected": initial, "ceiling": high}
        if any(q is None for q in quantities.values()):
            self.unknown(r, label, "instance counts unknown at preview time")
            return
        key = f"sagemaker.instance.{instance_type}"
        price = self.price(r, key)
        if price is None:
            self.unknown(r, label, self.missing_price(r, key), scenarios=tuple(s for s in SCENARIOS if quantities[s]))
        self.line_items.append(
            LineItem(
                urn=r.urn, type=r.type, component=component_of(r.urn), item=label, unit="instance-hour", hours=self.table.hours_per_month,
                quantities={s: float(q or 0) for s, q in quantities.items()},
                unit_prices={s: price.usd if price else None for s in SCENARIOS},
                source=price.cite() if price else "no price in table", note=scaling_note,
            )
        )

    def _serverless_variant(self, r: StackResource, name: str, serverless: Mapping[str, Any]) -> None:
        memory_mb = _int(serverless.get("memorySizeInMb"))
        concurrency = _int(serverless.get("maxConcurrency"))
        provisioned = _int(serverless.get("provisionedConcurrency")) or 0
        label = f"SageMaker serverless variant {name} ({memory_mb} MB x {concurrency} concurrent)"
        if memory_mb is None or concurrency is None:
            self.unknown(r, label, "memorySizeInMb/maxConcurrency unknown at preview time")
            return
        if provisioned:
            self.unknown(r, label, f"provisioned concurrency ({provisioned}) is billed at a rate the price table does not carry")
            return
        price = self.price(r, "sagemaker.serverless.gbSecond")
        busy_gb = concurrency * memory_mb / 1024
        if price is None:
            self.unknown(r, label, self.missing_price(r, "sagemaker.serverless.gbSecond"), scenarios=("ceiling",))
        gb_hour = price.usd * 3600 if price else None
        self.line_items.append(
            LineItem(
                urn=r.urn, type=r.type, component=component_of(r.urn), item=label, unit="GB-hour of busy memory", hours=self.table.hours_per_month,
                quantities={"idle": 0.0, "expected": 0.0, "ceiling": busy_gb},
                unit_prices={s: gb_hour for s in SCENARIOS},
                source=price.cite() if price else "no price in table",
                note="zero traffic costs nothing (idle, expected); ceiling = every concurrent slot busy all month",
            )
        )
        self.exclude(r, f"serverless variant {name} invocations", "inference duration under real traffic and data processed per GB: usage-dependent")

    def finish(self) -> None:
        for target in self.unjoined_targets:
            self.unknown(target, "SageMaker autoscaling target", "could not be matched to an endpoint configuration variant; the ceiling may be higher", scenarios=("ceiling",))


def _variants(config: StackResource) -> list[Mapping[str, Any]]:
    variants = []
    for key in ("productionVariants", "shadowProductionVariants"):
        value = config.inputs.get(key)
        if isinstance(value, list):
            variants += [v for v in value if isinstance(v, Mapping)]
    return variants


def price_resources(
    resources: Iterable[StackResource],
    *,
    table: PriceTable | None = None,
    on_date: _dt.date | None = None,
) -> CostReport:
    """Price every resource. ``on_date`` (default: the platform clock) decides EKS standard vs extended support."""
    table = table or default_table()
    on_date = on_date or clock.today()
    pricer = _Pricer(list(resources), table, on_date)
    pricer.run()
    pricer.finish()
    return CostReport(
        currency=table.currency,
        as_of=table.as_of,
        priced_on=on_date.isoformat(),
        hours_per_month=table.hours_per_month,
        line_items=pricer.line_items,
        unknown_items=pricer.unknown_items,
        excluded=pricer.excluded,
    )
