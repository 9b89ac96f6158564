"""The ops console page (ศูนย์ติดตามระบบ 1300): one screen for the ops team's wall, read at a glance. Server-rendered
(Jinja2) with a little plain JavaScript against this service's own JSON API and event stream; every asset is served
from here (no CDN, no map tiles). Signing in goes through ops to the registry (hotline_common.signin), as the operator
console does through intake."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse

from hotline_common import labels, topics
from hotline_common.events import Priority
from hotline_common.pages import HEADERS, mount_console, static_version, templates
from hotline_common.signin import PageSession, Password, Username, sign_in
from hotline_common.stream import PREFIX, event_type_of
from hotline_ops import geo
from hotline_ops.api import REPLAYERS, VIEWERS
from hotline_ops.config import OpsSettings
from hotline_ops.urgent import STAGE

router = APIRouter(include_in_schema=False)
HERE = Path(__file__).parent
TEMPLATES = templates(HERE / "templates")
STATIC = HERE / "static"
STATIC_VERSION = static_version(STATIC)


def mount(app: FastAPI) -> None:
    mount_console(app, router, STATIC)


# What each `hotline.*` event type is called; those without a case-timeline label are named here.
OWN_EVENT_LABELS: dict[str, tuple[str, str]] = {"ops.audit": ("บันทึกการทำงานของทีม ops", "ops audit"),
                                                "ops.heartbeat": ("สัญญาณชีพของบริการ", "service heartbeat"),
                                                "ops.alarm": ("สัญญาณเตือนของระบบ", "platform alarm")}


def event_types() -> dict[str, tuple[str, str]]:
    """Every event type of the catalogue's `hotline.*` topics, with its label (Thai, English)."""
    found = {}
    for spec in topics.CATALOGUE:
        if spec.name.startswith(PREFIX):
            kind = event_type_of(spec.name)
            timeline = labels.CASE_EVENT.get(kind.removeprefix("case.").replace(".", "_"))
            found[kind] = OWN_EVENT_LABELS.get(kind) or timeline or (kind, kind)
    return found


def page_context() -> dict[str, Any]:
    """What the page shows: the labels (Thai, English) and the map, drawn once per process."""
    provinces = sorted(geo.thailand().provinces, key=lambda p: p.name_th)
    return {
        "static_version": STATIC_VERSION,
        "map": geo.thailand(),
        "provinces": provinces,
        "event_types": [(kind, th, en) for kind, (th, en) in event_types().items()],
        "priorities": [(p.value, *labels.PRIORITY[p]) for p in Priority],
        "labels": {"event": event_types(), "stage": STAGE, "category": {c.value: v for c, v in labels.CATEGORY.items()},
                   "channel": {c.value: v for c, v in labels.CHANNEL.items()},
                   "priority": {p.value: v for p, v in labels.PRIORITY.items()},
                   "province": {p.code: (p.name_th, p.name_en) for p in provinces}},
    }


@router.get("/console", response_class=HTMLResponse)
async def console(request: Request) -> HTMLResponse:
    response = TEMPLATES.TemplateResponse(request, "console.html", page_context())
    response.headers.update(HEADERS)
    return response


class SignedIn(PageSession):
    may_replay: bool


@router.post("/console/login", response_model=SignedIn)
async def login(request: Request, username: Username, password: Password) -> SignedIn:
    settings: OpsSettings = request.app.state.settings
    signed_in = await sign_in(settings.registry_url, settings.jwt_secret.get_secret_value(), username, password,
                              allowed=VIEWERS, page_th="หน้าจอติดตามระบบ", page_en="the ops console")
    return SignedIn(**signed_in.session(), may_replay=signed_in.principal.role in REPLAYERS)
