"""The operator console (หน้าจอรับแจ้งเหตุ 1300): one page for operators on a headset, call after call, and for
center staff registering walk-ins. Server-rendered (Jinja2), with a little plain JavaScript that talks to intake's
own JSON API; no build step, nothing from a CDN. Signing in goes through intake to the registry, so the page has a
single origin and the registry needs no CORS."""

from __future__ import annotations

import hashlib
import logging
import uuid
from pathlib import Path
from typing import Annotated, Any

import httpx
import jwt
from fastapi import APIRouter, FastAPI, Form, HTTPException, Request, status
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from pydantic import BaseModel

from hotline_common import labels
from hotline_common.auth import Role, verify_token
from hotline_common.events import Category, Priority, Safety, TargetGroup
from hotline_intake.api import REPORTERS
from hotline_intake.cases import place_th
from hotline_intake.centers import CenterDirectory
from hotline_intake.config import IntakeSettings

router = APIRouter(include_in_schema=False)
HERE = Path(__file__).parent
templates = Jinja2Templates(directory=HERE / "templates")
STATIC = HERE / "static"
# Browsers keep the script and style until they change: the URL carries a hash of what is served.
STATIC_VERSION = hashlib.sha256(b"".join(p.read_bytes() for p in sorted(STATIC.iterdir()))).hexdigest()[:12]
SAFETY_FLAGS = ("no_callback", "line_only", "woman_officer", "silent")
HEADERS = {
    # Nothing personal is in the page itself, but what the operator types is: no caches, no referrer, no frames.
    "Cache-Control": "no-store", "Referrer-Policy": "no-referrer", "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                               "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
}
log = logging.getLogger(__name__)


def mount(app: FastAPI) -> None:
    app.include_router(router)
    app.mount("/console/static", StaticFiles(directory=STATIC), name="console-static")


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
    response = templates.TemplateResponse(request, "console/index.html", page_context())
    response.headers.update(HEADERS)
    return response


class SignedIn(BaseModel):
    access_token: str
    expires_in: int
    username: str
    role: Role
    center_tambon: str | None = None
    center_place_th: str | None = None


def _refused(code: int, th: str, en: str) -> HTTPException:
    return HTTPException(code, detail=f"{th} · {en}")


@router.post("/console/login", response_model=SignedIn)
async def login(request: Request, username: Annotated[str, Form(min_length=1, max_length=100)],
                password: Annotated[str, Form(min_length=1, max_length=200)]) -> SignedIn:
    """The registry checks the password and issues the token; intake passes them on and never logs either."""
    settings: IntakeSettings = request.app.state.settings
    try:
        async with httpx.AsyncClient(base_url=settings.registry_url, timeout=10) as registry:
            answer = await registry.post("/v1/auth/token", data={"username": username, "password": password})
    except httpx.HTTPError as exc:
        log.warning("console sign-in: the registry did not answer (%s)", type(exc).__name__)
        raise _refused(status.HTTP_503_SERVICE_UNAVAILABLE, "ระบบลงชื่อเข้าใช้ไม่ตอบ โปรดลองอีกครั้ง",
                       "sign-in is unavailable, try again") from exc
    if answer.status_code == status.HTTP_401_UNAUTHORIZED:
        raise _refused(status.HTTP_401_UNAUTHORIZED, "ชื่อผู้ใช้หรือรหัสผ่านไม่ถูกต้อง", "wrong username or password")
    if answer.status_code != status.HTTP_200_OK:
        log.warning("console sign-in: the registry answered %s", answer.status_code)
        raise _refused(status.HTTP_503_SERVICE_UNAVAILABLE, "ระบบลงชื่อเข้าใช้ขัดข้อง", "sign-in failed, try again")
    token = answer.json()
    try:
        principal = verify_token(settings.jwt_secret.get_secret_value(), token["access_token"])
    except (jwt.PyJWTError, KeyError, ValueError) as exc:  # the registry and intake disagree on the secret
        log.error("console sign-in: the registry's token does not verify here (%s)", type(exc).__name__)
        raise _refused(status.HTTP_503_SERVICE_UNAVAILABLE, "ระบบลงชื่อเข้าใช้ขัดข้อง", "sign-in failed") from exc
    if principal.role not in REPORTERS:
        raise _refused(status.HTTP_403_FORBIDDEN, "บัญชีนี้ใช้หน้าจอรับแจ้งเหตุไม่ได้",
                       "this account does not take reports")
    signed_in = SignedIn(access_token=token["access_token"], expires_in=token["expires_in"],
                         username=principal.subject, role=principal.role)
    if principal.role is Role.center_staff and principal.center_id:
        centers: CenterDirectory = request.app.state.runtime.extras["centers"]
        signed_in.center_tambon = centers.tambon_of(uuid.UUID(principal.center_id))
        signed_in.center_place_th = place_th(signed_in.center_tambon)
    return signed_in
