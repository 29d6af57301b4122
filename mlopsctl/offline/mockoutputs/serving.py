"""Mock answers for SageMaker serving: ARNs in SageMaker's own formats, scaling targets, and the prebuilt-image lookup."""

from __future__ import annotations

from mlopsctl.offline.mockoutputs.context import MockContext, physical_name

# Registry accounts of SageMaker's prebuilt images, as the provider's data source resolves them
# (terraform-provider-aws internal/service/sagemaker/prebuilt_ecr_image_data_source.go:
# scikit-learn and Spark ML share one account map with XGBoost; the deep-learning containers
# live in 763104351884 in most regions). Only the regions the stacks use are listed; any other
# lookup fails loudly instead of inventing an account.
_PREBUILT_ACCOUNTS = {
    "sagemaker-scikit-learn": {"us-east-1": "683313688378", "us-east-2": "257758044811", "us-west-1": "746614075791", "us-west-2": "246618743249", "eu-west-1": "141502667606", "eu-central-1": "492215442770"},
    "sagemaker-xgboost": {"us-east-1": "683313688378", "us-east-2": "257758044811", "us-west-1": "746614075791", "us-west-2": "246618743249", "eu-west-1": "141502667606", "eu-central-1": "492215442770"},
    "pytorch-inference": {r: "763104351884" for r in ("us-east-1", "us-east-2", "us-west-1", "us-west-2", "eu-west-1", "eu-central-1")},
    "tensorflow-inference": {r: "763104351884" for r in ("us-east-1", "us-east-2", "us-west-1", "us-west-2", "eu-west-1", "eu-central-1")},
}


def prebuilt_ecr_image(ctx: MockContext, args: dict) -> dict:
    repository = args["repositoryName"]
    region = args.get("region") or ctx.region
    account = _PREBUILT_ACCOUNTS.get(repository, {}).get(region)
    if account is None:
        raise LookupError(f"no registry account recorded for prebuilt image {repository!r} in {region}")
    tag = args.get("imageTag") or "1"
    suffix = args.get("dnsSuffix") or "amazonaws.com"
    return {
        "id": account,
        "registryId": account,
        "registryPath": f"{account}.dkr.ecr.{region}.{suffix}/{repository}:{tag}",
        "repositoryName": repository,
        "imageTag": tag,
        "region": region,
        "dnsSuffix": suffix,
    }


def sagemaker_arn(ctx: MockContext, inputs: dict, kind: str, name: str) -> str:
    region = inputs.get("region", ctx.region)
    return f"arn:{ctx.partition}:sagemaker:{region}:{ctx.account_id}:{kind}/{name.lower()}"


def named_sagemaker_resource(kind: str):
    """Outputs of a SageMaker resource named in its ARN as ``<kind>/<name>`` (lower case, as SageMaker shows it)."""

    def outputs(ctx: MockContext, name: str, inputs: dict) -> dict:
        physical = physical_name(name, inputs)
        return {"name": physical, "arn": sagemaker_arn(ctx, inputs, kind, physical)}

    return outputs


def model_package_group(ctx: MockContext, name: str, inputs: dict) -> dict:
    group = inputs.get("modelPackageGroupName") or physical_name(name, inputs)
    return {"id": group, "modelPackageGroupName": group, "arn": sagemaker_arn(ctx, inputs, "model-package-group", group)}


def model_package_group_policy(ctx: MockContext, name: str, inputs: dict) -> dict:
    """A group policy has no ARN of its own; its id is the group's name (the provider sets that after PutModelPackageGroupPolicy)."""
    group = inputs.get("modelPackageGroupName") or physical_name(name, inputs)
    return {"id": group, "modelPackageGroupName": group}


def scaling_target(ctx: MockContext, name: str, inputs: dict) -> dict:
    return {"id": inputs.get("resourceId", name), "arn": f"arn:{ctx.partition}:application-autoscaling:{ctx.region}:{ctx.account_id}:scalable-target/{name}"}

