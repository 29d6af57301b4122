"""The AWS facts pricing needs, under either name the package is imported by."""

try:  # imported as ``policies.pricing`` by the repository's code
    from ..awsfacts import (
        EXPECTED_DISPATCHES_TAG,
        EXPECTED_NOTIFICATIONS_TAG,
        EXPECTED_STORAGE_GB_TAG,
        EXPECTED_TRAINING_RUNS_TAG,
        SAGEMAKER_VARIANT_SCALABLE_DIMENSION,
        clock,
        eks_versions,
        pipeline_definition,
        resource_types,
    )
except ImportError:  # imported as the pack's top-level ``pricing`` (policies/ is on sys.path there)
    from awsfacts import (  # type: ignore[no-redef]
        EXPECTED_DISPATCHES_TAG,
        EXPECTED_NOTIFICATIONS_TAG,
        EXPECTED_STORAGE_GB_TAG,
        EXPECTED_TRAINING_RUNS_TAG,
        SAGEMAKER_VARIANT_SCALABLE_DIMENSION,
        clock,
        eks_versions,
        pipeline_definition,
        resource_types,
    )

__all__ = ["EXPECTED_DISPATCHES_TAG", "EXPECTED_NOTIFICATIONS_TAG", "EXPECTED_STORAGE_GB_TAG", "EXPECTED_TRAINING_RUNS_TAG", "SAGEMAKER_VARIANT_SCALABLE_DIMENSION", "clock", "eks_versions", "pipeline_definition", "resource_types"]
