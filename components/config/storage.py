"""The ``storage`` section: the artifact store's lifecycle, protection and replication (components/storage)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from components import facts
from components.config.base import Model

# The artifact store's prefix layout. Grants and data capture are scoped to these.
MODELS_PREFIX = "models/"
DATA_CAPTURE_PREFIX = "data-capture/"
ARTIFACT_PREFIXES: tuple[str, ...] = (MODELS_PREFIX, "datasets/", DATA_CAPTURE_PREFIX, "pipelines/")


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
        description="Storage-class transitions by prefix, one lifecycle rule each (current objects never expire).",
    )
    access_log_expiration_days: int = Field(365, ge=1, description="Expiry of the access-log bucket's objects.")
    replication: ReplicationConfig = Field(default_factory=ReplicationConfig, description="Cross-region replication.")

    @model_validator(mode="after")
    def _safety(self):
        if self.protect and self.force_destroy:
            raise ValueError("@forceDestroy: cannot be combined with protect; protected stores are never emptied")
        if self.replication.enabled and not self.replication.region:
            raise ValueError("@replication.region: required when replication.enabled is true")
        if self.replication.region is not None and self.replication.region not in facts.known_regions():
            raise ValueError(f"@replication.region: {self.replication.region!r} is not an AWS region known to botocore")
        return self
