"""docker-compose.yml against the settings classes: no Docker needed, the YAML is parsed and cross-checked."""

from __future__ import annotations

import argparse
import base64
import re
import urllib.parse
from pathlib import Path
from typing import Any

import pytest
import yaml

from hotline_common.settings import ServiceSettings
from hotline_common.settings_doc import env_names, service_settings
from hotline_devstack.demo_channels import DEV_PUBLIC_LINE_CHANNEL_SECRET
from hotline_fakes.__main__ import build_parser as fakes_parser
from hotline_fakes.line import DEFAULT_TOKEN
from hotline_fakes.sms import DEFAULT_API_KEY

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"
SERVICES = ("intake", "registry", "routing", "notify", "ops", "watchdog")
# The watchdog has no database: it must page while PostgreSQL is away.
DATABASE_SERVICES = tuple(name for name in SERVICES if name != "watchdog")
SHARED_SECRETS = ("JWT_SECRET", "PII_ENCRYPTION_KEY", "PII_LOOKUP_KEY", "DEMO_WEBHOOK_SECRET", "DEMO_PASSWORD")
INTERPOLATION = re.compile(r"^\$\{(?P<name>[A-Z0-9_]+)(?::?-(?P<default>[^}]*))?\}$")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def service(compose: dict[str, Any], name: str) -> dict[str, Any]:
    spec = compose["services"][name]
    assert isinstance(spec, dict)
    return spec


def environment(compose: dict[str, Any], name: str) -> dict[str, str]:
    """The service's environment as a mapping, whether written as a mapping or as a `KEY=value` list."""
    env = service(compose, name).get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) if "=" in item else (item, "") for item in env)
    return {str(key): "" if value is None else str(value) for key, value in env.items()}


def settings_class(name: str) -> type[ServiceSettings]:
    return service_settings()[name]


def valid_env(name: str) -> set[str]:
    return set(env_names(settings_class(name)).values())


def prefix(name: str) -> str:
    return str(settings_class(name).model_config["env_prefix"])


def resolve(value: str) -> str:
    """A `${NAME:-default}` value as compose resolves it when NAME is unset; plain values unchanged."""
    match = INTERPOLATION.match(value)
    return value if match is None else match["default"] or ""


def published_ports(compose: dict[str, Any], name: str) -> list[tuple[int, int]]:
    ports = []
    for entry in service(compose, name).get("ports", []):
        if isinstance(entry, dict):
            ports.append((int(entry["published"]), int(entry["target"])))
        else:
            *host, container = str(entry).split(":")
            ports.append((int(host[-1]), int(container.split("/")[0])))
    return ports


def healthcheck_test(compose: dict[str, Any], name: str) -> str:
    check = service(compose, name).get("healthcheck")
    assert check, f"{name} has no healthcheck"
    test = check["test"]
    assert test not in (["NONE"], "NONE"), f"{name} disables its healthcheck"
    return " ".join(test) if isinstance(test, list) else str(test)


def test_all_services_and_infrastructure_exist(compose: dict[str, Any]) -> None:
    assert {*SERVICES, "kafka", "postgres"} <= set(compose["services"])


@pytest.mark.parametrize("name", SERVICES)
def test_service_runs_its_module_from_the_one_image(compose: dict[str, Any], name: str) -> None:
    spec = service(compose, name)
    build = spec["build"]
    context = build if isinstance(build, str) else build.get("context", ".")
    assert (ROOT / context / "Dockerfile").is_file()
    command = spec["command"]
    assert (command if isinstance(command, list) else command.split()) == [f"hotline_{name}"]
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert re.search(r'^ENTRYPOINT \["python", "-m"\]', dockerfile, re.MULTILINE)


@pytest.mark.parametrize("name", SERVICES)
def test_published_port_is_the_settings_default(compose: dict[str, Any], name: str) -> None:
    default = settings_class(name).model_fields["port"].default
    assert published_ports(compose, name) == [(default, default)]
    env = environment(compose, name)
    assert env[f"{prefix(name)}PORT"] == str(default)
    assert env[f"{prefix(name)}HOST"] == "0.0.0.0"


