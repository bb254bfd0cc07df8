import pytest

from webhook.core import labels
from webhook.core.fields import JsonObject
from webhook.core.objects import Service
from webhook.core.rewrite import Resolver, full_name, rewrite_data, rewrite_references, rewrite_value

OLD_SERVICES = ["serviceb", "redis", "db", "rabbit", "kafka-0", "kafka-1", "m1", "m2", "api", "shared", "cluster0"]
B = "serviceb.foobar.svc.cluster.local"


def resolver(*, local: tuple[str, ...] = ("servicea", "shared"), proxies: dict[str, str] | None = None) -> Resolver:
    """foobar -> foo: the old namespace holds OLD_SERVICES (and proxies); foo holds ``local``."""
    old = {name: Service("foobar", name) for name in OLD_SERVICES}
    for name, target in (proxies or {}).items():
        old[name] = Service(
            "foobar",
            name,
            type="ExternalName",
            labels={labels.MANAGED_BY: labels.MANAGER},
            annotations={labels.PROXY_FOR: target},
        )
    return Resolver(
        old_namespace="foobar",
        old_service=old.get,
        is_local=frozenset(local).__contains__,
        cluster_domain="cluster.local",
    )


def rewritten(value: str, variable: str = "", **kwargs: object) -> str:
    return rewrite_value(value, variable=variable, resolver=resolver(**kwargs))[0]  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("value", "variable", "expected"),
    [
        pytest.param("http://serviceb/", "", f"http://{B}/", id="url"),
        pytest.param("http://serviceb", "", f"http://{B}", id="url-no-slash"),
        pytest.param(
            "http://serviceb:8080/api/v1?q=serviceb#f", "", f"http://{B}:8080/api/v1?q=serviceb#f", id="url-parts"
        ),
        pytest.param(
            "amqp://user:pw@rabbit:5672/vh", "", "amqp://user:pw@rabbit.foobar.svc.cluster.local:5672/vh", id="amqp"
        ),
        pytest.param(
            "jdbc:postgresql://db:5432/app", "", "jdbc:postgresql://db.foobar.svc.cluster.local:5432/app", id="jdbc"
        ),
        pytest.param(
            "mongodb://m1:27017,m2:27017/x",
            "",
            "mongodb://m1.foobar.svc.cluster.local:27017,m2.foobar.svc.cluster.local:27017/x",
            id="mongodb-list",
        ),
        pytest.param(
            "kafka-0:9092,kafka-1:9092",
            "",
            "kafka-0.foobar.svc.cluster.local:9092,kafka-1.foobar.svc.cluster.local:9092",
            id="host-port-list",
        ),
        pytest.param("redis:6379", "", "redis.foobar.svc.cluster.local:6379", id="host-port"),
        pytest.param("redis", "REDIS_HOST", "redis.foobar.svc.cluster.local", id="bare-under-host"),
        pytest.param("redis", "CACHE_SERVER", "redis.foobar.svc.cluster.local", id="bare-under-server"),
        pytest.param("rabbit", "BROKER", "rabbit.foobar.svc.cluster.local", id="bare-under-broker"),
        pytest.param("redis", "MODE", "redis", id="bare-under-plain-name-untouched"),
        pytest.param(
            "http://serviceb/ http://redis:6379",
            "",
            f"http://{B}/ http://redis.foobar.svc.cluster.local:6379",
            id="two-urls-space",
        ),
        pytest.param("serviceb:80;db:5432", "", f"{B}:80;db.foobar.svc.cluster.local:5432", id="semicolon-list"),
        pytest.param(
            "user:pass@tcp(db:3306)/app",
            "MYSQL_DSN",
            "user:pass@tcp(db.foobar.svc.cluster.local:3306)/app",
            id="go-dsn",
        ),
        pytest.param(
            "-Dapi=api:8080 -Xmx1g", "JAVA_OPTS", "-Dapi=api.foobar.svc.cluster.local:8080 -Xmx1g", id="jvm-flag"
        ),
        pytest.param("http://ServiceB/", "", f"http://{B}/", id="mixed-case"),
        pytest.param("  serviceb:80  ", "", f"  {B}:80  ", id="spaces-kept"),
        pytest.param("http://serviceb.foobar/", "", "http://serviceb.foobar/", id="partially-qualified-untouched"),
        pytest.param("serviceb.foobar.svc:80", "", "serviceb.foobar.svc:80", id="svc-qualified-untouched"),
        pytest.param(f"http://{B}/", "", f"http://{B}/", id="fully-qualified-untouched"),
        pytest.param("http://serviceb./", "", "http://serviceb./", id="absolute-name-untouched"),
        pytest.param("$(SERVICEB_HOST):80", "", "$(SERVICEB_HOST):80", id="dependent-variable-untouched"),
        pytest.param("http://$(B)/", "", "http://$(B)/", id="dependent-variable-url-untouched"),
        pytest.param("http://10.0.0.7:80/", "", "http://10.0.0.7:80/", id="ipv4-untouched"),
        pytest.param("http://[2001:db8::1]:80/", "", "http://[2001:db8::1]:80/", id="ipv6-untouched"),
        pytest.param("localhost:6379", "", "localhost:6379", id="localhost-untouched"),
        pytest.param("https://example.com/", "", "https://example.com/", id="external-untouched"),
        pytest.param("http://unknown/", "", "http://unknown/", id="unknown-name-untouched"),
        pytest.param("unknown:80", "", "unknown:80", id="unknown-host-port-untouched"),
        pytest.param("http://servicea/", "", "http://servicea/", id="name-in-new-namespace-untouched"),
        pytest.param("http://shared/", "", "http://shared/", id="local-service-wins-over-old"),
        pytest.param("serviceb", "GREETING", "serviceb", id="bare-word-non-address-untouched"),
        pytest.param("serviceb is down", "STATUS_SERVICE", "serviceb is down", id="sentence-untouched"),
        pytest.param("8080", "SERVICE_PORT", "8080", id="number-untouched"),
        pytest.param("", "SERVICE_HOST", "", id="empty-untouched"),
        pytest.param(
            "http://api/v1 and unknown:1",
            "",
            "http://api.foobar.svc.cluster.local/v1 and unknown:1",
            id="mixed-known-unknown",
        ),
        pytest.param("image:1.2.3", "", "image:1.2.3", id="tag-untouched"),
        pytest.param(
            "mongodb+srv://cluster0/db", "", "mongodb+srv://cluster0.foobar.svc.cluster.local/db", id="srv-scheme"
        ),
        pytest.param(
            "http://redis:6379,http://db:5432",
            "",
            "http://redis.foobar.svc.cluster.local:6379,http://db.foobar.svc.cluster.local:5432",
            id="comma-urls",
        ),
    ],
)
def test_short_names_of_old_services_are_qualified(value: str, variable: str, expected: str) -> None:
    assert rewritten(value, variable) == expected


