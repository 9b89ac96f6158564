"""deploy/k8s against the code: each overlay is rendered with kustomize (kubectl's built-in) and its manifests checked
against the settings classes, the services' real routes and Kafka subscribers, the topic catalogue and
deploy/postgres/init.sql. No cluster needed: rendering talks to nothing."""

from __future__ import annotations

import base64
import functools
import importlib
import re
import shutil
import subprocess
import urllib.parse
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi.routing import APIRoute
from pydantic import SecretStr, ValidationError

from hotline_common.kafka import consumer_options
from hotline_common.settings_doc import env_names
from hotline_common.topics import BY_NAME
from tests.unit.test_compose import DATABASE_SERVICES, ROOT, SERVICES, prefix, settings_class, valid_env

K8S = ROOT / "deploy" / "k8s"
RUNBOOK = ROOT / "deploy" / "README.md"
OVERLAYS = ("production", "dev")
NAMESPACE = "hotline"
# Scaled on their consumer group's lag by KEDA; intake on CPU; the rest have a fixed count.
LAG_SCALED = ("routing", "notify")
SINGLETONS = ("ops", "watchdog")
# Their HTTP side must keep answering while Kafka is away (a case is taken into the outbox, sign-in, a responder's
# acknowledgement, the consoles that watch the outage): readiness must not hang on Kafka, as /readyz does.
SERVE_WITHOUT_KAFKA = ("intake", "registry", "notify", "ops", "watchdog")
# Not a setting: libpq's password variable, which asyncpg reads when DATABASE_URL carries no password.
LIBPQ_ENV = {"PGPASSWORD"}
# Secret settings needed only in local mode (demo accounts); production never reads them.
LOCAL_ONLY_SECRETS = {"DEMO_PASSWORD"}
# Made by the operators, not by people: CloudNativePG's CA of the cluster.
OPERATOR_SECRETS = {"hotline-pg-ca"}
# Connections a PostgreSQL cluster keeps for itself (superuser_reserved_connections, the operator, monitoring).
PG_RESERVED_CONNECTIONS = 10


# -- rendering --------------------------------------------------------------------------------------------------
def kustomize_command() -> list[str]:
    """kubectl with kustomize v5 built in, else a standalone kustomize v5; fails (never skips) without either."""
    how = ("install kubectl >= 1.27 (kustomize v5 built in): e.g. `apt-get install kubectl` from the Kubernetes "
           "apt repository, or `GOBIN=$PWD/.cache/bin go install sigs.k8s.io/kustomize/kustomize/v5@v5.5.0`")
    kubectl = shutil.which("kubectl")
    if kubectl:
        version = subprocess.run([kubectl, "version", "--client"], capture_output=True, text=True, check=False)
        found = re.search(r"Kustomize Version: v(\d+)", version.stdout)
        if found and int(found[1]) >= 5:
            return [kubectl, "kustomize"]
    standalone = shutil.which("kustomize") or str(ROOT / ".cache" / "bin" / "kustomize")
    if Path(standalone).is_file():
        version = subprocess.run([standalone, "version"], capture_output=True, text=True, check=False)
        if re.search(r"v([5-9]|\d\d)\.", version.stdout):
            return [standalone, "build"]
    pytest.fail(f"rendering deploy/k8s needs kustomize v5, found neither kubectl with it nor kustomize: {how}")


@functools.cache
def render(overlay: str) -> tuple[dict[str, Any], ...]:
    result = subprocess.run([*kustomize_command(), str(K8S / "overlays" / overlay)], capture_output=True, text=True,
                            check=False)
    assert result.returncode == 0, f"kustomize failed on overlays/{overlay}:\n{result.stderr}"
    return tuple(doc for doc in yaml.safe_load_all(result.stdout) if doc)


def find(overlay: str, kind: str, name: str | None = None) -> list[dict[str, Any]]:
    return [d for d in render(overlay) if d["kind"] == kind and (name is None or d["metadata"]["name"] == name)]


def one(overlay: str, kind: str, name: str) -> dict[str, Any]:
    found = find(overlay, kind, name)
    assert len(found) == 1, f"overlays/{overlay}: expected one {kind} {name}, found {len(found)}"
    return found[0]


def deployment(overlay: str, name: str) -> dict[str, Any]:
    return one(overlay, "Deployment", name)