def test_service_ports_do_not_collide(compose: dict[str, Any]) -> None:
    published = [host for name in compose["services"] for host, _ in published_ports(compose, name)]
    assert len(published) == len(set(published))


def test_valid_names_are_what_the_settings_read() -> None:
    # Guards the check below: shared settings by their alias, own settings by prefix + field name.
    assert {"INTAKE_PORT", "INTAKE_HOST", "JWT_SECRET", "DATABASE_URL"} <= valid_env("intake")
    assert "NOTIFY_PUBLIC_BASE_URL" in valid_env("notify")
    assert "NOTIFY_PUBLIC_BASE_URL" not in valid_env("intake")
    assert "INTAKE_JWT_SECRET" not in valid_env("intake")
    assert "PORT" not in valid_env("intake")


@pytest.mark.parametrize("name", SERVICES)
def test_every_environment_variable_is_a_setting_of_the_service(compose: dict[str, Any], name: str) -> None:
    unknown = set(environment(compose, name)) - valid_env(name)
    assert not unknown, f"{name} is given variables it never reads (typo?): {sorted(unknown)}"


def test_the_watchdog_needs_neither_postgres_nor_the_services_it_watches(compose: dict[str, Any]) -> None:
    assert "DATABASE_URL" not in environment(compose, "watchdog")
    assert set(service(compose, "watchdog")["depends_on"]) == {"kafka", "fakes"}


@pytest.mark.parametrize("name", DATABASE_SERVICES)
def test_database_url_uses_the_services_own_role(compose: dict[str, Any], name: str) -> None:
    dsn = urllib.parse.urlsplit(resolve(environment(compose, name)["DATABASE_URL"]))
    assert dsn.scheme in ("postgresql", "postgres")
    assert dsn.username == name
    assert dsn.password == name  # deploy/postgres/init.sql: password = role name (dev only)
    assert dsn.hostname == "postgres"
    assert (dsn.port or 5432) == 5432
    assert dsn.path == f"/{service(compose, 'postgres')['environment']['POSTGRES_DB']}"


def test_init_sql_creates_every_service_role() -> None:
    sql = (ROOT / "deploy" / "postgres" / "init.sql").read_text(encoding="utf-8")
    array = re.search(r"ARRAY\[([^\]]*)\]", sql)
    assert array is not None
    assert set(re.findall(r"'(\w+)'", array[1])) == set(DATABASE_SERVICES)


def kafka_listeners(compose: dict[str, Any]) -> tuple[dict[str, str], dict[str, str]]:
    env = environment(compose, "kafka")

    def parse(value: str) -> dict[str, str]:
        return dict(item.split("://", 1) for item in value.split(","))

    return parse(env["KAFKA_LISTENERS"]), parse(env["KAFKA_ADVERTISED_LISTENERS"])


def test_kafka_is_a_single_kraft_node_without_auto_created_topics(compose: dict[str, Any]) -> None:
    env = environment(compose, "kafka")
    assert env["KAFKA_NODE_ID"]
    assert set(env["KAFKA_PROCESS_ROLES"].split(",")) == {"broker", "controller"}
    assert env["KAFKA_AUTO_CREATE_TOPICS_ENABLE"].lower() == "false"
    factors = {key: value for key, value in env.items() if key.endswith("REPLICATION_FACTOR")}
    assert "KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR" in factors
    assert "KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR" in factors
    assert set(factors.values()) == {"1"}
    listeners, _ = kafka_listeners(compose)
    controller = env["KAFKA_CONTROLLER_LISTENER_NAMES"]
    assert controller in listeners
    controller_port = listeners[controller].split(":")[-1]
    assert env["KAFKA_CONTROLLER_QUORUM_VOTERS"] == f"{env['KAFKA_NODE_ID']}@kafka:{controller_port}"


@pytest.mark.parametrize("name", SERVICES)
def test_services_reach_kafka_on_its_advertised_listener(compose: dict[str, Any], name: str) -> None:
    listeners, advertised = kafka_listeners(compose)
    bootstrap = environment(compose, name)["KAFKA_BOOTSTRAP_SERVERS"]
    assert bootstrap == "kafka:9092"
    matching = [listener for listener, address in advertised.items() if address == bootstrap]
    assert matching, f"kafka advertises no listener at {bootstrap}: {advertised}"
    assert listeners[matching[0]].endswith(":9092")
    # The topic catalogue's replication factor must fit a one-broker cluster.
    env = environment(compose, name)
    default_factor = settings_class(name).model_fields["kafka_replication_factor"].default
    factor = env.get("KAFKA_REPLICATION_FACTOR", str(default_factor))
    assert factor == "1"


