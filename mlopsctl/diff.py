"""Offline change diff: what a pull request changes in a stack, without AWS or the Pulumi CLI.

``mlopsctl diff --stack <env> --base <git-ref>`` previews the stack twice with the offline preview
(``mlopsctl preview --format json``): at the base ref, in a temporary detached git worktree running
the base's own code in a subprocess of the same interpreter, and at the working tree, in this
process while the base runs. Resources are matched by URN:

- create / delete: a URN on one side only;
- update: changed wire-format input paths (``scalingConfig.desiredSize: 1 -> 2``) and changed
  resource options (protect, retainOnDelete, ignoreChanges, provider, ...).

What mocks cannot tell: no provider diff runs, so whether AWS updates in place or replaces is
unknown. An update touching an input listed in ``data/replace_on_change.json`` (Terraform
``ForceNew`` inputs, with sources) is labelled ``update (may replace)``; one touching a path in the
resource's own ``replaceOnChanges`` option is a certain ``replace``. Everything else may still be a
replacement the table does not know about.

Secrets never show: wire-format secrets, inputs named like credentials and the resource's
``additionalSecretOutputs`` are masked, and stack-file ``secure:`` values are only named.
"""

from __future__ import annotations

import contextlib
import html
import json
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from mlopsctl import ROOT
from mlopsctl.offline.preview import NOT_EVALUATED
from mlopsctl.offline.stackfile import SECRET_PLACEHOLDER, available_stacks, map_secure
from mlopsctl.offline.wire import UNKNOWN, is_secret
from mlopsctl.review.upgrades import VersionChange, version_changes

GITHUB_COMMENT_LIMIT = 65_536
REPLACE_TABLE_PATH = ROOT / "mlopsctl" / "review" / "data" / "replace_on_change.json"
MASK = "[secret]"
# Input names that hold credentials even when the program forgot to mark them secret.
_SENSITIVE_KEY = re.compile(r"password|secret|token|private_?key|access_?key|credential", re.IGNORECASE)
_IDENTIFIER = re.compile(r"^[A-Za-z_$][\w$]*$")
OPTION_FIELDS = ("protect", "retainOnDelete", "deleteBeforeReplace", "ignoreChanges", "replaceOnChanges", "additionalSecretOutputs", "provider")
PREVIEW_TIMEOUT_S = 900


class DiffError(Exception):
    """Bad input (unknown ref or stack, not a git repository, a preview that failed). One line."""


# ---------------------------------------------------------------------------------------------
# Running the two previews


def _git(repo: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    try:
        result = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, timeout=120)
    except FileNotFoundError:
        raise DiffError("git is not installed") from None
    if check and result.returncode != 0:
        message = (result.stderr.strip().splitlines() or [f"git {' '.join(args)} failed"])[-1]
        raise DiffError(message)
    return result


def _child_env() -> dict[str, str]:
    env = dict(os.environ)
    # The child must import the package in its own cwd (the base worktree), not ours.
    for name in ("PYTHONPATH", "PYTHONSAFEPATH", "PYTHONHOME"):
        env.pop(name, None)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def _start_preview(project_dir: Path, stack: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "mlopsctl", "preview", "--stack", stack, "--format", "json"],
        cwd=project_dir,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_child_env(),
    )


