"""Offline preview: run the real program for one stack under the mock runtime and report it."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from components.config import CONFIG_KEY, REGION_KEY, PlatformConfig, parse_platform_config
from mlopsctl.harness import Recording, run_program
from mlopsctl.stackfile import STACKS_DIR, StackFile, load_stack_file

NOT_EVALUATED = "not yet evaluated"


@dataclass
class PreviewResult:
    stack_file: StackFile
    config: PlatformConfig
    recording: Recording
    policy: dict[str, Any] = field(default_factory=lambda: {"evaluated": False, "note": NOT_EVALUATED, "violations": []})
    cost: dict[str, Any] = field(default_factory=lambda: {"evaluated": False, "note": NOT_EVALUATED})

    @property
    def stack(self) -> str:
        return self.stack_file.stack

    def mandatory_violations(self) -> list[dict]:
        return [v for v in self.policy.get("violations", []) if v.get("level") == "mandatory"]

    def to_json(self) -> dict[str, Any]:
        return {
            "stack": self.stack,
            "stackFile": self.stack_file.display_path,
            "secrets": {
                "placeholder": "[secret: not decrypted offline]",
                "keys": self.stack_file.secret_paths,
            },
            "resources": [r.to_json() for r in self.recording.resources],
            "outputs": self.recording.stack_outputs,
            "policy": self.policy,
            "cost": self.cost,
        }


def load_config(stack_file: StackFile) -> PlatformConfig:
    """Validate a stack's config exactly as the program will (raises ConfigError)."""
    return parse_platform_config(stack_file.config.get(CONFIG_KEY), stack_file.config.get(REGION_KEY), stack_file.display_path)


def run_stack(stack_file: StackFile, *, unknowns: bool = False) -> Recording:
    from components.program import main

    return run_program(
        main,
        stack=stack_file.stack,
        project="mlops-platform",
        config=stack_file.runtime_config(),
        secret_keys=stack_file.secret_keys(),
        unknowns=unknowns,
    )


def preview_stack(stack: str, *, stacks_dir: Path = STACKS_DIR, unknowns: bool = False, policy: bool = False) -> PreviewResult:
    """Run the stack's program; with ``policy``, also run the policy pack over gRPC (issue 6)."""
    stack_file = load_stack_file(stack, stacks_dir)
    config = load_config(stack_file)
    pack = None
    if policy:
        from mlopsctl.policycheck import PolicyPackProcess

        pack = PolicyPackProcess().launch()  # starts while the program runs
    try:
        recording = run_stack(stack_file, unknowns=unknowns)
        result = PreviewResult(stack_file=stack_file, config=config, recording=recording)
        # --- cost model (issue 8): priced by policies/pricing, the code the policy pack runs ---
        from mlopsctl.cost import cost_section

        result.cost = cost_section(recording, config.environment, default_region=config.region)
        # --- end cost model ---
        if pack is not None:
            from mlopsctl.policycheck import config_path

            pack.configure(config_path(config.environment))
            pack.configure_stack(stack_file.stack, recording.project, stack_file.runtime_config(), stack_file.secret_keys())
            result.policy = pack.analyze(recording).to_json()
        return result
    finally:
        if pack is not None:
            pack.close()


# ---------------------------------------------------------------------------------------------
# Rendering


def _tree_lines(recording: Recording) -> list[str]:
    children: dict[str | None, list] = {}
    urns = {r.urn for r in recording.resources}
    for resource in recording.resources:
        parent = resource.parent if resource.parent in urns else None
        children.setdefault(parent, []).append(resource)
    lines: list[str] = []

    def walk(parent: str | None, depth: int) -> None:
        for resource in children.get(parent, []):
            flags = [flag for flag, on in (("protect", resource.protect), ("retain", resource.retainOnDelete)) if on]
            suffix = f"  [{', '.join(flags)}]" if flags else ""
            lines.append(f"{'  ' * depth}+ {resource.type}  {resource.name}{suffix}")
            walk(resource.urn, depth + 1)

    walk(None, 0)
    return lines


