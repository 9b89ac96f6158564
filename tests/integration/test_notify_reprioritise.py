"""Notify and a re-prioritised routing (`CaseRouted.reprioritised_from`), against real PostgreSQL: each step runs as
the Kafka handler runs it (inbox claim and workflow in one transaction), and what it left in notify's tables is read
back. Nobody acknowledged yet: the unit is alerted again, "urgent", towards the earlier deadline. Acknowledged: the
responder keeps the case, is told, and the visit deadline shortens. The first alert's links keep working while the
case stays with the unit, and stop once it moves."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import asyncpg
import pytest

from hotline_common import db, outbox, topics
from hotline_common.events import (
    CaseRouted,
    Category,
    Priority,
    ResolveOutcome,
    ResponderRecord,
    TargetGroup,
)
from hotline_common.events.base import utcnow
from hotline_common.events.registry import AlertChannel
from hotline_notify import escalation, repository
from hotline_notify.alerts import alert_id_for, item_for
from hotline_notify.app import MIGRATIONS
from hotline_notify.config import NotifySettings
from hotline_notify.links import Links
from hotline_notify.oncall import Directory
from hotline_notify.workflow import ActionRefused, Workflow, alert_still_current
from tests.infra import Infra

pytestmark = pytest.mark.integration

CENTER_A, CENTER_B, AGENCY = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
HOTLINE_UNIT = uuid.uuid4()
SETTINGS = NotifySettings(clock_scale=1.0, visit_hours_p1=4, visit_hours_p3=72, default_escalation_minutes=15,
                          hotline_unit_id=HOTLINE_UNIT)


def responder(name: str, unit: uuid.UUID) -> ResponderRecord:
    return ResponderRecord(responder_id=uuid.uuid4(), display_name=name, kind="volunteer", center_ids=[unit],
                           channels=[AlertChannel(kind="webhook", address=f"https://unit.example.go.th/{name}",
                                                  secret_ref="demo")])


SOMCHAI, MALEE = responder("somchai", CENTER_A), responder("malee", CENTER_A)  # center A, no rota: both on call
NIRAN = responder("niran", CENTER_B)


@dataclass
class Notify:
    pool: asyncpg.Pool
    workflow: Workflow
    case_id: uuid.UUID

    def routed(self, center: uuid.UUID, *, attempt: int = 1, priority: Priority = Priority.P3,
               deadline: timedelta = timedelta(minutes=60), reprioritised_from: Priority | None = None) -> CaseRouted:
        return CaseRouted(
            case_id=self.case_id, case_number="1300-2569-000777", category=Category.domestic_violence,
            target_group=TargetGroup.woman, priority=priority, tambon_code="570511", center_id=center,
            center_name_th="ศูนย์ช่วยเหลือสังคมตำบลสันกลาง", center_tambon_code="570511", distance_km=0.0,
            rule="own_tambon", reported_event_id=uuid.uuid4(), agency_id=AGENCY, agency_type="pmj",
            agency_name_th="สนง.พมจ.เชียงราย", ack_deadline=utcnow() + deadline, attempt=attempt,
            reprioritised_from=reprioritised_from)

    async def deliver(self, routed: CaseRouted) -> datetime | None:
        """As notify's handler: claim the event once, run the step, in one transaction."""
        async with self.pool.acquire() as conn, conn.transaction():
            if not await outbox.claim_once(conn, routed.event_id, topics.CASE_ROUTED.name):
                return None
            return await self.workflow.start(conn, routed)

    async def act(self, action: str, who: ResponderRecord, routed_event_id: uuid.UUID | None, **kw: Any) -> Any:
        async with self.pool.acquire() as conn, conn.transaction():
            return await getattr(self.workflow, action)(conn, self.case_id, responder_id=who.responder_id,
                                                        via="page", routed_event_id=routed_event_id, **kw)

    async def case(self) -> asyncpg.Record:
        async with self.pool.acquire() as conn:
            found = await repository.get_case(conn, self.case_id)
        assert found is not None
        return found

    async def alerts(self, routed: CaseRouted | None = None) -> list[asyncpg.Record]:
        async with self.pool.acquire() as conn:
            return list(await conn.fetch(
                "SELECT * FROM alerts WHERE case_id = $1 AND ($2::uuid IS NULL OR routed_event_id = $2) "
                "ORDER BY created_at, responder_id", self.case_id, routed.event_id if routed else None))

    async def timers(self) -> list[asyncpg.Record]:
        async with self.pool.acquire() as conn:
            return list(await conn.fetch("SELECT * FROM timers WHERE case_id = $1 ORDER BY timer_id", self.case_id))

    async def published(self, topic: str) -> list[dict[str, Any]]:
        async with self.pool.acquire() as conn:
            rows = await conn.fetch("SELECT payload FROM outbox WHERE topic = $1 ORDER BY id", topic)
        return [json.loads(r["payload"]) for r in rows]


