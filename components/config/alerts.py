"""The ``alerts`` section: who hears about the platform's alarms and events (components/alerts)."""

from __future__ import annotations

import re
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, model_validator

from components.config.base import Model, repeated

# One address, no display name: what SNS's email protocol takes as a subscription endpoint.
_EMAIL = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$")


def endpoint_problem(protocol: str, endpoint: str) -> str | None:
    """Why SNS would refuse (or the platform forbids) ``endpoint`` for ``protocol``; None when fine."""
    if protocol == "email":
        return None if _EMAIL.match(endpoint) else f"{endpoint!r} is not an email address (name@domain)"
    parts = urlsplit(endpoint)
    if parts.scheme != "https":
        return f"{endpoint!r} is not an https:// URL; alerts never travel over plain HTTP"
    if not parts.hostname or parts.username or parts.password:
        return f"{endpoint!r} needs a host and no credentials in the URL (pass them in headers at the receiver)"
    return None


class AlertSubscriptionConfig(Model):
    protocol: Literal["email", "https"] = Field(description="`email` (SNS sends a confirmation mail first) or `https` (SNS POSTs a SubscriptionConfirmation first). Plain `http` is refused.")
    endpoint: str = Field(min_length=3, max_length=2048, description="The email address, or the https:// URL that receives the notifications.")

    @model_validator(mode="after")
    def _endpoint_fits_protocol(self):
        problem = endpoint_problem(self.protocol, self.endpoint)
        if problem:
            raise ValueError(f"@endpoint: {problem}")
        return self


class AlertsConfig(Model):
    """The stack's alert topic: its subscribers and the volume the cost model prices."""

    subscriptions: list[AlertSubscriptionConfig] = Field(
        default_factory=list,
        description=(
            "Who receives the platform's alerts (CloudWatch alarm state changes, endpoint deployment failures and rollbacks, endpoint failures, "
            "drift-monitoring violations and failures, model-package approvals). Each must confirm its subscription once (docs/alerts.md)."
        ),
    )
    expected_notifications_per_month: int = Field(
        200, ge=0, le=10_000_000, description="Messages the topic is expected to carry in a month; the cost model prices publishes and deliveries from it."
    )

    @model_validator(mode="after")
    def _unique_endpoints(self):
        twice = repeated([s.endpoint for s in self.subscriptions])
        if twice:
            raise ValueError(f"@subscriptions: each endpoint is subscribed once; repeated: {', '.join(twice)}")
        return self
