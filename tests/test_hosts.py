import pytest

from webhook.core.hosts import (
    ADDRESS_WORDS,
    HostRef,
    find_data_hosts,
    find_hosts,
    host_variables,
    is_address_variable,
    lookup_names,
    pod_name,
    replace_hosts,
)


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
        pytest.param(
            "kafka-0.kafka-headless:9092,kafka-1.kafka-headless:9092",
            "",
            ["kafka-0.kafka-headless", "kafka-1.kafka-headless"],
            id="pod-names-host-port-list",
        ),
        pytest.param(
            "mongodb://mongo-0.mongo,mongo-1.mongo/db?replicaSet=rs0",
            "",
            ["mongo-0.mongo", "mongo-1.mongo"],
            id="pod-names-in-url-authority",
        ),
        pytest.param("zk-0.zk:2888:3888;zk-1.zk:2888:3888", "", ["zk-0.zk", "zk-1.zk"], id="zookeeper-two-ports"),
        pytest.param("server.1=zk-0.zk:2888:3888:participant;2181", "", ["zk-0.zk"], id="zookeeper-dynamic-config"),
        pytest.param(
            "zk-0.zk-headless:2888:3888::1 zk-1.zk-headless:2888:3888::2",
            "ZOO_SERVERS",
            ["zk-0.zk-headless", "zk-1.zk-headless"],
            id="zookeeper-servers-with-ids",
        ),
        pytest.param(
            "zk-2.zk-headless:2888:3888:observer::3", "", ["zk-2.zk-headless"], id="zookeeper-observer-with-id"
        ),
        pytest.param("db:5432::", "", [], id="host-port-then-bare-colons-is-no-zookeeper-id"),
        pytest.param("1@kafka:9093,2@kafka-1:9093", "", ["kafka", "kafka-1"], id="kraft-voters-id-at-host"),
        pytest.param("Server=sqldata;Database=x;User Id=sa", "", ["sqldata"], id="connection-string-server"),
        pytest.param("Host=postgres;Port=5432;Username=u", "", ["postgres"], id="connection-string-host"),
        pytest.param("Server=mssql,1433;Initial Catalog=x", "", ["mssql"], id="connection-string-comma-port"),
        pytest.param("Data Source=tcp:db,1433;", "", ["db"], id="connection-string-data-source-tcp"),
        pytest.param("Host=pg-0,pg-1;Database=x", "", ["pg-0", "pg-1"], id="connection-string-host-list"),
        pytest.param("host=db port=5432 dbname=app", "", ["db"], id="libpq-keywords"),
        pytest.param("s3://bucket?endpoint=minio:9000&region=x", "", ["minio"], id="s3-bucket-is-not-a-host"),
        pytest.param("s3://bucket/p?endpoint=http://minio:9000", "", ["minio"], id="query-parameter-url"),
        pytest.param("http://api/x?host=db&db=app", "", ["api", "db"], id="query-parameter-under-address-key"),
        pytest.param("mongodb://m/x?replicaSet=rs0&authSource=admin", "", ["m"], id="query-identifiers-not-hosts"),
        pytest.param("--redis-host redis", "", ["redis"], id="flag-and-name"),
        pytest.param("--upstream=api", "", ["api"], id="flag-equals-name"),
        pytest.param("-Dspring.redis.host=redis -Xmx1g", "JAVA_OPTS", ["redis"], id="jvm-property-host"),
        pytest.param("--service-name cart", "", [], id="flag-naming-an-identifier"),
        pytest.param("-service=cockroachdb", "", [], id="flag-service-is-a-name-not-an-address"),
        pytest.param("--log-level info", "", [], id="flag-not-an-address"),
        pytest.param(
            "--sink=influxdb:http://monitoring-influxdb:8086", "", ["monitoring-influxdb"], id="heapster-sink"
        ),
        pytest.param(
            "etcd0=http://etcd0:2380,etcd1=http://etcd1:2380", "", ["etcd0", "etcd1"], id="etcd-initial-cluster"
        ),
        pytest.param("cassandra", "CASSANDRA_SEEDS", ["cassandra"], id="bare-name-under-seeds"),
        pytest.param("es-0.es,es-1.es", "DISCOVERY_SEED_HOSTS", ["es-0.es", "es-1.es"], id="bare-name-list"),
        pytest.param("basketdata", "ConnectionStrings__Redis", ["basketdata"], id="dotnet-connection-strings-key"),
        pytest.param("collabora", "NGINX_UPSTREAM_BACKEND", ["collabora"], id="bare-name-under-upstream"),
        pytest.param("pgsql", "PGHOST", ["pgsql"], id="libpq-pghost"),
        pytest.param("redis", "redisHost", ["redis"], id="camel-case-variable"),
        pytest.param("cart", "OTEL_SERVICE_NAME", [], id="service-name-is-an-identifier"),
        pytest.param("rabbitmq", "K8S_SERVICE_NAME", [], id="k8s-service-name-is-an-identifier"),
        pytest.param("admin", "GF_SECURITY_ADMIN_USER", [], id="security-holds-uri-by-accident"),
        pytest.param("shop", "CHECKOUT_APP_NAME", [], id="app-name"),
        pytest.param("db", "DB_HOST_NAME", ["db"], id="host-name-is-a-host"),
        pytest.param("redis:7", "REDIS_IMAGE", [], id="image-and-its-tag"),
        pytest.param('{"url": "http://prom:9090", "x": 1}', "", ["prom"], id="quoted-url-in-json"),
        pytest.param("sh -c 'curl -f \"http://api:8080/health\"'", "", ["api"], id="quoted-url-in-a-script"),
        pytest.param("[docs](http://docs/x)", "", ["docs"], id="url-in-brackets"),
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


