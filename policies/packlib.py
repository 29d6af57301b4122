"""Shared helpers of the mlops-platform policy pack.

The pack runs as its own process (Pulumi ships only this folder), so nothing here imports the
repository's ``components`` package. Facts come from ``awsfacts/`` in this folder (the data file
and the one botocore-model reader the program shares) or from ``data/``.

Reading inputs: ``props`` are wire-format (camelCase) inputs wrapped in pulumi_policy's
unknown-checking proxy. Reading an unknown value raises ``UnknownValueError``; left to propagate,
the SDK turns it into a "can't run policy during preview" diagnostic, so a check whose answer
depends on an unknown value is never passed silently. :func:`is_set` is for checks that only need
to know that a value will exist (e.g. a KMS key ARN of a key created in the same preview).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from awsfacts import botocore_models, pipeline_definition
from awsfacts.resource_types import (  # noqa: F401 - re-exported: the checks select resources by these
    CODEBUILD_PROJECT,
    CODEBUILD_WEBHOOK,
    COMPOSITE_ALARM,
    ECR_REPOSITORY,
    EKS_CLUSTER,
    EKS_NODE_GROUP,
    EVENT_API_DESTINATION,
    EVENT_CONNECTION,
    EVENT_TARGET,
    IAM_ROLE,
    IAM_ROLE_POLICY,
    KMS_KEY,
    KMS_REPLICA_KEY,
    LAUNCH_TEMPLATE,
    LOG_GROUP,
    METRIC_ALARM,
    NAT_GATEWAY,
    S3_BUCKET,
    SAGEMAKER_ENDPOINT,
    SAGEMAKER_ENDPOINT_CONFIG,
    SAGEMAKER_MODEL,
    SAGEMAKER_NOTEBOOK,
    SAGEMAKER_PIPELINE,
    SQS_QUEUE,
    SUBNET,
)
from pulumi_policy import (
    EnforcementLevel,
    PolicyComplianceFramework,
    PolicyConfigSchema,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.proxy import UnknownValueError, _DictProxy, _is_unknown, _ListProxy
from pulumi_policy.secret import Secret, _DictSecretsProxy, _ListSecretsProxy

DATA_DIR = Path(__file__).resolve().parent / "data"
MISSING = object()

# ---------------------------------------------------------------------------------------------
# Type tokens (pulumi-aws v7), with the deprecated twins v7 still ships.

BUCKET_TYPES = (S3_BUCKET, "aws:s3/bucketV2:BucketV2")
BUCKET_SSE_TYPES = (
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2",
)
BUCKET_VERSIONING_TYPES = ("aws:s3/bucketVersioning:BucketVersioning", "aws:s3/bucketVersioningV2:BucketVersioningV2")
BUCKET_LOGGING_TYPES = ("aws:s3/bucketLogging:BucketLogging", "aws:s3/bucketLoggingV2:BucketLoggingV2")
BUCKET_ACL_TYPES = ("aws:s3/bucketAcl:BucketAcl", "aws:s3/bucketAclV2:BucketAclV2")
BUCKET_PAB_TYPES = ("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",)
BUCKET_POLICY_TYPES = ("aws:s3/bucketPolicy:BucketPolicy",)
KMS_KEY_TYPES = (KMS_KEY,)
KMS_REPLICA_KEY_TYPES = (KMS_REPLICA_KEY,)
IAM_DOCUMENT_TYPES = (
    "aws:iam/policy:Policy",
    IAM_ROLE_POLICY,
    "aws:iam/userPolicy:UserPolicy",
    "aws:iam/groupPolicy:GroupPolicy",
)
IAM_ATTACHMENT_TYPES = (
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
    "aws:iam/userPolicyAttachment:UserPolicyAttachment",
    "aws:iam/groupPolicyAttachment:GroupPolicyAttachment",
    "aws:iam/policyAttachment:PolicyAttachment",
)
LAUNCH_TEMPLATE_TYPES = (LAUNCH_TEMPLATE,)


# ---------------------------------------------------------------------------------------------
# Reading wire-format inputs


def lookup(obj: Any, *path: str | int) -> Any:
    """The value at ``path`` or :data:`MISSING`; raises ``UnknownValueError`` on an unknown value."""
    current = obj
    for key in path:
        if isinstance(key, int):
            if not isinstance(current, Sequence) or isinstance(current, str) or key >= len(current):
                return MISSING
            current = current[key]
        else:
            if not isinstance(current, Mapping) or key not in current:
                return MISSING
            current = current[key]
        if current is None:
            return MISSING
    return current


def is_set(obj: Any, *path: str | int) -> bool:
    """Whether a value will exist at ``path``; an unknown value (computed in this preview) counts."""
    try:
        return lookup(obj, *path) is not MISSING
    except UnknownValueError:
        return True


def is_true(value: Any) -> bool:
    """Wire booleans arrive as bools, some provider schemas use the strings "true"/"false"."""
    return value is True or (isinstance(value, str) and value.lower() == "true")


def stack_name(resources: Iterable[Any]) -> str | None:
    """The stack under analysis, read from a resource URN (``urn:pulumi:<stack>::<project>::...``)."""
    for resource in resources:
        head = getattr(resource, "urn", "").split("::", 1)[0]
        if head.startswith("urn:pulumi:"):
            return head.removeprefix("urn:pulumi:")
    return None


def as_list(value: Any) -> list:
    if value is MISSING or value is None:
        return []
    if isinstance(value, str) or isinstance(value, Mapping):
        return [value]
    return list(value)


def raw(value: Any) -> Any:
    """Plain dicts/lists from a proxied value (unknown sentinels kept as their strings)."""
    if isinstance(value, Secret):
        return raw(value.value)
    if isinstance(value, (_DictProxy, _DictSecretsProxy)):
        return {k: raw(v) for k, v in value["__target"].items()}
    if isinstance(value, (_ListProxy, _ListSecretsProxy)):
        return [raw(v) for v in value["__target"]]
    if isinstance(value, dict):
        return {k: raw(v) for k, v in value.items()}
    if isinstance(value, list):
        return [raw(v) for v in value]
    return value


def contains_unknown(value: Any) -> bool:
    value = raw(value)
    if isinstance(value, dict):
        return any(contains_unknown(v) for v in value.values())
    if isinstance(value, list):
        return any(contains_unknown(v) for v in value)
    return _is_unknown(value)


def number(value: Any) -> float | None:
    if isinstance(value, bool) or value is MISSING or value is None:
        return None
    if isinstance(value, (int, float)):
        return float(value)
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def json_input(props: Mapping, key: str) -> Any:
    """A JSON-string input (IAM documents, provider defaultTags) decoded; MISSING when absent."""
    value = lookup(props, key)
    if value is MISSING:
        return MISSING
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return MISSING
    return raw(value)


def pipeline_definition_of(props: Any) -> tuple[Mapping[str, Any] | None, str | None]:
    """A SageMaker pipeline's decoded definition, or None and what stands in the way (None: nothing to check).

    An unknown ``pipelineDefinition`` (built from ARNs of the same update) raises
    ``UnknownValueError``, so the SDK reports the policy as not run during preview; an absent one
    (a first preview may send none) is skipped. A definition in S3 cannot be read, so it is a problem.
    """
    body = raw(lookup(props, pipeline_definition.PIPELINE_DEFINITION_INPUT))
    if _is_unknown(body):  # unknown inside a secret, which the proxy does not look into
        raise UnknownValueError(body, [pipeline_definition.PIPELINE_DEFINITION_INPUT])
    if body is MISSING:
        if is_set(props, pipeline_definition.PIPELINE_DEFINITION_S3_INPUT):
            return None, (f"the definition is in S3 ({pipeline_definition.PIPELINE_DEFINITION_S3_INPUT}), which the pack cannot read; "
                          f"give it inline as {pipeline_definition.PIPELINE_DEFINITION_INPUT}")
        return None, None
    definition = pipeline_definition.parse_definition(body)
    if definition is None:
        return None, f"{pipeline_definition.PIPELINE_DEFINITION_INPUT} is not a JSON object"
    return definition, None


def endpoint_variants(props: Any) -> list:
    """The production and shadow variants of a SageMaker endpoint configuration's inputs."""
    return as_list(lookup(props, "productionVariants")) + as_list(lookup(props, "shadowProductionVariants"))


