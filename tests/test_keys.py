"""PlatformKeys under mocks: one key per purpose, rotation, deletion window, aliases, key policies."""

from __future__ import annotations

import json

import pulumi
import pulumi_aws as aws
import pytest

from components.iam.policy import PolicyError, Statement, policy_document
from components.keys import KEY_PURPOSES, PlatformKeys, PlatformKeysArgs
from mlopsctl.offline.harness import ACCOUNT_ID
from tests.conftest import STACK_ACCOUNTS, run_component, stack_config, stack_preview

ROOT = f"arn:aws:iam::{ACCOUNT_ID}:root"
ADMIN = {"Sid": "EnableIamPolicies", "Effect": "Allow", "Principal": {"AWS": [ROOT]}, "Action": ["kms:*"], "Resource": ["*"]}
USE = sorted(
    ["kms:Encrypt", "kms:Decrypt", "kms:ReEncryptFrom", "kms:ReEncryptTo", "kms:GenerateDataKey", "kms:GenerateDataKeyWithoutPlaintext", "kms:DescribeKey"]
)


def _build(stack: str):
    config = stack_config(stack)

    def program():
        provider = aws.Provider("aws", region=config.region)
        PlatformKeys("keys", PlatformKeysArgs(config=config, account_id=ACCOUNT_ID), opts=pulumi.ResourceOptions(providers={"aws": provider}))

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
    assert sorted(aliases) == ["alias/mlops-dev-artifacts", "alias/mlops-dev-ebs", "alias/mlops-dev-eks-secrets", "alias/mlops-dev-logs"]
    artifacts_key = dev.one("aws:kms/key:Key", "keys-artifacts")
    assert aliases["alias/mlops-dev-artifacts"].propertyDependencies["targetKeyId"] == [artifacts_key.urn]


def test_artifacts_and_eks_secrets_keys_trust_only_the_account_through_iam(dev):
    assert _policy(dev, "artifacts") == {"Version": "2012-10-17", "Statement": [ADMIN]}
    assert _policy(dev, "eks-secrets") == {"Version": "2012-10-17", "Statement": [ADMIN]}


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


@pytest.mark.parametrize(("stack", "protected", "window"), [("dev", False, 7), ("staging", True, 30), ("prod", True, 30)])
def test_keys_are_protected_and_retained_per_environment(stack, protected, window):
    rec = stack_preview(stack).recording
    keys = rec.of_type("aws:kms/key:Key")
    assert len(keys) >= 4
    for key in keys:
        assert (key.protect, key.retainOnDelete) == (protected, protected), key.name
        assert key.inputs["deletionWindowInDays"] == window
    outputs = rec.stack_outputs["kmsKeys"]
    assert sorted(outputs) == ["artifacts", "ebs", "eksSecrets", "logs"]
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

    def program():
        provider = aws.Provider("aws", region=config.region)
        keys = PlatformKeys("keys", PlatformKeysArgs(config=config, account_id=ACCOUNT_ID), opts=pulumi.ResourceOptions(providers={"aws": provider}))
        role = aws.iam.Role("cluster", assume_role_policy="{}", opts=pulumi.ResourceOptions(provider=provider))
        keys.grant(role, "eks_secrets", ["kms:Encrypt", "kms:Decrypt", "kms:ListGrants", "kms:DescribeKey"], via_service="eks.us-east-1.amazonaws.com")
        keys.grant(role, "logs", ["kms:DescribeKey"])

    rec = run_component(program)
    key = rec.one("aws:kms/key:Key", "keys-eks-secrets")
    grant = rec.one("aws:iam/rolePolicy:RolePolicy", "cluster-eks-secrets")
    assert grant.inputs["role"] == rec.one("aws:iam/role:Role", "cluster").id
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


@pytest.mark.parametrize(("purpose", "actions", "message"), [("secrets", ["kms:Decrypt"], "unknown key purpose"), ("ebs", ["s3:GetObject"], "kms: actions only"), ("ebs", [], "kms: actions only")])
def test_key_grant_rejects_bad_requests(purpose, actions, message):
    config = stack_config("dev")

    def program():
        provider = aws.Provider("aws", region=config.region)
        keys = PlatformKeys("keys", PlatformKeysArgs(config=config, account_id=ACCOUNT_ID), opts=pulumi.ResourceOptions(providers={"aws": provider}))
        keys.grant(aws.iam.Role("r", assume_role_policy="{}", opts=pulumi.ResourceOptions(provider=provider)), purpose, actions)

    with pytest.raises(Exception) as caught:
        run_component(program)
    assert message in str(caught.value)
