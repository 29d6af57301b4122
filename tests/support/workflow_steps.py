"""Run the `run:` steps of a workflow job, and of the repository's composite actions it uses, as the
runner does: each script in bash in the given directory, the job's and the step's `env:` with their
`${{ }}` expressions evaluated, `$GITHUB_OUTPUT` read back into `steps.<id>.outputs`, and a step's
`if:` deciding whether it runs.

Only the small expression language these workflows use is understood (context paths such as
``github.event.client_payload.endpoint`` or ``inputs.model-package-arn``, ``a || b``, and
``x == 'literal'`` in an ``if:``); anything else raises, so a new construct cannot be skipped
silently. A ``uses:`` step of another repository's action does not run here: the caller names each
one it expects and either skips it (``actions/checkout``: the test's clone stands for it) or gives
its outputs (a recording stand-in, which keeps the ``with:`` it was called with).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from tests.support.stacks import ROOT

_EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")
_PATH = re.compile(r"^[A-Za-z_][\w-]*(?:\.[A-Za-z_][\w-]*)*$")
_COMPARISON = re.compile(r"^(?P<left>[\w.-]+)\s*==\s*'(?P<right>[^']*)'$")
# GitHub's shells: an unnamed shell is `bash -e {0}`; `shell: bash` adds --noprofile --norc and pipefail.
_SHELLS = {None: ["bash", "-e"], "bash": ["bash", "--noprofile", "--norc", "-eo", "pipefail"]}
LOCAL_ACTIONS = "./.github/actions/"


def load_yaml(relative: str) -> dict:
    return yaml.safe_load((ROOT / relative).read_text())


@dataclass
class StepRun:
    name: str
    returncode: int
    stdout: str
    stderr: str

    @property
    def lines(self) -> list[str]:
        return (self.stdout + self.stderr).splitlines()


@dataclass
class ActionStandIn:
    """An external action's stand-in: ``outputs`` computed from its ``with:``, every call recorded."""

    outputs: Callable[[Mapping[str, str]], Mapping[str, str]]
    calls: list[dict[str, str]] = field(default_factory=list)


