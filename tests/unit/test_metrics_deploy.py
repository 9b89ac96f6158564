"""deploy/prometheus and deploy/grafana against the code and docker-compose.yml: every metric the dashboard and the
alert rules name exists (hotline_common.metrics, FastStream's middleware), every service is scraped on its compose
name and port, and Grafana's provisioning finds the dashboard and the data source it uses. No Docker needed."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import Any

import pytest
import yaml
from faststream.kafka.prometheus import KafkaPrometheusMiddleware
from prometheus_client import CollectorRegistry
from prometheus_client.metrics import MetricWrapperBase

from hotline_common import metrics

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
PROMETHEUS = DEPLOY / "prometheus" / "prometheus.yml"
RULES = DEPLOY / "prometheus" / "alerts.yml"
GRAFANA = DEPLOY / "grafana"
DASHBOARD = GRAFANA / "dashboards" / "hotline.json"
COMPOSE = ROOT / "docker-compose.yml"

METRIC_NAME = re.compile(r"\b(?:hotline|faststream)_\w+")
SUFFIXES = {"counter": ("_total", "_created"), "histogram": ("_bucket", "_sum", "_count", "_created"),
            "gauge": ("",), "summary": ("", "_sum", "_count", "_created")}
# Labels Prometheus adds (target labels) or that histograms carry.
BUILT_IN_LABELS = {"job", "instance", "le"}
# Every label value must come from a small closed set; these are the names allowed to carry them.
BOUNDED_LABELS = {"channel", "category", "province", "priority", "outcome", "rule", "trigger", "kind", "service",
                  "group", "topic", "partition", "error"}


def own_metrics() -> list[MetricWrapperBase]:
    found = [value for value in vars(metrics).values() if isinstance(value, MetricWrapperBase)]
    assert found, "hotline_common.metrics declares no metric"
    return found


def all_metrics() -> list[MetricWrapperBase]:
    """Ours and those FastStream's Prometheus middleware registers (as `make_broker` adds it)."""
    registry = CollectorRegistry()
    KafkaPrometheusMiddleware(registry=registry, app_name="hotline-test")
    faststream = {id(c): c for c in registry._names_to_collectors.values()}  # by family and by series name
    return [*own_metrics(), *faststream.values()]  # type: ignore[list-item]


def known_series() -> dict[str, str]:
    """Every series name a metric exposes (`hotline_cases` → `hotline_cases_total`, ...) → its family name."""
    return {family.name + suffix: family.name for metric in all_metrics() for family in metric.describe()
            for suffix in SUFFIXES[family.type]}


def family_labels() -> dict[str, set[str]]:
    return {family.name: set(metric._labelnames) for metric in all_metrics() for family in metric.describe()}


