"""Physical names that both the stack and bootstrap build from ``namePrefix`` / ``--name``.

Each has one builder here: the namePrefix rule (``base.py``) is derived from their lengths,
bootstrap scopes its deploy role to them and checks them against botocore before any AWS call,
and the components create them. Standard library only.
"""

from __future__ import annotations

# Stem of the replica's access-log bucket (components/storage): the longest bucket stem, hence
# the one that bounds namePrefix (stems: artifacts, access-logs, replica, replica-logs).
REPLICA_LOG_BUCKET_STEM = "replica-logs"


def runner_project_name(name_stem: str) -> str:
    """The CodeBuild GitHub Actions runner project of a stack, e.g. ``mlops-prod-gha-runner``:
    deterministic, because the workflows' ``runs-on`` label embeds it."""
    return f"{name_stem}-gha-runner"


def state_bucket_name(name: str, account: str, region: str) -> str:
    """Bootstrap's Pulumi state bucket; account and region make the global name predictable and collision-free."""
    return f"{name}-pulumi-state-{account}-{region}"


def github_connection_name(name: str) -> str:
    """The CodeConnections connection to GitHub that bootstrap creates and the runner project uses."""
    return f"{name}-github"
