"""The pack's ECR policies over gRPC on every real stack's image repositories: they pass as built,
and fire on the same repositories once one setting is weakened."""

from __future__ import annotations

import copy
import dataclasses

import pytest

from tests.support.stacks import STACKS, stack_preview

REPOSITORY = "aws:ecr/repository:Repository"
ECR_POLICIES = ("ecr-scan-on-push", "ecr-immutable-tags", "ecr-kms-encryption")
MANDATORY_FROM = {"dev": "advisory", "staging": "mandatory", "prod": "mandatory"}


def _weakened(recording, change):
    """The stack's registrations with ``change(inputs)`` applied to every repository's inputs."""
    resources = []
    for resource in recording.resources:
        if resource.type == REPOSITORY:
            inputs = copy.deepcopy(resource.inputs)
            change(inputs)
            resource = dataclasses.replace(resource, inputs=inputs)
        resources.append(resource)
    return resources


@pytest.mark.parametrize("stack", STACKS)
def test_every_stack_has_repositories_and_the_ecr_policies_pass_on_them(policy_pack, stack):
    result = stack_preview(stack)
    repositories = result.recording.of_type(REPOSITORY)
    assert len(repositories) == 2
    report = policy_pack(result.config.environment).analyze(result.recording)
    for policy in ECR_POLICIES:
        assert report.by_policy(policy) == [], policy


WEAKENINGS = [
    ("ecr-scan-on-push", lambda inputs: inputs.update(imageScanningConfiguration={"scanOnPush": False}), "scanOnPush is not true"),
    ("ecr-immutable-tags", lambda inputs: inputs.update(imageTagMutability="MUTABLE"), "imageTagMutability is MUTABLE"),
    ("ecr-kms-encryption", lambda inputs: inputs.update(encryptionConfigurations=[{"encryptionType": "AES256"}]), "customer-managed KMS key"),
]


@pytest.mark.parametrize("stack", STACKS)
@pytest.mark.parametrize(("policy", "change", "fragment"), WEAKENINGS, ids=[w[0] for w in WEAKENINGS])
def test_a_weakened_repository_of_a_real_stack_fires_its_policy(policy_pack, stack, policy, change, fragment):
    result = stack_preview(stack)
    report = policy_pack(result.config.environment).analyze(_weakened(result.recording, change))
    violations = report.by_policy(policy)
    assert sorted(v.urn for v in violations) == sorted(r.urn for r in result.recording.of_type(REPOSITORY))
    assert all(fragment in v.message for v in violations), [v.message for v in violations]
    assert {v.level for v in violations} == {MANDATORY_FROM[stack]}
    # Only that policy: the other ECR settings are still what the component wrote.
    assert [p for p in ECR_POLICIES if p != policy and report.by_policy(p)] == []
