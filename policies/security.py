"""Security policies: S3, KMS, IAM, EKS, SageMaker, ECR and CloudWatch Logs.

Insecure AWS defaults arrive as *absent* inputs (an EKS endpoint without ``endpointPublicAccess``
is public; a key without ``enableKeyRotation`` does not rotate), so absence is a violation here.
"""

from __future__ import annotations

import re
from typing import Any

from awsfacts import clock, eks_versions
from packlib import (
    BUCKET_ACL_TYPES,
    BUCKET_LOGGING_TYPES,
    BUCKET_PAB_TYPES,
    BUCKET_POLICY_TYPES,
    BUCKET_SSE_TYPES,
    BUCKET_TYPES,
    BUCKET_VERSIONING_TYPES,
    CODEBUILD_PROJECT,
    CODEBUILD_WEBHOOK,
    ECR_REPOSITORY,
    EKS_CLUSTER,
    EKS_NODE_GROUP,
    IAM_ATTACHMENT_TYPES,
    IAM_DOCUMENT_TYPES,
    IAM_ROLE,
    KMS_KEY_TYPES,
    LAUNCH_TEMPLATE_TYPES,
    LOG_GROUP,
    MISSING,
    SAGEMAKER_ENDPOINT_CONFIG,
    SAGEMAKER_MODEL,
    SAGEMAKER_NOTEBOOK,
    Severity,
    as_list,
    checkov,
    cis,
    dependents,
    each,
    eks_gpu_ami_types,
    has_instance_storage,
    is_gpu_ec2_type,
    is_set,
    is_true,
    json_input,
    lookup,
    matches_any,
    number,
    of_types,
    principals,
    resource_label,
    resource_policy,
    stack_policy,
    statement_values,
    statements,
)
from pulumi_policy import EnforcementLevel

# ---------------------------------------------------------------------------------------------
# S3 (cross-resource: pulumi-aws v7 splits a bucket's settings into separate resources, whose
# `bucket` input is unknown in a first preview, so they are joined through propertyDependencies)

PAB_FLAGS = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
PUBLIC_CANNED_ACLS = ("public-read", "public-read-write", "authenticated-read")
PUBLIC_GRANTEE_URIS = ("http://acs.amazonaws.com/groups/global/AllUsers", "http://acs.amazonaws.com/groups/global/AuthenticatedUsers")
KMS_SSE_ALGORITHMS = ("aws:kms", "aws:kms:dsse")
ACCOUNT_PAB = "aws:s3/accountPublicAccessBlock:AccountPublicAccessBlock"


def access_log_targets(resources: list) -> set[str]:
    """URNs of buckets that receive S3 server access logs (targets of a BucketLogging)."""
    targets: set[str] = set()
    for bucket in of_types(resources, BUCKET_TYPES):
        if dependents(bucket, resources, BUCKET_LOGGING_TYPES, key="targetBucket"):
            targets.add(bucket.urn)
        elif any(_inline_log_target(b, bucket) for b in of_types(resources, BUCKET_TYPES)):
            targets.add(bucket.urn)
    return targets


def _inline_log_target(source: Any, target: Any) -> bool:
    # Deprecated inline `logging` on a bucket; joined by its dependency or by literal name.
    if not is_set(source.props, "logging"):
        return False
    deps = source.property_dependencies.get("logging") or []
    return any(d.urn == target.urn for d in deps)


def _sse_rules(resource: Any) -> list:
    return as_list(lookup(resource.props, "rules"))


def _check_s3_public_access_block(args, report, cfg) -> None:
    account_level = [r for r in args.resources if r.resource_type == ACCOUNT_PAB and all(is_true(lookup(r.props, f)) for f in PAB_FLAGS)]
    if account_level:
        return

    def check(bucket) -> None:
        blocks = dependents(bucket, args.resources, BUCKET_PAB_TYPES)
        if not blocks:
            report(f"{resource_label(bucket)} has no BucketPublicAccessBlock; add one with all four flags true.", bucket.urn)
        for block in blocks:
            off = [f for f in PAB_FLAGS if not is_true(lookup(block.props, f))]
            if off:
                report(f"{resource_label(bucket)}: public access block '{block.name}' leaves {', '.join(off)} unset or false (the AWS default is false).", bucket.urn)

    each(of_types(args.resources, BUCKET_TYPES), check)


def _check_s3_sse_kms(args, report, cfg) -> None:
    log_targets = access_log_targets(args.resources)

    def check(bucket) -> None:
        rules = [rule for sse in dependents(bucket, args.resources, BUCKET_SSE_TYPES) for rule in _sse_rules(sse)]
        inline = lookup(bucket.props, "serverSideEncryptionConfiguration", "rule")
        if inline is not MISSING:
            rules.append(inline)
        if not rules:
            report(f"{resource_label(bucket)} has no server-side encryption configuration with a customer-managed KMS key.", bucket.urn)
        for rule in rules:
            algorithm = lookup(rule, "applyServerSideEncryptionByDefault", "sseAlgorithm")
            if algorithm not in KMS_SSE_ALGORITHMS:
                report(f"{resource_label(bucket)} uses default encryption {algorithm if algorithm is not MISSING else 'AES256'}; use aws:kms with a customer-managed key.", bucket.urn)
            elif not is_set(rule, "applyServerSideEncryptionByDefault", "kmsMasterKeyId"):
                report(f"{resource_label(bucket)} uses SSE-KMS with the AWS-managed aws/s3 key; set kmsMasterKeyId to a customer-managed key.", bucket.urn)

    # Access-log targets are judged by s3-access-log-target-sse-s3: log delivery cannot use SSE-KMS.
    each([b for b in of_types(args.resources, BUCKET_TYPES) if b.urn not in log_targets], check)


