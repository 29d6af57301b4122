"""One verify run: every section the stack config implies, present in the outputs and checked.

A declared section the outputs lack fails (``<section>.present``) rather than being skipped, and a
run in which no check passed or failed fails too: verify never reports green on nothing.
"""

from __future__ import annotations

from typing import Any

from components.config import PlatformConfig
from mlopsctl.ops.awsclients import AwsClients, check_account
from mlopsctl.ops.verify.alerts import verify_alerts
from mlopsctl.ops.verify.checks import ERROR, FAIL, PASS, CheckResult, Checks
from mlopsctl.ops.verify.cluster import verify_cluster
from mlopsctl.ops.verify.network import verify_network
from mlopsctl.ops.verify.outputs import check_same_stack, checked_shape, declared_sections
from mlopsctl.ops.verify.promotion import verify_promotion
from mlopsctl.ops.verify.runner import verify_runner
from mlopsctl.ops.verify.serving import verify_endpoints
from mlopsctl.ops.verify.storage import verify_artifact_store
from mlopsctl.ops.verify.training import verify_training

NOTHING_CHECKED = "no check ran, so nothing is verified"


class Verifier(Checks):
    """Check ``outputs`` (``pulumi stack output --json``) against ``config``.

    The outputs' shape and whose stack they are (``environment``, ``region``) are checked here,
    before any AWS call: :class:`OutputsError` is bad input (exit 2).
    """

    def __init__(self, config: PlatformConfig, outputs: dict[str, Any], clients: AwsClients, stack_path: str | None = None):
        super().__init__(config, outputs, clients)
        self.stack_path = stack_path or f"stacks/Pulumi.{config.environment}.yaml"
        check_same_stack(config, outputs, self.stack_path)
        self.sections = {key: checked_shape(outputs, key) for key in ("artifactStore", "network", "cluster", "ciRunner", "endpoints", "alerts", "promotion",
                                                              "training")}

    def preflight(self) -> str:
        """Whose credentials these are, before the first check: the stack's account, or one line (exit 2)."""
        return check_account(self.clients, self.config, self.stack_path)

    def run(self) -> list[CheckResult]:
        store, network = self.sections["artifactStore"], self.sections["network"]
        verifiers = {
            "artifactStore": lambda section: verify_artifact_store(self, section),
            "network": lambda section: verify_network(self, section),
            "cluster": lambda section: verify_cluster(self, section),
            "ciRunner": lambda section: verify_runner(self, section, network),
            "endpoints": lambda section: verify_endpoints(self, section, store),
            "alerts": lambda section: verify_alerts(self, section, self.sections["endpoints"]),
            "promotion": lambda section: verify_promotion(self, section),
            "training": lambda section: verify_training(self, section, store),
        }
        declared = {d.key: d for d in declared_sections(self.config)}
        for key, verify in verifiers.items():
            section = self.sections[key]
            if key in declared and section is None:
                self.fail(f"{key}.present", "-", f"{self.stack_path} declares it ({declared[key].by}), but the outputs have no "
                                                 f"'{key}' section, so none of its checks ran")
            elif key in declared or (key in ("endpoints", "training") and section):  # what the config lacks fails, one by one
                verify(section)
            elif key == "ciRunner":
                self.skip("ciRunner", "-", "ciRunner.connectionArn is not set: layer 1 creates no runner project to check")
            elif key == "promotion" and section:
                self.fail("promotion.present", "-", f"the outputs have a 'promotion' section, but promotion.dispatch is off in {self.stack_path}")
        if not any(r.status in (PASS, FAIL, ERROR) for r in self.results):
            self.fail("verify", "-", NOTHING_CHECKED)
        return self.results
