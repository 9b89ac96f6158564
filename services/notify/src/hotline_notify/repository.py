"""Notify's SQL; nothing else touches its tables."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import asyncpg

from hotline_common.telemetry import current_traceparent

# ---- cases -------------------------------------------------------------------------------------------------------


async def get_case(conn: asyncpg.Connection, case_id: uuid.UUID, *, lock: bool = False) -> asyncpg.Record | None:
    query = "SELECT * FROM cases WHERE case_id = $1 FOR UPDATE" if lock else "SELECT * FROM cases WHERE case_id = $1"
    row: asyncpg.Record | None = await conn.fetchrow(query, case_id)
    return row


async def start_routing(conn: asyncpg.Connection, **row: Any) -> None:
    """The case's current routing becomes this one: step 0, alerting (a decline or re-route starts over)."""
    await conn.execute(
        "INSERT INTO cases (case_id, case_number, routed_event_id, routed_at, attempt, category, priority, "
        "  tambon_code, center_id, agency_id, unit_name_th, ack_deadline, policy, safety) "
        "VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14) "
        "ON CONFLICT (case_id) DO UPDATE SET routed_event_id = EXCLUDED.routed_event_id, "
        "  routed_at = EXCLUDED.routed_at, attempt = EXCLUDED.attempt, priority = EXCLUDED.priority, "
        "  center_id = EXCLUDED.center_id, agency_id = EXCLUDED.agency_id, unit_name_th = EXCLUDED.unit_name_th, "
        "  ack_deadline = EXCLUDED.ack_deadline, policy = EXCLUDED.policy, safety = EXCLUDED.safety, step = 0, "
        "  level = 1, "
        "  status = 'alerting', acknowledged_by = NULL, acknowledged_at = NULL, visit_deadline = NULL, "
        "  updated_at = now()",
        row["case_id"], row["case_number"], row["routed_event_id"], row["routed_at"], row["attempt"],
        row["category"], row["priority"], row["tambon_code"], row["center_id"], row["agency_id"],
        row["unit_name_th"], row["ack_deadline"], row["policy"], row["safety"],
    )


async def set_step(conn: asyncpg.Connection, case_id: uuid.UUID, *, step: int, level: int, status: str) -> None:
    await conn.execute("UPDATE cases SET step = $2, level = $3, status = $4, updated_at = now() WHERE case_id = $1",
                       case_id, step, level, status)


async def set_acknowledged(conn: asyncpg.Connection, case_id: uuid.UUID, *, responder_id: uuid.UUID,
                           visit_deadline: datetime | None) -> datetime:
    at: datetime = await conn.fetchval(
        "UPDATE cases SET status = 'acknowledged', acknowledged_by = $2, acknowledged_at = now(), "
        "  visit_deadline = $3, updated_at = now() WHERE case_id = $1 RETURNING acknowledged_at",
        case_id, responder_id, visit_deadline)
    return at


async def reprioritise_acknowledged(conn: asyncpg.Connection, case_id: uuid.UUID, *, routed_event_id: uuid.UUID,
                                    attempt: int, priority: str, ack_deadline: datetime | None,
                                    visit_deadline: datetime | None) -> None:
    """The acknowledged case's routing becomes the more urgent one of the same unit: who acknowledged it, when,
    and the escalation reached stay."""
    await conn.execute(
        "UPDATE cases SET routed_event_id = $2, attempt = $3, priority = $4, ack_deadline = $5, visit_deadline = $6, "
        "  updated_at = now() WHERE case_id = $1 AND status = 'acknowledged'",
        case_id, routed_event_id, attempt, priority, ack_deadline, visit_deadline)


async def set_declined(conn: asyncpg.Connection, case_id: uuid.UUID) -> None:
    await conn.execute("UPDATE cases SET status = 'declined', updated_at = now() WHERE case_id = $1", case_id)


async def set_resolved(conn: asyncpg.Connection, case_id: uuid.UUID, *, responder_id: uuid.UUID,
                       outcome: str) -> None:
    await conn.execute(
        "UPDATE cases SET status = 'resolved', resolved_by = $2, resolved_at = now(), outcome = $3, "
        "  updated_at = now() WHERE case_id = $1", case_id, responder_id, outcome)


# ---- alerts ------------------------------------------------------------------------------------------------------


async def insert_alert(conn: asyncpg.Connection, **row: Any) -> bool:
    """One alert for one responder, routing, step and kind: a second insert of the same is a no-op."""
    status: str = await conn.execute(
        "INSERT INTO alerts (alert_id, case_id, case_number, routed_event_id, responder_id, center_id, step, level, "
        "  kind, channels, channel, address, secret_ref, payload, traceparent) "
        "VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15) "
        "ON CONFLICT ON CONSTRAINT alerts_once DO NOTHING",
        row["alert_id"], row["case_id"], row["case_number"], row["routed_event_id"], row["responder_id"],
        row["center_id"], row["step"], row["level"], row["kind"], row["channels"],
        row["channels"][0]["kind"], row["channels"][0]["address"], row["channels"][0].get("secret_ref"),
        row["payload"], current_traceparent(),
    )
    return status.endswith(" 1")


