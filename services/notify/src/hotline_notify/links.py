"""Signed, expiring tokens naming one alert: the responder page link and the LINE postback data carry them.

The token proves that whoever holds it received that alert (its responder, for that case); it expires after
NOTIFY_LINK_TTL_HOURS. itsdangerous signs and timestamps it (HMAC-SHA1 over a URL-safe payload, ~90 characters, so
that a postback's `data` stays well within LINE's 300).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Literal
from urllib.parse import parse_qs, urlencode

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

Action = Literal["ack", "decline"]


class LinkError(Exception):
    """A token that is forged, damaged or expired: the page says so, in Thai and English."""

    def __init__(self, expired: bool) -> None:
        super().__init__("link expired" if expired else "link not valid")
        self.expired = expired


@dataclass(frozen=True)
class Links:
    secret: str
    base_url: str
    ttl_seconds: float

    def _serializer(self) -> URLSafeTimedSerializer:
        return URLSafeTimedSerializer(self.secret, salt="hotline-responder-link")

    def token(self, alert_id: uuid.UUID) -> str:
        return str(self._serializer().dumps(alert_id.hex))

    def alert_of(self, token: str) -> uuid.UUID:
        try:
            value = self._serializer().loads(token, max_age=round(self.ttl_seconds))
        except SignatureExpired:
            raise LinkError(expired=True) from None
        except BadSignature:
            raise LinkError(expired=False) from None
        return uuid.UUID(hex=str(value))

    def page(self, alert_id: uuid.UUID) -> str:
        return f"{self.base_url}/r/{self.token(alert_id)}"

    def postback(self, action: Action, alert_id: uuid.UUID) -> str:
        return urlencode({"a": action, "t": self.token(alert_id)})

    @staticmethod
    def parse_postback(data: str) -> tuple[str, str] | None:
        """(action, token) from postback data, or None if it is not ours."""
        fields = parse_qs(data, strict_parsing=False)
        action, token = fields.get("a", [""])[0], fields.get("t", [""])[0]
        return (action, token) if action and token else None
