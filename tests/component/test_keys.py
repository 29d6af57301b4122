"""PlatformKeys under mocks: one key per purpose, rotation, deletion window, aliases, key policies,
and the grants (PlatformKey) through which every other component gets to use a key."""

from __future__ import annotations

import ast
import json

import pulumi
import pulumi_aws as aws
import pytest

from components.iam.peers import PeerStack
from components.iam.policy import PolicyError, Statement, expand_action, policy_document
from components.keys import GRANT_ACTIONS, KEY_PURPOSES, KEY_USE_ACTIONS, KmsAction, PlatformKey, PlatformKeys, PlatformKeysArgs
from components.scope import scope_for
from mlopsctl.offline.harness import ACCOUNT_ID
from tests.support.iam_eval import service_is_allowed
from tests.support.programs import run_component
from tests.support.stacks import ROOT as REPO
from tests.support.stacks import STACK_ACCOUNTS, stack_config, stack_preview

ROOT = f"arn:aws:iam::{ACCOUNT_ID}:root"
ADMIN = {"Sid": "EnableIamPolicies", "Effect": "Allow", "Principal": {"AWS": [ROOT]}, "Action": ["kms:*"], "Resource": ["*"]}
USE = sorted(
    ["kms:Encrypt", "kms:Decrypt", "kms:ReEncryptFrom", "kms:ReEncryptTo", "kms:GenerateDataKey", "kms:GenerateDataKeyWithoutPlaintext", "kms:DescribeKey"]
)


def platform_keys(config, provider: aws.Provider, *, shared_with_account: str | None = None) -> PlatformKeys:
    """The keys of ``config``'s stack; with ``shared_with_account``, the artifacts key shares models with that account's prod stack."""
    scope = scope_for(config, account_id=ACCOUNT_ID)
    peer = PeerStack(environment="prod", account=shared_with_account, name_prefix=config.name_prefix, scope=scope) if shared_with_account else None
    args = PlatformKeysArgs(scope=scope, deletion_window_days=config.storage.kms_deletion_window_days, protect=config.storage.protect, shared_with=peer)
    return PlatformKeys("keys", args, opts=pulumi.ResourceOptions(providers={"aws": provider}))


def _build(stack: str, **options):
    config = stack_config(stack)

    def program():
        platform_keys(config, aws.Provider("aws", region=config.region), **options)

    return run_component(program)


@pytest.fixture(scope="module")
def dev():
    return _build("dev")


def _policy(rec, stem):
    return json.loads(rec.one("aws:kms/key:Key", f"keys-{stem}").inputs["policy"])


def test_one_rotating_key_per_purpose_with_alias_and_configured_window(dev):
    keys = dev.of_type("aws:kms/key:Key")
    assert sorted(k.name for k in keys) == sorted(f"keys-{stem}" for stem, _ in KEY_PURPOSES.values())
    for key in keys:
        assert key.inputs["enableKeyRotation"] is True
        assert key.inputs["deletionWindowInDays"] == 7  # dev default window
        assert key.inputs["keyUsage"] == "ENCRYPT_DECRYPT"
        assert key.parent == dev.one("mlops:security:PlatformKeys").urn
    aliases = {a.inputs["name"]: a for a in dev.of_type("aws:kms/alias:Alias")}
    assert sorted(aliases) == ["alias/mlops-dev-alerts", "alias/mlops-dev-artifacts", "alias/mlops-dev-dispatch", "alias/mlops-dev-ebs", "alias/mlops-dev-eks-secrets", "alias/mlops-dev-images", "alias/mlops-dev-logs"]
    artifacts_key = dev.one("aws:kms/key:Key", "keys-artifacts")
    assert aliases["alias/mlops-dev-artifacts"].propertyDependencies["targetKeyId"] == [artifacts_key.urn]


def test_artifacts_eks_secrets_and_images_keys_trust_only_the_account_through_iam(dev):
    assert _policy(dev, "artifacts") == {"Version": "2012-10-17", "Statement": [ADMIN]}
    assert _policy(dev, "eks-secrets") == {"Version": "2012-10-17", "Statement": [ADMIN]}
    # ECR uses the images key through the grants it creates when the deploy role creates a repository.
    assert _policy(dev, "images") == {"Version": "2012-10-17", "Statement": [ADMIN]}


