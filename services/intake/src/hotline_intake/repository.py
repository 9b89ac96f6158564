"""Intake's SQL; nothing else touches its tables."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import asyncpg


async def next_case_seq(conn: asyncpg.Connection, year_be: int) -> int:
    """The next number of the year from a per-year sequence, created on the year's first case.

    A sequence, not a counter row: a row lock would be held until each case's commit and serialise every
    report. A rolled-back report leaves a gap in the numbers, which is harmless. Call outside a transaction.
    """
    name = f"case_number_{year_be:d}"
    try:
        return int(await conn.fetchval("SELECT nextval($1::regclass)", name))
    except asyncpg.UndefinedTableError:
        # The year's first cases: CREATE SEQUENCE IF NOT EXISTS is not safe against a concurrent twin,
        # so the creators queue on a transaction-scoped advisory lock.
        async with conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock(hashtext($1))", name)
            await conn.execute(f"CREATE SEQUENCE IF NOT EXISTS {name}")
        return int(await conn.fetchval("SELECT nextval($1::regclass)", name))


async def insert_case(conn: asyncpg.Connection, **row: Any) -> None:
    columns = ", ".join(row)
    params = ", ".join(f"${i}" for i in range(1, len(row) + 1))
    await conn.execute(f"INSERT INTO cases ({columns}) VALUES ({params})", *row.values())  # noqa: S608


async def add_event(conn: asyncpg.Connection, *, event_id: uuid.UUID, case_id: uuid.UUID, type: str,
                    occurred_at: datetime, detail: dict[str, Any]) -> bool:
    """Append to the timeline; False if this event was recorded already."""
    status: str = await conn.execute(
        "INSERT INTO case_events (event_id, case_id, type, occurred_at, detail) VALUES ($1, $2, $3, $4, $5) "
        "ON CONFLICT (event_id) DO NOTHING",
        event_id, case_id, type, occurred_at, detail,
    )
    return status.endswith(" 1")


# One statement, so one round trip and no transaction around it: the entry is added if the case is known and the
# event new, and only then the status moves (forward) and the case goes to `center_id`. A concurrent update of the
# case makes the UPDATE re-read the row, so the status is compared with the latest one.
_RECORD_EVENT = """
WITH added AS (
    INSERT INTO case_events (event_id, case_id, type, occurred_at, detail)
    SELECT $1, case_id, $3, $4, $5 FROM cases WHERE case_id = $2
    ON CONFLICT (event_id) DO NOTHING RETURNING case_id)
UPDATE cases c SET
    status = CASE WHEN c.status = ANY($7::text[]) THEN $6 ELSE c.status END,
    updated_at = CASE WHEN c.status = ANY($7::text[]) AND c.status <> $6 THEN now() ELSE c.updated_at END,
    center_id = COALESCE($8, c.center_id)
FROM added WHERE c.case_id = added.case_id
"""


async def record_event(conn: asyncpg.Connection, *, event_id: uuid.UUID, case_id: uuid.UUID, type: str,
                       occurred_at: datetime, detail: dict[str, Any], status: str, moves_from: list[str],
                       center_id: uuid.UUID | None) -> bool:
    """Another service's event on the case's timeline, idempotently; False if the case is unknown here or the event
    recorded already. The status becomes `status` if it is one of `moves_from`."""
    done: str = await conn.execute(_RECORD_EVENT, event_id, case_id, type, occurred_at, detail, status, moves_from,
                                   center_id)
    return done.endswith(" 1")


async def get_case_for_update(conn: asyncpg.Connection, case_id: uuid.UUID) -> asyncpg.Record | None:
    return await conn.fetchrow("SELECT case_id, status FROM cases WHERE case_id = $1 FOR UPDATE", case_id)


async def get_case(conn: asyncpg.Connection, case_id: uuid.UUID, *, lock: bool = False) -> asyncpg.Record | None:
    query = "SELECT * FROM cases WHERE case_id = $1 FOR UPDATE" if lock else "SELECT * FROM cases WHERE case_id = $1"
    return await conn.fetchrow(query, case_id)


async def timeline(conn: asyncpg.Connection, case_id: uuid.UUID) -> list[asyncpg.Record]:
    return list(await conn.fetch(
        "SELECT event_id, type, occurred_at, detail FROM case_events WHERE case_id = $1 ORDER BY occurred_at, type",
        case_id,
    ))


async def acknowledged_by(conn: asyncpg.Connection, case_id: uuid.UUID) -> str | None:
    """The responder of the case's latest acknowledgement (a re-routed case may have several)."""
    value: str | None = await conn.fetchval(
        "SELECT detail->>'responder_id' FROM case_events WHERE case_id = $1 AND type = 'acknowledged' "
        "ORDER BY occurred_at DESC LIMIT 1", case_id)
    return value