def _finish_preview(proc: subprocess.Popen, where: str) -> dict[str, Any]:
    try:
        stdout, stderr = proc.communicate(timeout=PREVIEW_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        raise DiffError(f"{where}: preview did not finish within {PREVIEW_TIMEOUT_S} s") from None
    if proc.returncode in (0, 1):  # 1: the preview ran and found mandatory violations
        try:
            return json.loads(stdout)
        except json.JSONDecodeError:
            pass
    lines = [line for line in stderr.strip().splitlines() if line.strip()]
    reason = lines[-1].removeprefix("error: ") if lines else f"exit code {proc.returncode}"
    raise DiffError(f"{where}: preview failed: {reason}")


@dataclass
class Side:
    label: str  # "main (1a2b3c4)" or "working tree"
    preview: dict[str, Any]
    stack_text: str | None  # the stack file as committed/checked out, for secure: keys
    exists: bool = True


def run_diff(stack: str, base_ref: str) -> StackDiff:
    """Preview ``stack`` at ``base_ref`` and at this checkout's working tree and compare them."""
    repo_dir = ROOT
    probe = _git(repo_dir, "rev-parse", "--show-toplevel", check=False)
    if probe.returncode != 0:
        raise DiffError(f"{repo_dir} is not inside a git repository")
    toplevel = Path(probe.stdout.strip()).resolve()
    prefix = repo_dir.relative_to(toplevel)
    stacks = available_stacks(repo_dir / "stacks")
    if stack not in stacks:
        raise DiffError(f"stacks/Pulumi.{stack}.yaml: no such stack {stack!r}; available stacks: {', '.join(stacks) or 'none'}")
    resolved = _git(repo_dir, "rev-parse", "--verify", "--quiet", f"{base_ref}^{{commit}}", check=False)
    if resolved.returncode != 0:
        raise DiffError(f"unknown git ref {base_ref!r}")
    commit = resolved.stdout.strip()
    stack_path = (prefix / "stacks" / f"Pulumi.{stack}.yaml").as_posix()
    base_stack = _git(repo_dir, "show", f"{commit}:{stack_path}", check=False)
    base_label = f"{base_ref} ({commit[:7]})"
    head_text = (repo_dir / "stacks" / f"Pulumi.{stack}.yaml").read_text()

    if base_stack.returncode != 0:  # a stack new in this change: everything is a create
        base = Side(base_label, {"stack": stack, "resources": [], "policy": {"evaluated": True, "violations": []},
                                 "cost": {"evaluated": True, "monthly": {"idle": 0, "expected": 0, "ceiling": 0}}},
                    None, exists=False)
        head = Side("working tree", _preview_here(stack), head_text)
    else:
        with _base_worktree(toplevel, commit) as worktree:
            base_proc = _start_preview(worktree / prefix, stack)  # the base's own code, in parallel with ...
            try:
                head = Side("working tree", _preview_here(stack), head_text)  # ... the head, in this process
                base = Side(base_label, _finish_preview(base_proc, base_label), base_stack.stdout)
            finally:
                if base_proc.poll() is None:
                    base_proc.kill()
                    base_proc.communicate()
    return compare(stack, base, head)


def _preview_here(stack: str) -> dict[str, Any]:
    """The working tree's preview, in this process; the same document the base's CLI prints."""
    from components.config import ConfigError
    from mlopsctl.offline.policycheck.config import PolicyPackError
    from mlopsctl.offline.preview import preview_stack
    from mlopsctl.offline.stackfile import StackFileError

    try:
        result = preview_stack(stack, policy=True)
    except (ConfigError, StackFileError, PolicyPackError) as exc:
        raise DiffError(f"working tree: preview failed: {exc}") from None
    # Through JSON, so both sides compare as the same plain types.
    return json.loads(json.dumps(result.to_json()))


@contextlib.contextmanager
def _base_worktree(toplevel: Path, commit: str) -> Iterator[Path]:
    """A temporary detached worktree of ``commit``, removed afterwards, also on failure."""
    scratch = Path(tempfile.mkdtemp(prefix="mlopsctl-diff-"))
    worktree = scratch / "base"
    try:
        _git(toplevel, "worktree", "add", "--detach", "--quiet", str(worktree), commit)
        yield worktree
    finally:
        removed = _git(toplevel, "worktree", "remove", "--force", str(worktree), check=False).returncode == 0
        shutil.rmtree(scratch, ignore_errors=True)
        if not removed:  # e.g. `worktree add` failed half-way: drop its administrative entry
            _git(toplevel, "worktree", "prune", check=False)


# ---------------------------------------------------------------------------------------------
# Comparing


@dataclass
class InputChange:
    path: str
    old: Any
    new: Any
    masked: bool = False

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path, "old": self.old, "new": self.new, "masked": self.masked}


