"""The SMS gateway contract notify speaks (Thailand has no single standard: this one is ours), and a fake of it.

    POST /v1/messages
    Authorization: Bearer <api key>
    Content-Type: application/json

    {"to": "+66812345678", "text": "...", "reference": "<client uuid>", "sender": "1300"}

- `to`: one number in E.164 (`+` country code and number, 8 to 15 digits), required.
- `text`: required, at most 10 segments. A text using only the GSM 03.38 alphabet is sent as GSM-7: 160 septets in
  one segment, 153 per segment when concatenated, `^ { } [ ] ~ | € \\ and form feed` taking two septets. Any other
  character (Thai, for one) makes the whole text UCS-2: 70 UTF-16 units in one segment, 67 per segment.
- `reference`: optional, a UUID chosen by the client: its idempotency key. The same API key and reference again
  within 24 hours send nothing and answer 200 with the first answer, so a client retries with the same reference.
- `sender`: optional sender name (1 to 11 letters, digits or spaces) or number (up to 15 digits).

Answers (JSON):
- 202 `{"message_id": "...", "segments": n, "encoding": "GSM-7" | "UCS-2", "reference": ...}`: accepted;
- 200, the same body: a reference already accepted;
- 400 `{"error": {"code": ..., "message": ..., "field": ...}}`, code one of `invalid_json`, `invalid_number`,
  `empty_text`, `text_too_long`, `invalid_reference`, `invalid_sender`: do not retry;
- 401 `{"error": {"code": "unauthorized", ...}}`: a missing or unknown API key; do not retry;
- 429 `{"error": {"code": "rate_limited", ...}}` with `Retry-After` (seconds), 5xx: retry, same reference.

The fake adds, for tests: faults (`FakeSms.fail_next`, `POST /_fake/faults`) and the messages it accepted
(`FakeSms.messages()`, `GET /_fake/messages`).
"""

from __future__ import annotations

import asyncio
import json
import math
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from hotline_fakes.faults import Fault, FaultRequest, Faults

DEFAULT_API_KEY = "dev-sms-api-key"
MAX_SEGMENTS = 10
REFERENCE_TTL = 24 * 3600.0
E164 = re.compile(r"^\+[1-9][0-9]{7,14}$")
SENDER = re.compile(r"^(?:[A-Za-z0-9 ]{1,11}|[0-9]{1,15})$")
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("^{}\\[~]|€\f")
FAULT_CODES = {400: "bad_request", 401: "unauthorized", 429: "rate_limited"}


def encoding(text: str) -> str:
    return "GSM-7" if all(c in GSM7_BASIC or c in GSM7_EXTENSION for c in text) else "UCS-2"


def segments(text: str) -> int:
    """How many SMS segments `text` takes (0 for an empty text)."""
    if encoding(text) == "GSM-7":
        units, single, part = sum(2 if c in GSM7_EXTENSION else 1 for c in text), 160, 153
    else:
        units, single, part = len(text.encode("utf-16-le")) // 2, 70, 67
    if units == 0:
        return 0
    return 1 if units <= single else math.ceil(units / part)


@dataclass(frozen=True)
class SmsMessage:
    message_id: str
    to: str
    text: str
    sender: str | None
    reference: str | None
    segments: int
    encoding: str
    api_key: str
    received_at: float

    def answer(self) -> dict[str, Any]:
        return {"message_id": self.message_id, "segments": self.segments, "encoding": self.encoding,
                "reference": self.reference}


def _error(status: int, code: str, message: str, field: str | None = None) -> JSONResponse:
    error: dict[str, Any] = {"code": code, "message": message}
    if field is not None:
        error["field"] = field
    headers = {"Retry-After": "1"} if status == 429 else None
    return JSONResponse({"error": error}, status_code=status, headers=headers)


