"""docker-compose.yml's tracing path (services → OpenTelemetry Collector → Jaeger) against the collector's config and
the services' settings: parsed and cross-checked, no Docker needed."""

from __future__ import annotations

import urllib.parse
from pathlib import Path
from typing import Any

import pytest
import yaml

from hotline_common.settings import ServiceSettings
from hotline_devstack.services import SERVICES

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
COLLECTOR_FILE = ROOT / "deploy" / "otel-collector" / "config.yaml"
COLLECTOR = yaml.safe_load(COLLECTOR_FILE.read_text(encoding="utf-8"))


def env_of(name: str) -> dict[str, Any]:
    env = COMPOSE["services"][name].get("environment") or {}
    assert isinstance(env, dict), f"{name}: environment as a mapping"
    return env


def port_of(endpoint: str) -> int:
    return int(endpoint.rsplit(":", 1)[1])


@pytest.mark.parametrize("name", [name for name, _ in SERVICES])
def test_every_service_exports_otlp_http_to_the_collector(name: str) -> None:
    endpoint = env_of(name).get("OTEL_EXPORTER_OTLP_ENDPOINT")
    assert endpoint, f"{name} sends no traces"
    # The variable is the shared setting the services read (not an SDK variable they would ignore).
    assert ServiceSettings(OTEL_EXPORTER_OTLP_ENDPOINT=endpoint).otel_exporter_otlp_endpoint == endpoint
    url = urllib.parse.urlsplit(endpoint)
    assert url.hostname == "otel-collector" and "otel-collector" in COMPOSE["services"]
    assert url.port == port_of(COLLECTOR["receivers"]["otlp"]["protocols"]["http"]["endpoint"])


def test_the_collector_runs_its_mounted_config_and_passes_traces_to_jaeger() -> None:
    collector = COMPOSE["services"]["otel-collector"]
    mount = next(v for v in collector["volumes"] if v.startswith("./deploy/otel-collector/config.yaml:"))
    target = mount.split(":")[1]
    assert f"--config={target}" in collector["command"]
    pipeline = COLLECTOR["service"]["pipelines"]["traces"]
    assert pipeline["receivers"] == ["otlp"]
    assert set(pipeline["processors"]) <= set(COLLECTOR["processors"])
    (exporter,) = pipeline["exporters"]
    host, port = COLLECTOR["exporters"][exporter]["endpoint"].split(":")
    assert host == "jaeger" and "jaeger" in COMPOSE["services"]
    assert port == "4317"  # Jaeger's OTLP/gRPC receiver, on when COLLECTOR_OTLP_ENABLED
    assert str(COMPOSE["services"]["jaeger"]["environment"]["COLLECTOR_OTLP_ENABLED"]).lower() == "true"


def test_jaegers_ui_is_published_on_the_host() -> None:
    assert "16686:16686" in COMPOSE["services"]["jaeger"]["ports"]
