"""Offline preview: run the real program for one stack under the mock runtime and report it."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from components.config import CONFIG_KEY, PROJECT, REGION_KEY, PlatformConfig, parse_platform_config
from components.incluster.config import PROJECT as INCLUSTER_PROJECT
from mlopsctl.markdown import inline_text
from mlopsctl.offline.harness import ACCOUNT_ID, STACK_REFERENCE, Recording, run_program
from mlopsctl.offline.stackfile import INCLUSTER_STACKS_DIR, SECRET_PLACEHOLDER, STACKS_DIR, StackFile, load_stack_file
from mlopsctl.offline.wire import is_secret, unwrap_secrets

NOT_EVALUATED = "not evaluated"  # the diff's notes too: "not evaluated (<why>)"


@dataclass
class LayerPreview:
    """One Pulumi project's part of a stack's preview: layer 1 (AWS) or layer 2 (in-cluster)."""

    project: str
    stack_file: StackFile
    recording: Recording

    def to_json(self) -> dict[str, Any]:
        return {
            "project": self.project,
            "stackFile": self.stack_file.display_path,
            "resources": len(self.recording.resources),
            "stackReferences": [r["name"] for r in self.recording.reads if r["type"] == STACK_REFERENCE],
            "outputs": self.recording.stack_outputs,
        }


@dataclass
class PreviewResult:
    stack_file: StackFile
    config: PlatformConfig
    recording: Recording  # both layers' registrations (URNs name their project); layer 1's outputs
    layers: list[LayerPreview] = field(default_factory=list)
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
                "placeholder": SECRET_PLACEHOLDER,
                "keys": [p for layer in self.layers for p in layer.stack_file.secret_paths],
            },
            "layers": [layer.to_json() for layer in self.layers],
            # Registration order follows output resolution, which varies between runs; URN order does not.
            "resources": [r.to_json() for r in sorted(self.recording.resources, key=lambda r: r.urn)],
            "outputs": self.recording.stack_outputs,
            "policy": self.policy,
            "cost": self.cost,
        }


def load_config(stack_file: StackFile) -> PlatformConfig:
    """Validate a stack's config exactly as the program will (raises ConfigError)."""
    return parse_platform_config(stack_file.config.get(CONFIG_KEY), stack_file.config.get(REGION_KEY), stack_file.display_path,
                                 secret_paths=stack_file.secret_paths)


def run_stack(stack_file: StackFile, *, unknowns: bool = False, account_id: str = ACCOUNT_ID,
              config: PlatformConfig | None = None) -> Recording:
    """Layer 1 under the mocks, as the stack's own account (the provider allows no other).

    With ``config`` (``load_config(stack_file)``, already validated) the program builds from it
    instead of parsing the stack's config once more through the runtime, as ``pulumi up``'s
    ``main`` does; the registrations are the same.
    """
    from components.program import build, main

    return _run_layer(main if config is None else lambda: build(config), stack_file, PROJECT, unknowns=unknowns, account_id=account_id)


def _run_layer(program, stack_file: StackFile, project: str, **options: Any) -> Recording:
    """One layer's program under the mocks, with its stack file's config and secret keys."""
    return run_program(program, stack=stack_file.stack, project=project, config=stack_file.runtime_config(),
                       secret_keys=stack_file.secret_keys(), **options)


