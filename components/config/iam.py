"""The ``iam`` section: guardrails on every role the platform creates."""

from __future__ import annotations

from pydantic import Field

from components.config.base import Model, PolicyArn


class IamConfig(Model):
    permissions_boundary_arn: PolicyArn | None = Field(None, description="Permissions boundary attached to every role the platform creates.")
