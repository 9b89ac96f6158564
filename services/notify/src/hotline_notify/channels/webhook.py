"""Webhook channel, our own contract: a JSON POST `{"delivery_id": ..., "items": [...]}` signed with HMAC-SHA256 of
the raw body (`X-Hotline-Signature: sha256=<hex>`), the delivery id in `X-Hotline-Delivery` for deduplication."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import httpx

from hotline_common.webhooks import DELIVERY_HEADER, SIGNATURE_HEADER, sign
from hotline_notify.channels.base import AlertChannel, Delivery, DeliveryResult, register


def webhook_body(delivery: Delivery) -> dict[str, Any]:
    """`{"delivery_id": ..., "items": [...]}`: one item per alert, as `AlertItem.to_json` (no LINE postback data)."""
    return {"delivery_id": str(delivery.delivery_id), "items": [item.to_json() for item in delivery.items]}


@register
class WebhookChannel(AlertChannel):
    kind = "webhook"

    def __init__(self, secrets: Mapping[str, str], timeout: float) -> None:
        self.secrets = secrets
        self.client = httpx.AsyncClient(timeout=timeout, follow_redirects=False)

    async def send(self, delivery: Delivery) -> DeliveryResult:
        secret = self.secrets.get(delivery.secret_ref or "")
        if secret is None:
            return DeliveryResult(ok=False, permanent=True, error=f"no webhook secret named {delivery.secret_ref!r}")
        body = json.dumps(webhook_body(delivery), ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        headers = {"Content-Type": "application/json; charset=utf-8", SIGNATURE_HEADER: sign(secret, body),
                   DELIVERY_HEADER: str(delivery.delivery_id), "User-Agent": "hotline-notify/0.1"}
        try:
            response = await self.client.post(delivery.address, content=body, headers=headers)
        except httpx.HTTPError as exc:
            return DeliveryResult(ok=False, error=f"{type(exc).__name__}: {exc}"[:500])
        if response.is_success:
            return DeliveryResult(ok=True, http_status=response.status_code)
        permanent = 400 <= response.status_code < 500 and response.status_code not in (408, 425, 429)
        return DeliveryResult(ok=False, permanent=permanent, http_status=response.status_code,
                              error=f"HTTP {response.status_code}")

    async def close(self) -> None:
        await self.client.aclose()