# ---------------------------------------------------------------------------------------------
# Facts


@cache
def eks_gpu_ami_types() -> frozenset[str]:
    """EKS AMI types that ship NVIDIA drivers, from botocore's EKS model (AMITypes enum)."""
    return frozenset(t for t in botocore_models.enum("eks", "AMITypes") if "NVIDIA" in t or t.endswith("_GPU"))


# ---------------------------------------------------------------------------------------------
# IAM documents


def statements(document: Any) -> list[dict]:
    if not isinstance(document, dict):
        return []
    return [s for s in as_list(document.get("Statement")) if isinstance(s, dict)]


def statement_values(statement: dict, key: str) -> list[str]:
    return [v for v in as_list(statement.get(key)) if isinstance(v, str)]


def principals(statement: dict) -> list[str]:
    """Every principal value of a statement ("*" for the bare wildcard)."""
    principal = statement.get("Principal")
    if principal == "*":
        return ["*"]
    if isinstance(principal, dict):
        return [v for values in principal.values() for v in as_list(values) if isinstance(v, str)]
    return []


# ---------------------------------------------------------------------------------------------
# Stack-policy joins


def dependents(resource: Any, resources: Iterable[Any], types: Sequence[str], key: str = "bucket", name_key: str = "bucket") -> list[Any]:
    """Resources of ``types`` whose input ``key`` refers to ``resource``.

    Joined through ``propertyDependencies`` (ids are unknown in a real preview); a literal name
    given without an Output (no dependency recorded) is matched by the known value of the
    resource's ``name_key`` input instead (a bucket's ``bucket``, a role's ``name``).
    """
    found = []
    for other in resources:
        if other.resource_type not in types:
            continue
        deps = other.property_dependencies.get(key) or []
        if any(dep.urn == resource.urn for dep in deps):
            found.append(other)
            continue
        if not deps and _same_literal_name(resource, other, key, name_key):
            found.append(other)
    return found


