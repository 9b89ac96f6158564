"""Ops subscribers (durable group `hotline-ops`): the case topics become the urgent list and today's map.
Each event is applied once (its inbox claim in the same statement) and in any order relative to the other topics."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

import asyncpg
from faststream import Context
from faststream.kafka import KafkaRouter

from hotline_common import topics
from hotline_common.events import CaseReported, CaseRouted, ServiceHeartbeat, WatchdogAlarm
from hotline_common.events.base import CaseEvent
from hotline_common.readmodel import ReadModel
from hotline_common.runtime import Runtime
from hotline_ops import geo, repository

router = KafkaRouter()
# One consumer per topic is plenty, taking batches: nothing waits on the ops console by the half second.
cases = ReadModel("ops")
E = TypeVar("E", bound=CaseEvent)


@cases.on(topics.CASE_REPORTED)
async def on_case_reported(event: CaseReported, runtime: Runtime) -> None:
    tambon = geo.tambon_of(event.location)
    async with runtime.db.acquire() as conn:
        await repository.record_reported(conn, event, tambon_code=tambon, province_code=geo.province_of(tambon))


@cases.on(topics.CASE_ROUTED)
async def on_case_routed(event: CaseRouted, runtime: Runtime) -> None:
    async with runtime.db.acquire() as conn:
        await repository.record_routed(conn, event, province_code=geo.province_of(event.tambon_code))


def _applying(record: Callable[[asyncpg.Connection, E], Awaitable[None]]) -> Callable[..., Awaitable[None]]:
    """The apply of an event whose write needs nothing but the event (`repository.record_*`)."""
    async def apply(event: E, runtime: Runtime) -> None:
        async with runtime.db.acquire() as conn:
            await record(conn, event)

    apply.__name__ = f"on_{record.__name__.removeprefix('record_')}"
    return apply


on_case_unroutable = cases.on(topics.CASE_UNROUTABLE)(_applying(repository.record_unroutable))
on_case_urgency_raised = cases.on(topics.CASE_URGENCY_RAISED)(_applying(repository.record_urgency_raised))
on_case_declined = cases.on(topics.CASE_DECLINED)(_applying(repository.record_declined))
on_case_escalated = cases.on(topics.CASE_ESCALATED)(_applying(repository.record_escalated))
on_case_acknowledged = cases.on(topics.CASE_ACKNOWLEDGED)(_applying(repository.record_acknowledged))
on_case_resolved = cases.on(topics.CASE_RESOLVED)(_applying(repository.record_resolved))


# The services' health: read live without a group (each console process keeps its own board). Heartbeats from now
# on; the watchdog's alarms from the start of their small topic, so an alarm raised before a restart still shows.
@router.subscriber(topics.OPS_HEARTBEAT.name, auto_offset_reset="latest")
async def on_heartbeat(beat: ServiceHeartbeat, runtime: Runtime = Context()) -> None:
    runtime.extras["health"].heard(beat)


@router.subscriber(topics.OPS_ALARM.name, auto_offset_reset="earliest")
async def on_watchdog_alarm(alarm: WatchdogAlarm, runtime: Runtime = Context()) -> None:
    runtime.extras["health"].alarmed(alarm)
