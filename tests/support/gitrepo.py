"""Copies of this project as throwaway git repositories, for the diff's end-to-end tests."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from tests.support.stacks import ROOT


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True).stdout


def copy_project(destination: Path) -> None:
    """The project's files as git sees them (tracked and new, not ignored): no .venv, no caches."""
    listed = git(ROOT, "ls-files", "--cached", "--others", "--exclude-standard", "-z").split("\0")
    for relative in filter(None, listed):
        source = ROOT / relative
        if source.is_file():
            target = destination / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)


def init_repo(repo: Path, message: str) -> None:
    """``git init`` with a local identity, everything committed."""
    git(repo, "init", "--quiet", "--initial-branch=main")
    for key, value in (("user.name", "diff test"), ("user.email", "diff@example.invalid"), ("commit.gpgsign", "false")):
        git(repo, "config", key, value)
    git(repo, "add", "-A")
    git(repo, "commit", "--quiet", "-m", message)