def _same_literal_name(resource: Any, other: Any, key: str, name_key: str) -> bool:
    try:
        theirs = lookup(other.props, key)
        ours = lookup(resource.props, name_key)
    except UnknownValueError:
        return False
    return isinstance(theirs, str) and theirs == ours


def of_types(resources: Iterable[Any], types: Sequence[str]) -> list[Any]:
    return [r for r in resources if r.resource_type in types]


# ---------------------------------------------------------------------------------------------
# Policy definitions


@dataclass(frozen=True)
class Framework:
    """A compliance-framework mapping (only ids confirmed against the framework's own sources)."""

    name: str
    reference: str
    version: str | None = None
    specification: str | None = None

    def sdk(self) -> PolicyComplianceFramework:
        return PolicyComplianceFramework(name=self.name, version=self.version, reference=self.reference, specification=self.specification)


def checkov(check_id: str, title: str) -> Framework:
    return Framework(name="checkov", reference=check_id, specification=title)


def cis(version: str, control: str, title: str) -> Framework:
    return Framework(name="CIS AWS Foundations Benchmark", version=version, reference=control, specification=title)


CATEGORY_DEFAULT_LEVEL = {
    "security": EnforcementLevel.MANDATORY,
    "reliability": EnforcementLevel.MANDATORY,
    "cost": EnforcementLevel.ADVISORY,
    "tagging": EnforcementLevel.ADVISORY,
}


def _policy_kwargs(name, description, category, severity, remediation, frameworks, config, level):
    frameworks = list(frameworks or ())
    tags = [category] + [f"{f.name}{' v' + f.version if f.version else ''}:{f.reference}" for f in frameworks]
    return dict(
        name=name,
        description=description,
        enforcement_level=level or CATEGORY_DEFAULT_LEVEL[category],
        config_schema=PolicyConfigSchema(properties=config) if config else None,
        severity=severity,
        framework=frameworks[0].sdk() if frameworks else None,
        tags=tags,
        remediation_steps=remediation,
    )


