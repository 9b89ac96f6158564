"""Composition root of routing: runtime, the live center index, subscribers. No logic here."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from hotline_common import topics
from hotline_common.runtime import build_runtime
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
    centers = runtime.follow(topics.REGISTRY_CENTER, index.apply, check="center_index")
    runtime.extras.update(index=index, centers=centers, index_ready_timeout=settings.index_ready_timeout)
    app = service_app(runtime, title="1300 hotline — routing (จัดส่งเรื่อง)", migrations=MIGRATIONS,
                      description="Sends every case to the right center with a priority.")
    app.include_router(api.router)
    return app
