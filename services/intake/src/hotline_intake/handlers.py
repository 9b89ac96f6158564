"""Intake subscribers: the other services' events about a case become its timeline and status."""

from __future__ import annotations

from typing import Any

from hotline_common import topics
from hotline_common.events import (
    AlertFailed,
    AlertSent,
    CaseAcknowledged,
    CaseDeclined,
    CaseEscalated,
    CaseResolved,
    CaseRouted,
    CaseUnroutable,
    Event,
)
from hotline_common.readmodel import ReadModel
from hotline_common.runtime import Runtime
from hotline_intake import repository
from hotline_intake.cases import status_move

# The timeline is a read model: taken in batches, it follows the other services within half a second.
timeline = ReadModel("intake")


async def record(runtime: Runtime, event: Event, *, case_id: Any, type: str, detail: dict[str, Any],
                 center_id: Any = None) -> None:
    """Idempotent: the event id is the timeline row's key, and the status moves only forward. `center_id`: the
    center the case now belongs to (its staff see it). An event about a case this intake never took (another
    environment) changes nothing."""
    status, moves_from = status_move(type)
    async with runtime.db.acquire() as conn:
        await repository.record_event(conn, event_id=event.event_id, case_id=case_id, type=type,
                                      occurred_at=event.occurred_at, detail=detail, status=status,
                                      moves_from=moves_from, center_id=center_id)


@timeline.on(topics.CASE_ROUTED)
async def on_case_routed(event: CaseRouted, runtime: Runtime) -> None:
    await record(runtime, event, case_id=event.case_id, type="routed", detail={
        "center_id": str(event.center_id) if event.center_id else None, "center_name_th": event.center_name_th,
        "agency_id": str(event.agency_id) if event.agency_id else None, "agency_name_th": event.agency_name_th,
        "priority": event.priority, "distance_km": event.distance_km, "rule": event.rule, "attempt": event.attempt,
        "tambon_code": event.tambon_code, "reprioritised_from": event.reprioritised_from,
        "ack_deadline": event.ack_deadline.isoformat() if event.ack_deadline else None}, center_id=event.center_id)


@timeline.on(topics.CASE_UNROUTABLE)
async def on_case_unroutable(event: CaseUnroutable, runtime: Runtime) -> None:
    await record(runtime, event, case_id=event.case_id, type="unroutable", detail={
        "reason": event.reason, "reason_code": event.reason_code,
        "candidates": [c.model_dump() for c in event.candidates]})


@timeline.on(topics.ALERT_SENT)
async def on_alert_sent(event: AlertSent, runtime: Runtime) -> None:
    await record(runtime, event, case_id=event.case_id, type="alert_sent", detail={
        "alert_id": str(event.alert_id), "channel": event.channel, "attempts": event.attempts,
        "responder_id": str(event.responder_id)})


@timeline.on(topics.ALERT_FAILED)
async def on_alert_failed(event: AlertFailed, runtime: Runtime) -> None:
    await record(runtime, event, case_id=event.case_id, type="alert_failed", detail={
        "alert_id": str(event.alert_id), "channel": event.channel, "attempts": event.attempts,
        "error": event.last_error})


@timeline.on(topics.CASE_ESCALATED)
async def on_case_escalated(event: CaseEscalated, runtime: Runtime) -> None:
    await record(runtime, event, case_id=event.case_id, type="escalated", detail={
        "level": event.level, "step": event.step, "targets": event.targets, "alerted": event.alerted,
        "reroute": event.reroute, "final": event.final, "reason": event.reason})


@timeline.on(topics.CASE_DECLINED)
async def on_case_declined(event: CaseDeclined, runtime: Runtime) -> None:
    await record(runtime, event, case_id=event.case_id, type="declined", detail={
        "center_id": str(event.center_id), "responder_id": str(event.responder_id) if event.responder_id else None,
        "reason": event.reason, "via": event.via})


@timeline.on(topics.CASE_ACKNOWLEDGED)
async def on_case_acknowledged(event: CaseAcknowledged, runtime: Runtime) -> None:
    await record(runtime, event, case_id=event.case_id, type="acknowledged", detail={
        "responder_id": str(event.responder_id), "via": event.via, "level": event.level,
        "seconds_to_acknowledge": event.seconds_to_acknowledge,
        "visit_deadline": event.visit_deadline.isoformat() if event.visit_deadline else None})


@timeline.on(topics.CASE_RESOLVED)
async def on_case_resolved(event: CaseResolved, runtime: Runtime) -> None:
    await record(runtime, event, case_id=event.case_id, type="resolved", detail={
        "responder_id": str(event.responder_id), "outcome": event.outcome, "via": event.via})
