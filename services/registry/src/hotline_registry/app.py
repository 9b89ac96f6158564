"""Composition root of the registry: runtime, seeding, HTTP routes. No logic here."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from hotline_common.runtime import build_runtime
from hotline_common.web import service_app
from hotline_registry import api, handlers
from hotline_registry.config import RegistrySettings
from hotline_registry.seed import seed_demo

MIGRATIONS = Path(__file__).parent / "migrations"


def create_app(settings: RegistrySettings | None = None) -> FastAPI:
    settings = settings or RegistrySettings()
    runtime = build_runtime(settings, service="registry")
    runtime.broker.include_router(handlers.router)

    async def seed() -> None:
        if settings.local and settings.seed_demo:
            await seed_demo(runtime.db, settings)

    runtime.startup.append(seed)
    app = service_app(runtime, title="1300 hotline — registry (ทะเบียนศูนย์และผู้ปฏิบัติงาน)", migrations=MIGRATIONS,
                      description="The national directory: places, centers, responders; issues access tokens.")
    app.include_router(api.router)
    return app
