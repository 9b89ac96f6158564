"""The ops console's state from the case topics, against real PostgreSQL: each event goes through the ops handler
itself (inbox claim and upsert in one statement), in whatever order the separate topics deliver them, and the
urgent list and today's counts are read back as the API reads them."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest

from hotline_common import db
from hotline_common.events import (
    CaseAcknowledged,
    CaseDeclined,
    CaseEscalated,
    CaseReported,
    CaseResolved,
    CaseRouted,
    CaseUnroutable,
    CaseUrgencyRaised,
    Category,
    Channel,
    Location,
    Priority,
    ResolveOutcome,
    TargetGroup,
)
from hotline_common.events.base import CaseEvent
from hotline_common.thai_time import start_of_day
from hotline_ops import handlers, repository
from hotline_ops.app import MIGRATIONS
from hotline_ops.urgent import waiting_case
from tests.infra import Infra

pytestmark = pytest.mark.integration

T0 = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)  # 09:00 in Bangkok
CENTER = uuid.uuid4()
HANDLER = {CaseReported: handlers.on_case_reported, CaseRouted: handlers.on_case_routed,
           CaseUnroutable: handlers.on_case_unroutable, CaseUrgencyRaised: handlers.on_case_urgency_raised,
           CaseDeclined: handlers.on_case_declined, CaseEscalated: handlers.on_case_escalated,
           CaseAcknowledged: handlers.on_case_acknowledged, CaseResolved: handlers.on_case_resolved}


@dataclass
class FakeRuntime:
    """What the handlers use of the runtime: the service's pool."""

    pool: asyncpg.Pool

    @property
    def db(self) -> asyncpg.Pool:
        return self.pool


@dataclass
class Case:
    """One case's events, as intake, routing and notify would publish them."""

    runtime: FakeRuntime
    case_id: uuid.UUID
    number: str

    def reported(self, *, urgency: Priority | None = Priority.P1, at: datetime = T0,
                 location: Location | None = None) -> CaseReported:
        return CaseReported(case_id=self.case_id, case_number=self.number, occurred_at=at, channel=Channel.hotline,
                            category=Category.domestic_violence, target_group=TargetGroup.woman, urgency=urgency,
                            description="สามีทำร้ายร่างกาย", location=location or Location(tambon_code="570511"))

    def routed(self, *, attempt: int = 1, at: datetime = T0 + timedelta(seconds=1), priority: Priority = Priority.P1,
               window: timedelta = timedelta(minutes=15), center: str = "ศูนย์ช่วยเหลือสังคมตำบลสันกลาง",
               tambon: str = "570511", reprioritised_from: Priority | None = None) -> CaseRouted:
        return CaseRouted(case_id=self.case_id, case_number=self.number, occurred_at=at, priority=priority,
                          category=Category.domestic_violence, target_group=TargetGroup.woman, tambon_code=tambon,
                          center_id=CENTER, center_name_th=center, center_tambon_code=tambon, distance_km=0.0,
                          rule="own_tambon", reported_event_id=uuid.uuid4(), ack_deadline=at + window,
                          attempt=attempt, reprioritised_from=reprioritised_from)

    def acknowledged(self, routed: CaseRouted, *, at: datetime) -> CaseAcknowledged:
        return CaseAcknowledged(case_id=self.case_id, case_number=self.number, occurred_at=at,
                                responder_id=uuid.uuid4(), center_id=CENTER, routed_event_id=routed.event_id,
                                via="page", seconds_to_acknowledge=(at - routed.occurred_at).total_seconds())

    def declined(self, *, at: datetime) -> CaseDeclined:
        return CaseDeclined(case_id=self.case_id, case_number=self.number, occurred_at=at, center_id=CENTER)

    async def deliver(self, *events: CaseEvent) -> None:
        for event in events:
            await HANDLER[type(event)](event, runtime=self.runtime)

    async def waiting(self, now: datetime = T0 + timedelta(minutes=5)) -> dict[str, Any] | None:
        async with self.runtime.pool.acquire() as conn:
            rows = await repository.waiting_cases(conn, limit=1000)
        mine = [waiting_case(row, now) for row in rows if row["case_id"] == self.case_id]
        return mine[0].model_dump() if mine else None


