"""The NetworkPolicy evaluator, on a table of cases drawn from public sources, each named in its row:

- DOCS: the Kubernetes documentation, Concepts > Services > Network Policies
  (kubernetes.io/docs/concepts/services-networking/network-policies/): its example policies and the
  semantics it states (isolation, union of rules, AND vs OR of selectors, ipBlock except, endPort,
  policyTypes defaults, targeting a namespace by name);
- RECIPES: ahmetb/kubernetes-network-policy-recipes, the recipe files named, with the outcome each
  recipe's "Try it out" observes on a cluster;
- E2E: kubernetes/kubernetes test/e2e/network/netpol/network_policy.go, the ``ginkgo.It`` named, with
  the reachability it asserts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from webhook.core.netpol import Pod, Policy, evaluate, policy_from_object, selects

DOCS = "kubernetes.io/docs/concepts/services-networking/network-policies"
RECIPES = "ahmetb/kubernetes-network-policy-recipes"
E2E = "kubernetes/kubernetes test/e2e/network/netpol/network_policy.go"

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

SERVER = pod("x", app="server", ports={"serve-80-tcp": (80, "TCP"), "serve-81-udp": (81, "UDP")})
"""The e2e suite's server pod "x/a" of its x, y, z namespaces."""


def x(name: str, **spec: Any) -> Policy:
    return np("x", name, **spec)


E2E_DENY_INGRESS = x("deny-ingress", podSelector=ALL, policyTypes=["Ingress"])
E2E_ALLOW_SAME_NAMESPACE_POD = x(
    "x-a-allows-x-b",
    podSelector={"matchLabels": {"app": "server"}},
    ingress=[{"from": [{"podSelector": {"matchLabels": {"pod": "b"}}}]}],
)
E2E_MATCH_EXPRESSIONS_POD = x(
    "x-a-allows-b-in",
    podSelector={"matchLabels": {"app": "server"}},
    ingress=[{"from": [{"podSelector": {"matchExpressions": [{"key": "pod", "operator": "In", "values": ["b"]}]}}]}],
)
E2E_MATCH_EXPRESSIONS_NAMESPACE = x(
    "allow-ns-not-in-y",
    podSelector={"matchLabels": {"app": "server"}},
    ingress=[
        {"from": [{"namespaceSelector": {"matchExpressions": [{"key": "ns", "operator": "NotIn", "values": ["y"]}]}}]}
    ],
)
E2E_EXISTS = x(
    "allow-pods-with-c",
    podSelector={"matchLabels": {"app": "server"}},
    ingress=[{"from": [{"podSelector": {"matchExpressions": [{"key": "c", "operator": "Exists"}]}}]}],
)
E2E_DOES_NOT_EXIST = x(
    "allow-pods-without-c",
    podSelector={"matchLabels": {"app": "server"}},
    ingress=[{"from": [{"podSelector": {"matchExpressions": [{"key": "c", "operator": "DoesNotExist"}]}}]}],
)
E2E_PORT_81 = x(
    "allow-81", podSelector={"matchLabels": {"app": "server"}}, ingress=[{"ports": [{"port": 81, "protocol": "TCP"}]}]
)
E2E_NAMED_PORT = x(
    "allow-named-80",
    podSelector={"matchLabels": {"app": "server"}},
    ingress=[{"ports": [{"port": "serve-80-tcp", "protocol": "TCP"}]}],
)
E2E_NAMESPACE_NAMED_PORT = x(
    "allow-y-on-named-80",
    podSelector={"matchLabels": {"app": "server"}},
    ingress=[{"from": [{"namespaceSelector": {"matchLabels": {"ns": "y"}}}], "ports": [{"port": "serve-80-tcp"}]}],
)
E2E_UDP_ONLY = x(
    "allow-udp-80",
    podSelector={"matchLabels": {"app": "server"}},
    ingress=[{"ports": [{"port": 80, "protocol": "UDP"}]}],
)
E2E_SCTP_ONLY = x(
    "allow-sctp-80",
    podSelector={"matchLabels": {"app": "server"}},
    ingress=[{"ports": [{"port": 80, "protocol": "SCTP"}]}],
)
E2E_ANY_TCP_PORT = x(
    "allow-any-tcp", podSelector={"matchLabels": {"app": "server"}}, ingress=[{"ports": [{"protocol": "TCP"}]}]
)
E2E_STACK_80 = x("allow-80", podSelector={"matchLabels": {"app": "server"}}, ingress=[{"ports": [{"port": 80}]}])
E2E_STACK_81 = x("allow-81-stack", podSelector={"matchLabels": {"app": "server"}}, ingress=[{"ports": [{"port": 81}]}])
E2E_ALLOW_ALL = x("allow-all", podSelector=ALL, ingress=[{}])
E2E_DIFFERENT_NAMESPACE = x(
    "allow-other-namespaces",
    podSelector={"matchLabels": {"app": "server"}},
    ingress=[
        {"from": [{"namespaceSelector": {"matchExpressions": [{"key": "ns", "operator": "NotIn", "values": ["x"]}]}}]}
    ],
)
E2E_CLIENT_DENY_EGRESS = np("y", "deny-egress-y", podSelector=ALL, policyTypes=["Egress"])
E2E_EGRESS_TO_X_SERVER = np(
    "y",
    "allow-egress-to-x-server",
    podSelector=ALL,
    policyTypes=["Egress"],
    egress=[
        {"to": [{"namespaceSelector": {"matchLabels": {"ns": "x"}}, "podSelector": {"matchLabels": {"app": "server"}}}]}
    ],
)
E2E_EGRESS_CIDR = np(
    "y", "allow-cidr", podSelector=ALL, policyTypes=["Egress"], egress=[{"to": [{"ipBlock": {"cidr": "10.1.2.3/32"}}]}]
)
E2E_EGRESS_EXCEPT = np(
    "y",
    "cidr-except",
    podSelector=ALL,
    policyTypes=["Egress"],
    egress=[{"to": [{"ipBlock": {"cidr": "10.1.0.0/16", "except": ["10.1.2.3/32"]}}]}],
)
E2E_EGRESS_OVERLAP = np(
    "y",
    "cidr-overlap",
    podSelector=ALL,
    policyTypes=["Egress"],
    egress=[
        {"to": [{"ipBlock": {"cidr": "10.1.0.0/16", "except": ["10.1.2.3/32"]}}, {"ipBlock": {"cidr": "10.1.2.3/32"}}]}
    ],
)
E2E_EGRESS_PORT_RANGE = np(
    "y",
    "egress-range",
    podSelector=ALL,
    policyTypes=["Egress"],
    egress=[
        {
            "to": [{"namespaceSelector": {"matchLabels": {"ns": "x"}}}],
            "ports": [{"port": 80, "endPort": 81, "protocol": "TCP"}],
        }
    ],
)
E2E_INGRESS_AND_EGRESS = x(
    "ingress-and-egress",
    podSelector={"matchLabels": {"app": "server"}},
    policyTypes=["Ingress", "Egress"],
    ingress=[{"from": [{"namespaceSelector": {"matchLabels": {"ns": "y"}}}]}],
    egress=[],
)