@pytest.mark.parametrize(
    "variable",
    ["REDIS_HOST", "db_addr", "Upstream_Url", "KAFKA_BROKERS", "SENTRY_DSN", "CASSANDRA_SEEDS", "spring.redis.host"],
)
def test_address_variables(variable: str) -> None:
    assert is_address_variable(variable)


@pytest.mark.parametrize(
    "variable",
    ["MODE", "PORT", "LOG_LEVEL", "REPLICAS", "SERVICE_NAME", "OTEL_SERVICE_NAME", "GF_SECURITY_ADMIN_USER", "DB_USER"],
)
def test_non_address_variables(variable: str) -> None:
    assert not is_address_variable(variable)


def test_the_quick_first_test_lets_every_address_word_through() -> None:
    assert all(is_address_variable(f"X_{word}") for word in ADDRESS_WORDS)
    assert is_address_variable("ConnectionStrings__Basket")


def test_replace_hosts_keeps_everything_else_byte_for_byte() -> None:
    value = "a:1 ; http://b/x?y=1,c:3"
    refs = find_hosts(value)
    replaced = replace_hosts(value, {ref: ref.host.upper() + ".q" for ref in refs})
    assert replaced == "A.q:1 ; http://B.q/x?y=1,C.q:3"


def test_each_reference_says_which_rule_found_it() -> None:
    rules = {ref.host: ref.rule for ref in find_hosts("http://a/ b:1 Server=c;x=s3://k?endpoint=d:2 --e-host e")}
    assert rules == {
        "a": "url",
        "b": "host:port",
        "c": "connection string",
        "d": "query parameter",
        "e": "address flag",
    }


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        pytest.param("kafka-0.kafka-headless", ("kafka-0", "kafka-headless"), id="statefulset-pod"),
        pytest.param("serviceb.foobar", None, id="service-dot-namespace"),
        pytest.param("kafka-0.kafka.foobar", None, id="already-qualified"),
        pytest.param("kafka-0", None, id="single-label"),
    ],
)
def test_pod_names_are_two_labels_the_first_with_an_ordinal(host: str, expected: tuple[str, str] | None) -> None:
    assert pod_name(host) == expected


def test_a_pod_name_is_looked_up_under_its_service_too() -> None:
    assert lookup_names("db-0.db") == ("db-0.db", "db")
    assert lookup_names("db-0.db.foobar.svc") == ("db-0.db.foobar.svc", "db.foobar.svc")
    assert lookup_names("serviceb.foobar") == ("serviceb.foobar",)


def test_a_variable_used_as_a_host_by_another_value_is_found() -> None:
    values = [
        ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://$(OTEL_COLLECTOR_NAME):4317"),
        ("COLLECTOR_HOST", "$(OTHER)"),
        ("ATTRIBUTES", "service.name=$(OTEL_SERVICE_NAME)"),
        ("RABBITMQ_NODENAME", "rabbit@$(POD).$(SERVICE).svc.cluster.local"),
    ]
    assert host_variables(values) == {"OTEL_COLLECTOR_NAME", "OTHER"}
    assert [ref.host for ref in find_hosts("otel-collector", variable="OTEL_COLLECTOR_NAME", used_as_host=True)] == [
        "otel-collector"
    ]


def test_file_shaped_data_is_read_line_by_line_with_spans_in_the_whole_value() -> None:
    value = "upstream {\n  server api:8080;\n}\nredis:\n  host: redis\n  name: redis\n# host: x\n  image: db:7\n"
    refs = find_data_hosts(value, key="nginx.conf")
    assert [(ref.host, value[ref.start : ref.end]) for ref in refs] == [("api", "api"), ("redis", "redis")]
    assert value[refs[1].start - 6 : refs[1].end] == "host: redis"


def test_one_line_data_is_read_as_an_env_value_named_by_its_key() -> None:
    assert [ref.host for ref in find_data_hosts("redis", key="REDIS_HOST")] == ["redis"]
    assert [ref.host for ref in find_data_hosts("redis\n", key="MODE")] == []