class FakeSms:
    """The gateway's state and its Python API; `app` serves it."""

    def __init__(self, api_keys: Iterable[str] = (DEFAULT_API_KEY,), *,
                 clock: Callable[[], float] = time.time) -> None:
        self.api_keys = set(api_keys)
        self.clock = clock
        self.faults = Faults()
        self._messages: list[SmsMessage] = []
        self._references: dict[tuple[str, str], SmsMessage] = {}
        self._lock = threading.Lock()
        self.app = sms_app(self)

    def messages(self) -> list[SmsMessage]:
        with self._lock:
            return list(self._messages)

    def fail_next(self, status: int | None, *, times: int = 1, delay: float = 0.0, deliver: bool = False,
                  body: dict[str, Any] | None = None) -> None:
        self.faults.add(status, times=times, delay=delay, deliver=deliver, body=body)

    def reset(self) -> None:
        with self._lock:
            self._messages.clear()
            self._references.clear()
        self.faults.clear()

    async def handle(self, request: Request) -> JSONResponse:
        raw = await request.body()
        fault = self.faults.take()
        if fault is not None and fault.delay:
            await asyncio.sleep(fault.delay)
        if fault is not None and fault.status is not None and not fault.deliver:
            return _fault(fault)
        answer = self._send(request.headers.get("authorization") or "", raw)
        return _fault(fault) if fault is not None and fault.status is not None else answer

    def _send(self, authorization: str, raw: bytes) -> JSONResponse:
        api_key = authorization.removeprefix("Bearer ")
        if not authorization.startswith("Bearer ") or api_key not in self.api_keys:
            return _error(401, "unauthorized", "Missing or unknown API key")
        try:
            body = json.loads(raw)
        except ValueError:
            return _error(400, "invalid_json", "The body is not JSON")
        if not isinstance(body, dict):
            return _error(400, "invalid_json", "The body must be a JSON object")
        to, text, reference, sender = body.get("to"), body.get("text"), body.get("reference"), body.get("sender")
        if not isinstance(to, str) or not E164.match(to):
            return _error(400, "invalid_number", "`to` must be one number in E.164, e.g. +66812345678", "to")
        if not isinstance(text, str) or not text:
            return _error(400, "empty_text", "`text` may not be empty", "text")
        if segments(text) > MAX_SEGMENTS:
            return _error(400, "text_too_long", f"`text` takes more than {MAX_SEGMENTS} segments", "text")
        if reference is not None and (not isinstance(reference, str) or not _is_uuid(reference)):
            return _error(400, "invalid_reference", "`reference` must be a UUID", "reference")
        if sender is not None and (not isinstance(sender, str) or not SENDER.match(sender)):
            return _error(400, "invalid_sender", "`sender` must be 1-11 letters, digits or spaces, or a number",
                          "sender")
        now = self.clock()
        with self._lock:
            if reference is not None:
                first = self._references.get((api_key, reference.lower()))
                if first is not None and now - first.received_at < REFERENCE_TTL:
                    return JSONResponse(first.answer(), status_code=200)
            message = SmsMessage(str(uuid.uuid4()), to, text, sender, reference, segments(text), encoding(text),
                                 api_key, now)
            self._messages.append(message)
            if reference is not None:
                self._references[(api_key, reference.lower())] = message
        return JSONResponse(message.answer(), status_code=202)


def _fault(fault: Fault) -> JSONResponse:
    assert fault.status is not None
    if fault.body is not None:
        headers = {"Retry-After": "1"} if fault.status == 429 else None
        return JSONResponse(fault.body, status_code=fault.status, headers=headers)
    code = FAULT_CODES.get(fault.status, "unavailable")
    return _error(fault.status, code, f"Injected fault: HTTP {fault.status}")


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return len(value) == 36


def sms_app(fake: FakeSms) -> FastAPI:
    app = FastAPI(title="Fake SMS gateway", docs_url="/_fake/docs", openapi_url="/_fake/openapi.json")

    @app.post("/v1/messages")
    async def send(request: Request) -> JSONResponse:
        return await fake.handle(request)

    @app.get("/_fake/messages")
    async def messages() -> list[dict[str, Any]]:
        return [asdict(m) for m in fake.messages()]

    @app.post("/_fake/faults", status_code=204)
    async def faults(body: FaultRequest) -> None:
        fake.fail_next(body.status, times=body.times, delay=body.delay, deliver=body.deliver, body=body.body)

    @app.post("/_fake/reset", status_code=204)
    async def reset() -> None:
        fake.reset()

    return app
