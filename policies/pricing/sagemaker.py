"""Price SageMaker endpoint configurations: instance variants at their autoscaling range, serverless
variants at zero traffic (idle, expected) and fully busy (ceiling).

An instance variant's range comes from the Application Auto Scaling target of
``endpoint/<endpoint name>/variant/<variant name>``; targets are joined to variants once per stack,
before any configuration is priced, and a target that matches no variant is reported at the end.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .facts import SAGEMAKER_VARIANT_SCALABLE_DIMENSION, resource_types
from .inputs import StackResource, as_int, component_of, is_unknown
from .ledger import Ledger
from .report import SCENARIOS, LineItem


class EndpointConfigPricing:
    """The price rule for endpoint configurations of one run, with the stack's variant scaling."""

    def __init__(self, ledger: Ledger):
        self.ledger = ledger
        self.variant_scaling = self._join_autoscaling_targets()

    def _join_autoscaling_targets(self) -> dict[tuple[str, str], tuple[int | None, int | None, str]]:
        """(endpoint-config URN, variant name) -> (minCapacity, maxCapacity, target URN).

        A target's ``resourceId`` is ``endpoint/<endpoint name>/variant/<variant name>``. The endpoint
        is found by its ``name`` input, or, when names are computed (auto-naming, unknowns at
        preview), through ``propertyDependencies`` of ``resourceId``; the endpoint's config likewise
        by ``endpointConfigName`` or its property dependencies.
        """
        endpoints = [r for r in self.ledger.resources if r.type == resource_types.SAGEMAKER_ENDPOINT]
        configs = [r for r in self.ledger.resources if r.type == resource_types.SAGEMAKER_ENDPOINT_CONFIG]
        joined: dict[tuple[str, str], tuple[int | None, int | None, str]] = {}
        self.unjoined_targets: list[StackResource] = []
        for target in self.ledger.resources:
            if target.type != resource_types.SCALING_TARGET or target.inputs.get("serviceNamespace") != "sagemaker":
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
                endpoint = next((self.ledger.by_urn[u] for u in target.deps("resourceId") if u in self.ledger.by_urn and self.ledger.by_urn[u].type == resource_types.SAGEMAKER_ENDPOINT), None)
            config = None
            if endpoint is not None:
                config_name = endpoint.inputs.get("endpointConfigName")
                config = next((c for c in configs if isinstance(config_name, str) and not is_unknown(config_name) and c.inputs.get("name") == config_name), None)
                if config is None:
                    config = next((self.ledger.by_urn[u] for u in endpoint.deps("endpointConfigName") if u in self.ledger.by_urn and self.ledger.by_urn[u].type == resource_types.SAGEMAKER_ENDPOINT_CONFIG), None)
            if config is not None and variant is None:
                names = [v.get("variantName") for v in _variants(config)]
                variant = names[0] if len(names) == 1 else None
            if config is None or variant is None:
                self.unjoined_targets.append(target)
                continue
            joined[(config.urn, variant)] = (as_int(target.inputs.get("minCapacity")), as_int(target.inputs.get("maxCapacity")), target.urn)
        return joined

    def price(self, r: StackResource) -> None:
        for key in ("productionVariants", "shadowProductionVariants"):
            value = r.inputs.get(key)
            if is_unknown(value) or (isinstance(value, list) and any(not isinstance(v, Mapping) for v in value)):
                self.ledger.unknown(r, f"SageMaker endpoint configuration {key}", f"{key} unknown at preview time")
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
            self.ledger.unknown(r, label, "variant instanceType unknown at preview time")
            return
        initial = as_int(variant.get("initialInstanceCount"))
        initial = 1 if initial is None and "initialInstanceCount" not in variant else initial
        low = high = initial
        scaling_note = "no autoscaling target: fixed at initialInstanceCount"
        if (r.urn, name) in self.variant_scaling:
            low, high, target_urn = self.variant_scaling[(r.urn, name)]
            scaling_note = f"autoscaling {low}..{high} instances ({target_urn.rsplit('::', 1)[-1]})"
        managed = variant.get("managedInstanceScaling")
        if isinstance(managed, Mapping) and managed.get("status") == "ENABLED":
            low, high = as_int(managed.get("minInstanceCount")), as_int(managed.get("maxInstanceCount"))
            scaling_note = f"managed instance scaling {low}..{high} instances"
        quantities = {"idle": low, "expected": initial, "ceiling": high}
        if any(q is None for q in quantities.values()):
            self.ledger.unknown(r, label, "instance counts unknown at preview time")
            return
        price = self.ledger.price_or_unknown(r, f"sagemaker.instance.{instance_type}", label, scenarios=tuple(s for s in SCENARIOS if quantities[s]))
        self.ledger.line_items.append(
            LineItem(
                urn=r.urn, type=r.type, component=component_of(r.urn), item=label, unit="instance-hour", hours=self.ledger.table.hours_per_month,
                quantities={s: float(q or 0) for s, q in quantities.items()},
                unit_prices={s: price.usd if price else None for s in SCENARIOS},
                source=price.cite() if price else "no price in table", note=scaling_note,
            )
        )

    def _serverless_variant(self, r: StackResource, name: str, serverless: Mapping[str, Any]) -> None:
        memory_mb = as_int(serverless.get("memorySizeInMb"))
        concurrency = as_int(serverless.get("maxConcurrency"))
        provisioned = as_int(serverless.get("provisionedConcurrency")) or 0
        label = f"SageMaker serverless variant {name} ({memory_mb} MB x {concurrency} concurrent)"
        if memory_mb is None or concurrency is None:
            self.ledger.unknown(r, label, "memorySizeInMb/maxConcurrency unknown at preview time")
            return
        if provisioned:
            self.ledger.unknown(r, label, f"provisioned concurrency ({provisioned}) is billed at a rate the price table does not carry")
            return
        price = self.ledger.price_or_unknown(r, "sagemaker.serverless.gbSecond", label, scenarios=("ceiling",))
        busy_gb = concurrency * memory_mb / 1024
        gb_hour = price.usd * 3600 if price else None
        self.ledger.line_items.append(
            LineItem(
                urn=r.urn, type=r.type, component=component_of(r.urn), item=label, unit="GB-hour of busy memory", hours=self.ledger.table.hours_per_month,
                quantities={"idle": 0.0, "expected": 0.0, "ceiling": busy_gb},
                unit_prices={s: gb_hour for s in SCENARIOS},
                source=price.cite() if price else "no price in table",
                note="zero traffic costs nothing (idle, expected); ceiling = every concurrent slot busy all month",
            )
        )
        self.ledger.exclude(r, f"serverless variant {name} invocations", "inference duration under real traffic and data processed per GB: usage-dependent")

    def report_unjoined_targets(self) -> None:
        for target in self.unjoined_targets:
            self.ledger.unknown(target, "SageMaker autoscaling target", "could not be matched to an endpoint configuration variant; the ceiling may be higher", scenarios=("ceiling",))


def _variants(config: StackResource) -> list[Mapping[str, Any]]:
    variants = []
    for key in ("productionVariants", "shadowProductionVariants"):
        value = config.inputs.get(key)
        if isinstance(value, list):
            variants += [v for v in value if isinstance(v, Mapping)]
    return variants
