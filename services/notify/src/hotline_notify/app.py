"""Composition root of notify: runtime, the live responders index, channels, dispatcher. No logic here."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from hotline_common import topics
from hotline_common.events.registry import DEMO_SECRET_REF
from hotline_common.runtime import build_runtime
from hotline_common.web import service_app
from hotline_notify import api, handlers
from hotline_notify.channels import AlertChannel, WebhookChannel
from hotline_notify.config import NotifySettings
from hotline_notify.dispatcher import Dispatcher
from hotline_notify.oncall import ResponderIndex

MIGRATIONS = Path(__file__).parent / "migrations"


def create_app(settings: NotifySettings | None = None) -> FastAPI:
    settings = settings or NotifySettings()
    runtime = build_runtime(settings, service="notify")
    runtime.broker.include_router(handlers.router)
    index = ResponderIndex()
    responders = runtime.follow(topics.REGISTRY_RESPONDER, index.apply, check="responder_index")
    secrets = {DEMO_SECRET_REF: settings.demo_webhook_secret.get_secret_value()}
    channels: dict[str, AlertChannel] = {"webhook": WebhookChannel(secrets, settings.webhook_timeout_seconds)}
    dispatcher = Dispatcher(runtime, channels)
    runtime.components.append(dispatcher)
    runtime.extras.update(responders=responders, responder_index=index, dispatcher=dispatcher,
                          public_base_url=settings.public_base_url.rstrip("/"))
    app = service_app(runtime, title="1300 hotline — notify (แจ้งเตือนผู้ปฏิบัติงาน)", migrations=MIGRATIONS,
                      description="Alerts the responders on call and tracks every delivery attempt.")
    app.include_router(api.router)
    return app