def dashboard() -> dict[str, Any]:
    data = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def panels(container: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for panel in container.get("panels", []):
        yield panel
        yield from panels(panel)  # a collapsed row keeps its panels inside


def dashboard_expressions() -> list[str]:
    exprs = [target["expr"] for panel in panels(dashboard()) for target in panel.get("targets", [])]
    assert exprs, "the dashboard has no PromQL targets"
    return exprs


def rules() -> list[dict[str, Any]]:
    data = yaml.safe_load(RULES.read_text(encoding="utf-8"))
    found = [rule for group in data["groups"] for rule in group["rules"]]
    assert found, "no alert rules"
    return found


def rule_expressions() -> list[str]:
    return [str(rule["expr"]) for rule in rules()]


def names_in(expr: str) -> set[str]:
    return set(METRIC_NAME.findall(expr))


def unknown_names(expr: str) -> set[str]:
    return names_in(expr) - set(known_series())


def labels_in(expr: str) -> set[str]:
    """Label names an expression groups by or matches on."""
    found: set[str] = set()
    for group in re.findall(r"\b(?:by|without|on|ignoring)\s*\(([^)]*)\)", expr):
        found |= {label.strip() for label in group.split(",") if label.strip()}
    for matchers in re.findall(r"\{([^}]*)\}", expr):
        found |= set(re.findall(r"(\w+)\s*(?:=~|!~|!=|=)", matchers))
    # Template text in legends and annotations ({{channel}}) never reaches here: only expressions do.
    return found


def compose() -> dict[str, Any]:
    data = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def mounts(service: dict[str, Any]) -> dict[PurePosixPath, Path]:
    """Container path → host path of a compose service's bind mounts."""
    found = {}
    for volume in service.get("volumes", []):
        source, target, *_ = (volume["source"], volume["target"]) if isinstance(volume, dict) else volume.split(":")
        if source.startswith("."):
            found[PurePosixPath(target)] = (ROOT / source).resolve()
    return found


def host_path(service: dict[str, Any], container_path: str) -> Path:
    """Where a path inside the container comes from on the host, through the service's bind mounts."""
    path = PurePosixPath(container_path)
    for target, source in sorted(mounts(service).items(), key=lambda m: -len(m[0].parts)):
        if path == target or target in path.parents:
            return source.joinpath(*path.relative_to(target).parts)
    raise AssertionError(f"{container_path} is not mounted from the repository: {mounts(service)}")


def container_ports(service: dict[str, Any]) -> set[int]:
    ports = set()
    for entry in service.get("ports", []):
        ports.add(int(entry["target"]) if isinstance(entry, dict) else int(str(entry).split(":")[-1].split("/")[0]))
    return ports


# -- the checker itself --------------------------------------------------------------------------------------------
def test_the_name_check_knows_series_names_from_family_names() -> None:
    known = known_series()
    assert {"hotline_cases_total", "hotline_routing_decision_seconds_bucket", "hotline_consumer_lag",
            "hotline_outbox_backlog", "faststream_received_processed_messages_total"} <= set(known)
    # A counter or histogram's bare family name is no series: a panel querying it would stay empty.
    assert {"hotline_cases", "hotline_routing_decision_seconds", "hotline_consumer_lag_total"}.isdisjoint(known)
    assert unknown_names("sum(rate(hotline_case_total[5m]))") == {"hotline_case_total"}
    assert labels_in('sum by (le, channel) (rate(x{outcome="failed", kind!~"a|b"}[5m]))') == {
        "le", "channel", "outcome", "kind"}


# -- names ---------------------------------------------------------------------------------------------------------
def test_every_metric_the_dashboard_queries_exists() -> None:
    for expr in dashboard_expressions():
        # Prometheus's own `up` (is the target answering) aside, every query is built on the platform's metrics.
        assert names_in(expr) or re.search(r"\bup\{", expr), f"a query names no platform metric: {expr}"
        assert not unknown_names(expr), f"unknown metric(s) {unknown_names(expr)} in dashboard query {expr}"


def test_every_metric_the_alert_rules_use_exists() -> None:
    for expr in rule_expressions():
        assert not unknown_names(expr), f"unknown metric(s) {unknown_names(expr)} in alert rule {expr}"


def test_the_dashboard_shows_every_hotline_metric() -> None:
    used = {known_series()[name] for expr in dashboard_expressions() for name in names_in(expr)}
    declared = {family.name for metric in own_metrics() for family in metric.describe()}
    assert declared - used == set(), f"metrics no dashboard panel shows: {sorted(declared - used)}"


def test_queries_group_and_match_only_on_labels_their_metrics_have() -> None:
    labels = family_labels()
    series = known_series()
    for expr in dashboard_expressions() + rule_expressions():
        available = set(BUILT_IN_LABELS)
        for name in names_in(expr):
            available |= labels[series[name]]
        assert labels_in(expr) <= available, f"{labels_in(expr) - available} are no labels of the metrics in {expr}"


def test_metric_labels_are_bounded_never_personal_data_or_ids() -> None:
    for metric in own_metrics():
        for family in metric.describe():
            assert family.name.startswith("hotline_"), family.name
            assert family.documentation.strip(), f"{family.name} has no help text"
            assert set(metric._labelnames) <= BOUNDED_LABELS, (family.name, metric._labelnames)


def test_province_label_is_the_two_digit_province_code_or_unknown() -> None:
    assert metrics.province_of("570511") == "57"
    assert metrics.province_of(None) == "unknown"
    assert metrics.province_of("57x511") == "unknown"


# -- Prometheus ----------------------------------------------------------------------------------------------------
def prometheus_config() -> dict[str, Any]:
    data = yaml.safe_load(PROMETHEUS.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def scrape_targets() -> list[tuple[str, str, int, str]]:
    """(job, host, port, metrics path) of every static target."""
    found = []
    for job in prometheus_config()["scrape_configs"]:
        for static in job.get("static_configs", []):
            for target in static["targets"]:
                host, port = target.rsplit(":", 1)
                found.append((job["job_name"], host, int(port), job.get("metrics_path", "/metrics")))
    return found


def test_every_scrape_target_is_a_compose_service_on_its_port() -> None:
    services = compose()["services"]
    for job, host, port, path in scrape_targets():
        if job == "prometheus":
            assert (host, port) == ("localhost", 9090)
            continue
        assert host in services, f"job {job} scrapes {host}, which docker-compose.yml does not define"
        assert port in container_ports(services[host]), f"{host} listens on {container_ports(services[host])}"
        assert path == "/metrics"
        assert job == f"hotline-{host}", "jobs are named hotline-<service> (the dashboard and rules match on it)"


def test_every_service_answering_readyz_is_scraped() -> None:
    scraped = {host for _, host, _, _ in scrape_targets()}
    services = compose()["services"]
    ours = {name for name, spec in services.items()
            if "/readyz" in json.dumps(spec.get("healthcheck", {}).get("test", ""))}
    assert {"intake", "registry", "routing", "notify"} <= ours
    assert ours <= scraped, f"not scraped by Prometheus: {sorted(ours - scraped)}"


def test_prometheus_in_compose_reads_this_config_and_its_rules() -> None:
    service = compose()["services"]["prometheus"]
    assert re.fullmatch(r"(docker\.io/)?prom/prometheus:v\d+\.\d+\.\d+", service["image"])
    flags = dict(arg.split("=", 1) for arg in service["command"] if "=" in arg)
    config = host_path(service, flags["--config.file"])
    assert config == PROMETHEUS.resolve()
    for rule_file in prometheus_config()["rule_files"]:
        assert (config.parent / rule_file).resolve() == RULES.resolve()


def test_alert_rules_are_named_and_explained_in_thai_and_english() -> None:
    for rule in rules():
        assert rule["alert"].startswith("Hotline"), rule
        assert rule["labels"]["severity"] in ("warning", "critical"), rule
        summary = rule["annotations"]["summary"]
        assert re.search(r"[\u0e00-\u0e7f]", summary) and re.search(r"[A-Za-z]{3}", summary), summary


# -- Grafana -------------------------------------------------------------------------------------------------------
def provisioning(kind: str) -> list[dict[str, Any]]:
    found = []
    for path in sorted((GRAFANA / "provisioning" / kind).glob("*.y*ml")):
        found.append(yaml.safe_load(path.read_text(encoding="utf-8")))
    assert found, f"no Grafana {kind} provisioning"
    return found


def test_grafana_provisioning_loads_the_dashboard_file() -> None:
    service = compose()["services"]["grafana"]
    assert re.fullmatch(r"(docker\.io/)?grafana/grafana(-oss)?:\d+\.\d+\.\d+", service["image"])
    assert host_path(service, "/etc/grafana/provisioning") == (GRAFANA / "provisioning").resolve()
    [provider] = [p for config in provisioning("dashboards") for p in config["providers"]]
    assert provider["type"] == "file"
    folder = host_path(service, provider["options"]["path"])
    assert DASHBOARD.resolve() in {path.resolve() for path in folder.glob("*.json")}
    home = service["environment"].get("GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH")
    assert home is None or host_path(service, home) == DASHBOARD.resolve()


def test_the_dashboard_queries_the_provisioned_prometheus() -> None:
    [source] = [s for config in provisioning("datasources") for s in config["datasources"]]
    assert source["type"] == "prometheus"
    url = re.fullmatch(r"http://(?P<host>[\w-]+):(?P<port>\d+)/?", source["url"])
    assert url is not None
    prometheus = compose()["services"][url["host"]]
    assert "prom/prometheus" in prometheus["image"] and int(url["port"]) in container_ports(prometheus)
    uids = {json.dumps(panel["datasource"], sort_keys=True) for panel in panels(dashboard()) if "datasource" in panel}
    uids |= {json.dumps(target["datasource"], sort_keys=True) for panel in panels(dashboard())
             for target in panel.get("targets", []) if "datasource" in target}
    assert uids == {json.dumps({"type": "prometheus", "uid": source["uid"]}, sort_keys=True)}


def test_dashboard_titles_are_thai_with_english_beside() -> None:
    data = dashboard()
    assert data["uid"] and data["title"]
    for panel in panels(data):
        title = panel["title"]
        assert re.search(r"[\u0e00-\u0e7f]", title), title
        assert " · " in title and re.search(r"[A-Za-z]{3}", title.split(" · ", 1)[1]), title


def test_panels_do_not_overlap() -> None:
    cells: dict[tuple[int, int], str] = {}
    for panel in dashboard()["panels"]:
        pos = panel["gridPos"]
        assert pos["x"] + pos["w"] <= 24, panel["title"]
        for x in range(pos["x"], pos["x"] + pos["w"]):
            for y in range(pos["y"], pos["y"] + pos["h"]):
                assert (x, y) not in cells, f"{panel['title']} overlaps {cells[(x, y)]}"
                cells[(x, y)] = panel["title"]


@pytest.mark.parametrize("path", [PROMETHEUS, RULES, *sorted((GRAFANA / "provisioning").rglob("*.yml"))],
                         ids=lambda p: str(Path(p).relative_to(ROOT)))
def test_deploy_yaml_parses(path: Path) -> None:
    assert yaml.safe_load(path.read_text(encoding="utf-8"))
