"""NetworkPolicy evaluation: does a set of policies admit traffic from one pod to another on a port.

The semantics of ``networking.k8s.io/v1`` as the Kubernetes documentation states them: a policy applies
to the pods its ``podSelector`` picks in its own namespace; a pod picked by a policy of a direction is
isolated for it, and then only what some rule of some such policy admits gets through (rules add up);
traffic must pass both the destination's ingress and the source's egress, even between pods of one
namespace. ``policyTypes`` defaults to Ingress, plus Egress when the policy has at least one egress rule
(the API server's defaulting: ``egress: []`` alone isolates nothing for egress). A peer with ``podSelector``
alone means pods of the policy's namespace; ``namespaceSelector`` alone, every pod of the matching
namespaces; both, pods matching both. An ``ipBlock`` admits an address in its ``cidr`` outside its
``except`` ranges: a pod whose IP is unknown (``""``) is never admitted by one. A named port in a rule
matches the destination's container port of that name (and protocol), whether the connection names the
port or gives its number.

Malformed input never raises: a selector that cannot be read matches nothing, a port, a ``from``/``to`` or a
``ports`` that cannot be read admits nothing. (A policy with no ``spec`` reads as Kubernetes reads the zero
value: it selects every pod of its namespace and admits no ingress.)
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal

from webhook.core.fields import JsonObject, dig, entries, strings

Direction = Literal["Ingress", "Egress"]


@dataclass(frozen=True, slots=True)
class Pod:
    """A pod as policies see it."""

    namespace: str
    namespace_labels: Mapping[str, str]
    labels: Mapping[str, str]
    ip: str = ""
    """"" when unknown: an ``ipBlock`` cannot admit it. (A ``namespace`` of "" is an endpoint outside the
    cluster, an address only: no selector picks it.)"""
    named_ports: Mapping[str, tuple[int, str]] = field(default_factory=dict)
    """Container port name -> (number, protocol)."""


@dataclass(frozen=True, slots=True)
class Expression:
    key: str
    operator: str
    values: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class Selector:
    """A label selector; ``broken`` ones (unreadable) match nothing."""

    match_labels: tuple[tuple[str, str], ...] = ()
    expressions: tuple[Expression, ...] = ()
    broken: bool = False

    def matches(self, found: Mapping[str, str]) -> bool:
        if self.broken:
            return False
        if any(found.get(key) != value for key, value in self.match_labels):
            return False
        return all(_holds(expression, found) for expression in self.expressions)


@dataclass(frozen=True, slots=True)
class Block:
    cidr: str
    excepted: tuple[str, ...] = ()

    def admits(self, ip: str) -> bool:
        try:
            address = ipaddress.ip_address(ip)
            if address not in ipaddress.ip_network(self.cidr, strict=False):
                return False
            excepted = (ipaddress.ip_network(e, strict=False) for e in self.excepted if _same_family(e, address))
            return not any(address in network for network in excepted)
        except ValueError:
            return False


@dataclass(frozen=True, slots=True)
class Peer:
    pods: Selector | None = None
    namespaces: Selector | None = None
    block: Block | None = None


@dataclass(frozen=True, slots=True)
class PortRule:
    protocol: str = "TCP"
    port: int | str | None = None
    """None: every port of the protocol."""
    end_port: int | None = None


@dataclass(frozen=True, slots=True)
class Rule:
    peers: tuple[Peer, ...] | None
    """None: every peer (the rule has no ``from``/``to``, or an empty one)."""
    ports: tuple[PortRule, ...] | None
    """None: every port."""


@dataclass(frozen=True, slots=True)
class Policy:
    namespace: str
    name: str
    pod_selector: Selector
    policy_types: frozenset[str]
    ingress: tuple[Rule, ...] = ()
    egress: tuple[Rule, ...] = ()

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.name}"


@dataclass(frozen=True, slots=True)
class Verdict:
    allowed: bool
    blocked_by: tuple[str, ...] = ()
    """"namespace/name" of the policies that isolate the refusing side."""
    direction: str = ""
    """"" when allowed, else the refusing direction: "Ingress" (the destination's) or "Egress" (the source's)."""


def policy_from_object(obj: JsonObject) -> Policy:
    """The Policy view of a NetworkPolicy manifest."""
    metadata, spec = dig(obj, "metadata"), dig(obj, "spec")
    explicit = spec.get("policyTypes")
    if isinstance(explicit, list) and explicit:
        types = frozenset(str(t) for t in explicit)
    else:  # as the API server defaults it: Egress only when there is an egress rule
        types = frozenset({"Ingress", "Egress"} if entries(spec.get("egress")) else {"Ingress"})
    return Policy(
        namespace=str(metadata.get("namespace", "")),
        name=str(metadata.get("name", "")),
        pod_selector=_selector(spec.get("podSelector", {})) or Selector(broken=True),
        policy_types=types,
        ingress=tuple(_rule(rule, "from") for rule in entries(spec.get("ingress"))),
        egress=tuple(_rule(rule, "to") for rule in entries(spec.get("egress"))),
    )


def selects(policy: Policy, pod: Pod, direction: Direction) -> bool:
    """Whether ``policy`` isolates ``pod`` for ``direction`` (an endpoint outside the cluster is never selected)."""
    if direction not in policy.policy_types or not pod.namespace or policy.namespace != pod.namespace:
        return False
    return policy.pod_selector.matches(pod.labels)


def evaluate(
    policies: Iterable[Policy], *, source: Pod, destination: Pod, port: int | str, protocol: str = "TCP"
) -> Verdict:
    """Whether a connection from ``source`` to ``destination`` on ``port`` (a number, or a container port
    name of the destination) gets through: the destination's ingress and the source's egress."""
    policies = list(policies)
    number, names = _resolve(destination, port, protocol)
    sides: tuple[tuple[Direction, Pod, Pod], ...] = (("Ingress", destination, source), ("Egress", source, destination))
    for direction, isolated, peer in sides:
        chosen = [p for p in policies if selects(p, isolated, direction)]
        if not chosen:
            continue  # not isolated for this direction: everything gets through it
        admitted = any(
            _admits(rule, peer, owner=policy, number=number, names=names, protocol=protocol)
            for policy in chosen
            for rule in (policy.ingress if direction == "Ingress" else policy.egress)
        )
        if not admitted:
            return Verdict(False, tuple(policy.key for policy in chosen), direction)
    return Verdict(True)


def _admits(rule: Rule, peer: Pod, *, owner: Policy, number: int | None, names: frozenset[str], protocol: str) -> bool:
    if rule.ports is not None and not any(_port_matches(p, number, names, protocol) for p in rule.ports):
        return False
    return rule.peers is None or any(_peer_matches(p, peer, owner.namespace) for p in rule.peers)


def _peer_matches(peer: Peer, pod: Pod, policy_namespace: str) -> bool:
    if peer.block is not None:
        return bool(pod.ip) and peer.block.admits(pod.ip)
    if not pod.namespace:
        return False  # an endpoint outside the cluster: only an ipBlock can name it
    if peer.namespaces is not None:
        if not peer.namespaces.matches(pod.namespace_labels):
            return False
        return peer.pods is None or peer.pods.matches(pod.labels)
    if peer.pods is not None:
        return pod.namespace == policy_namespace and peer.pods.matches(pod.labels)
    return False


def _port_matches(rule: PortRule, number: int | None, names: frozenset[str], protocol: str) -> bool:
    if rule.protocol != protocol:
        return False
    if rule.port is None:
        return True
    if isinstance(rule.port, str):
        return rule.port in names
    if number is None:
        return False
    return rule.port <= number <= (rule.end_port or rule.port)


def _resolve(destination: Pod, port: int | str, protocol: str) -> tuple[int | None, frozenset[str]]:
    """The destination port as (number, the names it goes by): a name is looked up on the destination's
    container ports; a number goes by the names of the container ports serving it with that protocol."""
    number: int | None = port if isinstance(port, int) else None
    if isinstance(port, str) and destination.named_ports.get(port, (0, ""))[1] == protocol:
        number = destination.named_ports[port][0]
    names = {name for name, served in destination.named_ports.items() if served == (number, protocol)}
    if isinstance(port, str):
        names.add(port)
    return number, frozenset(names)


def _rule(rule: JsonObject, side: str) -> Rule:
    """Missing or empty ``from``/``to``/``ports`` mean every peer/port; unreadable ones (not a list) none."""
    peers_field, ports_field = rule.get(side), rule.get("ports")
    peers = None if peers_field in (None, []) else tuple(_peer(p) for p in entries(peers_field))
    ports = None if ports_field in (None, []) else tuple(_port(p) for p in entries(ports_field))
    return Rule(peers, ports)


def _peer(peer: JsonObject) -> Peer:
    if isinstance(peer.get("ipBlock"), dict):
        block = peer["ipBlock"]
        excepted = tuple(str(e) for e in block.get("except") or () if isinstance(e, str))
        return Peer(block=Block(str(block.get("cidr", "")), excepted))
    raw_pods, raw_namespaces = peer.get("podSelector"), peer.get("namespaceSelector")  # null: absent
    pods = None if raw_pods is None else _selector(raw_pods)
    namespaces = None if raw_namespaces is None else _selector(raw_namespaces)
    if (raw_pods is not None and pods is None) or (raw_namespaces is not None and namespaces is None):
        return Peer(pods=Selector(broken=True))
    return Peer(pods=pods, namespaces=namespaces)


def _port(port: JsonObject) -> PortRule:
    protocol = str(port.get("protocol") or "TCP")
    number = port.get("port")
    end = port.get("endPort")
    if number is None:
        return PortRule(protocol)
    if isinstance(number, bool) or not isinstance(number, int | str):
        return PortRule(protocol, port=-1)  # unreadable: admits nothing
    return PortRule(protocol, number, end if isinstance(end, int) and isinstance(number, int) else None)


def _selector(value: object) -> Selector | None:
    """A selector; None when it cannot be read. ``{}`` (or null) selects everything."""
    if value is None:
        return Selector()
    if not isinstance(value, dict):
        return None
    match = value.get("matchLabels") or {}
    if not isinstance(match, dict) or any(not isinstance(v, str) for v in match.values()):
        return None
    expressions = []
    for item in value.get("matchExpressions") or ():
        if not isinstance(item, dict) or item.get("operator") not in ("In", "NotIn", "Exists", "DoesNotExist"):
            return None
        values = item.get("values") or []
        if not isinstance(values, list):
            return None
        expressions.append(Expression(str(item.get("key", "")), str(item["operator"]), frozenset(map(str, values))))
    return Selector(tuple(sorted(strings(match).items())), tuple(expressions))


def _holds(expression: Expression, found: Mapping[str, str]) -> bool:
    if expression.operator == "In":
        return found.get(expression.key) in expression.values
    if expression.operator == "NotIn":
        return found.get(expression.key) not in expression.values
    if expression.operator == "Exists":
        return expression.key in found
    return expression.key not in found


def _same_family(network: str, address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    try:
        return ipaddress.ip_network(network, strict=False).version == address.version
    except ValueError:
        return False
