"""E-mail channel: SMTP (RFC 5321) through aiosmtplib; a UTF-8 text part and an HTML alternative, Thai first.

The Message-ID is derived from the delivery id, so a message re-sent after a lost answer can be recognised as the
same one. A 4xx reply or a broken connection is retried; a 5xx reply (550 no such user, 535 bad login) is not.
"""

from __future__ import annotations

import html
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr

import aiosmtplib

from hotline_common import labels
from hotline_notify.channels.base import AlertChannel, AlertItem, Delivery, DeliveryResult, register

FOOTER = ("ข้อความอัตโนมัติจากสายด่วน 1300 ลิงก์ใช้ได้ชั่วคราว โปรดอย่าส่งต่อ / "
          "Sent automatically by the 1300 hotline; the link expires, please do not forward.")


@register
class EmailChannel(AlertChannel):
    kind = "email"

    def __init__(self, host: str, port: int, sender: str, *, username: str | None = None,
                 password: str | None = None, starttls: bool = False, timeout: float) -> None:
        self.host, self.port, self.sender = host, port, sender
        self.envelope_sender = parseaddr(sender)[1] or sender
        self.username, self.password = username or None, password or None
        self.starttls = starttls  # True: required (a relay on 587); False: plain SMTP (a local relay on 25)
        self.timeout = timeout

    async def send(self, delivery: Delivery) -> DeliveryResult:
        message = alert_email(delivery, self.sender)
        try:
            await aiosmtplib.send(message, sender=self.envelope_sender, recipients=[delivery.address],
                                  hostname=self.host, port=self.port, username=self.username,
                                  password=self.password, start_tls=self.starttls, timeout=self.timeout)
        except aiosmtplib.SMTPRecipientsRefused as exc:
            code = max((r.code for r in exc.recipients), default=550)
            reason = "; ".join(r.message for r in exc.recipients)
            return DeliveryResult(ok=False, permanent=code >= 500, error=f"SMTP {code}: {reason}"[:500])
        except aiosmtplib.SMTPResponseException as exc:
            return DeliveryResult(ok=False, permanent=exc.code >= 500, error=f"SMTP {exc.code}: {exc.message}"[:500])
        except aiosmtplib.SMTPNotSupported as exc:  # e.g. STARTTLS or AUTH required here, not offered there
            return DeliveryResult(ok=False, permanent=True, error=f"SMTP: {exc}"[:500])
        except (aiosmtplib.SMTPException, OSError) as exc:  # connection refused or lost, timeouts
            return DeliveryResult(ok=False, error=f"{type(exc).__name__}: {exc}"[:300])
        return DeliveryResult(ok=True)


def alert_email(delivery: Delivery, sender: str) -> EmailMessage:
    items = delivery.items
    message = EmailMessage()
    message["Subject"] = subject(items)
    message["From"] = sender
    message["To"] = delivery.address
    message["Date"] = format_datetime(datetime.now(UTC))
    domain = (parseaddr(sender)[1].rpartition("@")[2]) or "hotline.local"
    message["Message-ID"] = f"<{delivery.delivery_id}@{domain}>"
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: out-of-office replies stay away
    message["X-Hotline-Delivery"] = str(delivery.delivery_id)
    if any(item.priority == "P1" for item in items):
        message["Importance"] = "high"
        message["X-Priority"] = "1"
    message.set_content(_text(items))
    message.add_alternative(_html(items), subtype="html")
    return message


def subject(items: tuple[AlertItem, ...]) -> str:
    if len(items) == 1:
        item = items[0]
        what = item.kind_th
        if item.kind == "urgent":  # "[1300][P1] ด่วนขึ้น ภายใน 03:15 น. …": the new priority and its deadline
            what = " ".join(x for x in (what, item.deadline_th) if x)
        return f"[1300][{item.priority}] {what} {item.case_number} — {item.category_th}"
    top = min(item.priority for item in items)
    what = labels.th(labels.ALERT_KIND, "new") if all(item.kind == "new" for item in items) else "เรื่องแจ้งเตือน"
    cases = ", ".join(item.case_number for item in items[:3]) + (" …" if len(items) > 3 else "")
    return f"[1300][{top}] {len(items)} {what} — {cases}"


def _rows(item: AlertItem) -> list[tuple[str, str]]:
    rows = [("ข้อควรระวัง / Safety", " · ".join(item.safety_th))] if item.safety_th else []
    if item.kind == "urgent":
        rows.append(("ด่วนขึ้น / Now more urgent", " ".join(x for x in (item.priority, item.deadline_th) if x)))
    rows += [("เลขเรื่อง / Case", item.case_number),
            ("ความเร่งด่วน / Priority", f"{item.priority} {item.priority_th}"),
            ("ประเภท / Category", f"{item.category_th} ({item.category})"),
            ("พื้นที่ / Area", item.place_th)]
    if item.unit_name_th:
        rows.append(("ส่งถึง / Sent to", item.unit_name_th))
    if item.ack_deadline_th:
        rows.append(("ตอบรับ / Acknowledge", item.ack_deadline_th))
    if item.visit_deadline_th:
        rows.append(("ลงพื้นที่ / Visit", item.visit_deadline_th))
    return rows


def _heading(item: AlertItem) -> str:
    th, en = labels.ALERT_KIND.get(item.kind, (item.kind, item.kind))
    level = f" ขั้น {item.level} / level {item.level}" if item.kind == "escalated" else ""
    return f"{th} / {en}{level}: {item.case_number}"


def _text(items: tuple[AlertItem, ...]) -> str:
    blocks = [] if len(items) == 1 else [f"มี {len(items)} เรื่องแจ้งเตือนถึงคุณ / {len(items)} alerts for you"]
    for item in items:
        lines = [_heading(item), *(f"{label}: {value}" for label, value in _rows(item)),
                 "เปิดเรื่อง รับเรื่อง หรือปฏิเสธ / Open, acknowledge or decline:", item.link]
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + f"\n\n-- \n{FOOTER}\n"


def _html(items: tuple[AlertItem, ...]) -> str:
    e = html.escape
    parts = ['<!doctype html><html lang="th"><head><meta charset="utf-8"></head>'
             '<body style="font-family:sans-serif;line-height:1.5">']
    if len(items) > 1:
        parts.append(f"<p>มี {len(items)} เรื่องแจ้งเตือนถึงคุณ / {len(items)} alerts for you</p>")
    for item in items:
        rows = "".join(f'<tr><th align="left" style="padding-right:1em">{e(label)}</th><td>{e(value)}</td></tr>'
                       for label, value in _rows(item))
        parts.append(f'<h2 style="font-size:1.1em">{e(_heading(item))}</h2><table>{rows}</table>'
                     f'<p><a href="{e(item.link)}" style="font-weight:bold">เปิดเรื่อง รับเรื่อง หรือปฏิเสธ / '
                     "Open, acknowledge or decline</a></p>")
    parts.append(f'<hr><p style="color:#666;font-size:0.9em">{e(FOOTER)}</p></body></html>')
    return "".join(parts)
