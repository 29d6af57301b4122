"""EKS control plane, access entries, addons, kubeconfig and outputs, for each real stack."""

from __future__ import annotations

import json

import pytest

from components.eks import access, pins
from components.eks.control_plane import CONTROL_PLANE_LOG_TYPES
from components.program import main
from mlopsctl.offline.harness import DEPLOYER_SESSION_ARN, run_program
from mlopsctl.offline.wire import SECRET_SIG, SIG_KEY, UNKNOWN, unwrap_secrets
from tests.support import eks
from tests.support.stacks import STACK_ACCOUNTS, STACKS, assert_one_line_config_error, stack_config, stack_preview, stack_raw_config

CLUSTER = "aws:eks/cluster:Cluster"
ADMIN_POLICY = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"


@pytest.mark.parametrize("stack", STACKS)
def test_cluster_encryption_logging_and_endpoint_follow_the_environment(stack):
    config, rec = eks.stack(stack)
    cluster = rec.one(CLUSTER)
    inputs = cluster.inputs
    assert inputs["name"] == eks.CLUSTER_NAMES[stack]
    assert inputs["version"] == config.eks.version
    assert inputs["accessConfig"] == {"authenticationMode": "API", "bootstrapClusterCreatorAdminPermissions": False}
    assert inputs["bootstrapSelfManagedAddons"] is False
    assert inputs["encryptionConfig"] == {"resources": ["secrets"], "provider": {"keyArn": eks.SECRETS_KEY}}
    assert inputs["enabledClusterLogTypes"] == list(CONTROL_PLANE_LOG_TYPES)
    assert {"api", "audit", "authenticator"} <= set(inputs["enabledClusterLogTypes"])
    assert inputs["deletionProtection"] is config.eks.deletion_protection
    vpc = inputs["vpcConfig"]
    assert vpc["endpointPrivateAccess"] is True
    assert vpc["endpointPublicAccess"] is config.eks.endpoint_public_access
    assert vpc["subnetIds"] == eks.SUBNETS
    if config.eks.endpoint_public_access:
        assert vpc["publicAccessCidrs"] == config.eks.public_access_cidrs
        assert "0.0.0.0/0" not in vpc["publicAccessCidrs"]
    else:
        assert "publicAccessCidrs" not in vpc
    # The log group exists (retention, KMS) before EKS starts writing to its fixed name.
    log_group = rec.one("aws:cloudwatch/logGroup:LogGroup", "control-plane-logs")
    assert log_group.inputs["name"] == f"/aws/eks/{eks.CLUSTER_NAMES[stack]}/cluster"
    assert log_group.inputs["retentionInDays"] == config.eks.log_retention_days
    assert log_group.inputs["kmsKeyId"] == eks.LOGS_KEY
    assert log_group.urn in cluster.dependencies


def test_environments_differ_where_a_team_expects():
    _, dev = eks.stack("dev")
    _, prod = eks.stack("prod")
    assert prod.one(CLUSTER).inputs["vpcConfig"]["endpointPublicAccess"] is False
    assert prod.one(CLUSTER).inputs["deletionProtection"] is True
    assert dev.one(CLUSTER).inputs["vpcConfig"]["publicAccessCidrs"] == ["203.0.113.0/24"]
    assert dev.one(CLUSTER).inputs["deletionProtection"] is False
    assert prod.one("aws:cloudwatch/logGroup:LogGroup").inputs["retentionInDays"] == 365


def test_cluster_creator_admin_is_only_on_when_configured():
    config = stack_config("dev", eks={**stack_config("dev").eks.model_dump(by_alias=True), "clusterCreatorAdmin": True})
    rec, _ = eks.build(config)
    assert rec.one(CLUSTER).inputs["accessConfig"]["bootstrapClusterCreatorAdminPermissions"] is True


