"""The NetworkPolicy evaluator, on a table of cases drawn from public sources, each named in its row:

- DOCS: the Kubernetes documentation, Concepts > Services > Network Policies
  (https://kubernetes.io/docs/concepts/services-networking/network-policies/): its example policies and the
  semantics it states (isolation, union of rules, AND vs OR of selectors, ipBlock except, endPort,
  policyTypes defaults, targeting a namespace by name);
- DEFAULTS: the API server's defaulting of NetworkPolicy (kubernetes/kubernetes
  pkg/apis/networking/v1/defaults.go): policyTypes from the egress rules present, a port's protocol TCP;
- RECIPES: https://github.com/ahmetb/kubernetes-network-policy-recipes, the recipe named, with the outcome
  each recipe's "Try it out" observes on a cluster;
- E2E: kubernetes/kubernetes test/e2e/network/netpol/network_policy.go, the ``It`` named, with the
  reachability it asserts (pods x/a, x/b, ... labelled ``pod=<name>``, serving 80 and 81 on TCP, UDP and
  SCTP under the container port names ``serve-<port>-<protocol>``);
- CYCLONUS: https://github.com/mattfenwick/cyclonus, the unit tests of its policy matcher
  (pkg/matcher/policy_tests.go) and of its ipBlock matching (pkg/kube/ipaddress_tests.go).

The cases are learnt from those sources (their policies and expected verdicts), not copied code.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from webhook.core.netpol import Pod, Policy, evaluate, policy_from_object, selects

DOCS = "https://kubernetes.io/docs/concepts/services-networking/network-policies/"
DEFAULTS = "https://github.com/kubernetes/kubernetes/blob/master/pkg/apis/networking/v1/defaults.go"
RECIPES = "https://github.com/ahmetb/kubernetes-network-policy-recipes"
E2E = "https://github.com/kubernetes/kubernetes/blob/master/test/e2e/network/netpol/network_policy.go"
CYCLONUS = "https://github.com/mattfenwick/cyclonus"
CYCLONUS_POLICY = f"{CYCLONUS}/blob/master/pkg/matcher/policy_tests.go"
CYCLONUS_IP = f"{CYCLONUS}/blob/master/pkg/kube/ipaddress_tests.go"
NAME = "kubernetes.io/metadata.name"

NAMESPACES: dict[str, dict[str, str]] = {
    "default": {},
    "other": {"team": "operations"},
    "myproject": {"project": "myproject"},
    "prod": {"purpose": "production"},
    "dev": {"purpose": "development"},
    "alice": {"user": "alice"},
    "x": {"ns": "x"},
    "y": {"ns": "y"},
    "z": {"ns": "z"},
}


def pod(namespace: str, ip: str = "", ports: dict[str, tuple[int, str]] | None = None, **labels: str) -> Pod:
    names = {"kubernetes.io/metadata.name": namespace, **NAMESPACES.get(namespace, {})} if namespace else {}
    return Pod(namespace, names, labels, ip=ip, named_ports=ports or {})


def external(ip: str) -> Pod:
    """An address outside the cluster."""
    return Pod("", {}, {}, ip=ip)


def np(namespace: str, name: str, **spec: Any) -> Policy:
    return policy_from_object({"metadata": {"namespace": namespace, "name": name}, "spec": spec})


ALL: dict[str, Any] = {}
"""An empty selector: every pod (of the namespace, for a podSelector)."""

DENY_INGRESS = np("default", "default-deny-ingress", podSelector=ALL, policyTypes=["Ingress"])
DENY_EGRESS = np("default", "default-deny-egress", podSelector=ALL, policyTypes=["Egress"])
DENY_ALL = np("default", "default-deny-all", podSelector=ALL, policyTypes=["Ingress", "Egress"])
ALLOW_ALL_INGRESS = np("default", "allow-all-ingress", podSelector=ALL, ingress=[{}], policyTypes=["Ingress"])
ALLOW_ALL_EGRESS = np("default", "allow-all-egress", podSelector=ALL, egress=[{}], policyTypes=["Egress"])
TEST_NETWORK_POLICY = np(
    "default",
    "test-network-policy",
    podSelector={"matchLabels": {"role": "db"}},
    policyTypes=["Ingress", "Egress"],
    ingress=[
        {
            "from": [
                {"ipBlock": {"cidr": "172.17.0.0/16", "except": ["172.17.1.0/24"]}},
                {"namespaceSelector": {"matchLabels": {"project": "myproject"}}},
                {"podSelector": {"matchLabels": {"role": "frontend"}}},
            ],
            "ports": [{"protocol": "TCP", "port": 6379}],
        }
    ],
    egress=[{"to": [{"ipBlock": {"cidr": "10.0.0.0/24"}}], "ports": [{"protocol": "TCP", "port": 5978}]}],
)
AND_SELECTORS = np(
    "default",
    "and",
    podSelector=ALL,
    ingress=[
        {
            "from": [
                {
                    "namespaceSelector": {"matchLabels": {"user": "alice"}},
                    "podSelector": {"matchLabels": {"role": "client"}},
                }
            ]
        }
    ],
)
OR_SELECTORS = np(
    "default",
    "or",
    podSelector=ALL,
    ingress=[
        {
            "from": [
                {"namespaceSelector": {"matchLabels": {"user": "alice"}}},
                {"podSelector": {"matchLabels": {"role": "client"}}},
            ]
        }
    ],
)
END_PORT = np(
    "default",
    "multi-port-egress",
    podSelector={"matchLabels": {"role": "db"}},
    policyTypes=["Egress"],
    egress=[
        {"to": [{"ipBlock": {"cidr": "10.0.0.0/24"}}], "ports": [{"protocol": "TCP", "port": 32000, "endPort": 32768}]}
    ],
)
BY_NAME = np(
    "default",
    "from-myproject-by-name",
    podSelector=ALL,
    ingress=[{"from": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "myproject"}}}]}],
)
EGRESS_ONLY_SECTION = np("default", "egress-section", podSelector=ALL, egress=[{}])
INGRESS_ONLY_SECTION = np("default", "ingress-section", podSelector=ALL, ingress=[])

WEB_DENY_ALL = np("default", "web-deny-all", podSelector={"matchLabels": {"app": "web"}}, ingress=[])
API_ALLOW = np(
    "default",
    "api-allow",
    podSelector={"matchLabels": {"app": "bookstore", "role": "api"}},
    ingress=[{"from": [{"podSelector": {"matchLabels": {"app": "bookstore"}}}]}],
)
WEB_ALLOW_ALL = np("default", "web-allow-all", podSelector={"matchLabels": {"app": "web"}}, ingress=[{}])
DENY_FROM_OTHER_NAMESPACES = np(
    "default", "deny-from-other-namespaces", podSelector=ALL, ingress=[{"from": [{"podSelector": {}}]}]
)
WEB_ALLOW_ALL_NAMESPACES = np(
    "default",
    "web-allow-all-namespaces",
    podSelector={"matchLabels": {"app": "web"}},
    ingress=[{"from": [{"namespaceSelector": {}}]}],
)
WEB_ALLOW_PROD = np(
    "default",
    "web-allow-prod",
    podSelector={"matchLabels": {"app": "web"}},
    ingress=[{"from": [{"namespaceSelector": {"matchLabels": {"purpose": "production"}}}]}],
)
WEB_ALLOW_NS_MONITORING = np(
    "default",
    "web-allow-all-ns-monitoring",
    podSelector={"matchLabels": {"app": "web"}},
    ingress=[
        {
            "from": [
                {
                    "namespaceSelector": {"matchLabels": {"team": "operations"}},
                    "podSelector": {"matchLabels": {"type": "monitoring"}},
                }
            ]
        }
    ],
)
API_ALLOW_5000 = np(
    "default",
    "api-allow-5000",
    podSelector={"matchLabels": {"app": "apiserver"}},
    ingress=[{"ports": [{"port": 5000}], "from": [{"podSelector": {"matchLabels": {"role": "monitoring"}}}]}],
)
API_ALLOW_NAMED = np(
    "default",
    "api-allow-named",
    podSelector={"matchLabels": {"app": "apiserver"}},
    ingress=[{"ports": [{"port": "api-port"}], "from": [{"podSelector": {"matchLabels": {"role": "monitoring"}}}]}],
)
REDIS_ALLOW_SERVICES = np(
    "default",
    "redis-allow-services",
    podSelector={"matchLabels": {"app": "bookstore", "role": "db"}},
    ingress=[
        {
            "from": [
                {"podSelector": {"matchLabels": {"app": "bookstore", "role": "search"}}},
                {"podSelector": {"matchLabels": {"app": "bookstore", "role": "api"}}},
                {"podSelector": {"matchLabels": {"app": "inventory", "role": "web"}}},
            ]
        }
    ],
)
FOO_DENY_EGRESS = np(
    "default", "foo-deny-egress", podSelector={"matchLabels": {"app": "foo"}}, policyTypes=["Egress"], egress=[]
)
FOO_ALLOW_DNS = np(
    "default",
    "foo-allow-dns",
    podSelector={"matchLabels": {"app": "foo"}},
    policyTypes=["Egress"],
    egress=[{"ports": [{"port": 53, "protocol": "UDP"}, {"port": 53, "protocol": "TCP"}]}],
)
DENY_EXTERNAL_EGRESS = np(
    "default",
    "foo-deny-external-egress",
    podSelector={"matchLabels": {"app": "foo"}},
    policyTypes=["Egress"],
    egress=[
        {"ports": [{"port": 53, "protocol": "UDP"}, {"port": 53, "protocol": "TCP"}]},
        {"to": [{"namespaceSelector": {}}]},
    ],
)

SERVE = {f"serve-{n}-{p.lower()}": (n, p) for n in (80, 81) for p in ("TCP", "UDP", "SCTP")}
"""The container ports of every e2e pod."""


def e2e(namespace: str, name: str, ip: str = "", **labels: str) -> Pod:
    """The e2e suite's pod ``namespace/name``."""
    return pod(namespace, ip, SERVE, pod=name, **labels)


