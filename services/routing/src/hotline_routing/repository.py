"""Routing's SQL; nothing else touches its tables."""

from __future__ import annotations

import uuid

import asyncpg


async def save_decision(conn: asyncpg.Connection, *, case_id: uuid.UUID, reported_event_id: uuid.UUID,
                        center_id: uuid.UUID | None, rule: str, distance_km: float | None,
                        priority: str | None) -> None:
    await conn.execute(
        "INSERT INTO decisions (case_id, reported_event_id, center_id, rule, distance_km, priority) "
        "VALUES ($1, $2, $3, $4, $5, $6)",
        case_id, reported_event_id, center_id, rule, distance_km, priority,
    )
