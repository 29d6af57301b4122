"""The artifact store: S3 with a customer-managed key, access logs, optional replication, grants."""

from components.storage.artifact_store import PREFIX_OUTPUT_KEYS, ArtifactStore, ArtifactStoreArgs, validate_prefix
from components.storage.buckets import ACCESS_LOG_TAG

__all__ = ["ACCESS_LOG_TAG", "PREFIX_OUTPUT_KEYS", "ArtifactStore", "ArtifactStoreArgs", "validate_prefix"]
