"""Our signed-webhook contract, for responders' systems (notify) and the ops pager (watchdog): a JSON POST signed
with HMAC-SHA256 of the raw body (`X-Hotline-Signature: sha256=<hex>`), a delivery id to deduplicate by."""

from __future__ import annotations

import hashlib
import hmac

SIGNATURE_HEADER = "X-Hotline-Signature"
DELIVERY_HEADER = "X-Hotline-Delivery"  # the delivery id: receivers deduplicate a retried delivery by it


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify(secret: str, body: bytes, signature: str | None) -> bool:
    return signature is not None and hmac.compare_digest(sign(secret, body), signature)