@dataclass
class Runner:
    """One job's run. ``contexts`` holds ``github``, ``inputs``, ``vars``, ``secrets`` and ``runner``;
    ``env`` is the runner's default environment (GITHUB_*, RUNNER_TEMP, PATH...)."""

    cwd: Path
    contexts: dict[str, Any]
    env: dict[str, str]
    skipped_uses: tuple[str, ...] = ()  # `uses:` prefixes the test's setup stands for
    skipped_runs: tuple[str, ...] = ()  # exact `run:` scripts the test's setup stands for
    stand_ins: dict[str, ActionStandIn] = field(default_factory=dict)  # `uses:` prefix -> stand-in
    runs: list[StepRun] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)

    def run_job(self, job: dict) -> StepRun | None:
        """The job's steps in order until one fails; returns the failing step's run, or None."""
        job_env = {k: self._render(str(v), self.contexts) for k, v in (job.get("env") or {}).items()}
        return self._run_steps(job["steps"], job_env, self.contexts)

    def _run_steps(self, steps: list[dict], inherited_env: dict[str, str], contexts: dict[str, Any]) -> StepRun | None:
        outputs: dict[str, dict[str, str]] = {}
        scoped = {**contexts, "steps": outputs}
        for step in steps:
            name = step.get("name") or step.get("run") or step.get("uses")
            if "if" in step and not self._condition(step["if"], scoped):
                self.skipped.append(f"{name} (if: {step['if']})")
                continue
            step_env = {**inherited_env, **{k: self._render(str(v), scoped) for k, v in (step.get("env") or {}).items()}}
            if "uses" in step:
                failed = self._uses(step, name, step_env, scoped, outputs)
            else:
                failed = self._run(step, name, step_env, outputs)
            if failed is not None:
                return failed
        return None

    def _uses(self, step: dict, name: str, env: dict[str, str], contexts: dict[str, Any], outputs: dict) -> StepRun | None:
        uses = step["uses"]
        inputs = {k: self._render(str(v), contexts) for k, v in (step.get("with") or {}).items()}
        if uses.startswith(LOCAL_ACTIONS):
            action = yaml.safe_load((self.cwd / uses / "action.yml").read_text())
            assert action["runs"]["using"] == "composite", uses
            declared = action.get("inputs") or {}
            assert set(inputs) <= set(declared), f"{uses}: unknown inputs {set(inputs) - set(declared)}"
            missing = [k for k, spec in declared.items() if spec.get("required") and k not in inputs]
            assert not missing, f"{uses}: required inputs missing: {missing}"
            # A composite action sees github, runner and its own inputs, not the workflow's vars or secrets;
            # its steps inherit the calling step's environment.
            action_contexts = {k: v for k, v in contexts.items() if k not in ("vars", "secrets", "steps", "inputs")}
            action_contexts["inputs"] = {k: inputs.get(k, str(spec.get("default", ""))) for k, spec in declared.items()}
            return self._run_steps(action["runs"]["steps"], env, action_contexts)
        for prefix, stand_in in self.stand_ins.items():
            if uses.startswith(prefix):
                stand_in.calls.append(inputs)
                if "id" in step:
                    outputs[step["id"]] = {"outputs": dict(stand_in.outputs(inputs))}
                return None
        if any(uses.startswith(prefix) for prefix in self.skipped_uses):
            self.skipped.append(uses)
            return None
        raise AssertionError(f"step {name!r}: uses {uses}, which this test neither skips nor stands in for")

    def _run(self, step: dict, name: str, env: dict[str, str], outputs: dict) -> StepRun | None:
        script = step["run"]
        if script.strip() in self.skipped_runs:
            self.skipped.append(script.strip())
            return None
        shell = step.get("shell")
        assert shell in _SHELLS, f"step {name!r}: shell {shell!r}"
        assert "${{" not in script, f"step {name!r}: an expression inside a run script"
        output_file = Path(self.env["RUNNER_TEMP"]) / f"output-{len(self.runs)}"
        output_file.write_text("")
        result = subprocess.run([*_SHELLS[shell], "-c", script], cwd=self.cwd, capture_output=True, text=True, timeout=300,
                                env={**self.env, **env, "GITHUB_OUTPUT": str(output_file)})
        run = StepRun(name, result.returncode, result.stdout, result.stderr)
        self.runs.append(run)
        if "id" in step:
            outputs[step["id"]] = {"outputs": _read_outputs(output_file)}
        return run if result.returncode != 0 else None

    def _condition(self, condition: str, contexts: dict[str, Any]) -> bool:
        match = _COMPARISON.match(condition.strip())
        if match is None:
            raise AssertionError(f"if: {condition!r} is not `<context path> == '<literal>'`")
        return self._value(match["left"], contexts) == match["right"]

    def _render(self, text: str, contexts: dict[str, Any]) -> str:
        return _EXPRESSION.sub(lambda m: self._expression(m.group(1), contexts), text)

    def _expression(self, expression: str, contexts: dict[str, Any]) -> str:
        for term in (t.strip() for t in expression.split("||")):
            value = self._value(term, contexts)
            if value:
                return value
        return ""

    @staticmethod
    def _value(path: str, contexts: Mapping[str, Any]) -> str:
        if not _PATH.match(path):
            raise AssertionError(f"expression {path!r} is not a context path")
        root, *rest = path.split(".")
        if root not in contexts:
            raise AssertionError(f"expression {path!r}: no context {root!r} in this run")
        value: Any = contexts[root]
        for part in rest:
            value = value.get(part) if isinstance(value, Mapping) else None
        if value is None:
            return ""
        return value if isinstance(value, str) else str(value).lower() if isinstance(value, bool) else str(value)


def _read_outputs(path: Path) -> dict[str, str]:
    outputs = {}
    for line in path.read_text().splitlines():
        assert "<<" not in line, f"multi-line output {line!r} is not read here"
        name, _, value = line.partition("=")
        outputs[name] = value
    return outputs


def recording_stub(directory: Path, program: str) -> Path:
    """``directory/program``: records each call's arguments, one JSON list per line, in
    ``directory/<program>.calls``, prints nothing and exits 0. A recorder, not a stand-in that
    answers: a caller that needs an answer from it gets none."""
    directory.mkdir(parents=True, exist_ok=True)
    log = directory / f"{program}.calls"
    stub = directory / program
    stub.write_text(f"#!{os.path.realpath(sys.executable)}\n"
                    "import json, sys\n"
                    f"with open({str(log)!r}, 'a') as log:\n"
                    "    log.write(json.dumps(sys.argv[1:]) + '\\n')\n")
    stub.chmod(0o755)
    return log
