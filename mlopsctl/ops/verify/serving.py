"""Each SageMaker endpoint's checks: every endpoint the config declares must be in the outputs, and nothing else."""

from __future__ import annotations

from typing import Any

from components import facts
from mlopsctl.ops.verify.checks import SKIP, Checks, memo
from mlopsctl.ops.verify.outputs import configured_endpoints
from policies.awsfacts import SAGEMAKER_VARIANT_SCALABLE_DIMENSION as SCALABLE_DIMENSION


def verify_endpoints(v: Checks, endpoints: dict[str, dict], store: dict | None) -> None:
    sagemaker = v.clients.client("sagemaker")
    configured = configured_endpoints(v.config)
    for key in configured:
        if key not in endpoints:
            v.fail("endpoint.present", f"endpoint {key}", f"serving.endpoints declares {key!r}; the outputs' endpoints have no {key!r}")
    for key, endpoint_out in endpoints.items():
        name = endpoint_out["name"]
        resource = f"sagemaker endpoint {name}"
        settings = configured.get(key)
        if settings is None:
            v.fail("endpoint.present", resource, f"endpoint {key!r} is in the outputs but not in the stack config's serving.endpoints")
            continue
        endpoint = memo(lambda name=name: sagemaker.describe_endpoint(EndpointName=name))
        current_config = memo(lambda endpoint=endpoint: sagemaker.describe_endpoint_config(EndpointConfigName=endpoint()["EndpointConfigName"]))

        def status(endpoint=endpoint):
            s = endpoint().get("EndpointStatus")
            reason = f"status {s}" + ("" if s == "InService" else f", want InService ({endpoint().get('FailureReason', 'no failure reason')})")
            return s == "InService", reason

        v.check("endpoint.status", resource, status)
        v.check("endpoint.kmsKey", resource, lambda c=current_config: _endpoint_key(v, c(), store))
        v.check("endpoint.dataCapture", resource, lambda c=current_config, n=name, s=settings: _data_capture(v, c(), n, s, store))
        v.check("endpoint.autoscaling", resource, lambda c=current_config, n=name, s=settings: _autoscaling(v, c(), n, s))
        v.check("endpoint.model", resource, lambda c=current_config, k=key, s=settings: _served_models(sagemaker, c(), k, s, store))


def _serverless_only(config: dict) -> bool:
    variants = config.get("ProductionVariants", [])
    return bool(variants) and all("ServerlessConfig" in v and not v.get("InstanceType") for v in variants)


def _endpoint_key(v: Checks, config: dict, store: dict | None):
    name = config["EndpointConfigName"]
    local_storage = [x["InstanceType"] for x in config.get("ProductionVariants", [])
                     if x.get("InstanceType") and facts.has_instance_storage(x["InstanceType"])]
    if local_storage:
        # The serving component leaves KmsKeyId out here: SageMaker rejects it for local NVMe storage.
        return SKIP, f"config {name} runs on local-NVMe instance types {local_storage}; the platform sets no KmsKeyId there"
    if not store:
        return False, "the outputs have no artifactStore to name the expected KMS key"
    expected, actual = store["kmsKeyArn"], config.get("KmsKeyId")
    if v.same_key(actual, expected):
        return True, f"current config {name} encrypts with {expected}"
    return False, f"current config {name} KmsKeyId is {actual or 'not set'}, want {expected}"


def _data_capture(v: Checks, config: dict, endpoint: str, settings: dict, store: dict | None):
    name = config["EndpointConfigName"]
    capture = config.get("DataCaptureConfig") or {}
    enabled = bool(capture.get("EnableCapture", bool(capture)))
    serverless = _serverless_only(config)
    stated = (settings.get("dataCapture") or {}).get("enabled") if isinstance(settings.get("dataCapture"), dict) else None
    default = v.config.serving.data_capture_by_default
    want = False if serverless else (stated if stated is not None else default)
    source = "serverless: unsupported" if serverless else ("stack config" if stated is not None else "serving.dataCaptureByDefault")
    if not want:
        return not enabled, f"data capture {'on' if enabled else 'off'} in {name}; want off ({source})"
    if not enabled:
        return False, f"data capture off in {name}; want on ({source})"
    destination = capture.get("DestinationS3Uri", "")
    if not store:
        return False, f"data capture on in {name} to {destination}, but the outputs have no artifactStore to check the destination against"
    prefix = (store.get("prefixes") or {}).get("dataCapture", "data-capture/")
    wanted = f"s3://{store['bucketName']}/{prefix.rstrip('/')}/{endpoint}"
    if not destination.rstrip("/").startswith(wanted):
        return False, f"data capture goes to {destination or 'nowhere'}; want {wanted}/"
    return True, f"data capture on in {name} to {destination} ({capture.get('InitialSamplingPercentage')}% sampled)"


