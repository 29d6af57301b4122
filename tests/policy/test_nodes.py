"""SSH to EKS worker nodes: remoteAccess, key pairs in launch templates, and remote access open to the internet."""

from __future__ import annotations

import pulumi_aws as aws
import pytest

from policies.awsfacts.resource_types import EKS_NODE_GROUP, LAUNCH_TEMPLATE
from tests.support.policy import evaluate, fired
from tests.support.stacks import STACKS, stack_preview

NO_SSH = "eks-node-no-ssh"
NOT_FROM_INTERNET = "eks-node-ssh-not-from-internet"


def nodes(opts, *, remote_access=None, key_name=None, template_by: str | None = "id", key_pair: bool = False):
    """A node group like the platform's (launch template with IMDSv2 and encrypted volumes), with SSH variations."""
    if key_pair:
        key_name = aws.ec2.KeyPair("ops", public_key="ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHt8 ops", opts=opts).key_name
    template = aws.ec2.LaunchTemplate(
        "nodes", name="mlops-nodes",
        metadata_options={"http_tokens": "required", "http_put_response_hop_limit": 1},
        block_device_mappings=[{"device_name": "/dev/xvda", "ebs": {"encrypted": "true", "volume_size": 50, "volume_type": "gp3"}}],
        key_name=key_name, opts=opts,
    )
    launch_template = {
        "id": {"id": template.id, "version": template.latest_version.apply(str)},
        "literal-name": {"name": "mlops-nodes", "version": "1"},  # no dependency recorded: matched by name
        None: None,
    }[template_by]
    aws.eks.NodeGroup(
        "system", cluster_name="mlops-prod", node_role_arn="arn:aws:iam::123456789012:role/nodes", subnet_ids=["subnet-a"],
        instance_types=["m6i.large"], scaling_config={"min_size": 1, "desired_size": 1, "max_size": 2},
        launch_template=launch_template, remote_access=remote_access, opts=opts,
    )


@pytest.mark.parametrize("unknowns", [False, True], ids=["known", "first-preview"])
def test_remote_access_fires_and_open_to_the_internet_says_so(policy_pack, unknowns):
    restricted = {"ec2_ssh_key": "ops", "source_security_group_ids": ["sg-bastion"]}
    report = evaluate(policy_pack, lambda o: nodes(o, remote_access=restricted, template_by=None), unknowns=unknowns)
    [violation] = report.by_policy(NO_SSH)
    assert "NodeGroup 'system' sets remoteAccess: EKS opens SSH (RDP on Windows)" in violation.message and violation.level == "mandatory"
    assert report.by_policy(NOT_FROM_INTERNET) == []  # only the bastion's group may connect

    report = evaluate(policy_pack, lambda o: nodes(o, remote_access={"ec2_ssh_key": "ops"}, template_by=None), unknowns=unknowns)
    [violation] = report.by_policy(NOT_FROM_INTERNET)
    assert "without sourceSecurityGroupIds, so EKS opens port 22 (3389 on Windows) on every node to 0.0.0.0/0" in violation.message
    assert violation.level == "mandatory" and report.by_policy(NO_SSH)


def test_open_remote_access_is_mandatory_in_dev_and_plain_ssh_advisory(policy_pack):
    report = evaluate(policy_pack, lambda o: nodes(o, remote_access={"ec2_ssh_key": "ops", "source_security_group_ids": []}, template_by=None), env="dev")
    assert [v.level for v in report.by_policy(NOT_FROM_INTERNET)] == ["mandatory"]  # an empty list opens it like an absent one
    assert [v.level for v in report.by_policy(NO_SSH)] == ["advisory"]


@pytest.mark.parametrize("unknowns", [False, True], ids=["known", "first-preview"])
@pytest.mark.parametrize("template_by", ["id", "literal-name"])
def test_a_key_pair_in_the_node_groups_launch_template_fires(policy_pack, unknowns, template_by):
    [violation] = evaluate(policy_pack, lambda o: nodes(o, key_name="ops", template_by=template_by), unknowns=unknowns).by_policy(NO_SSH)
    assert "NodeGroup 'system' starts its nodes from LaunchTemplate 'nodes', whose keyName installs an EC2 key pair" in violation.message
    assert evaluate(policy_pack, lambda o: nodes(o, template_by=template_by), unknowns=unknowns).by_policy(NO_SSH) == []


def test_a_key_pair_created_in_the_same_update_still_counts(policy_pack):
    assert fired(evaluate(policy_pack, lambda o: nodes(o, key_pair=True), unknowns=True), NO_SSH)


def test_a_launch_template_no_node_group_uses_is_not_judged_here(policy_pack):
    assert evaluate(policy_pack, lambda o: nodes(o, key_name="ops", template_by=None)).by_policy(NO_SSH) == []


@pytest.mark.parametrize("stack", STACKS)
def test_the_platforms_node_groups_allow_no_ssh(policy_pack, stack):
    result = stack_preview(stack)
    templates = {t.urn for t in result.recording.of_type(LAUNCH_TEMPLATE)}
    groups = result.recording.of_type(EKS_NODE_GROUP)
    # Not vacuous: every group starts from one of the stack's templates, joined by dependency.
    assert groups and all(set(g.propertyDependencies["launchTemplate"]) & templates for g in groups)
    report = policy_pack(result.config.environment).analyze(result.recording)
    assert report.by_policy(NO_SSH) == [] and report.by_policy(NOT_FROM_INTERNET) == []