async def record_contact_access(conn: asyncpg.Connection, *, case_id: uuid.UUID, subject: str, role: str,
                                purpose: str) -> None:
    await conn.execute("INSERT INTO contact_access (case_id, subject, role, purpose) VALUES ($1, $2, $3, $4)",
                       case_id, subject, role, purpose)


async def contact_accesses(conn: asyncpg.Connection, case_id: uuid.UUID) -> list[asyncpg.Record]:
    return list(await conn.fetch(
        "SELECT subject, role, purpose, accessed_at FROM contact_access WHERE case_id = $1 ORDER BY access_id",
        case_id))


async def add_note(conn: asyncpg.Connection, *, case_id: uuid.UUID, source: str, author: str, body_enc: bytes,
                   created_at: datetime) -> int:
    note_id: int = await conn.fetchval(
        "INSERT INTO case_notes (case_id, source, author, body_enc, created_at) VALUES ($1, $2, $3, $4, $5) "
        "RETURNING note_id", case_id, source, author, body_enc, created_at)
    return note_id


async def notes(conn: asyncpg.Connection, case_id: uuid.UUID) -> list[asyncpg.Record]:
    return list(await conn.fetch(
        "SELECT note_id, source, author, body_enc, created_at FROM case_notes WHERE case_id = $1 ORDER BY note_id",
        case_id))


# ---- the operator console: linked cases, the live timeline, case search ----------------------------------------
async def link_same_caller(conn: asyncpg.Connection, case_id: uuid.UUID, phone_key: bytes, limit: int = 50) -> None:
    """Link a new case to the same caller's earlier ones (the latest `limit`)."""
    await conn.execute(
        "INSERT INTO case_links (case_id, related_id, kind) SELECT $1, case_id, 'same_caller' FROM cases "
        "WHERE caller_phone_key = $2 AND case_id <> $1 ORDER BY created_at DESC LIMIT $3 ON CONFLICT DO NOTHING",
        case_id, phone_key, limit)


async def related(conn: asyncpg.Connection, case_id: uuid.UUID, limit: int = 50) -> list[asyncpg.Record]:
    """The cases linked to this one, whichever way the link was made, newest first (the latest `limit`: some
    callers ring the hotline hundreds of times)."""
    return list(await conn.fetch(
        "SELECT l.kind, l.score, l.decision, l.decided_by, c.case_id, c.case_number, c.status, c.category, "
        "c.urgency, c.created_at, c.reported_center_id, c.center_id "
        "FROM (SELECT related_id AS other, kind, score, decision, decided_by FROM case_links WHERE case_id = $1 "
        "      UNION SELECT case_id, kind, score, decision, decided_by FROM case_links WHERE related_id = $1) l "
        "JOIN cases c ON c.case_id = l.other WHERE l.decision IS DISTINCT FROM 'different' "
        "ORDER BY c.created_at DESC, l.kind LIMIT $2", case_id, limit))


async def recent_cases_near(conn: asyncpg.Connection, *, since: datetime, exclude: uuid.UUID, place_code: str | None,
                            lat: float | None, lon: float | None, box_deg: float, limit: int = 200
                            ) -> list[asyncpg.Record]:
    """The cases reported since `since` in the same sub-district, or with a position within `box_deg` of this one:
    what they say about place, time and people (for duplicate suggestions)."""
    return list(await conn.fetch(
        "SELECT case_id, place_code AS tambon_code, lat, lon, created_at, category, target_group, channel, "
        "caller_phone_key FROM cases WHERE created_at >= $1 AND case_id <> $2 AND (place_code = $3 OR "
        "($4::float8 IS NOT NULL AND lat BETWEEN $4 - $6 AND $4 + $6 AND lon BETWEEN $5 - $6 AND $5 + $6)) "
        "ORDER BY created_at DESC LIMIT $7", since, exclude, place_code, lat, lon, box_deg, limit))