def test_a_shared_artifacts_key_lets_the_next_environments_serving_roles_decrypt_its_artifact_bucket_through_s3():
    """Another account's roles need the key policy itself; its root is named, narrowed to the serving
    roles' IAM path (a key policy naming a role that does not exist yet is refused)."""
    rec = _build("staging", shared_with_account="444455556666")
    assert _policy(rec, "artifacts")["Statement"] == [
        ADMIN,
        {
            "Sid": "AllowPromotedToServingRolesToReadModelsThroughS3",
            "Effect": "Allow",
            "Principal": {"AWS": ["arn:aws:iam::444455556666:root"]},
            "Action": ["kms:Decrypt"],
            "Resource": ["*"],
            "Condition": {
                "StringEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com"},
                "ArnLike": {"aws:PrincipalArn": ["arn:aws:iam::444455556666:role/mlops-prod/serving/*"]},
                # With the bucket key, S3's context is the bucket's ARN; without it, the object's: both under this prefix.
                "StringLike": {"kms:EncryptionContext:aws:s3:arn": "arn:aws:s3:::mlops-staging-artifacts-*"},
            },
        },
    ]
    # Pullers need nothing of the images key (ECR decrypts layers under its own grants); no other key is shared.
    for stem in ("images", "eks-secrets", "ebs", "logs", "alerts"):
        assert all("Promoted" not in s["Sid"] for s in _policy(rec, stem)["Statement"]), stem


def test_ebs_key_lets_the_auto_scaling_service_linked_role_encrypt_and_attach_volumes(dev):
    slr = f"arn:aws:iam::{ACCOUNT_ID}:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling"
    assert _policy(dev, "ebs")["Statement"] == [
        ADMIN,
        {"Sid": "AllowAutoScalingToUseKeyForVolumes", "Effect": "Allow", "Principal": {"AWS": [slr]}, "Action": USE, "Resource": ["*"]},
        {
            "Sid": "AllowAutoScalingToAttachVolumes",
            "Effect": "Allow",
            "Principal": {"AWS": [slr]},
            "Action": ["kms:CreateGrant"],
            "Resource": ["*"],
            "Condition": {"Bool": {"kms:GrantIsForAWSResource": "true"}},
        },
    ]


def test_logs_key_trusts_the_regional_logs_service_for_this_accounts_log_groups_only(dev):
    assert _policy(dev, "logs")["Statement"] == [
        ADMIN,
        {
            "Sid": "AllowCloudWatchLogsForThisAccountsLogGroups",
            "Effect": "Allow",
            "Principal": {"Service": ["logs.us-east-1.amazonaws.com"]},
            "Action": USE,
            "Resource": ["*"],
            "Condition": {"ArnLike": {"kms:EncryptionContext:aws:logs:arn": f"arn:aws:logs:us-east-1:{ACCOUNT_ID}:log-group:*"}},
        },
    ]


ALERT_TOPIC = f"arn:aws:sns:us-east-1:{ACCOUNT_ID}:mlops-dev-alerts"
ALARM = f"arn:aws:cloudwatch:us-east-1:{ACCOUNT_ID}:alarm:mlops-dev-churn-primary-server-errors"
RULE = f"arn:aws:events:us-east-1:{ACCOUNT_ID}:rule/mlops-dev-endpoint-status"


def _publishing(service: str, action: str, policy: dict, *, topic: str = ALERT_TOPIC, **context: str) -> bool:
    """Whether ``service`` may call ``action`` on the key as SNS asks it to when it publishes to ``topic``."""
    key_arn = f"arn:aws:kms:us-east-1:{ACCOUNT_ID}:key/alerts"
    return service_is_allowed(policy, service, action, key_arn, {"kms:EncryptionContext:aws:sns:topicArn": topic, **context})


