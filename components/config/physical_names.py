"""Physical names that both the stack and bootstrap build from ``namePrefix`` / ``--name``.

Each has one builder here: the namePrefix rule (``base.py``) is derived from their lengths,
bootstrap scopes its deploy role to them and checks them against botocore before any AWS call,
and the components create them. S3's bucket naming rules, which botocore lacks, are here too
(:func:`bucket_name_problem`, from aws_facts.json), for the stack's buckets and bootstrap's state
bucket alike. Standard library only (``policies.awsfacts`` is too).
"""

from __future__ import annotations

import ipaddress
import re

from policies.awsfacts.instances import facts

# Stem of the replica's access-log bucket (components/storage): the longest bucket stem, hence
# the one that bounds namePrefix (stems: artifacts, access-logs, replica, replica-logs).
REPLICA_LOG_BUCKET_STEM = "replica-logs"
# Stem of the artifact store's data bucket, <namePrefix>-<environment>-artifacts-<unique suffix>.
ARTIFACTS_BUCKET_STEM = "artifacts"


def name_stem(name_prefix: str, environment: str) -> str:
    """The stem of a stack's physical names, e.g. ``mlops-prod`` (``PlatformConfig.resource_name()``);
    another environment's stem too, which the policies shared between environments name."""
    return f"{name_prefix}-{environment}"


def deploy_role_name(name: str, environment: str) -> str:
    """Bootstrap's CI role that runs ``pulumi up`` of an environment, e.g. ``mlops-deploy-prod``."""
    return f"{name}-deploy-{environment}"


def preview_role_name(name: str, environment: str) -> str:
    """Bootstrap's CI role that previews an environment's pull requests, e.g. ``mlops-preview-prod``."""
    return f"{name}-preview-{environment}"


def serving_role_path(name_stem: str) -> str:
    """The IAM path of a stack's SageMaker endpoint execution roles, e.g. ``/mlops-prod/serving/``.

    The roles are auto-named; the path makes their ARNs one pattern
    (``arn:aws:iam::<account>:role/mlops-prod/serving/*``) that another environment's resource
    policies can match with ``aws:PrincipalArn`` before any of the roles exists. No other role of
    the platform has a path.
    """
    return f"/{name_stem}/serving/"


def artifact_bucket_prefix(name_stem: str) -> str:
    """What the artifact store's bucket name starts with, e.g. ``mlops-prod-artifacts-`` (S3 appends a
    unique suffix); another environment's policies match its bucket by this prefix."""
    return f"{name_stem}-{ARTIFACTS_BUCKET_STEM}-"


def runner_project_name(name_stem: str) -> str:
    """The CodeBuild GitHub Actions runner project of a stack, e.g. ``mlops-prod-gha-runner``:
    deterministic, because the workflows' ``runs-on`` label embeds it."""
    return f"{name_stem}-gha-runner"


def alerts_topic_name(name_stem: str) -> str:
    """The stack's SNS alert topic, e.g. ``mlops-prod-alerts``: deterministic, because the alerts
    key's policy names the topic (its encryption context) before the topic exists."""
    return f"{name_stem}-alerts"


def dispatch_connection_name(name_stem: str) -> str:
    """The EventBridge connection (and API destination) that calls GitHub's repository_dispatch, e.g.
    ``mlops-prod-github-dispatch``: deterministic, because ``mlopsctl dispatch-token`` sets its token."""
    return f"{name_stem}-github-dispatch"


def dispatch_queue_name(name_stem: str) -> str:
    """The dead-letter queue of approval dispatches GitHub did not accept, e.g. ``mlops-prod-dispatch-dlq``."""
    return f"{name_stem}-dispatch-dlq"


def dispatch_rule_name(name_stem: str, endpoint: str) -> str:
    """The approval rule of one endpoint's model package group, e.g. ``mlops-prod-churn-promote``;
    under the stem, as the alert topic's policy and the deploy role expect of every rule."""
    return f"{name_stem}-{endpoint}-promote"


