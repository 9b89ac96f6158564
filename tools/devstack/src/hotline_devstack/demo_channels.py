"""`hotline-dev up`'s demo of notify's real channels: the env that points notify at the local fakes, and one demo
responder made reachable on LINE, SMS and e-mail through the registry's public API (as an admin would do it).

Stdlib only at import time (like the rest of hotline_devstack): the registry's models are imported where used.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from hotline_devstack.procs import DevstackError

# The demo `responder` account's volunteer: the center of แขวงพระบรมมหาราชวัง, เขตพระนคร, Bangkok.
DEMO_TAMBON = "100101"
# A well-formed LINE user id ("U" + 32 hex), a valid Thai mobile (E.164) and an address no one receives mail at.
DEMO_LINE_USER_ID = "U13001001010000000000000000000001"
DEMO_PHONE = "+66891300101"
DEMO_EMAIL = "volunteer.100101@example.org"
DEV_LINE_CHANNEL_SECRET = "dev-only-line-channel-secret"
# The public's 1300 LINE account (intake) is another channel than the responders' (notify): its own secret.
DEV_PUBLIC_LINE_CHANNEL_SECRET = "dev-only-public-line-channel-secret"
OUR_KINDS = ("line", "sms", "email")


def notify_channel_env(*, line_url: str, line_token: str, sms_url: str, sms_api_key: str, smtp_host: str,
                       smtp_port: int) -> dict[str, str]:
    """The NOTIFY_* settings that turn on notify's LINE, SMS and e-mail channels against the fakes."""
    return {
        "NOTIFY_LINE_API_BASE_URL": line_url,
        "NOTIFY_LINE_CHANNEL_ACCESS_TOKEN": line_token,
        "NOTIFY_LINE_CHANNEL_SECRET": DEV_LINE_CHANNEL_SECRET,
        "NOTIFY_SMS_GATEWAY_URL": sms_url,
        "NOTIFY_SMS_API_KEY": sms_api_key,
        "NOTIFY_SMTP_HOST": smtp_host,
        "NOTIFY_SMTP_PORT": str(smtp_port),
    }


DEMO_OPS_PHONE = "+66891300999"
DEMO_OPS_EMAIL = "ops.oncall@example.org"


def watchdog_pager_env(*, sms_url: str, sms_api_key: str, smtp_host: str, smtp_port: int) -> dict[str, str]:
    """The WATCHDOG_* settings that page the demo ops on-call by SMS and e-mail through the fakes (seen on the
    demo phone page), on a path that needs none of the services."""
    return {
        "WATCHDOG_SMS_GATEWAY_URL": sms_url,
        "WATCHDOG_SMS_API_KEY": sms_api_key,
        "WATCHDOG_OPS_SMS": DEMO_OPS_PHONE,
        "WATCHDOG_SMTP_HOST": smtp_host,
        "WATCHDOG_SMTP_PORT": str(smtp_port),
        "WATCHDOG_OPS_EMAIL": DEMO_OPS_EMAIL,
    }


def intake_line_env(*, line_url: str, line_token: str) -> dict[str, str]:
    """The INTAKE_* settings that open the public's LINE account on intake, answering through the LINE fake."""
    return {
        "INTAKE_LINE_API_BASE_URL": line_url,
        "INTAKE_LINE_CHANNEL_ACCESS_TOKEN": line_token,
        "INTAKE_LINE_CHANNEL_SECRET": DEV_PUBLIC_LINE_CHANNEL_SECRET,
    }


# A member of the public writing to the 1300 LINE account in the demo (`hotline-dev line-say`).
DEMO_PUBLIC_LINE_USER_ID = "U13000000000000000000000000000001"


def public_line_webhook(*, text: str | None = None, lat: float | None = None, lon: float | None = None,
                        postback: str | None = None, user_id: str = DEMO_PUBLIC_LINE_USER_ID,
                        now_ms: int, event_id: str) -> dict[str, Any]:
    """A webhook body as LINE sends it for one message or button tap of `user_id` (the shape of
    https://developers.line.biz/en/reference/messaging-api/#webhook-event-objects)."""
    event: dict[str, Any] = {"mode": "active", "timestamp": now_ms, "source": {"type": "user", "userId": user_id},
                             "webhookEventId": event_id, "deliveryContext": {"isRedelivery": False},
                             "replyToken": event_id.lower()}
    if postback is not None:
        event |= {"type": "postback", "postback": {"data": postback}}
    elif lat is not None and lon is not None:
        event |= {"type": "message", "message": {"id": str(now_ms), "type": "location", "title": "ตำแหน่งของฉัน",
                                                 "address": "", "latitude": lat, "longitude": lon}}
    else:
        event |= {"type": "message", "message": {"id": str(now_ms), "type": "text", "quoteToken": event_id,
                                                 "text": text or ""}}
    return {"destination": "U" + "0" * 32, "events": [event]}


