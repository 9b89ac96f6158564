"""Demo data for local mode: one center and one on-call volunteer per sub-district, and the demo accounts."""

from __future__ import annotations

import logging

import asyncpg

from hotline_common import outbox, topics
from hotline_gazetteer import gazetteer
from hotline_registry import repository
from hotline_registry.config import RegistrySettings
from hotline_registry.directory import DEMO_ACCOUNTS, demo_center, demo_responder, hash_password

log = logging.getLogger("hotline.registry.seed")
SOURCE = "/hotline/registry"


async def seed_demo(pool: asyncpg.Pool, settings: RegistrySettings) -> int:
    """Idempotent: seeds only an empty directory, and always (re)sets the demo accounts' password."""
    async with pool.acquire() as conn, conn.transaction():
        # Serialise concurrent seeders (two registry replicas starting together).
        await conn.execute("LOCK TABLE centers IN EXCLUSIVE MODE")
        password = hash_password(settings.demo_password.get_secret_value())
        for username, role in DEMO_ACCOUNTS:
            await repository.upsert_account(conn, username=username, password_hash=password, role=role.value)
        if await repository.count_centers(conn):
            return 0
        centers = [demo_center(t) for t in gazetteer().tambons]
        responders = [demo_responder(c, settings.demo_alert_webhook_url) for c in centers]
        await repository.insert_centers(conn, centers)
        await repository.insert_responders(conn, responders)
        # State and its events in one transaction: the compacted topics can never disagree with the tables.
        await outbox.enqueue_many(conn, topics.REGISTRY_CENTER, list(centers), source=SOURCE)
        await outbox.enqueue_many(conn, topics.REGISTRY_RESPONDER, list(responders), source=SOURCE)
    log.info("seeded %d demo centers and responders", len(centers))
    return len(centers)