def test_reference_to_a_proxy_goes_straight_to_its_target() -> None:
    assert rewritten("http://serviced/", proxies={"serviced": "bar/serviced"}) == (
        "http://serviced.bar.svc.cluster.local/"
    )


def test_full_name_uses_the_cluster_domain() -> None:
    assert full_name("db", "foobar", "corp.internal") == "db.foobar.svc.corp.internal"


def test_rewritten_value_is_a_fixed_point() -> None:
    once = rewritten("mongodb://m1:27017,m2:27017/x redis:6379")
    assert rewritten(once) == once


def test_rewrite_references_changes_literal_values_of_containers_and_init_containers_only() -> None:
    pod_spec: JsonObject = {
        "initContainers": [{"name": "wait", "env": [{"name": "DB_HOST", "value": "db"}]}],
        "containers": [
            {
                "name": "app",
                "env": [
                    {"name": "SERVICEB_URL", "value": "http://serviceb/"},
                    {"name": "FROM_SECRET", "valueFrom": {"secretKeyRef": {"name": "s", "key": "serviceb"}}},
                    {"name": "MODE", "value": "serviceb"},
                ],
                "envFrom": [{"configMapRef": {"name": "settings"}}],
            }
        ],
    }
    rewrites = rewrite_references(pod_spec, resolver())
    assert [(r.container, r.env, r.before, r.after) for r in rewrites] == [
        ("wait", "DB_HOST", "db", "db.foobar.svc.cluster.local"),
        ("app", "SERVICEB_URL", "http://serviceb/", f"http://{B}/"),
    ]
    assert pod_spec["initContainers"][0]["env"][0]["value"] == "db.foobar.svc.cluster.local"
    assert pod_spec["containers"][0]["env"][1] == {
        "name": "FROM_SECRET",
        "valueFrom": {"secretKeyRef": {"name": "s", "key": "serviceb"}},
    }
    assert pod_spec["containers"][0]["env"][2]["value"] == "serviceb"