def _check_s3_log_target_sse_s3(args, report, cfg) -> None:
    log_targets = access_log_targets(args.resources)

    def check(bucket) -> None:
        for sse in dependents(bucket, args.resources, BUCKET_SSE_TYPES):
            for rule in _sse_rules(sse):
                algorithm = lookup(rule, "applyServerSideEncryptionByDefault", "sseAlgorithm")
                if algorithm in KMS_SSE_ALGORITHMS:
                    report(f"{resource_label(bucket)} receives S3 server access logs but uses {algorithm}; log delivery writes without KMS headers, so use AES256 (SSE-S3).", bucket.urn)

    each([b for b in of_types(args.resources, BUCKET_TYPES) if b.urn in log_targets], check)


def _check_s3_versioning(args, report, cfg) -> None:
    exempt_logs = cfg("exemptAccessLogTargets")
    log_targets = access_log_targets(args.resources)

    def check(bucket) -> None:
        statuses = [lookup(v.props, "versioningConfiguration", "status") for v in dependents(bucket, args.resources, BUCKET_VERSIONING_TYPES)]
        if is_true(lookup(bucket.props, "versioning", "enabled")):
            statuses.append("Enabled")
        if "Enabled" not in statuses:
            found = ", ".join(str(s) for s in statuses if s is not MISSING) or "no BucketVersioning"
            report(f"{resource_label(bucket)} is not versioned ({found}); add a BucketVersioning with status Enabled.", bucket.urn)

    each([b for b in of_types(args.resources, BUCKET_TYPES) if not (exempt_logs and b.urn in log_targets)], check)


def _denies_insecure_transport(document: Any) -> bool:
    for statement in statements(document):
        if statement.get("Effect") != "Deny" or "*" not in principals(statement):
            continue
        if not set(statement_values(statement, "Action")) & {"s3:*", "*"}:
            continue
        condition = statement.get("Condition") or {}
        secure = (condition.get("Bool") or {}).get("aws:SecureTransport")
        if str(secure).lower() == "false":
            return True
    return False


def _check_s3_tls_only(args, report, cfg) -> None:

    def check(bucket) -> None:
        documents = [json_input(p.props, "policy") for p in dependents(bucket, args.resources, BUCKET_POLICY_TYPES)]
        inline = json_input(bucket.props, "policy")
        if inline is not MISSING:
            documents.append(inline)
        if not any(_denies_insecure_transport(d) for d in documents):
            report(f"{resource_label(bucket)} has no bucket policy denying requests with aws:SecureTransport=false.", bucket.urn)

    each(of_types(args.resources, BUCKET_TYPES), check)


def _check_s3_access_logging(args, report, cfg) -> None:
    log_targets = access_log_targets(args.resources)
    exempt = cfg("exemptNamePatterns") or []
    for bucket in of_types(args.resources, BUCKET_TYPES):
        if bucket.urn in log_targets or matches_any(bucket.name, exempt):
            continue
        if dependents(bucket, args.resources, BUCKET_LOGGING_TYPES) or is_set(bucket.props, "logging"):
            continue
        report(f"{resource_label(bucket)} has no server access logging; add a BucketLogging to the access-log bucket.", bucket.urn)


def _public_policy_statements(document: Any) -> list[dict]:
    return [s for s in statements(document) if s.get("Effect") == "Allow" and "*" in principals(s) and not s.get("Condition")]


def _check_s3_no_public_access(args, report, cfg) -> None:
    props = args.props
    if args.resource_type in BUCKET_TYPES + BUCKET_ACL_TYPES:
        acl = lookup(props, "acl")
        if acl in PUBLIC_CANNED_ACLS:
            report(f"canned ACL '{acl}' makes the bucket's objects public; use private (or BucketOwnerEnforced ownership).")
        for grant in as_list(lookup(props, "accessControlPolicy", "grants")):
            uri = lookup(grant, "grantee", "uri")
            if uri in PUBLIC_GRANTEE_URIS:
                report(f"an ACL grant gives {lookup(grant, 'permission')} to {uri.rsplit('/', 1)[-1]}.")
    if args.resource_type in BUCKET_TYPES + BUCKET_POLICY_TYPES:
        document = json_input(props, "policy")
        for statement in _public_policy_statements(document):
            report(f"bucket policy statement {statement.get('Sid') or ''} allows {statement_values(statement, 'Action')} to any principal without a condition.".replace("  ", " "))


# ---------------------------------------------------------------------------------------------
# KMS


def _check_kms_rotation(args, report, cfg) -> None:
    spec = lookup(args.props, "customerMasterKeySpec")
    if spec is MISSING:
        spec = lookup(args.props, "keySpec")
    if spec not in (MISSING, "SYMMETRIC_DEFAULT"):
        return  # AWS rotates only symmetric encryption keys
    if not is_true(lookup(args.props, "enableKeyRotation")):
        report("enableKeyRotation is not true (AWS default: off); set enable_key_rotation=True.")


def _check_kms_deletion_window(args, report, cfg) -> None:
    days = number(lookup(args.props, "deletionWindowInDays"))
    if days is None:
        return  # AWS default: 30 days
    minimum = cfg("minDays")
    if days < minimum:
        report(f"deletionWindowInDays is {days:g}; at least {minimum:g} days are required here (7..30 allowed by AWS).")


# ---------------------------------------------------------------------------------------------
# IAM

READ_ONLY_VERBS = ("Get", "List", "Describe", "Head", "BatchGet", "Search", "Lookup", "View", "Query", "Scan", "Select")


def policy_documents(args) -> list[tuple[str, Any]]:
    """(label, decoded document) of every permission document a resource carries."""
    if args.resource_type == IAM_ROLE:
        documents = []
        for index, inline in enumerate(as_list(lookup(args.props, "inlinePolicies"))):
            document = json_input(inline, "policy")
            if document is not MISSING:
                documents.append((f"inline policy {lookup(inline, 'name') if lookup(inline, 'name') is not MISSING else index}", document))
        return documents
    document = json_input(args.props, "policy")
    return [("policy", document)] if document is not MISSING else []


def _actions(statement: dict) -> list[str]:
    return statement_values(statement, "Action")


