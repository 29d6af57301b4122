"""mlops-platform CrossGuard policy pack (`pulumi preview --policy-pack policies`).

Policies live in modules by concern; this file only assembles them. Per-environment enforcement
and settings: policies/config/<env>.json (`--policy-pack-config`).
"""

import gc
import os
import signal
import sys
from pathlib import Path

# A process started in the background of a non-interactive shell (a CI step with `&`) inherits an
# ignored SIGINT; the engine and mlopsctl stop the pack with SIGINT, so take the default back.
signal.signal(signal.SIGINT, signal.default_int_handler)

# The pack imports much and then serves until stopped: no collections while it imports, and what is
# loaded is frozen (never scanned again) before it serves; the collector then runs as usual.
gc.disable()

# Pulumi runs this file directly; make the sibling modules importable without the repository.
sys.path.insert(0, str(Path(__file__).resolve().parent))

import budget  # noqa: E402
import capacity_limits  # noqa: E402
import reliability  # noqa: E402
import security  # noqa: E402
import tagging  # noqa: E402
from awsfacts import PROJECT  # noqa: E402
from pulumi_policy import EnforcementLevel, PolicyPack  # noqa: E402

POLICIES = [
    *security.POLICIES,
    *capacity_limits.POLICIES,
    *budget.POLICIES,
    *tagging.POLICIES,
    *reliability.POLICIES,
]

gc.freeze()
gc.enable()

# Serves until SIGINT (KeyboardInterrupt stops the gRPC server), then returns.
PolicyPack(
    name=PROJECT,
    description="Security, cost, tagging and reliability guardrails for the mlops-platform AWS stacks.",
    enforcement_level=EnforcementLevel.ADVISORY,
    policies=POLICIES,
)

# Stopped: end now. An ordinary interpreter shutdown would join gRPC's threads and tear every module
# down, which at times took seconds (mlopsctl waits for the pack to exit).
sys.stdout.flush()
sys.stderr.flush()
os._exit(0)
