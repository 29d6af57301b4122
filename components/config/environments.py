"""The environments a stack can deploy, and what each sets differently from the field defaults."""

from __future__ import annotations

from typing import Any, Literal

Environment = Literal["dev", "staging", "prod"]

ENVIRONMENT_DEFAULTS: dict[str, dict[str, Any]] = {
    # dev: cheap and disposable, but still private and encrypted.
    "dev": {
        "network": {"azCount": 2, "natGateways": "single"},
        "storage": {"protect": False, "kmsDeletionWindowDays": 7, "replication": {"enabled": False}},
        "eks": {"deletionProtection": False, "logRetentionDays": 30, "upgradePolicy": "STANDARD"},
        "serving": {"dataCaptureByDefault": False, "driftMonitoring": {"enabled": False}},
        "ciRunner": {"logRetentionDays": 30},
        # Spot training (cheap, may wait for capacity) outside the VPC; retraining only when someone starts it.
        "training": {"spotByDefault": True, "schedulesByDefault": False, "vpc": False, "experiments": {"enabled": True}},
    },
    # staging: production-shaped, cheaper where availability is not at stake.
    "staging": {
        "network": {"azCount": 2, "natGateways": "single"},
        "storage": {"protect": True, "kmsDeletionWindowDays": 30, "replication": {"enabled": False}},
        "eks": {"deletionProtection": False, "logRetentionDays": 90, "upgradePolicy": "STANDARD"},
        "serving": {"dataCaptureByDefault": True, "driftMonitoring": {"enabled": False}},
        "ciRunner": {"logRetentionDays": 90},
        # On-demand training that finishes when expected; experiments tracked for the runs prod will serve.
        "training": {"spotByDefault": False, "schedulesByDefault": True, "experiments": {"enabled": True}},
    },
    # prod: highly available, data retained, nothing deletable by accident.
    "prod": {
        "network": {"azCount": 3, "natGateways": "perAz"},
        "storage": {"protect": True, "kmsDeletionWindowDays": 30, "replication": {"enabled": True}},
        # EXTENDED: EKS never upgrades prod behind Pulumi's back; the extended rate is priced.
        "eks": {"deletionProtection": True, "logRetentionDays": 365, "upgradePolicy": "EXTENDED"},
        "serving": {"dataCaptureByDefault": True, "driftMonitoring": {"enabled": True}},
        "ciRunner": {"logRetentionDays": 365},
        # prod retrains what staging proved; its experiments were tracked there.
        "training": {"spotByDefault": False, "schedulesByDefault": True, "experiments": {"enabled": False}},
    },
}