def _check_iam_no_star_action(args, report, cfg) -> None:
    for label, document in policy_documents(args):
        for statement in statements(document):
            if statement.get("Effect") != "Allow":
                continue
            if {"*", "*:*"} & set(_actions(statement)):
                report(f"{label} allows Action \"*\" (full administrator); list the actions the workload needs.")
            if statement.get("NotAction") is not None:
                report(f"{label} combines Allow with NotAction, which grants everything not listed.")


def _is_read_only(action: str) -> bool:
    verb = action.split(":", 1)[-1]
    return verb != "*" and verb.startswith(READ_ONLY_VERBS)


def _check_iam_no_star_resource_write(args, report, cfg) -> None:
    allowed = set(cfg("allowedActions") or [])
    for label, document in policy_documents(args):
        for statement in statements(document):
            if statement.get("Effect") != "Allow" or "*" not in statement_values(statement, "Resource") or statement.get("Condition"):
                continue
            writes = sorted(a for a in _actions(statement) if not _is_read_only(a) and a not in allowed)
            if writes:
                report(f"{label} allows write actions {writes} on Resource \"*\"; scope them to ARNs (or add a condition).")


def _policy_name(arn: str) -> str:
    return arn.rsplit("/", 1)[-1]


def _check_iam_no_admin_attachments(args, report, cfg) -> None:
    denied = set(cfg("deniedPolicyNames") or [])
    arns = []
    if args.resource_type == IAM_ROLE:
        arns = [a for a in as_list(lookup(args.props, "managedPolicyArns")) if isinstance(a, str)]
    else:
        arn = lookup(args.props, "policyArn")
        if isinstance(arn, str):
            arns = [arn]
    for arn in arns:
        if ":iam::aws:policy/" in arn and _policy_name(arn) in denied:
            report(f"attaches the AWS-managed {_policy_name(arn)}; grant least-privilege permissions instead.")


def _check_iam_no_wildcard_trust(args, report, cfg) -> None:
    document = json_input(args.props, "assumeRolePolicy")
    for statement in statements(document):
        if statement.get("Effect") == "Allow" and "*" in principals(statement) and not statement.get("Condition"):
            report("the trust policy lets any principal (\"*\") assume the role without a condition.")


GITHUB_OIDC_HOST = "token.actions.githubusercontent.com"
# The owner and repository must be literal; the ref/environment part may use StringLike wildcards.
REPO_SUBJECT = re.compile(r"^repo:[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+:.+$")


def _check_iam_github_oidc(args, report, cfg) -> None:
    document = json_input(args.props, "assumeRolePolicy")
    for statement in statements(document):
        federated = (statement.get("Principal") or {}).get("Federated") if isinstance(statement.get("Principal"), dict) else None
        if statement.get("Effect") != "Allow" or not any(GITHUB_OIDC_HOST in f for f in as_list(federated) if isinstance(f, str)):
            continue
        condition = statement.get("Condition") or {}
        subjects = [v for op in ("StringEquals", "StringLike") for v in as_list((condition.get(op) or {}).get(f"{GITHUB_OIDC_HOST}:sub"))]
        audiences = [v for op in ("StringEquals", "StringLike") for v in as_list((condition.get(op) or {}).get(f"{GITHUB_OIDC_HOST}:aud"))]
        if not subjects:
            report(f"GitHub OIDC trust has no {GITHUB_OIDC_HOST}:sub condition: any repository on GitHub could assume the role.")
        for subject in subjects:
            if not isinstance(subject, str) or not REPO_SUBJECT.match(subject):
                report(f"GitHub OIDC subject {subject!r} does not pin one repository (expected repo:<owner>/<repo>:<ref or environment>).")
        if audiences != ["sts.amazonaws.com"]:
            report(f"GitHub OIDC trust must require {GITHUB_OIDC_HOST}:aud = sts.amazonaws.com (found {audiences or 'none'}).")


# ---------------------------------------------------------------------------------------------
# EKS

WORLD_CIDRS = ("0.0.0.0/0", "::/0")


def _check_eks_secrets_encryption(args, report, cfg) -> None:
    resources = as_list(lookup(args.props, "encryptionConfig", "resources"))
    if "secrets" not in resources or not is_set(args.props, "encryptionConfig", "provider", "keyArn"):
        report("Kubernetes secrets are not envelope-encrypted with a customer-managed KMS key (encryptionConfig.resources=['secrets'], provider.keyArn).")


def _check_eks_audit_logging(args, report, cfg) -> None:
    enabled = set(as_list(lookup(args.props, "enabledClusterLogTypes")))
    missing = [t for t in cfg("requiredLogTypes") if t not in enabled]
    if missing:
        report(f"control-plane log types {missing} are not enabled (enabledClusterLogTypes).")


def _check_eks_public_endpoint(args, report, cfg) -> None:
    public = lookup(args.props, "vpcConfig", "endpointPublicAccess")
    if public is not MISSING and not is_true(public):
        return
    cidrs = lookup(args.props, "vpcConfig", "publicAccessCidrs")
    cidrs = list(WORLD_CIDRS[:1]) if cidrs is MISSING else as_list(cidrs)
    source = "" if public is not MISSING else " (endpointPublicAccess is unset: AWS makes the endpoint public)"
    if not cfg("allowPublicEndpoint"):
        report(f"the API server endpoint is public{source}; set vpcConfig.endpointPublicAccess=false and reach it through the VPC.")
    elif any(c in WORLD_CIDRS for c in cidrs):
        report(f"the public API server endpoint is open to {', '.join(c for c in cidrs if c in WORLD_CIDRS)}{source}; list specific publicAccessCidrs.")


def _check_eks_supported_version(args, report, cfg) -> None:
    version = lookup(args.props, "version")
    if version is MISSING:
        return  # EKS picks the current default version
    supported = eks_versions.supported()
    if version not in supported:
        report(f"Kubernetes {version} is not in EKS standard or extended support on {clock.today()}; supported: {', '.join(supported)}.")


STANDARD_SUPPORT_WARNING_DAYS = 60


