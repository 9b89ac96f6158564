"""Composition root of the ops console: runtime, the live tail, the lag and dead-letter samples, the centers' names,
subscribers, the API and the page. No logic here."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from hotline_common import topics
from hotline_common.events.base import utcnow
from hotline_common.health import Thresholds
from hotline_common.runtime import build_runtime
from hotline_common.stream import EventView, view_of
from hotline_common.web import service_app
from hotline_ops import api, console, deadletters, handlers, stream
from hotline_ops.centers import CenterNames
from hotline_ops.config import OpsSettings
from hotline_ops.geo import thailand
from hotline_ops.health import HealthBoard
from hotline_ops.live import LiveTail
from hotline_ops.samples import Samples

MIGRATIONS = Path(__file__).parent / "migrations"


def create_app(settings: OpsSettings | None = None) -> FastAPI:
    settings = settings or OpsSettings()
    runtime = build_runtime(settings, service="ops")
    runtime.broker.include_router(handlers.router)
    runtime.include_read_model(handlers.cases)
    tail: LiveTail[EventView] = LiveTail(settings.kafka_bootstrap_servers, topics=settings.stream_topics,
                                         decode=view_of, keep=settings.stream_replay_events,
                                         client_queue=settings.stream_client_queue,
                                         rate_window=settings.rate_window_seconds)
    health = HealthBoard(settings.health_services, Thresholds(
        missing_after=settings.missing_after_seconds, stuck_after=settings.stuck_after_seconds,
        lag_window=settings.lag_window_seconds), started=utcnow())
    samples = Samples(settings.kafka_bootstrap_servers, every=settings.sample_seconds, on_lag=health.record_lag)
    centers = CenterNames()
    runtime.extras.update(tail=tail, samples=samples, centers=centers, health=health)
    runtime.components += [tail, samples]
    runtime.checks["live_tail"] = tail.ready.is_set  # ready = what is published from now on is heard
    runtime.follow(topics.REGISTRY_CENTER, centers.apply, check="center_names")
    thailand()  # the map, drawn before the first page rather than during it
    app = service_app(runtime, title="1300 hotline — ops console (ติดตามระบบ)", migrations=MIGRATIONS,
                      description="The live event stream, rates and lag, open P1/P2 cases not acknowledged, dead "
                                  "letters and today's cases by province, for the ops team.",
                      publishes=(topics.OPS_AUDIT,))  # a replay's audit entry (the replay itself: its own topic)
    app.include_router(api.router)
    app.include_router(stream.router)
    app.include_router(deadletters.router)
    console.mount(app)
    return app