def type_counts(recording: Recording) -> list[tuple[str, int]]:
    return sorted(Counter(r.type for r in recording.resources).items())


def render_text(result: PreviewResult) -> str:
    rec = result.recording
    out = [f"Offline preview of stack '{result.stack}' ({result.stack_file.display_path}, region {result.config.region})", ""]
    out += _tree_lines(rec)
    out += ["", f"Resources: {len(rec.resources)} to create"]
    out += [f"  {count:4d}  {type_}" for type_, count in type_counts(rec)]
    if result.stack_file.secret_paths:
        out += ["", "Secrets not decrypted offline (placeholder used): " + ", ".join(result.stack_file.secret_paths)]
    out += ["", _policy_text(result.policy), _cost_text(result.cost)]
    return "\n".join(out) + "\n"


def _policy_text(policy: dict) -> str:
    if not policy.get("evaluated"):
        return f"Policy: {policy.get('note', NOT_EVALUATED)}"
    violations = policy.get("violations", [])
    if not violations:
        return "Policy: no violations"
    pack = policy.get("pack") or {}
    lines = [f"Policy: {len(violations)} violation(s) from pack {pack.get('name', '?')} ({pack.get('policies', '?')} policies)"]
    rows = [(v["level"], v["policy"], (v.get("urn") or "(stack)").rsplit("::", 1)[-1], v["message"].splitlines()[-1]) for v in violations]
    widths = [max(len(r[i]) for r in rows + [("LEVEL", "POLICY", "RESOURCE", "")]) for i in range(3)]
    lines.append("  " + "  ".join(h.ljust(w) for h, w in zip(("LEVEL", "POLICY", "RESOURCE"), widths, strict=True)) + "  MESSAGE")
    lines += ["  " + "  ".join(c.ljust(w) for c, w in zip(r[:3], widths, strict=True)) + "  " + r[3] for r in rows]
    return "\n".join(lines)


def _cost_text(cost: dict) -> str:
    if not cost.get("evaluated"):
        return f"Cost: {cost.get('note', NOT_EVALUATED)}"
    return "Cost: " + cost.get("summary", "")


def render_markdown(result: PreviewResult) -> str:
    rec = result.recording
    out = [f"### Offline preview: `{result.stack}`", ""]
    out += [f"**{len(rec.resources)}** resources to create in `{result.config.region}`.", ""]
    out += ["| Type | Count |", "|---|---:|"]
    out += [f"| `{type_}` | {count} |" for type_, count in type_counts(rec)]
    if result.stack_file.secret_paths:
        out += ["", "Secrets not decrypted offline: " + ", ".join(f"`{p}`" for p in result.stack_file.secret_paths)]
    out += ["", "<details><summary>Resource tree</summary>", "", "```", *_tree_lines(rec), "```", "", "</details>", ""]
    out += ["#### Policy", ""]
    policy = result.policy
    if not policy.get("evaluated"):
        out.append(f"_{policy.get('note', NOT_EVALUATED)}_")
    elif not policy.get("violations"):
        out.append("No violations.")
    else:
        out += ["| Level | Policy | Resource | Message |", "|---|---|---|---|"]
        for v in policy["violations"]:
            message = v["message"].replace("\n", " ").replace("|", "\\|")
            out.append(f"| {v['level']} | `{v['policy']}` | `{(v.get('urn') or '(stack)').rsplit('::', 1)[-1]}` | {message} |")
    if result.cost.get("evaluated"):
        from mlopsctl.cost import render_markdown as cost_markdown

        out += ["", cost_markdown(result.cost, result.stack).rstrip("\n")]
    else:
        out += ["", "#### Cost", "", f"_{result.cost.get('note', NOT_EVALUATED)}_"]
    return "\n".join(out) + "\n"