def _check_eks_forced_upgrade(args, report, cfg) -> None:
    """Under ``upgradePolicy.supportType: STANDARD`` EKS upgrades the control plane itself when
    standard support ends, outside Pulumi: node groups, addons and pins are left behind."""
    version = lookup(args.props, "version")
    support_type = lookup(args.props, "upgradePolicy", "supportType")
    if version is MISSING or support_type != "STANDARD":
        return
    lifecycle = eks_versions.lookup(str(version))
    if lifecycle is None:
        return  # eks-supported-version reports it
    forced = lifecycle.end_of_standard_support
    days_left = (forced - clock.today()).days
    warning_days = int(cfg("warningDays"))
    if days_left > warning_days:
        return
    when = f"in {days_left} days, on {forced}" if days_left > 0 else f"since {forced}"
    report(
        f"Kubernetes {version} leaves EKS standard support {when}; with upgradePolicy STANDARD, EKS upgrades the control plane "
        f"itself then, outside Pulumi. Upgrade `version` one minor (control plane, then addons, then node groups) before {forced}, "
        "or choose EXTENDED support (billed at the extended rate)."
    )


def _check_node_group_not_newer_than_cluster(args, report, cfg) -> None:
    clusters = {c.urn: c for c in of_types(args.resources, (EKS_CLUSTER,))}

    def check(node_group) -> None:
        version = lookup(node_group.props, "version")
        if version is MISSING:
            return  # unset: EKS uses the cluster's version
        for dep in node_group.property_dependencies.get("clusterName") or []:
            cluster = clusters.get(dep.urn)
            if cluster is None:
                continue
            cluster_version = lookup(cluster.props, "version")
            if cluster_version is MISSING:
                continue
            if eks_versions.minor_key(str(version)) > eks_versions.minor_key(str(cluster_version)):
                report(
                    f"{resource_label(node_group)} runs Kubernetes {version}, newer than its cluster's {cluster_version}; "
                    "a node group may lag the control plane, never lead it.",
                    node_group.urn,
                )

    each(of_types(args.resources, (EKS_NODE_GROUP,)), check)


def _check_node_imdsv2(args, report, cfg) -> None:
    if args.resource_type == EKS_NODE_GROUP:
        if not is_set(args.props, "launchTemplate"):
            report("the node group has no launch template, so IMDSv2 and root-volume encryption are not enforced; attach one.")
        return
    tokens = lookup(args.props, "metadataOptions", "httpTokens")
    if tokens != "required":
        report(f"metadataOptions.httpTokens is {tokens if tokens is not MISSING else 'unset (AWS default: optional)'}; set it to required (IMDSv2).")


def _check_node_root_volume_encrypted(args, report, cfg) -> None:
    mappings = as_list(lookup(args.props, "blockDeviceMappings"))
    if not mappings:
        report("no blockDeviceMappings: the root volume takes the AMI's default, which is unencrypted; map the root device with ebs.encrypted=true.")
    for mapping in mappings:
        if lookup(mapping, "ebs") is MISSING:
            continue
        if not is_true(lookup(mapping, "ebs", "encrypted")):
            report(f"EBS volume {lookup(mapping, 'deviceName')} is not encrypted (ebs.encrypted).")


def _check_gpu_ami_type(args, report, cfg) -> None:
    gpu_types = [t for t in as_list(lookup(args.props, "instanceTypes")) if isinstance(t, str) and is_gpu_ec2_type(t)]
    if not gpu_types:
        return
    ami_type = lookup(args.props, "amiType")
    if ami_type == "CUSTOM":
        return  # the launch template's AMI decides
    if ami_type not in eks_gpu_ami_types():
        report(f"GPU instance types {gpu_types} run on amiType {ami_type if ami_type is not MISSING else 'unset (AL2023 standard)'}, which has no NVIDIA driver; use one of {sorted(eks_gpu_ami_types())}.")


# ---------------------------------------------------------------------------------------------
# SageMaker


def variants(props) -> list:
    return as_list(lookup(props, "productionVariants")) + as_list(lookup(props, "shadowProductionVariants"))


def is_serverless_variant(variant) -> bool:
    return is_set(variant, "serverlessConfig") and not is_set(variant, "instanceType")


def _check_sagemaker_endpoint_kms(args, report, cfg) -> None:
    found = variants(args.props)
    if found and all(is_serverless_variant(v) for v in found):
        return  # KmsKeyId encrypts the ML instance's storage volume; serverless has none
    types = [t for t in (lookup(v, "instanceType") for v in found) if isinstance(t, str)]
    if types and any(has_instance_storage(t) for t in types):
        return  # local NVMe volumes, encrypted by the instance's hardware; KmsKeyId not accepted
    if not is_set(args.props, "kmsKeyArn"):
        report("kmsKeyArn is unset: the endpoint's ML storage volumes are not encrypted with a customer-managed key.")


def _check_sagemaker_data_capture(args, report, cfg) -> None:
    found = variants(args.props)
    if found and all(is_serverless_variant(v) for v in found):
        return  # serverless endpoints do not support data capture
    if not is_true(lookup(args.props, "dataCaptureConfig", "enableCapture")):
        report("data capture is off (dataCaptureConfig.enableCapture); model monitoring and audits need request/response capture.")
    elif not is_set(args.props, "dataCaptureConfig", "kmsKeyId"):
        report("captured data is not encrypted with a customer-managed key (dataCaptureConfig.kmsKeyId).")


def _check_sagemaker_model_network(args, report, cfg) -> None:
    configs = of_types(args.resources, (SAGEMAKER_ENDPOINT_CONFIG,))

    def check(model) -> None:
        if is_set(model.props, "vpcConfig") or is_true(lookup(model.props, "enableNetworkIsolation")):
            return
        # Serverless endpoints support neither VPC config nor network isolation (AWS feature exclusions).
        hosting = [c for c in configs if any(d.urn == model.urn for d in c.property_dependencies.get("productionVariants") or [])]
        if hosting and all(is_serverless_variant(v) for c in hosting for v in variants(c.props)):
            return
        report(f"{resource_label(model)} runs with internet access: set vpcConfig (private subnets) or enableNetworkIsolation=true.", model.urn)

    each(of_types(args.resources, (SAGEMAKER_MODEL,)), check)


