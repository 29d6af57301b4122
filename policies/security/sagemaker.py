"""SageMaker policies: encrypted endpoint storage, data capture, model network isolation, hardened notebooks."""

from __future__ import annotations

from awsfacts.instances import has_instance_storage
from packlib import (
    MISSING,
    SAGEMAKER_ENDPOINT_CONFIG,
    SAGEMAKER_MODEL,
    SAGEMAKER_NOTEBOOK,
    PolicyList,
    Severity,
    checkov,
    each,
    endpoint_variants,
    is_set,
    is_true,
    lookup,
    of_types,
    resource_label,
)

POLICIES = PolicyList()


def is_serverless_variant(variant) -> bool:
    return is_set(variant, "serverlessConfig") and not is_set(variant, "instanceType")


@POLICIES.resource(
    "sagemaker-endpoint-kms",
    "SageMaker endpoint configurations encrypt ML storage volumes with a customer-managed KMS key.",
    types=(SAGEMAKER_ENDPOINT_CONFIG,), category="security", severity=Severity.HIGH,
    remediation="Set kms_key_arn on the EndpointConfiguration (serverless-only configurations are exempt).",
    frameworks=[checkov("CKV_AWS_98", "Ensure all data stored in the Sagemaker Endpoint is securely encrypted at rest")],
)
def _check_sagemaker_endpoint_kms(args, report, cfg) -> None:
    found = endpoint_variants(args.props)
    if found and all(is_serverless_variant(v) for v in found):
        return  # KmsKeyId encrypts the ML instance's storage volume; serverless has none
    types = [t for t in (lookup(v, "instanceType") for v in found) if isinstance(t, str)]
    if types and any(has_instance_storage(t) for t in types):
        return  # local NVMe volumes, encrypted by the instance's hardware; KmsKeyId not accepted
    if not is_set(args.props, "kmsKeyArn"):
        report("kmsKeyArn is unset: the endpoint's ML storage volumes are not encrypted with a customer-managed key.")


@POLICIES.resource(
    "sagemaker-data-capture",
    "SageMaker endpoint configurations capture requests and responses (KMS-encrypted) outside dev.",
    types=(SAGEMAKER_ENDPOINT_CONFIG,), category="security", severity=Severity.MEDIUM,
    remediation="Set data_capture_config with enable_capture=True, a destination under the artifact store's data-capture/ prefix and kms_key_id.",
)
def _check_sagemaker_data_capture(args, report, cfg) -> None:
    found = endpoint_variants(args.props)
    if found and all(is_serverless_variant(v) for v in found):
        return  # serverless endpoints do not support data capture
    if not is_true(lookup(args.props, "dataCaptureConfig", "enableCapture")):
        report("data capture is off (dataCaptureConfig.enableCapture); model monitoring and audits need request/response capture.")
    elif not is_set(args.props, "dataCaptureConfig", "kmsKeyId"):
        report("captured data is not encrypted with a customer-managed key (dataCaptureConfig.kmsKeyId).")


@POLICIES.stack(
    "sagemaker-model-network",
    "SageMaker models run in a VPC or with network isolation (models only served serverless are exempt).",
    category="security", severity=Severity.MEDIUM,
    remediation="Set vpc_config with private subnets and a security group, or enable_network_isolation=True.",
)
def _check_sagemaker_model_network(args, report, cfg) -> None:
    configs = of_types(args.resources, (SAGEMAKER_ENDPOINT_CONFIG,))

    def check(model) -> None:
        if is_set(model.props, "vpcConfig") or is_true(lookup(model.props, "enableNetworkIsolation")):
            return
        # Serverless endpoints support neither VPC config nor network isolation (AWS feature exclusions).
        hosting = [c for c in configs if any(d.urn == model.urn for d in c.property_dependencies.get("productionVariants") or [])]
        if hosting and all(is_serverless_variant(v) for c in hosting for v in endpoint_variants(c.props)):
            return
        report(f"{resource_label(model)} runs with internet access: set vpcConfig (private subnets) or enableNetworkIsolation=true.", model.urn)

    each(of_types(args.resources, (SAGEMAKER_MODEL,)), check)


@POLICIES.resource(
    "sagemaker-notebook-hardened",
    "SageMaker notebook instances have no direct internet access and no root access.",
    types=(SAGEMAKER_NOTEBOOK,), category="security", severity=Severity.HIGH,
    remediation="Set direct_internet_access='Disabled' with a subnet_id, and root_access='Disabled'.",
    frameworks=[checkov("CKV_AWS_122", "Ensure that direct internet access is disabled for an Amazon SageMaker Notebook Instance"), checkov("CKV_AWS_307", "Ensure SageMaker Users should not have root access to SageMaker notebook instances")],
)
def _check_sagemaker_notebook(args, report, cfg) -> None:
    direct = lookup(args.props, "directInternetAccess")
    if direct != "Disabled":
        report(f"directInternetAccess is {direct if direct is not MISSING else 'unset (AWS default: Enabled)'}; set Disabled and use a VPC subnet.")
    root = lookup(args.props, "rootAccess")
    if root != "Disabled":
        report(f"rootAccess is {root if root is not MISSING else 'unset (AWS default: Enabled)'}; set Disabled.")
