"""Where the tests find Kafka and PostgreSQL: the running ones named by environment variables, else
testcontainers where a Docker engine answers, else a failure that says how to start them (never a skip)."""

from __future__ import annotations

import os
import urllib.parse
import uuid
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import pytest

ROOT = Path(__file__).resolve().parents[1]
INIT_SQL = ROOT / "deploy" / "postgres" / "init.sql"
HOW_TO = (
    "Kafka and PostgreSQL are needed. Run the suite with `make test` (it starts both natively), or set "
    "KAFKA_BOOTSTRAP_SERVERS and DATABASE_ADMIN_URL (a superuser DSN) to running ones, or provide a Docker "
    "engine for testcontainers."
)


@dataclass
class Infra:
    kafka_bootstrap: str
    admin_url: str


def docker_available() -> bool:
    try:
        import docker

        docker.from_env(timeout=3).ping()
        return True
    except Exception:
        return False


def with_database(admin_url: str, database: str) -> str:
    u = urllib.parse.urlsplit(admin_url)
    return urllib.parse.urlunsplit((u.scheme, u.netloc, f"/{database}", u.query, ""))


async def provision_database(admin_url: str, prefix: str = "hotline_test") -> str:
    """A fresh database with the services' roles and schemas (deploy/postgres/init.sql); returns its admin URL."""
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    conn = await asyncpg.connect(admin_url)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    url = with_database(admin_url, name)
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(INIT_SQL.read_text("utf-8"))
    finally:
        await conn.close()
    return url


def locate_infra() -> tuple[Infra, list[object]]:
    """Returns the infrastructure and the containers to stop at the end (if testcontainers started any)."""
    kafka, admin = os.environ.get("KAFKA_BOOTSTRAP_SERVERS"), os.environ.get("DATABASE_ADMIN_URL")
    if kafka and admin:
        return Infra(kafka, admin), []
    if docker_available():
        from testcontainers.kafka import KafkaContainer
        from testcontainers.postgres import PostgresContainer

        kc = KafkaContainer("apache/kafka:4.1.1").with_kraft()
        pc = PostgresContainer("postgres:16", dbname="hotline", driver=None)
        kc.start()
        pc.start()
        return Infra(kc.get_bootstrap_server(), pc.get_connection_url()), [kc, pc]
    pytest.fail(HOW_TO, pytrace=False)
