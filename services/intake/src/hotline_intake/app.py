"""Composition root of intake: runtime, the PII vault, HTTP routes, timeline subscribers. No logic here."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

from fastapi import FastAPI

from hotline_common.crypto import PiiVault
from hotline_common.runtime import build_runtime, running
from hotline_common.web import service_app
from hotline_gazetteer import gazetteer
from hotline_intake import api, handlers
from hotline_intake.config import IntakeSettings

MIGRATIONS = Path(__file__).parent / "migrations"


def create_app(settings: IntakeSettings | None = None) -> FastAPI:
    settings = settings or IntakeSettings()
    runtime = build_runtime(settings, service="intake")
    runtime.broker.include_router(handlers.router)
    gazetteer()  # load the places before the first request, not during it

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        async with running(runtime, migrations=MIGRATIONS):
            yield

    app = service_app(runtime, title="1300 hotline — intake (รับแจ้งเหตุ)", lifespan=lifespan,
                      description="Takes cases from the hotline, LINE and walk-ins; shows each case's timeline.")
    app.state.vault = PiiVault(settings.pii_encryption_key.get_secret_value())
    app.include_router(api.router)
    return app
