"""Composition root of notify: runtime, the live responders index, channels, dispatcher. No logic here."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

from fastapi import FastAPI

from hotline_common import topics
from hotline_common.events.registry import DEMO_SECRET_REF, ResponderRecord
from hotline_common.runtime import build_runtime, running
from hotline_common.views import CompactedView
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
    responders: CompactedView[ResponderRecord] = CompactedView(
        topics.REGISTRY_RESPONDER, settings.kafka_bootstrap_servers, on_change=index.apply)
    secrets = {DEMO_SECRET_REF: settings.demo_webhook_secret.get_secret_value()}
    channels: dict[str, AlertChannel] = {"webhook": WebhookChannel(secrets, settings.webhook_timeout_seconds)}
    dispatcher = Dispatcher(runtime, channels)
    runtime.extras.update(responders=responders, responder_index=index, dispatcher=dispatcher,
                          public_base_url=settings.public_base_url.rstrip("/"))
    runtime.checks["responder_index"] = responders.ready.is_set

    async def follow_registry() -> None:
        responders.start()
        dispatcher.start()

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        async with running(runtime, migrations=MIGRATIONS, before_consuming=follow_registry):
            try:
                yield
            finally:
                await dispatcher.stop()
                await responders.stop()

    app = service_app(runtime, title="1300 hotline — notify (แจ้งเตือนผู้ปฏิบัติงาน)", lifespan=lifespan,
                      description="Alerts the responders on call and tracks every delivery attempt.")
    app.include_router(api.router)
    return app
