"""VPC network policies: what security groups admit from the whole internet, and a flow log on every VPC.

Ingress is read from the three shapes pulumi-aws offers: inline ``ingress`` blocks of a security
group (and of the adopted default group), ``aws.ec2.SecurityGroupRule`` of type ``ingress``, and
``aws.vpc.SecurityGroupIngressRule``. A source is "the internet" when its prefix length is 0
(``0.0.0.0/0``, ``::/0`` and any other spelling of the whole address space).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from awsfacts.resource_types import (
    DEFAULT_SECURITY_GROUP,
    FLOW_LOG,
    SECURITY_GROUP,
    SECURITY_GROUP_INGRESS_RULE,
    SECURITY_GROUP_RULE,
    VPC,
)
from packlib import (
    MISSING,
    PolicyList,
    Severity,
    as_list,
    checkov,
    cis,
    each,
    lookup,
    number,
    of_types,
    resource_label,
)

POLICIES = PolicyList()

INGRESS_TYPES = (SECURITY_GROUP, DEFAULT_SECURITY_GROUP, SECURITY_GROUP_RULE, SECURITY_GROUP_INGRESS_RULE)
ALL_PORTS = (0, 65535)
# Protocol spellings EC2 accepts for "every protocol" and for the two that carry ports.
ALL_PROTOCOLS = frozenset({"-1", "all"})
PORT_PROTOCOLS = {"tcp": "tcp", "6": "tcp", "udp": "udp", "17": "udp"}
PORT_NAMES = {22: "SSH", 3389: "RDP"}


@dataclass(frozen=True)
class _Fields:
    """Where a rule shape keeps its protocol and its CIDR sources."""

    protocol: str
    cidrs: tuple[str, ...]


_BLOCK = _Fields(protocol="protocol", cidrs=("cidrBlocks", "ipv6CidrBlocks"))
_VPC_RULE = _Fields(protocol="ipProtocol", cidrs=("cidrIpv4", "cidrIpv6"))


@dataclass(frozen=True)
class InternetIngress:
    """One ingress rule that admits the whole internet."""

    where: str
    sources: tuple[str, ...]
    protocol: str  # "all", "tcp", "udp", or the protocol as given (icmp, 50, ...)
    ports: tuple[int, int] | None  # inclusive; None for protocols without ports

    def reaches(self, port: int) -> bool:
        if self.protocol == "all":
            return True
        return self.ports is not None and self.ports[0] <= port <= self.ports[1]

    def within(self, allowed: set[int]) -> bool:
        """Whether every port this rule opens is in ``allowed`` (never for all protocols or port-less ones)."""
        if self.ports is None or self.protocol == "all":
            return False
        low, high = self.ports
        return high - low < len(allowed) and all(port in allowed for port in range(low, high + 1))

    def describe(self) -> str:
        sources = ", ".join(self.sources)
        if self.protocol == "all":
            return f"{self.where} admits {sources} on every protocol and port"
        if self.ports is None:
            return f"{self.where} admits {sources} on protocol {self.protocol}"
        low, high = self.ports
        return f"{self.where} admits {sources} on {self.protocol} {low if low == high else f'{low}-{high}'}"


def _is_internet(cidr: Any) -> bool:
    if not isinstance(cidr, str):
        return False
    try:
        return ipaddress.ip_network(cidr, strict=False).prefixlen == 0
    except ValueError:
        return False  # EC2 refuses it; nothing is opened


def _port_range(rule: Mapping, protocol: str) -> tuple[int, int] | None:
    if protocol == "all":
        return ALL_PORTS
    if protocol not in ("tcp", "udp"):
        return None
    low, high = number(lookup(rule, "fromPort")), number(lookup(rule, "toPort"))
    # Unset or -1 ports on a tcp/udp rule: count the whole range, the widest EC2 could mean.
    low = int(low) if low is not None and low >= 0 else ALL_PORTS[0]
    high = int(high) if high is not None and high >= 0 else ALL_PORTS[1]
    return low, high


def _internet_ingress(where: str, rule: Mapping, fields: _Fields) -> InternetIngress | None:
    sources = tuple(c for key in fields.cidrs for c in as_list(lookup(rule, key)) if _is_internet(c))
    if not sources:
        return None
    given = lookup(rule, fields.protocol)
    given = str(given).lower() if given is not MISSING else "-1"
    protocol = "all" if given in ALL_PROTOCOLS else PORT_PROTOCOLS.get(given, given)
    return InternetIngress(where=where, sources=sources, protocol=protocol, ports=_port_range(rule, protocol))


def _ingress_rules(args) -> list[tuple[str, Mapping, _Fields]]:
    """(where, rule inputs, field names) of every ingress rule the resource declares."""
    if args.resource_type in (SECURITY_GROUP, DEFAULT_SECURITY_GROUP):
        return [(f"ingress[{index}]", rule, _BLOCK) for index, rule in enumerate(as_list(lookup(args.props, "ingress")))]
    if args.resource_type == SECURITY_GROUP_RULE:
        return [("the rule", args.props, _BLOCK)] if lookup(args.props, "type") == "ingress" else []
    return [("the rule", args.props, _VPC_RULE)]


def _each_internet_ingress(args, check) -> None:
    """``check(ingress)`` for every rule of the resource open to the internet; unknowns stop only their rule."""

    def one(rule: tuple[str, Mapping, _Fields]) -> None:
        ingress = _internet_ingress(*rule)
        if ingress is not None:
            check(ingress)

    each(_ingress_rules(args), one)


def _port_label(port: int) -> str:
    return f"{port} ({PORT_NAMES[port]})" if port in PORT_NAMES else str(port)


@POLICIES.resource(
    "sg-no-internet-admin-ports",
    "No security group admits 0.0.0.0/0 or ::/0 to an administrative port (SSH 22, RDP 3389), on tcp, udp or all protocols.",
    types=INGRESS_TYPES, category="security", severity=Severity.CRITICAL,
    config={"adminPorts": {"type": "array", "items": {"type": "integer", "minimum": 0, "maximum": 65535}, "default": [22, 3389],
                           "description": "Ports no rule may open to the internet (a range or protocol covering one counts)."}},
    remediation="Reach nodes through SSM Session Manager or an in-VPC runner; if an administrative port must be open, allow a specific CIDR or a security group, never 0.0.0.0/0 or ::/0.",
    frameworks=[
        checkov("CKV_AWS_24", "Ensure no security groups allow ingress from 0.0.0.0:0 to port 22"),
        checkov("CKV_AWS_25", "Ensure no security groups allow ingress from 0.0.0.0:0 to port 3389"),
        cis("2.0.0", "5.2", "Ensure no security groups allow ingress from 0.0.0.0/0 to remote server administration ports"),
        cis("2.0.0", "5.3", "Ensure no security groups allow ingress from ::/0 to remote server administration ports"),
    ],
)
def _check_internet_admin_ports(args, report, cfg) -> None:
    admin_ports = sorted({int(p) for p in cfg("adminPorts")})

    def check(ingress: InternetIngress) -> None:
        exposed = [p for p in admin_ports if ingress.reaches(p)]
        if exposed:
            report(f"{ingress.describe()}, which includes administrative port(s) {', '.join(_port_label(p) for p in exposed)}; "
                   "allow a specific CIDR or a security group instead.")

    _each_internet_ingress(args, check)


@POLICIES.resource(
    "sg-internet-ingress-allowed-ports",
    "Security groups admit 0.0.0.0/0 or ::/0 only on the environment's allowed ports (allowedPorts, 443 in every environment).",
    types=INGRESS_TYPES, category="security", severity=Severity.HIGH,
    config={"allowedPorts": {"type": "array", "items": {"type": "integer", "minimum": 0, "maximum": 65535}, "default": [443],
                             "description": "tcp/udp ports a rule may open to the whole internet."}},
    remediation="Open only HTTPS (443) to the internet, behind a load balancer; everything else from specific CIDRs, prefix lists or security groups.",
    frameworks=[checkov("CKV_AWS_277", "Ensure no security groups allow ingress from 0.0.0.0:0 to port -1")],
)
def _check_internet_allowed_ports(args, report, cfg) -> None:
    allowed = {int(p) for p in cfg("allowedPorts")}

    def check(ingress: InternetIngress) -> None:
        if not ingress.within(allowed):
            ports = ", ".join(str(p) for p in sorted(allowed)) or "none"
            report(f"{ingress.describe()}; here the internet may reach only tcp/udp port(s) {ports}.")

    _each_internet_ingress(args, check)


# Flow-log traffic types that record rejected connections (what an investigation needs first).
REJECT_RECORDING_TRAFFIC = ("ALL", "REJECT")


@POLICIES.stack(
    "vpc-flow-logs",
    "Every VPC has a flow log that records rejected traffic (trafficType ALL or REJECT).",
    category="security", severity=Severity.MEDIUM,
    remediation="Add aws.ec2.FlowLog(vpc_id=vpc.id, traffic_type='ALL', ...) for the VPC (components/network does), delivering to a log group with a retention.",
    frameworks=[checkov("CKV2_AWS_11", "Ensure VPC flow logging is enabled in all VPCs"), cis("2.0.0", "3.9", "Ensure VPC flow logging is enabled in all VPCs")],
)
def _check_vpc_flow_logs(args, report, cfg) -> None:
    """Joined through the flow log's ``vpcId`` dependency: a VPC of this stack is always passed as
    ``vpc.id`` (an Output, so the dependency is recorded), and its id is unknown in a first preview."""
    flow_logs = of_types(args.resources, (FLOW_LOG,))

    def check(vpc) -> None:
        attached = [f for f in flow_logs if any(dep.urn == vpc.urn for dep in f.property_dependencies.get("vpcId") or [])]
        if not attached:
            report(f"{resource_label(vpc)} has no flow log in this stack (an aws.ec2.FlowLog whose vpc_id is this VPC's id output); "
                   "network traffic would leave no record.", vpc.urn)
            return
        traffic = [lookup(f.props, "trafficType") for f in attached]
        if not any(t in REJECT_RECORDING_TRAFFIC for t in traffic):
            shown = ", ".join("unset" if t is MISSING else str(t) for t in traffic)
            report(f"{resource_label(vpc)}'s flow log(s) record trafficType {shown}, which misses rejected connections; use ALL or REJECT.", vpc.urn)

    each(of_types(args.resources, (VPC,)), check)
