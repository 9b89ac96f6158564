"""The demo phone: one read-only page of everything the fakes accepted — LINE pushes and replies, SMS, e-mails —
newest first, refreshing itself. What a responder's phone would have shown, for demos (`hotline-fakes all`,
`hotline-dev up`).

Every piece of content goes through `html.escape`: the texts come from whoever called the fakes.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from email.message import EmailMessage
from typing import Any, Literal

from fastapi import FastAPI
from fastapi.responses import HTMLResponse

from hotline_fakes.line import FakeLine, LineRequest
from hotline_fakes.sms import FakeSms
from hotline_fakes.smtp import FakeSmtp, ReceivedMail

# Thailand keeps no daylight saving time: a fixed offset needs no tzdata (absent from slim container images).
BANGKOK = timezone(timedelta(hours=7), "ICT")
MAX_ENTRIES = 300  # a long demo keeps the page light; the fakes' /_fake/messages keep everything
# Schemes a LINE URI action may use; anything else is shown as text, never made a link.
LINK_SCHEMES = ("http://", "https://", "tel:", "line://")

Kind = Literal["line", "sms", "email"]
KIND_LABELS: dict[Kind, str] = {"line": "ข้อความ LINE · LINE message", "sms": "SMS · ข้อความสั้น",
                                "email": "อีเมล · E-mail"}
STYLE = """
body{font-family:"Noto Sans Thai","Sarabun",system-ui,sans-serif;margin:0;background:#eef1f4;color:#1d2329}
main{max-width:46rem;margin:0 auto;padding:1rem}
h1{font-size:1.4rem;margin:.2rem 0}
.note{color:#56606b;font-size:.9rem;margin:.2rem 0 .8rem}
.counts{display:flex;flex-wrap:wrap;gap:.5rem;padding:0;list-style:none;margin:0 0 1rem}
.counts li{background:#fff;border-radius:1rem;padding:.2rem .7rem;font-size:.85rem}
article{background:#fff;border-radius:.8rem;padding:.7rem .9rem;margin:0 0 .7rem;border-left:.35rem solid #999}
article.line{border-color:#06c755}article.sms{border-color:#1e88e5}article.email{border-color:#f4511e}
article header{display:flex;flex-wrap:wrap;gap:.3rem .8rem;font-size:.82rem;color:#56606b;margin-bottom:.3rem}
.badge{font-weight:600;color:#1d2329}
.title{font-weight:600;margin:.2rem 0}
.text,.body{white-space:pre-wrap;margin:.2rem 0;overflow-wrap:anywhere}
.alt{color:#56606b;font-size:.82rem;margin:.2rem 0}
.column{border-top:1px solid #e3e6ea;padding-top:.3rem;margin-top:.3rem}
.actions{display:flex;flex-wrap:wrap;gap:.4rem;margin:.3rem 0}
.actions a,.actions span{border:1px solid #c9ced4;border-radius:.4rem;padding:.15rem .5rem;font-size:.85rem}
.actions span{color:#56606b}
.empty{color:#56606b}
"""


@dataclass(frozen=True)
class Entry:
    """One thing a phone received."""

    at: float  # epoch seconds, when the fake accepted it
    kind: Kind
    to: str
    content: str  # HTML, built only from escaped parts
    note: str = ""  # plain text shown beside the recipient (e.g. "reply"); escaped when rendered


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def bangkok_time(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, BANGKOK).strftime("%Y-%m-%d %H:%M:%S")


# -- LINE ------------------------------------------------------------------------------------------------------
def _action(action: Any) -> str:
    if not isinstance(action, Mapping):
        return ""
    label = _e(action.get("label") or action.get("type") or "")
    uri = action.get("uri")
    if action.get("type") == "uri" and isinstance(uri, str) and uri.lower().startswith(LINK_SCHEMES):
        return f'<a href="{_e(uri)}" target="_blank" rel="noopener noreferrer">{label}</a>'
    if isinstance(uri, str):  # a scheme we do not link: shown, not clickable
        return f"<span>{label}: {_e(uri)}</span>"
    return f"<span>{label}</span>"  # postback / message buttons: what the responder would tap


def _actions(actions: Any) -> str:
    if not isinstance(actions, list) or not actions:
        return ""
    return '<div class="actions">' + "".join(_action(a) for a in actions) + "</div>"


def _title_text(part: Mapping[str, Any]) -> str:
    out = ""
    if part.get("title"):
        out += f'<p class="title">{_e(part["title"])}</p>'
    if part.get("text"):
        out += f'<p class="text">{_e(part["text"])}</p>'
    return out + _actions(part.get("actions"))


def line_message_html(message: Any) -> str:
    """One LINE message object: text, or a template's title, text and buttons (links for URI actions)."""
    if not isinstance(message, Mapping):
        return ""
    kind = message.get("type")
    if kind in ("text", "textV2"):
        return f'<p class="text">{_e(message.get("text", ""))}</p>'
    if kind == "template" and isinstance(message.get("template"), Mapping):
        template = message["template"]
        out = f'<p class="alt">{_e(message.get("altText", ""))}</p>' if message.get("altText") else ""
        columns = template.get("columns")
        if isinstance(columns, list):  # carousel: one column per alert
            return out + "".join(f'<div class="column">{_title_text(c)}</div>' for c in columns
                                 if isinstance(c, Mapping))
        return out + _title_text(template)
    return f'<p class="alt">[{_e(kind)}]</p>'


def line_entry(request: LineRequest) -> Entry:
    content = "".join(line_message_html(m) for m in request.messages)
    note = "ตอบกลับในแชต · reply" if request.endpoint == "reply" else ""
    return Entry(request.received_at, "line", request.to or "", content, note)


# -- e-mail ----------------------------------------------------------------------------------------------------
def plain_body(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    if part is None:
        return ""
    try:
        content = part.get_content()
    except (LookupError, ValueError):  # an unknown charset or a broken part: show what can be shown
        payload = part.get_payload(decode=True)
        content = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else ""
    return str(content)


def email_entry(mail: ReceivedMail) -> Entry:
    subject = mail.message["Subject"] or ""
    content = f'<p class="title">{_e(subject)}</p><p class="body">{_e(plain_body(mail.message).rstrip())}</p>'
    return Entry(mail.received_at, "email", ", ".join(mail.rcpt_tos), content)


# -- the page --------------------------------------------------------------------------------------------------
def entries(line: FakeLine, sms: FakeSms, smtp: FakeSmtp) -> list[Entry]:
    """Everything the three fakes accepted, newest first."""
    found = [line_entry(r) for r in line.requests() if r.delivered]
    found += [Entry(m.received_at, "sms", m.to, f'<p class="text">{_e(m.text)}</p>') for m in sms.messages()]
    found += [email_entry(m) for m in smtp.messages()]
    return sorted(found, key=lambda e: e.at, reverse=True)


def _article(entry: Entry) -> str:
    note = f"<span>{_e(entry.note)}</span>" if entry.note else ""
    return (f'<article class="{entry.kind}"><header><span class="badge">{_e(KIND_LABELS[entry.kind])}</span>'
            f"<span>ถึง · to: {_e(entry.to)}</span>{note}"
            f'<time>{_e(bangkok_time(entry.at))}</time></header>{entry.content}</article>')


def render(items: Iterable[Entry], counts: Mapping[str, int], refresh: int) -> str:
    shown = list(items)[:MAX_ENTRIES]
    body = "".join(_article(e) for e in shown) or '<p class="empty">ยังไม่มีข้อความ · Nothing received yet.</p>'
    count_items = "".join(f"<li>{_e(label)}: {n}</li>" for label, n in counts.items())
    return f"""<!doctype html>
<html lang="th">
<head>
<meta charset="utf-8">
<meta http-equiv="refresh" content="{int(refresh)}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>โทรศัพท์จำลอง · Demo phone</title>
<style>{STYLE}</style>
</head>
<body><main>
<h1>โทรศัพท์จำลอง · Demo phone</h1>
<p class="note">ทุกข้อความที่ LINE, SMS และอีเมลจำลองได้รับ ล่าสุดอยู่บนสุด เวลาประเทศไทย รีเฟรชทุก {int(refresh)} วินาที ·
Everything the LINE, SMS and e-mail fakes accepted, newest first, in Bangkok time; refreshes every {int(refresh)} s.</p>
<ul class="counts">{count_items}</ul>
{body}
</main></body>
</html>
"""


def viewer_app(line: FakeLine, sms: FakeSms, smtp: FakeSmtp, *, refresh: int = 3) -> FastAPI:
    """The demo phone page (`GET /`) over the three fakes' state; it reads, never changes anything."""
    app = FastAPI(title="Demo phone (fakes viewer)", docs_url=None, redoc_url=None, openapi_url=None)

    @app.get("/", response_class=HTMLResponse)
    async def page() -> HTMLResponse:
        items = entries(line, sms, smtp)
        refused = sum(1 for r in line.requests() if not r.delivered)
        counts = {
            "ข้อความ LINE · LINE messages": sum(1 for e in items if e.kind == "line"),
            "คำขอ LINE ที่ไม่สำเร็จ · LINE requests refused": refused,  # injected faults show up here
            "SMS": sum(1 for e in items if e.kind == "sms"),
            "อีเมล · E-mails": sum(1 for e in items if e.kind == "email"),
        }
        # No scripts at all; the meta refresh is not subject to CSP.
        headers = {"Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'",
                   "X-Content-Type-Options": "nosniff", "Cache-Control": "no-store"}
        return HTMLResponse(render(items, counts, refresh), headers=headers)

    return app
