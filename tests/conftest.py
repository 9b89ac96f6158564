"""Shared fixtures: real infrastructure, the whole platform as processes, a webhook receiver, API helpers."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from aiokafka import AIOKafkaConsumer

from hotline_common.settings import DEV_DEMO_PASSWORD, DEV_WEBHOOK_SECRET
from hotline_devstack import Platform
from hotline_devstack.services import SERVICES
from hotline_devstack.webhook_sink import WebhookSink
from hotline_fakes.line import FakeLine
from hotline_fakes.serve import serve
from tests.infra import ROOT, Infra, locate_infra, provision_database

ARTIFACTS = ROOT / "test-artifacts"
TRACES = ARTIFACTS / "traces"
LINE_SECRET = "test-line-channel-secret"  # of the public's 1300 LINE account, as intake knows it
LINE_TOKEN = "test-line-channel-access-token"


@pytest.fixture(scope="session")
def infra() -> Iterator[Infra]:
    found, containers = locate_infra()
    yield found
    for c in containers:
        c.stop()  # type: ignore[attr-defined]


@pytest.fixture(scope="session")
def sink() -> Iterator[WebhookSink]:
    s = WebhookSink(DEV_WEBHOOK_SECRET).start()
    yield s
    s.stop()


OPS_PAGER_SECRET = "test-ops-pager-secret"


@pytest.fixture(scope="session")
def ops_pager() -> Iterator[WebhookSink]:
    """The ops on-call's pager webhook, which the watchdog calls (tests/e2e/test_watchdog.py)."""
    s = WebhookSink(OPS_PAGER_SECRET).start()
    yield s
    s.stop()


@pytest.fixture(scope="session")
async def platform_db(infra: Infra) -> str:
    """A database of this session's own, so runs never see each other's cases or demo data."""
    return await provision_database(infra.admin_url)


@pytest.fixture(scope="session")
def line_api() -> Iterator[tuple[FakeLine, str]]:
    """The LINE Messaging API intake answers the public through: the local fake, with its base URL."""
    fake = FakeLine([LINE_TOKEN])
    with serve(fake.app) as url:
        yield fake, url


@pytest.fixture(scope="session")
def platform(infra: Infra, platform_db: str, sink: WebhookSink, line_api: tuple[FakeLine, str],
             ops_pager: WebhookSink) -> Iterator[Platform]:
    shutil.rmtree(TRACES, ignore_errors=True)  # this run's spans only
    p = Platform(kafka_bootstrap=infra.kafka_bootstrap, admin_url=platform_db, log_dir=ARTIFACTS / "logs",
                 base_port=int(os.environ.get("TEST_BASE_PORT", "28000")),
                 env={"DEMO_ALERT_WEBHOOK_URL": sink.url, "HOTLINE_ENV": "test",
                      # Short retries, so the failure path is seen in seconds, not minutes.
                      "NOTIFY_ATTEMPTS_PER_CHANNEL": "3", "NOTIFY_RETRY_BASE_SECONDS": "0.2",
                      "NOTIFY_RETRY_CAP_SECONDS": "0.5",
                      # The public's LINE account on intake, against the fake; a per-user rate of 10 per 2 s
                      # so a burst is seen slowed down (and all handled) in seconds.
                      "INTAKE_LINE_CHANNEL_SECRET": LINE_SECRET, "INTAKE_LINE_CHANNEL_ACCESS_TOKEN": LINE_TOKEN,
                      "INTAKE_LINE_API_BASE_URL": line_api[1], "INTAKE_LINE_USER_MESSAGES": "10",
                      "INTAKE_LINE_USER_WINDOW_SECONDS": "2",
                      # The crash test reports 200 cases in a few seconds as one operator; the brake on a fast
                      # account is proven by tests/unit/test_throttle.py.
                      "INTAKE_REPORT_RATE": "100000/minute",
                      # Heartbeats every second and a watchdog that judges every second with thresholds of a few
                      # seconds: tests/e2e/test_watchdog.py sees a page in seconds (the defaults take minutes).
                      "HEARTBEAT_SECONDS": "1", "WATCHDOG_CHECK_SECONDS": "1", "WATCHDOG_MISSING_AFTER_SECONDS": "6",
                      "WATCHDOG_STUCK_AFTER_SECONDS": "5", "WATCHDOG_LAG_WINDOW_SECONDS": "8",
                      "WATCHDOG_OPS_WEBHOOK_URL": ops_pager.url, "WATCHDOG_OPS_WEBHOOK_SECRET": OPS_PAGER_SECRET,
                      # The ops console judges the same way, with the same short thresholds.
                      "OPS_MISSING_AFTER_SECONDS": "6", "OPS_STUCK_AFTER_SECONDS": "5",
                      "OPS_LAG_WINDOW_SECONDS": "8"},
                 # Each service's finished spans, for the trace-continuity test (and for reading after a failure).
                 service_env={name: {"OTEL_TRACES_FILE": str(TRACES / f"{name}.jsonl")} for name, _ in SERVICES})
    try:
        p.start()
    except Exception:
        p.stop()
        raise
    yield p
    p.stop()


async def get_token(registry_url: str, username: str = "operator", password: str = DEV_DEMO_PASSWORD) -> str:
    async with httpx.AsyncClient(base_url=registry_url, timeout=10) as client:
        r = await client.post("/v1/auth/token", data={"username": username, "password": password})
        r.raise_for_status()
        return str(r.json()["access_token"])


@pytest.fixture(scope="session")
async def operator_token(platform: Platform) -> str:
    return await get_token(platform.url("registry"))


@pytest.fixture
async def intake(platform: Platform, operator_token: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=platform.url("intake"), timeout=30,
                                 headers={"Authorization": f"Bearer {operator_token}"}) as client:
        yield client


@pytest.fixture
async def intake_db(platform_db: str) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(platform_db)
    yield conn
    await conn.close()


def a_case(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "channel": "hotline",
        "category": "domestic_violence",
        "target_group": "woman",
        "description": "ผู้แจ้งเล่าว่าสามีทำร้ายร่างกายทุกคืน ต้องการความช่วยเหลือ",
        "urgency": "P2",
        "location": {"tambon_code": "570511"},  # ต.สันกลาง อ.พาน จ.เชียงราย
        "caller": {"name": "สมศรี ใจดี", "phone": "0812345678"},
    }
    body.update(overrides)
    return body


async def eventually(check: Callable[[], Any], *, timeout: float = 30.0, interval: float = 0.2) -> Any:
    """Poll an (async) check until it returns something truthy; the last value is in the failure."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = check()
        if asyncio.iscoroutine(last):
            last = await last
        if last:
            return last
        await asyncio.sleep(interval)
    raise AssertionError(f"condition not met within {timeout}s; last value: {last!r}")


def artifact_path(name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS / name


async def published(bootstrap: str, topic: str, key: str, *, timeout: float = 30.0) -> list[dict[str, Any]]:
    """The JSON payloads published on `topic` under `key` (a case id), read from the beginning; waits for one."""
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=None, auto_offset_reset="earliest",
                                enable_auto_commit=False)
    await consumer.start()
    found: list[dict[str, Any]] = []
    try:
        deadline = time.monotonic() + timeout
        while not found and time.monotonic() < deadline:
            batches = await consumer.getmany(timeout_ms=500)
            for records in batches.values():
                found += [json.loads(r.value) for r in records if r.key == key.encode() and r.value]
    finally:
        await consumer.stop()
    return found