def config_value(args: Any, schema: Mapping[str, Mapping[str, Any]] | None, key: str) -> Any:
    """A policy config property, falling back to its schema default (as the engine fills it)."""
    config = args.get_config() or {}
    if key in config:
        return config[key]
    return (schema or {}).get(key, {}).get("default")


ResourceCheck = Callable[[ResourceValidationArgs, Callable[[str], None], Callable[[str], Any]], None]
StackCheck = Callable[[StackValidationArgs, ReportViolation, Callable[[str], Any]], None]
Remediation = Callable[[ResourceValidationArgs, Callable[[str], Any]], Mapping[str, Any] | None]


def resource_policy(
    name: str,
    description: str,
    *,
    types: Sequence[str],
    category: str,
    severity: Severity,
    remediation: str,
    check: ResourceCheck | None,
    frameworks: Sequence[Framework] = (),
    config: dict[str, dict[str, Any]] | None = None,
    level: EnforcementLevel | None = None,
    remediate: Remediation | None = None,
) -> ResourceValidationPolicy:
    """A resource policy that runs ``check(args, report, cfg)`` on resources of ``types`` only."""
    type_set = frozenset(types)

    def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        if args.resource_type not in type_set:
            return
        check(args, lambda message: report_violation(message, None), lambda key: config_value(args, config, key))

    remediation_fn = None
    if remediate is not None:

        def remediation_fn(args: ResourceValidationArgs):
            if args.resource_type not in type_set:
                return None
            return remediate(args, lambda key: config_value(args, config, key))

    return ResourceValidationPolicy(
        validate=validate if check is not None else None,
        remediate=remediation_fn,
        **_policy_kwargs(name, description, category, severity, remediation, frameworks, config, level),
    )


def stack_policy(
    name: str,
    description: str,
    *,
    category: str,
    severity: Severity,
    remediation: str,
    check: StackCheck,
    frameworks: Sequence[Framework] = (),
    config: dict[str, dict[str, Any]] | None = None,
    level: EnforcementLevel | None = None,
) -> StackValidationPolicy:
    def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
        check(args, report_violation, lambda key: config_value(args, config, key))

    return StackValidationPolicy(
        validate=validate,
        **_policy_kwargs(name, description, category, severity, remediation, frameworks, config, level),
    )


class PolicyList(list):
    """A module's policies in the order they are declared, which is the order the pack lists them.

    ``@POLICIES.resource(...)`` or ``@POLICIES.stack(...)`` above a check registers it with its
    metadata (the arguments of :func:`resource_policy` / :func:`stack_policy`) and returns the
    check unchanged.
    """

    def resource(self, name: str, description: str, **options: Any) -> Callable[[ResourceCheck], ResourceCheck]:
        def register(check: ResourceCheck) -> ResourceCheck:
            self.append(resource_policy(name, description, check=check, **options))
            return check

        return register

    def stack(self, name: str, description: str, **options: Any) -> Callable[[StackCheck], StackCheck]:
        def register(check: StackCheck) -> StackCheck:
            self.append(stack_policy(name, description, check=check, **options))
            return check

        return register

    def remediate(self, name: str, description: str, **options: Any) -> Callable[[Remediation], Remediation]:
        """A resource policy that only remediates: ``remediate(args, cfg)`` returns the new props or None."""

        def register(remediate: Remediation) -> Remediation:
            self.append(resource_policy(name, description, check=None, remediate=remediate, **options))
            return remediate

        return register


def resource_label(resource: Any) -> str:
    return f"{resource.resource_type.rsplit(':', 1)[-1]} '{resource.name}'"


def matches_any(value: str, patterns: Iterable[str]) -> bool:
    return any(re.fullmatch(p, value) for p in patterns)


def each(items: Iterable[Any], check: Callable[[Any], None]) -> None:
    """Run ``check`` on every item; an unknown value stops only that item's check.

    After the loop the first ``UnknownValueError`` is re-raised, so the SDK still reports that the
    policy could not fully run during preview, without hiding violations found on other items.
    """
    deferred: UnknownValueError | None = None
    for item in items:
        try:
            check(item)
        except UnknownValueError as exc:
            deferred = deferred or exc
    if deferred is not None:
        raise deferred
