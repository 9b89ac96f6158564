"""The ops schema's SQL (asyncpg, $1 parameters); nothing else touches its tables.

Every write applies one event once (its inbox claim in the same statement) and is an upsert keyed by the case:
the case topics are read by separate consumers, so an acknowledgement may arrive before the routing it acknowledges,
and each write must converge whatever the order. Priorities are compared as text: 'P1' < 'P2' < 'P3' < 'P4', so
LEAST keeps the more urgent one.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import asyncpg

from hotline_common import outbox, topics
from hotline_common.events import (
    CaseAcknowledged,
    CaseDeclined,
    CaseEscalated,
    CaseReported,
    CaseResolved,
    CaseRouted,
    CaseUnroutable,
    CaseUrgencyRaised,
)
from hotline_common.events.base import CaseEvent


def _apply(columns: dict[str, str], update: str, where: str = "") -> str:
    """An event's write, claimed in the inbox ($1 event id, $2 topic) and upserted in one statement (one round trip,
    atomic). `columns` (name: SQL type; $3 the case id, $4 its number, the rest from $5 on) are the row a case new
    here gets from the event; `update` merges them (`EXCLUDED.<column>`) into a case already here, if `where`."""
    columns = {"case_id": "uuid", "case_number": "text", **columns}
    values = ", ".join(f"${i}::{kind}" for i, kind in enumerate(columns.values(), start=3))
    # Built from this module's constants only, once at import.
    return (f"{outbox.CLAIMED_ONCE}INSERT INTO cases ({', '.join(columns)}) SELECT {values} FROM claimed "  # noqa: S608
            f"ON CONFLICT (case_id) DO UPDATE SET {update}, updated_at = now() {where}")


async def _write(conn: asyncpg.Connection, statement: str, topic: str, event: CaseEvent, *values: Any) -> None:
    await conn.execute(statement, event.event_id, topic, event.case_id, event.case_number, *values)


# The place routing located wins over the report's (it resolved free text the report could not).
_REPORTED = _apply(
    {"reported_at": "timestamptz", "channel": "text", "category": "text", "reported_urgency": "text",
     "province_code": "text", "tambon_code": "text"},
    "reported_at = EXCLUDED.reported_at, channel = EXCLUDED.channel, category = EXCLUDED.category, "
    "reported_urgency = EXCLUDED.reported_urgency, province_code = COALESCE(cases.province_code, "
    "EXCLUDED.province_code), tambon_code = COALESCE(cases.tambon_code, EXCLUDED.tambon_code)")


async def record_reported(conn: asyncpg.Connection, case: CaseReported, *, province_code: str | None,
                          tambon_code: str | None) -> None:
    await _write(conn, _REPORTED, topics.CASE_REPORTED.name, case, case.occurred_at, case.channel.value,
                 case.category.value, case.urgency.value if case.urgency else None, province_code, tambon_code)


# A routing read after a later one changes nothing (its attempt is not newer).
_NEWER_ROUTING = "WHERE cases.routing_attempt IS NULL OR cases.routing_attempt < EXCLUDED.routing_attempt"
# The same unit, more urgent, by an earlier deadline: whoever acknowledged keeps the case.
_REPRIORITISED = _apply(
    {"priority": "text", "ack_deadline": "timestamptz", "routing_attempt": "int"},
    "priority = LEAST(cases.priority, EXCLUDED.priority), ack_deadline = EXCLUDED.ack_deadline, "
    "routing_attempt = EXCLUDED.routing_attempt", _NEWER_ROUTING)
# A routing to a unit (the first, or the next center after a decline or an escalation): its own deadline, waiting
# for its own acknowledgement. LEAST(NULL, x) is x in PostgreSQL; a re-routing keeps the first assessment's
# priority (routing's rule), and an urgency raised meanwhile is never lowered by it.
_ROUTED = _apply(
    {"routing_attempt": "int", "routed_at": "timestamptz", "priority": "text", "ack_deadline": "timestamptz",
     "center_name_th": "text", "agency_name_th": "text", "tambon_code": "text", "province_code": "text"},
    "routing_attempt = EXCLUDED.routing_attempt, routed_at = EXCLUDED.routed_at, "
    "priority = LEAST(cases.priority, EXCLUDED.priority), ack_deadline = EXCLUDED.ack_deadline, "
    "center_name_th = EXCLUDED.center_name_th, agency_name_th = EXCLUDED.agency_name_th, "
    "tambon_code = EXCLUDED.tambon_code, province_code = COALESCE(EXCLUDED.province_code, cases.province_code), "
    "unroutable_at = CASE WHEN cases.unroutable_at < EXCLUDED.routed_at THEN NULL ELSE cases.unroutable_at END, "
    "acknowledged_at = CASE WHEN cases.acknowledged_at < EXCLUDED.routed_at THEN NULL "
    "ELSE cases.acknowledged_at END, "
    "declined_at = CASE WHEN cases.declined_at < EXCLUDED.routed_at THEN NULL ELSE cases.declined_at END",
    _NEWER_ROUTING)


async def record_routed(conn: asyncpg.Connection, event: CaseRouted, *, province_code: str | None) -> None:
    topic = topics.CASE_ROUTED.name
    if event.reprioritised_from is not None:
        await _write(conn, _REPRIORITISED, topic, event, event.priority.value, event.ack_deadline, event.attempt)
        return
    await _write(conn, _ROUTED, topic, event, event.attempt, event.occurred_at, event.priority.value,
                 event.ack_deadline, event.center_name_th, event.agency_name_th, event.tambon_code, province_code)


# Unroutable now unless a routing after it is already known (a re-routing may find no center, too).
_UNROUTABLE = _apply({"unroutable_at": "timestamptz"},
                     "unroutable_at = GREATEST(cases.unroutable_at, EXCLUDED.unroutable_at)",
                     "WHERE cases.routed_at IS NULL OR cases.routed_at < EXCLUDED.unroutable_at")


async def record_unroutable(conn: asyncpg.Connection, event: CaseUnroutable) -> None:
    await _write(conn, _UNROUTABLE, topics.CASE_UNROUTABLE.name, event, event.occurred_at)


_URGENCY_RAISED = _apply({"priority": "text"},
                         "priority = LEAST(COALESCE(cases.priority, cases.reported_urgency), EXCLUDED.priority)")


async def record_urgency_raised(conn: asyncpg.Connection, event: CaseUrgencyRaised) -> None:
    await _write(conn, _URGENCY_RAISED, topics.CASE_URGENCY_RAISED.name, event, event.urgency.value)


_DECLINED = _apply({"declined_at": "timestamptz"}, "declined_at = GREATEST(cases.declined_at, EXCLUDED.declined_at)",
                   "WHERE cases.routed_at IS NULL OR cases.routed_at < EXCLUDED.declined_at")


async def record_declined(conn: asyncpg.Connection, event: CaseDeclined) -> None:
    await _write(conn, _DECLINED, topics.CASE_DECLINED.name, event, event.occurred_at)


_ESCALATED = _apply({"escalation_level": "int"},
                    "escalation_level = GREATEST(cases.escalation_level, EXCLUDED.escalation_level)")


async def record_escalated(conn: asyncpg.Connection, event: CaseEscalated) -> None:
    await _write(conn, _ESCALATED, topics.CASE_ESCALATED.name, event, event.level)


# Not when a later routing (to another unit) is already known: that one waits for its own acknowledgement.
_ACKNOWLEDGED = _apply({"acknowledged_at": "timestamptz"},
                       "acknowledged_at = GREATEST(cases.acknowledged_at, EXCLUDED.acknowledged_at)",
                       "WHERE cases.routed_at IS NULL OR cases.routed_at <= EXCLUDED.acknowledged_at")


async def record_acknowledged(conn: asyncpg.Connection, event: CaseAcknowledged) -> None:
    await _write(conn, _ACKNOWLEDGED, topics.CASE_ACKNOWLEDGED.name, event, event.occurred_at)


_RESOLVED = _apply({"resolved_at": "timestamptz"}, "resolved_at = EXCLUDED.resolved_at")


async def record_resolved(conn: asyncpg.Connection, event: CaseResolved) -> None:
    await _write(conn, _RESOLVED, topics.CASE_RESOLVED.name, event, event.occurred_at)


WAITING = """
SELECT case_id, case_number, COALESCE(priority, reported_urgency) AS priority, ack_deadline, reported_at,
       routed_at, channel, category, province_code, center_name_th, agency_name_th, declined_at,
       escalation_level, unroutable_at
FROM cases
WHERE resolved_at IS NULL AND acknowledged_at IS NULL AND COALESCE(priority, reported_urgency) IN ('P1', 'P2')
ORDER BY ack_deadline ASC NULLS FIRST, reported_at ASC NULLS LAST
LIMIT $1
"""


async def waiting_cases(conn: asyncpg.Connection, *, limit: int) -> list[dict[str, Any]]:
    """Open P1/P2 cases nobody has acknowledged, the nearest deadline first; those with no deadline yet (not routed,
    unroutable) before them all: nobody has even been asked."""
    return [dict(r) for r in await conn.fetch(WAITING, limit)]


async def reported_by_province(conn: asyncpg.Connection, start: datetime, end: datetime) -> dict[str | None, int]:
    """Cases reported in [start, end), counted by province code (None: not located yet)."""
    rows = await conn.fetch("SELECT province_code, count(*) AS n FROM cases WHERE reported_at >= $1 "
                            "AND reported_at < $2 GROUP BY province_code", start, end)
    return {r["province_code"]: int(r["n"]) for r in rows}
