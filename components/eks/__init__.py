"""EKS: cluster, node groups, managed addons and in-cluster resources (see docs/eks.md).

Kept free of imports so that ``components.config`` can read the pinned versions cheaply.
"""
