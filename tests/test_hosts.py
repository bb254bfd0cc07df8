import pytest

from webhook.core.hosts import HostRef, find_hosts, is_address_variable, replace_hosts


def hosts(value: str, variable: str = "") -> list[str]:
    return [ref.host for ref in find_hosts(value, variable=variable)]


@pytest.mark.parametrize(
    ("value", "variable", "expected"),
    [
        pytest.param("http://serviceb/", "", ["serviceb"], id="http-url"),
        pytest.param("https://serviceb", "", ["serviceb"], id="url-without-path"),
        pytest.param("http://serviceb:8080/api?x=1#top", "", ["serviceb"], id="url-port-path-query-fragment"),
        pytest.param("amqp://user:pw@rabbit:5672/vh", "", ["rabbit"], id="amqp-userinfo"),
        pytest.param("redis://:secret@redis:6379/0", "", ["redis"], id="redis-password-only"),
        pytest.param("jdbc:postgresql://db:5432/app", "", ["db"], id="jdbc-compound-scheme"),
        pytest.param("mongodb://m1:27017,m2:27017/x", "", ["m1", "m2"], id="mongodb-host-list"),
        pytest.param("mongodb+srv://cluster0/db", "", ["cluster0"], id="scheme-with-plus"),
        pytest.param("grpc://serviceb:50051", "", ["serviceb"], id="grpc"),
        pytest.param("kafka-0:9092,kafka-1:9092", "", ["kafka-0", "kafka-1"], id="host-port-list"),
        pytest.param("redis:6379", "", ["redis"], id="host-port"),
        pytest.param("a:1;b:2 c:3", "", ["a", "b", "c"], id="semicolon-and-space-separated"),
        pytest.param("http://a/,http://b:80/x", "", ["a", "b"], id="comma-separated-urls"),
        pytest.param("user:pass@tcp(db:3306)/app", "DSN", ["db"], id="go-mysql-dsn"),
        pytest.param("host=db:5432 sslmode=off", "", ["db"], id="key-value-host-port"),
        pytest.param("redis", "REDIS_HOST", ["redis"], id="bare-name-under-host"),
        pytest.param("serviceb", "upstream_server", ["serviceb"], id="bare-name-lowercase-variable"),
        pytest.param("serviceb", "BACKEND_ADDR", ["serviceb"], id="bare-name-under-addr"),
        pytest.param("rabbit", "AMQP_BROKER", ["rabbit"], id="bare-name-under-broker"),
        pytest.param("svc", "PAYMENT_ENDPOINT", ["svc"], id="bare-name-under-endpoint"),
        pytest.param("serviceb.foobar", "TARGET_HOST", ["serviceb.foobar"], id="bare-dotted-name-under-host"),
        pytest.param("http://serviceb.foobar/", "", ["serviceb.foobar"], id="partially-qualified-url"),
        pytest.param("serviceb.foobar.svc.cluster.local:80", "", ["serviceb.foobar.svc.cluster.local"], id="fqdn-port"),
        pytest.param("http://ServiceB/", "", ["ServiceB"], id="mixed-case-kept-as-written"),
        pytest.param("  http://serviceb/  ", "", ["serviceb"], id="surrounding-spaces"),
        pytest.param("redis", "MODE", [], id="bare-word-under-non-address-name"),
        pytest.param("production", "ENVIRONMENT", [], id="bare-word-environment"),
        pytest.param("true", "FEATURE_ENABLED", [], id="boolean"),
        pytest.param("8080", "PORT", [], id="number"),
        pytest.param("http://10.0.0.1:80/", "", [], id="ipv4-url"),
        pytest.param("10.0.0.1:80", "", [], id="ipv4-host-port"),
        pytest.param("http://[::1]:8080/", "", [], id="ipv6-url"),
        pytest.param("[fe80::1]:443", "", [], id="ipv6-host-port"),
        pytest.param("localhost:8080", "", [], id="localhost"),
        pytest.param("http://localhost/", "", [], id="localhost-url"),
        pytest.param("$(SERVICE_HOST):80", "", [], id="dependent-variable"),
        pytest.param("http://$(TARGET)/", "", [], id="dependent-variable-in-url"),
        pytest.param("/var/run/app.sock", "SOCKET", [], id="path"),
        pytest.param("12:30", "TIME", [], id="clock-time"),
        pytest.param("image:1.2.3", "", [], id="image-tag-is-not-a-port"),
        pytest.param("a-b-c", "LOG_LEVEL", [], id="bare-word-dashes"),
        pytest.param("hello world", "GREETING_SERVICE", [], id="sentence-under-address-name"),
        pytest.param("", "HOST", [], id="empty"),
        pytest.param("mailto:ops@example.com", "", [], id="mailto-is-not-an-authority"),
        pytest.param("https://api.example.com/v1", "", ["api.example.com"], id="external-host-found"),
        pytest.param("-Dserver=serviceb:80", "JAVA_OPTS", ["serviceb"], id="jvm-option"),
    ],
)
def test_find_hosts_finds_each_shape(value: str, variable: str, expected: list[str]) -> None:
    assert hosts(value, variable) == expected


def test_spans_point_at_the_host_in_the_value() -> None:
    value = "amqp://user:pw@rabbit:5672/vh"
    (ref,) = find_hosts(value)
    assert value[ref.start : ref.end] == "rabbit"


def test_short_means_a_single_label_without_a_trailing_dot() -> None:
    assert HostRef(0, 8, "serviceb").is_short
    assert not HostRef(0, 9, "serviceb.").is_short
    assert not HostRef(0, 15, "serviceb.foobar").is_short


def test_name_is_lower_case_without_trailing_dot() -> None:
    assert HostRef(0, 0, "ServiceB.Foobar.").name == "serviceb.foobar"


@pytest.mark.parametrize("variable", ["REDIS_HOST", "db_addr", "Upstream_Url", "KAFKA_BROKERS", "SENTRY_DSN"])
def test_address_variables(variable: str) -> None:
    assert is_address_variable(variable)


@pytest.mark.parametrize("variable", ["MODE", "PORT", "LOG_LEVEL", "REPLICAS"])
def test_non_address_variables(variable: str) -> None:
    assert not is_address_variable(variable)


def test_replace_hosts_keeps_everything_else_byte_for_byte() -> None:
    value = "a:1 ; http://b/x?y=1,c:3"
    refs = find_hosts(value)
    replaced = replace_hosts(value, {ref: ref.host.upper() + ".q" for ref in refs})
    assert replaced == "A.q:1 ; http://B.q/x?y=1,C.q:3"