@dataclass
class Change:
    op: str  # create | delete | update
    urn: str
    type: str
    name: str
    inputs: list[InputChange] = field(default_factory=list)
    options: list[InputChange] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)  # changed paths the engine will ignore (ignoreChanges)
    replace_reasons: list[str] = field(default_factory=list)  # ForceNew paths that changed
    forced_replace: list[str] = field(default_factory=list)  # replaceOnChanges paths that changed
    protect: bool = False

    @property
    def label(self) -> str:
        if self.op != "update":
            return self.op
        if self.forced_replace:
            return "replace"
        return "update (may replace)" if self.replace_reasons else "update"

    def to_json(self) -> dict[str, Any]:
        return {
            "op": self.op,
            "label": self.label,
            "urn": self.urn,
            "type": self.type,
            "name": self.name,
            "mayReplace": bool(self.replace_reasons or self.forced_replace),
            "replaceReasons": self.replace_reasons,
            "replaceOnChanges": self.forced_replace,
            "protect": self.protect,
            "inputs": [c.to_json() for c in self.inputs],
            "options": [c.to_json() for c in self.options],
            "ignoredByIgnoreChanges": self.ignored,
        }


@dataclass
class StackDiff:
    stack: str
    base: Side
    head: Side
    changes: list[Change]
    unchanged: int
    cost: dict[str, Any]
    policy: dict[str, Any]
    secret_config: dict[str, list[str]]
    table_as_of: str
    kubernetes_upgrades: list[VersionChange] = field(default_factory=list)

    def of(self, op: str) -> list[Change]:
        return [c for c in self.changes if c.op == op]

    @property
    def may_replace(self) -> list[Change]:
        return [c for c in self.changes if c.op == "update" and (c.replace_reasons or c.forced_replace)]

    def head_mandatory_violations(self) -> list[dict]:
        return [v for v in (self.head.preview.get("policy") or {}).get("violations", []) if v.get("level") == "mandatory"]

    def blocking_problems(self) -> list[str]:
        """What this diff refuses (exit 1) because only a comparison of both sides can see it."""
        return [u.problem for u in self.kubernetes_upgrades if u.problem]

    def summary(self) -> dict[str, int]:
        return {"create": len(self.of("create")), "update": len(self.of("update")), "mayReplace": len(self.may_replace),
                "delete": len(self.of("delete")), "unchanged": self.unchanged}

    def to_json(self) -> dict[str, Any]:
        return {
            "stack": self.stack,
            "base": {"label": self.base.label, "stackExists": self.base.exists},
            "head": {"label": self.head.label},
            "summary": self.summary(),
            "changes": [c.to_json() for c in self.changes],
            "cost": self.cost,
            "policy": self.policy,
            "secretConfig": self.secret_config,
            "kubernetesUpgrades": [u.to_json() for u in self.kubernetes_upgrades],
            "blocked": self.blocking_problems(),
            "notes": [GAP_NOTE],
        }


GAP_NOTE = ("Mocks run no provider diff: `update (may replace)` comes from a sourced table of replace-on-change inputs "
            "(mlopsctl/review/data/replace_on_change.json), and an update not labelled so may still be a replacement. "
            "Run `pulumi preview` with credentials for the provider's verdict.")


def load_replace_table(path: Path = REPLACE_TABLE_PATH) -> dict[str, Any]:
    return json.loads(path.read_text())


def _segment(key: str) -> str:
    return f".{key}" if _IDENTIFIER.match(key) else f"[{json.dumps(key)}]"


def _join(path: str, key: str) -> str:
    seg = _segment(key)
    return (seg[1:] if seg.startswith(".") else seg) if not path else path + seg


def _as_json_container(value: Any) -> Any:
    """A string holding a JSON object/array (provider defaultTags, IAM policies) as that container."""
    if isinstance(value, str) and value[:1] in "{[":
        try:
            parsed = json.loads(value)
        except ValueError:
            return None
        return parsed if isinstance(parsed, dict | list) else None
    return None


