"""Outages of Kafka and PostgreSQL, on infrastructure this module starts (and stops) itself."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import asyncpg
import httpx
import pytest

from hotline_common.settings import DEV_WEBHOOK_SECRET
from hotline_devstack import DevstackError, KafkaBroker, Platform, PostgresCluster, cache_dir
from hotline_devstack.webhook_sink import WebhookSink
from tests.conftest import ARTIFACTS, a_case, eventually, get_token

pytestmark = pytest.mark.e2e


@dataclass
class OwnStack:
    kafka: KafkaBroker
    pg: PostgresCluster
    platform: Platform
    sink: WebhookSink
    token: str


@pytest.fixture(scope="module")
def own_stack() -> Iterator[OwnStack]:
    """A broker and a cluster this module may stop: the shared ones must stay up for the other tests."""
    state = cache_dir() / "test-outages"
    import shutil

    shutil.rmtree(state, ignore_errors=True)
    try:
        kafka = KafkaBroker(cache_dir(), port=29192, controller_port=29193, data_dir=state / "kafka",
                            log_file=ARTIFACTS / "logs" / "outage-kafka.log")
        pg = PostgresCluster(cache_dir(), port=25532, data_dir=state / "postgres",
                             log_file=ARTIFACTS / "logs" / "outage-postgres.log")
    except DevstackError as exc:
        pytest.fail(f"the outage tests start their own Kafka and PostgreSQL natively and could not: {exc}",
                    pytrace=False)
    sink = WebhookSink(DEV_WEBHOOK_SECRET).start()
    kafka.start()
    pg.start()
    platform = Platform(kafka_bootstrap=kafka.bootstrap_servers, admin_url=pg.admin_url,
                        log_dir=ARTIFACTS / "logs" / "outages", base_port=29000,
                        env={"DEMO_ALERT_WEBHOOK_URL": sink.url, "HOTLINE_ENV": "test"})
    try:
        platform.start()
        token = asyncio.run(get_token(platform.url("registry")))
        yield OwnStack(kafka, pg, platform, sink, token)
    finally:
        platform.stop()
        kafka.stop()
        pg.stop()
        sink.stop()


@pytest.fixture
async def client(own_stack: OwnStack) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=own_stack.platform.url("intake"), timeout=30,
                                 headers={"Authorization": f"Bearer {own_stack.token}"}) as c:
        yield c


async def test_cases_accepted_while_kafka_is_down_are_all_delivered_once(
    own_stack: OwnStack, client: httpx.AsyncClient
) -> None:
    await asyncio.to_thread(own_stack.kafka.stop)
    accepted = []
    for i in range(20):
        r = await client.post("/v1/cases", json=a_case(description=f"แจ้งระหว่าง Kafka ล่ม #{i}"))
        assert r.status_code == 201, r.text  # Kafka down delays publication; it never rejects a case
        accepted.append(r.json()["case_id"])
    ready = (await client.get("/readyz")).json()
    assert ready["kafka"] is False and ready["database"] is True
    await asyncio.sleep(2)
    assert not any(own_stack.sink.for_case(c) for c in accepted), "nothing can be delivered without Kafka"

    await asyncio.to_thread(own_stack.kafka.start)
    await eventually(lambda: all(own_stack.sink.for_case(c) for c in accepted), timeout=120, interval=0.5)
    for case_id in accepted:
        assert len(own_stack.sink.for_case(case_id)) == 1, case_id
    for case_id in accepted:
        # Intake hears routed and alert_sent on different topics, in either order; the timeline sorts them.
        async def timeline(case_id: str = case_id) -> list[str] | None:
            case = (await client.get(f"/v1/cases/{case_id}")).json()
            types = [e["type"] for e in case["timeline"]]
            return types if len(types) == 3 else None

        assert await eventually(timeline, timeout=30) == ["reported", "routed", "alert_sent"]


async def test_postgres_down_gives_503_with_retry_after_and_writes_nothing(
    own_stack: OwnStack, client: httpx.AsyncClient
) -> None:
    before = await _case_count(own_stack)
    await asyncio.to_thread(own_stack.pg.stop)
    try:
        r = await client.post("/v1/cases", json=a_case(description="แจ้งระหว่างฐานข้อมูลล่ม"))
        assert r.status_code == 503, r.text
        assert r.headers["Retry-After"] == "5"
        assert "nothing was saved" in r.json()["detail"]
        assert (await client.get("/readyz")).status_code == 503
    finally:
        await asyncio.to_thread(own_stack.pg.start)
    assert await _case_count(own_stack) == before

    async def accepted_again() -> bool:
        r = await client.post("/v1/cases", json=a_case(description="หลังฐานข้อมูลกลับมา"))
        return r.status_code == 201

    assert await eventually(accepted_again, timeout=60, interval=1.0)
    assert await _case_count(own_stack) == before + 1


async def _case_count(stack: OwnStack) -> int:
    conn = await asyncpg.connect(stack.pg.admin_url)
    try:
        return int(await conn.fetchval("SELECT count(*) FROM intake.cases"))
    finally:
        await conn.close()
