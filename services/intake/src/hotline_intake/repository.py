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


async def get_case_for_update(conn: asyncpg.Connection, case_id: uuid.UUID) -> asyncpg.Record | None:
    return await conn.fetchrow("SELECT case_id, status FROM cases WHERE case_id = $1 FOR UPDATE", case_id)


async def set_status(conn: asyncpg.Connection, case_id: uuid.UUID, status: str) -> None:
    await conn.execute("UPDATE cases SET status = $2, updated_at = now() WHERE case_id = $1", case_id, status)


async def set_center(conn: asyncpg.Connection, case_id: uuid.UUID, center_id: uuid.UUID) -> None:
    await conn.execute("UPDATE cases SET center_id = $2 WHERE case_id = $1", case_id, center_id)


async def get_case(conn: asyncpg.Connection, case_id: uuid.UUID) -> asyncpg.Record | None:
    return await conn.fetchrow("SELECT * FROM cases WHERE case_id = $1", case_id)


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
