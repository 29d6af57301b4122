"""Blocks of README.md and docs/*.md that are generated from the code, never typed by hand.

``python -m mlopsctl.review.docsgen`` rewrites every block; ``tests/unit/test_docs_sync.py`` fails when a
block differs from what the code renders now. A block sits between
``<!-- generated:<name> start ... -->`` and ``<!-- generated:<name> end -->``.

Cost figures are priced on the price table's own as-of date, not on the day the generator runs,
so they change only when prices or stacks do (the preview itself prices on the platform clock).
The configuration reference (docs/configuration.md) is read from the pydantic models of
components/config/ and needs no preview: ``python -m mlopsctl.review.docsgen config-reference``
rewrites only that block.
"""

from __future__ import annotations

import datetime as _dt
import inspect
import json
import re
import sys
import types
import typing
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from mlopsctl import ROOT

STACKS = ("dev", "staging", "prod")
README, COST_DOC = ROOT / "README.md", ROOT / "docs" / "cost.md"
CONFIG_DOC = ROOT / "docs" / "configuration.md"


def _markers(name: str) -> re.Pattern:
    return re.compile(rf"(<!-- generated:{re.escape(name)} start[^\n]*-->\n)(.*?)(<!-- generated:{re.escape(name)} end -->)", re.S)


def extract(text: str, name: str) -> str | None:
    match = _markers(name).search(text)
    return None if match is None else match.group(2)


def replace(text: str, name: str, content: str) -> str:
    pattern = _markers(name)
    if not pattern.search(text):
        raise ValueError(f"no generated:{name} block")
    return pattern.sub(lambda m: m.group(1) + content + m.group(3), text, count=1)


# ---------------------------------------------------------------------------------------------
# Cost


def _money(value: float | None) -> str:
    return "unknown" if value is None else f"${value:,.2f}"


def _needs_reports(render: Callable[[dict], str]) -> Callable[[dict], str]:
    """Mark a renderer that takes the stack reports (and so the three stack previews)."""
    render.needs_reports = True  # type: ignore[attr-defined]
    return render


def stack_reports(previews: dict | None = None) -> dict[str, tuple]:
    """stack -> (CostReport priced on the price table's as-of date, budget, enforcement level)."""
    from mlopsctl.offline.cost_report import budget_config, price_recording
    from mlopsctl.offline.preview import preview_stack
    from policies.pricing import default_table

    priced_on = _dt.date.fromisoformat(default_table().as_of)
    out = {}
    for stack in STACKS:
        result = (previews or {}).get(stack) or preview_stack(stack)
        report = price_recording(result.recording, default_region=result.config.region, on_date=priced_on)
        budget, level = budget_config(result.config.environment)
        out[stack] = (report, budget, level)
    return out


@_needs_reports
def cost_summary_table(reports: dict[str, tuple]) -> str:
    rows = ["| Stack | idle (every minimum) | expected (desired sizes) | ceiling (every maximum) | Budget |", "|---|---:|---:|---:|---:|"]
    for stack, (report, budget, level) in reports.items():
        budget_text = "none" if budget is None else f"${budget:,.0f} ({level})"
        cells = (_money(total) if (total := report.total(s)) is not None else f"unknown (priced part {_money(report.known_part(s))})" for s in ("idle", "expected", "ceiling"))
        rows.append(f"| {stack} | " + " | ".join(cells) + f" | {budget_text} |")
    as_of = next(iter(reports.values()))[0].as_of
    return "\n".join(rows) + (
        f"\n\nPriced on {as_of}, the price table's as-of date (`python -m mlopsctl.review.docsgen` regenerates this table). "
        "Unknown: the table has no sourced price for SageMaker training, processing or the serverless MLflow app (docs/cost.md, \"What is not verified\").\n"
    )


@_needs_reports
def cost_component_table(reports: dict[str, tuple]) -> str:
    components = sorted({c for report, _, _ in reports.values() for c in report.by_component()})
    rows = ["| Stack | " + " | ".join(f"`{c}`" for c in components) + " |", "|---|" + "---|" * len(components)]
    for stack, (report, _, _) in reports.items():
        sums = report.by_component()
        cells = []
        for component in components:
            figures = sums.get(component)
            cells.append("—" if figures is None else " / ".join(_money(figures[s]) for s in ("idle", "expected", "ceiling")))
        rows.append(f"| {stack} | " + " | ".join(cells) + " |")
    lines = ["By component (idle / expected / ceiling):", "", *rows, "", "Largest items at the ceiling:", ""]
    for stack, (report, _, _) in reports.items():
        largest = sorted((i for i in report.line_items if i.monthly("ceiling")), key=lambda i: (-(i.monthly("ceiling") or 0.0), i.item))[:3]
        lines.append(f"- {stack}: " + "; ".join(f"{i.item} {_money(i.monthly('ceiling'))}" for i in largest))
    unknown = {stack: len(report.unknown_items) for stack, (report, _, _) in reports.items() if report.unknown_items}
    lines += ["", "Unpriced items: " + (", ".join(f"{s} {n}" for s, n in unknown.items()) if unknown else "none in any stack.")]
    return "\n".join(lines) + "\n"


