"""Notify's SQL; nothing else touches its tables."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg


async def insert_alert(conn: asyncpg.Connection, **row: Any) -> bool:
    status: str = await conn.execute(
        "INSERT INTO alerts (alert_id, case_id, case_number, routed_event_id, responder_id, center_id, channel, "
        "address, secret_ref, payload) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10) "
        "ON CONFLICT (routed_event_id, responder_id) DO NOTHING",
        row["alert_id"], row["case_id"], row["case_number"], row["routed_event_id"], row["responder_id"],
        row["center_id"], row["channel"], row["address"], row["secret_ref"], row["payload"],
    )
    return status.endswith(" 1")


async def claim_due(conn: asyncpg.Connection, *, limit: int, lease_seconds: float) -> list[asyncpg.Record]:
    """Take due alerts under a lease: two notify instances never send the same alert at the same time,
    and an instance that dies mid-send loses its lease, so another picks the alert up."""
    return list(await conn.fetch(
        "UPDATE alerts SET lease_until = now() + make_interval(secs => $2), attempts = attempts + 1 "
        "WHERE alert_id IN (SELECT alert_id FROM alerts WHERE status = 'pending' AND next_attempt_at <= now() "
        "  AND (lease_until IS NULL OR lease_until < now()) ORDER BY next_attempt_at LIMIT $1 "
        "  FOR UPDATE SKIP LOCKED) "
        "RETURNING *",
        limit, lease_seconds,
    ))


async def record_attempt(conn: asyncpg.Connection, *, alert_id: uuid.UUID, channel: str, outcome: str,
                         http_status: int | None, error: str | None, duration_ms: float) -> None:
    await conn.execute(
        "INSERT INTO attempts (alert_id, channel, outcome, http_status, error, duration_ms) "
        "VALUES ($1, $2, $3, $4, $5, $6)",
        alert_id, channel, outcome, http_status, error, duration_ms,
    )


async def mark_sent(conn: asyncpg.Connection, alert_id: uuid.UUID) -> None:
    await conn.execute("UPDATE alerts SET status = 'sent', sent_at = now(), lease_until = NULL, last_error = NULL "
                       "WHERE alert_id = $1", alert_id)


async def mark_failed(conn: asyncpg.Connection, alert_id: uuid.UUID, error: str) -> None:
    await conn.execute("UPDATE alerts SET status = 'failed', lease_until = NULL, last_error = $2 "
                       "WHERE alert_id = $1", alert_id, error)


async def schedule_retry(conn: asyncpg.Connection, alert_id: uuid.UUID, *, delay: float, error: str) -> None:
    await conn.execute(
        "UPDATE alerts SET lease_until = NULL, last_error = $2, "
        "next_attempt_at = now() + make_interval(secs => $3) WHERE alert_id = $1",
        alert_id, error, delay,
    )


async def next_due_in(conn: asyncpg.Connection) -> float | None:
    value = await conn.fetchval(
        "SELECT extract(epoch FROM min(greatest(next_attempt_at, coalesce(lease_until, next_attempt_at))) - now()) "
        "FROM alerts WHERE status = 'pending'")
    return None if value is None else max(0.0, float(value))


async def alerts_of_case(conn: asyncpg.Connection, case_id: uuid.UUID) -> list[asyncpg.Record]:
    return list(await conn.fetch(
        "SELECT alert_id, responder_id, channel, status, attempts, last_error, created_at, sent_at "
        "FROM alerts WHERE case_id = $1 ORDER BY created_at", case_id))


async def save_inbox(conn: asyncpg.Connection, *, delivery_id: str, signature_ok: bool, body: Any) -> bool:
    status: str = await conn.execute(
        "INSERT INTO demo_inbox (delivery_id, signature_ok, body) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
        delivery_id, signature_ok, body)
    return status.endswith(" 1")


async def inbox(conn: asyncpg.Connection, limit: int) -> list[asyncpg.Record]:
    return list(await conn.fetch("SELECT * FROM demo_inbox ORDER BY received_at DESC LIMIT $1", limit))
