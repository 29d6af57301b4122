"""What every mock answer is computed from: the account and region a program runs as, and AWS's naming.

Answers are deterministic (hashes of the logical name), so two previews of one commit are equal
byte for byte.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from mlopsctl.offline.wire import UNKNOWN


@dataclass
class MockContext:
    region: str
    account_id: str
    # The STS session running the program (getCallerIdentity); the program must not depend on it.
    caller_arn: str
    partition: str = "aws"
    availability_zone_count: int = 3
    # StackReference name -> (outputs, secret output names), as the engine reads them from state.
    stack_references: dict[str, tuple[dict[str, Any], list[str]]] = field(default_factory=dict)


# (context, logical name, inputs) -> the outputs AWS computes; (context, invoke args) -> a data source's answer.
OutputFactory = Callable[[MockContext, str, dict], dict]
InvokeHandler = Callable[[MockContext, dict], dict]


def short_hash(*parts: str, length: int = 7) -> str:
    return hashlib.sha256("/".join(parts).encode()).hexdigest()[:length]


def physical_name(name: str, inputs: dict, key: str = "name") -> str:
    """The name AWS ends up with: the given one, else Pulumi's auto-name (prefix or logical name + hash)."""
    if key in inputs and isinstance(inputs[key], str) and inputs[key] != UNKNOWN:
        return inputs[key]
    prefix = inputs.get("namePrefix") or inputs.get(f"{key}Prefix")
    if isinstance(prefix, str):
        return f"{prefix}{short_hash(name, length=26)}"
    return f"{name}-{short_hash(name)}"


def _service_of(type_token: str) -> str:
    module = type_token.split(":")[1].split("/")[0]
    return {"cloudwatch": "logs" if "LogGroup" in type_token else "cloudwatch", "appautoscaling": "application-autoscaling"}.get(module, module)


def generic_outputs(ctx: MockContext, type_token: str, name: str, inputs: dict) -> dict:
    """The answer for a type without an entry in the table: its physical name, an ARN in the common format and tagsAll."""
    physical = physical_name(name, inputs)
    resource_kind = type_token.rsplit(":", 1)[-1].lower()
    region = inputs.get("region", ctx.region)
    service = _service_of(type_token)
    out = {"name": physical, "arn": f"arn:{ctx.partition}:{service}:{region}:{ctx.account_id}:{resource_kind}/{physical}"}
    if "tags" in inputs or type_token.startswith("aws:"):
        out["tagsAll"] = inputs.get("tags") or {}
    return out
