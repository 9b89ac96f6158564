"""The LINE channel's SQL (tables of migrations/009_line.sql); nothing else touches them."""

from __future__ import annotations

import uuid
import zlib
from collections.abc import Sequence
from datetime import datetime
from typing import NamedTuple

import asyncpg

# A user's messages are handled while their rate allows: fewer than `max_messages` ($2) handled in the last
# `window_seconds` ($1). Counted on the rows themselves (handled rows stay), so every intake replica sees one rate.


async def store_events(conn: asyncpg.Connection, rows: Sequence[tuple[str, bytes, datetime, bool, bytes]]) -> int:
    """Keep (event_id, user_key, occurred_at, redelivery, event_enc) rows; LINE's redeliveries of events already
    kept are dropped by their id. Returns how many were new."""
    if not rows:
        return 0
    ids, users, times, redeliveries, events = (list(column) for column in zip(*rows, strict=True))
    inserted = await conn.fetch(
        "INSERT INTO line_inbox (event_id, user_key, occurred_at, redelivery, event_enc) "
        "SELECT * FROM unnest($1::text[], $2::bytea[], $3::timestamptz[], $4::boolean[], $5::bytea[]) "
        "ON CONFLICT (event_id) DO NOTHING RETURNING event_id",
        ids, users, times, redeliveries, events)
    return len(inserted)


async def users_with_work(conn: asyncpg.Connection, *, window_seconds: float, max_messages: int,
                          limit: int) -> list[tuple[bytes, bool]]:
    """Users with a message their rate allows handling now, or a reply due (the bool); the longest waiting first."""
    rows = await conn.fetch(
        "SELECT user_key, bool_or(reply) AS reply_due FROM ("
        "  SELECT user_key, min(received_at) AS since, false AS reply FROM line_inbox i WHERE processed_at IS NULL"
        "  GROUP BY user_key"
        "  HAVING (SELECT count(*) FROM line_inbox h WHERE h.user_key = i.user_key AND h.processed_at > "
        "          clock_timestamp() - make_interval(secs => $1)) < $2"
        "  UNION ALL"
        "  SELECT user_key, min(next_attempt_at), true FROM line_replies"
        "  WHERE failed_at IS NULL AND next_attempt_at <= clock_timestamp() GROUP BY user_key"
        ") w GROUP BY user_key ORDER BY min(since) LIMIT $3",
        window_seconds, max_messages, limit)
    return [(r["user_key"], r["reply_due"]) for r in rows]


def _user_lock(user_key: bytes) -> int:
    return zlib.crc32(b"line-user:" + user_key)


async def try_lock_user(conn: asyncpg.Connection, user_key: bytes) -> bool:
    """One intake process at a time handles a user's messages (a session lock: it goes with the connection if
    the process dies)."""
    return bool(await conn.fetchval("SELECT pg_try_advisory_lock(1300, $1)", _user_lock(user_key) - 2**31))


async def unlock_user(conn: asyncpg.Connection, user_key: bytes) -> None:
    await conn.execute("SELECT pg_advisory_unlock(1300, $1)", _user_lock(user_key) - 2**31)


async def next_events(conn: asyncpg.Connection, user_key: bytes, *, window_seconds: float, max_messages: int,
                      limit: int) -> list[asyncpg.Record]:
    """The user's oldest waiting messages (by when they sent them), as many as their rate allows now, at most
    `limit`."""
    return list(await conn.fetch(
        "SELECT event_id, event_enc, received_at, attempts FROM line_inbox "
        "WHERE user_key = $3 AND processed_at IS NULL ORDER BY occurred_at, seq "
        "LIMIT GREATEST(0, LEAST($4, $2 - (SELECT count(*) FROM line_inbox h WHERE h.user_key = $3 "
        "AND h.processed_at > clock_timestamp() - make_interval(secs => $1))))",
        window_seconds, max_messages, user_key, limit))


async def mark_handled(conn: asyncpg.Connection, event_id: str, *, error: str | None = None) -> None:
    """Handled (or set aside with `error`): its words are dropped, the row stays for dedup and the rate. A set-aside
    event keeps them, sealed, for the ops team."""
    await conn.execute(
        "UPDATE line_inbox SET processed_at = clock_timestamp(), last_error = $2, "
        "event_enc = CASE WHEN $2::text IS NULL THEN NULL ELSE event_enc END WHERE event_id = $1",
        event_id, error)


async def record_failure(conn: asyncpg.Connection, event_id: str, error: str) -> int:
    attempts: int = await conn.fetchval(
        "UPDATE line_inbox SET attempts = attempts + 1, last_error = $2 WHERE event_id = $1 RETURNING attempts",
        event_id, error)
    return attempts