def _check_sagemaker_notebook(args, report, cfg) -> None:
    direct = lookup(args.props, "directInternetAccess")
    if direct != "Disabled":
        report(f"directInternetAccess is {direct if direct is not MISSING else 'unset (AWS default: Enabled)'}; set Disabled and use a VPC subnet.")
    root = lookup(args.props, "rootAccess")
    if root != "Disabled":
        report(f"rootAccess is {root if root is not MISSING else 'unset (AWS default: Enabled)'}; set Disabled.")


# ---------------------------------------------------------------------------------------------
# ECR


def _check_ecr_scan_on_push(args, report, cfg) -> None:
    if not is_true(lookup(args.props, "imageScanningConfiguration", "scanOnPush")):
        report("imageScanningConfiguration.scanOnPush is not true.")


def _check_ecr_immutable(args, report, cfg) -> None:
    mutability = lookup(args.props, "imageTagMutability")
    if mutability not in ("IMMUTABLE", "IMMUTABLE_WITH_EXCLUSION"):
        report(f"imageTagMutability is {mutability if mutability is not MISSING else 'unset (AWS default: MUTABLE)'}; set IMMUTABLE.")


def _check_ecr_kms(args, report, cfg) -> None:
    configurations = as_list(lookup(args.props, "encryptionConfigurations"))
    if not any(lookup(c, "encryptionType") == "KMS" and is_set(c, "kmsKey") for c in configurations):
        report("the repository is not encrypted with a customer-managed KMS key (encryptionConfigurations: encryptionType KMS + kmsKey).")


# ---------------------------------------------------------------------------------------------
# CloudWatch Logs


def _check_log_retention(args, report, cfg) -> None:
    days = number(lookup(args.props, "retentionInDays"))
    minimum = cfg("minRetentionDays")
    if days is None or days <= 0:
        report("retentionInDays is unset or 0: logs never expire. Set a retention period.")
    elif days < minimum:
        report(f"retentionInDays is {days:g}; at least {minimum:g} days are required here.")


def _check_log_kms(args, report, cfg) -> None:
    if not cfg("requireKms"):
        return
    name = lookup(args.props, "name")
    if name is MISSING:
        name = lookup(args.props, "namePrefix")
    prefixes = cfg("namePrefixes") or []
    if prefixes and not (isinstance(name, str) and name.startswith(tuple(prefixes))):
        return
    if not is_set(args.props, "kmsKeyId"):
        report("the log group is not encrypted with a customer-managed KMS key (kmsKeyId).")


# --- The CI runner (AWS CodeBuild as a GitHub Actions runner) -------------------------------


def _filters(group) -> list:
    return [f for f in as_list(lookup(group, "filters")) if f is not MISSING]


def _check_runner_webhook(args, report, cfg) -> None:
    """A public repository's fork can queue workflow jobs; only a maintainer filter keeps them off the runner."""
    for index, group in enumerate(as_list(lookup(args.props, "filterGroups"))):
        filters = _filters(group)
        events = [lookup(f, "pattern") for f in filters if lookup(f, "type") == "EVENT"]
        if not any(isinstance(e, str) and "WORKFLOW_JOB_QUEUED" in e for e in events):
            continue
        actors = [f for f in filters if lookup(f, "type") == "ACTOR_ACCOUNT_ID" and not is_true(lookup(f, "excludeMatchedPattern"))]
        if not actors:
            report(
                f"filterGroups[{index}] builds WORKFLOW_JOB_QUEUED events from anyone; add an ACTOR_ACCOUNT_ID filter naming the "
                "maintainers' GitHub ids, or a fork's pull request can run code on the runner."
            )
    approval = lookup(args.props, "pullRequestBuildPolicy", "requiresCommentApproval")
    if approval is MISSING or approval == "DISABLED":
        state = "unset" if approval is MISSING else "DISABLED"
        report(f"pullRequestBuildPolicy.requiresCommentApproval is {state}; require approval for FORK_PULL_REQUESTS (or ALL_PULL_REQUESTS).")


def _check_codebuild_project(args, report, cfg) -> None:
    if is_true(lookup(args.props, "environment", "privilegedMode")):
        report("environment.privilegedMode is true (Docker-in-Docker as root); runner builds do not need it.")
    if not is_set(args.props, "encryptionKey"):
        report("encryptionKey is unset (AWS-managed key); name a customer-managed KMS key.")
    if not is_set(args.props, "vpcConfig", "vpcId"):
        report("the project has no vpcConfig; a runner that deploys to a private cluster runs in its private subnets.")
    if lookup(args.props, "logsConfig", "cloudwatchLogs", "status") == "DISABLED":
        report("logsConfig.cloudwatchLogs.status is DISABLED; keep build logs (encrypted, with a retention) for the audit trail.")


# ---------------------------------------------------------------------------------------------

S3_LOGGING_CONFIG = {
    "exemptNamePatterns": {"type": "array", "items": {"type": "string"}, "default": [], "description": "Regexes of resource names exempt from access logging."},
}

