"""A responder system that keeps failing: bounded retries, every attempt recorded, then alert.failed."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import asyncpg
import httpx
import pytest

from hotline_devstack.webhook_sink import WebhookSink
from tests.conftest import a_case, eventually

pytestmark = pytest.mark.e2e


@pytest.fixture
def failing_sink(sink: WebhookSink) -> Iterator[WebhookSink]:
    yield sink
    sink.status = 202


@pytest.mark.parametrize(("status", "attempts"), [
    pytest.param(503, 3, id="server-error-retried-to-the-limit"),
    pytest.param(410, 1, id="gone-is-permanent-no-retry"),
])
async def test_a_failing_webhook_is_retried_then_the_case_shows_alert_failed(
    intake: httpx.AsyncClient, failing_sink: WebhookSink, intake_db: asyncpg.Connection, status: int, attempts: int
) -> None:
    failing_sink.status = status
    r = await intake.post("/v1/cases", json=a_case(description="ทดสอบการแจ้งเตือนล้มเหลว"))
    assert r.status_code == 201
    case_id = r.json()["case_id"]

    async def failed() -> dict[str, object] | None:
        case = (await intake.get(f"/v1/cases/{case_id}")).json()
        return case if case["status"] == "alert_failed" else None

    case = await eventually(failed, timeout=30)
    [entry] = [e for e in case["timeline"] if e["type"] == "alert_failed"]  # type: ignore[index]
    assert entry["detail"]["attempts"] == attempts
    assert f"HTTP {status}" in entry["detail"]["error"]
    rows = await intake_db.fetch(
        "SELECT t.outcome, t.http_status FROM notify.attempts t JOIN notify.alerts a USING (alert_id) "
        "WHERE a.case_id = $1 ORDER BY t.at", uuid.UUID(case_id))
    assert [(row["outcome"], row["http_status"]) for row in rows] == [("failed", status)] * attempts
    assert failing_sink.for_case(case_id) == []  # nothing was counted as received