def test_rewrite_records_hosts_and_annotation_entry() -> None:
    (rewrite,) = rewrite_references(
        {"containers": [{"name": "c", "env": [{"name": "U", "value": "serviceb:80"}]}]}, resolver()
    )
    assert rewrite.hosts == (("serviceb", B),)
    assert rewrite.record() == {"container": "c", "env": "U", "from": "serviceb:80", "to": f"{B}:80"}


def pod_resolver(*, namespaces: tuple[str, ...] = ("foobar", "foo")) -> Resolver:
    return Resolver(
        old_namespace="foobar",
        old_service={name: Service("foobar", name) for name in [*OLD_SERVICES, "kafka-headless", "mongo"]}.get,
        is_local=frozenset({"servicea"}).__contains__,
        cluster_domain="cluster.local",
        is_namespace=frozenset(namespaces).__contains__,
    )


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param(
            "kafka-0.kafka-headless:9092,kafka-1.kafka-headless:9092",
            "kafka-0.kafka-headless.foobar.svc.cluster.local:9092,kafka-1.kafka-headless.foobar.svc.cluster.local:9092",
            id="kafka-brokers",
        ),
        pytest.param(
            "mongodb://mongo-0.mongo,mongo-1.mongo/db?replicaSet=rs0",
            "mongodb://mongo-0.mongo.foobar.svc.cluster.local,mongo-1.mongo.foobar.svc.cluster.local/db?replicaSet=rs0",
            id="mongodb-replica-set",
        ),
        pytest.param("db-0.foobar:5432", "db-0.foobar:5432", id="service-dot-namespace-stays"),
        pytest.param("web-0.unknown:80", "web-0.unknown:80", id="pod-under-unknown-service-stays"),
    ],
)
def test_statefulset_pod_names_under_old_services_are_qualified(value: str, expected: str) -> None:
    assert rewrite_value(value, variable="", resolver=pod_resolver())[0] == expected


def test_a_pod_name_whose_service_part_is_a_namespace_stays() -> None:
    assert rewrite_value("db-0.db:5432", variable="", resolver=pod_resolver(namespaces=("db",)))[0] == "db-0.db:5432"


def test_each_change_says_which_rule_fired() -> None:
    _, hosts, rules = rewrite_value("kafka-0.kafka-headless:9092 http://db/", variable="", resolver=pod_resolver())
    assert [host for host, _ in hosts] == ["kafka-0.kafka-headless", "db"]
    assert rules == ("host:port, pod name", "url")


def test_args_and_command_are_rewritten_and_recorded_by_position() -> None:
    pod_spec: JsonObject = {
        "containers": [
            {
                "name": "app",
                "command": ["/bin/wait-for", "db:5432", "--"],
                "args": ["--redis-host", "redis", "--upstream=api", "--port", "8080", "http://serviceb/x", "redis"],
            }
        ]
    }
    rewrites = rewrite_references(pod_spec, resolver())
    assert [(r.env, r.after) for r in rewrites] == [
        ("command[1]", "db.foobar.svc.cluster.local:5432"),
        ("args[1]", "redis.foobar.svc.cluster.local"),
        ("args[2]", "--upstream=api.foobar.svc.cluster.local"),
        ("args[5]", f"http://{B}/x"),
    ]
    assert pod_spec["containers"][0]["args"][6] == "redis", "a bare word after no address flag stays"