def stack_reference_state(outputs: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """A stack's recorded (wire-format) outputs as a StackReference reads them: values and secret names."""
    secret_names = [k for k, v in outputs.items() if is_secret(v)]
    return {k: unwrap_secrets(v) for k, v in outputs.items()}, secret_names


def run_incluster(stack_file: StackFile, layer1_outputs: dict[str, Any], *, unknowns: bool = False, account_id: str = ACCOUNT_ID) -> Recording:
    """Layer 2 under the mocks; its StackReference reads ``layer1_outputs`` (layer 1's recorded outputs)."""
    from components.incluster.config import PLATFORM_STACK_KEY, parse_incluster_config
    from components.incluster.program import build

    config = parse_incluster_config(stack_file.config.get(PLATFORM_STACK_KEY), stack_file.stack, stack_file.display_path)
    return _run_layer(
        lambda: build(config), stack_file, INCLUSTER_PROJECT, unknowns=unknowns, account_id=account_id,
        stack_references={config.platform_stack: stack_reference_state(layer1_outputs)},
    )


def preview_stack(
    stack: str,
    *,
    stacks_dir: Path = STACKS_DIR,
    incluster_stacks_dir: Path = INCLUSTER_STACKS_DIR,
    unknowns: bool = False,
    policy: bool = False,
) -> PreviewResult:
    """Both layers of ``stack``; with ``policy``, the policy pack over gRPC on each layer, as the engine would."""
    stack_file = load_stack_file(stack, stacks_dir)
    config = load_config(stack_file)
    incluster_file = load_stack_file(stack, incluster_stacks_dir, project=INCLUSTER_PROJECT)
    pack = None
    if policy:
        from mlopsctl.offline.policycheck.process import PolicyPackProcess

        pack = PolicyPackProcess().launch()  # starts while the program runs
    try:
        platform = run_stack(stack_file, unknowns=unknowns, account_id=config.account_id, config=config)
        # Layer 2 previews after layer 1 is deployed, so it reads known outputs even on a first preview.
        deployed = run_stack(stack_file, account_id=config.account_id, config=config) if unknowns else platform
        incluster = run_incluster(incluster_file, deployed.stack_outputs, unknowns=unknowns, account_id=config.account_id)
        layers = [LayerPreview(PROJECT, stack_file, platform), LayerPreview(INCLUSTER_PROJECT, incluster_file, incluster)]
        combined = Recording(
            stack=stack,
            project=PROJECT,
            resources=[*platform.resources, *incluster.resources],
            stack_outputs=platform.stack_outputs,
            invokes=[*platform.invokes, *incluster.invokes],
            reads=[*platform.reads, *incluster.reads],
        )
        result = PreviewResult(stack_file=stack_file, config=config, recording=combined, layers=layers)
        from mlopsctl.offline.cost_report import cost_section

        result.cost = cost_section(combined, config.environment, default_region=config.region)
        if pack is not None:
            from mlopsctl.offline.policycheck.config import config_path

            pack.configure(config_path(config.environment))
            reports = []
            for layer in layers:
                pack.configure_stack(stack, layer.project, layer.stack_file.runtime_config(), layer.stack_file.secret_keys())
                reports.append(pack.analyze(layer.recording).to_json())
            violations = sorted((v for report in reports for v in report["violations"]), key=lambda v: (v.get("urn") or "", v["policy"], v["message"]))
            result.policy = {**reports[0], "violations": violations,
                             "remediations": [r for report in reports for r in report["remediations"]]}
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


def _layer_trees(result: PreviewResult) -> list[str]:
    out: list[str] = []
    for layer in result.layers:
        refs = [r["name"] for r in layer.recording.reads if r["type"] == STACK_REFERENCE]
        reads = f"; reads {', '.join(refs)}" if refs else ""
        out += [f"[{layer.project}] {layer.stack_file.display_path}: {len(layer.recording.resources)} resources{reads}"]
        out += ["  " + line for line in _tree_lines(layer.recording)] + [""]
    return out


def render_text(result: PreviewResult) -> str:
    rec = result.recording
    out = [f"Offline preview of stack '{result.stack}' ({result.stack_file.display_path}, region {result.config.region})", ""]
    out += _layer_trees(result)
    out += [f"Resources: {len(rec.resources)} to create"]
    out += [f"  {count:4d}  {type_}" for type_, count in type_counts(rec)]
    secrets = result.to_json()["secrets"]["keys"]
    if secrets:
        out += ["", "Secrets not decrypted offline (placeholder used): " + ", ".join(secrets)]
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
    out += ["", "<details><summary>Resource tree</summary>", "", "```", *_layer_trees(result), "```", "", "</details>", ""]
    out += ["#### Policy", ""]
    policy = result.policy
    if not policy.get("evaluated"):
        out.append(f"_{policy.get('note', NOT_EVALUATED)}_")
    elif not policy.get("violations"):
        out.append("No violations.")
    else:
        out += ["| Level | Policy | Resource | Message |", "|---|---|---|---|"]
        for v in policy["violations"]:
            out.append(f"| {v['level']} | `{v['policy']}` | `{(v.get('urn') or '(stack)').rsplit('::', 1)[-1]}` | {inline_text(v['message'])} |")
    if result.cost.get("evaluated"):
        from mlopsctl.offline.cost_report import render_markdown as cost_markdown

        out += ["", cost_markdown(result.cost, result.stack).rstrip("\n")]
    else:
        out += ["", "#### Cost", "", f"_{result.cost.get('note', NOT_EVALUATED)}_"]
    return "\n".join(out) + "\n"
