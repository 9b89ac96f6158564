"""The responder page: one signed, expiring link per alert opens the case (Thai first, English beside) with
Acknowledge / Decline (with a reason) / Resolve (with an outcome). Plain HTML forms: works on any phone, no script."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from hotline_common import labels, thai_time
from hotline_common.contact import ContactView
from hotline_common.events import Category, Priority, ResolveOutcome, Safety
from hotline_common.runtime import Runtime
from hotline_notify import repository
from hotline_notify.contact import ContactClient, ContactUnavailable
from hotline_notify.links import LinkError, Links
from hotline_notify.workflow import ActionRefused, Workflow, alert_still_current

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=Path(__file__).parent / "templates")
DONE = {"acknowledge": ("รับเรื่องแล้ว", "Acknowledged"), "decline": ("ปฏิเสธแล้ว ระบบจะส่งต่อศูนย์ถัดไป",
        "Declined: the case goes to the next center"), "resolve": ("ปิดเรื่องแล้ว", "Resolved")}
REFUSED = {"already_acknowledged": ("มีผู้รับเรื่องนี้แล้ว", "Someone else has acknowledged this case"),
           "declined": ("เรื่องนี้ถูกปฏิเสธและกำลังส่งต่อ", "Declined: it is being re-routed"),
           "one_home": ("ทีม One Home รับเรื่องนี้ โปรดติดต่อผู้ควบคุม 1300", "The One Home team has it: call the 1300 "
                        "supervisor"),
           "resolved": ("เรื่องนี้ปิดแล้ว", "The case is resolved"),
           "not_acknowledged": ("โปรดกดรับเรื่องก่อนปิดเรื่อง", "Acknowledge the case before resolving it"),
           "moved": ("เรื่องนี้ถูกส่งต่อไปยังศูนย์อื่นแล้ว", "The case has moved to another center"),
           "unknown_case": ("ไม่พบเรื่องนี้", "No such case")}
STATUS = {"alerting": ("รอผู้รับเรื่อง", "waiting for acknowledgement"), "acknowledged": ("รับเรื่องแล้ว", "acknowledged"),
          "resolved": ("ปิดเรื่องแล้ว", "resolved"), "declined": ("ปฏิเสธแล้ว", "declined"),
          "unacknowledged": ("ไม่มีผู้รับเรื่อง", "nobody acknowledged")}


def _local(at: datetime | None) -> str | None:
    """Bangkok time with the Buddhist-era year, as Thai readers read dates."""
    return None if at is None else thai_time.datetime_th(at)


def _page(request: Request, context: dict[str, Any], code: int = 200) -> HTMLResponse:
    response = templates.TemplateResponse(request, "responder.html", context, status_code=code)
    # The URL carries the link token and the page may show a caller's phone: no caches, no referrer, no index.
    response.headers.update({"Cache-Control": "no-store", "Referrer-Policy": "no-referrer",
                             "X-Robots-Tag": "noindex"})
    return response


async def _load(request: Request, token: str) -> tuple[Runtime, Any, Any] | HTMLResponse:
    runtime: Runtime = request.app.state.runtime
    links: Links = runtime.extras["links"]
    try:
        alert_id = links.alert_of(token)
    except LinkError as bad:
        th, en = (("ลิงก์หมดอายุแล้ว", "This link has expired") if bad.expired
                  else ("ลิงก์ไม่ถูกต้อง", "This link is not valid"))
        return _page(request, {"error_th": th, "error_en": en + ": call the 1300 hotline for the case."}, 403)
    async with runtime.db.acquire() as conn:
        alert = await repository.get_alert(conn, alert_id)
        case = await repository.get_case(conn, alert["case_id"]) if alert is not None else None
    if alert is None or case is None:
        return _page(request, {"error_th": "ไม่พบเรื่องนี้", "error_en": "No such case"}, 404)
    return runtime, alert, case


@router.get("/r/{token}", response_class=HTMLResponse)
async def show(request: Request, token: str, done: str | None = None, refused: str | None = None) -> Response:
    loaded = await _load(request, token)
    if isinstance(loaded, HTMLResponse):
        return loaded
    runtime, alert, case = loaded
    async with runtime.db.acquire() as conn:
        await repository.record_action(conn, case_id=case["case_id"], responder_id=alert["responder_id"],
                                       action="view", via="page")
    payload = alert["payload"]
    priority, category = Priority(case["priority"]), Category(case["category"])
    current = alert_still_current(case, alert["routed_event_id"], alert["center_id"])
    mine = case["acknowledged_by"] == alert["responder_id"]
    contact: ContactView | None = None
    contact_error = False
    if current and mine and case["status"] == "acknowledged":
        contacts: ContactClient = runtime.extras["contacts"]
        try:
            contact = await contacts.fetch(case["case_id"], alert["responder_id"])
        except ContactUnavailable:
            contact_error = True
    return _page(request, {
        "token": token, "case": case, "payload": payload, "current": current, "mine": mine,
        "contact": contact, "contact_error": contact_error,
        "safety": labels.safety(Safety(**case["safety"])),
        "priority": priority.value, "priority_label": labels.PRIORITY[priority],
        "category_label": labels.CATEGORY[category], "status_label": STATUS.get(case["status"], (case["status"],) * 2),
        "ack_deadline": _local(case["ack_deadline"]), "visit_deadline": _local(case["visit_deadline"]),
        "map_url": (f"https://www.openstreetmap.org/?mlat={payload['lat']}&mlon={payload['lon']}"
                    f"#map=14/{payload['lat']}/{payload['lon']}") if payload.get("lat") is not None else None,
        "outcomes": [(o.value, *labels.OUTCOME[o]) for o in ResolveOutcome],
        "done": DONE.get(done or ""), "refused": REFUSED.get(refused or ""),
    })


async def _act(request: Request, token: str, action: str, **kwargs: Any) -> Response:
    loaded = await _load(request, token)
    if isinstance(loaded, HTMLResponse):
        return loaded
    runtime, alert, case = loaded
    workflow: Workflow = runtime.extras["workflow"]
    try:
        async with runtime.transaction() as conn:
            await getattr(workflow, action)(conn, case["case_id"], responder_id=alert["responder_id"], via="page",
                                            routed_event_id=alert["routed_event_id"], **kwargs)
    except ActionRefused as refused:
        return RedirectResponse(f"/r/{token}?refused={refused.code}", status.HTTP_303_SEE_OTHER)
    runtime.extras["timers"].wake()
    return RedirectResponse(f"/r/{token}?done={action}", status.HTTP_303_SEE_OTHER)


@router.post("/r/{token}/acknowledge")
async def acknowledge(request: Request, token: str) -> Response:
    return await _act(request, token, "acknowledge")


@router.post("/r/{token}/decline")
async def decline(request: Request, token: str,
                  reason: Annotated[str, Form(min_length=3, max_length=500)]) -> Response:
    return await _act(request, token, "decline", reason=reason.strip())


@router.post("/r/{token}/resolve")
async def resolve(request: Request, token: str, outcome: Annotated[ResolveOutcome, Form()]) -> Response:
    return await _act(request, token, "resolve", outcome=outcome)
