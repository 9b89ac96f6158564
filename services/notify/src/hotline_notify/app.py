"""Composition root of notify: runtime, the live directory, channels, workflow, dispatcher, timers. No logic here."""

from __future__ import annotations

import asyncio
import os
import socket
from pathlib import Path

from fastapi import FastAPI

from hotline_common import topics
from hotline_common.events.registry import DEMO_SECRET_REF
from hotline_common.runtime import build_runtime
from hotline_common.web import service_app
from hotline_notify import api, handlers, line_webhook, page
from hotline_notify.channels import AlertChannel, EmailChannel, LineChannel, SmsChannel, WebhookChannel
from hotline_notify.config import NotifySettings
from hotline_notify.contact import ContactClient
from hotline_notify.dispatcher import Dispatcher
from hotline_notify.links import Links
from hotline_notify.oncall import Directory
from hotline_notify.timers import TimerWorker
from hotline_notify.workflow import Workflow

MIGRATIONS = Path(__file__).parent / "migrations"


def channels_from(settings: NotifySettings) -> dict[str, AlertChannel]:
    """Every channel the settings configure; an alert for a channel that is not configured falls back to the
    responder's next one."""
    timeout = settings.channel_timeout_seconds
    secrets = {DEMO_SECRET_REF: settings.demo_webhook_secret.get_secret_value()}
    channels: dict[str, AlertChannel] = {"webhook": WebhookChannel(secrets, timeout)}
    if settings.line_channel_access_token.get_secret_value():
        channels["line"] = LineChannel(settings.line_api_base_url, settings.line_channel_access_token
                                       .get_secret_value(), timeout)
    if settings.sms_gateway_url:
        channels["sms"] = SmsChannel(settings.sms_gateway_url, settings.sms_api_key.get_secret_value(),
                                     settings.sms_sender, timeout)
    if settings.smtp_host:
        channels["email"] = EmailChannel(settings.smtp_host, settings.smtp_port, settings.smtp_sender,
                                         username=settings.smtp_username or None,
                                         password=settings.smtp_password.get_secret_value() or None,
                                         starttls=settings.smtp_starttls, timeout=timeout)
    return channels


def create_app(settings: NotifySettings | None = None) -> FastAPI:
    settings = settings or NotifySettings()
    runtime = build_runtime(settings, service="notify")
    runtime.broker.include_router(handlers.router)
    directory = Directory(settings.hotline_unit_id)
    views = [runtime.follow(topics.REGISTRY_RESPONDER, directory.apply_responder, check="responder_index"),
             runtime.follow(topics.REGISTRY_ROTA, directory.apply_rota, check="rota_index")]
    links = Links(settings.link_secret.get_secret_value(), settings.public_base_url.rstrip("/"),
                  settings.link_ttl_hours * 3600)
    workflow = Workflow(settings=settings, directory=directory, source=runtime.source,
                        instance=f"{socket.gethostname()}:{os.getpid()}")
    dispatcher = Dispatcher(runtime, channels_from(settings), links)
    timers = TimerWorker(runtime, workflow, on_fired=dispatcher.wake,
                         ready=lambda: asyncio.gather(*(view.ready.wait() for view in views)))
    contacts = ContactClient(settings.intake_url, settings.jwt_secret.get_secret_value(),
                             settings.channel_timeout_seconds)
    runtime.components += [dispatcher, timers, contacts]
    runtime.extras.update(views=views, directory=directory, workflow=workflow, dispatcher=dispatcher, timers=timers,
                          links=links, contacts=contacts)
    app = service_app(runtime, title="1300 hotline — notify (แจ้งเตือนผู้ปฏิบัติงาน)", migrations=MIGRATIONS,
                      signed_prefixes=("/v1/line/",),  # the signature is checked before the body is read
                      description="Alerts the responders on call, escalates when nobody acknowledges, and serves "
                                  "the responders' page (acknowledge, decline, resolve).",
                      publishes=(topics.ALERT_SENT, topics.ALERT_FAILED, topics.CASE_ACKNOWLEDGED,
                                 topics.CASE_DECLINED, topics.CASE_ESCALATED, topics.CASE_RESOLVED))
    app.include_router(api.router)
    app.include_router(page.router)
    app.include_router(line_webhook.router)
    return app
