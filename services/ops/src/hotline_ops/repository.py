"""The ops schema's SQL (asyncpg, $1 parameters); nothing else touches its tables.

Every write is an upsert keyed by the case: the case topics are read by separate consumers, so an acknowledgement
may arrive before the routing it acknowledges, and each write must converge whatever the order. Priorities are
compared as text: 'P1' < 'P2' < 'P3' < 'P4', so LEAST keeps the more urgent one.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import asyncpg

from hotline_common.events import CaseReported, CaseRouted

_NEW = "INSERT INTO cases (case_id, case_number) VALUES ($1, $2) ON CONFLICT (case_id) DO NOTHING"


async def _ensure(conn: asyncpg.Connection, case_id: uuid.UUID, case_number: str) -> None:
    await conn.execute(_NEW, case_id, case_number)


async def record_reported(conn: asyncpg.Connection, case: CaseReported, *, province_code: str | None,
                          tambon_code: str | None) -> None:
    await _ensure(conn, case.case_id, case.case_number)
    # The place routing located wins over the report's (it resolved free text the report could not).
    await conn.execute(
        "UPDATE cases SET reported_at = $2, channel = $3, category = $4, reported_urgency = $5, "
        "province_code = COALESCE(province_code, $6), tambon_code = COALESCE(tambon_code, $7), updated_at = now() "
        "WHERE case_id = $1",
        case.case_id, case.occurred_at, case.channel.value, case.category.value,
        case.urgency.value if case.urgency else None, province_code, tambon_code)


async def record_routed(conn: asyncpg.Connection, event: CaseRouted, *, province_code: str | None) -> None:
    await _ensure(conn, event.case_id, event.case_number)
    if event.reprioritised_from is not None:
        # The same unit, more urgent, by an earlier deadline: whoever acknowledged keeps the case.
        await conn.execute(
            "UPDATE cases SET priority = LEAST(priority, $2), ack_deadline = $3, routing_attempt = $4, "
            "updated_at = now() WHERE case_id = $1 AND (routing_attempt IS NULL OR routing_attempt < $4)",
            event.case_id, event.priority.value, event.ack_deadline, event.attempt)
        return
    # A routing to a unit (the first, or the next center after a decline or an escalation): its own deadline,
    # waiting for its own acknowledgement. An older routing read late changes nothing.
    await conn.execute(
        "UPDATE cases SET routing_attempt = $2, routed_at = $3, priority = LEAST(priority, $4), "
        "ack_deadline = $5, center_name_th = $6, agency_name_th = $7, tambon_code = $8, "
        "province_code = COALESCE($9, province_code), "
        "unroutable_at = CASE WHEN unroutable_at < $3 THEN NULL ELSE unroutable_at END, "
        "acknowledged_at = CASE WHEN acknowledged_at < $3 THEN NULL ELSE acknowledged_at END, "
        "declined_at = CASE WHEN declined_at < $3 THEN NULL ELSE declined_at END, updated_at = now() "
        "WHERE case_id = $1 AND (routing_attempt IS NULL OR routing_attempt < $2)",
        event.case_id, event.attempt, event.occurred_at, event.priority.value, event.ack_deadline,
        event.center_name_th, event.agency_name_th, event.tambon_code, province_code)
    # LEAST(NULL, x) is x in PostgreSQL; a re-routing keeps the first assessment's priority (routing's rule), and an
    # urgency raised meanwhile is never lowered by it.


async def record_unroutable(conn: asyncpg.Connection, case_id: uuid.UUID, case_number: str, at: datetime) -> None:
    await _ensure(conn, case_id, case_number)
    # Unroutable now unless a routing after it is already known (a re-routing may find no center, too).
    await conn.execute("UPDATE cases SET unroutable_at = GREATEST(unroutable_at, $2), updated_at = now() "
                       "WHERE case_id = $1 AND (routed_at IS NULL OR routed_at < $2)", case_id, at)


async def record_urgency_raised(conn: asyncpg.Connection, case_id: uuid.UUID, case_number: str,
                                urgency: str) -> None:
    await _ensure(conn, case_id, case_number)
    await conn.execute("UPDATE cases SET priority = LEAST(COALESCE(priority, reported_urgency), $2), "
                       "updated_at = now() WHERE case_id = $1", case_id, urgency)


async def record_declined(conn: asyncpg.Connection, case_id: uuid.UUID, case_number: str, at: datetime) -> None:
    await _ensure(conn, case_id, case_number)
    await conn.execute("UPDATE cases SET declined_at = GREATEST(declined_at, $2), updated_at = now() "
                       "WHERE case_id = $1 AND (routed_at IS NULL OR routed_at < $2)", case_id, at)


async def record_escalated(conn: asyncpg.Connection, case_id: uuid.UUID, case_number: str, level: int) -> None:
    await _ensure(conn, case_id, case_number)
    await conn.execute("UPDATE cases SET escalation_level = GREATEST(escalation_level, $2), updated_at = now() "
                       "WHERE case_id = $1", case_id, level)


async def record_acknowledged(conn: asyncpg.Connection, case_id: uuid.UUID, case_number: str,
                              at: datetime) -> None:
    await _ensure(conn, case_id, case_number)
    # Not when a later routing (to another unit) is already known: that one waits for its own acknowledgement.
    await conn.execute("UPDATE cases SET acknowledged_at = GREATEST(acknowledged_at, $2), updated_at = now() "
                       "WHERE case_id = $1 AND (routed_at IS NULL OR routed_at <= $2)", case_id, at)


async def record_resolved(conn: asyncpg.Connection, case_id: uuid.UUID, case_number: str, at: datetime) -> None:
    await _ensure(conn, case_id, case_number)
    await conn.execute("UPDATE cases SET resolved_at = $2, updated_at = now() WHERE case_id = $1", case_id, at)


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