POLICIES = [
    stack_policy(
        "s3-public-access-block",
        "Every S3 bucket has a public access block with all four settings on.",
        category="security", severity=Severity.CRITICAL, check=_check_s3_public_access_block,
        remediation="Add aws.s3.BucketPublicAccessBlock(bucket=bucket.id, block_public_acls=True, block_public_policy=True, ignore_public_acls=True, restrict_public_buckets=True).",
        frameworks=[checkov("CKV_AWS_53", "Ensure S3 bucket has block public ACLS enabled")],
    ),
    resource_policy(
        "s3-no-public-acl-or-policy",
        "No S3 bucket ACL or bucket policy grants access to everyone.",
        types=BUCKET_TYPES + BUCKET_ACL_TYPES + BUCKET_POLICY_TYPES, category="security", severity=Severity.CRITICAL,
        check=_check_s3_no_public_access,
        remediation="Remove public canned ACLs and AllUsers/AuthenticatedUsers grants; give bucket-policy statements specific principals or conditions.",
        frameworks=[checkov("CKV_AWS_20", "S3 Bucket has an ACL defined which allows public READ access")],
    ),
    stack_policy(
        "s3-sse-kms-cmk",
        "Every S3 bucket (except access-log targets) defaults to SSE-KMS with a customer-managed key.",
        category="security", severity=Severity.HIGH, check=_check_s3_sse_kms,
        remediation="Add aws.s3.BucketServerSideEncryptionConfiguration with sse_algorithm='aws:kms', kms_master_key_id=<CMK ARN> and bucket_key_enabled=True.",
        frameworks=[checkov("CKV_AWS_145", "Ensure that S3 buckets are encrypted with KMS by default"), cis("1.4.0", "2.1.1", "Ensure all S3 buckets employ encryption-at-rest")],
    ),
    stack_policy(
        "s3-access-log-target-sse-s3",
        "Buckets that receive S3 server access logs use SSE-S3 (log delivery cannot write SSE-KMS objects).",
        category="security", severity=Severity.MEDIUM, check=_check_s3_log_target_sse_s3,
        remediation="Give the access-log bucket sse_algorithm='AES256'.",
    ),
    stack_policy(
        "s3-versioning",
        "Every S3 bucket has versioning enabled.",
        category="security", severity=Severity.MEDIUM, check=_check_s3_versioning,
        config={"exemptAccessLogTargets": {"type": "boolean", "default": False, "description": "Skip buckets that only receive access logs."}},
        remediation="Add aws.s3.BucketVersioning(bucket=bucket.id, versioning_configuration={'status': 'Enabled'}).",
        frameworks=[checkov("CKV_AWS_21", "Ensure all data stored in the S3 bucket have versioning enabled")],
    ),
    stack_policy(
        "s3-tls-only",
        "Every S3 bucket policy denies requests that do not use TLS.",
        category="security", severity=Severity.HIGH, check=_check_s3_tls_only,
        remediation="Add a Deny statement for Principal '*', Action 's3:*' on the bucket and its objects with Condition Bool aws:SecureTransport=false.",
        frameworks=[cis("3.0.0", "2.1.1", "Ensure S3 Bucket Policy is set to deny HTTP requests")],
    ),
    stack_policy(
        "s3-access-logging",
        "Every S3 bucket (other than access-log targets) has server access logging.",
        category="security", severity=Severity.MEDIUM, check=_check_s3_access_logging, config=S3_LOGGING_CONFIG,
        remediation="Add aws.s3.BucketLogging(bucket=bucket.id, target_bucket=<log bucket>.id, target_prefix='<bucket>/').",
        frameworks=[checkov("CKV_AWS_18", "Ensure the S3 bucket has access logging enabled")],
    ),
    resource_policy(
        "kms-key-rotation",
        "Symmetric KMS keys rotate their key material automatically.",
        types=KMS_KEY_TYPES, category="security", severity=Severity.HIGH, check=_check_kms_rotation,
        remediation="Set enable_key_rotation=True on the aws.kms.Key.",
        frameworks=[checkov("CKV_AWS_7", "Ensure rotation for customer created CMKs is enabled")],
    ),
    resource_policy(
        "kms-deletion-window",
        "KMS keys keep a deletion window long enough to undo a mistaken deletion.",
        types=KMS_KEY_TYPES, category="security", severity=Severity.MEDIUM, check=_check_kms_deletion_window,
        config={"minDays": {"type": "integer", "minimum": 7, "maximum": 30, "default": 7, "description": "Minimum deletionWindowInDays."}},
        remediation="Set deletion_window_in_days to at least the configured minimum (30 in staging and prod).",
    ),
    resource_policy(
        "iam-no-star-action",
        "No IAM policy allows every action (\"*\") or uses Allow with NotAction.",
        types=IAM_DOCUMENT_TYPES + (IAM_ROLE,), category="security", severity=Severity.CRITICAL, check=_check_iam_no_star_action,
        remediation="List the specific actions the workload needs (components/iam/policy.py Statement).",
        frameworks=[checkov("CKV_AWS_63", "Ensure no IAM policies documents allow \"*\" as a statement's actions")],
    ),
    resource_policy(
        "iam-no-star-resource-write",
        "No IAM policy allows write actions on Resource \"*\" without a condition.",
        types=IAM_DOCUMENT_TYPES + (IAM_ROLE,), category="security", severity=Severity.HIGH, check=_check_iam_no_star_resource_write,
        config={"allowedActions": {"type": "array", "items": {"type": "string"}, "default": [
            "cloudwatch:PutMetricData", "ec2:CreateNetworkInterface", "ec2:DeleteNetworkInterface",
            "ec2:CreateNetworkInterfacePermission", "ec2:DeleteNetworkInterfacePermission",
            "ec2:AssignPrivateIpAddresses", "ec2:UnassignPrivateIpAddresses", "xray:PutTraceSegments", "xray:PutTelemetryRecords",
        ], "description": "Actions that only accept Resource \"*\" (AWS service authorization reference)."}},
        remediation="Scope the statement's Resource to ARNs, or add a condition (e.g. aws:ResourceTag) that restricts it.",
        frameworks=[checkov("CKV_AWS_355", "Ensure no IAM policies documents allow \"*\" as a statement's resource for restrictable actions")],
    ),
    resource_policy(
        "iam-no-admin-attachments",
        "No role, user or group gets an administrator-level AWS-managed policy.",
        types=IAM_ATTACHMENT_TYPES + (IAM_ROLE,), category="security", severity=Severity.CRITICAL, check=_check_iam_no_admin_attachments,
        config={"deniedPolicyNames": {"type": "array", "items": {"type": "string"}, "default": ["AdministratorAccess", "PowerUserAccess", "IAMFullAccess", "AmazonSageMakerFullAccess"], "description": "AWS-managed policy names that must never be attached."}},
        remediation="Replace the managed policy with least-privilege grants (e.g. store.grant_read(role, prefix='models/')).",
        frameworks=[checkov("CKV_AWS_274", "Disallow IAM roles, users, and groups from using the AWS AdministratorAccess policy")],
    ),
    resource_policy(
        "iam-no-wildcard-trust",
        "No IAM role trust policy lets any principal assume the role.",
        types=(IAM_ROLE,), category="security", severity=Severity.CRITICAL, check=_check_iam_no_wildcard_trust,
        remediation="Name the service or account principals allowed to assume the role.",
        frameworks=[checkov("CKV_AWS_60", "Ensure IAM role allows only specific services or principals to assume it")],
    ),
    resource_policy(
        "iam-github-oidc-repo",
        "Roles trusted by GitHub Actions OIDC are restricted to one repository and the STS audience.",
        types=(IAM_ROLE,), category="security", severity=Severity.HIGH, check=_check_iam_github_oidc,
        remediation="Add StringEquals token.actions.githubusercontent.com:aud=sts.amazonaws.com and :sub=repo:<owner>/<repo>:environment:<env> (or :ref:refs/heads/main).",
        frameworks=[checkov("CKV_AWS_358", "Ensure AWS GitHub Actions OIDC authorization policies only allow safe claims and claim order")],
    ),
    resource_policy(
        "eks-secrets-encryption",
        "EKS clusters envelope-encrypt Kubernetes secrets with a customer-managed KMS key.",
        types=(EKS_CLUSTER,), category="security", severity=Severity.CRITICAL, check=_check_eks_secrets_encryption,
        remediation="Set encryption_config={'resources': ['secrets'], 'provider': {'key_arn': <CMK ARN>}}.",
        frameworks=[checkov("CKV_AWS_58", "Ensure EKS Cluster has Secrets Encryption Enabled")],
    ),
    resource_policy(
        "eks-control-plane-logging",
        "EKS control-plane audit (and API, authenticator) logs are enabled.",
        types=(EKS_CLUSTER,), category="security", severity=Severity.HIGH, check=_check_eks_audit_logging,
        config={"requiredLogTypes": {"type": "array", "items": {"type": "string", "enum": ["api", "audit", "authenticator", "controllerManager", "scheduler"]}, "default": ["api", "audit", "authenticator"]}},
        remediation="Set enabled_cluster_log_types to include the required types and give the /aws/eks/<cluster>/cluster log group a retention.",
        frameworks=[checkov("CKV_AWS_37", "Ensure Amazon EKS control plane logging enabled for all log types")],
    ),
    resource_policy(
        "eks-no-public-endpoint",
        "The EKS API server is not reachable from 0.0.0.0/0 (and not public at all where configured).",
        types=(EKS_CLUSTER,), category="security", severity=Severity.HIGH, check=_check_eks_public_endpoint,
        config={"allowPublicEndpoint": {"type": "boolean", "default": True, "description": "Permit a public endpoint restricted to specific CIDRs."}},
        remediation="Set vpc_config endpoint_public_access=False (endpoint_private_access=True), or list specific public_access_cidrs where a public endpoint is allowed.",
        frameworks=[checkov("CKV_AWS_38", "Ensure Amazon EKS public endpoint not accessible to 0.0.0.0/0"), checkov("CKV_AWS_39", "Ensure Amazon EKS public endpoint disabled")],
    ),
    resource_policy(
        "eks-supported-version",
        "EKS clusters run a Kubernetes version in EKS standard or extended support.",
        types=(EKS_CLUSTER,), category="security", severity=Severity.MEDIUM, check=_check_eks_supported_version,
        remediation="Upgrade `version` one minor at a time to a supported release (policies/awsfacts/eks_versions.json lists the lifecycle).",
        frameworks=[checkov("CKV_AWS_339", "Ensure EKS clusters run on a supported Kubernetes version")],
    ),
    resource_policy(
        "eks-standard-support-ending",
        "Under upgradePolicy STANDARD, warn before EKS force-upgrades the control plane at the end of standard support.",
        types=(EKS_CLUSTER,), category="reliability", severity=Severity.MEDIUM, check=_check_eks_forced_upgrade,
        level=EnforcementLevel.ADVISORY,
        config={"warningDays": {"type": "integer", "minimum": 0, "default": STANDARD_SUPPORT_WARNING_DAYS, "description": "Warn from this many days before the end of standard support."}},
        remediation="Bump eks.version by one minor (its pins must exist in components/data/eks_addons.json) before the date, or set eks.upgradePolicy to EXTENDED.",
    ),
    stack_policy(
        "eks-node-group-version",
        "No EKS node group runs a newer Kubernetes minor than its cluster.",
        category="reliability", severity=Severity.HIGH, check=_check_node_group_not_newer_than_cluster,
        remediation="Upgrade the control plane first, then addons, then node groups; leave a node group's version unset or equal to the cluster's.",
    ),
    resource_policy(
        "eks-node-imdsv2",
        "EKS worker nodes require IMDSv2 (node groups use a launch template with httpTokens=required).",
        types=LAUNCH_TEMPLATE_TYPES + (EKS_NODE_GROUP,), category="security", severity=Severity.HIGH, check=_check_node_imdsv2,
        remediation="Give the node group a launch template with metadata_options={'http_tokens': 'required', 'http_put_response_hop_limit': 1 or 2}.",
        frameworks=[checkov("CKV_AWS_79", "Ensure Instance Metadata Service Version 1 is not enabled")],
    ),
    resource_policy(
        "eks-node-root-volume-encrypted",
        "Node launch templates encrypt every EBS volume, including the root volume.",
        types=LAUNCH_TEMPLATE_TYPES, category="security", severity=Severity.HIGH, check=_check_node_root_volume_encrypted,
        remediation="Map the root device (/dev/xvda) in block_device_mappings with ebs={'encrypted': 'true', 'kms_key_id': <CMK ARN>}.",
    ),
    resource_policy(
        "eks-gpu-ami-type",
        "GPU instance types run only on GPU AMI types (with the NVIDIA driver).",
        types=(EKS_NODE_GROUP,), category="security", severity=Severity.MEDIUM, check=_check_gpu_ami_type,
        remediation="Set ami_type to AL2023_x86_64_NVIDIA or BOTTLEROCKET_x86_64_NVIDIA for GPU node groups.",
    ),
    resource_policy(
        "sagemaker-endpoint-kms",
        "SageMaker endpoint configurations encrypt ML storage volumes with a customer-managed KMS key.",
        types=(SAGEMAKER_ENDPOINT_CONFIG,), category="security", severity=Severity.HIGH, check=_check_sagemaker_endpoint_kms,
        remediation="Set kms_key_arn on the EndpointConfiguration (serverless-only configurations are exempt).",
        frameworks=[checkov("CKV_AWS_98", "Ensure all data stored in the Sagemaker Endpoint is securely encrypted at rest")],
    ),
    resource_policy(
        "sagemaker-data-capture",
        "SageMaker endpoint configurations capture requests and responses (KMS-encrypted) outside dev.",
        types=(SAGEMAKER_ENDPOINT_CONFIG,), category="security", severity=Severity.MEDIUM, check=_check_sagemaker_data_capture,
        remediation="Set data_capture_config with enable_capture=True, a destination under the artifact store's data-capture/ prefix and kms_key_id.",
    ),
    stack_policy(
        "sagemaker-model-network",
        "SageMaker models run in a VPC or with network isolation (models only served serverless are exempt).",
        category="security", severity=Severity.MEDIUM, check=_check_sagemaker_model_network,
        remediation="Set vpc_config with private subnets and a security group, or enable_network_isolation=True.",
    ),
    resource_policy(
        "sagemaker-notebook-hardened",
        "SageMaker notebook instances have no direct internet access and no root access.",
        types=(SAGEMAKER_NOTEBOOK,), category="security", severity=Severity.HIGH, check=_check_sagemaker_notebook,
        remediation="Set direct_internet_access='Disabled' with a subnet_id, and root_access='Disabled'.",
        frameworks=[checkov("CKV_AWS_122", "Ensure that direct internet access is disabled for an Amazon SageMaker Notebook Instance"), checkov("CKV_AWS_307", "Ensure SageMaker Users should not have root access to SageMaker notebook instances")],
    ),
    resource_policy(
        "ecr-scan-on-push",
        "ECR repositories scan images on push.",
        types=(ECR_REPOSITORY,), category="security", severity=Severity.MEDIUM, check=_check_ecr_scan_on_push,
        remediation="Set image_scanning_configuration={'scan_on_push': True}.",
        frameworks=[checkov("CKV_AWS_163", "Ensure ECR image scanning on push is enabled")],
    ),
    resource_policy(
        "ecr-immutable-tags",
        "ECR repositories use immutable image tags.",
        types=(ECR_REPOSITORY,), category="security", severity=Severity.MEDIUM, check=_check_ecr_immutable,
        remediation="Set image_tag_mutability='IMMUTABLE'.",
        frameworks=[checkov("CKV_AWS_51", "Ensure ECR Image Tags are immutable")],
    ),
    resource_policy(
        "ecr-kms-encryption",
        "ECR repositories are encrypted with a customer-managed KMS key.",
        types=(ECR_REPOSITORY,), category="security", severity=Severity.MEDIUM, check=_check_ecr_kms,
        remediation="Set encryption_configurations=[{'encryption_type': 'KMS', 'kms_key': <CMK ARN>}].",
        frameworks=[checkov("CKV_AWS_136", "Ensure that ECR repositories are encrypted using KMS")],
    ),
    resource_policy(
        "log-group-retention",
        "CloudWatch log groups set a retention period (at least the configured minimum).",
        types=(LOG_GROUP,), category="security", severity=Severity.MEDIUM, check=_check_log_retention,
        config={"minRetentionDays": {"type": "integer", "minimum": 1, "default": 1, "description": "Minimum retentionInDays."}},
        remediation="Set retention_in_days to a CloudWatch-supported value at or above the minimum.",
        frameworks=[checkov("CKV_AWS_66", "Ensure that CloudWatch Log Group specifies retention days")],
    ),
    resource_policy(
        "log-group-kms",
        "CloudWatch log groups that require it are encrypted with a customer-managed KMS key.",
        types=(LOG_GROUP,), category="security", severity=Severity.MEDIUM, check=_check_log_kms,
        config={
            "requireKms": {"type": "boolean", "default": False, "description": "Require kmsKeyId on matching log groups."},
            "namePrefixes": {"type": "array", "items": {"type": "string"}, "default": [], "description": "Log-group name prefixes the requirement applies to (empty: all)."},
        },
        remediation="Set kms_key_id to a CMK whose key policy allows logs.<region>.amazonaws.com.",
        frameworks=[checkov("CKV_AWS_158", "Ensure that CloudWatch Log Group is encrypted by KMS")],
    ),
    resource_policy(
        "codebuild-runner-webhook-maintainers-only",
        "CodeBuild runner webhooks build WORKFLOW_JOB_QUEUED events only from listed GitHub actors, and fork pull requests need approval.",
        types=(CODEBUILD_WEBHOOK,), category="security", severity=Severity.CRITICAL, check=_check_runner_webhook,
        remediation="Add filter {type: ACTOR_ACCOUNT_ID, pattern: '^(<id>|<id>)$'} to every WORKFLOW_JOB_QUEUED filter group (ciRunner.allowedActorIds) and pull_request_build_policy requires_comment_approval=FORK_PULL_REQUESTS.",
    ),
    resource_policy(
        "codebuild-project-hardened",
        "CodeBuild projects run unprivileged, in the VPC, with a customer-managed key and CloudWatch build logs.",
        types=(CODEBUILD_PROJECT,), category="security", severity=Severity.HIGH, check=_check_codebuild_project,
        remediation="Set environment.privileged_mode=False, vpc_config on the private subnets, encryption_key to a CMK and logs_config.cloudwatch_logs enabled.",
    ),
]