def test_cluster_role_trusts_eks_and_may_only_use_the_secrets_key():
    _, rec = eks.stack("dev")
    role = rec.one("aws:iam/role:Role", "cluster-role")
    trust = eks.policy(role)["Statement"]
    assert [s["Principal"] for s in trust] == [{"Service": ["eks.amazonaws.com"]}]
    assert trust[0]["Condition"] == {"StringEquals": {"aws:SourceAccount": eks.ACCOUNT}}
    attached = rec.one("aws:iam/rolePolicyAttachment:RolePolicyAttachment", "cluster-policy")
    assert attached.inputs["policyArn"] == "arn:aws:iam::aws:policy/AmazonEKSClusterPolicy"
    kms = eks.policy(rec.one("aws:iam/rolePolicy:RolePolicy", "cluster-secrets-kms"))["Statement"]
    assert kms == [
        {
            "Sid": "EnvelopeEncryptSecrets",
            "Effect": "Allow",
            "Action": ["kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:ListGrants"],
            "Resource": [eks.SECRETS_KEY],
        }
    ]


def test_api_security_group_opens_only_https_from_the_given_ranges():
    _, rec = eks.stack("prod")
    group = rec.one("aws:ec2/securityGroup:SecurityGroup", "eks-api")
    assert group.inputs["vpcId"] == eks.VPC_ID
    rules = rec.of_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
    assert [(r.inputs["ipProtocol"], r.inputs["fromPort"], r.inputs["toPort"], r.inputs["cidrIpv4"]) for r in rules] == [("tcp", 443, 443, eks.VPC_CIDR)]
    assert rec.one(CLUSTER).propertyDependencies["vpcConfig"] and group.urn in rec.one(CLUSTER).dependencies


@pytest.mark.parametrize("stack", STACKS)
def test_access_entries_are_the_configured_admins_and_deploy_role_only(stack):
    config, rec = eks.stack(stack)
    entries = rec.of_type("aws:eks/accessEntry:AccessEntry")
    principals = [e.inputs["principalArn"] for e in entries]
    expected = [*config.eks.admin_role_arns, config.eks.deploy_role_arn]
    assert sorted(principals) == sorted(expected) and len(expected) == 2
    assert DEPLOYER_SESSION_ARN not in principals and not any(":assumed-role/" in p for p in principals)
    assert all(e.inputs["type"] == "STANDARD" for e in entries)
    associations = rec.of_type("aws:eks/accessPolicyAssociation:AccessPolicyAssociation")
    assert sorted(a.inputs["principalArn"] for a in associations) == sorted(expected)
    for association in associations:
        assert association.inputs["policyArn"] == ADMIN_POLICY
        assert association.inputs["accessScope"] == {"type": "cluster"}
    # Nothing asks who is running the program any more.
    assert "aws:iam/getSessionContext:getSessionContext" not in rec.invokes


@pytest.mark.parametrize("stack", STACKS)
def test_the_same_stack_under_two_caller_identities_registers_identical_resources(stack):
    """A PR preview (read-only role) plans exactly the access entries of the offline preview's deployer session."""
    from mlopsctl.offline.stackfile import load_stack_file

    stack_file = load_stack_file(stack)
    account = STACK_ACCOUNTS[stack]
    pr_caller = f"arn:aws:sts::{account}:assumed-role/mlops-preview-{stack}/pr-7"
    assert pr_caller != DEPLOYER_SESSION_ARN  # the cached preview ran as the deployer session
    deployer = stack_preview(stack).layers[0].recording
    pr = run_program(main, stack=stack, project="mlops-platform", config=stack_file.runtime_config(), account_id=account, caller_arn=pr_caller)
    first, second = ([r.to_json() for r in rec.resources] for rec in (deployer, pr))
    assert sorted(first, key=lambda r: r["urn"]) == sorted(second, key=lambda r: r["urn"])


def test_a_deploy_role_that_is_also_an_admin_gets_one_entry():
    base = stack_config("staging")
    deploy = base.eks.deploy_role_arn
    config = stack_config("staging", eks={**base.eks.model_dump(by_alias=True, exclude_none=True), "adminRoleArns": [deploy]})
    rec, handles = eks.build(config)
    principals = [e.inputs["principalArn"] for e in rec.of_type("aws:eks/accessEntry:AccessEntry")]
    assert principals == [deploy]
    assert handles["component"].access.principals[deploy] == "admin"


def test_admin_principals_dedupes_in_a_stable_order():
    admin = "arn:aws:iam::111111111111:role/admin"
    deploy = "arn:aws:iam::111111111111:role/deploy"
    assert access.admin_principals([admin, admin, deploy], deploy) == {admin: "admin", deploy: "admin"}
    assert list(access.admin_principals([admin], deploy)) == [admin, deploy]
    assert access.admin_principals([], None) == {}