@pytest.mark.parametrize("secret", SHARED_SECRETS)
def test_secrets_are_identical_in_every_service(compose: dict[str, Any], secret: str) -> None:
    values = {name: environment(compose, name).get(secret) for name in SERVICES}
    assert None not in values.values(), f"{secret} missing in {[n for n, v in values.items() if v is None]}"
    assert len(set(values.values())) == 1, f"{secret} differs between services: {values}"
    # Overridable from the shell / .env, with a working dev fallback.
    match = INTERPOLATION.match(values["intake"] or "")
    assert match is not None and match["name"] == secret and match["default"]


def test_pii_key_fallback_is_a_fernet_key(compose: dict[str, Any]) -> None:
    key = resolve(environment(compose, "intake")["PII_ENCRYPTION_KEY"])
    assert len(base64.urlsafe_b64decode(key)) == 32


@pytest.mark.parametrize("name", SERVICES)
def test_demo_mode_and_webhook(compose: dict[str, Any], name: str) -> None:
    env = environment(compose, name)
    assert env["HOTLINE_ENV"] == "local"
    webhook = urllib.parse.urlsplit(env["DEMO_ALERT_WEBHOOK_URL"])
    notify_port = settings_class("notify").model_fields["port"].default
    assert (webhook.hostname, webhook.port, webhook.path) == ("notify", notify_port, "/v1/demo/inbox")


def test_notify_public_base_url_is_reachable_from_the_host(compose: dict[str, Any]) -> None:
    url = urllib.parse.urlsplit(environment(compose, "notify")["NOTIFY_PUBLIC_BASE_URL"])
    assert (url.hostname, url.port) == ("localhost", settings_class("notify").model_fields["port"].default)


def test_notify_asks_intake_on_its_service_name_and_port(compose: dict[str, Any]) -> None:
    url = urllib.parse.urlsplit(environment(compose, "notify")["NOTIFY_INTAKE_URL"])
    intake_port = settings_class("intake").model_fields["port"].default
    assert (url.hostname, url.port) == ("intake", intake_port)


@pytest.mark.parametrize("name", SERVICES)
def test_service_healthcheck_probes_readyz_on_its_port(compose: dict[str, Any], name: str) -> None:
    test = healthcheck_test(compose, name)
    port = settings_class(name).model_fields["port"].default
    assert f":{port}/readyz" in test
    assert "urllib" in test


@pytest.mark.parametrize("name", SERVICES)
def test_services_wait_for_healthy_infrastructure(compose: dict[str, Any], name: str) -> None:
    depends = service(compose, name)["depends_on"]
    assert isinstance(depends, dict), "depends_on must use the long form with conditions"
    for dependency in ("kafka", "postgres") if name in DATABASE_SERVICES else ("kafka",):
        assert depends[dependency]["condition"] == "service_healthy"
    for dependency, spec in depends.items():
        assert spec["condition"] == "service_healthy"
        assert "healthcheck" in service(compose, dependency)


def test_infrastructure_healthchecks(compose: dict[str, Any]) -> None:
    assert "/opt/kafka/bin/kafka-broker-api-versions.sh" in healthcheck_test(compose, "kafka")
    assert "pg_isready" in healthcheck_test(compose, "postgres")


def test_kafka_image_is_apache_kafka_4(compose: dict[str, Any]) -> None:
    image = service(compose, "kafka")["image"]
    assert re.fullmatch(r"(docker\.io/)?apache/kafka:4\.\d+\.\d+", image), image