@pytest.fixture
async def runtime(infra: Infra) -> AsyncIterator[FakeRuntime]:
    schema = f"test_ops_{uuid.uuid4().hex[:10]}"
    pool = await db.create_pool(infra.admin_url, schema=schema, max_size=2)
    try:
        await db.migrate(pool, schema=schema, directory=MIGRATIONS)
        yield FakeRuntime(pool)
    finally:
        async with pool.acquire() as conn:
            await conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
        await pool.close()


def new_case(runtime: FakeRuntime) -> Case:
    return Case(runtime, uuid.uuid4(), f"1300-2569-{uuid.uuid4().int % 10**6:06d}")


async def test_a_p1_waits_from_its_report_and_leaves_the_list_once_acknowledged(runtime: FakeRuntime) -> None:
    case = new_case(runtime)
    await case.deliver(case.reported())
    waiting = await case.waiting()
    assert waiting is not None and waiting["stage"] == "not_routed" and waiting["ack_deadline"] is None
    assert waiting["priority"] == "P1" and waiting["province_th"] == "เชียงราย"
    routed = case.routed()
    await case.deliver(routed)
    waiting = await case.waiting(now=T0 + timedelta(minutes=16))
    assert waiting is not None and waiting["stage"] == "waiting"
    assert waiting["ack_deadline"] == routed.ack_deadline and waiting["breached"]
    assert waiting["center_name_th"] == "ศูนย์ช่วยเหลือสังคมตำบลสันกลาง"
    await case.deliver(case.acknowledged(routed, at=T0 + timedelta(minutes=3)))
    assert await case.waiting() is None


@pytest.mark.parametrize("order", list(itertools.permutations(range(3))))
async def test_the_topics_may_deliver_in_any_order(runtime: FakeRuntime, order: tuple[int, ...]) -> None:
    case = new_case(runtime)
    routed = case.routed()
    events = [case.reported(), routed, case.acknowledged(routed, at=T0 + timedelta(minutes=2))]
    await case.deliver(*(events[i] for i in order))
    assert await case.waiting() is None
    async with runtime.pool.acquire() as conn:
        row = await conn.fetchrow("SELECT priority, province_code, reported_at FROM cases WHERE case_id = $1",
                                  case.case_id)
    assert dict(row) == {"priority": "P1", "province_code": "57", "reported_at": T0}


@pytest.mark.parametrize("order", list(itertools.permutations(range(4))))
async def test_a_declined_case_waits_again_for_the_next_centers_acknowledgement_in_any_order(
        runtime: FakeRuntime, order: tuple[int, ...]) -> None:
    case = new_case(runtime)
    first = case.routed()
    second = case.routed(attempt=2, at=T0 + timedelta(minutes=4), center="ศูนย์ช่วยเหลือสังคมตำบลเมืองพาน")
    events = [first, case.declined(at=T0 + timedelta(minutes=3)), second,
              # the first center's acknowledgement before it declined (a mistaken tap it took back)
              case.acknowledged(first, at=T0 + timedelta(minutes=2))]
    await case.deliver(case.reported(), *(events[i] for i in order))
    waiting = await case.waiting()
    assert waiting is not None, "the next center has not acknowledged yet"
    assert (waiting["stage"], waiting["center_name_th"]) == ("waiting", "ศูนย์ช่วยเหลือสังคมตำบลเมืองพาน")
    assert waiting["ack_deadline"] == second.ack_deadline
    await case.deliver(case.acknowledged(second, at=T0 + timedelta(minutes=6)))
    assert await case.waiting() is None


async def test_a_redelivered_event_changes_nothing(runtime: FakeRuntime) -> None:
    case = new_case(runtime)
    routed = case.routed()
    ack = case.acknowledged(routed, at=T0 + timedelta(minutes=2))
    await case.deliver(case.reported(), routed, ack)
    later = case.routed(attempt=2, at=T0 + timedelta(minutes=4))  # re-routed after the acknowledgement
    await case.deliver(later)
    assert await case.waiting() is not None
    await case.deliver(ack)  # the old acknowledgement again: already processed, it must not close the new routing
    assert await case.waiting() is not None
    async with runtime.pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM inbox") == 4


