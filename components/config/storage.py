"""The ``storage`` section: the artifact store's lifecycle, protection and replication (components/storage)."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, field_validator, model_validator

from components import facts
from components.config.base import Model

# The artifact store's prefix layout. Grants and data capture are scoped to these.
MODELS_PREFIX = "models/"
DATASETS_PREFIX = "datasets/"
DATA_CAPTURE_PREFIX = "data-capture/"
PIPELINES_PREFIX = "pipelines/"
# Spot training's checkpoints (transient: expire after storage.checkpointExpirationDays) and the
# experiment tracker's artifacts (kept unless storage.experimentArtifactExpirationDays says otherwise).
CHECKPOINTS_PREFIX = "checkpoints/"
EXPERIMENTS_PREFIX = "experiments/"
ARTIFACT_PREFIXES: tuple[str, ...] = (MODELS_PREFIX, DATASETS_PREFIX, DATA_CAPTURE_PREFIX, PIPELINES_PREFIX, CHECKPOINTS_PREFIX, EXPERIMENTS_PREFIX)

# A prefix of the layout or a sub-prefix of one: path segments of S3's safe key characters, each
# ending in '/', no wildcards, no '.' or '..' segments.
_SAFE_PREFIX = re.compile(r"^[a-z0-9][a-z0-9-]*/([A-Za-z0-9!_.'()-]+/)*$")


def prefix_problem(prefix: object, under: tuple[str, ...] = ARTIFACT_PREFIXES) -> str | None:
    """Why ``prefix`` is not ``under``'s prefixes or a sub-prefix of one (None: it is)."""
    allowed = ", ".join(under)
    if not isinstance(prefix, str) or not prefix:
        return f"a prefix of the artifact store layout is needed ({allowed})"
    if not any(prefix.startswith(p) for p in under) or not _SAFE_PREFIX.match(prefix) or "/../" in f"/{prefix}" or "/./" in f"/{prefix}":
        choice = f"one of {allowed} or a sub-prefix of one" if len(under) > 1 else f"{allowed} or a sub-prefix of it"
        return f"prefix {prefix!r} is outside the artifact store layout; use {choice} ending in '/' (e.g. '{under[0]}churn/'), without wildcards"
    return None


class StorageTransitionConfig(Model):
    prefix: str = Field(description=f"One of the artifact prefixes: {', '.join(ARTIFACT_PREFIXES)}.")
    days: int = Field(ge=0, description="Age in days before the move.")
    storage_class: Literal["STANDARD_IA", "INTELLIGENT_TIERING", "GLACIER_IR", "GLACIER", "DEEP_ARCHIVE"] = Field(
        description="Target storage class."
    )

    @field_validator("prefix")
    @classmethod
    def _known_prefix(cls, prefix: str) -> str:
        if prefix not in ARTIFACT_PREFIXES:
            raise ValueError(f"{prefix!r} is not an artifact prefix; allowed: {', '.join(ARTIFACT_PREFIXES)}")
        return prefix

    # S3 rejects lifecycle transitions to STANDARD_IA earlier than 30 days
    # (S3 User Guide, "Transitioning objects using Amazon S3 Lifecycle": minimum storage duration).
    @model_validator(mode="after")
    def _minimum_age(self):
        if self.storage_class == "STANDARD_IA" and self.days < 30:
            raise ValueError(f"@days: S3 transitions to STANDARD_IA need at least 30 days, got {self.days}")
        return self


class ReplicationConfig(Model):
    enabled: bool = Field(False, description="Cross-region replication of the artifact bucket.")
    region: str | None = Field(None, description="Replica region (must differ from aws:region).")


class StorageConfig(Model):
    protect: bool = Field(False, description="Pulumi protect and retainOnDelete on buckets and keys: `pulumi destroy` refuses, and removing them from the program leaves them in AWS.")
    force_destroy: bool = Field(False, description="Allow `pulumi destroy` to empty buckets (dev teardown only; never with protect).")
    kms_deletion_window_days: int = Field(30, ge=7, le=30, description="KMS key deletion window.")
    noncurrent_version_expiration_days: int = Field(90, ge=1, description="Expire noncurrent object versions after this many days.")
    abort_incomplete_multipart_days: int = Field(7, ge=1, description="Abort incomplete multipart uploads after this many days.")
    transitions: list[StorageTransitionConfig] = Field(
        default_factory=lambda: [StorageTransitionConfig(prefix=DATA_CAPTURE_PREFIX, days=30, storage_class="STANDARD_IA")],
        description="Storage-class transitions by prefix, one lifecycle rule each; under a prefix that expires (checkpointExpirationDays, experimentArtifactExpirationDays) each must come before the expiry.",
    )
    access_log_expiration_days: int = Field(365, ge=1, description="Expiry of the access-log bucket's objects.")
    checkpoint_expiration_days: int = Field(
        14,
        ge=1,
        description=(
            "Objects under checkpoints/ expire this many days after their upload, and their overwritten versions a day after they "
            "become noncurrent: a spot training job needs its checkpoints only until it ends, and rewrites them throughout."
        ),
    )
    experiment_artifact_expiration_days: int | None = Field(
        None,
        ge=1,
        description="Objects under experiments/ (the experiment tracker's artifacts) expire this many days after their upload; unset: kept, like every other prefix.",
    )
    replication: ReplicationConfig = Field(default_factory=ReplicationConfig, description="Cross-region replication.")

    @property
    def prefix_expirations(self) -> dict[str, int]:
        """Days after which current objects under a prefix expire; prefixes not listed never expire."""
        expirations = {CHECKPOINTS_PREFIX: self.checkpoint_expiration_days}
        if self.experiment_artifact_expiration_days is not None:
            expirations[EXPERIMENTS_PREFIX] = self.experiment_artifact_expiration_days
        return expirations

    @model_validator(mode="after")
    def _transitions_before_expiry(self):
        # A transition at or after the prefix's expiry never happens (S3 expires first), and S3
        # bills Standard-IA and Glacier classes for a minimum duration after the move.
        keys = {CHECKPOINTS_PREFIX: "checkpointExpirationDays", EXPERIMENTS_PREFIX: "experimentArtifactExpirationDays"}
        for index, transition in enumerate(self.transitions):
            expiry = self.prefix_expirations.get(transition.prefix)
            if expiry is not None and transition.days >= expiry:
                raise ValueError(
                    f"@transitions.{index}.days: objects under {transition.prefix} expire after {expiry} days ({keys[transition.prefix]}); "
                    f"a transition must come earlier, got {transition.days}"
                )
        return self

    @model_validator(mode="after")
    def _safety(self):
        if self.protect and self.force_destroy:
            raise ValueError("@forceDestroy: cannot be combined with protect; protected stores are never emptied")
        if self.replication.enabled and not self.replication.region:
            raise ValueError("@replication.region: required when replication.enabled is true")
        if self.replication.region is not None and self.replication.region not in facts.known_regions():
            raise ValueError(f"@replication.region: {self.replication.region!r} is not an AWS region known to botocore")
        return self
