"""A local LINE Messaging API: push and reply (https://developers.line.biz/en/reference/messaging-api/).

What it honours, as LINE documents it:
- `Authorization: Bearer <channel access token>`, else 401 with LINE's message;
- the request body: `to` a user (U…), group (C…) or room (R…) id, 1 to 5 message objects checked against the
  reference's limits (`line_rules`), else 400 `{"message": "The request body has N error(s)", "details": [...]}`;
- `X-Line-Retry-Key` on push: a UUID, else 400; a key accepted in the last 24 hours answers 409 with
  `x-line-accepted-request-id` and `{"message": "The retry key is already accepted", "sentMessages": [...]}`;
  the key on another endpoint (reply) is refused with 400;
- reply tokens work once and for one minute, else 400 `{"message": "Invalid reply token"}`;
- success: 200 `{"sentMessages": [{"id": ..., "quoteToken": ...}]}` with an `x-line-request-id` header.

For tests: faults (the next N requests answer status S, optionally after a delay, optionally after accepting the
message: a lost response), reply tokens issued on demand, and every request kept with the answer it got — from
Python (`FakeLine`) or over HTTP (`/_fake/...`). Nothing here talks to LINE.
"""

from __future__ import annotations

import asyncio
import json
import re
import secrets
import threading
import time
import uuid
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from hotline_fakes.faults import Fault, FaultRequest, Faults
from hotline_fakes.line_rules import check_messages

DEFAULT_TOKEN = "dev-line-channel-token"
RETRY_KEY_TTL = 24 * 3600.0  # "The retry key management period on the LINE Platform side is 24 hours."
REPLY_TOKEN_TTL = 60.0  # "The reply token must be used within one minute after receiving the webhook."
RECIPIENT = re.compile(r"^[UCR][0-9a-f]{32}$")
QUOTABLE = ("text", "textV2", "sticker", "image", "video")  # message types LINE gives a quote token

AUTH_FAILED = "Authentication failed. Confirm that the access token in the authorization header is valid."
STATUS_MESSAGES = {
    400: "Failed to send messages",
    401: AUTH_FAILED,
    403: "Access to this API is not available for your account",
    429: "The API rate limit has been exceeded. Try again later.",
    500: "An internal error occurred",
    502: "Bad gateway",
    503: "Service unavailable",
}

Endpoint = Literal["push", "reply"]


@dataclass
class LineRequest:
    """One request as the fake received it, with the status it answered."""

    endpoint: Endpoint
    request_id: str
    authorization: str | None
    retry_key: str | None
    body: Any
    status: int = 0
    delivered: bool = False  # the messages were accepted (a 200, or a fault with `deliver`)
    sent_messages: list[dict[str, str]] = field(default_factory=list)
    received_at: float = 0.0
    reply_to: str | None = None  # a reply: whose webhook event issued the reply token

    @property
    def to(self) -> str | None:
        to = self.body.get("to") if isinstance(self.body, dict) else None
        return to if isinstance(to, str) else self.reply_to

    @property
    def messages(self) -> list[dict[str, Any]]:
        messages = self.body.get("messages") if isinstance(self.body, dict) else None
        return messages if isinstance(messages, list) else []

    def to_json(self) -> dict[str, Any]:
        return {"endpoint": self.endpoint, "requestId": self.request_id, "status": self.status,
                "delivered": self.delivered, "retryKey": self.retry_key, "to": self.to, "body": self.body,
                "sentMessages": self.sent_messages, "receivedAt": self.received_at}


@dataclass
class _ReplyToken:
    to: str
    issued_at: float
    used: bool = False


@dataclass
class _Answer:
    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