@pytest.fixture
async def notify(infra: Infra) -> AsyncIterator[Notify]:
    schema = f"test_notify_{uuid.uuid4().hex[:10]}"
    pool = await db.create_pool(infra.admin_url, schema=schema, max_size=2)
    directory = Directory(HOTLINE_UNIT)
    for person in (SOMCHAI, MALEE, NIRAN):
        directory.apply_responder(str(person.responder_id), person)
    try:
        await db.migrate(pool, schema=schema, directory=MIGRATIONS)
        yield Notify(pool, Workflow(settings=SETTINGS, directory=directory, source="test", instance="test"),
                     uuid.uuid4())
    finally:
        async with pool.acquire() as conn:
            await conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
        await pool.close()


def urgent_ids(routed: CaseRouted, *people: ResponderRecord) -> set[uuid.UUID]:
    return {alert_id_for(routed.event_id, p.responder_id, 0, "urgent") for p in people}


@pytest.mark.parametrize("status", ["alerting", "unacknowledged"])
async def test_nobody_acknowledged_yet_the_unit_is_alerted_again_as_urgent_towards_the_earlier_deadline(
        notify: Notify, status: str) -> None:
    first = notify.routed(CENTER_A)
    await notify.deliver(first)
    if status == "unacknowledged":  # the policy ran out before anyone answered
        async with notify.pool.acquire() as conn:
            await repository.set_step(conn, notify.case_id, step=3, level=2, status="unacknowledged")
    raised = notify.routed(CENTER_A, attempt=2, priority=Priority.P1, deadline=timedelta(minutes=15),
                           reprioritised_from=Priority.P3)

    due = await notify.deliver(raised)

    assert [a["status"] for a in await notify.alerts(first)] == ["cancelled", "cancelled"]
    new = await notify.alerts(raised)
    assert {a["alert_id"] for a in new} == urgent_ids(raised, SOMCHAI, MALEE)
    assert {(a["kind"], a["step"], a["level"], a["status"], a["payload"]["priority"]) for a in new} == {
        ("urgent", 0, 1, "pending", "P1")}
    expected = escalation.first_escalation_at(raised.occurred_at, raised.ack_deadline, SETTINGS.clock_scale)
    old_timer, new_timer = await notify.timers()
    assert (old_timer["routed_event_id"], old_timer["state"]) == (first.event_id, "cancelled")
    assert (new_timer["routed_event_id"], new_timer["kind"], new_timer["step"], new_timer["state"]) == (
        raised.event_id, "escalate", 1, "pending")
    assert new_timer["fire_at"] == due == expected and expected < old_timer["fire_at"]
    case = await notify.case()
    assert (case["routed_event_id"], case["attempt"], case["priority"], case["status"], case["step"],
            case["level"], case["ack_deadline"]) == (raised.event_id, 2, "P1", "alerting", 0, 1, expected)
    assert case["routed_at"] == first.occurred_at  # time to acknowledge still counts from the first routing


async def test_an_acknowledged_case_stays_with_its_responder_who_alone_is_told_and_must_visit_sooner(
        notify: Notify) -> None:
    first = notify.routed(CENTER_A)
    await notify.deliver(first)
    await notify.act("acknowledge", SOMCHAI, first.event_id)
    taken = await notify.case()
    raised = notify.routed(CENTER_A, attempt=2, priority=Priority.P1, deadline=timedelta(minutes=15),
                           reprioritised_from=Priority.P3)

    before = utcnow()
    due = await notify.deliver(raised)
    after = utcnow()

    case = await notify.case()
    assert (case["status"], case["acknowledged_by"], case["acknowledged_at"]) == (
        "acknowledged", SOMCHAI.responder_id, taken["acknowledged_at"])
    assert (case["routed_event_id"], case["attempt"], case["priority"]) == (raised.event_id, 2, "P1")
    assert case["ack_deadline"] == escalation.first_escalation_at(raised.occurred_at, raised.ack_deadline, 1.0)
    # P3's 72 hours became P1's 4 from now.
    assert before + timedelta(hours=4) <= case["visit_deadline"] <= after + timedelta(hours=4)
    assert case["visit_deadline"] < taken["visit_deadline"] and due == case["visit_deadline"]
    reminders = [(t["routed_event_id"], t["step"], t["state"], t["fire_at"]) for t in await notify.timers()
                 if t["kind"] == "visit_reminder"]
    assert reminders == [(first.event_id, 1, "cancelled", taken["visit_deadline"]),
                         (raised.event_id, 1, "pending", case["visit_deadline"])]
    [told] = await notify.alerts(raised)
    assert told["alert_id"] == alert_id_for(raised.event_id, SOMCHAI.responder_id, 0, "urgent")
    assert (told["responder_id"], told["kind"], told["status"]) == (SOMCHAI.responder_id, "urgent", "pending")
    assert told["payload"]["priority"] == "P1"
    item = item_for(dict(told), Links("secret", "https://hotline.example.go.th", 3600))
    assert item.priority == "P1" and item.visit_deadline_th and item.urgent_line == f"ด่วนขึ้น P1 {item.deadline_th}"
    assert item.ack_deadline_th is None  # acknowledged: the visit deadline is the one that counts


