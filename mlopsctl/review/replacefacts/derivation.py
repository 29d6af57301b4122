"""One type's replace facts derived from its upstream Go files, in the table's terms (Pulumi input paths).

The schema reader gives Terraform paths (``vpc_config.subnet_ids``); this module maps them to the
installed SDK's wire names (``vpcConfig.subnetIds``: camelCase, list blocks pluralised, renames
from the table), adds the rules no resource file states, and lists what it could not read:

- ``region``: terraform-provider-aws v6 gives every regional resource a ``region`` argument that
  is not in the resource files and forces replacement; a type is regional when its SDK has a
  ``region`` input;
- ``"*"``: when every top-level input except tags forces replacement (or the Update function only
  changes tags), the type is ``["*"]`` with ``except`` = its tag inputs;
- unverified inputs: inputs of the installed SDK that the files read do not have (a newer
  upstream version added them; their behaviour is unknown).
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from mlopsctl.review.replacefacts.goschema import TAG_ATTRIBUTES, GoSyntaxError, Hint, Schema, SchemaNotFound, read_schema
from mlopsctl.review.replacefacts.table import UpstreamSource

REGION = "region"


class SourceError(ValueError):
    """The mirror, commit or directory given cannot be read at all (one line)."""


class FilesDirectory:
    """Upstream files saved under a directory laid out like the repository (``DIR/internal/service/...``)."""

    def __init__(self, root: Path) -> None:
        if not root.is_dir():
            raise SourceError(f"--files-dir: {root} is not a directory; allowed: a directory laid out like the repository")
        self.root = root
        self.label = str(root)

    def read(self, path: str) -> str | None:
        file = self.root / path
        return file.read_text(encoding="utf-8") if file.is_file() else None


class GitMirror:
    """Upstream files at one commit of a (bare) git mirror, read one by one with ``git show``."""

    def __init__(self, git_dir: Path, commit: str) -> None:
        self.git_dir, self.commit = git_dir, commit
        if not git_dir.is_dir():
            raise SourceError(f"--mirror: {git_dir} is not a directory; allowed: a git directory of the upstream repository")
        probe = self._git("rev-parse", "--verify", "--quiet", f"{commit}^{{commit}}")
        if probe.returncode != 0:
            raise SourceError(f"--commit: {commit} is not a commit of {git_dir}; allowed: a commit the mirror holds")
        self.commit = probe.stdout.strip()
        self.label = f"{git_dir} at {self.commit}"

    def _git(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["git", "--git-dir", str(self.git_dir), *args], capture_output=True, text=True, check=False)

    def read(self, path: str) -> str | None:
        shown = self._git("show", f"{self.commit}:{path}")
        return shown.stdout if shown.returncode == 0 else None


@dataclass
class Derived:
    """What the upstream files say about one type, in the table's terms, and what could not be read."""

    token: str
    files: tuple[str, ...]
    kind: str = ""
    replace_paths: list[str] = field(default_factory=list)  # explicit paths, region included
    every_input: bool = False  # the "*" rule holds
    except_paths: list[str] = field(default_factory=list)  # the tag inputs "*" leaves out
    unverified: list[str] = field(default_factory=list)
    hints: list[tuple[Hint, str | None]] = field(default_factory=list)  # with the hint's Pulumi path
    problems: list[str] = field(default_factory=list)  # parts the derivation could not read or name


def pulumi_path(tf_path: str, renames: dict[str, str], inputs: frozenset[str]) -> str | None:
    """The SDK input a dotted Terraform path is (``filter_group.filter`` -> ``filterGroups.filters``), or None."""
    chosen: list[str] = []
    for i, segment in enumerate(tf_path.split(".")):
        words = segment.split("_")
        base = (renames.get(segment) if i == 0 else None) or words[0] + "".join(w[:1].upper() + w[1:] for w in words[1:])
        candidates = [base, base + "s", base + "es", *([base[:-1] + "ies"] if base.endswith("y") else [])]
        prefix = ".".join(chosen)
        found = next((c for c in candidates if (f"{prefix}.{c}" if prefix else c) in inputs), None)
        if found is None:
            return None
        chosen.append(found)
    return ".".join(chosen)


def derive(source: UpstreamSource, texts: list[str], inputs: frozenset[str]) -> Derived:
    """The facts of ``source.token`` from the text of its files (in ``source.files`` order)."""
    derived = Derived(source.token, source.files)
    assert source.tf_resource is not None
    try:
        schema = read_schema("\n".join(texts), source.tf_resource)
    except (SchemaNotFound, GoSyntaxError) as error:
        derived.problems.append(f"schema not read: {error}")
        return derived
    derived.kind = schema.kind
    names = _names(schema, source.renames, inputs, derived.problems)
    derived.replace_paths = sorted({names[p] for p in schema.replacing if names.get(p)} | ({REGION} & inputs))
    if schema.every_input_replaces:
        derived.every_input = True
        derived.except_paths = sorted(names[p] for p in TAG_ATTRIBUTES if names.get(p) and schema.attributes[p].is_input)
    derived.unverified = _not_in_files(schema, names, inputs)
    for hint in schema.hints:
        derived.hints.append((hint, pulumi_path(hint.path, source.renames, inputs) if hint.path else None))
    derived.problems += [f"not read (built outside the files read): {part}" for part in schema.unread]
    derived.problems += [f"attribute key not resolved: {key}" for key in sorted(set(schema.unresolved_keys))]
    return derived


def _names(schema: Schema, renames: dict[str, str], inputs: frozenset[str], problems: list[str]) -> dict[str, str | None]:
    """Each schema attribute's SDK input; a replacing input the SDK does not have is a problem."""
    names: dict[str, str | None] = {}
    for path, attribute in schema.attributes.items():
        names[path] = pulumi_path(path, renames, inputs) if attribute.is_input is not False else None
        if names[path] is None and attribute.forces_replacement:
            problems.append(f"forces replacement upstream but is no input of the installed SDK: {path}")
    return names


def _not_in_files(schema: Schema, names: dict[str, str | None], inputs: frozenset[str]) -> list[str]:
    """SDK inputs the files read do not have (region aside: no resource file states it).

    The SDK expands some Terraform leaves into typed inputs (policy documents, timeouts): an
    input under a leaf the files do have is not missing.
    """
    known = {n for p, n in names.items() if n and schema.attributes[p].is_input is not False}
    parents = {k.rpartition(".")[0] for k in known if "." in k}
    leaves = known - parents

    def under_a_leaf(path: str) -> bool:
        parts = path.split(".")
        return any(".".join(parts[:i]) in leaves for i in range(1, len(parts)))

    return sorted(p for p in inputs if p not in known and p != REGION and not under_a_leaf(p))
