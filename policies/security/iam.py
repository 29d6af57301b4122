"""IAM policies: no administrator grants, no write on Resource "*", no open or loose trust (GitHub OIDC included),
no wildcard SageMaker or PassRole grants on a training pipeline's role."""

from __future__ import annotations

import re
from typing import Any

from awsfacts import PIPELINE_ROLE_TAG_VALUE, ROLE_TAG
from packlib import (
    IAM_ATTACHMENT_TYPES,
    IAM_DOCUMENT_TYPES,
    IAM_ROLE,
    IAM_ROLE_POLICY,
    MISSING,
    SAGEMAKER_PIPELINE,
    PolicyList,
    Severity,
    as_list,
    checkov,
    dependents,
    each,
    json_input,
    lookup,
    of_types,
    principals,
    raw,
    resource_label,
    statement_values,
    statements,
)
from pulumi_policy.proxy import UnknownValueError

POLICIES = PolicyList()

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


@POLICIES.resource(
    "iam-no-star-action",
    "No IAM policy allows every action (\"*\") or uses Allow with NotAction.",
    types=IAM_DOCUMENT_TYPES + (IAM_ROLE,), category="security", severity=Severity.CRITICAL,
    remediation="List the specific actions the workload needs (components/iam/policy.py Statement).",
    frameworks=[checkov("CKV_AWS_63", "Ensure no IAM policies documents allow \"*\" as a statement's actions")],
)
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


@POLICIES.resource(
    "iam-no-star-resource-write",
    "No IAM policy allows write actions on Resource \"*\" without a condition.",
    types=IAM_DOCUMENT_TYPES + (IAM_ROLE,), category="security", severity=Severity.HIGH,
    config={"allowedActions": {"type": "array", "items": {"type": "string"}, "default": [
        "cloudwatch:PutMetricData", "ec2:CreateNetworkInterface", "ec2:DeleteNetworkInterface",
        "ec2:CreateNetworkInterfacePermission", "ec2:DeleteNetworkInterfacePermission",
        "ec2:AssignPrivateIpAddresses", "ec2:UnassignPrivateIpAddresses", "xray:PutTraceSegments", "xray:PutTelemetryRecords",
    ], "description": "Actions that only accept Resource \"*\" (AWS service authorization reference)."}},
    remediation="Scope the statement's Resource to ARNs, or add a condition (e.g. aws:ResourceTag) that restricts it.",
    frameworks=[checkov("CKV_AWS_355", "Ensure no IAM policies documents allow \"*\" as a statement's resource for restrictable actions")],
)
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


@POLICIES.resource(
    "iam-no-admin-attachments",
    "No role, user or group gets an administrator-level AWS-managed policy.",
    types=IAM_ATTACHMENT_TYPES + (IAM_ROLE,), category="security", severity=Severity.CRITICAL,
    config={"deniedPolicyNames": {"type": "array", "items": {"type": "string"}, "default": ["AdministratorAccess", "PowerUserAccess", "IAMFullAccess", "AmazonSageMakerFullAccess"], "description": "AWS-managed policy names that must never be attached."}},
    remediation="Replace the managed policy with least-privilege grants (e.g. store.grant_read(role, prefix='models/')).",
    frameworks=[checkov("CKV_AWS_274", "Disallow IAM roles, users, and groups from using the AWS AdministratorAccess policy")],
)
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


@POLICIES.resource(
    "iam-no-wildcard-trust",
    "No IAM role trust policy lets any principal assume the role.",
    types=(IAM_ROLE,), category="security", severity=Severity.CRITICAL,
    remediation="Name the service or account principals allowed to assume the role.",
    frameworks=[checkov("CKV_AWS_60", "Ensure IAM role allows only specific services or principals to assume it")],
)
def _check_iam_no_wildcard_trust(args, report, cfg) -> None:
    document = json_input(args.props, "assumeRolePolicy")
    for statement in statements(document):
        if statement.get("Effect") == "Allow" and "*" in principals(statement) and not statement.get("Condition"):
            report("the trust policy lets any principal (\"*\") assume the role without a condition.")


GITHUB_OIDC_HOST = "token.actions.githubusercontent.com"
# The owner and repository must be literal; the ref/environment part may use StringLike wildcards.
REPO_SUBJECT = re.compile(r"^repo:[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+:.+$")


@POLICIES.resource(
    "iam-github-oidc-repo",
    "Roles trusted by GitHub Actions OIDC are restricted to one repository and the STS audience.",
    types=(IAM_ROLE,), category="security", severity=Severity.HIGH,
    remediation="Add StringEquals token.actions.githubusercontent.com:aud=sts.amazonaws.com and :sub=repo:<owner>/<repo>:environment:<env> (or :ref:refs/heads/main).",
    frameworks=[checkov("CKV_AWS_358", "Ensure AWS GitHub Actions OIDC authorization policies only allow safe claims and claim order")],
)
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


# IAM wildcards in action names: "*" any run of characters, "?" one character (service prefixes and
# action names are case-insensitive).
_WILDCARD = re.compile(r"[*?]")
PASSED_TO_SERVICE = "iam:PassedToService"
# Operators under which iam:PassedToService narrows the grant (negated and ...IfExists ones do not).
NARROWING_OPERATORS = ("StringEquals", "StringLike", "ForAnyValue:StringEquals", "ForAnyValue:StringLike")