class FakeLine:
    """The fake's state and its Python API; `app` serves it (see `hotline_fakes.serve`)."""

    def __init__(self, tokens: Iterable[str] = (DEFAULT_TOKEN,), *, recipients: Collection[str] | None = None,
                 clock: Callable[[], float] = time.time,
                 on_delivered: Callable[[LineRequest], None] | None = None) -> None:
        self.tokens = set(tokens)
        self.on_delivered = on_delivered  # told of each request whose messages were accepted (a load generator)
        self.recipients = recipients  # None: any well-formed id; else unknown ids answer "Failed to send messages"
        self.clock = clock
        self.faults = Faults()
        self._requests: list[LineRequest] = []
        self._retry_keys: dict[str, tuple[float, LineRequest]] = {}
        self._reply_tokens: dict[str, _ReplyToken] = {}
        self._message_ids = 461230966842064897
        self._lock = threading.Lock()
        self.app = line_app(self)

    # -- for tests ------------------------------------------------------------------------------------------
    def requests(self) -> list[LineRequest]:
        with self._lock:
            return list(self._requests)

    def pushes(self) -> list[LineRequest]:
        """Push requests whose messages LINE accepted (what users received)."""
        return [r for r in self.requests() if r.endpoint == "push" and r.delivered]

    def replies(self) -> list[LineRequest]:
        return [r for r in self.requests() if r.endpoint == "reply" and r.delivered]

    def issue_reply_token(self, to: str = "U" + "0" * 32, token: str | None = None) -> str:
        """A reply token as a webhook event from `to` would carry it (`token`: one made elsewhere, e.g. by a load
        generator in another process)."""
        token = token or secrets.token_hex(16)
        with self._lock:
            self._reply_tokens[token] = _ReplyToken(to, self.clock())
        return token

    def fail_next(self, status: int | None, *, times: int = 1, delay: float = 0.0, deliver: bool = False,
                  body: dict[str, Any] | None = None) -> None:
        self.faults.add(status, times=times, delay=delay, deliver=deliver, body=body)

    def reset(self) -> None:
        with self._lock:
            self._requests.clear()
            self._retry_keys.clear()
            self._reply_tokens.clear()
        self.faults.clear()

    # -- the API --------------------------------------------------------------------------------------------
    async def handle(self, endpoint: Endpoint, request: Request) -> JSONResponse:
        raw = await request.body()
        try:
            body: Any = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode("utf-8", "replace")
        record = LineRequest(endpoint, str(uuid.uuid4()), request.headers.get("authorization"),
                             request.headers.get("x-line-retry-key"), body, received_at=self.clock())
        fault = self.faults.take()
        if fault is not None and fault.delay:
            await asyncio.sleep(fault.delay)
        with self._lock:
            self._requests.append(record)
            if fault is not None and fault.status is not None and not fault.deliver:
                answer = _fault_answer(fault)
            else:
                answer = self._answer(record)
                if fault is not None and fault.status is not None:
                    answer = _fault_answer(fault)
            record.status = answer.status
        if record.delivered and self.on_delivered is not None:
            self.on_delivered(record)
        headers = {"x-line-request-id": record.request_id, **answer.headers}
        return JSONResponse(answer.body, status_code=answer.status, headers=headers)

    def _answer(self, record: LineRequest) -> _Answer:
        """Called with the lock held."""
        refused = self._check_headers(record)
        if refused is not None:
            return refused
        body = record.body
        if not isinstance(body, dict):
            return _Answer(400, {"message": "The request body could not be parsed as JSON (line: 1, column: 1)"})
        problems = check_messages(body.get("messages"))
        if record.endpoint == "push":
            to = body.get("to")
            if not isinstance(to, str) or not RECIPIENT.match(to):
                invalid_to = "The property, 'to', in the request body is invalid (line: -, column: -)"
                return _Answer(400, {"message": invalid_to})
        elif not isinstance(body.get("replyToken"), str) or not body["replyToken"]:
            problems.insert(0, ("replyToken", "May not be empty"))
        if problems:
            return _Answer(400, {"message": f"The request body has {len(problems)} error(s)",
                                 "details": [{"message": m, "property": p} for p, m in problems]})
        if record.endpoint == "reply":
            reply = self._reply_tokens.get(body["replyToken"])
            if reply is None or reply.used or self.clock() - reply.issued_at > REPLY_TOKEN_TTL:
                return _Answer(400, {"message": "Invalid reply token"})
            reply.used = True
            record.reply_to = reply.to
        elif self.recipients is not None and body["to"] not in self.recipients:
            return _Answer(400, {"message": "Failed to send messages"})
        record.delivered = True
        record.sent_messages = [self._sent(m) for m in record.messages]
        if record.retry_key is not None:
            self._retry_keys[record.retry_key.lower()] = (self.clock(), record)
        return _Answer(200, {"sentMessages": record.sent_messages})

    def _check_headers(self, record: LineRequest) -> _Answer | None:
        token = (record.authorization or "").removeprefix("Bearer ")
        if not record.authorization or not record.authorization.startswith("Bearer ") or token not in self.tokens:
            return _Answer(401, {"message": AUTH_FAILED})
        if record.retry_key is None:
            return None
        if record.endpoint != "push":
            return _Answer(400, {"message": "The retry key is not supported by this API"})
        if not _is_uuid(record.retry_key):
            return _Answer(400, {"message": "The value of the X-Line-Retry-Key header is invalid"})
        accepted = self._retry_keys.get(record.retry_key.lower())
        if accepted is not None and self.clock() - accepted[0] < RETRY_KEY_TTL:
            first = accepted[1]
            return _Answer(409, {"message": "The retry key is already accepted", "sentMessages": first.sent_messages},
                           {"x-line-accepted-request-id": first.request_id})
        return None

    def _sent(self, message: dict[str, Any]) -> dict[str, str]:
        self._message_ids += 1
        sent = {"id": str(self._message_ids)}
        if message.get("type") in QUOTABLE:
            sent["quoteToken"] = secrets.token_urlsafe(24)
        return sent


def _fault_answer(fault: Fault) -> _Answer:
    assert fault.status is not None
    status = fault.status
    headers = {"retry-after": "1"} if status == 429 else {}
    return _Answer(status, fault.body or {"message": STATUS_MESSAGES.get(status, "Error")}, headers)


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return len(value) == 36


class ReplyTokenRequest(BaseModel):
    to: str = "U" + "0" * 32


def line_app(fake: FakeLine) -> FastAPI:
    """The HTTP face of `fake`: LINE's endpoints plus `/_fake/...` for tests and demos."""
    app = FastAPI(title="Fake LINE Messaging API", docs_url="/_fake/docs", openapi_url="/_fake/openapi.json")

    @app.post("/v2/bot/message/push")
    async def push(request: Request) -> JSONResponse:
        return await fake.handle("push", request)

    @app.post("/v2/bot/message/reply")
    async def reply(request: Request) -> JSONResponse:
        return await fake.handle("reply", request)

    @app.get("/_fake/messages")
    async def messages() -> list[dict[str, Any]]:
        return [r.to_json() for r in fake.requests()]

    @app.post("/_fake/faults", status_code=204)
    async def faults(body: FaultRequest) -> None:
        fake.fail_next(body.status, times=body.times, delay=body.delay, deliver=body.deliver, body=body.body)

    @app.post("/_fake/reply-tokens")
    async def reply_tokens(body: ReplyTokenRequest) -> dict[str, str]:
        return {"replyToken": fake.issue_reply_token(body.to)}

    @app.post("/_fake/reset", status_code=204)
    async def reset() -> None:
        fake.reset()

    return app
