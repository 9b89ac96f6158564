"""Composition root of intake: runtime, the PII vault, HTTP routes, the console, timeline subscribers and the live
timeline. No logic here."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from hotline_common import topics
from hotline_common.crypto import PiiVault
from hotline_common.runtime import build_runtime
from hotline_common.throttle import Throttle
from hotline_common.web import service_app
from hotline_gazetteer import gazetteer
from hotline_intake import api, console, handlers, search, stream
from hotline_intake.centers import CenterDirectory
from hotline_intake.config import IntakeSettings
from hotline_intake.line import webhook as line_webhook
from hotline_intake.line.inbox import LineInbox
from hotline_intake.live import CaseFeed

MIGRATIONS = Path(__file__).parent / "migrations"


def create_app(settings: IntakeSettings | None = None) -> FastAPI:
    settings = settings or IntakeSettings()
    runtime = build_runtime(settings, service="intake")
    runtime.include_read_model(handlers.timeline)
    centers = CenterDirectory()
    runtime.extras["centers"] = centers
    runtime.follow(topics.REGISTRY_CENTER, centers.apply, check="center_index")
    gazetteer()  # load the places before the first request, not during it
    runtime.startup.append(search.warm_places)
    runtime.extras["case_feed"] = CaseFeed(runtime)  # the live timeline: one LISTEN per process
    runtime.components.append(runtime.extras["case_feed"])
    app = service_app(runtime, title="1300 hotline — intake (รับแจ้งเหตุ)", migrations=MIGRATIONS,
                      signed_prefixes=("/v1/line/",),  # the signature is checked before the body is read
                      description="Takes cases from the hotline, LINE and walk-ins; shows each case's timeline.",
                      publishes=(topics.CASE_REPORTED, topics.CASE_URGENCY_RAISED))
    app.state.vault = PiiVault(settings.pii_encryption_key.get_secret_value(),
                               settings.pii_lookup_key.get_secret_value())
    app.state.report_throttle = Throttle(settings.report_rate, max_wait=settings.report_rate_max_wait_seconds)
    app.include_router(search.router)
    app.include_router(api.router)
    app.include_router(stream.router)
    console.mount(app)
    app.include_router(line_webhook.router)
    if settings.line_channel_secret.get_secret_value():  # the public's LINE account: the webhook's worker
        runtime.extras["line_inbox"] = LineInbox(runtime, app.state.vault, settings)
        runtime.components.append(runtime.extras["line_inbox"])
    return app
