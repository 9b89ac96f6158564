"""Composition root of intake: runtime, the PII vault, HTTP routes, timeline subscribers. No logic here."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from hotline_common import topics
from hotline_common.crypto import PiiVault
from hotline_common.runtime import build_runtime
from hotline_common.web import service_app
from hotline_gazetteer import gazetteer
from hotline_intake import api, handlers
from hotline_intake.centers import CenterDirectory
from hotline_intake.config import IntakeSettings

MIGRATIONS = Path(__file__).parent / "migrations"


def create_app(settings: IntakeSettings | None = None) -> FastAPI:
    settings = settings or IntakeSettings()
    runtime = build_runtime(settings, service="intake")
    runtime.broker.include_router(handlers.router)
    centers = CenterDirectory()
    runtime.extras["centers"] = centers
    runtime.follow(topics.REGISTRY_CENTER, centers.apply, check="center_index")
    gazetteer()  # load the places before the first request, not during it
    app = service_app(runtime, title="1300 hotline — intake (รับแจ้งเหตุ)", migrations=MIGRATIONS,
                      signed_prefixes=("/v1/line/",),  # the signature is checked before the body is read
                      description="Takes cases from the hotline, LINE and walk-ins; shows each case's timeline.")
    app.state.vault = PiiVault(settings.pii_encryption_key.get_secret_value(),
                               settings.pii_lookup_key.get_secret_value())
    app.include_router(api.router)
    return app
