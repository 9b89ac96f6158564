"""LINE channel: a push message through the official SDK, honouring the Messaging API's published contract.

https://developers.line.biz/en/reference/messaging-api/#send-push-message — `X-Line-Retry-Key` is the delivery id,
so a retry after a lost response is answered 409 "The retry key is already accepted" (delivered, not sent twice).
One alert is a buttons template (title ≤ 40, text ≤ 60 with a title, ≤ 4 actions with labels ≤ 20); a burst is
carousels of ≤ 10 columns (≤ 3 actions each, all alike), ≤ 5 messages a push, the last one a text listing what did
not fit. Template titles, texts and labels count in grapheme clusters, not code points
(https://developers.line.biz/en/docs/messaging-api/text-character-count/): Thai vowel and tone marks above and
below a consonant share its cell, which is what lets a Thai sentence fit in 60.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import aiohttp
from linebot.v3.messaging import (  # type: ignore[import-untyped]
    ApiException,
    AsyncApiClient,
    AsyncMessagingApi,
    ButtonsTemplate,
    CarouselColumn,
    CarouselTemplate,
    Configuration,
    PostbackAction,
    PushMessageRequest,
    ReplyMessageRequest,
    TemplateMessage,
    TextMessage,
    URIAction,
)

from hotline_common.line import clusters
from hotline_notify.channels.base import AlertChannel, AlertItem, Delivery, DeliveryResult, register

TITLE_MAX = 40
TEXT_MAX_WITH_TITLE = 60  # buttons and carousel columns with a title (160 and 120 without one)
ALT_TEXT_MAX = 400  # UTF-16 code units, as every text that is not a template's
TEXT_MESSAGE_MAX = 5000
COLUMNS_MAX = 10
MESSAGES_MAX = 5
ACK_LABEL = "รับเรื่อง / Ack"
DECLINE_LABEL = "ปฏิเสธ / Decline"
OPEN_LABEL = "เปิดดู / Open"


@register
class LineChannel(AlertChannel):
    kind = "line"

    def __init__(self, api_base_url: str, access_token: str, timeout: float) -> None:
        self.configuration = Configuration(host=api_base_url.rstrip("/"), access_token=access_token)
        self.timeout = timeout
        self._client: Any = None  # AsyncApiClient, made in the running loop: its aiohttp session belongs to one

    async def send(self, delivery: Delivery) -> DeliveryResult:
        try:
            request = PushMessageRequest(to=delivery.address, messages=line_messages(delivery.items))
        except ValueError as exc:  # the SDK's own checks (pydantic): what LINE would refuse with a 400
            return DeliveryResult(ok=False, permanent=True, error=f"not a valid LINE message: {_fields(exc)}")
        if self._client is None:
            self._client = AsyncApiClient(self.configuration)
        api = AsyncMessagingApi(self._client)
        try:
            response = await api.push_message_with_http_info(
                request, x_line_retry_key=str(delivery.delivery_id), _request_timeout=self.timeout)
        except ApiException as exc:
            return _refused(exc)
        except (aiohttp.ClientError, TimeoutError) as exc:
            return DeliveryResult(ok=False, error=f"{type(exc).__name__}: {exc}"[:300])
        return DeliveryResult(ok=True, http_status=int(response.status_code))

    async def reply(self, reply_token: str, text: str) -> DeliveryResult:
        """Answer a responder's postback in their chat (a reply token works once, within a minute)."""
        if self._client is None:
            self._client = AsyncApiClient(self.configuration)
        try:
            await AsyncMessagingApi(self._client).reply_message_with_http_info(
                ReplyMessageRequest(reply_token=reply_token, messages=[TextMessage(text=text[:5000])]),
                _request_timeout=self.timeout)
        except ApiException as exc:
            return _refused(exc)
        except (aiohttp.ClientError, TimeoutError) as exc:
            return DeliveryResult(ok=False, error=f"{type(exc).__name__}: {exc}"[:300])
        return DeliveryResult(ok=True)

    async def close(self) -> None:
        if self._client is not None:
            await self._client.close()
            self._client = None


def _refused(exc: Any) -> DeliveryResult:
    status = int(exc.status or 0) or None
    if status == 409 and _already_accepted(exc):  # an earlier attempt got through, its answer did not
        return DeliveryResult(ok=True, http_status=409)
    # Any other 409 (the same key still in flight, say) is worth another try, with the same key.
    retryable = status is None or status in (408, 409, 429) or status >= 500
    return DeliveryResult(ok=False, permanent=not retryable, http_status=status,
                          error=f"HTTP {status}: {_line_error(exc.body)}"[:500])


def _already_accepted(exc: Any) -> bool:
    headers = exc.headers or {}
    return bool(headers.get("x-line-accepted-request-id")) or "already accepted" in str(exc.body or "")


def _line_error(body: Any) -> str:
    """LINE's message and the properties it names; never the text we sent."""
    try:
        data = json.loads(body) if body else {}
    except ValueError:
        return "(no JSON body)"
    if not isinstance(data, dict):
        return "(no JSON body)"
    message = str(data.get("message", ""))
    details = [f"{d.get('property')}: {d.get('message')}" for d in data.get("details") or [] if isinstance(d, dict)]
    return f"{message} [{'; '.join(details)}]" if details else message


