"""The operator console (หน้าจอรับแจ้งเหตุ 1300): one page for operators on a headset, call after call, and for
center staff registering walk-ins. Server-rendered (Jinja2), with a little plain JavaScript that talks to intake's
own JSON API; no build step, nothing from a CDN. Signing in goes through intake to the registry, so the page has a
single origin and the registry needs no CORS (hotline_common.signin)."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse

from hotline_common import labels
from hotline_common.auth import Role
from hotline_common.events import Category, Priority, Safety, TargetGroup
from hotline_common.pages import HEADERS, mount_console, static_version, templates
from hotline_common.signin import PageSession, Password, Username, sign_in
from hotline_intake.api import REPORTERS
from hotline_intake.cases import place_th
from hotline_intake.centers import CenterDirectory
from hotline_intake.config import IntakeSettings

router = APIRouter(include_in_schema=False)
HERE = Path(__file__).parent
TEMPLATES = templates(HERE / "templates")
STATIC = HERE / "static"
# Browsers keep the script and style until they change: the URL carries a hash of what is served.
STATIC_VERSION = static_version(STATIC)
SAFETY_FLAGS = ("no_callback", "line_only", "woman_officer", "silent")


def mount(app: FastAPI) -> None:
    mount_console(app, router, STATIC)


def page_context() -> dict[str, Any]:
    """What the page shows, all from hotline_common.labels (Thai, English)."""
    return {
        "categories": [(c.value, *labels.CATEGORY[c]) for c in Category],
        "target_groups": [(t.value, *labels.TARGET_GROUP[t]) for t in TargetGroup],
        "priorities": [(p.value, *labels.PRIORITY[p], *labels.PRIORITY_WHEN[p]) for p in Priority],
        # the label a responder sees for each preference, so the operator ticks exactly what will be shown
        "safety": [(flag, *labels.safety(Safety.model_validate({flag: True}))[0]) for flag in SAFETY_FLAGS],
        "statuses": list(labels.CASE_STATUS.items()),
        "static_version": STATIC_VERSION,
        "labels": {"status": labels.CASE_STATUS, "category": {c.value: v for c, v in labels.CATEGORY.items()},
                   "channel": {c.value: v for c, v in labels.CHANNEL.items()},
                   "priority": {p.value: v for p, v in labels.PRIORITY.items()},
                   "link": labels.CASE_LINK, "decision": labels.LINK_DECISION,
                   "note_source": labels.NOTE_SOURCE},
    }


@router.get("/console", response_class=HTMLResponse)
async def console(request: Request) -> HTMLResponse:
    response = TEMPLATES.TemplateResponse(request, "console/index.html", page_context())
    response.headers.update(HEADERS)
    return response


class SignedIn(PageSession):
    center_tambon: str | None = None
    center_place_th: str | None = None


@router.post("/console/login", response_model=SignedIn)
async def login(request: Request, username: Username, password: Password) -> SignedIn:
    settings: IntakeSettings = request.app.state.settings
    token = await sign_in(settings.registry_url, settings.jwt_secret.get_secret_value(), username, password,
                          allowed=REPORTERS, page_th="หน้าจอรับแจ้งเหตุ", page_en="the operator console")
    principal = token.principal
    signed_in = SignedIn(**token.session())
    if principal.role is Role.center_staff and principal.center_id:
        centers: CenterDirectory = request.app.state.runtime.extras["centers"]
        signed_in.center_tambon = centers.tambon_of(uuid.UUID(principal.center_id))
        signed_in.center_place_th = place_th(signed_in.center_tambon)
    return signed_in