def diff_values(old: Any, new: Any, path: str = "", *, masked: bool = False) -> list[InputChange]:
    """Leaf-level differences between two wire-format values, secrets masked.

    A container on one side only (an added or removed block) is compared with an empty one, so
    every leaf goes through the same masking; JSON held in strings is compared inside.
    """
    if is_secret(old) or is_secret(new):
        old_plain = old.get("value") if is_secret(old) else old
        new_plain = new.get("value") if is_secret(new) else new
        return [] if old_plain == new_plain else [InputChange(path, MASK, MASK, masked=True)]
    if old == new:
        return []
    if masked:
        return [InputChange(path, MASK if old is not None else None, MASK if new is not None else None, masked=True)]
    old_value, new_value = _container_or_value(old), _container_or_value(new)
    if isinstance(old_value, dict | list) or isinstance(new_value, dict | list):
        empty = type(old_value if isinstance(old_value, dict | list) else new_value)()
        old_value = empty if old_value is None else old_value
        new_value = empty if new_value is None else new_value
    if isinstance(old_value, dict) and isinstance(new_value, dict):
        changes: list[InputChange] = []
        for key in list(old_value) + [k for k in new_value if k not in old_value]:
            sensitive = bool(_SENSITIVE_KEY.search(key))
            changes += diff_values(old_value.get(key), new_value.get(key), _join(path, key), masked=sensitive)
        return changes
    if isinstance(old_value, list) and isinstance(new_value, list):
        changes = []
        for index in range(max(len(old_value), len(new_value))):
            changes += diff_values(old_value[index] if index < len(old_value) else None,
                                   new_value[index] if index < len(new_value) else None, f"{path}[{index}]")
        return changes
    if _contains_secret(old_value) or _contains_secret(new_value):  # a container replaced by a scalar or vice versa
        return [InputChange(path, MASK if old is not None else None, MASK if new is not None else None, masked=True)]
    return [InputChange(path, _scrub(_tidy(old_value)), _scrub(_tidy(new_value)))]