def container(overlay: str, name: str) -> dict[str, Any]:
    containers = deployment(overlay, name)["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1
    c: dict[str, Any] = containers[0]
    return c


def configmap(overlay: str, name: str) -> dict[str, str]:
    data: dict[str, str] = one(overlay, "ConfigMap", name).get("data") or {}
    return data


def hotline_config(overlay: str) -> dict[str, str]:
    """The shared ConfigMap (its generated name carries a hash suffix)."""
    found = [d for d in find(overlay, "ConfigMap") if re.fullmatch(r"hotline-config(-\w+)?", d["metadata"]["name"])]
    assert len(found) == 1
    data: dict[str, str] = found[0]["data"]
    return data


def secret_data(overlay: str, name: str) -> dict[str, str] | None:
    """A Secret the overlay renders (dev), decoded; None when it is created outside (production)."""
    found = find(overlay, "Secret", name)
    if not found:
        return None
    return {key: base64.b64decode(value).decode() for key, value in (found[0].get("data") or {}).items()}


Source = tuple[str, ...]  # ("value", text) | ("configmap", name, key) | ("secret", name, key)


def environment(overlay: str, name: str) -> dict[str, Source]:
    """Every variable the container gets, and where from; envFrom ConfigMaps resolved against the render."""
    spec = container(overlay, name)
    env: dict[str, Source] = {}
    for source in spec.get("envFrom", []):
        assert "configMapRef" in source, f"{name}: envFrom only from ConfigMaps, secrets key by key: {source}"
        ref = source["configMapRef"]["name"]
        env.update({key: ("configmap", ref, key) for key in configmap(overlay, ref)})
    for item in spec.get("env", []):
        if "value" in item:
            env[item["name"]] = ("value", str(item["value"]))
        else:
            ref = item["valueFrom"]["secretKeyRef"]
            assert not ref.get("optional"), f"{name}: {item['name']} must not be optional (a typo would go unseen)"
            env[item["name"]] = ("secret", ref["name"], ref["key"])
    return env


def values(overlay: str, name: str, *, secret_placeholder: bool) -> dict[str, str]:
    """The environment as the process sees it; a Secret not rendered gets a distinct stand-in value."""
    resolved = {}
    for var, source in environment(overlay, name).items():
        if source[0] == "value":
            resolved[var] = source[1]
        elif source[0] == "configmap":
            resolved[var] = configmap(overlay, source[1])[source[2]]
        else:
            data = secret_data(overlay, source[1])
            assert data is not None or secret_placeholder, f"{overlay}: Secret {source[1]} is not rendered"
            resolved[var] = f"stand-in-for-{source[1]}-{source[2]}" if data is None else data[source[2]]
    return resolved


def default(name: str, field: str) -> Any:
    return settings_class(name).model_fields[field].default


@functools.cache
def get_routes(name: str) -> dict[str, str]:
    """The real app's GET routes: path → endpoint name (building the app opens no connection)."""
    app = importlib.import_module(f"hotline_{name}.app").create_app(settings_class(name)())
    return {r.path: r.endpoint.__name__ for r in app.routes if isinstance(r, APIRoute) and "GET" in (r.methods or ())}


# -- the services -----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_service_has_a_deployment_and_a_service_in_the_namespace(overlay: str) -> None:
    assert {d["metadata"]["name"] for d in find(overlay, "Deployment")} == set(SERVICES)
    assert {d["metadata"]["name"] for d in find(overlay, "Service")} == set(SERVICES)
    namespaced = [d for d in render(overlay) if d["kind"] != "Namespace"]
    assert {d["metadata"].get("namespace") for d in namespaced} == {NAMESPACE}
    assert [d["metadata"]["name"] for d in find(overlay, "Namespace")] == [NAMESPACE]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_service_runs_its_module_from_the_one_image(overlay: str) -> None:
    images = {container(overlay, name)["image"] for name in SERVICES}
    assert len(images) == 1, images
    for name in SERVICES:
        spec = container(overlay, name)
        assert "command" not in spec, "keep the image's entrypoint (`python -m`)"
        assert spec["args"] == [f"hotline_{name}"]
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert re.search(r'^ENTRYPOINT \["python", "-m"\]', dockerfile, re.MULTILINE)


def test_production_pins_a_released_image() -> None:
    image = container("production", "intake")["image"]
    name, _, tag = image.rpartition(":")
    assert name and "/" in name and tag and tag != "latest", image


@pytest.mark.parametrize("overlay", OVERLAYS)
@pytest.mark.parametrize("name", SERVICES)
def test_port_and_host_are_the_settings_and_the_service_reaches_them(overlay: str, name: str) -> None:
    port = default(name, "port")
    spec = container(overlay, name)
    assert [(p["name"], p["containerPort"]) for p in spec["ports"]] == [("http", port)]
    env = values(overlay, name, secret_placeholder=True)
    assert env[f"{prefix(name)}PORT"] == str(port)
    assert env[f"{prefix(name)}HOST"] == "0.0.0.0"
    service = one(overlay, "Service", name)
    assert [(p["port"], p["targetPort"]) for p in service["spec"]["ports"]] == [(port, "http")]
    labels = deployment(overlay, name)["spec"]["template"]["metadata"]["labels"]
    assert service["spec"]["selector"].items() <= labels.items()
    assert deployment(overlay, name)["spec"]["selector"]["matchLabels"] == service["spec"]["selector"]


@pytest.mark.parametrize("overlay", OVERLAYS)
@pytest.mark.parametrize("name", SERVICES)
def test_every_environment_variable_is_a_setting_of_the_service(overlay: str, name: str) -> None:
    unknown = set(environment(overlay, name)) - valid_env(name) - LIBPQ_ENV
    assert not unknown, f"{name} is given variables it never reads (typo?): {sorted(unknown)}"


@pytest.mark.parametrize("overlay", OVERLAYS)
@pytest.mark.parametrize("name", SERVICES)
def test_the_settings_accept_the_rendered_environment(overlay: str, name: str,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    # Production refuses the dev defaults of the secrets it needs: a secret not given fails here.
    cls = settings_class(name)
    for var in valid_env(name):
        monkeypatch.delenv(var, raising=False)
    for var, value in values(overlay, name, secret_placeholder=True).items():
        monkeypatch.setenv(var, value)
    settings = cls()
    assert settings.env == ("production" if overlay == "production" else "local")
    assert settings.port == default(name, "port")


def test_production_refuses_a_service_whose_secret_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    # Guards the check above: the same environment less one secret does not start.
    for var in valid_env("intake"):
        monkeypatch.delenv(var, raising=False)
    for var, value in values("production", "intake", secret_placeholder=True).items():
        if var != "PII_LOOKUP_KEY":
            monkeypatch.setenv(var, value)
    with pytest.raises(ValidationError, match="PII_LOOKUP_KEY"):
        settings_class("intake")()


@pytest.mark.parametrize("overlay", OVERLAYS)
@pytest.mark.parametrize("name", SERVICES)
def test_secret_settings_come_from_secrets_and_none_is_left_to_its_dev_default(overlay: str, name: str) -> None:
    cls = settings_class(name)
    env = environment(overlay, name)
    names = env_names(cls)
    secrets = {names[field]: info for field, info in cls.model_fields.items() if info.annotation is SecretStr}
    assert {"JWT_SECRET", "DEMO_PASSWORD"} <= set(secrets)  # guards the selection
    for var in set(secrets) & set(env):
        assert env[var][0] == "secret", f"{name}: {var} is written in the manifests; it belongs in a Secret"
    for var, info in secrets.items():
        if info.default.get_secret_value() and var not in LOCAL_ONLY_SECRETS:
            assert var in env, f"{name}: {var} would run on its development default"
    assert env.get("PGPASSWORD", ("secret",))[0] == "secret"


@pytest.mark.parametrize("overlay", OVERLAYS)
@pytest.mark.parametrize("name", SERVICES)
def test_urls_of_other_services_name_their_service_and_port(overlay: str, name: str) -> None:
    for var, value in values(overlay, name, secret_placeholder=True).items():
        url = urllib.parse.urlsplit(value)
        if url.scheme in ("http", "https") and url.hostname in SERVICES:
            target = url.hostname
            assert url.port == default(target, "port"), f"{name}: {var}={value}"


# -- probes, hardening, resources -------------------------------------------------------------------------------
@pytest.mark.parametrize("overlay", OVERLAYS)
@pytest.mark.parametrize("name", SERVICES)
def test_probes_hit_routes_the_app_serves_on_its_port(overlay: str, name: str) -> None:
    spec = container(overlay, name)
    routes = get_routes(name)
    ports = {p["name"]: p["containerPort"] for p in spec["ports"]}
    for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
        get = spec[probe]["httpGet"]
        assert get["path"] in routes, f"{name}: {probe} asks {get['path']}, which the app does not serve"
        assert ports.get(get["port"], get["port"]) == default(name, "port")
    # Liveness and start-up ask "is the process alive", never the dependencies: a Kafka outage must not restart
    # every pod.
    assert routes[spec["livenessProbe"]["httpGet"]["path"]] == "healthz"
    assert routes[spec["startupProbe"]["httpGet"]["path"]] == "healthz"
    readiness = routes[spec["readinessProbe"]["httpGet"]["path"]]
    assert readiness == ("healthz" if name in SERVE_WITHOUT_KAFKA else "readyz")
    # Start-up may wait for PostgreSQL and Kafka and the group's first rebalance: minutes, not seconds.
    startup = spec["startupProbe"]
    assert startup["periodSeconds"] * startup["failureThreshold"] >= 180


@pytest.mark.parametrize("overlay", OVERLAYS)
@pytest.mark.parametrize("name", SERVICES)
def test_pods_run_hardened_with_requests_and_limits(overlay: str, name: str) -> None:
    pod = deployment(overlay, name)["spec"]["template"]["spec"]
    spec = container(overlay, name)
    assert pod["enableServiceLinks"] is False  # else INTAKE_PORT=tcp://... from the Service `intake`
    assert pod["automountServiceAccountToken"] is False
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault"
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert f"--uid {pod['securityContext']['runAsUser']} " in dockerfile
    context = spec["securityContext"]
    assert context["allowPrivilegeEscalation"] is False
    assert context["readOnlyRootFilesystem"] is True
    assert context["capabilities"]["drop"] == ["ALL"]
    mounts = {m["mountPath"]: m["name"] for m in spec["volumeMounts"]}
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert "emptyDir" in volumes[mounts["/tmp"]]
    for kind in ("requests", "limits"):
        assert {"cpu", "memory"} <= set(spec["resources"][kind]), f"{name}: {kind}"


@pytest.mark.parametrize("overlay", OVERLAYS)
@pytest.mark.parametrize("name", SERVICES)
def test_metrics_annotations_name_the_port_and_path_the_app_serves(overlay: str, name: str) -> None:
    annotations = deployment(overlay, name)["spec"]["template"]["metadata"]["annotations"]
    assert annotations["prometheus.io/scrape"] == "true"
    assert annotations["prometheus.io/port"] == str(default(name, "port"))
    assert annotations["prometheus.io/path"] in get_routes(name)


def test_the_service_monitor_scrapes_every_service_as_the_compose_prometheus_job() -> None:
    monitor = one("production", "ServiceMonitor", "hotline")["spec"]
    prometheus = yaml.safe_load((ROOT / "deploy" / "prometheus" / "prometheus.yml").read_text(encoding="utf-8"))
    jobs = {job["job_name"] for job in prometheus["scrape_configs"]}
    [expression] = monitor["selector"]["matchExpressions"]
    for name in SERVICES:
        labels = one("production", "Service", name)["metadata"]["labels"]
        assert expression["operator"] == "In" and labels[expression["key"]] in expression["values"]
        assert labels[monitor["jobLabel"]] == f"hotline-{name}" and f"hotline-{name}" in jobs
    assert monitor["endpoints"] == [{"port": "http", "path": "/metrics", "interval": "15s"}]
    assert "/metrics" in get_routes("intake")


# -- scaling ----------------------------------------------------------------------------------------------------
def subscribers(name: str) -> list[Any]:
    found = list(importlib.import_module(f"hotline_{name}.handlers").router.subscribers)
    assert found, f"{name} has no Kafka subscribers"
    return found


@pytest.mark.parametrize("overlay", OVERLAYS)
@pytest.mark.parametrize("name", LAG_SCALED)
def test_keda_scales_the_consumer_on_its_groups_lag_up_to_the_partitions(overlay: str, name: str) -> None:
    scaled = one(overlay, "ScaledObject", name)["spec"]
    assert scaled["scaleTargetRef"]["name"] == name
    assert "replicas" not in deployment(overlay, name)["spec"], "the autoscaler owns the count"
    groups = {sub.group_id for sub in subscribers(name)}
    topics = {topic for sub in subscribers(name) for topic in sub.topic_names}
    assert groups == {f"hotline-{name}"}
    triggers = scaled["triggers"]
    assert {t["type"] for t in triggers} == {"kafka"}
    assert {t["metadata"]["consumerGroup"] for t in triggers} == groups
    assert sorted(t["metadata"]["topic"] for t in triggers) == sorted(topics)
    config = hotline_config(overlay)
    for trigger in triggers:
        meta = trigger["metadata"]
        assert meta["bootstrapServers"] == config["KAFKA_BOOTSTRAP_SERVERS"]
        assert meta["offsetResetPolicy"] == consumer_options(name)["auto_offset_reset"]
        assert meta["allowIdleConsumers"] == "false"
        assert int(meta["lagThreshold"]) > 0
    # Its topics take the configured partition count; more replicas than partitions would idle.
    assert all(BY_NAME[topic].partitions is None for topic in topics)
    assert scaled["minReplicaCount"] >= 1
    assert scaled["maxReplicaCount"] == int(config["KAFKA_TOPIC_PARTITIONS"])


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_intake_scales_on_cpu(overlay: str) -> None:
    hpa = one(overlay, "HorizontalPodAutoscaler", "intake")["spec"]
    assert (hpa["scaleTargetRef"]["kind"], hpa["scaleTargetRef"]["name"]) == ("Deployment", "intake")
    assert [m["resource"]["name"] for m in hpa["metrics"]] == ["cpu"]
    assert 1 <= hpa["minReplicas"] <= hpa["maxReplicas"]
    assert "replicas" not in deployment(overlay, "intake")["spec"]
    assert container(overlay, "intake")["resources"]["requests"]["cpu"]


@pytest.mark.parametrize("overlay", OVERLAYS)
@pytest.mark.parametrize("name", SINGLETONS)
def test_ops_and_the_watchdog_run_exactly_one_replica(overlay: str, name: str) -> None:
    spec = deployment(overlay, name)["spec"]
    assert spec["replicas"] == 1
    assert spec["strategy"]["type"] == "Recreate"  # never two side by side, not even during a rollout
    targets = [d["spec"]["scaleTargetRef"]["name"] for kind in ("HorizontalPodAutoscaler", "ScaledObject")
               for d in find(overlay, kind)]
    assert name not in targets


# -- Kafka ------------------------------------------------------------------------------------------------------
def kafka(overlay: str) -> dict[str, Any]:
    [cluster] = find(overlay, "Kafka")
    return cluster


def test_production_kafka_has_three_brokers_and_two_in_sync_replicas() -> None:
    cluster = kafka("production")
    pools = [p for p in find("production", "KafkaNodePool")
             if p["metadata"]["labels"]["strimzi.io/cluster"] == cluster["metadata"]["name"]]
    assert sum(p["spec"]["replicas"] for p in pools if "broker" in p["spec"]["roles"]) == 3
    assert sum(p["spec"]["replicas"] for p in pools if "controller" in p["spec"]["roles"]) == 3
    config = cluster["spec"]["kafka"]["config"]
    assert config["min.insync.replicas"] == 2
    assert config["default.replication.factor"] == 3
    assert config["offsets.topic.replication.factor"] == 3
    assert config["transaction.state.log.replication.factor"] == 3
    assert config["transaction.state.log.min.isr"] == 2
    assert hotline_config("production")["KAFKA_REPLICATION_FACTOR"] == "3"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_kafka_is_kraft_without_auto_created_topics_and_consistent(overlay: str) -> None:
    cluster = kafka(overlay)
    assert cluster["metadata"]["annotations"]["strimzi.io/kraft"] == "enabled"
    assert cluster["metadata"]["annotations"]["strimzi.io/node-pools"] == "enabled"
    assert "zookeeper" not in cluster["spec"]
    config = cluster["spec"]["kafka"]["config"]
    assert config["auto.create.topics.enable"] is False
    brokers = sum(p["spec"]["replicas"] for p in find(overlay, "KafkaNodePool") if "broker" in p["spec"]["roles"])
    factor = int(hotline_config(overlay)["KAFKA_REPLICATION_FACTOR"])
    assert factor == config["default.replication.factor"] <= brokers
    for key in ("offsets.topic.replication.factor", "transaction.state.log.replication.factor",
                "share.coordinator.state.topic.replication.factor"):
        assert config[key] == factor
    # With more than one replica, one may be lost without refusing writes (acks=all).
    isr = config["min.insync.replicas"]
    assert isr == (factor - 1 if factor > 1 else 1)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_services_reach_kafka_on_its_plain_listener(overlay: str) -> None:
    cluster = kafka(overlay)
    [plain] = [entry for entry in cluster["spec"]["kafka"]["listeners"] if entry["name"] == "plain"]
    assert plain["tls"] is False and plain["type"] == "internal"
    expected = f"{cluster['metadata']['name']}-kafka-bootstrap.{NAMESPACE}.svc:{plain['port']}"
    assert hotline_config(overlay)["KAFKA_BOOTSTRAP_SERVERS"] == expected
    # The listener's network policy admits the services' pods (and KEDA's namespace).
    peers = plain["networkPolicyPeers"]
    pod_peers = [p["podSelector"]["matchLabels"] for p in peers if "podSelector" in p]
    for name in SERVICES:
        labels = deployment(overlay, name)["spec"]["template"]["metadata"]["labels"]
        assert any(selector.items() <= labels.items() for selector in pod_peers), name
    assert any(p.get("namespaceSelector", {}).get("matchLabels", {}).get("kubernetes.io/metadata.name") == "keda"
               for p in peers)


# -- PostgreSQL -------------------------------------------------------------------------------------------------
def init_sql_roles() -> set[str]:
    sql = (ROOT / "deploy" / "postgres" / "init.sql").read_text(encoding="utf-8")
    array = re.search(r"ARRAY\[([^\]]*)\]", sql)
    assert array is not None
    return set(re.findall(r"'(\w+)'", array[1]))


def pg_cluster(overlay: str) -> dict[str, Any]:
    [cluster] = find(overlay, "Cluster")
    return cluster


def test_production_postgres_has_three_instances() -> None:
    assert pg_cluster("production")["spec"]["instances"] == 3


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_cnpg_bootstrap_runs_init_sql_and_manages_the_roles_it_creates(overlay: str) -> None:
    spec = pg_cluster(overlay)["spec"]
    initdb = spec["bootstrap"]["initdb"]
    assert initdb["database"] == "hotline"
    refs = initdb["postInitApplicationSQLRefs"]
    assert "secretRefs" not in refs  # those would run before the ConfigMaps
    [first, second] = refs["configMapRefs"]
    init = (ROOT / "deploy" / "postgres" / "init.sql").read_text(encoding="utf-8")
    assert configmap(overlay, first["name"])[first["key"]] == init
    assert "PASSWORD NULL" in configmap(overlay, second["name"])[second["key"]]
    roles = {role["name"]: role for role in spec["managed"]["roles"]}
    assert set(roles) == init_sql_roles() == set(DATABASE_SERVICES)
    for name, role in roles.items():
        assert role["ensure"] == "present" and role["login"] is True
        assert role["passwordSecret"]["name"] == f"hotline-db-{name}"
        data = secret_data(overlay, f"hotline-db-{name}")
        if data is not None:
            assert data["username"] == name and data["password"]


@pytest.mark.parametrize("overlay", OVERLAYS)
@pytest.mark.parametrize("name", SERVICES)
def test_database_url_is_the_services_own_role_on_the_read_write_service(overlay: str, name: str) -> None:
    env = environment(overlay, name)
    if name not in DATABASE_SERVICES:
        assert "DATABASE_URL" not in env and "PGPASSWORD" not in env  # the watchdog pages while PostgreSQL is away
        return
    cluster = pg_cluster(overlay)
    assert env["DATABASE_URL"][0] == "value"
    dsn = urllib.parse.urlsplit(env["DATABASE_URL"][1])
    assert dsn.scheme == "postgresql" and dsn.username == name and dsn.password is None
    assert (dsn.hostname, dsn.port, dsn.path) == (f"{cluster['metadata']['name']}-rw", 5432,
                                                  f"/{cluster['spec']['bootstrap']['initdb']['database']}")
    [role] = [r for r in cluster["spec"]["managed"]["roles"] if r["name"] == name]
    assert env["PGPASSWORD"] == ("secret", role["passwordSecret"]["name"], "password")
    # TLS checked against the cluster's own CA, mounted from the Secret the operator makes.
    query = urllib.parse.parse_qs(dsn.query)
    assert query["sslmode"] == ["verify-ca"]
    mounts = {m["name"]: m["mountPath"] for m in container(overlay, name)["volumeMounts"]}
    [ca] = [v for v in deployment(overlay, name)["spec"]["template"]["spec"]["volumes"] if "secret" in v]
    assert ca["secret"]["secretName"] == f"{cluster['metadata']['name']}-ca"
    assert query["sslrootcert"] == [f"{mounts[ca['name']]}/{ca['secret']['items'][0]['path']}"]
    assert ca["secret"]["items"][0]["key"] == "ca.crt"


def most_replicas(overlay: str, name: str) -> int:
    for kind, field in (("HorizontalPodAutoscaler", "maxReplicas"), ("ScaledObject", "maxReplicaCount")):
        for scaler in find(overlay, kind):
            if scaler["spec"]["scaleTargetRef"]["name"] == name:
                return int(scaler["spec"][field])
    return int(deployment(overlay, name)["spec"]["replicas"])


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_service_at_its_most_replicas_fits_the_connection_limit(overlay: str) -> None:
    needed = 0
    for name in DATABASE_SERVICES:
        pool = int(values(overlay, name, secret_placeholder=True).get(
            "DATABASE_POOL_MAX", default(name, "database_pool_max")))
        extra = 1 if name == "intake" else 0  # intake's live timeline LISTENs on a connection of its own
        needed += most_replicas(overlay, name) * (pool + extra)
    limit = int(pg_cluster(overlay)["spec"]["postgresql"]["parameters"]["max_connections"])
    assert needed + PG_RESERVED_CONNECTIONS <= limit, f"{needed} connections at most, max_connections {limit}"


# -- secrets ----------------------------------------------------------------------------------------------------
def referenced_secrets(overlay: str) -> dict[str, set[str]]:
    """Secret name → keys the manifests read (env of every service, CloudNativePG's role passwords)."""
    refs: dict[str, set[str]] = {}
    for name in SERVICES:
        for source in environment(overlay, name).values():
            if source[0] == "secret":
                refs.setdefault(source[1], set()).add(source[2])
    for role in pg_cluster(overlay)["spec"]["managed"]["roles"]:
        refs.setdefault(role["passwordSecret"]["name"], set()).update({"username", "password"})
    return refs


def runbook_secrets() -> dict[str, set[str]]:
    """The `kubectl create secret generic` commands of deploy/README.md: name → keys (loops over $svc expanded)."""
    text = RUNBOOK.read_text(encoding="utf-8").replace("\\\n", " ")
    found: dict[str, set[str]] = {}
    for line in text.splitlines():
        loop = re.search(r"for (\w+) in ([\w ]+); do (.*)", line)
        bodies = ([loop[3].replace(f"${{{loop[1]}}}", item).replace(f"${loop[1]}", item) for item in loop[2].split()]
                  if loop else [line])
        for body in bodies:
            command = re.search(r"create secret generic ([\w-]+)(.*)", body)
            if command:
                found.setdefault(command[1], set()).update(re.findall(r"--from-literal=(\w+)=", command[2]))
    return found


def test_the_runbook_creates_every_secret_production_reads() -> None:
    documented = runbook_secrets()
    assert "hotline-shared" in documented  # guards the parser
    for name, keys in referenced_secrets("production").items():
        if name in OPERATOR_SECRETS:
            continue
        assert name in documented, f"deploy/README.md does not say how to create the Secret {name}"
        assert keys <= documented[name], f"{name}: the runbook misses {sorted(keys - documented[name])}"


def test_the_dev_overlay_renders_every_secret_it_reads() -> None:
    for name, keys in referenced_secrets("dev").items():
        data = secret_data("dev", name)
        assert data is not None, f"dev reads the Secret {name}, which it does not render"
        assert keys <= set(data), f"{name}: dev misses {sorted(keys - set(data))}"


def test_production_ships_no_secret() -> None:
    assert not find("production", "Secret")
