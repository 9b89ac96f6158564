"""The bot's answers through line-bot-sdk v3 (`AsyncMessagingApi`) to a configurable API base URL.

A reply token is used while fresh (LINE honours it once, for about a minute after the webhook); a stale, spent or
refused one falls back to a push to the user. A push carries `X-Line-Retry-Key` (the reply's id), so a retry after a
lost answer is answered 409 "already accepted" instead of reaching the person twice.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import aiohttp
from linebot.v3.messaging import (  # type: ignore[import-untyped]
    ApiException,
    AsyncApiClient,
    AsyncMessagingApi,
    Configuration,
    LocationAction,
    PostbackAction,
    PushMessageRequest,
    QuickReply,
    QuickReplyItem,
    ReplyMessageRequest,
    TextMessage,
    URIAction,
)

from hotline_intake.line.messages import Button, Reply

TEXT_MAX = 5000  # UTF-16 code units
MESSAGES_MAX = 5  # per reply or push


@dataclass(frozen=True, slots=True)
class Sent:
    ok: bool
    permanent: bool = False  # LINE refused the request itself: retrying changes nothing
    error: str | None = None
    via: str | None = None  # "reply" or "push"


def line_messages(replies: Sequence[Reply]) -> list[Any]:
    """SDK message objects, at most five (the last keeps its buttons: LINE shows only the last one's)."""
    replies = list(replies)
    if len(replies) > MESSAGES_MAX:
        merged = "\n\n".join(r.text for r in replies[MESSAGES_MAX - 1:])
        replies = [*replies[:MESSAGES_MAX - 1], Reply(text=merged, buttons=replies[-1].buttons)]
    return [_text(r) for r in replies]


def _text(reply: Reply) -> Any:
    text = _utf16_clip(reply.text, TEXT_MAX)
    if not reply.buttons:
        return TextMessage(text=text)
    return TextMessage(text=text, quick_reply=QuickReply(items=[QuickReplyItem(action=_action(b))
                                                                for b in reply.buttons]))


def _action(button: Button) -> Any:
    if button.kind == "location":
        return LocationAction(label=button.label)
    if button.kind == "uri":
        return URIAction(label=button.label, uri=button.uri)
    return PostbackAction(label=button.label, data=button.data, display_text=button.display)


class LineReplies:
    def __init__(self, api_base_url: str, access_token: str, timeout: float) -> None:
        self.configuration = Configuration(host=api_base_url.rstrip("/"), access_token=access_token)
        self.timeout = timeout
        self._client: Any = None  # AsyncApiClient, made in the running loop: its aiohttp session belongs to one

    def _api(self) -> Any:
        if self._client is None:
            self._client = AsyncApiClient(self.configuration)
        return AsyncMessagingApi(self._client)

    async def send(self, *, user_id: str, reply_token: str | None, retry_key: uuid.UUID,
                   replies: Sequence[Reply]) -> Sent:
        try:
            messages = line_messages(replies)
        except ValueError as exc:  # the SDK's own checks: what LINE would refuse with a 400
            return Sent(ok=False, permanent=True, error=f"not a valid LINE message: {exc}"[:300])
        api = self._api()
        if reply_token:
            try:
                await api.reply_message_with_http_info(
                    ReplyMessageRequest(reply_token=reply_token, messages=messages), _request_timeout=self.timeout)
                return Sent(ok=True, via="reply")
            except ApiException as exc:
                if not _bad_token(exc):
                    return _refused(exc)
            except (aiohttp.ClientError, TimeoutError) as exc:
                # Perhaps delivered, perhaps not: the next try pushes (the token may be spent).
                return Sent(ok=False, error=f"{type(exc).__name__}: {exc}"[:300])
        try:
            await api.push_message_with_http_info(PushMessageRequest(to=user_id, messages=messages),
                                                  x_line_retry_key=str(retry_key), _request_timeout=self.timeout)
        except ApiException as exc:
            if exc.status == 409 and (exc.headers or {}).get("x-line-accepted-request-id"):
                return Sent(ok=True, via="push")  # an earlier try got through; its answer did not
            return _refused(exc)
        except (aiohttp.ClientError, TimeoutError) as exc:
            return Sent(ok=False, error=f"{type(exc).__name__}: {exc}"[:300])
        return Sent(ok=True, via="push")

    async def close(self) -> None:
        if self._client is not None:
            await self._client.close()
            self._client = None


def _bad_token(exc: Any) -> bool:
    return int(exc.status or 0) == 400 and "reply token" in _message(exc.body).lower()


def _refused(exc: Any) -> Sent:
    status = int(exc.status or 0)
    retryable = status in (0, 408, 409, 429) or status >= 500
    return Sent(ok=False, permanent=not retryable, error=f"HTTP {status}: {_message(exc.body)}"[:300])


def _message(body: Any) -> str:
    """LINE's error message; never the text we sent."""
    try:
        data = json.loads(body) if body else {}
    except ValueError:
        return "(no JSON body)"
    return str(data.get("message", "")) if isinstance(data, dict) else "(no JSON body)"


def _utf16_clip(text: str, limit: int) -> str:
    if len(text.encode("utf-16-le")) // 2 <= limit:
        return text
    out = text.encode("utf-16-le")[:2 * (limit - 1)].decode("utf-16-le", "ignore")
    return out + "…"
