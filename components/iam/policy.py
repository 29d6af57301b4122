"""Typed IAM policy documents, rendered to JSON once every input is known.

Policies are built from :class:`Statement` objects, never from concatenated strings. The rendered
document is what the engine receives, so tests parse it and assert exact actions, resources and
conditions.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import pulumi


@dataclass(frozen=True)
class Statement:
    """One IAM policy statement.

    actions: IAM actions, e.g. ``["s3:GetObject"]`` (required).
    resources: resource ARNs (Inputs allowed); ``None`` for trust policies, which name no resource.
    effect: ``"Allow"`` (default) or ``"Deny"``.
    sid: optional statement id.
    principals: for trust and resource policies, e.g. ``{"Service": ["sagemaker.amazonaws.com"]}``.
    conditions: e.g. ``{"StringEquals": {"aws:SourceAccount": account_id}}``.
    """

    actions: Sequence[str]
    resources: Sequence[pulumi.Input[str]] | None = None
    effect: Literal["Allow", "Deny"] = "Allow"
    sid: str | None = None
    principals: Mapping[str, Sequence[pulumi.Input[str]] | str] | None = None
    conditions: Mapping[str, Mapping[str, Any]] | None = None

    def to_dict(self) -> dict[str, Any]:
        statement: dict[str, Any] = {}
        if self.sid:
            statement["Sid"] = self.sid
        statement["Effect"] = self.effect
        if self.principals is not None:
            statement["Principal"] = {k: (v if isinstance(v, str) else list(v)) for k, v in self.principals.items()}
        statement["Action"] = sorted(self.actions)
        if self.resources is not None:
            statement["Resource"] = list(self.resources)
        if self.conditions:
            statement["Condition"] = {op: dict(values) for op, values in self.conditions.items()}
        return statement


def policy_document(statements: Sequence[Statement]) -> pulumi.Output[str]:
    """Render statements to a JSON policy document (an Output, since ARNs may be Outputs)."""
    if not statements:
        raise ValueError("a policy document needs at least one statement")
    document = {"Version": "2012-10-17", "Statement": [s.to_dict() for s in statements]}
    return pulumi.Output.from_input(document).apply(lambda resolved: json.dumps(resolved, sort_keys=False))
