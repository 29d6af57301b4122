"""Security policies, one module per service area.

Insecure AWS defaults arrive as *absent* inputs (an EKS endpoint without ``endpointPublicAccess``
is public; a key without ``enableKeyRotation`` does not rotate), so absence is a violation here.
"""

from __future__ import annotations

from . import ci, ecr, eks, iam, kms, kubernetes, logs, messaging, network, nodes, s3, sagemaker, training

POLICIES = [
    *s3.POLICIES,
    *kms.POLICIES,
    *iam.POLICIES,
    *network.POLICIES,
    *eks.POLICIES,
    *nodes.POLICIES,
    *kubernetes.POLICIES,
    *sagemaker.POLICIES,
    *training.POLICIES,
    *ecr.POLICIES,
    *logs.POLICIES,
    *ci.POLICIES,
    *messaging.POLICIES,
]