def test_a_variable_another_value_uses_as_a_host_is_rewritten_though_its_name_says_name() -> None:
    pod_spec: JsonObject = {
        "containers": [
            {
                "name": "app",
                "env": [
                    {"name": "OTEL_COLLECTOR_NAME", "value": "serviceb"},
                    {"name": "OTEL_EXPORTER_OTLP_ENDPOINT", "value": "http://$(OTEL_COLLECTOR_NAME):4317"},
                    {"name": "OTEL_SERVICE_NAME", "value": "api"},
                ],
            }
        ]
    }
    (rewrite,) = rewrite_references(pod_spec, resolver())
    assert (rewrite.env, rewrite.after, rewrite.rules) == (
        "OTEL_COLLECTOR_NAME",
        B,
        ("$(OTEL_COLLECTOR_NAME) used as a host",),
    )


def test_kept_variables_and_lists_are_left_alone() -> None:
    pod_spec: JsonObject = {
        "containers": [
            {"name": "app", "env": [{"name": "DB_HOST", "value": "db"}, {"name": "U", "value": "redis:1"}]},
            {"name": "side", "args": ["db:5432"]},
        ]
    }
    rewrites = rewrite_references(pod_spec, resolver(), keep={"DB_HOST", "args"})
    assert [r.env for r in rewrites] == ["U"]


def test_configmap_data_is_rewritten_per_value_and_file_lines_are_recorded_one_by_one() -> None:
    data = {
        "REDIS_HOST": "redis",
        "MODE": "redis",
        "app.properties": "spring.redis.host=redis\r\nname=db\r\nspring.datasource.url=jdbc:postgresql://db:5432/x\r\n",
    }
    rewrites = rewrite_data(data, resolver())
    assert data == {
        "REDIS_HOST": "redis.foobar.svc.cluster.local",
        "MODE": "redis",
        "app.properties": (
            "spring.redis.host=redis.foobar.svc.cluster.local\r\nname=db\r\n"
            "spring.datasource.url=jdbc:postgresql://db.foobar.svc.cluster.local:5432/x\r\n"
        ),
    }
    assert [(r.env, r.before, r.rules) for r in rewrites] == [
        ("REDIS_HOST", "redis", ("address variable",)),
        ("app.properties:1", "spring.redis.host=redis\r", ("address variable",)),
        ("app.properties:3", "spring.datasource.url=jdbc:postgresql://db:5432/x\r", ("url",)),
    ]