def line_signature(channel_secret: str, body: bytes) -> str:
    """`X-Line-Signature`: base64 of the body's HMAC-SHA256 with the channel secret (stdlib: no venv needed)."""
    return base64.b64encode(hmac.new(channel_secret.encode(), body, hashlib.sha256).digest()).decode("ascii")


def demo_channels(current: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """LINE, SMS, e-mail first (the order notify tries them), then the responder's other channels as they were
    (the demo webhook stays the last resort)."""
    ours: list[dict[str, Any]] = [
        {"kind": "line", "address": DEMO_LINE_USER_ID, "secret_ref": None},
        {"kind": "sms", "address": DEMO_PHONE, "secret_ref": None},
        {"kind": "email", "address": DEMO_EMAIL, "secret_ref": None},
    ]
    # Another LINE/SMS/e-mail address of theirs would be tried before the webhook and reach nobody: dropped.
    others = [dict(c) for c in current if c.get("kind") not in OUR_KINDS]
    return ours + others


def responder_update(record: Mapping[str, Any], fields: Iterable[str]) -> dict[str, Any] | None:
    """The PUT body giving `record` (a registry GET body) the demo channels, or None when it has them already.

    `fields` are the input model's (the record carries its id, version and event fields, which PUT refuses)."""
    channels = demo_channels(record.get("channels") or [])
    if [_channel_key(c) for c in record.get("channels") or []] == [_channel_key(c) for c in channels]:
        return None
    body = {name: record[name] for name in fields if name in record}
    body["channels"] = channels
    return body


def _channel_key(channel: Mapping[str, Any]) -> tuple[Any, Any, Any]:
    return channel.get("kind"), channel.get("address"), channel.get("secret_ref")


def demo_responder_id() -> str:
    from hotline_registry.demo import responder_id_for

    return str(responder_id_for(DEMO_TAMBON))


def _responder_fields() -> list[str]:
    # What the registry's responder input accepts (it forbids anything else).
    from hotline_common.events.registry import ResponderDetails

    return list(ResponderDetails.model_fields)


def _call(method: str, url: str, *, data: bytes | None = None, headers: Mapping[str, str] | None = None,
          timeout: float = 10.0) -> tuple[int, dict[str, str], Any]:
    request = urllib.request.Request(url, data=data, method=method, headers=dict(headers or {}))
    try:
        with urllib.request.urlopen(request, timeout=timeout) as resp:
            raw = resp.read()
            return resp.status, dict(resp.headers.items()), json.loads(raw) if raw else None
    except urllib.error.HTTPError as exc:
        raw = exc.read()
        try:
            detail: Any = json.loads(raw) if raw else None
        except ValueError:
            detail = raw.decode("utf-8", "replace")
        return exc.code, dict(exc.headers.items()), detail
    except OSError as exc:  # refused, reset, timed out (URLError is one)
        raise DevstackError(f"{method} {url}: {getattr(exc, 'reason', exc)}") from exc


def sign_in(registry_url: str, username: str, password: str) -> str:
    form = urllib.parse.urlencode({"username": username, "password": password}).encode()
    status, _, body = _call("POST", f"{registry_url}/v1/auth/token", data=form,
                            headers={"Content-Type": "application/x-www-form-urlencoded"})
    if status != 200 or not isinstance(body, dict) or "access_token" not in body:
        raise DevstackError(f"sign-in as {username} at {registry_url} failed: HTTP {status} {body}")
    return str(body["access_token"])


def link_demo_responder(registry_url: str, password: str, *, attempts: int = 3) -> bool:
    """Give the demo volunteer of DEMO_TAMBON LINE, SMS and e-mail before their webhook, signed in as `admin`.
    Idempotent (a kept database already has them: nothing is written). True when the record was changed."""
    token = sign_in(registry_url, "admin", password)
    url = f"{registry_url}/v1/responders/{demo_responder_id()}"
    auth = {"Authorization": f"Bearer {token}"}
    for _ in range(attempts):  # 412: someone changed the record between our read and write; read again
        status, headers, record = _call("GET", url, headers=auth)
        if status != 200 or not isinstance(record, dict):
            raise DevstackError(f"GET {url}: HTTP {status} {record} (is the demo directory seeded?)")
        body = responder_update(record, _responder_fields())
        if body is None:
            return False
        etag = {k.lower(): v for k, v in headers.items()}.get("etag", "")
        status, _, answer = _call("PUT", url, data=json.dumps(body).encode(),
                                  headers={**auth, "Content-Type": "application/json", "If-Match": etag})
        if status == 200:
            return True
        if status != 412:
            raise DevstackError(f"PUT {url}: HTTP {status} {answer}")
    raise DevstackError(f"PUT {url}: the record kept changing (412) in {attempts} attempts")
