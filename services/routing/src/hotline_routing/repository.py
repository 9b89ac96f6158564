"""Routing's SQL; nothing else touches its tables."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import asyncpg

from hotline_common.events import CaseReported, CaseRouted


@dataclass(frozen=True)
class StoredCase:
    report: CaseReported  # description blanked: routing keeps what it needs, not what the caller said
    priority: str | None
    priority_reasons: list[str]


async def save_case(conn: asyncpg.Connection, case: CaseReported, *, priority: str | None,
                    priority_reasons: list[str]) -> None:
    report = case.model_dump(mode="json", exclude={"description"})
    await conn.execute(
        "INSERT INTO cases (case_id, case_number, report, priority, priority_reasons) VALUES ($1, $2, $3, $4, $5) "
        "ON CONFLICT (case_id) DO NOTHING",
        case.case_id, case.case_number, report, priority, priority_reasons)


async def get_case(conn: asyncpg.Connection, case_id: uuid.UUID) -> StoredCase | None:
    row = await conn.fetchrow("SELECT report, priority, priority_reasons FROM cases WHERE case_id = $1", case_id)
    if row is None:
        return None
    return StoredCase(CaseReported.model_validate({**row["report"], "description": ""}), row["priority"],
                      list(row["priority_reasons"]))


async def set_priority(conn: asyncpg.Connection, case_id: uuid.UUID, *, priority: str,
                       priority_reasons: list[str]) -> None:
    await conn.execute("UPDATE cases SET priority = $2, priority_reasons = $3 WHERE case_id = $1",
                       case_id, priority, priority_reasons)


async def save_decision(conn: asyncpg.Connection, *, case_id: uuid.UUID, reported_event_id: uuid.UUID,
                        center_id: uuid.UUID | None, rule: str, distance_km: float | None,
                        priority: str | None, attempt: int = 1, trigger_event_id: uuid.UUID | None = None,
                        routed: CaseRouted | None = None) -> None:
    await conn.execute(
        "INSERT INTO decisions (case_id, reported_event_id, center_id, rule, distance_km, priority, attempt, "
        "trigger_event_id, routed) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        case_id, reported_event_id, center_id, rule, distance_km, priority, attempt, trigger_event_id,
        routed.model_dump(mode="json") if routed is not None else None,
    )


async def decisions_of(conn: asyncpg.Connection, case_id: uuid.UUID) -> list[dict[str, Any]]:
    """Every decision for the case, first attempt first; locked, so two re-routings of one case queue up."""
    rows = await conn.fetch("SELECT attempt, center_id, rule, routed FROM decisions WHERE case_id = $1 "
                            "ORDER BY attempt FOR UPDATE", case_id)
    return [dict(r) for r in rows]
