"""LINE's contract where it needs no SDK: how LINE counts characters, and the webhook signature.

Labels, template titles and texts count in grapheme clusters
(https://developers.line.biz/en/docs/messaging-api/text-character-count/): Thai vowel and tone marks above and below
a consonant share its cell. Counted conservatively here (never fewer than LINE counts): combining marks (Mn, Me),
ZWJ sequences and skin-tone modifiers join; spacing marks such as SARA AM stand alone.

The signature (https://developers.line.biz/en/reference/messaging-api/#signature-validation) is checked on the raw
bytes: line-bot-sdk's `SignatureValidator` takes text and re-encodes it, which cannot reproduce a body that is not
UTF-8 — and such a body, signed by LINE's secret, must be told apart from a forged one (400, not 401).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import unicodedata

ZWJ = "\u200d"
LABEL_MAX = 20  # an action's label (quick reply buttons included)
QUICK_REPLY_ITEMS_MAX = 13


def clusters(text: str) -> list[str]:
    out: list[str] = []
    after_zwj = False
    for ch in text:
        joins = unicodedata.category(ch) in ("Mn", "Me") or ch == ZWJ or after_zwj or 0x1F3FB <= ord(ch) <= 0x1F3FF
        if out and joins:
            out[-1] += ch
        else:
            out.append(ch)
        after_zwj = ch == ZWJ
    return out


def clip(text: str, limit: int) -> str:
    """At most `limit` clusters: cut at the last space past half the limit if there is one, else mid-word, and
    end with an ellipsis."""
    parts = clusters(text)
    if len(parts) <= limit:
        return text
    head = parts[:limit - 1]
    spaces = [i for i, part in enumerate(head) if part == " " and i >= limit // 2]
    if spaces:
        head = head[:spaces[-1]]
    return "".join(head) + "…"


def signature(channel_secret: str, body: bytes) -> str:
    """`X-Line-Signature` of a body: base64 of its HMAC-SHA256 with the channel secret."""
    digest = hmac.new(channel_secret.encode("utf-8"), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def signature_ok(channel_secret: str, body: bytes, given: str | None) -> bool:
    return bool(given) and hmac.compare_digest(signature(channel_secret, body).encode(), (given or "").encode())