XA, XB, XC, YA, YB, YC, ZA, ZB = (e2e(n[0], n[2]) for n in ("x/a", "x/b", "x/c", "y/a", "y/b", "y/c", "z/a", "z/b"))
POD_A: dict[str, Any] = {"matchLabels": {"pod": "a"}}
POD_B: dict[str, Any] = {"matchLabels": {"pod": "b"}}
NOT_X: dict[str, Any] = {"matchExpressions": [{"key": NAME, "operator": "NotIn", "values": ["x"]}]}


def named(namespace: str) -> dict[str, Any]:
    return {"matchLabels": {NAME: namespace}}


def x(name: str, **spec: Any) -> Policy:
    return np("x", name, **spec)


def from_(*peers: dict[str, Any], ports: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    """One ingress (or egress) rule."""
    rule: dict[str, Any] = {"from": list(peers)} if peers else {}
    return [rule | ({"ports": ports} if ports else {})]


def to(*peers: dict[str, Any], ports: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    return [{"to": list(peers)} | ({"ports": ports} if ports else {})] if peers else [{"ports": ports or []}]


E2E_DENY_INGRESS = x("deny-ingress", podSelector=ALL, policyTypes=["Ingress"])
E2E_DENY_ALL = x("deny-all", podSelector=ALL, policyTypes=["Ingress", "Egress"])
E2E_X_A_ALLOWS_X_B = x("x-a-allows-x-b", podSelector=POD_A, ingress=from_({"podSelector": POD_B}))
E2E_ALLOW_ALL_TO_A = x("allow-all-to-a", podSelector=POD_A, ingress=from_({"podSelector": {}, "namespaceSelector": {}}))
E2E_FROM_ALL_NAMESPACES = x(
    "allow-from-another-ns", podSelector=POD_A, ingress=from_({"namespaceSelector": {"matchLabels": {}}})
)
E2E_FROM_Y = x("allow-client-a-via-ns-selector", podSelector=POD_A, ingress=from_({"namespaceSelector": named("y")}))
E2E_POD_IN_B = x(
    "x-a-allows-x-b-in",
    podSelector=POD_A,
    ingress=from_({"podSelector": {"matchExpressions": [{"key": "pod", "operator": "In", "values": ["b"]}]}}),
)
E2E_NAMESPACE_IN_Y = x(
    "allow-ns-y-match-selector",
    podSelector=POD_A,
    ingress=from_({"namespaceSelector": {"matchExpressions": [{"key": NAME, "operator": "In", "values": ["y"]}]}}),
)
E2E_NAMESPACE_OR_POD = x(
    "allow-ns-y-match-selector-or-pod-b",
    podSelector=POD_A,
    ingress=from_({"namespaceSelector": NOT_X}, {"podSelector": POD_B}),
)
E2E_NAMESPACE_AND_POD = x(
    "allow-ns-y-podselector-and-nsselector",
    podSelector=POD_A,
    ingress=from_({"namespaceSelector": NOT_X, "podSelector": POD_B}),
)
E2E_NAMESPACE_AND_PODS_B_C = x(
    "allow-ns-y-z-pod-b-c",
    podSelector=POD_A,
    ingress=from_(
        {
            "namespaceSelector": NOT_X,
            "podSelector": {"matchExpressions": [{"key": "pod", "operator": "In", "values": ["b", "c"]}]},
        }
    ),
)
E2E_ANY_POD = x(
    "allow-ns-x-pod-b-c",
    podSelector=POD_A,
    ingress=from_({"podSelector": POD_B}, {"podSelector": {"matchLabels": {"pod": "c"}}}),
)
E2E_Y_POD_A = x(
    "allow-ns-y-pod-a-via-namespace-pod-selector",
    podSelector=POD_A,
    ingress=from_({"namespaceSelector": named("y"), "podSelector": POD_A}),
)
E2E_Y_ON_81 = x(
    "allow-client-a-via-ns-selector",
    podSelector=POD_A,
    ingress=from_({"namespaceSelector": named("y")}, ports=[{"port": 81, "protocol": "TCP"}]),
)
E2E_Y_ON_80 = x(
    "allow-client-a-via-ns-selector-80",
    podSelector=POD_A,
    ingress=from_({"namespaceSelector": named("y")}, ports=[{"port": 80, "protocol": "TCP"}]),
)
E2E_ALLOW_ALL = x("allow-all", podSelector=ALL, ingress=[{}])
E2E_NAMED_81 = x("allow-all", podSelector=ALL, ingress=[{"ports": [{"port": "serve-81-tcp"}]}])
E2E_Y_ON_NAMED_80 = x(
    "allow-client-a-via-ns-selector-80",
    podSelector=POD_A,
    ingress=from_({"namespaceSelector": named("y")}, ports=[{"port": "serve-80-tcp", "protocol": "TCP"}]),
)
E2E_EGRESS_NAMED_80 = x(
    "allow-egress", podSelector=ALL, policyTypes=["Egress"], egress=[{"ports": [{"port": "serve-80-tcp"}]}]
)
E2E_FROM_UPDATED_NAMESPACE = x(
    "allow-client-a-via-ns-selector",
    podSelector=POD_A,
    ingress=from_({"namespaceSelector": {"matchLabels": {"ns2": "updated"}}}),
)
E2E_FROM_UPDATED_POD = x(
    "allow-client-a-via-pod-selector",
    podSelector=POD_A,
    ingress=from_({"podSelector": {"matchLabels": {"pod": "b", "pod2": "updated"}}}),
)
E2E_DENY_FROM_OTHER_NAMESPACES = x(
    "deny-empty-policy", podSelector=ALL, ingress=from_({"podSelector": {"matchLabels": {}}})
)
E2E_ISOLATE_LABELLED = x(
    "deny-ingress-via-label-selector", podSelector={"matchLabels": {"target": "isolated"}}, policyTypes=["Ingress"]
)
E2E_DENY_EGRESS_A = x("deny-egress-pod-a", podSelector=POD_A, policyTypes=["Egress"])
E2E_DENY_EGRESS_X = x("deny-egress-ns-x", podSelector=ALL, policyTypes=["Egress"])
E2E_INGRESS_AND_EGRESS = x(
    "allow-client-a-via-pod-selector",
    podSelector=POD_A,
    policyTypes=["Egress", "Ingress"],
    ingress=from_({"podSelector": POD_B}),
    egress=[{"ports": [{"port": 80}]}],
)
E2E_EGRESS_TO_Y_A = x(
    "allow-to-ns-y-pod-a",
    podSelector=POD_A,
    policyTypes=["Egress"],
    egress=to({"namespaceSelector": named("y"), "podSelector": POD_A}),
)
E2E_Y_A_FROM_X_A = np(
    "y",
    "allow-from-xa-on-ya-match-selector",
    podSelector=POD_A,
    ingress=from_({"namespaceSelector": named("x"), "podSelector": POD_A}),
)
E2E_Y_B_FROM_X_A = np(
    "y",
    "allow-from-xa-on-yb-match-selector",
    podSelector=POD_B,
    ingress=from_({"namespaceSelector": named("x"), "podSelector": POD_A}),
)
E2E_BY_PROTOCOL = x("allow-ingress-by-proto", podSelector=POD_A, ingress=[{"ports": [{"protocol": "TCP"}]}])
E2E_INGRESS_80 = x("allow-ingress-port-80", podSelector=ALL, ingress=[{"ports": [{"port": 80}]}])
E2E_ALLOW_INGRESS = x("allow-ingress", podSelector=ALL, ingress=[{}])
E2E_EGRESS_80 = x("allow-egress-port-80", podSelector=ALL, policyTypes=["Egress"], egress=[{"ports": [{"port": 80}]}])
E2E_ALLOW_EGRESS = x("allow-egress", podSelector=ALL, policyTypes=["Egress"], egress=[{}])
E2E_CIDR = x(
    "allow-client-a-via-cidr-egress-rule",
    podSelector=POD_A,
    policyTypes=["Egress"],
    egress=to({"ipBlock": {"cidr": "10.1.2.3/32"}}),
)
E2E_CIDR_EXCEPT = x(
    "allow-client-a-via-cidr-egress-rule",
    podSelector=POD_A,
    policyTypes=["Egress"],
    egress=to({"ipBlock": {"cidr": "0.0.0.0/4", "except": ["10.1.2.3/32"]}}),
)
"""The e2e's "large CIDR" around x/b (the /4 holding 10.1.2.3), x/b itself excepted."""
E2E_EGRESS_FOR_TARGET = x("allow-egress-for-target", podSelector=POD_A, policyTypes=["Egress"], egress=[{}])
E2E_DENY_INGRESS_TARGET = x("deny-ingress-via-label-selector", podSelector=POD_A, policyTypes=["Ingress"])
E2E_SCTP_81 = x(
    "allow-only-sctp-ingress-on-port-81", podSelector=POD_A, ingress=[{"ports": [{"port": 81, "protocol": "SCTP"}]}]
)
E2E_SCTP_80 = x(
    "allow-only-sctp-ingress-on-port-80", podSelector=POD_A, ingress=[{"ports": [{"port": 80, "protocol": "SCTP"}]}]
)
E2E_UDP_81 = x(
    "allow-only-udp-ingress-on-port-81", podSelector=POD_A, ingress=[{"ports": [{"port": 81, "protocol": "UDP"}]}]
)
E2E_Y_ON_81_UDP = x(
    "allow-ingress-on-port-81-ns-x",
    podSelector=POD_A,
    ingress=from_({"namespaceSelector": named("y")}, ports=[{"port": 81, "protocol": "UDP"}]),
)
E2E_EGRESS_NOT_TO_Y = x(
    "allow-ns-y-match-selector-for-immutable-ns-label",
    podSelector=POD_A,
    policyTypes=["Egress"],
    egress=to({"namespaceSelector": {"matchExpressions": [{"key": NAME, "operator": "NotIn", "values": ["y"]}]}}),
)

XB_AT, XC_AT = e2e("x", "b", ip="10.1.2.3"), e2e("x", "c", ip="10.1.2.4")
YA_AT, YB_AT = e2e("y", "a", ip="10.1.3.4"), e2e("y", "b", ip="10.1.2.3")
Y_UPDATED = Pod("y", {NAME: "y", "ns2": "updated"}, {"pod": "a"}, named_ports=SERVE)
XB_UPDATED = e2e("x", "b", pod2="updated")
XA_ISOLATED = e2e("x", "a", target="isolated")


def it(name: str) -> str:
    """The e2e case of that ``It``."""
    return f"{E2E}: {name}"


def recipe(path: str) -> str:
    return f"{RECIPES}/blob/master/{path}"


CYCLONUS_SCTP = x("policy-207", podSelector=ALL, policyTypes=["Ingress"], ingress=[{"ports": [{"protocol": "SCTP"}]}])
CYCLONUS_EGRESS = x(
    "vary-egress-37-0-0-0-19",
    podSelector=POD_A,
    policyTypes=["Egress"],
    egress=[
        {
            "ports": [{"port": 80, "protocol": "TCP"}],
            "to": [{"podSelector": {}}, {"ipBlock": {"cidr": "192.168.242.213/24"}}],
        },
        {"ports": [{"port": 53, "protocol": "UDP"}]},
    ],
)
CYCLONUS_NAMED = x(
    "abc", podSelector=POD_A, policyTypes=["Ingress"], ingress=[{"ports": [{"port": "port-hello", "protocol": "TCP"}]}]
)
HELLO = pod("x", ports={"port-hello": (8080, "TCP")}, pod="a")


def block(cidr: str, *excepted: str) -> Policy:
    """An ingress policy on x/a admitting exactly one ipBlock: cyclonus's IsIPAddressMatchForIPBlock cases."""
    peer = {"ipBlock": {"cidr": cidr, "except": list(excepted)}}
    return x("ip-block", podSelector=POD_A, ingress=from_(peer))


@dataclass(frozen=True)
class Case:
    policies: list[Policy]
    source: Pod
    destination: Pod
    port: int | str
    expected: bool
    origin: str
    protocol: str = "TCP"


def case(
    ident: str,
    origin: str,
    policies: list[Policy],
    source: Pod,
    destination: Pod,
    port: int | str,
    expected: bool,
    **more: str,
) -> Any:
    return pytest.param(Case(policies, source, destination, port, expected, origin, **more), id=ident)


# fmt: off
CASES = [
    case("docs-no-policy-non-isolated", DOCS, [], pod("default"), pod("other"), 80, True),
    case("docs-default-deny-ingress", DOCS, [DENY_INGRESS], pod("other"), pod("default"), 80, False),
    case("docs-deny-ingress-leaves-egress", DOCS, [DENY_INGRESS], pod("default"), pod("other"), 80, True),
    case("docs-allow-all-ingress-wins", DOCS, [DENY_INGRESS, ALLOW_ALL_INGRESS], pod("other"), pod("default"), 80, True),
    case("docs-default-deny-egress", DOCS, [DENY_EGRESS], pod("default"), pod("other"), 80, False),
    case("docs-deny-egress-leaves-ingress", DOCS, [DENY_EGRESS], pod("other"), pod("default"), 80, True),
    case("docs-allow-all-egress", DOCS, [DENY_EGRESS, ALLOW_ALL_EGRESS], pod("default"), pod("other"), 80, True),
    case("docs-default-deny-all-in", DOCS, [DENY_ALL], pod("other"), pod("default"), 80, False),
    case("docs-default-deny-all-out", DOCS, [DENY_ALL], pod("default"), pod("other"), 80, False),
    case("docs-same-namespace-not-exempt", DOCS, [DENY_ALL], pod("default"), pod("default"), 80, False),
    case("docs-frontend-to-db", DOCS, [TEST_NETWORK_POLICY], pod("default", role="frontend"), pod("default", role="db"), 6379, True),
    case("docs-frontend-other-port", DOCS, [TEST_NETWORK_POLICY], pod("default", role="frontend"), pod("default", role="db"), 6380, False),
    case("docs-myproject-namespace", DOCS, [TEST_NETWORK_POLICY], pod("myproject"), pod("default", role="db"), 6379, True),
    case("docs-ipblock-admits", DOCS, [TEST_NETWORK_POLICY], pod("other", ip="172.17.0.5"), pod("default", role="db"), 6379, True),
    case("docs-ipblock-except", DOCS, [TEST_NETWORK_POLICY], pod("other", ip="172.17.1.5"), pod("default", role="db"), 6379, False),
    case("docs-podselector-own-namespace-only", DOCS, [TEST_NETWORK_POLICY], pod("other", role="frontend"), pod("default", role="db"), 6379, False),
    case("docs-unknown-ip-not-in-block", DOCS, [TEST_NETWORK_POLICY], pod("other"), pod("default", role="db"), 6379, False),
    case("docs-egress-ipblock", DOCS, [TEST_NETWORK_POLICY], pod("default", role="db"), external("10.0.0.5"), 5978, True),
    case("docs-egress-outside-block", DOCS, [TEST_NETWORK_POLICY], pod("default", role="db"), external("10.0.1.5"), 5978, False),
    case("docs-egress-other-port", DOCS, [TEST_NETWORK_POLICY], pod("default", role="db"), external("10.0.0.5"), 80, False),
    case("docs-unselected-pod-open", DOCS, [TEST_NETWORK_POLICY], pod("other"), pod("default", role="web"), 80, True),
    case("docs-and-both-match", DOCS, [AND_SELECTORS], pod("alice", role="client"), pod("default"), 80, True),
    case("docs-and-namespace-only", DOCS, [AND_SELECTORS], pod("alice"), pod("default"), 80, False),
    case("docs-and-pod-only", DOCS, [AND_SELECTORS], pod("default", role="client"), pod("default"), 80, False),
    case("docs-or-namespace", DOCS, [OR_SELECTORS], pod("alice"), pod("default"), 80, True),
    case("docs-or-pod-own-namespace", DOCS, [OR_SELECTORS], pod("default", role="client"), pod("default"), 80, True),
    case("docs-or-pod-elsewhere", DOCS, [OR_SELECTORS], pod("other", role="client"), pod("default"), 80, False),
    case("docs-endport-first", DOCS, [END_PORT], pod("default", role="db"), external("10.0.0.9"), 32000, True),
    case("docs-endport-last", DOCS, [END_PORT], pod("default", role="db"), external("10.0.0.9"), 32768, True),
    case("docs-endport-past", DOCS, [END_PORT], pod("default", role="db"), external("10.0.0.9"), 32769, False),
    case("docs-endport-before", DOCS, [END_PORT], pod("default", role="db"), external("10.0.0.9"), 31999, False),
    case("docs-namespace-by-name", DOCS, [BY_NAME], pod("myproject"), pod("default"), 80, True),
    case("docs-namespace-by-name-other", DOCS, [BY_NAME], pod("prod"), pod("default"), 80, False),
    case("docs-egress-section-isolates-ingress-too", DOCS, [EGRESS_ONLY_SECTION], pod("other"), pod("default"), 80, False),
    case("docs-egress-section-allows-all-out", DOCS, [EGRESS_ONLY_SECTION], pod("default"), pod("other"), 80, True),
    case("docs-ingress-default-type-only", DOCS, [INGRESS_ONLY_SECTION], pod("default"), pod("other"), 80, True),
    case("recipe-01-web-deny-all", recipe("01-deny-all-traffic-to-an-application.md"), [WEB_DENY_ALL], pod("default"), pod("default", app="web"), 80, False),
    case("recipe-01-others-open", recipe("01-deny-all-traffic-to-an-application.md"), [WEB_DENY_ALL], pod("default"), pod("default", app="db"), 80, True),
    case("recipe-02-bookstore-allowed", recipe("02-limit-traffic-to-an-application.md"), [API_ALLOW], pod("default", app="bookstore"), pod("default", app="bookstore", role="api"), 80, True),
    case("recipe-02-other-blocked", recipe("02-limit-traffic-to-an-application.md"), [API_ALLOW], pod("default", app="other"), pod("default", app="bookstore", role="api"), 80, False),
    case("recipe-02a-allow-all-obsoletes-deny", recipe("02a-allow-all-traffic-to-an-application.md"), [WEB_DENY_ALL, WEB_ALLOW_ALL], pod("other"), pod("default", app="web"), 80, True),
    case("recipe-03-namespace-deny", recipe("03-deny-all-non-whitelisted-traffic-in-the-namespace.md"), [np("default", "default-deny-all", podSelector=ALL, ingress=[])], pod("default"), pod("default", app="web"), 80, False),
    case("recipe-04-same-namespace", recipe("04-deny-traffic-from-other-namespaces.md"), [DENY_FROM_OTHER_NAMESPACES], pod("default"), pod("default", app="web"), 80, True),
    case("recipe-04-other-namespace", recipe("04-deny-traffic-from-other-namespaces.md"), [DENY_FROM_OTHER_NAMESPACES], pod("other"), pod("default", app="web"), 80, False),
    case("recipe-05-all-namespaces", recipe("05-allow-traffic-from-all-namespaces.md"), [WEB_DENY_ALL, WEB_ALLOW_ALL_NAMESPACES], pod("other"), pod("default", app="web"), 80, True),
    case("recipe-06-production", recipe("06-allow-traffic-from-a-namespace.md"), [WEB_ALLOW_PROD], pod("prod"), pod("default", app="web"), 80, True),
    case("recipe-06-development", recipe("06-allow-traffic-from-a-namespace.md"), [WEB_ALLOW_PROD], pod("dev"), pod("default", app="web"), 80, False),
    case("recipe-06-own-namespace", recipe("06-allow-traffic-from-a-namespace.md"), [WEB_ALLOW_PROD], pod("default"), pod("default", app="web"), 80, False),
    case("recipe-07-default-unlabelled", recipe("07-allow-traffic-from-some-pods-in-another-namespace.md"), [WEB_ALLOW_NS_MONITORING], pod("default"), pod("default", app="web"), 80, False),
    case("recipe-07-default-monitoring", recipe("07-allow-traffic-from-some-pods-in-another-namespace.md"), [WEB_ALLOW_NS_MONITORING], pod("default", type="monitoring"), pod("default", app="web"), 80, False),
    case("recipe-07-other-unlabelled", recipe("07-allow-traffic-from-some-pods-in-another-namespace.md"), [WEB_ALLOW_NS_MONITORING], pod("other"), pod("default", app="web"), 80, False),
    case("recipe-07-other-monitoring", recipe("07-allow-traffic-from-some-pods-in-another-namespace.md"), [WEB_ALLOW_NS_MONITORING], pod("other", type="monitoring"), pod("default", app="web"), 80, True),
    case("recipe-09-monitoring-5000", recipe("09-allow-traffic-only-to-a-port.md"), [API_ALLOW_5000], pod("default", role="monitoring"), pod("default", app="apiserver"), 5000, True),
    case("recipe-09-monitoring-8000", recipe("09-allow-traffic-only-to-a-port.md"), [API_ALLOW_5000], pod("default", role="monitoring"), pod("default", app="apiserver"), 8000, False),
    case("recipe-09-other-5000", recipe("09-allow-traffic-only-to-a-port.md"), [API_ALLOW_5000], pod("default"), pod("default", app="apiserver"), 5000, False),
    case("recipe-09-named-port-by-number", recipe("09-allow-traffic-only-to-a-port.md"), [API_ALLOW_NAMED], pod("default", role="monitoring"), pod("default", ports={"api-port": (5000, "TCP")}, app="apiserver"), 5000, True),
    case("recipe-09-named-port-other", recipe("09-allow-traffic-only-to-a-port.md"), [API_ALLOW_NAMED], pod("default", role="monitoring"), pod("default", ports={"api-port": (5000, "TCP")}, app="apiserver"), 8000, False),
    case("recipe-09-name-asked-number-rule", recipe("09-allow-traffic-only-to-a-port.md"), [API_ALLOW_5000], pod("default", role="monitoring"), pod("default", ports={"api-port": (5000, "TCP")}, app="apiserver"), "api-port", True),
    case("recipe-10-catalog", recipe("10-allowing-traffic-with-multiple-selectors.md"), [REDIS_ALLOW_SERVICES], pod("default", app="inventory", role="web"), pod("default", app="bookstore", role="db"), 6379, True),
    case("recipe-10-search", recipe("10-allowing-traffic-with-multiple-selectors.md"), [REDIS_ALLOW_SERVICES], pod("default", app="bookstore", role="search"), pod("default", app="bookstore", role="db"), 6379, True),
    case("recipe-10-other", recipe("10-allowing-traffic-with-multiple-selectors.md"), [REDIS_ALLOW_SERVICES], pod("default", app="other"), pod("default", app="bookstore", role="db"), 6379, False),
    case("recipe-11-foo-no-egress", recipe("11-deny-egress-traffic-from-an-application.md"), [FOO_DENY_EGRESS], pod("default", app="foo"), pod("default", app="web"), 80, False),
    case("recipe-11-dns-allowed", recipe("11-deny-egress-traffic-from-an-application.md"), [FOO_DENY_EGRESS, FOO_ALLOW_DNS], pod("default", app="foo"), pod("kube-system", k8s_app="kube-dns"), 53, True, protocol="UDP"),
    case("recipe-11-web-still-denied", recipe("11-deny-egress-traffic-from-an-application.md"), [FOO_DENY_EGRESS, FOO_ALLOW_DNS], pod("default", app="foo"), pod("default", app="web"), 80, False),
    case("recipe-12-namespace-egress", recipe("12-deny-all-non-whitelisted-traffic-from-the-namespace.md"), [np("default", "default-deny-all-egress", podSelector=ALL, policyTypes=["Egress"], egress=[])], pod("default", app="web"), pod("other"), 80, False),
    case("recipe-14-in-cluster", recipe("14-deny-external-egress-traffic.md"), [DENY_EXTERNAL_EGRESS], pod("default", app="foo"), pod("other"), 80, True),
    case("recipe-14-external", recipe("14-deny-external-egress-traffic.md"), [DENY_EXTERNAL_EGRESS], pod("default", app="foo"), external("93.184.216.34"), 80, False),
    case("recipe-14-dns-anywhere", recipe("14-deny-external-egress-traffic.md"), [DENY_EXTERNAL_EGRESS], pod("default", app="foo"), external("8.8.8.8"), 53, True, protocol="UDP"),
    case("defaults-empty-egress-list-isolates-no-egress", DEFAULTS, [np("default", "empty-egress", podSelector=ALL, egress=[])], pod("default"), pod("other"), 80, True),
    case("defaults-empty-egress-list-still-isolates-ingress", DEFAULTS, [np("default", "empty-egress", podSelector=ALL, egress=[])], pod("other"), pod("default"), 80, False),
    case("defaults-port-protocol-is-tcp", DEFAULTS, [np("default", "tcp-80", podSelector=ALL, ingress=[{"ports": [{"port": 80}]}])], pod("other"), pod("default"), 80, True),
    case("defaults-port-protocol-not-udp", DEFAULTS, [np("default", "tcp-80", podSelector=ALL, ingress=[{"ports": [{"port": 80}]}])], pod("other"), pod("default"), 80, False, protocol="UDP"),
    case("e2e-default-deny-ingress-cross", it("should support a 'default-deny-ingress' policy"), [E2E_DENY_INGRESS], YA, XA, 80, False),
    case("e2e-default-deny-ingress-same-ns", it("should support a 'default-deny-ingress' policy"), [E2E_DENY_INGRESS], XB, XA, 80, False),
    case("e2e-default-deny-ingress-leaves-y", it("should support a 'default-deny-ingress' policy"), [E2E_DENY_INGRESS], XA, YA, 80, True),
    case("e2e-default-deny-all-in", it("should support a 'default-deny-all' policy"), [E2E_DENY_ALL], YA, XA, 80, False),
    case("e2e-default-deny-all-out", it("should support a 'default-deny-all' policy"), [E2E_DENY_ALL], XA, YA, 80, False),
    case("e2e-default-deny-all-within", it("should support a 'default-deny-all' policy"), [E2E_DENY_ALL], XA, XB, 80, False),
    case("e2e-podselector-b-allowed", it("should enforce policy to allow traffic from pods within server namespace based on PodSelector"), [E2E_X_A_ALLOWS_X_B], XB, XA, 80, True),
    case("e2e-podselector-c-refused", it("should enforce policy to allow traffic from pods within server namespace based on PodSelector"), [E2E_X_A_ALLOWS_X_B], XC, XA, 80, False),
    case("e2e-podselector-other-ns-refused", it("should enforce policy to allow traffic from pods within server namespace based on PodSelector"), [E2E_X_A_ALLOWS_X_B], YA, XA, 80, False),
    case("e2e-target-allowed-from-y", it("should enforce policy to allow ingress traffic for a target"), [E2E_DENY_INGRESS, E2E_ALLOW_ALL_TO_A], YA, XA, 80, True),
    case("e2e-target-allowed-from-x", it("should enforce policy to allow ingress traffic for a target"), [E2E_DENY_INGRESS, E2E_ALLOW_ALL_TO_A], XB, XA, 80, True),
    case("e2e-non-target-still-denied", it("should enforce policy to allow ingress traffic for a target"), [E2E_DENY_INGRESS, E2E_ALLOW_ALL_TO_A], YA, XB, 80, False),
    case("e2e-all-namespaces-z", it("should enforce policy to allow ingress traffic from pods in all namespaces"), [E2E_FROM_ALL_NAMESPACES], ZA, XA, 80, True),
    case("e2e-all-namespaces-own", it("should enforce policy to allow ingress traffic from pods in all namespaces"), [E2E_FROM_ALL_NAMESPACES], XB, XA, 80, True),
    case("e2e-namespace-y-allowed", it("should enforce policy to allow traffic only from a different namespace, based on NamespaceSelector"), [E2E_FROM_Y], YA, XA, 80, True),
    case("e2e-namespace-x-refused", it("should enforce policy to allow traffic only from a different namespace, based on NamespaceSelector"), [E2E_FROM_Y], XB, XA, 80, False),
    case("e2e-namespace-z-refused", it("should enforce policy to allow traffic only from a different namespace, based on NamespaceSelector"), [E2E_FROM_Y], ZA, XA, 80, False),
    case("e2e-pod-expression-in", it("should enforce policy based on PodSelector with MatchExpressions"), [E2E_POD_IN_B], XB, XA, 80, True),
    case("e2e-pod-expression-other-ns", it("should enforce policy based on PodSelector with MatchExpressions"), [E2E_POD_IN_B], YA, XA, 80, False),
    case("e2e-namespace-expression-y", it("should enforce policy based on NamespaceSelector with MatchExpressions"), [E2E_NAMESPACE_IN_Y], YA, XA, 80, True),
    case("e2e-namespace-expression-z", it("should enforce policy based on NamespaceSelector with MatchExpressions"), [E2E_NAMESPACE_IN_Y], ZA, XA, 80, False),
    case("e2e-namespace-expression-own", it("should enforce policy based on NamespaceSelector with MatchExpressions"), [E2E_NAMESPACE_IN_Y], XB, XA, 80, False),
    case("e2e-or-pod-b", it("should enforce policy based on PodSelector or NamespaceSelector"), [E2E_NAMESPACE_OR_POD], XB, XA, 80, True),
    case("e2e-or-pod-c-refused", it("should enforce policy based on PodSelector or NamespaceSelector"), [E2E_NAMESPACE_OR_POD], XC, XA, 80, False),
    case("e2e-or-namespace-y", it("should enforce policy based on PodSelector or NamespaceSelector"), [E2E_NAMESPACE_OR_POD], YA, XA, 80, True),
    case("e2e-and-y-b", it("should enforce policy based on PodSelector and NamespaceSelector"), [E2E_NAMESPACE_AND_POD], YB, XA, 80, True),
    case("e2e-and-z-b", it("should enforce policy based on PodSelector and NamespaceSelector"), [E2E_NAMESPACE_AND_POD], ZB, XA, 80, True),
    case("e2e-and-x-b-refused", it("should enforce policy based on PodSelector and NamespaceSelector"), [E2E_NAMESPACE_AND_POD], XB, XA, 80, False),
    case("e2e-and-y-a-refused", it("should enforce policy based on PodSelector and NamespaceSelector"), [E2E_NAMESPACE_AND_POD], YA, XA, 80, False),
    case("e2e-multiple-y-b", it("should enforce policy based on Multiple PodSelectors and NamespaceSelectors"), [E2E_NAMESPACE_AND_PODS_B_C], YB, XA, 80, True),
    case("e2e-multiple-y-c", it("should enforce policy based on Multiple PodSelectors and NamespaceSelectors"), [E2E_NAMESPACE_AND_PODS_B_C], YC, XA, 80, True),
    case("e2e-multiple-y-a-refused", it("should enforce policy based on Multiple PodSelectors and NamespaceSelectors"), [E2E_NAMESPACE_AND_PODS_B_C], YA, XA, 80, False),
    case("e2e-multiple-x-b-refused", it("should enforce policy based on Multiple PodSelectors and NamespaceSelectors"), [E2E_NAMESPACE_AND_PODS_B_C], XB, XA, 80, False),
    case("e2e-any-pod-b", it("should enforce policy based on any PodSelectors"), [E2E_ANY_POD], XB, XA, 80, True),
    case("e2e-any-pod-c", it("should enforce policy based on any PodSelectors"), [E2E_ANY_POD], XC, XA, 80, True),
    case("e2e-y-a-only-allowed", it("should enforce policy to allow traffic only from a pod in a different namespace based on PodSelector and NamespaceSelector"), [E2E_Y_POD_A], YA, XA, 80, True),
    case("e2e-y-a-only-y-b-refused", it("should enforce policy to allow traffic only from a pod in a different namespace based on PodSelector and NamespaceSelector"), [E2E_Y_POD_A], YB, XA, 80, False),
    case("e2e-y-a-only-z-a-refused", it("should enforce policy to allow traffic only from a pod in a different namespace based on PodSelector and NamespaceSelector"), [E2E_Y_POD_A], ZA, XA, 80, False),
    case("e2e-ports-y-81", it("should enforce policy based on Ports"), [E2E_Y_ON_81], YB, XA, 81, True),
    case("e2e-ports-x-81-refused", it("should enforce policy based on Ports"), [E2E_Y_ON_81], XB, XA, 81, False),
    case("e2e-ports-z-81-refused", it("should enforce policy based on Ports"), [E2E_Y_ON_81], ZA, XA, 81, False),
    case("e2e-stacked-80-before", it("should enforce multiple, stacked policies with overlapping podSelectors"), [E2E_Y_ON_81], YA, XA, 80, False),
    case("e2e-stacked-80-after", it("should enforce multiple, stacked policies with overlapping podSelectors"), [E2E_Y_ON_81, E2E_Y_ON_80], YA, XA, 80, True),
    case("e2e-stacked-81-after", it("should enforce multiple, stacked policies with overlapping podSelectors"), [E2E_Y_ON_81, E2E_Y_ON_80], YA, XA, 81, True),
    case("e2e-stacked-z-after", it("should enforce multiple, stacked policies with overlapping podSelectors"), [E2E_Y_ON_81, E2E_Y_ON_80], ZA, XA, 80, False),
    case("e2e-allow-all-81", it("should support allow-all policy"), [E2E_ALLOW_ALL], YA, XA, 81, True),
    case("e2e-allow-all-within", it("should support allow-all policy"), [E2E_ALLOW_ALL], XB, XA, 80, True),
    case("e2e-named-port-81", it("should allow ingress access on one named port"), [E2E_NAMED_81], YA, XA, 81, True),
    case("e2e-named-port-80-refused", it("should allow ingress access on one named port"), [E2E_NAMED_81], XB, XA, 80, False),
    case("e2e-namespace-named-port-y", it("should allow ingress access from namespace on one named port"), [E2E_Y_ON_NAMED_80], YA, XA, 80, True),
    case("e2e-namespace-named-port-z", it("should allow ingress access from namespace on one named port"), [E2E_Y_ON_NAMED_80], ZA, XA, 80, False),
    case("e2e-namespace-named-port-81", it("should allow ingress access from namespace on one named port"), [E2E_Y_ON_NAMED_80], YA, XA, 81, False),
    case("e2e-egress-named-port-80", it("should allow egress access on one named port"), [E2E_EGRESS_NAMED_80], XA, YA, 80, True),
    case("e2e-egress-named-port-81", it("should allow egress access on one named port"), [E2E_EGRESS_NAMED_80], XA, YA, 81, False),
    case("e2e-egress-named-port-ingress-open", it("should allow egress access on one named port"), [E2E_EGRESS_NAMED_80], YA, XA, 81, True),
    case("e2e-updated-policy-deny", it("should enforce updated policy"), [x("allow-all-mutate-to-deny-all", podSelector=ALL, ingress=[])], YA, XA, 81, False),
    case("e2e-namespace-label-before", it("should allow ingress access from updated namespace"), [E2E_FROM_UPDATED_NAMESPACE], YA, XA, 80, False),
    case("e2e-namespace-label-after", it("should allow ingress access from updated namespace"), [E2E_FROM_UPDATED_NAMESPACE], Y_UPDATED, XA, 80, True),
    case("e2e-pod-label-before", it("should allow ingress access from updated pod"), [E2E_FROM_UPDATED_POD], XB, XA, 80, False),
    case("e2e-pod-label-after", it("should allow ingress access from updated pod"), [E2E_FROM_UPDATED_POD], XB_UPDATED, XA, 80, True),
    case("e2e-other-namespaces-denied", it("should deny ingress from pods on other namespaces"), [E2E_DENY_FROM_OTHER_NAMESPACES], YA, XA, 80, False),
    case("e2e-own-namespace-allowed", it("should deny ingress from pods on other namespaces"), [E2E_DENY_FROM_OTHER_NAMESPACES], XB, XA, 80, True),
    case("e2e-isolated-after-label", it("should deny ingress access to updated pod"), [E2E_ISOLATE_LABELLED], YA, XA_ISOLATED, 80, False),
    case("e2e-open-before-label", it("should deny ingress access to updated pod"), [E2E_ISOLATE_LABELLED], YA, XA, 80, True),
    case("e2e-deny-egress-pod-a", it("should deny egress from pods based on PodSelector"), [E2E_DENY_EGRESS_A], XA, YA, 80, False),
    case("e2e-deny-egress-pod-b-free", it("should deny egress from pods based on PodSelector"), [E2E_DENY_EGRESS_A], XB, YA, 80, True),
    case("e2e-deny-egress-namespace", it("should deny egress from all pods in a namespace"), [E2E_DENY_EGRESS_X], XA, XB, 80, False),
    case("e2e-deny-egress-namespace-ingress-open", it("should deny egress from all pods in a namespace"), [E2E_DENY_EGRESS_X], YA, XA, 80, True),
    case("e2e-together-ingress-b", it("should work with Ingress, Egress specified together"), [E2E_INGRESS_AND_EGRESS], XB, XA, 80, True),
    case("e2e-together-ingress-c", it("should work with Ingress, Egress specified together"), [E2E_INGRESS_AND_EGRESS], XC, XA, 80, False),
    case("e2e-together-egress-80", it("should work with Ingress, Egress specified together"), [E2E_INGRESS_AND_EGRESS], XA, YA, 80, True),
    case("e2e-together-egress-81", it("should work with Ingress, Egress specified together"), [E2E_INGRESS_AND_EGRESS], XA, YA, 81, False),
    case("e2e-client-side-allowed", it("should support denying of egress traffic on the client side (even if the server explicitly allows this traffic)"), [E2E_EGRESS_TO_Y_A, E2E_Y_A_FROM_X_A, E2E_Y_B_FROM_X_A], XA, YA, 80, True),
    case("e2e-client-side-egress-refuses", it("should support denying of egress traffic on the client side (even if the server explicitly allows this traffic)"), [E2E_EGRESS_TO_Y_A, E2E_Y_A_FROM_X_A, E2E_Y_B_FROM_X_A], XA, YB, 80, False),
    case("e2e-client-side-ingress-refuses", it("should support denying of egress traffic on the client side (even if the server explicitly allows this traffic)"), [E2E_EGRESS_TO_Y_A, E2E_Y_A_FROM_X_A, E2E_Y_B_FROM_X_A], ZA, YA, 80, False),
    case("e2e-egress-to-y-a", it("should enforce egress policy allowing traffic to a server in a different namespace based on PodSelector and NamespaceSelector"), [E2E_EGRESS_TO_Y_A], XA, YA, 80, True),
    case("e2e-egress-to-y-b-refused", it("should enforce egress policy allowing traffic to a server in a different namespace based on PodSelector and NamespaceSelector"), [E2E_EGRESS_TO_Y_A], XA, YB, 80, False),
    case("e2e-any-port-tcp", it("should enforce ingress policy allowing any port traffic to a server on a specific protocol"), [E2E_BY_PROTOCOL], YA, XA, 80, True),
    case("e2e-any-port-not-udp", it("should enforce ingress policy allowing any port traffic to a server on a specific protocol"), [E2E_BY_PROTOCOL], YA, XA, 80, False, protocol="UDP"),
    case("e2e-ingress-80-only", it("should enforce multiple ingress policies with ingress allow-all policy taking precedence"), [E2E_INGRESS_80], YA, XA, 81, False),
    case("e2e-ingress-allow-all-wins", it("should enforce multiple ingress policies with ingress allow-all policy taking precedence"), [E2E_INGRESS_80, E2E_ALLOW_INGRESS], YA, XA, 81, True),
    case("e2e-egress-80-only", it("should enforce multiple egress policies with egress allow-all policy taking precedence"), [E2E_EGRESS_80], XA, YA, 81, False),
    case("e2e-egress-allow-all-wins", it("should enforce multiple egress policies with egress allow-all policy taking precedence"), [E2E_EGRESS_80, E2E_ALLOW_EGRESS], XA, YA, 81, True),
    case("e2e-deleted-policies", it("should stop enforcing policies after they are deleted"), [], XA, YA, 80, True),
    case("e2e-cidr-server", it("should allow egress access to server in CIDR block"), [E2E_CIDR], XA, YB_AT, 80, True),
    case("e2e-cidr-other", it("should allow egress access to server in CIDR block"), [E2E_CIDR], XA, YA_AT, 80, False),
    case("e2e-except-server", it("should enforce except clause while egress access to server in CIDR block"), [E2E_CIDR_EXCEPT], XA, XB_AT, 80, False),
    case("e2e-except-neighbour", it("should enforce except clause while egress access to server in CIDR block"), [E2E_CIDR_EXCEPT], XA, XC_AT, 80, True),
    case("e2e-overlap-replaced-allows", it("should ensure an IP overlapping both IPBlock.CIDR and IPBlock.Except is allowed"), [E2E_CIDR], XA, XB_AT, 80, True),
    case("e2e-overlap-replaced-others", it("should ensure an IP overlapping both IPBlock.CIDR and IPBlock.Except is allowed"), [E2E_CIDR], XA, XC_AT, 80, False),
    case("e2e-independent-egress", it("should enforce policies to check ingress and egress policies can be controlled independently based on PodSelector"), [E2E_EGRESS_FOR_TARGET, E2E_DENY_INGRESS_TARGET], XA, XB, 80, True),
    case("e2e-independent-ingress", it("should enforce policies to check ingress and egress policies can be controlled independently based on PodSelector"), [E2E_EGRESS_FOR_TARGET, E2E_DENY_INGRESS_TARGET], XB, XA, 80, False),
    case("e2e-sctp-not-tcp", it("should not mistakenly treat 'protocol: SCTP' as 'protocol: TCP', even if the plugin doesn't support SCTP"), [E2E_DENY_INGRESS, E2E_SCTP_81], YA, XA, 81, False),
    case("e2e-sctp-isolates", it("should properly isolate pods that are selected by a policy allowing SCTP, even if the plugin doesn't support SCTP"), [E2E_SCTP_80], YA, XA, 81, False),
    case("e2e-udp-not-tcp", it("should not allow access by TCP when a policy specifies only UDP"), [E2E_UDP_81], YA, XA, 81, False),
    case("e2e-default-ns-label", it("should enforce policy to allow traffic based on NamespaceSelector with MatchLabels using default ns label"), [E2E_FROM_Y], ZA, XA, 80, False),
    case("e2e-egress-not-in-y", it("should enforce policy based on NamespaceSelector with MatchExpressions using default ns label"), [E2E_EGRESS_NOT_TO_Y], XA, YA, 80, False),
    case("e2e-egress-not-in-y-z-open", it("should enforce policy based on NamespaceSelector with MatchExpressions using default ns label"), [E2E_EGRESS_NOT_TO_Y], XA, ZA, 80, True),
    case("e2e-egress-not-in-y-x-open", it("should enforce policy based on NamespaceSelector with MatchExpressions using default ns label"), [E2E_EGRESS_NOT_TO_Y], XA, XB, 80, True),
    case("e2e-udp-default-deny", it("NetworkPolicy between server and client using UDP: should support a 'default-deny-ingress' policy"), [E2E_DENY_INGRESS], YA, XA, 80, False, protocol="UDP"),
    case("e2e-udp-ports-y", it("NetworkPolicy between server and client using UDP: should enforce policy based on Ports"), [E2E_Y_ON_81_UDP], YA, XA, 81, True, protocol="UDP"),
    case("e2e-udp-ports-z", it("NetworkPolicy between server and client using UDP: should enforce policy based on Ports"), [E2E_Y_ON_81_UDP], ZA, XA, 81, False, protocol="UDP"),
    case("e2e-sctp-y-a-allowed", it("NetworkPolicy between server and client using SCTP: should enforce policy to allow traffic only from a pod in a different namespace based on PodSelector and NamespaceSelector"), [E2E_Y_POD_A], YA, XA, 80, True, protocol="SCTP"),
    case("e2e-sctp-x-b-refused", it("NetworkPolicy between server and client using SCTP: should enforce policy to allow traffic only from a pod in a different namespace based on PodSelector and NamespaceSelector"), [E2E_Y_POD_A], XB, XA, 80, False, protocol="SCTP"),
    case("cyclonus-sctp-only-refuses-tcp", CYCLONUS_POLICY, [CYCLONUS_SCTP], pod("y", "1.2.3.4"), pod("x", "1.2.3.5"), 103, False),
    case("cyclonus-sctp-only-admits-sctp", CYCLONUS_POLICY, [CYCLONUS_SCTP], pod("y", "1.2.3.4"), pod("x", "1.2.3.5"), 103, True, protocol="SCTP"),
    case("cyclonus-sctp-only-refuses-tcp-from-ip", CYCLONUS_POLICY, [CYCLONUS_SCTP], external("1.2.3.4"), pod("x", "1.2.3.5"), 103, False),
    case("cyclonus-sctp-only-admits-sctp-from-ip", CYCLONUS_POLICY, [CYCLONUS_SCTP], external("1.2.3.4"), pod("x", "1.2.3.5"), 103, True, protocol="SCTP"),
    case("cyclonus-egress-ip-in-cidr", CYCLONUS_POLICY, [CYCLONUS_EGRESS], pod("x", "1.2.3.4", pod="a"), pod("y", "192.168.242.249", pod="b"), 80, True),
    case("cyclonus-egress-ip-outside-cidr", CYCLONUS_POLICY, [CYCLONUS_EGRESS], pod("x", "1.2.3.4", pod="a"), pod("y", "192.168.243.249", pod="b"), 80, False),
    case("cyclonus-egress-own-namespace-pod", CYCLONUS_POLICY, [CYCLONUS_EGRESS], pod("x", "1.2.3.4", pod="a"), pod("x", pod="b"), 80, True),
    case("cyclonus-egress-dns-anywhere", CYCLONUS_POLICY, [CYCLONUS_EGRESS], pod("x", "1.2.3.4", pod="a"), external("8.8.8.8"), 53, True, protocol="UDP"),
    case("cyclonus-named-port-by-name", CYCLONUS_POLICY, [CYCLONUS_NAMED], external("1.2.3.4"), HELLO, "port-hello", True),
    case("cyclonus-named-port-by-number", CYCLONUS_POLICY, [CYCLONUS_NAMED], external("1.2.3.4"), HELLO, 8080, True),
    case("cyclonus-named-port-other-number", CYCLONUS_POLICY, [CYCLONUS_NAMED], external("1.2.3.4"), HELLO, 8081, False),
    case("cyclonus-ipv4-in-24", CYCLONUS_IP, [block("1.2.3.0/24")], external("1.2.3.3"), XA, 80, True),
    case("cyclonus-ipv4-in-28", CYCLONUS_IP, [block("1.2.3.0/28")], external("1.2.3.3"), XA, 80, True),
    case("cyclonus-ipv4-in-30", CYCLONUS_IP, [block("1.2.3.0/30")], external("1.2.3.3"), XA, 80, True),
    case("cyclonus-ipv4-not-in-31", CYCLONUS_IP, [block("1.2.3.0/31")], external("1.2.3.3"), XA, 80, False),
    case("cyclonus-ipv6-in-120", CYCLONUS_IP, [block("fd00:10:244:a8:96fd:be93:52d8:6b00/120")], external("fd00:10:244:a8:96fd:be93:52d8:6b85"), XA, 80, True),
    case("cyclonus-ipv6-in-124", CYCLONUS_IP, [block("fd00:10:244:a8:96fd:be93:52d8:6b80/124")], external("fd00:10:244:a8:96fd:be93:52d8:6b85"), XA, 80, True),
    case("cyclonus-ipv6-not-in-124", CYCLONUS_IP, [block("fd00:10:244:a8:96fd:be93:52d8:6b80/124")], external("fd00:10:244:a8:96fd:be93:52d8:6b90"), XA, 80, False),
    case("cyclonus-ipv6-embedded-ipv4", CYCLONUS_IP, [block("2001:db8::/32")], external("2001:0db8::1.2.3.4"), XA, 80, True),
    case("cyclonus-ipv6-next-prefix", CYCLONUS_IP, [block("2001:db8::/32")], external("2001:0db9::"), XA, 80, False),
    case("cyclonus-ipv6-in-32", CYCLONUS_IP, [block("2001:db8::/32")], external("2001:db8::68"), XA, 80, True),
    case("cyclonus-except-covers", CYCLONUS_IP, [block("1.2.3.0/28", "1.2.3.0/30")], external("1.2.3.3"), XA, 80, False),
    case("cyclonus-except-covers-start", CYCLONUS_IP, [block("1.2.3.0/28", "1.2.3.4/30")], external("1.2.3.4"), XA, 80, False),
    case("cyclonus-except-elsewhere", CYCLONUS_IP, [block("1.2.3.0/28", "1.2.3.4/30")], external("1.2.3.3"), XA, 80, True),
    case("cyclonus-ipv4-block-ipv6-source", CYCLONUS_IP, [block("1.2.3.0/24")], external("2001:db8::68"), XA, 80, False),
]
# fmt: on


@pytest.mark.parametrize("case", CASES)
def test_policies_admit_exactly_what_the_source_says(case: Case) -> None:
    verdict = evaluate(
        case.policies, source=case.source, destination=case.destination, port=case.port, protocol=case.protocol
    )
    assert verdict.allowed is case.expected, case.origin


def test_the_table_is_large_enough_and_every_case_has_a_source() -> None:
    assert len(CASES) >= 70
    assert all(param.values[0].origin.startswith((DOCS, DEFAULTS, RECIPES, E2E, CYCLONUS)) for param in CASES)


def test_a_refusal_names_the_isolating_policies_and_the_direction() -> None:
    elsewhere = np("other", "default-deny-ingress", podSelector=ALL, policyTypes=["Ingress"])
    verdict = evaluate(
        [DENY_INGRESS, WEB_DENY_ALL, ALLOW_ALL_EGRESS, elsewhere],
        source=pod("other"),
        destination=pod("default", app="web"),
        port=80,
    )
    assert (verdict.allowed, verdict.blocked_by, verdict.direction) == (
        False,
        ("default/default-deny-ingress", "default/web-deny-all"),
        "Ingress",
    )
    egress = evaluate([DENY_EGRESS], source=pod("default"), destination=pod("other"), port=80)
    assert (egress.allowed, egress.blocked_by, egress.direction) == (False, ("default/default-deny-egress",), "Egress")


def test_an_admitted_connection_names_no_policy() -> None:
    verdict = evaluate([DENY_INGRESS, ALLOW_ALL_INGRESS], source=pod("other"), destination=pod("default"), port=80)
    assert (verdict.allowed, verdict.blocked_by, verdict.direction) == (True, (), "")


def test_the_destination_is_judged_before_the_source() -> None:
    verdict = evaluate([DENY_ALL], source=pod("default"), destination=pod("default"), port=80)
    assert (verdict.blocked_by, verdict.direction) == (("default/default-deny-all",), "Ingress")


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        pytest.param({"podSelector": {}}, {"Ingress"}, id="no-rules"),
        pytest.param({"podSelector": {}, "ingress": [{}]}, {"Ingress"}, id="ingress-rules"),
        pytest.param({"podSelector": {}, "egress": []}, {"Ingress"}, id="empty-egress-list"),
        pytest.param({"podSelector": {}, "egress": [{}]}, {"Ingress", "Egress"}, id="an-egress-rule"),
        pytest.param({"podSelector": {}, "policyTypes": ["Egress"]}, {"Egress"}, id="explicit-wins"),
        pytest.param(
            {"podSelector": {}, "policyTypes": [], "egress": [{}]}, {"Ingress", "Egress"}, id="explicit-empty"
        ),
    ],
)
def test_policy_types_default_as_the_api_server_defaults_them(spec: dict[str, Any], expected: set[str]) -> None:
    assert policy_from_object({"spec": spec}).policy_types == expected  # source: DEFAULTS


