"""The ``network`` section: VPC range, subnets, NAT gateways, interface endpoints (components/network)."""

from __future__ import annotations

import ipaddress
from typing import Literal

from pydantic import Field, field_validator, model_validator

from components import facts
from components.config.base import Cidr, LogRetentionDays, Model, repeated


class NetworkConfig(Model):
    vpc_cidr: Cidr = Field("10.0.0.0/16", description="VPC IPv4 range, /16 (the largest AWS allows) to /20 (room for every AZ's subnets).")
    az_count: int = Field(2, ge=2, le=3, description="Availability zones to spread subnets over (2-3).")
    nat_gateways: Literal["single", "perAz"] = Field("single", description="One shared NAT gateway, or one per AZ.")
    public_subnet_cidrs: list[Cidr] | None = Field(None, description="Explicit public subnets (one per AZ, each /16 to /28); derived from vpcCidr when absent.")
    private_subnet_cidrs: list[Cidr] | None = Field(None, description="Explicit private subnets (one per AZ, each /16 to /28); derived from vpcCidr when absent. Every node runs here: all node groups' maxSize together must fit their addresses.")
    interface_endpoints: list[Literal["ecr.api", "ecr.dkr", "sts", "sagemaker.runtime", "sagemaker.api", "logs"]] = Field(
        default_factory=list, description="Interface VPC endpoints so image pulls and AWS API calls skip the NAT."
    )
    flow_log_retention_days: LogRetentionDays = Field(90, description="VPC flow log retention in CloudWatch.")

    @field_validator("interface_endpoints")
    @classmethod
    def _unique_endpoints(cls, services: list[str]) -> list[str]:
        duplicates = repeated(services)
        if duplicates:
            raise ValueError(f"each interface endpoint may appear once; repeated: {duplicates}")
        return services

    @model_validator(mode="after")
    def _subnets(self):
        vpc = ipaddress.ip_network(self.vpc_cidr)
        netmask = facts.vpc_netmask_rules()
        largest, smallest = netmask["largestPrefixLength"], netmask["smallestPrefixLength"]
        if vpc.prefixlen < largest:
            raise ValueError(f"@vpcCidr: {self.vpc_cidr} is larger than AWS allows; a VPC's IPv4 block is /{largest} to /{smallest}")
        if vpc.prefixlen > 20:
            raise ValueError(f"@vpcCidr: {self.vpc_cidr} is too small; use /20 or larger so each AZ gets public and private subnets")
        subnets: list[tuple[str, str]] = []
        for key, cidrs in (("publicSubnetCidrs", self.public_subnet_cidrs), ("privateSubnetCidrs", self.private_subnet_cidrs)):
            if cidrs is None:
                continue
            if len(cidrs) != self.az_count:
                raise ValueError(f"@{key}: has {len(cidrs)} entries; need exactly azCount={self.az_count}")
            for cidr in cidrs:
                if not largest <= ipaddress.ip_network(cidr).prefixlen <= smallest:
                    raise ValueError(f"@{key}: {cidr} is not a size AWS allows; a subnet's IPv4 block is /{largest} to /{smallest}")
                if not ipaddress.ip_network(cidr).subnet_of(vpc):
                    raise ValueError(f"@{key}: {cidr} is outside vpcCidr {self.vpc_cidr}")
                subnets.append((key, cidr))
        for i, (key_a, a) in enumerate(subnets):
            for key_b, b in subnets[i + 1 :]:
                if ipaddress.ip_network(a).overlaps(ipaddress.ip_network(b)):
                    raise ValueError(f"@{key_b}: subnet {b} overlaps {a} ({key_a})")
        return self

    def subnet_layout(self) -> tuple[list[str], list[str]]:
        """(public, private) CIDRs, one per AZ: explicit ones, or carved from the VPC range.

        Derived layout: the VPC splits into 4 equal blocks per side; private subnets take the big
        first half (pods get VPC IPs with the VPC CNI), public ones small /24-ish slices after it.
        """
        vpc = ipaddress.ip_network(self.vpc_cidr)
        halves = list(vpc.subnets(prefixlen_diff=1))
        private = [str(s) for s in list(halves[0].subnets(prefixlen_diff=2))[: self.az_count]]
        public = [str(s) for s in list(halves[1].subnets(prefixlen_diff=4))[: self.az_count]]
        return (self.public_subnet_cidrs or public, self.private_subnet_cidrs or private)

    def private_addresses(self) -> int:
        """Addresses the private subnets (where every node runs) leave after AWS's reserved ones."""
        reserved = facts.vpc_netmask_rules()["reservedAddressesPerSubnet"]
        return sum(ipaddress.ip_network(cidr).num_addresses - reserved for cidr in self.subnet_layout()[1])
