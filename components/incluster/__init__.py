"""Layer 2: the in-cluster resources (pulumi-kubernetes), a Pulumi project of their own (incluster/).

Layer 1 (the root project) creates everything that talks only to AWS APIs and exports the
``inCluster`` contract (``contract.py``). This layer reads it through a StackReference and runs
from inside the VPC, where the private API server is reachable.
"""