def price_table() -> str:
    from mlopsctl.offline.cost_report import price_table_markdown

    return price_table_markdown()


# ---------------------------------------------------------------------------------------------
# Configuration reference: every key of the stack files, read from the pydantic models.


@dataclass(frozen=True)
class ConfigKey:
    path: str  # dotted, camelCase, list items as [] and map entries as <name>
    type: str
    default: str
    per_environment: str
    allowed: str
    description: str


def _json(value: typing.Any) -> str:
    from pydantic import BaseModel

    def plain(v: typing.Any) -> typing.Any:
        if isinstance(v, BaseModel):
            return v.model_dump(mode="json", by_alias=True, exclude_defaults=True)
        if isinstance(v, list | tuple):
            return [plain(x) for x in v]
        if isinstance(v, dict):
            return {k: plain(x) for k, x in v.items()}
        return v

    return "`" + json.dumps(plain(value), ensure_ascii=False, separators=(", ", ": ")) + "`"


def _strip_annotated(annotation: typing.Any) -> tuple[typing.Any, list]:
    """(inner type, metadata) of ``Annotated[inner, *metadata]``; metadata of nested FieldInfos flattened."""
    metadata: list = []
    while typing.get_origin(annotation) is typing.Annotated:
        annotation, *extra = typing.get_args(annotation)
        for item in extra:
            metadata.extend(item.metadata if type(item).__name__ == "FieldInfo" else [item])
    return annotation, metadata


def _optional(annotation: typing.Any) -> tuple[typing.Any, bool]:
    args = typing.get_args(annotation)
    if typing.get_origin(annotation) in (typing.Union, types.UnionType) and type(None) in args:
        rest = [a for a in args if a is not type(None)]
        return rest[0], True
    return annotation, False


def _model(annotation: typing.Any):
    from pydantic import BaseModel

    return annotation if isinstance(annotation, type) and issubclass(annotation, BaseModel) else None


def _type_name(annotation: typing.Any) -> str:
    annotation, _ = _strip_annotated(annotation)
    annotation, optional = _optional(annotation)
    annotation, _ = _strip_annotated(annotation)
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is typing.Literal:
        name = "integer" if all(isinstance(a, int) for a in args) else "string"
    elif origin is list:
        name = f"list[{_type_name(args[0])}]"
    elif origin is dict:
        name = f"map[{_type_name(args[0])}, {_type_name(args[1])}]"
    elif _model(annotation):
        name = "object"
    else:
        name = {str: "string", int: "integer", bool: "boolean", float: "number"}[annotation]
    return f"{name} or null" if optional else name


def _validator_note(function: Callable) -> str:
    """What an AfterValidator accepts, in words. An unknown validator fails the generator on purpose."""
    from components import config, facts

    name = function.__qualname__
    closure = inspect.getclosurevars(function).nonlocals
    if name == "_sagemaker_name.<locals>.check":
        limit, pattern = facts.sagemaker_name_limits(closure["shape"])
        return f"SageMaker {closure['shape']}: at most {limit} characters matching `{pattern}` (botocore)"
    if name == "_within_shape.<locals>.check":
        meta = facts.shape_limits("sagemaker", closure["shape"])
        return f"{meta.get('min')}..{meta.get('max')} (botocore sagemaker {closure['shape']})"
    notes = {
        "_cidr": "an IPv4 CIDR block",
        "_role_arn": "an IAM role ARN (`arn:aws:iam::<account>:role/<name>`) in `accountId`",
        "_policy_arn": "an IAM policy ARN (`arn:aws:iam::<account>:policy/<name>`)",
        "_log_retention": "a CloudWatch Logs retention: " + ", ".join(map(str, config.LOG_RETENTION_DAYS)),
        "_ec2_instance_type": "an EC2 instance type in botocore's ec2 `InstanceType` enum",
        "_sagemaker_instance_type": "an ML instance type in botocore's sagemaker `ProductionVariantInstanceType` enum",
        "_processing_instance_type": "an ML instance type in botocore's sagemaker `ProcessingInstanceType` enum",
        "_serverless_memory": "MB, one of " + ", ".join(map(str, facts.serverless_memory_sizes())) + " (policies/awsfacts/aws_facts.json)",
        "_ecr_image": "`<account>.dkr.ecr.<region>.amazonaws.com/<repository>:<tag>` or `@sha256:<digest>`",
        "_model_package_version": "`arn:aws:sagemaker:<region>:<account>:model-package/<group>/<version>`",
        "_s3_object_uri": "`s3://<bucket>/<key>`",
        "_training_instance_type": "an ML instance type in botocore's sagemaker `TrainingInstanceType` enum",
        "_tracking_server_size": "one of " + ", ".join(f"`{s}`" for s in facts.mlflow_tracking_server_sizes()) + " (botocore sagemaker `TrackingServerSize`)",
        "_mlflow_version": "digits and dots, e.g. `3.0` or `2.16.2` (botocore sagemaker `MlflowVersion`)",
        "_schedule_expression": "`rate(<n> <unit>)` (minute(s), hour(s), day(s)) or `cron()` with six fields, exactly one of day-of-month and day-of-week `?`",
        "_dataset_prefix": "a key prefix under `datasets/` ending in `/`, e.g. `datasets/churn/`",
    }
    if name not in notes:
        raise ValueError(f"docsgen: no note for validator {name}; describe what it accepts in mlopsctl/review/docsgen.py")
    return notes[name]


