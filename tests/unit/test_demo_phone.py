"""The demo phone viewer over real fakes, fed by notify's real channel adapters (LINE SDK, httpx, aiosmtplib).

`hotline-fakes all` and `hotline-dev up` serve exactly this: `AllFakes`, here on free ports.
"""

from __future__ import annotations

import html
import uuid
from collections.abc import Iterator
from datetime import datetime

import httpx
import pytest

from hotline_fakes.bundle import AllFakes, Ports
from hotline_fakes.viewer import BANGKOK, line_message_html, plain_body
from hotline_notify.channels import AlertItem, Delivery, EmailChannel, LineChannel, SmsChannel
from hotline_notify.channels.email import subject
from hotline_notify.channels.sms import sms_text

HOSTILE = "<script>alert('x')</script>"
USER = "U13001001010000000000000000000001"
PHONE = "+66891300101"
EMAIL = "volunteer.100101@example.org"
# A real link's query characters must survive as one attribute: & and ' escaped, not cut.
LINK = "http://127.0.0.1:8003/r/Zx9_kQ2mW7rT4yU1oP8sD5fG3hJ6kL0?lang=th&from='line'"


def alert(**changes: object) -> AlertItem:
    values: dict[str, object] = dict(
        alert_id=uuid.uuid4(), case_id=uuid.uuid4(), case_number="1300-2569-000123", priority="P1",
        priority_th="ด่วนที่สุด", category="domestic_violence", category_th=HOSTILE,
        place_th="แขวงพระบรมมหาราชวัง › เขตพระนคร › กรุงเทพมหานคร",
        unit_name_th="ศูนย์ช่วยเหลือสังคมแขวงพระบรมมหาราชวัง", kind="new", level=1, link=LINK,
        ack_data="a=ack&s=" + "k" * 40, decline_data="a=decline&s=" + "d" * 40, ack_deadline_th="ภายใน 03:15 น.")
    values.update(changes)
    return AlertItem(**values)  # type: ignore[arg-type]


def delivery(address: str, item: AlertItem) -> Delivery:
    return Delivery(delivery_id=uuid.uuid4(), address=address, secret_ref=None, items=(item,))


@pytest.fixture
def fakes() -> Iterator[AllFakes]:
    with AllFakes(ports=Ports(line=0, sms=0, smtp=0, viewer=0)) as started:
        yield started


async def page(fakes: AllFakes) -> httpx.Response:
    async with httpx.AsyncClient(timeout=10) as client:
        return await client.get(fakes.urls["viewer"] + "/")


async def test_the_viewer_shows_what_each_channel_delivered_newest_first_escaped(fakes: AllFakes) -> None:
    item = alert()
    line = LineChannel(fakes.urls["line"], fakes.token, timeout=5.0)
    sms = SmsChannel(fakes.urls["sms"], fakes.api_key, sender="1300", timeout=5.0)
    email = EmailChannel(fakes.smtp.host, fakes.smtp.port, "สายด่วน 1300 <alerts@hotline.example.go.th>",
                         timeout=5.0)
    try:
        assert (await line.send(delivery(USER, item))).ok
        assert (await sms.send(delivery(PHONE, item))).ok
        assert (await email.send(delivery(EMAIL, item))).ok
        fakes.line.fail_next(500)  # refused: counted, not shown as a message
        assert not (await line.send(delivery(USER, item))).ok
    finally:
        await line.close()
        await sms.close()

    response = await page(fakes)
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert "script-src" not in response.headers["content-security-policy"]  # default-src 'none': no scripts
    text = response.text
    assert '<meta charset="utf-8">' in text
    assert '<meta http-equiv="refresh" content="3">' in text
    # Thai labels with English beside them; the Thai of the alert intact.
    assert "ข้อความ LINE · LINE messages: 1" in text
    assert "คำขอ LINE ที่ไม่สำเร็จ · LINE requests refused: 1" in text
    assert "SMS: 1" in text and "อีเมล · E-mails: 1" in text
    assert "แขวงพระบรมมหาราชวัง" in text and "ตอบรับภายใน 03:15 น." in text
    # The LINE push: the template's title and text, its URI action a link, its postbacks plain buttons.
    [push] = fakes.line.pushes()
    template = push.messages[0]["template"]
    assert f'<p class="title">{html.escape(template["title"])}</p>' in text
    assert f'<p class="text">{html.escape(template["text"])}</p>' in text
    assert template["title"] == "[P1] 1300-2569-000123"
    assert f'<a href="{html.escape(LINK)}" target="_blank" rel="noopener noreferrer">เปิดดู / Open</a>' in text
    assert "&amp;from=&#x27;line&#x27;" in text
    assert "<span>รับเรื่อง / Ack</span>" in text
    # SMS text and the e-mail's subject and plain body, each escaped.
    [message] = fakes.sms.messages()
    assert f'<p class="text">{html.escape(message.text)}</p>' in text
    assert message.text == sms_text((item,))
    [mail] = fakes.smtp.messages()
    assert html.escape(subject((item,))) in text
    assert "แขวงพระบรมมหาราชวัง" in plain_body(mail.message)
    assert f'<p class="body">{html.escape(plain_body(mail.message).rstrip())}</p>' in text
    # Who it went to, when (Bangkok time), newest first: e-mail, SMS, LINE.
    when = datetime.fromtimestamp(push.received_at, BANGKOK).strftime("%Y-%m-%d %H:%M:%S")
    assert f"<time>{when}</time>" in text
    positions = [text.index(f"ถึง · to: {html.escape(to)}") for to in (EMAIL, PHONE, USER)]
    assert positions == sorted(positions)
    # The hostile category arrived everywhere and is text, never markup: the page has no script element at all.
    assert text.count(html.escape(HOSTILE)) >= 4  # LINE alt text and text, SMS, e-mail subject and body
    assert "<script" not in text.lower()


async def test_a_line_reply_shows_in_the_chat_it_answered(fakes: AllFakes) -> None:
    line = LineChannel(fakes.urls["line"], fakes.token, timeout=5.0)
    try:
        token = fakes.line.issue_reply_token(USER)
        assert (await line.reply(token, "รับเรื่อง 1300-2569-000123 แล้ว ขอบคุณค่ะ")).ok
    finally:
        await line.close()
    text = (await page(fakes)).text
    assert "ตอบกลับในแชต · reply" in text
    assert f"ถึง · to: {USER}" in text
    assert "รับเรื่อง 1300-2569-000123 แล้ว ขอบคุณค่ะ" in text


async def test_an_empty_phone_says_so(fakes: AllFakes) -> None:
    text = (await page(fakes)).text
    assert "ยังไม่มีข้อความ · Nothing received yet." in text
    assert "<article" not in text


def test_only_web_links_become_links() -> None:
    message = {"type": "template", "altText": "x", "template": {
        "type": "buttons", "text": "t", "actions": [
            {"type": "uri", "label": "bad", "uri": "javascript:alert(1)"},
            {"type": "uri", "label": "call", "uri": "tel:1300"},
            {"type": "uri", "label": "<b>", "uri": 'https://example.org/"><script>'}]}}
    rendered = line_message_html(message)
    assert "<span>bad: javascript:alert(1)</span>" in rendered
    assert '<a href="tel:1300"' in rendered
    assert '<a href="https://example.org/&quot;&gt;&lt;script&gt;"' in rendered
    assert ">&lt;b&gt;</a>" in rendered
    assert "<script" not in rendered
