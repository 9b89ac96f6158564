"""The responders' LINE official account's webhook: Acknowledge / Decline postbacks from alert messages.

The signature (`X-Line-Signature`, HMAC-SHA256 of the body with NOTIFY_LINE_CHANNEL_SECRET) is checked by the SDK's
parser before anything is read. A postback's data carries the alert's signed token; it is honoured only from the
LINE user the alert was sent to. Acknowledging is idempotent, so LINE's redeliveries change nothing. A decline
needs a reason: the reply links to the responder page to give it.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter, Header, HTTPException, Request, status
from linebot.v3 import WebhookParser  # type: ignore[import-untyped]
from linebot.v3.exceptions import InvalidSignatureError  # type: ignore[import-untyped]
from linebot.v3.webhooks import PostbackEvent  # type: ignore[import-untyped]

from hotline_common.runtime import Runtime
from hotline_notify import repository
from hotline_notify.channels import LineChannel
from hotline_notify.links import LinkError, Links
from hotline_notify.workflow import ActionRefused, Workflow

router = APIRouter(prefix="/v1/line", tags=["line"])
log = logging.getLogger("hotline.notify.line")


@router.post("/webhook", summary="LINE webhook of the responders' official account (postback actions)")
async def webhook(request: Request, x_line_signature: str | None = Header(default=None)) -> dict[str, str]:
    runtime: Runtime = request.app.state.runtime
    secret = runtime.settings.line_channel_secret.get_secret_value()  # type: ignore[attr-defined]
    line: LineChannel | None = runtime.extras["dispatcher"].channels.get("line")
    if not secret or line is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="LINE is not configured on this notify")
    body = (await request.body()).decode("utf-8", "replace")
    try:
        events = WebhookParser(secret).parse(body, x_line_signature or "")
    except InvalidSignatureError:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, detail="bad or missing X-Line-Signature") from None
    except (ValueError, KeyError, TypeError):
        raise HTTPException(status.HTTP_400_BAD_REQUEST, detail="not a LINE webhook body") from None
    for event in events:
        if isinstance(event, PostbackEvent):
            answer = await _postback(runtime, event)
            if answer and event.reply_token:
                result = await line.reply(event.reply_token, answer)
                if not result.ok:
                    log.warning("LINE reply failed: %s", result.error)
    return {"status": "ok"}


async def _postback(runtime: Runtime, event: Any) -> str | None:
    links: Links = runtime.extras["links"]
    parsed = Links.parse_postback(event.postback.data or "")
    if parsed is None:
        return None
    action, token = parsed
    try:
        alert_id = links.alert_of(token)
    except LinkError as bad:
        return "ลิงก์หมดอายุแล้ว โปรดโทร 1300 · This alert has expired: call 1300." if bad.expired else None
    user = getattr(event.source, "user_id", None)
    async with runtime.db.acquire() as conn:
        alert = await repository.get_alert(conn, alert_id)
    if alert is None or not _sent_to(alert, user):
        return None  # not this user's alert: say nothing
    if action == "decline":
        return f"โปรดระบุเหตุผลที่ปฏิเสธ {alert['case_number']} ที่นี่ · Give the reason here: {links.page(alert_id)}"
    if action != "ack":
        return None
    workflow: Workflow = runtime.extras["workflow"]
    try:
        async with runtime.transaction() as conn:
            await workflow.acknowledge(conn, alert["case_id"], responder_id=alert["responder_id"], via="line",
                                       routed_event_id=alert["routed_event_id"])
    except ActionRefused as refused:
        return f"{alert['case_number']}: {refused.th} · {refused.en}"
    runtime.extras["timers"].wake()
    return (f"รับเรื่อง {alert['case_number']} แล้ว ขอบคุณค่ะ · Acknowledged. "
            f"รายละเอียด · Details: {links.page(alert_id)}")


def _sent_to(alert: Any, user: str | None) -> bool:
    return user is not None and any(c["kind"] == "line" and c["address"] == user for c in alert["channels"])
