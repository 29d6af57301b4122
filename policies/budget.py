"""The ``monthly-budget`` stack policy: the priced ceiling must fit the environment's monthly budget.

The budget comes from this policy's own config (``policies/config/<env>.json``, passed with
``--policy-pack-config``): a policy pack sees nothing of the stack's config. The enforcement level
is set there as well: advisory in dev, mandatory in staging and prod (mandatory is the default).

Pricing is ``policies/pricing``, the same code ``mlopsctl cost`` runs offline.
"""

from __future__ import annotations

from packlib import stack_name
from pricing import (
    BUDGET_DEFAULT_LEVEL,
    BUDGET_KEY,
    BUDGET_POLICY,
    SCENARIOS,
    UNPRICED_ACCEPTED_KEY,
    StackResource,
    budget_verdict,
    plain,
    price_resources,
)
from pulumi_policy import EnforcementLevel, PolicyConfigSchema, ReportViolation, Severity, StackValidationArgs, StackValidationPolicy


def stack_resources(args: StackValidationArgs) -> list[StackResource]:
    """The policy SDK's resources as pricing input: plain wire-format props, provider region, dependency URNs."""
    provider_regions = {
        r.urn: plain(r.props).get("region") for r in args.resources if r.resource_type.startswith("pulumi:providers:aws")
    }
    only_region = next(iter(provider_regions.values())) if len(set(provider_regions.values())) == 1 else None
    priced = []
    for resource in args.resources:
        region = None
        if resource.provider is not None:
            region = plain(resource.provider.props).get("region") or provider_regions.get(resource.provider.urn)
        priced.append(
            StackResource(
                urn=resource.urn,
                type=resource.resource_type,
                inputs=plain(resource.props),
                region=region if isinstance(region, str) else only_region,
                property_dependencies={key: [d.urn for d in deps] for key, deps in resource.property_dependencies.items()},
                dependencies=[d.urn for d in resource.dependencies],
            )
        )
    return priced


def _validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    config = args.get_config()
    budget = config.get(BUDGET_KEY)
    if budget is None:
        return  # no budget configured for this stack: nothing to compare against
    report = price_resources(stack_resources(args))
    verdict = budget_verdict(report, float(budget), config.get(UNPRICED_ACCEPTED_KEY) or ())
    if verdict is None or verdict["withinBudget"]:
        return
    largest = sorted(
        (item for item in report.line_items if item.monthly("ceiling")),
        key=lambda item: item.monthly("ceiling") or 0.0,
        reverse=True,
    )[:3]
    drivers = "; ".join(f"{item.item} ${item.monthly('ceiling'):,.2f}" for item in largest)
    totals = ", ".join(f"{s} {'unknown' if (t := report.total(s)) is None else f'${t:,.2f}'}" for s in SCENARIOS)
    report_violation(
        f"{verdict['message']} (monthly {totals}; prices as of {report.as_of}). Largest at the ceiling: {drivers or 'none'}. "
        f"Lower maximum sizes, or raise {BUDGET_KEY} in policies/config/{stack_name(args.resources) or '<stack>'}.json."
    )


monthly_budget = StackValidationPolicy(
    name=BUDGET_POLICY,
    description="The stack's priced monthly ceiling (every maximum size, on-demand list prices) stays within the environment's budget.",
    validate=_validate,
    enforcement_level=EnforcementLevel(BUDGET_DEFAULT_LEVEL),
    display_name="Monthly budget",
    severity=Severity.MEDIUM,
    tags=["cost"],
    remediation_steps=(
        "Run `python -m mlopsctl cost --stack <env>` to see the line items at the ceiling; lower node-group maxSize, "
        "endpoint autoscaling maxCapacity or serverless maxConcurrency, choose cheaper instance types, or raise "
        "monthlyBudgetUsd for the environment in policies/config/<env>.json."
    ),
    config_schema=PolicyConfigSchema(
        properties={
            BUDGET_KEY: {
                "type": "number",
                "minimum": 0,
                "description": "Monthly budget in USD that the priced ceiling (730 h/month) must not exceed.",
            },
            UNPRICED_ACCEPTED_KEY: {
                "type": "array",
                "items": {"type": "string", "pattern": "^[a-z0-9-]+:[A-Za-z0-9/.-]+:[A-Za-z0-9]+$"},
                "uniqueItems": True,
                "description": (
                    "Resource types whose items the price table cannot price yet and this environment accepts unpriced: the priced "
                    "part must fit the budget, and the verdict names them as not verified. Any other unpriced item still fails."
                ),
            },
        }
    ),
)

POLICIES = [monthly_budget]