def test_nobody_with_access_is_refused_at_config_time():
    raw = stack_raw_config("dev")
    raw["eks"] = {k: v for k, v in raw["eks"].items() if k not in ("adminRoleArns", "deployRoleArn")}
    assert_one_line_config_error(raw, "eks.deployRoleArn", "access entries come from config only")


CROSS_ACCOUNT_DEPLOYER = "arn:aws:iam::345678901234:role/mlops-cross-account-deployer"


@pytest.mark.parametrize("assume_role_arn", [None, CROSS_ACCOUNT_DEPLOYER])
def test_kubeconfig_is_a_secret_that_runs_get_token_with_the_role_when_one_is_assumed(assume_role_arn):
    config = stack_config("prod", **({"assumeRoleArn": assume_role_arn} if assume_role_arn else {}))
    rec, _ = eks.build(config)
    exported = rec.stack_outputs["kubeconfig"]
    assert exported[SIG_KEY] == SECRET_SIG
    document = json.loads(unwrap_secrets(exported))
    exec_spec = document["users"][0]["user"]["exec"]
    assert exec_spec["command"] == "aws"
    args = exec_spec["args"]
    assert args[args.index("--cluster-name") + 1] == "mlops-prod"
    assert args[args.index("--region") + 1] == config.region
    assert "get-token" in args
    if assume_role_arn:
        assert args[args.index("--role-arn") + 1] == CROSS_ACCOUNT_DEPLOYER
    else:
        assert "--role-arn" not in args
    cluster = document["clusters"][0]["cluster"]
    assert cluster["server"].startswith("https://") and cluster["certificate-authority-data"]
    assert not rec.of_type("pulumi:providers:kubernetes")  # layer 2 builds its own provider


@pytest.mark.parametrize("stack", STACKS)
def test_cluster_output_follows_the_contract(stack):
    config, rec = eks.stack(stack)
    output = rec.stack_outputs["cluster"]
    assert set(output) == {"name", "version", "endpoint", "oidcProviderArn", "nodeGroups"}
    assert output["name"] == eks.CLUSTER_NAMES[stack]
    assert output["version"] == config.eks.version
    assert output["endpoint"].startswith("https://")
    assert output["oidcProviderArn"] is None  # Pod Identity, no OIDC provider
    assert set(output["nodeGroups"]) == {"system", *(g.name for g in config.eks.gpu_node_groups)}
    assert all(name.startswith(f"{key}-") for key, name in output["nodeGroups"].items())


def test_addons_are_pinned_and_networking_comes_before_nodes():
    config, rec = eks.stack("dev")
    addons = {a.inputs["addonName"]: a for a in rec.of_type("aws:eks/addon:Addon")}
    assert set(addons) == {"vpc-cni", "kube-proxy", "coredns", "aws-ebs-csi-driver", "eks-pod-identity-agent"}
    for name, addon in addons.items():
        assert addon.inputs["addonVersion"] == pins.addon_version(config.eks.version, name)
    for group in rec.of_type("aws:eks/nodeGroup:NodeGroup"):
        for name in ("vpc-cni", "kube-proxy", "eks-pod-identity-agent"):
            assert addons[name].urn in group.dependencies, (group.name, name)
    system = rec.one("aws:eks/nodeGroup:NodeGroup", "eks-system")
    assert system.urn in addons["coredns"].dependencies and system.urn in addons["aws-ebs-csi-driver"].dependencies


