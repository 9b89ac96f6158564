"""Composition root of routing: runtime, the live indexes, the rules, subscribers. No logic here."""

from __future__ import annotations

import asyncio
import gc
from pathlib import Path

from fastapi import FastAPI

from hotline_common import topics
from hotline_common.runtime import build_runtime
from hotline_common.web import service_app
from hotline_gazetteer import gazetteer
from hotline_routing import api, handlers
from hotline_routing.config import RoutingSettings
from hotline_routing.engine import Routing
from hotline_routing.locate import plausible_range_km
from hotline_routing.rules import load_rules

MIGRATIONS = Path(__file__).parent / "migrations"


async def freeze_when_loaded(routing: Routing) -> None:
    """Once the indexes are loaded, move the process's million long-lived objects (places, centers, rules) out of
    the cyclic collector's reach: its full collections otherwise rescan them all, a sizeable share of each
    decision's time under load (see bench/routing_decisions.py, which does the same)."""
    await routing.ready()
    gc.collect()
    gc.freeze()


def create_app(settings: RoutingSettings | None = None) -> FastAPI:
    settings = settings or RoutingSettings()
    runtime = build_runtime(settings, service="routing")
    runtime.broker.include_router(handlers.router)
    # A bad rules file stops the service at start, naming every bad rule, rather than misrouting cases later.
    routing = Routing.from_settings(settings, gazetteer(), load_rules(settings.agency_rules_file))
    # The indexes are rebuilt from the registry's topics at every start, never from another service's tables.
    routing.views += [runtime.follow(topics.REGISTRY_CENTER, routing.centers.apply, check="center_index"),
                      runtime.follow(topics.REGISTRY_AGENCY, routing.agencies.apply, check="agency_index")]
    runtime.extras.update(routing=routing, index_ready_timeout=settings.index_ready_timeout)

    async def warm_up() -> None:
        # The text resolver's index and the provinces' ranges: built once, at start, not on the first case.
        await asyncio.to_thread(lambda: (gazetteer().index, plausible_range_km(gazetteer())))
        runtime.extras["freeze"] = asyncio.create_task(freeze_when_loaded(routing))

    runtime.startup.append(warm_up)
    app = service_app(runtime, title="1300 hotline — routing (จัดส่งเรื่อง)", migrations=MIGRATIONS,
                      description="Sends every case to the right center and agency, with a priority and an "
                                  "acknowledgement deadline; re-routes when a center declines.",
                      publishes=(topics.CASE_ROUTED, topics.CASE_UNROUTABLE))
    app.include_router(api.router)
    return app
