"""LINE webhook bodies as LINE documents them (https://developers.line.biz/en/reference/messaging-api/#webhooks),
read without I/O: which events to keep (the webhook) and what the person did (the conversation).

Kept: events from a user in a one-to-one chat in `active` mode. Not kept: group and room events (the 1300 account
is a one-to-one service) and `standby` events (another module owns the chat then: the bot must not answer).
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

USER_ID = re.compile(r"^U[0-9a-f]{32}$")
EVENT_ID_MAX = 64  # a ULID is 26 characters; room for a longer id, not for a payload
MEDIA = ("image", "video", "audio", "file")


class BadWebhook(ValueError):
    """A signed body that is not a LINE webhook body: the message says what is wrong and where."""


@dataclass(frozen=True, slots=True)
class InboxEvent:
    """One event to keep: its id (deduplication), whose it is, when, and the event as LINE sent it."""

    event_id: str
    user_id: str
    occurred_at: datetime
    redelivery: bool
    reply_token: str | None
    raw: dict[str, Any]


def read_body(raw: bytes) -> list[InboxEvent]:
    """The events of a webhook body worth keeping; BadWebhook if the body is not one (nothing is kept then)."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as bad:
        raise BadWebhook(f"the body is not valid UTF-8 (at byte {bad.start})") from None
    try:
        body = json.loads(text)
    except ValueError as bad:
        raise BadWebhook(f"the body is not JSON ({bad})") from None
    if not isinstance(body, dict) or not isinstance(body.get("events"), list):
        raise BadWebhook('expected a LINE webhook body: {"destination": "...", "events": [...]}')
    kept: list[InboxEvent] = []
    for i, event in enumerate(body["events"]):
        found = _event(event, f"events[{i}]")
        if found is not None:
            kept.append(found)
    return kept


def _event(event: Any, where: str) -> InboxEvent | None:
    if not isinstance(event, dict):
        raise BadWebhook(f"{where} is not an object")
    kind = _text(event, "type", where)
    event_id = _text(event, "webhookEventId", where)
    if len(event_id) > EVENT_ID_MAX:
        raise BadWebhook(f"{where}.webhookEventId is longer than {EVENT_ID_MAX} characters")
    timestamp = event.get("timestamp")
    if not isinstance(timestamp, int) or isinstance(timestamp, bool) or not 0 <= timestamp < 2**53:
        raise BadWebhook(f"{where}.timestamp must be milliseconds since 1970 (an integer)")
    mode = _text(event, "mode", where)
    source = _object(event, "source", where)
    context = _object(event, "deliveryContext", where)
    if not isinstance(context.get("isRedelivery"), bool):
        raise BadWebhook(f"{where}.deliveryContext.isRedelivery must be true or false")
    reply_token = event.get("replyToken")
    if reply_token is not None and not isinstance(reply_token, str):
        raise BadWebhook(f"{where}.replyToken must be a string")
    _content(event, kind, where)
    if mode != "active" or source.get("type") != "user":
        return None
    user_id = source.get("userId")
    if not isinstance(user_id, str) or not USER_ID.match(user_id):
        raise BadWebhook(f"{where}.source.userId must be a LINE user id (U and 32 hex digits)")
    return InboxEvent(event_id=event_id, user_id=user_id, redelivery=context["isRedelivery"],
                      occurred_at=datetime.fromtimestamp(timestamp / 1000, UTC), reply_token=reply_token or None,
                      raw=event)


def _content(event: dict[str, Any], kind: str, where: str) -> None:
    """What the conversation reads of a message or postback is there and of the right type."""
    if kind == "message":
        message = _object(event, "message", where)
        mtype = _text(message, "type", f"{where}.message")
        _text(message, "id", f"{where}.message")
        if mtype == "text" and not isinstance(message.get("text"), str):
            raise BadWebhook(f"{where}.message.text must be a string")
        if mtype == "location":
            for key in ("latitude", "longitude"):
                value = message.get(key)
                if not isinstance(value, int | float) or isinstance(value, bool) or not math.isfinite(value):
                    raise BadWebhook(f"{where}.message.{key} must be a number")
    elif kind == "postback":
        postback = _object(event, "postback", where)
        if not isinstance(postback.get("data"), str):
            raise BadWebhook(f"{where}.postback.data must be a string")


def _text(obj: dict[str, Any], key: str, where: str) -> str:
    value = obj.get(key)
    if not isinstance(value, str) or not value:
        raise BadWebhook(f"{where}.{key} is missing or not a string")
    return value


def _object(obj: dict[str, Any], key: str, where: str) -> dict[str, Any]:
    value = obj.get(key)
    if not isinstance(value, dict):
        raise BadWebhook(f"{where}.{key} is missing or not an object")
    return value


# -- what the person did ----------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Follow:
    """Added the account as a friend (or unblocked it)."""


@dataclass(frozen=True, slots=True)
class Unfollow:
    """Blocked the account."""


@dataclass(frozen=True, slots=True)
class Text:
    text: str


@dataclass(frozen=True, slots=True)
class Location:
    lat: float
    lon: float
    address: str | None = None


@dataclass(frozen=True, slots=True)
class Media:
    """An image, video, audio or file: only the fact that it was sent, and LINE's message id, are kept."""

    kind: str
    message_id: str


@dataclass(frozen=True, slots=True)
class Postback:
    """A tap on one of the bot's buttons."""

    data: str


@dataclass(frozen=True, slots=True)
class Ignored:
    """Nothing to answer: a sticker, an unsent message, a beacon…"""

    kind: str


Incoming = Follow | Unfollow | Text | Location | Media | Postback | Ignored


def incoming(event: dict[str, Any]) -> Incoming:
    """What the person did, from an event `read_body` kept."""
    kind = event.get("type")
    if kind == "follow":
        return Follow()
    if kind == "unfollow":
        return Unfollow()
    if kind == "postback":
        return Postback(str(event["postback"]["data"]))
    if kind != "message":
        return Ignored(str(kind))
    message = event["message"]
    mtype = message["type"]
    if mtype == "text":
        return Text(message["text"])
    if mtype == "location":
        address = message.get("address") or message.get("title")
        return Location(float(message["latitude"]), float(message["longitude"]),
                        address if isinstance(address, str) else None)
    if mtype in MEDIA:
        return Media(mtype, str(message["id"]))
    return Ignored(f"message:{mtype}")