async def unit_alerted(conn: asyncpg.Connection, case_id: uuid.UUID, routed_event_id: uuid.UUID) -> uuid.UUID | None:
    """The unit (center, or agency) the case had when that routing's alerts went out; None if it had none."""
    unit: uuid.UUID | None = await conn.fetchval(
        "SELECT center_id FROM alerts WHERE case_id = $1 AND routed_event_id = $2 AND center_id IS NOT NULL "
        "LIMIT 1", case_id, routed_event_id)
    return unit


async def claim_due(conn: asyncpg.Connection, *, limit: int, lease_seconds: float,
                    exclude: Sequence[uuid.UUID] = ()) -> list[asyncpg.Record]:
    """Take due alerts under a lease: two notify instances never send the same alert at the same time,
    and an instance that dies mid-send loses its lease, so another picks the alert up. `exclude`: responders
    this instance is sending to right now."""
    return list(await conn.fetch(
        "UPDATE alerts SET lease_until = now() + make_interval(secs => $2), attempts = attempts + 1, "
        "  channel_attempts = channel_attempts + 1 "
        "WHERE alert_id IN (SELECT alert_id FROM alerts WHERE status = 'pending' AND next_attempt_at <= now() "
        "  AND (lease_until IS NULL OR lease_until < now()) AND responder_id <> ALL($3::uuid[]) "
        "  ORDER BY next_attempt_at LIMIT $1 FOR UPDATE SKIP LOCKED) "
        "RETURNING *",
        limit, lease_seconds, list(exclude),
    ))


async def record_attempt(conn: asyncpg.Connection, *, alert_id: uuid.UUID, delivery_id: uuid.UUID, channel: str,
                         address_hint: str, outcome: str, http_status: int | None, error: str | None,
                         duration_ms: float) -> None:
    await conn.execute(
        "INSERT INTO attempts (alert_id, delivery_id, channel, address_hint, outcome, http_status, error, "
        "  duration_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        alert_id, delivery_id, channel, address_hint, outcome, http_status, error, duration_ms,
    )


async def mark_sent(conn: asyncpg.Connection, alert_id: uuid.UUID) -> bool:
    """False if the alert was cancelled meanwhile (an acknowledgement while it was in flight)."""
    status: str = await conn.execute(
        "UPDATE alerts SET status = 'sent', sent_at = now(), lease_until = NULL, last_error = NULL "
        "WHERE alert_id = $1 AND status = 'pending'", alert_id)
    return status.endswith(" 1")


async def mark_failed(conn: asyncpg.Connection, alert_id: uuid.UUID, error: str) -> bool:
    status: str = await conn.execute(
        "UPDATE alerts SET status = 'failed', lease_until = NULL, last_error = $2 "
        "WHERE alert_id = $1 AND status = 'pending'", alert_id, error)
    return status.endswith(" 1")


async def schedule_retry(conn: asyncpg.Connection, alert_id: uuid.UUID, *, delay: float, error: str) -> None:
    await conn.execute(
        "UPDATE alerts SET lease_until = NULL, last_error = $2, "
        "next_attempt_at = now() + make_interval(secs => $3) WHERE alert_id = $1 AND status = 'pending'",
        alert_id, error, delay,
    )


async def next_channel(conn: asyncpg.Connection, alert_id: uuid.UUID, *, index: int, channel: dict[str, Any],
                       error: str) -> None:
    """Fall back to the responder's next channel, at once."""
    await conn.execute(
        "UPDATE alerts SET lease_until = NULL, last_error = $2, channel_index = $3, channel_attempts = 0, "
        "  channel = $4, address = $5, secret_ref = $6, next_attempt_at = now() "
        "WHERE alert_id = $1 AND status = 'pending'",
        alert_id, error, index, channel["kind"], channel["address"], channel.get("secret_ref"),
    )


async def cancel_pending(conn: asyncpg.Connection, case_id: uuid.UUID) -> int:
    """Stop every pending alert about the case, on every channel, at once."""
    status: str = await conn.execute(
        "UPDATE alerts SET status = 'cancelled', lease_until = NULL WHERE case_id = $1 AND status = 'pending'",
        case_id)
    return int(status.rsplit(maxsplit=1)[-1])


async def next_due_in(conn: asyncpg.Connection, *, exclude: Sequence[uuid.UUID] = ()) -> float | None:
    value = await conn.fetchval(
        "SELECT extract(epoch FROM min(greatest(next_attempt_at, coalesce(lease_until, next_attempt_at))) - now()) "
        "FROM alerts WHERE status = 'pending' AND responder_id <> ALL($1::uuid[])", list(exclude))
    return None if value is None else max(0.0, float(value))