async def link_possible_duplicates(conn: asyncpg.Connection, case_id: uuid.UUID,
                                   found: list[tuple[uuid.UUID, float]]) -> None:
    await conn.executemany(
        "INSERT INTO case_links (case_id, related_id, kind, score) VALUES ($1, $2, 'possible_duplicate', $3) "
        "ON CONFLICT DO NOTHING", [(case_id, other, score) for other, score in found])


async def decide_link(conn: asyncpg.Connection, a: uuid.UUID, b: uuid.UUID, *, decision: str, by: str) -> bool:
    """Record an operator's decision on a possible duplicate (either direction); False if none was suggested."""
    status: str = await conn.execute(
        "UPDATE case_links SET decision = $3, decided_by = $4, decided_at = now() WHERE kind = 'possible_duplicate' "
        "AND ((case_id = $1 AND related_id = $2) OR (case_id = $2 AND related_id = $1))", a, b, decision, by)
    return not status.endswith(" 0")


async def timeline_since(conn: asyncpg.Connection, case_id: uuid.UUID, after_seq: int = 0) -> list[asyncpg.Record]:
    """A case's timeline entries recorded after `after_seq`, in the order they were recorded, with the case's
    status now."""
    return list(await conn.fetch(
        "SELECT e.event_id, e.seq, e.type, e.occurred_at, e.detail, c.status FROM case_events e "
        "JOIN cases c ON c.case_id = e.case_id WHERE e.case_id = $1 AND e.seq > $2 ORDER BY e.seq",
        case_id, after_seq))


async def timeline_entry(conn: asyncpg.Connection, event_id: uuid.UUID) -> asyncpg.Record | None:
    return await conn.fetchrow(
        "SELECT e.case_id, e.event_id, e.seq, e.type, e.occurred_at, e.detail, c.status FROM case_events e "
        "JOIN cases c ON c.case_id = e.case_id WHERE e.event_id = $1", event_id)


async def seq_of(conn: asyncpg.Connection, case_id: uuid.UUID, event_id: uuid.UUID) -> int:
    """Where a client's last-seen entry of this case sits in its timeline; 0 (the start) if it is not one."""
    seq: int | None = await conn.fetchval(
        "SELECT seq FROM case_events WHERE case_id = $1 AND event_id = $2", case_id, event_id)
    return seq or 0


_LISTED = ("case_id, case_number, status, channel, category, target_group, urgency, tambon_code, created_at, "
           "description_enc")


async def search_cases(conn: asyncpg.Connection, *, numbers: list[str] | None = None, phone_key: bytes | None = None,
                       tambon_code: str | None = None, status: str | None = None,
                       created_from: datetime | None = None, created_before: datetime | None = None,
                       center_id: uuid.UUID | None = None, after: tuple[datetime, uuid.UUID] | None = None,
                       limit: int = 20) -> list[asyncpg.Record]:
    """Cases matching every filter given, newest first, from after the keyset `after` (the last case of the
    previous page). `center_id`: only that center's cases (registered by it or routed to it)."""
    where, args = [], []

    def arg(value: Any) -> str:
        args.append(value)
        return f"${len(args)}"

    if numbers is not None:
        where.append(f"case_number = ANY({arg(numbers)}::text[])")
    if phone_key is not None:
        where.append(f"caller_phone_key = {arg(phone_key)}")
    if tambon_code is not None:
        where.append(f"tambon_code = {arg(tambon_code)}")
    if status is not None:
        where.append(f"status = {arg(status)}")
    if created_from is not None:
        where.append(f"created_at >= {arg(created_from)}")
    if created_before is not None:
        where.append(f"created_at < {arg(created_before)}")
    if center_id is not None:
        own = arg(center_id)
        where.append(f"(reported_center_id = {own} OR center_id = {own})")
    if after is not None:
        where.append(f"(created_at, case_id) < ({arg(after[0])}, {arg(after[1])})")
    filters = f"WHERE {' AND '.join(where)}" if where else ""
    # Made of the constant fragments above; every value is a $n parameter.
    sql = f"SELECT {_LISTED} FROM cases {filters} ORDER BY created_at DESC, case_id DESC LIMIT {arg(limit)}"  # noqa: S608
    return list(await conn.fetch(sql, *args))
