"""Composition root of the watchdog: no database (it must page while PostgreSQL is away), the heartbeat
subscriber, the checking loop and its pager."""

from __future__ import annotations

from fastapi import FastAPI

from hotline_common import topics
from hotline_common.runtime import build_runtime
from hotline_common.web import service_app
from hotline_watchdog import api, handlers
from hotline_watchdog.config import WatchdogSettings
from hotline_watchdog.pager import Pager
from hotline_watchdog.watch import Watchdog


def create_app(settings: WatchdogSettings | None = None) -> FastAPI:
    settings = settings or WatchdogSettings()
    runtime = build_runtime(settings, service="watchdog")
    runtime.broker.include_router(handlers.router)
    watchdog = Watchdog(runtime, settings, Pager(settings))
    runtime.extras["watchdog"] = watchdog
    runtime.components.append(watchdog)
    app = service_app(runtime, title="1300 hotline — watchdog (เฝ้าระวังระบบ)", migrations=None,
                      publishes=(topics.OPS_ALARM,),
                      description="Pages the ops on-call when a service stops sending heartbeats, is stuck on a "
                                  "record or falls behind its topics; needs neither PostgreSQL nor the services.")
    app.include_router(api.router)
    return app
