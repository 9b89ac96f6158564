"""SMS channel: the gateway contract of `hotline_fakes.sms` (tools/fakes/README.md), `POST {gateway}/v1/messages`.

The delivery id is the `reference`, so a retry after a lost answer is answered 200 with the first message, not sent
twice. Thai makes a text UCS-2: 70 UTF-16 units in one segment, 67 a segment beyond. One alert takes at most two
segments unless its link, its safety line or an urgent alert's line need more (those are never dropped); a burst
lists case numbers and links within the gateway's 10 segments.
"""

from __future__ import annotations

import httpx

from hotline_notify.channels.base import AlertChannel, AlertItem, Delivery, DeliveryResult, register

SEGMENT_UNITS = 67  # UCS-2, concatenated; counting every text as UCS-2 over-counts a GSM-7 one, never under
ONE_ALERT_UNITS = 2 * SEGMENT_UNITS
MAX_UNITS = 10 * SEGMENT_UNITS


@register
class SmsChannel(AlertChannel):
    kind = "sms"

    def __init__(self, gateway_url: str, api_key: str, sender: str, timeout: float) -> None:
        self.url = gateway_url.rstrip("/") + "/v1/messages"
        self.sender = sender
        self.client = httpx.AsyncClient(timeout=timeout, follow_redirects=False,
                                        headers={"Authorization": f"Bearer {api_key}",
                                                 "User-Agent": "hotline-notify/0.1"})

    async def send(self, delivery: Delivery) -> DeliveryResult:
        text = sms_text(delivery.items)
        if ucs2_units(text) > MAX_UNITS:
            return DeliveryResult(ok=False, permanent=True, error="the alert's link is too long for an SMS")
        body = {"to": delivery.address, "text": text, "reference": str(delivery.delivery_id), "sender": self.sender}
        try:
            response = await self.client.post(self.url, json=body)
        except httpx.HTTPError as exc:
            return DeliveryResult(ok=False, error=f"{type(exc).__name__}: {exc}"[:300])
        if response.is_success:  # 202 sent, 200 already sent under this reference
            return DeliveryResult(ok=True, http_status=response.status_code)
        status = response.status_code
        retryable = status in (408, 425, 429) or status >= 500
        return DeliveryResult(ok=False, permanent=not retryable, http_status=status,
                              error=f"HTTP {status}: {_gateway_error(response)}"[:500])

    async def close(self) -> None:
        await self.client.aclose()


def _gateway_error(response: httpx.Response) -> str:
    try:
        error = response.json().get("error") or {}
    except (ValueError, AttributeError):
        return "(no JSON body)"
    field = f" ({error['field']})" if error.get("field") else ""
    return f"{error.get('code')}: {error.get('message')}{field}"


def ucs2_units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def sms_text(items: tuple[AlertItem, ...] | list[AlertItem]) -> str:
    return _one(items[0]) if len(items) == 1 else _many(items)


def _one(item: AlertItem) -> str:
    """`[P1] เรื่องใหม่ 1300-2569-000123`, the safety line, the category, the place, the link: the place shortens,
    then goes, then the category. An urgent alert's `ด่วนขึ้น P1 ภายใน 03:15 น.` follows the safety line and stays
    as it does."""
    head = f"[{item.priority}] {item.kind_th} {item.case_number}"
    places = [p.replace(" › ", " ") for p in _shorter_places(item.place_th)]
    for place in [*places, None]:
        text = "\n".join(x for x in (head, item.safety_line, item.urgent_line, item.category_th, place, item.link)
                         if x)
        if ucs2_units(text) <= ONE_ALERT_UNITS:
            return text
    # A link this long leaves no room: the page has the rest, but never at the cost of the safety line.
    return "\n".join(x for x in (head, item.safety_line, item.urgent_line, item.link) if x)


def _many(items: tuple[AlertItem, ...] | list[AlertItem]) -> str:
    text = f"1300: มี {len(items)} เรื่องแจ้งเตือนถึงคุณ"
    for shown, item in enumerate(items):
        warn = " ⚠" if item.safety_th else ""  # the page shows what to respect
        line = f"\n[{item.priority}] {item.case_number}{warn} {item.link}"
        tail = f"\nและอีก {len(items) - shown} เรื่อง"
        is_last = shown == len(items) - 1
        if ucs2_units(text + line + ("" if is_last else tail)) > MAX_UNITS:
            return text + tail
        text += line
    return text


def _shorter_places(place: str) -> list[str]:
    parts = place.split(" › ")
    return [" › ".join(parts[:n]) for n in range(len(parts) - 1, 0, -1)] if len(parts) > 1 else parts