def _glob(pattern: str, value: str) -> bool:
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, value, re.IGNORECASE) is not None


def _wildcard_action_problems(action: str) -> list[str]:
    if not _WILDCARD.search(action):
        return []
    service, _, name = action.partition(":")
    name = name or "*"  # a bare "*" is every action of every service
    grants = []
    if _glob(service, "sagemaker"):
        grants.append("every SageMaker action it matches")
    if _glob(service, "iam") and _glob(name, "PassRole"):
        grants.append("iam:PassRole")
    return [f"Action \"{action}\" is a wildcard that grants {' and '.join(grants)}; list the actions by name."] if grants else []


def _passes_to_named_services(statement: dict) -> bool:
    condition = statement.get("Condition") if isinstance(statement.get("Condition"), dict) else {}
    for operator in NARROWING_OPERATORS:
        block = condition.get(operator)
        if not isinstance(block, dict):
            continue
        for key, values in block.items():
            values = as_list(values)
            if key.lower() == PASSED_TO_SERVICE.lower() and values and all(isinstance(v, str) and not _WILDCARD.search(v) for v in values):
                return True
    return False


def _pass_role_problems(statement: dict) -> list[str]:
    problems = []
    if statement.get("NotResource") is not None:
        problems.append("allows iam:PassRole with NotResource, which passes every role not listed")
    wildcards = [r for r in statement_values(statement, "Resource") if _WILDCARD.search(r)]
    if wildcards:
        problems.append(f"allows iam:PassRole on {wildcards}: name the role it passes (its own ARN)")
    if not _passes_to_named_services(statement):
        problems.append(f"allows iam:PassRole without an {PASSED_TO_SERVICE} condition naming the service (sagemaker.amazonaws.com)")
    return problems


def pipeline_role_problems(document) -> list[str]:
    """What in an identity policy gives a pipeline role wildcard SageMaker or PassRole permissions."""
    problems = []
    for statement in statements(document):
        if statement.get("Effect") != "Allow":
            continue
        sid = f"statement {statement['Sid']!r}" if isinstance(statement.get("Sid"), str) else "a statement"
        if statement.get("NotAction") is not None:
            problems.append(f"{sid} combines Allow with NotAction, which grants every SageMaker and IAM action not listed")
        actions = _actions(statement)
        problems += [f"{sid}: {p}" for a in actions for p in _wildcard_action_problems(a)]
        if any(a.lower() == "iam:passrole" for a in actions):
            problems += [f"{sid} {p}" for p in _pass_role_problems(statement)]
    return problems


def _is_pipeline_role(role) -> bool:
    tags = raw(lookup(role.props, "tags"))
    return isinstance(tags, dict) and tags.get(ROLE_TAG) == PIPELINE_ROLE_TAG_VALUE


def _roles_pipelines_run_as(resources, roles) -> set[str]:
    """URNs of the roles a Pipeline's roleArn names: by dependency, or a literal ARN by the role's name."""
    found = set()
    names = {}
    for role in roles:
        try:
            names[role.urn] = raw(lookup(role.props, "name"))
        except UnknownValueError:
            continue  # an unknown name matches no literal ARN
    for pipeline in of_types(resources, (SAGEMAKER_PIPELINE,)):
        deps = pipeline.property_dependencies.get("roleArn") or []
        found |= {d.urn for d in deps if d.resource_type == IAM_ROLE}
        if deps:
            continue
        try:
            arn = raw(lookup(pipeline.props, "roleArn"))
        except UnknownValueError:
            continue  # computed elsewhere (no dependency on a role of this stack)
        if isinstance(arn, str) and ":role/" in arn:
            found |= {urn for urn, name in names.items() if isinstance(name, str) and arn.rsplit("/", 1)[-1] == name}
    return found


@POLICIES.stack(
    "iam-pipeline-role-no-wildcards",
    "Training pipeline roles (tagged mlops:role=training-pipeline, or named by a Pipeline's roleArn) grant no wildcard SageMaker actions and no wildcard or unconditioned iam:PassRole.",
    category="security", severity=Severity.CRITICAL,
    remediation="Use components/training/pipeline_role.py's statements: named SageMaker actions on pipelines-* jobs, and iam:PassRole on the role's own ARN "
                "with StringEquals iam:PassedToService=sagemaker.amazonaws.com.",
)
def _check_pipeline_role(args, report, cfg) -> None:
    # The pipeline's containers hold the role's credentials: a wildcard over SageMaker lets them
    # start any job or endpoint, and a loose PassRole lets them hand any role to a service they
    # control, which is privilege escalation.
    roles = of_types(args.resources, (IAM_ROLE,))
    referenced = _roles_pipelines_run_as(args.resources, roles)

    def check_role(role) -> None:
        if role.urn not in referenced and not _is_pipeline_role(role):
            return
        holders = [role, *dependents(role, args.resources, (IAM_ROLE_POLICY,), key="role", name_key="name")]

        def check_holder(holder) -> None:
            for label, document in policy_documents(holder):
                for problem in pipeline_role_problems(document):
                    report(f"pipeline role {resource_label(role)}, {label} of {resource_label(holder)}: {problem}.", holder.urn)

        each(holders, check_holder)

    each(roles, check_role)
