"""The registry's SQL; nothing else touches its tables."""

from __future__ import annotations

import uuid

import asyncpg

from hotline_common.events import CenterRecord, ResponderRecord


async def count_centers(conn: asyncpg.Connection) -> int:
    return int(await conn.fetchval("SELECT count(*) FROM centers"))


async def insert_centers(conn: asyncpg.Connection, centers: list[CenterRecord]) -> None:
    await conn.copy_records_to_table(
        "centers",
        columns=["center_id", "name_th", "name_en", "tambon_code", "amphoe_code", "province_code", "lat", "lon",
                 "host_type", "status"],
        records=[(c.center_id, c.name_th, c.name_en, c.tambon_code, c.amphoe_code, c.province_code, c.lat, c.lon,
                  c.host_type, c.status) for c in centers],
    )


async def insert_responders(conn: asyncpg.Connection, responders: list[ResponderRecord]) -> None:
    await conn.executemany(
        "INSERT INTO responders (responder_id, display_name, kind, center_ids, channels) VALUES ($1,$2,$3,$4,$5)",
        [(r.responder_id, r.display_name, r.kind, r.center_ids, [c.model_dump() for c in r.channels])
         for r in responders],
    )


async def upsert_account(conn: asyncpg.Connection, *, username: str, password_hash: str, role: str,
                         center_id: uuid.UUID | None = None) -> None:
    await conn.execute(
        "INSERT INTO accounts (username, password_hash, role, center_id) VALUES ($1, $2, $3, $4) "
        "ON CONFLICT (username) DO UPDATE SET password_hash = $2, role = $3, center_id = $4",
        username, password_hash, role, center_id,
    )


async def get_account(conn: asyncpg.Connection, username: str) -> asyncpg.Record | None:
    return await conn.fetchrow("SELECT username, password_hash, role, center_id FROM accounts WHERE username = $1",
                               username)


async def get_center(conn: asyncpg.Connection, center_id: uuid.UUID) -> asyncpg.Record | None:
    return await conn.fetchrow("SELECT * FROM centers WHERE center_id = $1", center_id)


async def centers_in_tambon(conn: asyncpg.Connection, tambon_code: str) -> list[asyncpg.Record]:
    return list(await conn.fetch("SELECT * FROM centers WHERE tambon_code = $1 ORDER BY name_th", tambon_code))
