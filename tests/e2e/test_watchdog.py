"""The dead-man's switch on the real platform: every service sends heartbeats; the watchdog (its own process, no
database) pages the ops on-call's webhook when a service freezes or a consumer is stuck on a record, and again
when it recovers. The platform runs it with thresholds of seconds (tests/conftest.py); the defaults page within
about 75 s for a dead service and 2–3 minutes for a stuck one, inside the 5 minutes ops asked for."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable
from typing import Any

import asyncpg
import httpx
import pytest

from hotline_devstack import Platform
from hotline_devstack.webhook_sink import Received, WebhookSink
from tests.conftest import a_case, eventually, get_token

pytestmark = pytest.mark.e2e


def pages(pager: WebhookSink, since: float, service: str, problem: str, state: str) -> list[Received]:
    return [r for r in list(pager.received) if r.at >= since and r.body.get("service") == service
            and r.body.get("problem") == problem and r.body.get("state") == state]


async def paged(pager: WebhookSink, since: float, service: str, problem: str, state: str,
                timeout: float = 40) -> Received:
    found: Callable[[], list[Received]] = lambda: pages(pager, since, service, problem, state)  # noqa: E731
    return (await eventually(found, timeout=timeout))[0]


async def status(platform: Platform, service: str = "watchdog", path: str = "/v1/status") -> dict[str, Any]:
    token = await get_token(platform.url("registry"), "ops")
    async with httpx.AsyncClient(base_url=platform.url(service), timeout=10) as client:
        r = await client.get(path, headers={"Authorization": f"Bearer {token}"})
        r.raise_for_status()
        result: dict[str, Any] = r.json()
        return result


async def console_health(platform: Platform) -> dict[str, Any]:
    """What the ops console shows (and turns red by)."""
    return await status(platform, "ops", "/v1/health")


async def test_every_service_is_heard_and_nothing_is_paged_while_all_work(platform: Platform) -> None:
    async def all_heard() -> dict[str, Any] | None:
        s = await status(platform)
        return s if all(svc["instances"] and svc["ok"] for svc in s["services"].values()) else None

    s = await eventually(all_heard, timeout=30)
    assert set(s["services"]) == {"registry", "intake", "routing", "notify"}
    assert s["pager"] == ["webhook"]
    assert all(i["ready"] for svc in s["services"].values() for i in svc["instances"])

    async def console_green() -> dict[str, Any] | None:
        h = await console_health(platform)
        return h if h["ok"] else None

    h = await eventually(console_green, timeout=30)
    # The console watches the watchdog too.
    assert [s["service"] for s in h["services"]] == ["registry", "intake", "routing", "notify", "watchdog"]
    assert all(s["instances"] >= 1 for s in h["services"])


async def test_a_frozen_notify_pages_the_ops_on_call_and_its_recovery_is_announced(
        platform: Platform, ops_pager: WebhookSink) -> None:
    since = time.time()
    pid = platform.services["notify"].pid
    assert pid is not None
    os.kill(pid, signal.SIGSTOP)  # alive to the kernel, answering nothing: the hang a health check can miss
    try:
        page = await paged(ops_pager, since, "notify", "down", "raised")
        assert page.signature_ok
        seconds = page.at - since
        assert page.body["text"].startswith("⚠ 1300 watchdog: notify ไม่ตอบสนอง"), page.body["text"]
        s = await status(platform)
        assert not s["services"]["notify"]["ok"]
        assert any(a["service"] == "notify" and a["problem"] == "down" and a["paged"] for a in s["alarms"])

        # The ops console's red wall while it lasts: tests/browser/test_ops_console.py.
    finally:
        os.kill(pid, signal.SIGCONT)
    cleared = await paged(ops_pager, since, "notify", "down", "cleared")
    assert "กลับมาทำงานแล้ว" in cleared.body["text"]
    # Silent for 6 s since its last heartbeat (sent up to 1 s before the freeze), judged every second: paged well
    # within the 5 minutes asked for, and not before the threshold.
    assert 5 <= seconds < 30, seconds
    assert len(pages(ops_pager, since, "notify", "down", "raised")) == 1  # paged once, not at every check


async def test_a_consumer_stuck_on_a_lock_pages_as_stuck_while_the_process_still_answers(
        platform: Platform, platform_db: str, intake: httpx.AsyncClient, ops_pager: WebhookSink,
        sink: WebhookSink) -> None:
    since = time.time()
    locker = await asyncpg.connect(platform_db)
    try:
        tx = locker.transaction()
        await tx.start()
        # Routing's handler will wait on this lock: the process, its heartbeats and /readyz all look fine.
        await locker.execute("LOCK TABLE routing.decisions IN ACCESS EXCLUSIVE MODE")
        r = await intake.post("/v1/cases", json=a_case(description="ผู้สูงอายุอยู่ลำพัง ไม่มีอาหาร"))
        assert r.status_code == 201, r.text
        page = await paged(ops_pager, since, "routing", "stuck", "raised")
        assert "handler" in page.body["detail"]
        async with httpx.AsyncClient(timeout=5) as client:
            assert (await client.get(f"{platform.url('routing')}/readyz")).status_code == 200
        await tx.rollback()
    finally:
        await locker.close()
    await paged(ops_pager, since, "routing", "stuck", "cleared")
    # The case went on as soon as the lock was gone: its responder was alerted.
    await eventually(lambda: sink.for_case(r.json()["case_id"]), timeout=40)