def test_alerts_key_lets_this_accounts_alarms_publish_to_the_encrypted_topic_and_no_one_elses(dev):
    """The classic mistake: an SSE-KMS topic whose key CloudWatch cannot use drops every alarm silently."""
    policy = _policy(dev, "alerts")
    ours = {"aws:SourceAccount": ACCOUNT_ID, "aws:SourceArn": ALARM}
    for action in ("kms:GenerateDataKey", "kms:Decrypt"):
        assert _publishing("cloudwatch.amazonaws.com", action, policy, **ours), action
    other_account = {"aws:SourceAccount": "999999999999", "aws:SourceArn": ALARM.replace(ACCOUNT_ID, "999999999999")}
    assert not _publishing("cloudwatch.amazonaws.com", "kms:GenerateDataKey", policy, **other_account)
    assert not _publishing("cloudwatch.amazonaws.com", "kms:GenerateDataKey", policy, **{**ours, "aws:SourceAccount": "999999999999"})
    assert not _publishing("cloudwatch.amazonaws.com", "kms:GenerateDataKey", policy, **{**ours, "aws:SourceArn": RULE})  # not an alarm
    assert not _publishing("cloudwatch.amazonaws.com", "kms:GenerateDataKey", policy, topic=ALERT_TOPIC + "-other", **ours)
    assert not _publishing("cloudwatch.amazonaws.com", "kms:GenerateDataKey", policy)  # no source: a confused deputy
    # Exactly what publishing needs: no encrypt/re-encrypt, no grants, no key administration.
    for action in ("kms:Encrypt", "kms:ReEncryptFrom", "kms:CreateGrant", "kms:DescribeKey", "kms:PutKeyPolicy"):
        assert not _publishing("cloudwatch.amazonaws.com", action, policy, **ours), action
    assert not _publishing("sns.amazonaws.com", "kms:GenerateDataKey", policy, **ours)


def test_alerts_key_lets_eventbridge_publish_to_the_alert_topic_only(dev):
    # EventBridge's KMS requests carry no aws:SourceArn/aws:SourceAccount, so its statement cannot
    # ask for them (it would never hold); the topic's encryption context is what scopes it.
    policy = _policy(dev, "alerts")
    for action in ("kms:GenerateDataKey", "kms:Decrypt"):
        assert _publishing("events.amazonaws.com", action, policy), action
    assert not _publishing("events.amazonaws.com", "kms:GenerateDataKey", policy, topic=f"arn:aws:sns:us-east-1:{ACCOUNT_ID}:someone-elses-topic")
    assert not _publishing("events.amazonaws.com", "kms:GenerateDataKey", policy, topic=ALERT_TOPIC.replace(ACCOUNT_ID, "999999999999"))
    assert not _publishing("events.amazonaws.com", "kms:Encrypt", policy)
    statements = {s["Sid"]: s for s in policy["Statement"]}
    assert statements["AllowEventBridgeForTheAlertTopic"]["Condition"] == {"StringLike": {"kms:EncryptionContext:aws:sns:topicArn": ALERT_TOPIC}}
    assert statements["AllowCloudWatchAlarmsOfThisAccount"]["Action"] == ["kms:Decrypt", "kms:GenerateDataKey"]


@pytest.mark.parametrize(("stack", "protected", "window"), [("dev", False, 7), ("staging", True, 30), ("prod", True, 30)])
def test_keys_are_protected_and_retained_per_environment(stack, protected, window):
    rec = stack_preview(stack).recording
    keys = rec.of_type("aws:kms/key:Key")
    assert len(keys) >= 4
    for key in keys:
        assert (key.protect, key.retainOnDelete) == (protected, protected), key.name
        assert key.inputs["deletionWindowInDays"] == window
    outputs = rec.stack_outputs["kmsKeys"]
    assert sorted(outputs) == ["alerts", "artifacts", "dispatch", "ebs", "eksSecrets", "images", "logs"]
    assert all(arn.startswith(f"arn:aws:kms:us-east-1:{STACK_ACCOUNTS[stack]}:key/") for arn in outputs.values())


