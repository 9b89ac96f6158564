"""Re-seal intake's personal data under the newest PII key, so an old key can be retired.

Runs beside the live service (`hotline-intake rotate-pii`): small batches, each in its own transaction with the
rows locked, so a report being written or a case being opened is never blocked for long and a crash halfway
loses nothing (every value stays readable by the keys in PII_ENCRYPTION_KEY; run it again to finish).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

import asyncpg

from hotline_common import db
from hotline_common.crypto import PiiVault

log = logging.getLogger("hotline.intake.rotation")

# Every sealed column of intake, by table and key column. A new sealed column must be added here.
SEALED: dict[str, tuple[str, tuple[str, ...]]] = {
    "cases": ("case_id", ("description_enc", "caller_name_enc", "caller_phone_enc", "address_enc",
                          "national_id_enc")),
    "case_notes": ("note_id", ("body_enc",)),
    "line_inbox": ("event_id", ("event_enc",)),
    "line_conversations": ("user_key", ("user_id_enc", "state_enc")),
    "line_replies": ("reply_id", ("messages_enc",)),
}


@dataclass
class RotationReport:
    rows: int = 0
    values: int = 0


async def rotate_table(conn: asyncpg.Connection, vault: PiiVault, table: str, *, batch: int = 500
                       ) -> RotationReport:
    key, columns = SEALED[table]
    report, after = RotationReport(), None
    cols = ", ".join(columns)
    while True:
        async with conn.transaction():
            rows = await conn.fetch(
                f"SELECT {key} AS k, {key}::text AS page, {cols} FROM {table} "  # noqa: S608
                f"WHERE $1::text IS NULL OR {key}::text > $1 ORDER BY {key}::text LIMIT $2 FOR UPDATE", after, batch)
            for row in rows:
                fresh = {c: vault.rotate(row[c]) for c in columns if row[c] is not None}
                fresh = {c: v for c, v in fresh.items() if v is not None}
                if fresh:
                    sets = ", ".join(f"{c} = ${i}" for i, c in enumerate(fresh, start=2))
                    await conn.execute(f"UPDATE {table} SET {sets} WHERE {key} = $1",  # noqa: S608
                                       row["k"], *fresh.values())
                    report.rows += 1
                    report.values += len(fresh)
        if len(rows) < batch:
            return report
        after = rows[-1]["page"]


async def rotate_all(dsn: str, vault: PiiVault, *, schema: str = "intake") -> dict[str, RotationReport]:
    pool = await db.create_pool(dsn, schema=schema, max_size=1)
    try:
        async with pool.acquire() as conn:
            return {table: await rotate_table(conn, vault, table) for table in SEALED}
    finally:
        await pool.close()


def main(dsn: str, vault: PiiVault) -> None:
    reports = asyncio.run(rotate_all(dsn, vault))
    for table, r in reports.items():
        print(f"{table}: {r.rows} rows re-sealed ({r.values} values) under the newest key")
