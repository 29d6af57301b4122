"""Alerts that reach people: the stack's SNS topic, its subscribers and the EventBridge rules feeding it."""

from components.alerts.component import PlatformAlerts, PlatformAlertsArgs, topic_policy_statements
from components.alerts.events import AlertRule, alert_rules

__all__ = ["AlertRule", "PlatformAlerts", "PlatformAlertsArgs", "alert_rules", "topic_policy_statements"]
