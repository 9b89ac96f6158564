"""Pages the ops on-call by a path that needs none of the watched services, nor PostgreSQL, nor Kafka: the watchdog
calls the pager webhook, the SMS gateway and the SMTP relay itself. A page that no channel took is tried again at
the next check."""

from __future__ import annotations

import json
import logging
import uuid
from email.message import EmailMessage
from typing import Any

import aiosmtplib
import httpx

from hotline_common.webhooks import DELIVERY_HEADER, SIGNATURE_HEADER, sign
from hotline_watchdog.config import WatchdogSettings

log = logging.getLogger("hotline.watchdog.pager")


class Pager:
    def __init__(self, settings: WatchdogSettings) -> None:
        self.settings = settings
        self.client = httpx.AsyncClient(timeout=10.0, follow_redirects=False)

    @property
    def channels(self) -> list[str]:
        s = self.settings
        return [name for name, on in (("webhook", bool(s.ops_webhook_url)),
                                      ("sms", bool(s.sms_gateway_url and s.ops_sms)),
                                      ("email", bool(s.smtp_host and s.ops_email))) if on]

    async def page(self, page_id: uuid.UUID, text: str, body: dict[str, Any]) -> list[str]:
        """Send on every configured channel; returns the channels that took it."""
        took: list[str] = []
        for channel in self.channels:
            try:
                await getattr(self, f"_{channel}")(page_id, text, body)
            except Exception as exc:  # one channel down must not stop the others
                log.error("ops page on %s failed: %r", channel, exc)
            else:
                took.append(channel)
        if not took:
            log.error("no pager channel took the page %s (configured: %s)", page_id, self.channels or "none")
        return took

    async def _webhook(self, page_id: uuid.UUID, text: str, body: dict[str, Any]) -> None:
        raw = json.dumps({**body, "text": text}, ensure_ascii=False).encode("utf-8")
        response = await self.client.post(self.settings.ops_webhook_url, content=raw, headers={
            "Content-Type": "application/json; charset=utf-8", DELIVERY_HEADER: str(page_id),
            SIGNATURE_HEADER: sign(self.settings.ops_webhook_secret.get_secret_value(), raw)})
        response.raise_for_status()

    async def _sms(self, page_id: uuid.UUID, text: str, body: dict[str, Any]) -> None:
        # The gateway contract notify uses (tools/fakes/README.md); the reference makes a retry a no-op.
        url = self.settings.sms_gateway_url.rstrip("/") + "/v1/messages"
        for n, phone in enumerate(self.settings.ops_sms):
            response = await self.client.post(url, json={"to": phone, "text": text, "sender": "1300",
                                                         "reference": f"{page_id}-{n}"},
                                              headers={"Authorization": "Bearer "
                                                       + self.settings.sms_api_key.get_secret_value()})
            response.raise_for_status()

    async def _email(self, page_id: uuid.UUID, text: str, body: dict[str, Any]) -> None:
        message = EmailMessage()
        message["From"] = self.settings.smtp_sender
        message["To"] = ", ".join(self.settings.ops_email)
        message["Subject"] = text.split(" — ", maxsplit=1)[0][:120]
        message["Message-ID"] = f"<{page_id}@watchdog.hotline.local>"
        message.set_content(text + "\n\n" + json.dumps(body, ensure_ascii=False, indent=2))
        await aiosmtplib.send(message, hostname=self.settings.smtp_host, port=self.settings.smtp_port, timeout=10)

    async def close(self) -> None:
        await self.client.aclose()