@pytest.mark.parametrize(
    "obj",
    [
        pytest.param({}, id="empty-object"),
        pytest.param({"metadata": "x", "spec": None}, id="metadata-not-an-object-no-spec"),
        pytest.param({"spec": ["podSelector"]}, id="spec-a-list"),
        pytest.param({"spec": {"podSelector": "everything"}}, id="selector-a-string"),
        pytest.param({"spec": {"podSelector": ["app"]}}, id="selector-a-list"),
        pytest.param({"spec": {"podSelector": {"matchLabels": {"a": 1}}}}, id="label-value-not-a-string"),
        pytest.param({"spec": {"podSelector": {"matchLabels": ["a"]}}}, id="match-labels-a-list"),
        pytest.param({"spec": {"podSelector": {"matchExpressions": "a in (b)"}}}, id="expressions-a-string"),
        pytest.param(
            {"spec": {"podSelector": {"matchExpressions": [{"key": "a", "operator": "Near"}]}}}, id="unknown-operator"
        ),
        pytest.param(
            {"spec": {"podSelector": {"matchExpressions": [{"key": "a", "operator": "In", "values": "b"}]}}},
            id="values-a-string",
        ),
        pytest.param({"spec": {"podSelector": {}, "policyTypes": "Ingress"}}, id="policy-types-a-string"),
        pytest.param({"spec": {"podSelector": {}, "ingress": "all"}}, id="ingress-a-string"),
        pytest.param({"spec": {"podSelector": {}, "ingress": [{"from": {"podSelector": {}}}]}}, id="from-an-object"),
        pytest.param(
            {"spec": {"podSelector": {}, "ingress": [{"from": [{"namespaceSelector": 7}]}]}},
            id="peer-selector-a-number",
        ),
        pytest.param(
            {"spec": {"podSelector": {}, "ingress": [{"from": [{"ipBlock": {"cidr": "not-an-address"}}]}]}},
            id="bad-cidr",
        ),
        pytest.param(
            {"spec": {"podSelector": {}, "ingress": [{"from": [{"ipBlock": {"cidr": "10.0.0.0/8", "except": "x"}}]}]}},
            id="except-a-string",
        ),
        pytest.param({"spec": {"podSelector": {}, "ingress": [{"ports": [{"port": True}]}]}}, id="port-a-boolean"),
        pytest.param(
            {"spec": {"podSelector": {}, "ingress": [{"ports": [{"port": 80, "endPort": "90"}]}]}},
            id="end-port-a-string",
        ),
        pytest.param({"spec": {"podSelector": {}, "ingress": [{"ports": "80"}]}}, id="ports-a-string"),
    ],
)
def test_odd_policies_never_raise(obj: dict[str, Any]) -> None:
    policy = policy_from_object({"metadata": {"namespace": "default", "name": "odd"}} | obj)
    for source, destination in ((pod("other", ip="10.0.0.1"), pod("default")), (pod("default"), pod("other"))):
        evaluate([policy], source=source, destination=destination, port=80)
        evaluate([policy], source=source, destination=destination, port="http")