async def conversation(conn: asyncpg.Connection, user_key: bytes) -> asyncpg.Record | None:
    """The user's sealed conversation, with its case's status and number if intake holds the case."""
    row: asyncpg.Record | None = await conn.fetchrow(
        "SELECT c.user_id_enc, c.state_enc, c.case_id, k.status, k.case_number FROM line_conversations c "
        "LEFT JOIN cases k ON k.case_id = c.case_id WHERE c.user_key = $1", user_key)
    return row


# One statement for a message's outcome when nothing else is written with it: one round trip, atomic.
_HANDLED = """
WITH saved AS (
    INSERT INTO line_conversations (user_key, user_id_enc, state_enc, case_id) VALUES ($2, $3, $4, $5)
    ON CONFLICT (user_key) DO UPDATE SET user_id_enc = $3, state_enc = $4, case_id = $5, updated_at = now()),
queued AS (
    INSERT INTO line_replies (reply_id, user_key, reply_token, token_expires_at, messages_enc)
    SELECT $6::uuid, $2, $7::text, $8::timestamptz, $9::bytea WHERE $9::bytea IS NOT NULL
    ON CONFLICT (reply_id) DO NOTHING)
UPDATE line_inbox SET processed_at = clock_timestamp(), last_error = NULL, event_enc = NULL WHERE event_id = $1
"""


async def handled(conn: asyncpg.Connection, event_id: str, user_key: bytes, *, user_id_enc: bytes, state_enc: bytes,
                  case_id: uuid.UUID | None, reply: Reply | None) -> None:
    """The message handled: the conversation saved, its answer (if any) queued, its words dropped."""
    await conn.execute(_HANDLED, event_id, user_key, user_id_enc, state_enc, case_id,
                       *(reply or Reply(uuid.UUID(int=0), None, None, None)))


async def case_status(conn: asyncpg.Connection, case_id: uuid.UUID) -> tuple[str, str] | None:
    """(status, case number) of a case intake holds."""
    row = await conn.fetchrow("SELECT status, case_number FROM cases WHERE case_id = $1", case_id)
    return (row["status"], row["case_number"]) if row else None


class Reply(NamedTuple):
    """An answer to queue: its id (derived from the message's), the reply token while fresh, the sealed messages."""

    reply_id: uuid.UUID
    reply_token: str | None
    token_expires_at: datetime | None
    messages_enc: bytes | None


async def add_reply(conn: asyncpg.Connection, user_key: bytes, reply: Reply) -> None:
    await conn.execute(
        "INSERT INTO line_replies (reply_id, user_key, reply_token, token_expires_at, messages_enc) "
        "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (reply_id) DO NOTHING",
        reply.reply_id, user_key, reply.reply_token, reply.token_expires_at, reply.messages_enc)


async def due_replies(conn: asyncpg.Connection, user_key: bytes) -> list[asyncpg.Record]:
    """The user's unsent replies in order (a later one waits while an earlier one is retried: order matters)."""
    return list(await conn.fetch(
        "SELECT reply_id, reply_token, token_expires_at, messages_enc, attempts, next_attempt_at <= "
        "clock_timestamp() AS due FROM line_replies WHERE user_key = $1 AND failed_at IS NULL ORDER BY seq",
        user_key))


async def reply_sent(conn: asyncpg.Connection, reply_id: uuid.UUID) -> None:
    await conn.execute("DELETE FROM line_replies WHERE reply_id = $1", reply_id)


async def reply_failed(conn: asyncpg.Connection, reply_id: uuid.UUID, *, error: str, retry_in: float | None) -> None:
    """Try again in `retry_in` seconds (by push: the reply token is spent), or never (None)."""
    await conn.execute(
        "UPDATE line_replies SET attempts = attempts + 1, last_error = $2, reply_token = NULL, "
        "next_attempt_at = clock_timestamp() + make_interval(secs => coalesce($3, 0)), "
        "failed_at = CASE WHEN $3::float8 IS NULL THEN clock_timestamp() END WHERE reply_id = $1",
        reply_id, error, retry_in)


async def ensure_conversation(conn: asyncpg.Connection, user_key: bytes, *, user_id_enc: bytes,
                              state_enc: bytes) -> None:
    await conn.execute(
        "INSERT INTO line_conversations (user_key, user_id_enc, state_enc) VALUES ($1, $2, $3) "
        "ON CONFLICT (user_key) DO NOTHING", user_key, user_id_enc, state_enc)
