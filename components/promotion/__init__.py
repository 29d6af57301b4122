"""Promotion by approval: an approval in the registry dispatches GitHub's promote workflow."""

from components.promotion.dispatch import (
    DISPATCH_EVENT_TYPE,
    GITHUB_API,
    ApprovalDispatch,
    ApprovalDispatchArgs,
    PromotedEndpoint,
    dispatch_body_template,
)

__all__ = [
    "DISPATCH_EVENT_TYPE",
    "GITHUB_API",
    "ApprovalDispatch",
    "ApprovalDispatchArgs",
    "PromotedEndpoint",
    "dispatch_body_template",
]