def training_pipeline_name(name_stem: str, endpoint: str) -> str:
    """The SageMaker pipeline that retrains one endpoint's family, e.g. ``mlops-prod-churn-training``:
    deterministic, because its role's policy and the retrain guard's name it before it exists."""
    return f"{name_stem}-{endpoint}-training"


def retrain_guard_name(name_stem: str, endpoint: str) -> str:
    """The Step Functions state machine in front of a family's pipeline, e.g. ``mlops-prod-churn-retrain-guard``."""
    return f"{name_stem}-{endpoint}-retrain-guard"


def retrain_rule_name(name_stem: str, endpoint: str, trigger: str) -> str:
    """A rule that starts a family's retrain guard, e.g. ``mlops-prod-churn-retrain-schedule`` or
    ``mlops-prod-churn-retrain-drift``; under the stem, as the alert topic's policy expects of every rule.
    Within EventBridge's 64 characters (and the guard's name within Step Functions' 80) because
    ``<stem>-<endpoint>`` is at most 36 (the endpoint config's name check)."""
    return f"{name_stem}-{endpoint}-retrain-{trigger}"


def experiments_name(name_stem: str) -> str:
    """The stack's MLflow app or tracking server, e.g. ``mlops-dev-mlflow``."""
    return f"{name_stem}-mlflow"


def state_bucket_name(name: str, account: str, region: str) -> str:
    """Bootstrap's Pulumi state bucket; account and region make the global name predictable and collision-free."""
    return f"{name}-pulumi-state-{account}-{region}"


def github_connection_name(name: str) -> str:
    """The CodeConnections connection to GitHub that bootstrap creates and the runner project uses."""
    return f"{name}-github"


def image_repository_name(name_stem: str, repository: str) -> str:
    """An ECR repository of the stack, e.g. ``mlops-prod/serve`` (``images.repositories[].name``)."""
    return f"{name_stem}/{repository}"


def image_push_role_prefix(name: str) -> str:
    """What every image push role's name starts with (``<name>-push-``), which no stack-made role's does."""
    return f"{name}-push-"


def image_push_role_name(name: str, environment: str, pusher: str) -> str:
    """The GitHub OIDC role a model repository's CI pushes images with, e.g. ``mlops-push-prod-churn``:
    bootstrap creates it (``--image-pushers``), the stack's repository policies name it, like the
    deploy role ``<name>-deploy-<env>``."""
    return f"{image_push_role_prefix(name)}{environment}-{pusher}"


# Stems of the artifact store's buckets, <namePrefix>-<environment>-<stem>-<unique suffix>
# (components/storage): the data bucket, its access logs, and the replica with its access logs.
BUCKET_STEMS: tuple[str, ...] = (ARTIFACTS_BUCKET_STEM, "access-logs", "replica", REPLICA_LOG_BUCKET_STEM)


def bucket_name_problem(name: str) -> str | None:
    """Why S3 refuses ``name`` as a general purpose bucket name, or None (rules: aws_facts.json)."""
    rules = facts()["s3BucketNaming"]
    if not rules["minLength"] <= len(name) <= rules["maxLength"]:
        return f"is {len(name)} characters; S3 allows {rules['minLength']}-{rules['maxLength']}"
    if not re.fullmatch(rules["pattern"], name):
        return "may hold only lowercase letters, digits, '.' and '-', and must begin and end with a letter or digit"
    if ".." in name:
        return "holds two adjacent periods"
    try:
        ipaddress.IPv4Address(name)
    except ValueError:
        pass
    else:
        return "is formatted as an IP address"
    prefix = next((p for p in rules["forbiddenPrefixes"] if name.startswith(p)), None)
    if prefix:
        return f"starts with {prefix!r}, a prefix S3 reserves"
    suffix = next((s for s in rules["forbiddenSuffixes"] if name.endswith(s)), None)
    if suffix:
        return f"ends with {suffix!r}, a suffix S3 reserves"
    return None