def test_key_policies_refuse_service_wildcards_for_anyone_but_the_account_root():
    other = Statement(sid="Oops", principals={"AWS": ["arn:aws:iam::123456789012:role/app"]}, actions=["kms:*"], resources=["*"])
    seen = {}

    def program():
        seen["doc"] = policy_document([other], kind="key")

    with pytest.raises(Exception) as caught:
        run_component(program)
    assert "kms:* may be granted to the account root only" in str(caught.value)
    with pytest.raises(PolicyError, match="grants a whole service"):
        policy_document([Statement(principals={"AWS": ["x"]}, actions=["kms:*"], resources=["*"])], kind="resource")


def test_key_grant_scopes_a_role_to_one_key_and_optionally_one_service():
    config = stack_config("dev")
    seen = {}

    def program():
        provider = aws.Provider("aws", region=config.region)
        keys = platform_keys(config, provider)
        role = aws.iam.Role("cluster", assume_role_policy="{}", opts=pulumi.ResourceOptions(provider=provider))
        owner = pulumi.ComponentResource("test:index:Owner", "owner", opts=pulumi.ResourceOptions(providers={"aws": provider}))
        actions = [KmsAction.ENCRYPT, KmsAction.DECRYPT, KmsAction.LIST_GRANTS, KmsAction.DESCRIBE_KEY]
        keys.eks_secrets.grant("cluster-secrets", role, "UseEksSecretsKey", actions, via_service="eks.us-east-1.amazonaws.com", opts=pulumi.ResourceOptions(parent=owner))
        keys.logs.grant("cluster-logs", role, "UseLogsKey", [KmsAction.DESCRIBE_KEY], opts=pulumi.ResourceOptions(parent=owner))
        seen["owner"] = owner

    rec = run_component(program)
    key = rec.one("aws:kms/key:Key", "keys-eks-secrets")
    grant = rec.one("aws:iam/rolePolicy:RolePolicy", "cluster-secrets")
    assert grant.inputs["role"] == rec.one("aws:iam/role:Role", "cluster").id
    # The policy sits with the component that owns the role, under the name the caller gave it.
    assert grant.parent == rec.one("test:index:Owner").urn
    assert json.loads(grant.inputs["policy"])["Statement"] == [
        {
            "Sid": "UseEksSecretsKey",
            "Effect": "Allow",
            "Action": ["kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:ListGrants"],
            "Resource": [f"arn:aws:kms:us-east-1:{ACCOUNT_ID}:key/{key.id}"],
            "Condition": {"StringEquals": {"kms:ViaService": "eks.us-east-1.amazonaws.com"}},
        }
    ]
    logs = json.loads(rec.one("aws:iam/rolePolicy:RolePolicy", "cluster-logs").inputs["policy"])["Statement"][0]
    assert "Condition" not in logs and logs["Sid"] == "UseLogsKey"


def test_key_statements_carry_service_encryption_context_and_grant_conditions_in_a_stable_order():
    key = PlatformKey("arn:aws:kms:us-east-1:123456789012:key/k")
    statement = key.allow("UseThroughS3", [KmsAction.DECRYPT], via_service="s3.us-east-1.amazonaws.com", encryption_context={"aws:s3:arn": ["arn:aws:s3:::b"]})
    assert statement.to_dict() == {
        "Sid": "UseThroughS3",
        "Effect": "Allow",
        "Action": ["kms:Decrypt"],
        "Resource": ["arn:aws:kms:us-east-1:123456789012:key/k"],
        "Condition": {"StringEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com"}, "StringLike": {"kms:EncryptionContext:aws:s3:arn": ["arn:aws:s3:::b"]}},
    }
    grants = key.allow("Attach", GRANT_ACTIONS, for_aws_resources=True).to_dict()
    assert grants["Condition"] == {"Bool": {"kms:GrantIsForAWSResource": "true"}}
    assert all(type(action) is str for action in grants["Action"])