def test_vpc_cni_and_ebs_csi_run_with_their_own_pod_identity_roles():
    _, rec = eks.stack("dev")
    addons = {a.inputs["addonName"]: a for a in rec.of_type("aws:eks/addon:Addon")}
    for addon_name, service_account, role_name, policy in (
        ("vpc-cni", "aws-node", "eks-vpc-cni", "AmazonEKS_CNI_Policy"),
        ("aws-ebs-csi-driver", "ebs-csi-controller-sa", "eks-ebs-csi", "service-role/AmazonEBSCSIDriverPolicy"),
    ):
        role = rec.one("aws:iam/role:Role", role_name)
        [association] = addons[addon_name].inputs["podIdentityAssociations"]
        assert association["serviceAccount"] == service_account
        assert association["roleArn"] == f"arn:aws:iam::{eks.ACCOUNT}:role/{role.id}"
        conditions = eks.policy(role)["Statement"][0]["Condition"]["StringEquals"]
        assert conditions["aws:RequestTag/kubernetes-service-account"] == service_account
        assert conditions["aws:RequestTag/kubernetes-namespace"] == "kube-system"
        attachment = rec.one("aws:iam/rolePolicyAttachment:RolePolicyAttachment", f"{role_name}-managed-0")
        assert attachment.inputs["policyArn"] == f"arn:aws:iam::aws:policy/{policy}"
    kms = eks.policy(rec.one("aws:iam/rolePolicy:RolePolicy", "ebs-csi-kms"))["Statement"]
    assert all(s["Resource"] == [eks.EBS_KEY] for s in kms)
    assert [(s["Sid"], s["Action"], s.get("Condition")) for s in kms] == [
        # What the EKS user guide's kms:ReEncrypt* and kms:GenerateDataKey* stand for, by name.
        (
            "UseEbsKey",
            sorted(["kms:Encrypt", "kms:Decrypt", "kms:ReEncryptFrom", "kms:ReEncryptTo", "kms:GenerateDataKey", "kms:GenerateDataKeyWithoutPlaintext", "kms:DescribeKey"]),
            None,
        ),
        ("GrantEbsKeyToAwsResources", ["kms:CreateGrant", "kms:ListGrants", "kms:RevokeGrant"], {"Bool": {"kms:GrantIsForAWSResource": "true"}}),
    ]


def test_first_preview_with_unknown_ids_still_builds():
    config = stack_config("dev")
    rec, _ = eks.build(config, unknowns=True)
    tags = rec.of_type("aws:autoscaling/tag:Tag")
    assert tags and all(t.inputs.get("autoscalingGroupName", UNKNOWN) == UNKNOWN for t in tags)
    assert rec.one(CLUSTER).inputs["name"] == "mlops-dev"


@pytest.mark.parametrize("stack", STACKS)
def test_whole_stack_wires_the_cluster_to_private_subnets_platform_keys_and_the_store(stack):
    preview = stack_preview(stack)
    rec = preview.recording
    cluster = rec.one(CLUSTER)
    private = sorted(s.id for s in rec.of_type("aws:ec2/subnet:Subnet") if s.inputs["tags"].get("kubernetes.io/role/internal-elb") == "1")
    assert private and sorted(cluster.inputs["vpcConfig"]["subnetIds"]) == private
    keys = {k.name.rsplit("-", 1)[-1]: k for k in rec.of_type("aws:kms/key:Key")}
    key_arn = {suffix: f"arn:aws:kms:us-east-1:{STACK_ACCOUNTS[stack]}:key/{key.id}" for suffix, key in keys.items()}
    assert cluster.inputs["encryptionConfig"]["provider"]["keyArn"] == key_arn["secrets"]
    assert rec.one("aws:cloudwatch/logGroup:LogGroup", "control-plane-logs").inputs["kmsKeyId"] == key_arn["logs"]
    for template in rec.of_type("aws:ec2/launchTemplate:LaunchTemplate"):
        assert all(m["ebs"]["kmsKeyId"] == key_arn["ebs"] for m in template.inputs["blockDeviceMappings"])
    outputs = rec.stack_outputs
    assert outputs["cluster"]["name"] == cluster.inputs["name"] == eks.CLUSTER_NAMES[stack]
    assert outputs["kubeconfig"][SIG_KEY] == SECRET_SIG
    assert preview.config.eks.deploy_role_arn in {e.inputs["principalArn"] for e in rec.of_type("aws:eks/accessEntry:AccessEntry")}
    assert outputs["inCluster"]["cluster"]["name"] == cluster.inputs["name"] and outputs["inCluster"]["contract"] == 1
    # Subnets carry the discovery tag for exactly this cluster name.
    assert all(f"kubernetes.io/cluster/{cluster.inputs['name']}" in s.inputs["tags"] for s in rec.of_type("aws:ec2/subnet:Subnet"))