def test_postgres_image_database_and_init_script(compose: dict[str, Any]) -> None:
    spec = service(compose, "postgres")
    assert re.fullmatch(r"(docker\.io/)?(library/)?postgres:1[56](\.\d+)*(-[a-z0-9.]+)?", spec["image"])
    assert spec["environment"]["POSTGRES_DB"] == "hotline"
    mounts = []
    for volume in spec.get("volumes", []):
        if isinstance(volume, dict):
            mounts.append((volume["source"], volume["target"]))
        else:
            source, target, *_ = str(volume).split(":")
            mounts.append((source, target))
    init = [(source, target) for source, target in mounts if target.startswith("/docker-entrypoint-initdb.d/")]
    assert init, "deploy/postgres/init.sql is not mounted into /docker-entrypoint-initdb.d/"
    source, target = init[0]
    assert (ROOT / source).resolve() == (ROOT / "deploy" / "postgres" / "init.sql").resolve()
    assert target.endswith(".sql")


# -- the fakes: notify's channels point at them ----------------------------------------------------------------
def fakes_args(compose: dict[str, Any]) -> argparse.Namespace:
    """The fakes service's command as `hotline-fakes` parses it (its ports and accepted credentials)."""
    command = service(compose, "fakes")["command"]
    argv = command if isinstance(command, list) else command.split()
    assert argv[:2] == ["hotline_fakes", "all"], "the fakes service runs `python -m hotline_fakes all`"
    return fakes_parser().parse_args(argv[1:])


def test_fakes_run_from_the_one_image_on_all_interfaces_with_the_viewer_published(compose: dict[str, Any]) -> None:
    spec = service(compose, "fakes")
    assert spec["image"] == service(compose, "notify")["image"]
    build = spec["build"]
    assert (build if isinstance(build, str) else build.get("context", ".")) == "."
    args = fakes_args(compose)
    assert args.host == "0.0.0.0"
    published = published_ports(compose, "fakes")
    assert (args.viewer_port, args.viewer_port) in published
    assert (args.line_port, args.line_port) in published  # faults are injected from the host
    assert f":{args.viewer_port}/" in healthcheck_test(compose, "fakes")


def test_notify_channels_point_at_the_fakes_service_and_its_ports(compose: dict[str, Any]) -> None:
    env = environment(compose, "notify")
    args = fakes_args(compose)
    line = urllib.parse.urlsplit(env["NOTIFY_LINE_API_BASE_URL"])
    sms = urllib.parse.urlsplit(env["NOTIFY_SMS_GATEWAY_URL"])
    assert (line.scheme, line.hostname, line.port) == ("http", "fakes", args.line_port)
    assert (sms.scheme, sms.hostname, sms.port) == ("http", "fakes", args.sms_port)
    assert (env["NOTIFY_SMTP_HOST"], int(env["NOTIFY_SMTP_PORT"])) == ("fakes", args.smtp_port)
    # The credentials notify sends are the ones the fakes accept.
    assert resolve(env["NOTIFY_LINE_CHANNEL_ACCESS_TOKEN"]) in (args.token or [DEFAULT_TOKEN])
    assert resolve(env["NOTIFY_SMS_API_KEY"]) in (args.api_key or [DEFAULT_API_KEY])
    assert resolve(env["NOTIFY_LINE_CHANNEL_SECRET"])
    assert service(compose, "notify")["depends_on"]["fakes"]["condition"] == "service_healthy"


def test_the_public_line_account_on_intake_answers_through_the_fake(compose: dict[str, Any]) -> None:
    env = environment(compose, "intake")
    line = urllib.parse.urlsplit(env["INTAKE_LINE_API_BASE_URL"])
    assert (line.scheme, line.hostname, line.port) == ("http", "fakes", fakes_args(compose).line_port)
    assert resolve(env["INTAKE_LINE_CHANNEL_ACCESS_TOKEN"]) in (fakes_args(compose).token or [DEFAULT_TOKEN])
    # Its own secret: a webhook signed for the responders' account must not open a case on the public's.
    assert resolve(env["INTAKE_LINE_CHANNEL_SECRET"]) == DEV_PUBLIC_LINE_CHANNEL_SECRET
    assert resolve(env["INTAKE_LINE_CHANNEL_SECRET"]) != resolve(environment(compose, "notify")[
        "NOTIFY_LINE_CHANNEL_SECRET"])
    assert service(compose, "intake")["depends_on"]["fakes"]["condition"] == "service_healthy"