def _constraints(metadata: list) -> list[str]:
    notes = []
    for item in metadata:
        kind = type(item).__name__
        if kind in ("Ge", "Gt", "Le", "Lt"):
            symbol = {"Ge": "≥", "Gt": ">", "Le": "≤", "Lt": "<"}[kind]
            notes.append(f"{symbol} {getattr(item, kind.lower())}")
        elif kind == "MinLen":
            notes.append(f"length ≥ {item.min_length}")
        elif kind == "MaxLen":
            notes.append(f"length ≤ {item.max_length}")
        elif getattr(item, "pattern", None):
            notes.append(f"pattern `{item.pattern}`")
        elif kind == "AfterValidator":
            notes.append(_validator_note(item.func))
        else:
            raise ValueError(f"docsgen: unhandled constraint {item!r}")
    return notes


def _allowed(annotation: typing.Any, metadata: list) -> str:
    annotation, more = _strip_annotated(annotation)
    annotation, _ = _optional(annotation)
    annotation, inner_more = _strip_annotated(annotation)
    notes = _constraints([*metadata, *more, *inner_more])
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is typing.Literal:
        notes.insert(0, "one of " + ", ".join(f"`{a}`" for a in args))
    elif origin is list and not _model(args[0]):
        item = _allowed(args[0], [])
        if item:
            notes.append(f"each item: {item}")
    elif origin is dict:
        key = _allowed(args[0], [])
        if key:
            notes.append(f"each key: {key}")
        if not _model(args[1]):
            value = _allowed(args[1], [])
            if value:
                notes.append(f"each value: {value}")
    return "; ".join(notes)


def _environment_defaults() -> dict[str, dict[str, typing.Any]]:
    """dotted path -> {environment: value} from components.config.ENVIRONMENT_DEFAULTS."""
    from components.config import ENVIRONMENT_DEFAULTS

    out: dict[str, dict[str, typing.Any]] = {}

    def walk(environment: str, prefix: str, values: dict) -> None:
        for key, value in values.items():
            path = f"{prefix}{key}"
            if isinstance(value, dict):
                walk(environment, f"{path}.", value)
            else:
                out.setdefault(path, {})[environment] = value

    for environment, values in ENVIRONMENT_DEFAULTS.items():
        walk(environment, "", values)
    return out


def config_keys(model=None, prefix: str = "") -> Iterator[ConfigKey]:
    """Every key of ``mlops-platform:platform``, in model order, nested sections after their key."""
    from pydantic_core import PydanticUndefined

    from components.config import PlatformConfig

    model = model or PlatformConfig
    per_environment = _environment_defaults()
    for name, field in model.model_fields.items():
        key = field.alias or name
        if model is PlatformConfig and key == "region":
            continue  # set with aws:region, refused inside the object
        path = f"{prefix}{key}"
        if field.is_required():
            default = "required"
        elif _model(field.default_factory):
            default = "`{}`"  # a section: each of its keys at its own default
        elif field.default_factory is not None:
            default = _json(field.default_factory())
        else:
            default = _json(None if field.default is PydanticUndefined else field.default)
        envs = per_environment.get(path)
        yield ConfigKey(
            path=path,
            type=_type_name(field.annotation),
            default=default,
            per_environment="" if envs is None else ", ".join(f"{e}: {_json(v)}" for e, v in envs.items()),
            allowed=_allowed(field.annotation, list(field.metadata)),
            description=field.description or "",
        )
        inner, _ = _optional(_strip_annotated(field.annotation)[0])
        origin, args = typing.get_origin(inner), typing.get_args(inner)
        if _model(inner):
            yield from config_keys(inner, f"{path}.")
        elif origin is list and _model(_strip_annotated(args[0])[0]):
            yield from config_keys(_strip_annotated(args[0])[0], f"{path}[].")
        elif origin is dict and _model(args[1]):
            yield from config_keys(args[1], f"{path}.<name>.")


