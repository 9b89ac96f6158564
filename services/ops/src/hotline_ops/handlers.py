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
from hotline_common.kafka import consumer_options
from hotline_common.runtime import Runtime
from hotline_ops import geo, repository

router = KafkaRouter()
# One consumer per topic is plenty, fetching in bulk: nothing waits on the ops console by the half second.
OPTIONS = consumer_options("ops", read_model=True)


@router.subscriber(topics.CASE_REPORTED.name, **OPTIONS)
async def on_case_reported(event: CaseReported, runtime: Runtime = Context()) -> None:
    tambon = geo.tambon_of(event.location)
    async with runtime.db.acquire() as conn:
        await repository.record_reported(conn, event, tambon_code=tambon, province_code=geo.province_of(tambon))


@router.subscriber(topics.CASE_ROUTED.name, **OPTIONS)
async def on_case_routed(event: CaseRouted, runtime: Runtime = Context()) -> None:
    async with runtime.db.acquire() as conn:
        await repository.record_routed(conn, event, province_code=geo.province_of(event.tambon_code))


@router.subscriber(topics.CASE_UNROUTABLE.name, **OPTIONS)
async def on_case_unroutable(event: CaseUnroutable, runtime: Runtime = Context()) -> None:
    async with runtime.db.acquire() as conn:
        await repository.record_unroutable(conn, event)


@router.subscriber(topics.CASE_URGENCY_RAISED.name, **OPTIONS)
async def on_case_urgency_raised(event: CaseUrgencyRaised, runtime: Runtime = Context()) -> None:
    async with runtime.db.acquire() as conn:
        await repository.record_urgency_raised(conn, event)


@router.subscriber(topics.CASE_DECLINED.name, **OPTIONS)
async def on_case_declined(event: CaseDeclined, runtime: Runtime = Context()) -> None:
    async with runtime.db.acquire() as conn:
        await repository.record_declined(conn, event)


@router.subscriber(topics.CASE_ESCALATED.name, **OPTIONS)
async def on_case_escalated(event: CaseEscalated, runtime: Runtime = Context()) -> None:
    async with runtime.db.acquire() as conn:
        await repository.record_escalated(conn, event)


@router.subscriber(topics.CASE_ACKNOWLEDGED.name, **OPTIONS)
async def on_case_acknowledged(event: CaseAcknowledged, runtime: Runtime = Context()) -> None:
    async with runtime.db.acquire() as conn:
        await repository.record_acknowledged(conn, event)


@router.subscriber(topics.CASE_RESOLVED.name, **OPTIONS)
async def on_case_resolved(event: CaseResolved, runtime: Runtime = Context()) -> None:
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