async def get_alert(conn: asyncpg.Connection, alert_id: uuid.UUID) -> asyncpg.Record | None:
    row: asyncpg.Record | None = await conn.fetchrow("SELECT * FROM alerts WHERE alert_id = $1", alert_id)
    return row


async def alerts_of_case(conn: asyncpg.Connection, case_id: uuid.UUID) -> list[asyncpg.Record]:
    return list(await conn.fetch(
        "SELECT alert_id, responder_id, step, level, kind, channel, status, attempts, last_error, created_at, "
        "  sent_at FROM alerts WHERE case_id = $1 ORDER BY created_at, step, responder_id", case_id))


async def attempts_of_case(conn: asyncpg.Connection, case_id: uuid.UUID) -> list[asyncpg.Record]:
    return list(await conn.fetch(
        "SELECT t.alert_id, t.delivery_id, t.at, t.channel, t.address_hint, t.outcome, t.http_status, t.error, "
        "  t.duration_ms FROM attempts t JOIN alerts a USING (alert_id) WHERE a.case_id = $1 ORDER BY t.at, t.id",
        case_id))


# ---- timers ------------------------------------------------------------------------------------------------------


async def schedule_timer(conn: asyncpg.Connection, *, case_id: uuid.UUID, routed_event_id: uuid.UUID, kind: str,
                         step: int, fire_at: datetime) -> None:
    await conn.execute(
        "INSERT INTO timers (case_id, routed_event_id, kind, step, fire_at, traceparent) "
        "VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (routed_event_id, kind, step) DO NOTHING",
        case_id, routed_event_id, kind, step, fire_at, current_traceparent())


async def claim_timer(conn: asyncpg.Connection, *, instance: str) -> asyncpg.Record | None:
    """One due timer, locked for this transaction and marked fired in it: if the transaction rolls back (the
    process dies mid-step), the timer is due again; if it commits, it never fires again."""
    row: asyncpg.Record | None = await conn.fetchrow(
        "UPDATE timers SET state = 'fired', fired_at = now(), fired_by = $1 WHERE timer_id = ("
        "  SELECT timer_id FROM timers WHERE state = 'pending' AND fire_at <= now() ORDER BY fire_at, timer_id "
        "  LIMIT 1 FOR UPDATE SKIP LOCKED) RETURNING *", instance)
    return row


async def set_aside_timer(conn: asyncpg.Connection, timer_id: int, *, error: str) -> None:
    await conn.execute("UPDATE timers SET state = 'failed', fired_at = now(), error = $2 WHERE timer_id = $1",
                       timer_id, error)


async def cancel_timers(conn: asyncpg.Connection, case_id: uuid.UUID, kind: str | None = None) -> int:
    status: str = await conn.execute(
        "UPDATE timers SET state = 'cancelled' WHERE case_id = $1 AND state = 'pending' "
        "AND ($2::text IS NULL OR kind = $2)", case_id, kind)
    return int(status.rsplit(maxsplit=1)[-1])


async def next_timer_in(conn: asyncpg.Connection) -> float | None:
    value = await conn.fetchval(
        "SELECT extract(epoch FROM min(fire_at) - now()) FROM timers WHERE state = 'pending'")
    return None if value is None else max(0.0, float(value))


async def timers_of_case(conn: asyncpg.Connection, case_id: uuid.UUID) -> list[asyncpg.Record]:
    return list(await conn.fetch(
        "SELECT kind, step, fire_at, state, fired_at, fired_by FROM timers WHERE case_id = $1 "
        "ORDER BY fire_at, timer_id", case_id))


# ---- actions -----------------------------------------------------------------------------------------------------


async def record_action(conn: asyncpg.Connection, *, case_id: uuid.UUID, responder_id: uuid.UUID, action: str,
                        via: str, detail: str = "") -> None:
    await conn.execute("INSERT INTO actions (case_id, responder_id, action, via, detail) VALUES ($1,$2,$3,$4,$5)",
                       case_id, responder_id, action, via, detail)


async def actions_of_case(conn: asyncpg.Connection, case_id: uuid.UUID) -> list[asyncpg.Record]:
    return list(await conn.fetch(
        "SELECT responder_id, action, via, detail, at FROM actions WHERE case_id = $1 ORDER BY at, id", case_id))


# ---- the demo inbox ----------------------------------------------------------------------------------------------


async def save_inbox(conn: asyncpg.Connection, *, delivery_id: str, signature_ok: bool, body: Any) -> bool:
    status: str = await conn.execute(
        "INSERT INTO demo_inbox (delivery_id, signature_ok, body) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
        delivery_id, signature_ok, body)
    return status.endswith(" 1")


async def inbox(conn: asyncpg.Connection, limit: int) -> list[asyncpg.Record]:
    return list(await conn.fetch("SELECT * FROM demo_inbox ORDER BY received_at DESC LIMIT $1", limit))