def _autoscaling(v: Checks, config: dict, endpoint: str, settings: dict[str, Any]):
    variants = [x["VariantName"] for x in config.get("ProductionVariants", []) if x.get("InstanceType")]
    if not variants:
        return SKIP, "no instance-based variants (serverless scales itself)"
    instance = settings.get("instance") or {}
    if instance and not instance.get("autoscaling", True):
        return SKIP, "instance.autoscaling is false in the stack config (step one of an instance-type change)"
    # Bounds per variant name, as the serving component registers them.
    wanted = {"primary": (instance.get("minCount"), instance.get("maxCount"))}
    if instance.get("challenger"):
        wanted["challenger"] = (instance["challenger"].get("minCount"), instance["challenger"].get("maxCount"))
    resource_ids = [f"endpoint/{endpoint}/variant/{x}" for x in variants]
    targets = v.clients.client("application-autoscaling").describe_scalable_targets(
        ServiceNamespace="sagemaker", ResourceIds=resource_ids, ScalableDimension=SCALABLE_DIMENSION)["ScalableTargets"]
    found = {t["ResourceId"]: t for t in targets}
    problems, seen = [], []
    for variant, resource_id in zip(variants, resource_ids, strict=True):
        target = found.get(resource_id)
        if target is None:
            problems.append(f"no scalable target for {resource_id}")
            continue
        low, high = target["MinCapacity"], target["MaxCapacity"]
        seen.append(f"{resource_id} {low}-{high}")
        want_min, want_max = wanted.get(variant, (None, None))
        if want_min is None:
            problems.append(f"{resource_id} is not a variant the stack config declares")
        elif (low, high) != (want_min, want_max):
            problems.append(f"{resource_id} bounds {low}-{high}, config says {want_min}-{want_max}")
    if problems:
        return False, "; ".join(problems)
    return True, "scalable targets " + ", ".join(seen)


# Where each variant's model is declared in an endpoint's stack config (the keys a mismatch names).
_VARIANT_MODEL_KEYS = {"primary": "model", "challenger": "instance.challenger.model"}


def _configured_models(settings: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Variant name -> its model source (camelCase) in the stack config: the primary, and the challenger if any."""
    models = {"primary": settings.get("model") or {}}
    challenger = (settings.get("instance") or {}).get("challenger")
    if challenger:
        models["challenger"] = challenger.get("model") or {}
    return models


def _served_models(sagemaker, config: dict, endpoint: str, settings: dict[str, Any], store: dict | None):
    """Each variant of the current endpoint config serves the model the stack config names.

    A model package is compared by ARN (the container's ``ModelPackageName``). An ``image`` or
    ``prebuiltImage`` source has no package to compare, so its image (and model data, when the
    config names a ``modelDataKey``) are compared instead, and the reason says so.
    """
    name = config["EndpointConfigName"]
    wanted = _configured_models(settings)
    live = {x["VariantName"]: x.get("ModelName") for x in config.get("ProductionVariants", [])}
    problems = [f"variant {variant} of {name} is not one the stack config declares" for variant in live if variant not in wanted]
    served = []
    for variant, source in wanted.items():
        key = f"serving.endpoints[{endpoint}].{_VARIANT_MODEL_KEYS[variant]}"
        model_name = live.get(variant)
        if model_name is None:
            problems.append(f"{name} has no variant {variant}; the stack config declares {key}")
            continue
        model = sagemaker.describe_model(ModelName=model_name)
        containers = ([model["PrimaryContainer"]] if model.get("PrimaryContainer") else []) + list(model.get("Containers") or [])
        problem, shown = _compare_source(variant, model_name, containers, source, key, store)
        if problem:
            problems.append(problem)
        else:
            served.append(shown)
    if problems:
        return False, "; ".join(problems)
    return True, "; ".join(served)


def _compare_source(variant: str, model_name: str, containers: list[dict], source: dict, key: str, store: dict | None) -> tuple[str | None, str]:
    """(problem or None, what the variant serves) for one variant's model against its configured source."""
    packages = [c["ModelPackageName"] for c in containers if c.get("ModelPackageName")]
    images = [c["Image"] for c in containers if c.get("Image")]
    where = f"variant {variant} (model {model_name})"
    if not any(source.get(k) for k in ("modelPackageArn", "image", "prebuiltImage")):
        return f"{key} names no modelPackageArn, image or prebuiltImage to compare {where} with", ""
    wanted_package = source.get("modelPackageArn")
    if wanted_package:
        if packages == [wanted_package]:
            return None, f"{variant} serves {wanted_package}"
        served = ", ".join(packages) if packages else f"no model package (image {', '.join(images) or 'none'})"
        return f"{where} serves {served}; {key}.modelPackageArn is {wanted_package}", ""
    if packages:
        return f"{where} serves model package {', '.join(packages)}; {key} names an image, not a package", ""
    problems, shown = [], []
    if source.get("image"):
        wanted_image = source["image"]
        if images != [wanted_image]:
            problems.append(f"image {', '.join(images) or 'none'}, {key}.image is {wanted_image}")
        shown.append(f"image {wanted_image}")
    elif source.get("prebuiltImage"):
        # The registry path is resolved at deploy time per region; the repository and tag are the config's.
        prebuilt = source["prebuiltImage"]
        suffix = f"/{prebuilt['repository']}:{prebuilt['tag']}"
        if len(images) != 1 or not images[0].endswith(suffix):
            problems.append(f"image {', '.join(images) or 'none'}, {key}.prebuiltImage is {prebuilt['repository']}:{prebuilt['tag']}")
        shown.append(f"prebuilt image {images[0] if images else suffix}")
    data_key = source.get("modelDataKey")
    if data_key:
        served_data = [c["ModelDataUrl"] for c in containers if c.get("ModelDataUrl")]
        if not store:
            problems.append("the outputs have no artifactStore to check the model data against")
        else:
            wanted_data = f"s3://{store['bucketName']}/{data_key}"
            if served_data != [wanted_data]:
                problems.append(f"model data {', '.join(served_data) or 'none'}, {key}.modelDataKey is {wanted_data}")
            shown.append(f"model data {wanted_data}")
    if problems:
        return f"{where} serves {'; '.join(problems)}", ""
    return None, f"{variant} serves {' with '.join(shown)} (no model package to compare: the image and model data are checked instead)"
