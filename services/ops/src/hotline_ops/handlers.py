"""Ops subscribers (durable group `hotline-ops`): the case topics become the urgent list and today's map.
Each event is applied once (its inbox claim in the same statement) and in any order relative to the other topics."""

from __future__ import annotations

from faststream import Context
from faststream.kafka import KafkaRouter

from hotline_common import topics
from hotline_common.events import (
    CaseAcknowledged,
    CaseDeclined,
    CaseEscalated,
    CaseReported,
    CaseResolved,
    CaseRouted,
    CaseUnroutable,
    CaseUrgencyRaised,
    ServiceHeartbeat,
    WatchdogAlarm,
)
from hotline_common.readmodel import ReadModel
from hotline_common.runtime import Runtime
from hotline_ops import geo, repository

router = KafkaRouter()
# One consumer per topic is plenty, taking batches: nothing waits on the ops console by the half second.
cases = ReadModel("ops")


@cases.on(topics.CASE_REPORTED)
async def on_case_reported(event: CaseReported, runtime: Runtime) -> None:
    tambon = geo.tambon_of(event.location)
    async with runtime.db.acquire() as conn:
        await repository.record_reported(conn, event, tambon_code=tambon, province_code=geo.province_of(tambon))


@cases.on(topics.CASE_ROUTED)
async def on_case_routed(event: CaseRouted, runtime: Runtime) -> None:
    async with runtime.db.acquire() as conn:
        await repository.record_routed(conn, event, province_code=geo.province_of(event.tambon_code))


@cases.on(topics.CASE_UNROUTABLE)
async def on_case_unroutable(event: CaseUnroutable, runtime: Runtime) -> None:
    async with runtime.db.acquire() as conn:
        await repository.record_unroutable(conn, event)


@cases.on(topics.CASE_URGENCY_RAISED)
async def on_case_urgency_raised(event: CaseUrgencyRaised, runtime: Runtime) -> None:
    async with runtime.db.acquire() as conn:
        await repository.record_urgency_raised(conn, event)


@cases.on(topics.CASE_DECLINED)
async def on_case_declined(event: CaseDeclined, runtime: Runtime) -> None:
    async with runtime.db.acquire() as conn:
        await repository.record_declined(conn, event)


@cases.on(topics.CASE_ESCALATED)
async def on_case_escalated(event: CaseEscalated, runtime: Runtime) -> None:
    async with runtime.db.acquire() as conn:
        await repository.record_escalated(conn, event)


@cases.on(topics.CASE_ACKNOWLEDGED)
async def on_case_acknowledged(event: CaseAcknowledged, runtime: Runtime) -> None:
    async with runtime.db.acquire() as conn:
        await repository.record_acknowledged(conn, event)


@cases.on(topics.CASE_RESOLVED)
async def on_case_resolved(event: CaseResolved, runtime: Runtime) -> None:
    async with runtime.db.acquire() as conn:
        await repository.record_resolved(conn, event)


# The services' health: read live without a group (each console process keeps its own board). Heartbeats from now
# on; the watchdog's alarms from the start of their small topic, so an alarm raised before a restart still shows.
@router.subscriber(topics.OPS_HEARTBEAT.name, auto_offset_reset="latest")
async def on_heartbeat(beat: ServiceHeartbeat, runtime: Runtime = Context()) -> None:
    runtime.extras["health"].heard(beat)


@router.subscriber(topics.OPS_ALARM.name, auto_offset_reset="earliest")
async def on_watchdog_alarm(alarm: WatchdogAlarm, runtime: Runtime = Context()) -> None:
    runtime.extras["health"].alarmed(alarm)
