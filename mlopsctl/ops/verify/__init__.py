"""``mlopsctl verify``: post-deploy checks of live resources against the stack's config.

Inputs: the stack outputs (``pulumi stack output --json``: physical names, and the environment and
region they belong to) and the stack file (what the stack declares, and the expected versions,
sizes, AMI types...). Each check yields pass/fail with the resource and the reason.

``outputs`` reads and checks the outputs (shape, whose stack, which sections the config implies),
``checks`` is what every check shares, one module per section (``storage``, ``network``,
``cluster``, ``runner``, ``serving``, ``alerts``, ``promotion``, ``training``), ``verifier`` runs them and
``report`` renders the result.
"""

from mlopsctl.ops.verify.checks import ERROR, FAIL, PASS, SKIP, WARN, CheckResult
from mlopsctl.ops.verify.outputs import OutputsError, declared_sections, read_outputs
from mlopsctl.ops.verify.report import failed, render_text, summary, to_json
from mlopsctl.ops.verify.verifier import Verifier

__all__ = ["ERROR", "FAIL", "PASS", "SKIP", "WARN", "CheckResult", "OutputsError", "Verifier", "declared_sections", "failed", "read_outputs",
           "render_text", "summary", "to_json"]
