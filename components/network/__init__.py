"""Network capability: the platform VPC (components.network.vpc)."""

from components.network.vpc import Network, NetworkArgs

__all__ = ["Network", "NetworkArgs"]