@pytest.mark.parametrize(
    "selector", ["x", ["app"], {"matchLabels": {"a": 1}}, {"matchExpressions": [{"operator": "Near"}]}]
)
def test_an_unreadable_pod_selector_selects_no_pod(selector: object) -> None:
    broken = policy_from_object({"metadata": {"namespace": "default"}, "spec": {"podSelector": selector}})
    assert not selects(broken, pod("default"), "Ingress")
    assert not selects(broken, pod("default", a="1"), "Ingress")


def test_a_policy_without_spec_reads_as_the_zero_value_default_deny_ingress() -> None:
    policy = policy_from_object({"metadata": {"namespace": "default", "name": "bare"}})
    assert selects(policy, pod("default"), "Ingress")
    assert not evaluate([policy], source=pod("other"), destination=pod("default"), port=80).allowed


@pytest.mark.parametrize(
    "rule",
    [
        pytest.param({"from": [{"namespaceSelector": "team=operations"}]}, id="namespace-selector-a-string"),
        pytest.param({"from": [{"podSelector": {"matchLabels": "app"}}]}, id="pod-selector-labels-a-string"),
        pytest.param({"from": {"namespaceSelector": {}}}, id="from-an-object"),
        pytest.param({"from": ["everyone"]}, id="from-of-strings"),
        pytest.param({"ports": [{"port": 80.5}]}, id="port-a-float"),
        pytest.param({"ports": {"port": 80}}, id="ports-an-object"),
    ],
)
def test_an_unreadable_rule_part_admits_nothing(rule: dict[str, Any]) -> None:
    policy = np("default", "odd", podSelector=ALL, ingress=[rule])
    verdict = evaluate([policy], source=pod("other", ip="10.0.0.1"), destination=pod("default"), port=80)
    assert (verdict.allowed, verdict.blocked_by) == (False, ("default/odd",))