def _fields(exc: ValueError) -> str:
    errors = getattr(exc, "errors", None)
    if not callable(errors):
        return type(exc).__name__
    return "; ".join(".".join(map(str, e.get("loc", ()))) + ": " + str(e.get("msg")) for e in errors())


# -- the messages ---------------------------------------------------------------------------------------------
def line_messages(items: Sequence[AlertItem]) -> list[Any]:
    """One alert: a buttons template. More: carousels of 10, and a text with the rest beyond 5 messages."""
    if len(items) == 1:
        return [_buttons(items[0])]
    chunks = [items[i:i + COLUMNS_MAX] for i in range(0, len(items), COLUMNS_MAX)]
    if len(chunks) <= MESSAGES_MAX:
        return [_carousel(chunk, len(items)) for chunk in chunks]
    shown = chunks[:MESSAGES_MAX - 1]
    rest = items[(MESSAGES_MAX - 1) * COLUMNS_MAX:]
    return [*(_carousel(chunk, len(items)) for chunk in shown), TextMessage(text=_summary(rest, len(items)))]


def _buttons(item: AlertItem) -> Any:
    template = ButtonsTemplate(title=_title(item), text=_text(item), actions=_actions(item))
    return TemplateMessage(alt_text=_utf16_clip(_sentence(item), ALT_TEXT_MAX), template=template)


def _carousel(chunk: Sequence[AlertItem], total: int) -> Any:
    # Every column has a title and three actions: LINE wants the columns alike.
    columns = [CarouselColumn(title=_title(item), text=_text(item), actions=_actions(item)) for item in chunk]
    alt = f"มีเรื่องแจ้งเตือนถึงคุณ {total} เรื่อง: " + ", ".join(
        f"[{item.priority}] {item.case_number} {item.category_th}" for item in chunk)
    return TemplateMessage(alt_text=_utf16_clip(alt, ALT_TEXT_MAX), template=CarouselTemplate(columns=columns))


def _actions(item: AlertItem) -> list[Any]:
    return [PostbackAction(label=ACK_LABEL, data=item.ack_data),
            PostbackAction(label=DECLINE_LABEL, data=item.decline_data),
            URIAction(label=OPEN_LABEL, uri=item.link)]


def _title(item: AlertItem) -> str:
    title = f"[{item.priority}] {item.case_number}"
    if item.kind != "new":
        title += f" · {item.kind_th}"
    return _clip(title, TITLE_MAX)


def _text(item: AlertItem) -> str:
    """The safety preferences first, then category, place and deadline within 60 clusters: the place loses its
    province, then its district, then goes. An urgent alert says so, with its new priority and deadline, right
    after the safety line (the end is what a clip cuts)."""
    deadline = f"ตอบรับ{item.ack_deadline_th}" if item.ack_deadline_th and not item.urgent_line else None
    text = ""
    for place in [*_shorter_places(item.place_th), None]:
        text = "\n".join(x for x in (item.safety_line, item.urgent_line, item.category_th, place, deadline) if x)
        if len(clusters(text)) <= TEXT_MAX_WITH_TITLE:
            return text
    return _clip(text, TEXT_MAX_WITH_TITLE)


def _shorter_places(place: str) -> list[str]:
    parts = place.split(" › ")
    return [" › ".join(parts[:n]) for n in range(len(parts), 0, -1)]


def _sentence(item: AlertItem) -> str:
    """The alt text: what a lock screen shows, a whole Thai sentence."""
    unit = f" ส่งถึง{item.unit_name_th}" if item.unit_name_th else ""
    safety = f" {item.safety_line}" if item.safety_line else ""
    if item.urgent_line:  # the deadline is in it, and may be the visit's: "acknowledge by" would be wrong
        return (f"{item.urgent_line} ({item.priority_th}) เลขที่ {item.case_number}{safety} "
                f"{item.category_th} ที่ {item.place_th}{unit}")
    deadline = f" กรุณาตอบรับ{item.ack_deadline_th}" if item.ack_deadline_th else " กรุณาตอบรับโดยเร็ว"
    return (f"{item.kind_th} {item.priority_th} ({item.priority}) เลขที่ {item.case_number}{safety} "
            f"{item.category_th} ที่ {item.place_th}{unit}{deadline}")


def _summary(rest: Sequence[AlertItem], total: int) -> str:
    head = f"และอีก {len(rest)} เรื่อง (รวม {total} เรื่อง):"
    lines = [head]
    size = _utf16_len(head)
    for shown, item in enumerate(rest):
        line = f"\n[{item.priority}] {item.case_number} {item.category_th}\n{item.link}"
        tail = f"\n… และอีก {len(rest) - shown} เรื่อง"
        if size + _utf16_len(line) + _utf16_len(tail) > TEXT_MESSAGE_MAX:
            lines.append(tail)
            break
        lines.append(line)
        size += _utf16_len(line)
    return "".join(lines)


# -- counting as LINE counts ------------------------------------------------------------------------------------
def _clip(text: str, limit: int) -> str:
    parts = clusters(text)
    return text if len(parts) <= limit else "".join(parts[:limit - 1]) + "…"


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _utf16_clip(text: str, limit: int) -> str:
    if _utf16_len(text) <= limit:
        return text
    out = ""
    for part in clusters(text):
        if _utf16_len(out + part) > limit - 1:
            break
        out += part
    return out + "…"