def _scrub(value: Any) -> Any:
    """A whole container shown as one value (a block replaced by a scalar): credential-named keys masked."""
    if isinstance(value, dict):
        return {k: MASK if _SENSITIVE_KEY.search(k) else _scrub(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrub(v) for v in value]
    return value


def _container_or_value(value: Any) -> Any:
    container = _as_json_container(value)
    return value if container is None else container


def _tidy(value: Any) -> Any:
    """Wire numbers are protobuf doubles: show 3.0 as 3."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, list):
        return [_tidy(v) for v in value]
    if isinstance(value, dict):
        return {k: _tidy(v) for k, v in value.items()}
    return value


def _contains_secret(value: Any) -> bool:
    if is_secret(value):
        return True
    if isinstance(value, dict):
        return any(_contains_secret(v) for v in value.values())
    if isinstance(value, list):
        return any(_contains_secret(v) for v in value)
    return False


def _normalise(path: str) -> list[str]:
    """``productionVariants[0].variantName`` -> ``["productionVariants", "variantName"]``."""
    cleaned = re.sub(r"\[\d+\]", "", path)
    cleaned = re.sub(r'\["([^"]*)"\]', r".\1", cleaned)
    return [part for part in cleaned.split(".") if part]


def _covers(pattern: str, path: str) -> bool:
    """Whether an option/table path covers a changed path (same path or a parent of it)."""
    pattern_parts, path_parts = _normalise(pattern), _normalise(path)
    if pattern_parts == ["*"]:
        return True
    return path_parts[: len(pattern_parts)] == pattern_parts


def _replace_reasons(type_token: str, paths: list[str], table: dict[str, Any]) -> list[str]:
    entry = table.get("types", {}).get(type_token)
    if not entry:
        return []
    except_ = entry.get("except", [])
    reasons = []
    for path in paths:
        if any(_covers(e, path) for e in except_):
            continue
        if any(_covers(p, path) for p in entry["paths"]):
            reasons.append(path)
    return reasons


def _compare_resource(old: dict, new: dict, table: dict[str, Any]) -> Change | None:
    secret_outputs = set(new.get("additionalSecretOutputs") or []) | set(old.get("additionalSecretOutputs") or [])
    changes: list[InputChange] = []
    old_inputs, new_inputs = old.get("inputs") or {}, new.get("inputs") or {}
    for key in list(old_inputs) + [k for k in new_inputs if k not in old_inputs]:
        masked = key in secret_outputs or bool(_SENSITIVE_KEY.search(key))
        changes += diff_values(old_inputs.get(key), new_inputs.get(key), _join("", key), masked=masked)
    ignore = new.get("ignoreChanges") or []
    ignored = [c.path for c in changes if any(_covers(p, c.path) for p in ignore)]
    changes = [c for c in changes if c.path not in ignored]
    options = [InputChange(name, old.get(name), new.get(name)) for name in OPTION_FIELDS if (old.get(name) or None) != (new.get(name) or None)]
    if not changes and not options:
        return None
    paths = [c.path for c in changes]
    reasons = _replace_reasons(new["type"], paths, table)
    if any(o.path == "provider" for o in options):
        reasons.append("provider")  # the engine replaces a resource moved to another provider unless the provider says otherwise
    forced = [p for p in paths if any(_covers(r, p) for r in new.get("replaceOnChanges") or [])]
    return Change("update", new["urn"], new["type"], new["name"], changes, options, ignored, reasons, forced, bool(new.get("protect")))


def compare(stack: str, base: Side, head: Side, table: dict[str, Any] | None = None) -> StackDiff:
    table = table if table is not None else load_replace_table()
    old_by_urn = {r["urn"]: r for r in base.preview.get("resources", [])}
    new_by_urn = {r["urn"]: r for r in head.preview.get("resources", [])}
    changes: list[Change] = []
    unchanged = 0
    # Registration order varies between runs (resources register as their inputs resolve), so
    # changes are listed in URN order to keep the output stable.
    for urn, new in sorted(new_by_urn.items()):
        old = old_by_urn.get(urn)
        if old is None:
            changes.append(Change("create", urn, new["type"], new["name"], protect=bool(new.get("protect"))))
            continue
        change = _compare_resource(old, new, table)
        if change is None:
            unchanged += 1
        else:
            changes.append(change)
    for urn, old in sorted(old_by_urn.items()):
        if urn not in new_by_urn:
            changes.append(Change("delete", urn, old["type"], old["name"], protect=bool(old.get("protect"))))
    return StackDiff(
        stack=stack,
        base=base,
        head=head,
        changes=changes,
        unchanged=unchanged,
        cost=cost_delta(base.preview.get("cost") or {}, head.preview.get("cost") or {}),
        policy=policy_delta(base.preview.get("policy") or {}, head.preview.get("policy") or {}),
        secret_config=secret_config_changes(base.stack_text, head.stack_text),
        table_as_of=table.get("asOf", "?"),
        kubernetes_upgrades=version_changes(old_by_urn, new_by_urn),
    )


COST_FIGURES = ("idle", "expected", "ceiling")


def _monthly(cost: dict) -> dict | None:
    if not cost.get("evaluated"):
        return None
    monthly = cost.get("monthly")
    return monthly if isinstance(monthly, dict) and all(k in monthly for k in COST_FIGURES) else None


def _amount(value: Any) -> float | None:
    if isinstance(value, dict):  # {"amount": ..} or {"usd": ..}
        value = value.get("amount", value.get("usd"))
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def cost_delta(base: dict, head: dict) -> dict[str, Any]:
    base_monthly, head_monthly = _monthly(base), _monthly(head)
    if base_monthly is None or head_monthly is None:
        missing = [side for side, m in (("base", base_monthly), ("head", head_monthly)) if m is None]
        return {"evaluated": False, "note": f"{NOT_EVALUATED} ({_sides(missing)} no priced monthly cost)"}
    figures = {}
    for key in COST_FIGURES:
        old, new = _amount(base_monthly[key]), _amount(head_monthly[key])
        figures[key] = {"base": old, "head": new, "delta": None if old is None or new is None else round(new - old, 2)}
    return {"evaluated": True, "currency": head.get("currency", "USD"), "asOf": head.get("asOf"), "monthly": figures}


def _sides(missing: list[str]) -> str:
    return "the base and head previews have" if len(missing) == 2 else f"the {missing[0]} preview has"


def _violation_key(v: dict) -> tuple[str, str]:
    return (v.get("policy", ""), v.get("urn") or "")


def policy_delta(base: dict, head: dict) -> dict[str, Any]:
    head_violations = head.get("violations", []) if head.get("evaluated") else []
    mandatory = [v for v in head_violations if v.get("level") == "mandatory"]
    if not (base.get("evaluated") and head.get("evaluated")):
        missing = [side for side, p in (("base", base), ("head", head)) if not p.get("evaluated")]
        return {"evaluated": False, "note": f"{NOT_EVALUATED} ({_sides(missing)} no policy results)",
                "headMandatory": mandatory}
    base_keys = {_violation_key(v) for v in base.get("violations", [])}
    head_keys = {_violation_key(v) for v in head_violations}
    return {
        "evaluated": True,
        "new": [v for v in head_violations if _violation_key(v) not in base_keys],
        "fixed": [v for v in base.get("violations", []) if _violation_key(v) not in head_keys],
        "remaining": len(head_keys & base_keys),
        "headMandatory": mandatory,
    }


def _secure_values(text: str | None) -> dict[str, str]:
    """``{key path: ciphertext}`` of a stack file's ``secure:`` values (compared, never shown)."""
    if not text:
        return {}
    try:
        document = yaml.safe_load(text) or {}
    except yaml.YAMLError:
        return {}
    found: dict[str, str] = {}
    map_secure((document or {}).get("config") or {}, "", lambda path, ciphertext: found.__setitem__(path, str(ciphertext)))
    return found


def secret_config_changes(base_text: str | None, head_text: str | None) -> dict[str, list[str]]:
    old, new = _secure_values(base_text), _secure_values(head_text)
    return {
        "added": sorted(set(new) - set(old)),
        "removed": sorted(set(old) - set(new)),
        "changed": sorted(k for k in set(old) & set(new) if old[k] != new[k]),
        "placeholder": [SECRET_PLACEHOLDER],
    }


# ---------------------------------------------------------------------------------------------
# Rendering


def show(value: Any, limit: int = 120) -> str:
    if value is None:
        return "(none)"
    if value == UNKNOWN:
        return "(known after apply)"
    if value == MASK:
        return MASK
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
    text = json.dumps(text) if isinstance(value, str) else text
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _money(value: float | None) -> str:
    return "unknown" if value is None else f"${value:,.2f}"


def _signed(value: float | None) -> str:
    if value is None:
        return "unknown"
    return f"{'+' if value >= 0 else '-'}${abs(value):,.2f}"


def _short_urn(urn: str | None) -> str:
    return (urn or "(stack)").rsplit("::", 1)[-1]


def cost_lines(cost: dict) -> list[str]:
    if not cost.get("evaluated"):
        return [f"Cost: {cost.get('note', NOT_EVALUATED)}"]
    as_of = f", prices as of {cost['asOf']}" if cost.get("asOf") else ""
    lines = [f"Cost (monthly{as_of}): " + ", ".join(
        f"{key} {_money(f['base'])} -> {_money(f['head'])} ({_signed(f['delta'])})" for key, f in cost["monthly"].items())]
    return lines


def _violation_text(v: dict) -> str:
    return f"[{v.get('level')}] {v.get('policy')}: {_short_urn(v.get('urn'))}: {v.get('message', '')}"


def policy_lines(policy: dict) -> list[str]:
    if not policy.get("evaluated"):
        lines = [f"Policy: {policy.get('note', NOT_EVALUATED)}"]
    else:
        lines = [f"Policy: {len(policy['new'])} new, {len(policy['fixed'])} fixed, {policy['remaining']} unchanged violation(s)"]
        lines += [f"  new   {_violation_text(v)}" for v in policy["new"]]
        lines += [f"  fixed {_violation_text(v)}" for v in policy["fixed"]]
    if policy.get("headMandatory"):
        lines.append(f"  {len(policy['headMandatory'])} mandatory violation(s) at the head: this change cannot be deployed")
    return lines


def _secret_config_text(secrets: dict) -> str | None:
    parts = [f"{label}: {', '.join(secrets[key])}" for key, label in (("added", "added"), ("changed", "changed"), ("removed", "removed")) if secrets.get(key)]
    return "Secret config (values not shown): " + "; ".join(parts) if parts else None


def render_text(diff: StackDiff) -> str:
    s = diff.summary()
    out = [f"Offline diff of stack '{diff.stack}': {diff.base.label} -> {diff.head.label}", ""]
    if not diff.base.exists:
        out += [f"(stack '{diff.stack}' does not exist at {diff.base.label}: every resource is a create)", ""]
    symbols = {"create": "+", "delete": "-", "update": "~"}
    for change in diff.changes:
        protect = "  [protected]" if change.protect and change.op == "delete" else ""
        reasons = f": {', '.join(change.forced_replace or change.replace_reasons)}" if change.label != "update" and change.op == "update" else ""
        out.append(f"{symbols[change.op]} {change.type}  {change.name}  {change.label}{reasons}{protect}")
        for item in change.inputs:
            out.append(f"      {item.path}: {show(item.old)} -> {show(item.new)}")
        for item in change.options:
            out.append(f"      (option) {item.path}: {show(item.old)} -> {show(item.new)}")
        if change.ignored:
            out.append(f"      ignored by ignoreChanges: {', '.join(change.ignored)}")
    out += ["", f"Resources: {s['create']} to create, {s['update']} to update ({s['mayReplace']} may replace), "
            f"{s['delete']} to delete, {s['unchanged']} unchanged"]
    secret_text = _secret_config_text(diff.secret_config)
    if secret_text:
        out.append(secret_text)
    for upgrade in diff.kubernetes_upgrades:
        out.append(("BLOCKED: " if upgrade.problem else "Upgrade: ") + upgrade.explanation())
    out += ["", *cost_lines(diff.cost), *policy_lines(diff.policy), "", "Note: " + GAP_NOTE.replace("`", "")]
    return "\n".join(out) + "\n"


def marker(stack: str) -> str:
    """The hidden line CI uses to find and update this stack's sticky PR comment."""
    return f"<!-- mlopsctl-diff stack={stack} -->"


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _code(text: str) -> str:
    """Inline code for a table cell that survives backticks, pipes and HTML in values."""
    return "<code>" + html.escape(text.replace("\n", " "), quote=False).replace("|", "&#124;") + "</code>"


@dataclass
class _Section:
    title: str
    head: list[str]  # lines always shown when the section is
    items: list[str]  # one rendered block per change; dropped from the end to fit
    always: bool = False  # render the head even with no items
    kept: int = -1

    def __post_init__(self) -> None:
        self.kept = len(self.items)

    def render(self) -> str:
        if not self.items and not self.always:
            return ""
        lines = [f"#### {self.title}", "", *self.head, *self.items[: self.kept]]
        if self.kept < len(self.items):
            lines.append(_truncation_line(len(self.items) - self.kept))
        return "\n".join(lines) + "\n\n"


def _truncation_line(dropped: int) -> str:
    return f"\n_… {dropped} more not shown: truncated to fit GitHub's {GITHUB_COMMENT_LIMIT:,}-character comment limit._\n"


def _update_block(change: Change) -> str:
    title = f"{_code(change.type)} <b>{html.escape(change.name)}</b>: {change.label}"
    if change.op == "update" and change.label != "update":
        title += f" ({', '.join(_code(p) for p in (change.forced_replace or change.replace_reasons))})"
    lines = ["<details><summary>" + title + "</summary>", "", "| Path | Old | New |", "|---|---|---|"]
    for item in [*change.inputs, *[InputChange(f"(option) {o.path}", o.old, o.new) for o in change.options]][:200]:
        lines.append(f"| {_code(item.path)} | {_code(show(item.old))} | {_code(show(item.new))} |")
    if len(change.inputs) + len(change.options) > 200:
        lines.append(f"| … | {len(change.inputs) + len(change.options) - 200} more paths | |")
    if change.ignored:
        lines += ["", "Ignored by `ignoreChanges`: " + ", ".join(_code(p) for p in change.ignored)]
    lines += ["", "</details>"]
    return "\n".join(lines)


def render_markdown(diff: StackDiff, limit: int = GITHUB_COMMENT_LIMIT) -> str:
    """A PR comment: at most ``limit`` characters, the longest sections truncated first."""
    s = diff.summary()
    header = [
        marker(diff.stack),
        f"### Offline change diff: `{diff.stack}`",
        "",
        f"Base `{diff.base.label}` → head `{diff.head.label}`"
        + ("" if diff.base.exists else f" (the stack is new: it does not exist at `{diff.base.label}`)"),
        "",
        f"**{s['create']}** to create · **{s['update']}** to update (**{s['mayReplace']}** may replace) · "
        f"**{s['delete']}** to delete · {s['unchanged']} unchanged",
        "",
    ]
    for upgrade in diff.kubernetes_upgrades:
        if upgrade.problem:
            header += [f"> [!CAUTION]\n> **Blocked:** {_md_cell(upgrade.problem)}", ""]
        else:
            header += [f"> [!NOTE]\n> **Kubernetes upgrade:** {_md_cell(upgrade.explanation())}", ""]
    protected_deletes = [c for c in diff.of("delete") if c.protect]
    if protected_deletes:
        header += [f"> [!WARNING]\n> {len(protected_deletes)} protected resource(s) would be deleted; `pulumi up` will refuse until `protect` is lifted.", ""]
    secret_parts = [f"{label} " + ", ".join(f"`{k}`" for k in diff.secret_config[label]) for label in ("added", "changed", "removed")
                    if diff.secret_config.get(label)]
    if secret_parts:
        header += ["**Secret config** (`secure:` values, not shown): " + "; ".join(secret_parts), ""]
    header += _cost_markdown(diff.cost) + [""]

    policy_head, policy_items = _policy_markdown(diff.policy)
    sections = [
        _Section("Policy", policy_head, policy_items, always=True),
        _Section("Updates", [], [_update_block(c) for c in diff.of("update")]),
        _Section("Creates", ["| Type | Name |", "|---|---|"], [f"| {_code(c.type)} | {_code(c.name)} |" for c in diff.of("create")]),
        _Section("Deletes", ["| Type | Name | Protected |", "|---|---|---|"],
                 [f"| {_code(c.type)} | {_code(c.name)} | {'yes' if c.protect else ''} |" for c in diff.of("delete")]),
    ]
    footer = [f"<sub>{GAP_NOTE} Replace table as of {diff.table_as_of}. Generated by `mlopsctl diff`.</sub>", ""]
    return _fit(header, sections, footer, limit)


def _fit(header: list[str], sections: list[_Section], footer: list[str], limit: int) -> str:
    notice = (f"> [!NOTE]\n> Truncated to fit GitHub's {GITHUB_COMMENT_LIMIT:,}-character comment limit (longest sections first); "
              "the full diff is in `mlopsctl diff --format json` and the workflow's artifact.\n\n")
    fixed = "\n".join(header) + "\n" + "\n".join(footer)

    def total(with_notice: bool) -> int:
        return len(fixed) + sum(len(sec.render()) for sec in sections) + (len(notice) if with_notice else 0)

    if total(False) <= limit:
        return "\n".join(header) + "\n" + "".join(sec.render() for sec in sections) + "\n".join(footer)
    while total(True) > limit:
        candidates = [sec for sec in sections if sec.kept > 0]
        if not candidates:
            break
        longest = max(candidates, key=lambda sec: len(sec.render()))
        overflow = total(True) - limit
        average = max(1, sum(len(i) + 1 for i in longest.items[: longest.kept]) // longest.kept)
        longest.kept = max(0, longest.kept - max(1, math.ceil(overflow / average)))
    body = "\n".join(header) + "\n" + notice + "".join(sec.render() for sec in sections) + "\n".join(footer)
    if len(body) > limit:  # only the fixed parts are left and they are still too long
        cut = _truncation_line(0).strip()
        body = body[: limit - len(cut) - 1] + "\n" + cut
    return body


def _cost_markdown(cost: dict) -> list[str]:
    if not cost.get("evaluated"):
        return ["**Cost:** _" + cost.get("note", NOT_EVALUATED) + "_"]
    as_of = f", prices as of {cost['asOf']}" if cost.get("asOf") else ""
    lines = [f"**Monthly cost ({cost.get('currency', 'USD')}{as_of})**", "", "| | Base | Head | Delta |", "|---|---:|---:|---:|"]
    for key, figure in cost["monthly"].items():
        lines.append(f"| {key} | {_money(figure['base'])} | {_money(figure['head'])} | {_signed(figure['delta'])} |")
    return lines


def _policy_markdown(policy: dict) -> tuple[list[str], list[str]]:
    head: list[str] = []
    if policy.get("headMandatory"):
        head += [f"> [!CAUTION]\n> {len(policy['headMandatory'])} mandatory violation(s) at the head: this change cannot be deployed.", ""]
    if not policy.get("evaluated"):
        return head + [f"_{policy.get('note', NOT_EVALUATED)}_"], []
    if not policy["new"] and not policy["fixed"]:
        return head + [f"No new or fixed violations ({policy['remaining']} unchanged)."], []
    head += [f"{len(policy['new'])} new, {len(policy['fixed'])} fixed, {policy['remaining']} unchanged.", "",
             "| | Level | Policy | Resource | Message |", "|---|---|---|---|---|"]
    items = [f"| {state} | {v.get('level')} | {_code(str(v.get('policy')))} | {_code(_short_urn(v.get('urn')))} | {_md_cell(v.get('message', ''))} |"
             for state, group in (("new", policy["new"]), ("fixed", policy["fixed"])) for v in group]
    return head, items