def test_a_null_peer_selector_is_an_absent_one() -> None:
    policy = np(
        "default",
        "null-pods",
        podSelector=ALL,
        ingress=from_({"namespaceSelector": {"matchLabels": {"team": "operations"}}, "podSelector": None}),
    )
    assert evaluate([policy], source=pod("other", app="any"), destination=pod("default"), port=80).allowed


def test_a_rule_naming_a_port_matches_every_name_of_the_requested_number() -> None:
    destination = pod("default", ports={"http": (8080, "TCP"), "web": (8080, "TCP")}, app="web")
    policy = np("default", "web", podSelector=ALL, ingress=[{"ports": [{"port": "web"}]}])
    assert evaluate([policy], source=pod("other"), destination=destination, port=8080).allowed
    assert evaluate([policy], source=pod("other"), destination=destination, port="http").allowed
    assert not evaluate([policy], source=pod("other"), destination=destination, port=8080, protocol="UDP").allowed


def test_a_policy_of_another_namespace_does_not_isolate() -> None:
    assert not selects(np("other", "deny", podSelector=ALL), pod("default"), "Ingress")


def test_an_endpoint_outside_the_cluster_is_never_selected() -> None:
    assert not selects(np("", "nowhere", podSelector=ALL), external("10.0.0.1"), "Ingress")