IT = {
    "E1": "should support a 'default-deny-ingress' policy",
    "E2": "should enforce policy to allow traffic from pods within server namespace based on PodSelector",
    "E3": "should enforce policy based on PodSelector with MatchExpressions",
    "E4": "should enforce policy based on NamespaceSelector with MatchExpressions",
    "E5": "should enforce policy based on any PodSelectors",
    "E6": "should enforce policy based on Ports",
    "E7": "should allow ingress access on one named port",
    "E8": "should allow ingress access from namespace on one named port",
    "E9": "should not allow access by TCP when a policy specifies only UDP",
    "E10": "should not mistakenly treat 'protocol: SCTP' as 'protocol: TCP'",
    "E11": "should enforce ingress policy allowing any port traffic to a server on a specific protocol",
    "E12": "should enforce multiple, stacked policies with overlapping podSelectors",
    "E13": "should enforce multiple ingress policies with ingress allow-all policy taking precedence",
    "E14": "should enforce policy to allow traffic only from a different namespace, based on NamespaceSelector",
    "E15": "should support denying of egress traffic on the client side (even if the server explicitly allows this traffic)",
    "E16": "should enforce egress policy allowing traffic to a server in a different namespace based on PodSelector and NamespaceSelector",
    "E17": "should allow egress access to server in CIDR block",
    "E18": "should enforce except clause while egress access to server in CIDR block",
    "E19": "should ensure an IP overlapping both IPBlock.CIDR and IPBlock.Except is allowed",
    "E20": "should allow egress access to server on a port range (endPort)",
    "E21": "should work with Ingress, Egress specified together",
    "E22": "should enforce policies to check ingress and egress policies can be controlled independently based on PodSelector",
}
"""The ``ginkgo.It`` names of the e2e suite's cases."""


def it(key: str) -> str:
    return f"{E2E}: {IT[key]}"


