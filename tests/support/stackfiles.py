"""Stack files written for a test, and ``mlopsctl preview`` refusing them before the program runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.stacks import ROOT


def real_stack_text(stack: str = "dev", layer: str = "stacks") -> str:
    return (ROOT / layer / f"Pulumi.{stack}.yaml").read_text()


def edited(text: str, old: str, new: str) -> str:
    """``text`` with its one occurrence of ``old`` replaced (a test whose edit misses fails here)."""
    assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times"
    return text.replace(old, new)


def line_of(text: str, needle: str, occurrence: int = 1) -> int:
    """1-based line of the ``occurrence``-th line containing ``needle``."""
    hits = [number for number, line in enumerate(text.splitlines(), start=1) if needle in line]
    return hits[occurrence - 1]


class Refusal:
    """``mlopsctl preview`` run in this process against stack files under a temporary working
    directory, passed as ``--stacks-dir stacks`` (relative, as a user types it), with the harness
    replaced by a tripwire: a refusal must come before any program starts."""

    def __init__(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):
        from mlopsctl.offline import preview

        self.root, self.monkeypatch, self.capsys = tmp_path, monkeypatch, capsys
        (tmp_path / "stacks").mkdir()
        monkeypatch.chdir(tmp_path)

        def program_must_not_run(*args, **kwargs):
            raise AssertionError("the program ran: the refusal must come before anything is registered")

        monkeypatch.setattr(preview, "run_program", program_must_not_run)

    def write(self, text: str | bytes, stack: str = "dev", layer: str = "stacks") -> Path:
        path = self.root / layer / f"Pulumi.{stack}.yaml"
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text)
        return path

    def incluster(self, text: str, stack: str = "dev") -> None:
        """Layer 2's stack file for this run (the CLI has no flag for its folder; preview_stack's default is redirected)."""
        from mlopsctl.offline import preview

        self.write(text, stack, layer="incluster")
        self.monkeypatch.setitem(preview.preview_stack.__kwdefaults__, "incluster_stacks_dir", self.root / "incluster")

    def stderr(self, *args: str, stack: str = "dev") -> str:
        """stderr of ``mlopsctl preview --stack <stack> --stacks-dir stacks <args>``, which must exit 2 with nothing on stdout and no traceback."""
        from mlopsctl import cli

        code = cli.main(["preview", "--stack", stack, "--stacks-dir", "stacks", *args])
        out, err = self.capsys.readouterr()
        assert (code, out) == (2, ""), err
        assert "Traceback" not in err
        return err

    def lines(self, *args: str, stack: str = "dev") -> list[str]:
        """The refusal's lines: the first prefixed ``error: `` by the CLI, each ``<file>: <key>: <what is allowed>``."""
        lines = self.stderr(*args, stack=stack).splitlines()
        assert lines[0].startswith("error: ")
        return [lines[0].removeprefix("error: "), *lines[1:]]
