"""Composition root of routing: runtime, the live center index, subscribers. No logic here."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

from fastapi import FastAPI

from hotline_common import topics
from hotline_common.events import CenterRecord
from hotline_common.runtime import build_runtime, running
from hotline_common.views import CompactedView
from hotline_common.web import service_app
from hotline_gazetteer import gazetteer
from hotline_routing import api, handlers
from hotline_routing.config import RoutingSettings
from hotline_routing.index import CenterIndex

MIGRATIONS = Path(__file__).parent / "migrations"


def create_app(settings: RoutingSettings | None = None) -> FastAPI:
    settings = settings or RoutingSettings()
    runtime = build_runtime(settings, service="routing")
    runtime.broker.include_router(handlers.router)
    gazetteer()
    index = CenterIndex()
    # The index is rebuilt from the registry's topic at every start, never from another service's tables.
    centers: CompactedView[CenterRecord] = CompactedView(topics.REGISTRY_CENTER, settings.kafka_bootstrap_servers,
                                                         on_change=index.apply)
    runtime.extras.update(index=index, centers=centers, index_ready_timeout=settings.index_ready_timeout)
    runtime.checks["center_index"] = centers.ready.is_set

    async def follow_registry() -> None:
        centers.start()

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        async with running(runtime, migrations=MIGRATIONS, before_consuming=follow_registry):
            try:
                yield
            finally:
                await centers.stop()

    app = service_app(runtime, title="1300 hotline — routing (จัดส่งเรื่อง)", lifespan=lifespan,
                      description="Sends every case to the right center with a priority.")
    app.include_router(api.router)
    return app