async def test_a_redelivered_or_older_re_prioritisation_changes_nothing(notify: Notify) -> None:
    first = notify.routed(CENTER_A)
    await notify.deliver(first)
    raised = notify.routed(CENTER_A, attempt=3, priority=Priority.P1, reprioritised_from=Priority.P3)
    await notify.deliver(raised)
    case, alerts, timers = await notify.case(), await notify.alerts(), await notify.timers()

    assert await notify.deliver(raised) is None  # Kafka redelivers: the inbox says it was done
    same_attempt = raised.model_copy(update={"event_id": uuid.uuid4()})
    older = notify.routed(CENTER_A, attempt=2, priority=Priority.P2, reprioritised_from=Priority.P3)
    async with notify.pool.acquire() as conn, conn.transaction():
        for late in (same_attempt, older):  # the workflow itself refuses anything not newer
            assert await notify.workflow.start(conn, late) is None

    assert (await notify.case(), await notify.alerts(), await notify.timers()) == (case, alerts, timers)


@pytest.mark.parametrize("status", ["declined", "resolved"])
async def test_a_declined_or_resolved_case_ignores_a_re_prioritisation(notify: Notify, status: str) -> None:
    first = notify.routed(CENTER_A)
    await notify.deliver(first)
    if status == "declined":  # routing re-routes it, with the new priority
        await notify.act("decline", MALEE, first.event_id, reason="ไม่มีเจ้าหน้าที่ว่าง")
    else:
        await notify.act("acknowledge", SOMCHAI, first.event_id)
        await notify.act("resolve", SOMCHAI, first.event_id, outcome=ResolveOutcome.helped_on_site)
    case, alerts, timers = await notify.case(), await notify.alerts(), await notify.timers()

    await notify.deliver(notify.routed(CENTER_A, attempt=2, priority=Priority.P1, reprioritised_from=Priority.P3))

    assert (await notify.case(), await notify.alerts(), await notify.timers()) == (case, alerts, timers)
    assert case["status"] == status and case["priority"] == "P3"


async def test_the_first_alerts_link_still_acknowledges_after_a_re_prioritisation(notify: Notify) -> None:
    first = notify.routed(CENTER_A)
    await notify.deliver(first)
    raised = notify.routed(CENTER_A, attempt=2, priority=Priority.P1, reprioritised_from=Priority.P3)
    await notify.deliver(raised)
    [old] = [a for a in await notify.alerts(first) if a["responder_id"] == MALEE.responder_id]

    assert alert_still_current(await notify.case(), old["routed_event_id"], old["center_id"])  # what the page asks
    outcome = await notify.act("acknowledge", MALEE, first.event_id)

    assert (outcome.done, outcome.status) == (True, "acknowledged")
    case = await notify.case()
    assert (case["acknowledged_by"], case["routed_event_id"]) == (MALEE.responder_id, raised.event_id)
    [acknowledged] = await notify.published(topics.CASE_ACKNOWLEDGED.name)
    assert acknowledged["routed_event_id"] == str(raised.event_id)
    assert {a["status"] for a in await notify.alerts(raised)} == {"cancelled"}  # the urgent alerts stop too


async def test_an_alert_from_a_center_the_case_left_is_refused_as_moved(notify: Notify) -> None:
    first = notify.routed(CENTER_A)
    await notify.deliver(first)
    await notify.deliver(notify.routed(CENTER_A, attempt=2, priority=Priority.P2, reprioritised_from=Priority.P3))
    # Center A's first alert still acts for A: it declines, and routing sends the case on to center B.
    await notify.act("decline", SOMCHAI, first.event_id, reason="ไม่มีเจ้าหน้าที่ว่าง")
    moved = notify.routed(CENTER_B, attempt=3, priority=Priority.P2)
    await notify.deliver(moved)
    [old] = [a for a in await notify.alerts(first) if a["responder_id"] == MALEE.responder_id]
    [niran] = await notify.alerts(moved)

    case = await notify.case()
    assert not alert_still_current(case, old["routed_event_id"], old["center_id"])
    assert alert_still_current(case, niran["routed_event_id"], niran["center_id"])
    for action, kw in (("acknowledge", {}), ("decline", {"reason": "ขอส่งคืน"})):
        with pytest.raises(ActionRefused) as refused:
            await notify.act(action, MALEE, first.event_id, **kw)
        assert refused.value.code == "moved"
    assert (await notify.act("acknowledge", NIRAN, moved.event_id)).status == "acknowledged"


async def test_a_re_prioritisation_for_a_unit_the_case_has_left_is_a_routing_there(notify: Notify) -> None:
    first = notify.routed(CENTER_A)
    await notify.deliver(first)
    elsewhere = notify.routed(CENTER_B, attempt=2, priority=Priority.P1, reprioritised_from=Priority.P3)

    await notify.deliver(elsewhere)

    assert {a["status"] for a in await notify.alerts(first)} == {"cancelled"}
    [niran] = await notify.alerts(elsewhere)
    assert (niran["responder_id"], niran["kind"]) == (NIRAN.responder_id, "new")
    case = await notify.case()
    assert (case["center_id"], case["priority"], case["status"], case["routed_at"]) == (
        CENTER_B, "P1", "alerting", elsewhere.occurred_at)