@pytest.mark.parametrize(
    ("actions", "kwargs", "message"),
    [
        (["kms:Decrypt"], {}, "lists KmsAction members"),
        (["kms:ReEncrypt*"], {}, "lists KmsAction members"),
        ([], {}, "lists KmsAction members"),
        ([KmsAction.DESCRIBE_KEY], {"for_aws_resources": True}, "kms:DescribeKey never carries kms:GrantIsForAWSResource"),
    ],
)
def test_key_statements_refuse_strings_wildcards_and_conditions_that_never_match(actions, kwargs, message):
    with pytest.raises(ValueError, match=message):
        PlatformKey("arn:aws:kms:us-east-1:123456789012:key/k").allow("Bad", actions, **kwargs)


def test_every_kms_action_is_one_exact_iam_action():
    """No member can stand for more than one operation (what kms:ReEncrypt* did)."""
    for action in KmsAction:
        assert "*" not in action and "?" not in action
        assert [f"kms:{d['name']}" for d in expand_action(action)] == [action.value]
    assert set(KEY_USE_ACTIONS) | set(GRANT_ACTIONS) <= set(KmsAction)


# ---------------------------------------------------------------------------------------------
# Every KMS permission goes through components/keys


KMS_HOME = ("components/keys/",)
# The policy checks name kms:* for the one allowed key-administration statement.
KMS_RULES = ("components/iam/policy.py",)


def kms_literals(source: str) -> list[str]:
    """String constants in ``source`` that are KMS actions or condition keys (``kms:...``)."""
    return [node.value for node in ast.walk(ast.parse(source)) if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.startswith("kms:")]


def test_no_kms_action_or_condition_key_is_written_outside_the_keys_component():
    sources = [p for d in ("components", "incluster") for p in (REPO / d).rglob("*.py")] + [REPO / "__main__.py"]
    found = {}
    for path in sources:
        relative = str(path.relative_to(REPO))
        if relative.startswith(KMS_HOME) or relative in KMS_RULES:
            continue
        literals = kms_literals(path.read_text(encoding="utf-8"))
        if literals:
            found[relative] = literals
    assert found == {}, "ask the key for a statement (PlatformKey.allow / .grant) instead of writing kms: by hand"
    assert kms_literals('Statement(actions=["kms:Decrypt"], resources=[arn])') == ["kms:Decrypt"]


def _kms_statements(recording):
    for resource in recording.resources:
        if resource.type == "aws:ecr/lifecyclePolicy:LifecyclePolicy":
            continue  # its policy is ECR's lifecycle rules, not an IAM document
        for key in ("policy", "assumeRolePolicy"):
            value = resource.inputs.get(key)
            if isinstance(value, str) and value.startswith("{"):
                for statement in json.loads(value)["Statement"]:
                    if any(action.startswith("kms:") for action in statement["Action"]):
                        yield resource, statement


@pytest.mark.parametrize("stack", ["dev", "staging", "prod"])
def test_every_key_statement_names_exact_actions_and_identity_policies_name_the_key(stack):
    statements = list(_kms_statements(stack_preview(stack).recording))
    assert len(statements) >= 10
    for resource, statement in statements:
        label = (resource.name, statement.get("Sid"))
        if statement["Sid"] == "EnableIamPolicies":
            assert resource.type == "aws:kms/key:Key" and statement["Action"] == ["kms:*"], label
            continue
        assert all("*" not in action and "?" not in action for action in statement["Action"]), label
        assert set(statement["Action"]) <= {action.value for action in KmsAction}, label
        if resource.type == "aws:iam/rolePolicy:RolePolicy" and statement["Sid"] == "DecryptPromotedFromModelsThroughS3":
            # prod runs staging's packages: any key of staging's account, only through S3 and only for staging's artifact bucket.
            assert stack == "prod", label
            assert statement["Resource"] == [f"arn:aws:kms:us-east-1:{STACK_ACCOUNTS['staging']}:key/*"], label
            assert statement["Condition"] == {"StringEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com"},
                                              "StringLike": {"kms:EncryptionContext:aws:s3:arn": "arn:aws:s3:::mlops-staging-artifacts-*"}}, label
        elif resource.type == "aws:iam/rolePolicy:RolePolicy":
            # One key (the replica's lives in the replica region), never "*".
            assert all(arn.startswith("arn:aws:kms:") and f":{STACK_ACCOUNTS[stack]}:key/" in arn for arn in statement["Resource"]), label