async def test_raising_the_urgency_never_reopens_an_acknowledged_case_and_never_lowers_priority(
        runtime: FakeRuntime) -> None:
    case = new_case(runtime)
    routed = case.routed(priority=Priority.P3, window=timedelta(hours=24))
    await case.deliver(case.reported(urgency=Priority.P3), routed)
    assert await case.waiting() is None  # P3 is not on the urgent list
    raised_at = T0 + timedelta(minutes=10)
    await case.deliver(CaseUrgencyRaised(case_id=case.case_id, case_number=case.number, urgency=Priority.P1,
                                         reason_code="operator", channel=Channel.hotline, occurred_at=raised_at))
    waiting = await case.waiting(now=raised_at)
    assert waiting is not None and waiting["priority"] == "P1"
    raised = case.routed(attempt=2, at=raised_at, priority=Priority.P1, reprioritised_from=Priority.P3)
    await case.deliver(raised)
    waiting = await case.waiting(now=raised_at)
    assert waiting is not None and waiting["ack_deadline"] == raised.ack_deadline  # the earlier deadline
    await case.deliver(case.acknowledged(routed, at=raised_at + timedelta(minutes=1)))
    assert await case.waiting() is None
    # A re-prioritisation after the acknowledgement: the responder keeps the case.
    again = case.routed(attempt=3, at=raised_at + timedelta(minutes=2), priority=Priority.P2,
                        reprioritised_from=Priority.P1)
    await case.deliver(again)
    assert await case.waiting() is None
    async with runtime.pool.acquire() as conn:
        assert await conn.fetchval("SELECT priority FROM cases WHERE case_id = $1", case.case_id) == "P1"


async def test_unroutable_escalated_and_resolved(runtime: FakeRuntime) -> None:
    lost, escalated, resolved = new_case(runtime), new_case(runtime), new_case(runtime)
    await lost.deliver(lost.reported(urgency=Priority.P2), CaseUnroutable(
        case_id=lost.case_id, case_number=lost.number, reason="no place", reported_event_id=uuid.uuid4(),
        occurred_at=T0 + timedelta(seconds=1)))
    assert (await lost.waiting() or {}).get("stage") == "unroutable"
    await escalated.deliver(escalated.reported(), escalated.routed(), CaseEscalated(
        case_id=escalated.case_id, case_number=escalated.number, level=2, occurred_at=T0 + timedelta(minutes=16)))
    assert (await escalated.waiting() or {}).get("stage") == "escalated"
    await resolved.deliver(resolved.reported(), CaseResolved(
        case_id=resolved.case_id, case_number=resolved.number, responder_id=uuid.uuid4(),
        outcome=ResolveOutcome.advice_given, via="api", occurred_at=T0 + timedelta(minutes=1)))
    assert await resolved.waiting() is None


async def test_today_counts_bangkok_days_by_province_and_places_free_text_once_routed(
        runtime: FakeRuntime) -> None:
    day = T0.date()
    start = start_of_day(day)
    chiang_rai, bangkok_late, yesterday, text = (new_case(runtime) for _ in range(4))
    await chiang_rai.deliver(chiang_rai.reported(at=start + timedelta(hours=1)))
    await bangkok_late.deliver(bangkok_late.reported(at=start + timedelta(hours=23, minutes=59),
                                                     location=Location(tambon_code="100101")))
    await yesterday.deliver(yesterday.reported(at=start - timedelta(minutes=1),
                                               location=Location(tambon_code="100101")))
    await text.deliver(text.reported(at=start + timedelta(hours=2), location=Location(text="ต.สันกลาง อ.พาน")))
    async with runtime.pool.acquire() as conn:
        counts = await repository.reported_by_province(conn, start, start + timedelta(days=1))
    assert counts == {"57": 1, "10": 1, None: 1}
    await text.deliver(text.routed(at=start + timedelta(hours=2, seconds=1)))
    async with runtime.pool.acquire() as conn:
        counts = await repository.reported_by_province(conn, start, start + timedelta(days=1))
    assert counts == {"57": 2, "10": 1}