def recipe(path: str) -> str:
    return f"{RECIPES}/{path}"


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
    case("recipe-14-external", recipe("14-deny-external-egress-traffic.md"), [DENY_EXTERNAL_EGRESS], pod("default", app="foo"), external("93.184.216.34"), 443, False),
    case("recipe-14-dns-anywhere", recipe("14-deny-external-egress-traffic.md"), [DENY_EXTERNAL_EGRESS], pod("default", app="foo"), external("8.8.8.8"), 53, True, protocol="UDP"),
    case("e2e-default-deny-ingress", it("E1"), [E2E_DENY_INGRESS], pod("x", pod="b"), SERVER, 80, False),
    case("e2e-podselector-allowed", it("E2"), [E2E_ALLOW_SAME_NAMESPACE_POD], pod("x", pod="b"), SERVER, 80, True),
    case("e2e-podselector-other-pod", it("E2"), [E2E_ALLOW_SAME_NAMESPACE_POD], pod("x", pod="c"), SERVER, 80, False),
    case("e2e-podselector-other-namespace", it("E2"), [E2E_ALLOW_SAME_NAMESPACE_POD], pod("y", pod="b"), SERVER, 80, False),
    case("e2e-pod-match-expressions-in", it("E3"), [E2E_MATCH_EXPRESSIONS_POD], pod("x", pod="b"), SERVER, 80, True),
    case("e2e-pod-match-expressions-out", it("E3"), [E2E_MATCH_EXPRESSIONS_POD], pod("x", pod="a"), SERVER, 80, False),
    case("e2e-namespace-notin-allowed", it("E4"), [E2E_MATCH_EXPRESSIONS_NAMESPACE], pod("z"), SERVER, 80, True),
    case("e2e-namespace-notin-refused", it("E4"), [E2E_MATCH_EXPRESSIONS_NAMESPACE], pod("y"), SERVER, 80, False),
    case("e2e-exists", it("E5"), [E2E_EXISTS], pod("x", c="1"), SERVER, 80, True),
    case("e2e-does-not-exist", it("E5"), [E2E_DOES_NOT_EXIST], pod("x", c="1"), SERVER, 80, False),
    case("e2e-port-81", it("E6"), [E2E_PORT_81], pod("y"), SERVER, 81, True),
    case("e2e-port-80-refused", it("E6"), [E2E_PORT_81], pod("y"), SERVER, 80, False),
    case("e2e-named-port", it("E7"), [E2E_NAMED_PORT], pod("y"), SERVER, 80, True),
    case("e2e-named-port-other", it("E7"), [E2E_NAMED_PORT], pod("y"), SERVER, 81, False),
    case("e2e-namespace-named-port", it("E8"), [E2E_NAMESPACE_NAMED_PORT], pod("y"), SERVER, 80, True),
    case("e2e-namespace-named-port-other-ns", it("E8"), [E2E_NAMESPACE_NAMED_PORT], pod("z"), SERVER, 80, False),
    case("e2e-udp-not-tcp", it("E9"), [E2E_UDP_ONLY], pod("y"), SERVER, 80, False),
    case("e2e-sctp-not-tcp", it("E10"), [E2E_SCTP_ONLY], pod("y"), SERVER, 80, False),
    case("e2e-any-tcp-port", it("E11"), [E2E_ANY_TCP_PORT], pod("y"), SERVER, 81, True),
    case("e2e-any-tcp-port-not-udp", it("E11"), [E2E_ANY_TCP_PORT], pod("y"), SERVER, 81, False, protocol="UDP"),
    case("e2e-stacked", it("E12"), [E2E_STACK_80, E2E_STACK_81], pod("y"), SERVER, 81, True),
    case("e2e-stacked-other-port", it("E12"), [E2E_STACK_80, E2E_STACK_81], pod("y"), SERVER, 82, False),
    case("e2e-allow-all-precedence", it("E13"), [E2E_DENY_INGRESS, E2E_ALLOW_ALL], pod("z"), SERVER, 80, True),
    case("e2e-only-different-namespace", it("E14"), [E2E_DIFFERENT_NAMESPACE], pod("x"), SERVER, 80, False),
    case("e2e-client-side-egress-deny", it("E15"), [E2E_CLIENT_DENY_EGRESS, E2E_ALLOW_ALL], pod("y"), SERVER, 80, False),
    case("e2e-egress-to-server", it("E16"), [E2E_EGRESS_TO_X_SERVER], pod("y"), SERVER, 80, True),
    case("e2e-egress-to-other-pod", it("E16"), [E2E_EGRESS_TO_X_SERVER], pod("y"), pod("x", app="other"), 80, False),
    case("e2e-egress-cidr", it("E17"), [E2E_EGRESS_CIDR], pod("y"), pod("x", ip="10.1.2.3", app="server"), 80, True),
    case("e2e-egress-except", it("E18"), [E2E_EGRESS_EXCEPT], pod("y"), pod("x", ip="10.1.2.3", app="server"), 80, False),
    case("e2e-cidr-overlap", it("E19"), [E2E_EGRESS_OVERLAP], pod("y"), pod("x", ip="10.1.2.3", app="server"), 80, True),
    case("e2e-egress-port-range", it("E20"), [E2E_EGRESS_PORT_RANGE], pod("y"), SERVER, 81, True),
    case("e2e-egress-past-range", it("E20"), [E2E_EGRESS_PORT_RANGE], pod("y"), SERVER, 82, False),
    case("e2e-ingress-egress-together-in", it("E21"), [E2E_INGRESS_AND_EGRESS], pod("y"), SERVER, 80, True),
    case("e2e-ingress-egress-together-out", it("E21"), [E2E_INGRESS_AND_EGRESS], SERVER, pod("y"), 80, False),
    case("e2e-independent-directions", it("E22"), [E2E_INGRESS_AND_EGRESS], pod("z"), SERVER, 80, False),
]
# fmt: on