def _cell(text: str) -> str:
    """One table cell: pipes escaped; outside `code`, < > & as entities (GitHub would drop ``<org>`` as a tag)."""
    if not text:
        return "—"
    parts = text.replace("\n", " ").split("`")
    for i in range(0, len(parts), 2):
        parts[i] = parts[i].replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return "`".join(parts).replace("|", "\\|")


def _key_table(keys: list[ConfigKey]) -> list[str]:
    rows = ["| Key | Type | Default | Per environment | Allowed | Description |", "|---|---|---|---|---|---|"]
    for key in keys:
        cells = (f"`{key.path}`", key.type, key.default, key.per_environment, key.allowed, key.description)
        rows.append("| " + " | ".join(_cell(c) if i else c for i, c in enumerate(cells)) + " |")
    return rows


def config_reference() -> str:
    from dataclasses import fields

    from pydantic.alias_generators import to_camel

    from components import config
    from components.incluster import config as incluster

    keys = list(config_keys())
    sections = [k.path for k in keys if "." not in k.path and k.type == "object"]
    top = [k for k in keys if "." not in k.path and k.path not in sections]
    lines = [
        f"## Layer 1: `{config.CONFIG_KEY}` (`stacks/Pulumi.<env>.yaml`)",
        "",
        f"Also required next to it: `{config.REGION_KEY}`, an AWS region botocore knows (the `region` key inside the object is refused).",
        "",
        "### Top level",
        "",
        *_key_table(top),
    ]
    for section in sections:
        lines += ["", f"### `{section}`", "", *_key_table([k for k in keys if k.path == section or k.path.startswith(section + ".")])]
    lines += [
        "",
        f"## Layer 2: `{incluster.PLATFORM_STACK_KEY}` (`incluster/stacks/Pulumi.<env>.yaml`)",
        "",
        "| Key | Type | Default | Allowed | Description |",
        "|---|---|---|---|---|",
    ]
    for field in fields(incluster.InClusterConfig):
        allowed = f"`<org>/{config.PROJECT}/<stack>`, where `<stack>` is this stack's own name"
        lines.append(f"| `{incluster.PROJECT}:{to_camel(field.name)}` | string | required | {_cell(allowed)} | {_cell(field.metadata['description'])} |")
    return "\n".join(lines) + "\n"


# name -> (files holding the block, renderer). Renderers marked @_needs_reports take the stack
# reports (three stack previews); the others take no argument and run without any preview.
BLOCKS: dict[str, tuple[tuple[Path, ...], Callable[..., str]]] = {
    "cost-summary": ((README, COST_DOC), cost_summary_table),
    "cost-components": ((COST_DOC,), cost_component_table),
    "price-table": ((COST_DOC,), price_table),
    "config-reference": ((CONFIG_DOC,), config_reference),
}


def needs_reports(name: str) -> bool:
    return getattr(BLOCKS[name][1], "needs_reports", False)


def render_all(previews: dict | None = None, names: typing.Iterable[str] | None = None) -> dict[str, str]:
    """name -> rendered block, for ``names`` (default: every block). Previews run only if a block needs them."""
    selected = list(BLOCKS) if names is None else list(names)
    unknown = [n for n in selected if n not in BLOCKS]
    if unknown:
        raise ValueError(f"unknown block(s) {', '.join(unknown)}; known: {', '.join(BLOCKS)}")
    reports = stack_reports(previews) if any(needs_reports(n) for n in selected) else None
    return {name: BLOCKS[name][1](reports) if needs_reports(name) else BLOCKS[name][1]() for name in selected}


def main(argv: list[str] | None = None) -> None:
    """``python -m mlopsctl.review.docsgen [block ...]``: rewrite the named blocks (default: all)."""
    names = (sys.argv[1:] if argv is None else argv) or None
    rendered = render_all(names=names)
    for name, content in rendered.items():
        for path in BLOCKS[name][0]:
            path.write_text(replace(path.read_text(), name, content))
            print(f"wrote generated:{name} in {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
