"""The asyncpg pool and per-service migrations (numbered .sql files, applied once, in order, under a lock)."""

from __future__ import annotations

import json
import logging
import zlib
from pathlib import Path

import asyncpg

log = logging.getLogger("hotline.db")

# The tables every service with events has: the inbox (processed event ids) and the outbox (events to publish).
# They live in each service's own schema; a service never reads another's.
PLATFORM_SQL = """
CREATE TABLE IF NOT EXISTS inbox (
    event_id     uuid PRIMARY KEY,
    topic        text NOT NULL,
    processed_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS outbox (
    id         bigserial PRIMARY KEY,
    topic      text NOT NULL,
    key        text NOT NULL,
    headers    jsonb NOT NULL,
    payload    bytea NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
"""
# Compacted topics delete by tombstone: a record with a key and no value.
PLATFORM_TOMBSTONES_SQL = "ALTER TABLE outbox ALTER COLUMN payload DROP NOT NULL;"


async def _init_connection(conn: asyncpg.Connection) -> None:
    await conn.set_type_codec("jsonb", encoder=json.dumps, decoder=json.loads, schema="pg_catalog")
    await conn.set_type_codec("json", encoder=json.dumps, decoder=json.loads, schema="pg_catalog")


async def _keep_session(conn: asyncpg.Connection) -> None:
    """Release without asyncpg's default reset (UNLISTEN, RESET ALL, CLOSE ALL, unlock all): one more round trip
    and four statements for PostgreSQL on every release, about a tenth of a consumer's work per record. asyncpg
    still rolls back an open transaction. Nothing here LISTENs or SETs; the session advisory locks (migrations, the
    outbox leader, a LINE user) are released by their holders, which terminate the connection when that fails."""


async def create_pool(dsn: str, *, schema: str, max_size: int = 10) -> asyncpg.Pool:
    """A pool whose connections see only `schema` first (then pg_catalog)."""
    pool = await asyncpg.create_pool(
        dsn,
        min_size=1,
        max_size=max_size,
        init=_init_connection,
        reset=_keep_session,
        server_settings={"search_path": schema, "application_name": f"hotline-{schema}"},
        command_timeout=30,
    )
    assert pool is not None
    return pool


def _lock_key(schema: str) -> int:
    return zlib.crc32(f"migrate:{schema}".encode())


async def migrate(pool: asyncpg.Pool, *, schema: str, directory: Path) -> list[str]:
    """Apply the platform tables and every `NNN_*.sql` in `directory` not applied yet. Returns what it applied."""
    applied: list[str] = []
    # A handful of small files read once at start-up: blocking reads are fine here.
    files = [(p.stem, p.read_text("utf-8")) for p in sorted(directory.glob("*.sql"))]  # noqa: ASYNC240
    async with pool.acquire() as conn:
        # One migrator at a time, even with several replicas starting together.
        await conn.execute("SELECT pg_advisory_lock($1)", _lock_key(schema))
        try:
            # The schema and its owner role are provisioned by deploy/postgres/init.sql (the role may not
            # create schemas); a superuser DSN (tests, a fresh dev database) creates it here.
            if not await conn.fetchval("SELECT 1 FROM pg_namespace WHERE nspname = $1", schema):
                await conn.execute(f'CREATE SCHEMA "{schema}"')
            await conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations "
                "(version text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"
            )
            done = {r["version"] for r in await conn.fetch("SELECT version FROM schema_migrations")}
            steps: list[tuple[str, str]] = [("000_platform", PLATFORM_SQL),
                                            ("000_platform_tombstones", PLATFORM_TOMBSTONES_SQL)]
            steps += files
            for version, sql in steps:
                if version in done:
                    continue
                async with conn.transaction():
                    await conn.execute(sql)
                    await conn.execute("INSERT INTO schema_migrations (version) VALUES ($1)", version)
                applied.append(version)
                log.info("applied migration %s.%s", schema, version)
        finally:
            await conn.execute("SELECT pg_advisory_unlock($1)", _lock_key(schema))
    return applied


async def ping(pool: asyncpg.Pool, timeout: float = 2.0) -> bool:
    try:
        async with pool.acquire(timeout=timeout) as conn:
            return bool(await conn.fetchval("SELECT 1", timeout=timeout) == 1)
    except Exception:
        return False