@pytest.mark.parametrize("case", CASES)
def test_policies_admit_exactly_what_the_source_says(case: Case) -> None:
    verdict = evaluate(
        case.policies, source=case.source, destination=case.destination, port=case.port, protocol=case.protocol
    )
    assert verdict.allowed is case.expected, case.origin


def test_the_table_is_large_enough_and_every_case_has_a_source() -> None:
    assert len(CASES) >= 60
    assert all(param.values[0].origin.startswith((DOCS, RECIPES, E2E)) for param in CASES)


def test_a_refusal_names_the_isolating_policies_and_the_direction() -> None:
    verdict = evaluate(
        [DENY_INGRESS, WEB_DENY_ALL], source=pod("other"), destination=pod("default", app="web"), port=80
    )
    assert (verdict.allowed, verdict.blocked_by, verdict.direction) == (
        False,
        ("default/default-deny-ingress", "default/web-deny-all"),
        "Ingress",
    )
    egress = evaluate([DENY_EGRESS], source=pod("default"), destination=pod("other"), port=80)
    assert (egress.blocked_by, egress.direction) == (("default/default-deny-egress",), "Egress")


def test_policy_types_default_from_the_sections_present() -> None:
    assert policy_from_object({"spec": {"podSelector": {}}}).types == {"Ingress"}
    assert policy_from_object({"spec": {"podSelector": {}, "egress": []}}).types == {"Ingress", "Egress"}
    assert policy_from_object({"spec": {"podSelector": {}, "policyTypes": ["Egress"]}}).types == {"Egress"}


@pytest.mark.parametrize(
    "spec",
    [
        pytest.param(None, id="no-spec"),
        pytest.param({"podSelector": "everything"}, id="selector-not-an-object"),
        pytest.param({"podSelector": {"matchLabels": {"a": 1}}}, id="label-value-not-a-string"),
        pytest.param({"podSelector": {"matchExpressions": [{"key": "a", "operator": "Near"}]}}, id="unknown-operator"),
        pytest.param({"podSelector": {}, "ingress": "all"}, id="ingress-not-a-list"),
        pytest.param({"podSelector": {}, "ingress": [{"ports": [{"port": True}]}]}, id="port-not-a-number-or-name"),
        pytest.param(
            {"podSelector": {}, "ingress": [{"from": [{"ipBlock": {"cidr": "not-an-address"}}]}]}, id="bad-cidr"
        ),
    ],
)
def test_odd_policies_never_raise(spec: Any) -> None:
    policy = policy_from_object({"metadata": {"namespace": "default", "name": "odd"}, "spec": spec})
    evaluate([policy], source=pod("other", ip="10.0.0.1"), destination=pod("default"), port=80)


def test_an_unreadable_pod_selector_selects_no_pod() -> None:
    broken = policy_from_object({"metadata": {"namespace": "default"}, "spec": {"podSelector": "x"}})
    assert not selects(broken, pod("default"), "Ingress")


def test_a_policy_of_another_namespace_does_not_isolate() -> None:
    assert not selects(np("other", "deny", podSelector=ALL), pod("default"), "Ingress")