def pod_spec_with_namespace(value: str, *, variable: str = "ZK", namespace_variable: str = "NS") -> JsonObject:
    env = [
        {"name": namespace_variable, "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}}},
        {"name": variable, "value": value},
    ]
    return {"containers": [{"name": "app", "env": env}]}


def test_a_downward_namespace_naming_a_service_left_behind_becomes_the_old_namespace() -> None:
    spec = pod_spec_with_namespace("db.$(NS).svc.cluster.local:5432")
    (rewrite,) = rewrite_references(spec, resolver())
    assert spec["containers"][0]["env"][1]["value"] == "db.foobar.svc.cluster.local:5432"
    assert rewrite.rules == ("downward-namespace",)
    assert rewrite.hosts == (("db.$(NS)", "db.foobar"),)


def test_a_downward_namespace_is_left_when_the_new_namespace_has_the_service() -> None:
    spec = pod_spec_with_namespace("shared.$(NS).svc")
    assert rewrite_references(spec, resolver()) == []


def test_a_variable_not_set_from_the_namespace_is_no_namespace() -> None:
    spec = pod_spec_with_namespace("db.$(OTHER).svc")
    assert rewrite_references(spec, resolver()) == []


def test_a_downward_namespace_of_a_proxy_names_its_targets_namespace() -> None:
    spec = pod_spec_with_namespace("db.$(NS).svc", variable="DB")
    rewrite_references(spec, resolver(proxies={"db": "team/db"}))
    assert spec["containers"][0]["env"][1]["value"] == "db.team.svc"


def test_a_value_with_a_downward_namespace_and_a_short_name_gets_one_record() -> None:
    spec = pod_spec_with_namespace("db.$(NS).svc:5432,redis:6379", variable="SERVERS")
    (rewrite,) = rewrite_references(spec, resolver())
    assert rewrite.after == "db.foobar.svc:5432,redis.foobar.svc.cluster.local:6379"
    assert rewrite.rules == ("downward-namespace", "host:port")


def zk_resolver(cluster_ip: str) -> Resolver:
    """foobar holds zk-headless with this cluster IP ("None": headless); the new namespace holds nothing."""
    return Resolver(
        old_namespace="foobar",
        old_service={"zk-headless": Service("foobar", "zk-headless", cluster_ip=cluster_ip)}.get,
        is_local=frozenset().__contains__,
        cluster_domain="cluster.local",
    )


def test_pod_names_under_any_variable_are_rewritten_only_for_a_headless_service() -> None:
    headless = zk_resolver("None")
    value = "zk-0.zk-headless zk-1.zk-headless"
    assert rewrite_value(value, variable="REPLICAS", resolver=headless)[0] == (
        "zk-0.zk-headless.foobar.svc.cluster.local zk-1.zk-headless.foobar.svc.cluster.local"
    )
    clustered = zk_resolver("10.0.0.1")
    assert rewrite_value(value, variable="REPLICAS", resolver=clustered)[0] == value


def pod_spec_with_service_variable(value: str, *, service: str | None = "db") -> JsonObject:
    """A container setting NS from the pod's namespace and, unless None, SVC to ``service``."""
    spec = pod_spec_with_namespace(value, variable="NODE")
    if service is not None:
        spec["containers"][0]["env"].insert(0, {"name": "SVC", "value": service})
    return spec


def test_a_service_label_written_as_a_variable_is_read_from_the_container() -> None:
    spec = pod_spec_with_service_variable("rabbit@$(POD).$(SVC).$(NS).svc.cluster.local")
    (rewrite,) = rewrite_references(spec, resolver())
    assert rewrite.after == "rabbit@$(POD).$(SVC).foobar.svc.cluster.local"
    assert rewrite.hosts == (("db.$(NS)", "db.foobar"),)
    assert rewrite.rules == ("downward-namespace",)


def test_a_service_variable_the_container_does_not_set_leaves_the_namespace_alone() -> None:
    spec = pod_spec_with_service_variable("$(POD).$(SVC).$(NS).svc", service=None)
    assert rewrite_references(spec, resolver()) == []


def test_a_service_variable_naming_a_service_of_the_new_namespace_leaves_the_namespace_alone() -> None:
    spec = pod_spec_with_service_variable("$(POD).$(SVC).$(NS).svc", service="shared")
    assert rewrite_references(spec, resolver()) == []


def test_a_host_name_suffix_names_the_old_namespace_like_the_host_it_completes() -> None:
    spec = pod_spec_with_service_variable(".$(SVC).$(NS).svc.cluster.local")
    (rewrite,) = rewrite_references(spec, resolver())
    assert rewrite.after == ".$(SVC).foobar.svc.cluster.local"


def test_a_name_of_three_labels_before_the_namespace_is_no_downward_reference() -> None:
    spec = pod_spec_with_namespace("x.db-0.db.$(NS).svc")
    assert rewrite_references(spec, resolver()) == []


def test_downward_namespaces_in_args_are_replaced_and_recorded_by_index() -> None:
    spec = pod_spec_with_namespace("unused")
    spec["containers"][0]["args"] = ["master", "-peers=db-0.db.$(NS).svc.cluster.local:9333,db-1.db.$(NS).svc:9333"]
    (rewrite,) = rewrite_references(spec, resolver())
    assert rewrite.env == "args[1]"
    assert rewrite.after == "-peers=db-0.db.foobar.svc.cluster.local:9333,db-1.db.foobar.svc:9333"
    assert rewrite.rules == ("downward-namespace", "downward-namespace")


def test_zookeeper_servers_with_ids_are_pod_names_of_a_headless_service() -> None:
    headless = zk_resolver("None")
    value = "zk-0.zk-headless:2888:3888::1 zk-1.zk-headless:2888:3888:observer::2"
    assert rewrite_value(value, variable="ZOO_SERVERS", resolver=headless)[0] == (
        "zk-0.zk-headless.foobar.svc.cluster.local:2888:3888::1 "
        "zk-1.zk-headless.foobar.svc.cluster.local:2888:3888:observer::2"
    )
