"""Seeding local mode: the demo directory into an empty registry, and the demo accounts."""

from __future__ import annotations

import logging

import asyncpg

from hotline_common.auth import Role
from hotline_common.events import AgencyType
from hotline_registry import repository
from hotline_registry.accounts import hash_password
from hotline_registry.config import RegistrySettings
from hotline_registry.demo import (
    DEMO_ACCOUNTS,
    DEMO_RESPONDER_TAMBON,
    agency_id_for,
    center_id_for,
    demo_directory,
    responder_id_for,
)
from hotline_registry.repository import AGENCIES, CENTERS, RESPONDERS, ROTAS

log = logging.getLogger("hotline.registry.seed")
ACTOR = "seed"


async def seed_demo(pool: asyncpg.Pool, settings: RegistrySettings) -> int:
    """Idempotent: seeds only an empty directory, and always (re)sets the demo accounts' password."""
    seeded = 0
    async with pool.acquire() as conn, conn.transaction():
        # Serialise concurrent seeders (two registry replicas starting together).
        await conn.execute("LOCK TABLE centers IN EXCLUSIVE MODE")
        if not await repository.count(conn, CENTERS):
            demo = demo_directory(settings.demo_alert_webhook_url)
            # State and its events in one transaction: the compacted topics can never disagree with the tables.
            await repository.upsert_many(conn, CENTERS, demo.centers, actor=ACTOR, action="seed")
            await repository.upsert_many(conn, AGENCIES, demo.agencies, actor=ACTOR, action="seed")
            await repository.upsert_many(conn, RESPONDERS, demo.responders, actor=ACTOR, action="seed")
            await repository.upsert_many(conn, ROTAS, demo.rotas, actor=ACTOR, action="seed")
            seeded = len(demo.centers)
            log.info("seeded %d demo centers, %d agencies, %d responders, %d rotas", len(demo.centers),
                     len(demo.agencies), len(demo.responders), len(demo.rotas))
        password = hash_password(settings.demo_password.get_secret_value())
        for username, role in DEMO_ACCOUNTS:
            await repository.upsert_account(conn, username=username, password_hash=password, role=role.value)
        # The demo responder is the volunteer of the demo center in Phra Nakhon (if the directory has them).
        volunteer = responder_id_for(DEMO_RESPONDER_TAMBON)
        await repository.upsert_account(
            conn, username="responder", password_hash=password, role=Role.responder.value,
            responder_id=volunteer if await repository.get(conn, RESPONDERS, volunteer) else None)
        # Staff scoped to one unit: a center (walk-ins) and Bangkok's shelter (free places).
        await repository.upsert_account(conn, username="center", password_hash=password,
                                        role=Role.center_staff.value, center_id=center_id_for(DEMO_RESPONDER_TAMBON))
        await repository.upsert_account(conn, username="shelter", password_hash=password,
                                        role=Role.agency_staff.value,
                                        agency_id=agency_id_for("10", AgencyType.children_family_shelter))
    return seeded
