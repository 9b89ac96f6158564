"""Alert channels against local servers that honour the real contracts: LINE, the SMS gateway, SMTP, a webhook.

The adapters run unchanged (the LINE SDK, httpx, aiosmtplib); only the far end is local. The fakes check what the
real services check, so a message that passes here passes there.
"""

from __future__ import annotations

import dataclasses
import json
import re
import socket
import typing
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import time
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request

from hotline_common import labels
from hotline_common.events import Priority, SafeHours, Safety
from hotline_common.webhooks import verify
from hotline_fakes import FakeLine, FakeSms, FakeSmtp, serve
from hotline_fakes.line_rules import grapheme_len
from hotline_fakes.sms import segments
from hotline_notify.alerts import item_for
from hotline_notify.channels import (
    AlertItem,
    Delivery,
    DeliveryResult,
    EmailChannel,
    LineChannel,
    SmsChannel,
    WebhookChannel,
    registry,
)
from hotline_notify.channels.base import AlertKind
from hotline_notify.links import Links

TOKEN = "test-channel-access-token"
API_KEY = "test-sms-api-key"
RESPONDER_LINE = "U4af4980629a1b2c3d4e5f60718293a4b"
RESPONDER_PHONE = "+66812345678"
RESPONDER_EMAIL = "somchai.responder@example.go.th"
CASES = [  # (category, Thai category, place)
    ("domestic_violence", "ความรุนแรงในครอบครัว", "ต.สันกลาง › อ.พาน › จ.เชียงราย"),
    ("child_abuse", "การทารุณกรรมเด็ก", "ต.ในเมือง › อ.เมืองนครราชสีมา › จ.นครราชสีมา"),
    ("elderly_abandoned", "ผู้สูงอายุถูกทอดทิ้ง", "แขวงพระบรมมหาราชวัง › เขตพระนคร › กรุงเทพมหานคร"),
    ("human_trafficking", "การค้ามนุษย์", "ต.บ่อผุด › อ.เกาะสมุย › จ.สุราษฎร์ธานี"),
]
PRIORITIES = [("P1", "ด่วนที่สุด"), ("P2", "ด่วนมาก"), ("P3", "ด่วน"), ("P4", "ปกติ")]
THAI_PHONE = re.compile(r"(?<!\d)(?:\+66|0)[689]\d{7,8}(?!\d)")


def item(n: int = 123, **changes: Any) -> AlertItem:
    category, category_th, place = CASES[n % len(CASES)]
    priority, priority_th = PRIORITIES[n % len(PRIORITIES)]
    token = f"{n:06d}" + "Zx9_kQ2mW7rT4yU1oP8sD5fG3hJ6kL0"
    base = AlertItem(
        alert_id=uuid.uuid4(), case_id=uuid.uuid4(), case_number=f"1300-2569-{n:06d}", priority=priority,
        priority_th=priority_th, category=category, category_th=category_th, place_th=place,
        unit_name_th="ศูนย์ช่วยเหลือสังคม จ.เชียงราย", kind="new", level=1,
        link=f"https://hotline.example.go.th/r/{token}", ack_data=f"a=ack&c={n}&s=" + "k" * 120,
        decline_data=f"a=decline&c={n}&s=" + "d" * 120, ack_deadline_th="ภายใน 03:15 น.",
    )
    return dataclasses.replace(base, **changes)


def delivery(*items: AlertItem, address: str = RESPONDER_LINE, secret_ref: str | None = None) -> Delivery:
    return Delivery(delivery_id=uuid.uuid4(), address=address, secret_ref=secret_ref, items=items or (item(),))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# -- fixtures: the fakes run in-process, on free ports ----------------------------------------------------------
@pytest.fixture(scope="module")
def line_fake() -> Iterator[tuple[FakeLine, str]]:
    fake = FakeLine([TOKEN])
    with serve(fake.app) as url:
        yield fake, url


@pytest.fixture
def line(line_fake: tuple[FakeLine, str]) -> FakeLine:
    line_fake[0].reset()
    return line_fake[0]


@pytest.fixture
async def line_channel(line_fake: tuple[FakeLine, str]) -> AsyncIterator[LineChannel]:
    channel = LineChannel(line_fake[1], TOKEN, timeout=5.0)
    yield channel
    await channel.close()


@pytest.fixture(scope="module")
def sms_fake() -> Iterator[tuple[FakeSms, str]]:
    fake = FakeSms([API_KEY])
    with serve(fake.app) as url:
        yield fake, url


@pytest.fixture
def sms(sms_fake: tuple[FakeSms, str]) -> FakeSms:
    sms_fake[0].reset()
    return sms_fake[0]


@pytest.fixture
async def sms_channel(sms_fake: tuple[FakeSms, str]) -> AsyncIterator[SmsChannel]:
    channel = SmsChannel(sms_fake[1], API_KEY, sender="1300", timeout=5.0)
    yield channel
    await channel.close()


@pytest.fixture(scope="module")
def smtp_server() -> Iterator[FakeSmtp]:
    with FakeSmtp() as server:
        yield server


@pytest.fixture
def smtp(smtp_server: FakeSmtp) -> FakeSmtp:
    smtp_server.reset()
    return smtp_server


@pytest.fixture
def email_channel(smtp_server: FakeSmtp) -> EmailChannel:
    return EmailChannel(smtp_server.host, smtp_server.port, "สายด่วน 1300 <alerts@hotline.example.go.th>",
                        timeout=5.0)


# -- LINE ------------------------------------------------------------------------------------------------------
async def test_line_push_carries_the_token_the_retry_key_and_a_buttons_template(
        line: FakeLine, line_channel: LineChannel) -> None:
    alert = item(123)
    d = delivery(alert)
    result = await line_channel.send(d)
    assert result == DeliveryResult(ok=True, http_status=200)
    [push] = line.pushes()
    assert push.authorization == f"Bearer {TOKEN}"
    assert push.retry_key == str(d.delivery_id)
    assert push.to == RESPONDER_LINE
    [message] = push.messages
    assert message["type"] == "template"
    template = message["template"]
    assert template["type"] == "buttons"
    assert template["title"] == "[P4] 1300-2569-000123"
    assert template["text"].startswith("การค้ามนุษย์\nต.บ่อผุด")  # Thai intact, category first
    assert "ตอบรับภายใน 03:15 น." in template["text"]
    assert [a["type"] for a in template["actions"]] == ["postback", "postback", "uri"]
    assert template["actions"][0]["data"] == alert.ack_data
    assert template["actions"][1]["data"] == alert.decline_data
    assert template["actions"][2]["uri"] == alert.link
    assert all(grapheme_len(a["label"]) <= 20 for a in template["actions"])
    alt = message["altText"]
    assert "1300-2569-000123" in alt and "การค้ามนุษย์" in alt and "ปกติ" in alt and alt.startswith("เรื่องใหม่")


async def test_a_long_thai_place_is_shortened_to_fit_the_template_text(
        line: FakeLine, line_channel: LineChannel) -> None:
    alert = item(2, kind="escalated", level=2)  # กรุงเทพมหานคร: the longest place here
    assert (await line_channel.send(delivery(alert))).ok
    template = line.pushes()[0].messages[0]["template"]
    assert grapheme_len(template["text"]) <= 60
    assert "แขวงพระบรมมหาราชวัง" in template["text"]
    assert template["title"] == "[P3] 1300-2569-000002 · ยกระดับ ขั้น 2"


async def test_the_same_delivery_twice_is_answered_409_and_counts_as_delivered(
        line: FakeLine, line_channel: LineChannel) -> None:
    d = delivery(item())
    first, second = await line_channel.send(d), await line_channel.send(d)
    assert first.ok and first.http_status == 200
    assert second.ok and second.http_status == 409
    assert len(line.pushes()) == 1
    assert [r.status for r in line.requests()] == [200, 409]


async def test_a_retry_after_a_lost_answer_does_not_send_twice(line: FakeLine, line_channel: LineChannel) -> None:
    d = delivery(item())
    line.fail_next(500, deliver=True)  # LINE took the message, the answer was a 500
    lost = await line_channel.send(d)
    assert not lost.ok and not lost.permanent and lost.http_status == 500
    assert (await line_channel.send(d)).ok
    assert len(line.pushes()) == 1


async def test_a_burst_of_twelve_alerts_goes_as_carousels_within_lines_limits(
        line: FakeLine, line_channel: LineChannel) -> None:
    items = tuple(item(n) for n in range(1, 13))
    assert (await line_channel.send(delivery(*items))).ok  # the fake refuses anything beyond LINE's limits
    [push] = line.pushes()
    assert [m["template"]["type"] for m in push.messages] == ["carousel", "carousel"]
    columns = [c for m in push.messages for c in m["template"]["columns"]]
    assert [len(m["template"]["columns"]) for m in push.messages] == [10, 2]
    assert [c["title"].split()[1] for c in columns] == [i.case_number for i in items]
    assert {len(c["actions"]) for c in columns} == {3}
    assert [c["actions"][0]["data"] for c in columns] == [i.ack_data for i in items]
    assert all(len(m["altText"]) <= 400 for m in push.messages)


async def test_more_alerts_than_five_carousels_hold_end_with_a_text_listing_the_rest(
        line: FakeLine, line_channel: LineChannel) -> None:
    items = tuple(item(n) for n in range(1, 58))
    assert (await line_channel.send(delivery(*items))).ok
    messages = line.pushes()[0].messages
    assert [m["type"] for m in messages] == ["template"] * 4 + ["text"]
    summary = messages[4]["text"]
    assert summary.startswith("และอีก 17 เรื่อง (รวม 57 เรื่อง)")
    assert all(i.case_number in summary and i.link in summary for i in items[40:])


@pytest.mark.parametrize("status", [500, 503, 429])
async def test_line_server_errors_and_rate_limits_are_retried(
        line: FakeLine, line_channel: LineChannel, status: int) -> None:
    line.fail_next(status)
    result = await line_channel.send(delivery(item()))
    assert not result.ok and not result.permanent and result.http_status == status
    assert line.pushes() == []


async def test_a_bad_token_is_permanent_and_reports_lines_message(
        line: FakeLine, line_fake: tuple[FakeLine, str]) -> None:
    channel = LineChannel(line_fake[1], "revoked-token", timeout=5.0)
    try:
        result = await channel.send(delivery(item()))
    finally:
        await channel.close()
    assert not result.ok and result.permanent and result.http_status == 401
    assert result.error is not None and "Authentication failed" in result.error


async def test_a_refused_request_is_permanent_and_never_echoes_the_alert(
        line: FakeLine, line_channel: LineChannel) -> None:
    result = await line_channel.send(delivery(item(), address="not-a-line-user"))
    assert not result.ok and result.permanent and result.http_status == 400
    assert result.error is not None and "'to'" in result.error
    assert "การค้ามนุษย์" not in result.error


async def test_postback_data_over_300_is_refused_before_anything_is_sent(
        line: FakeLine, line_channel: LineChannel) -> None:
    result = await line_channel.send(delivery(item(ack_data="a=ack&s=" + "k" * 300)))
    assert not result.ok and result.permanent and result.error is not None and "data" in result.error
    assert line.requests() == []


async def test_an_unreachable_line_is_retried() -> None:
    channel = LineChannel(f"http://127.0.0.1:{free_port()}", TOKEN, timeout=2.0)
    try:
        result = await channel.send(delivery(item()))
    finally:
        await channel.close()
    assert not result.ok and not result.permanent and result.error


async def test_a_line_answer_slower_than_the_timeout_is_retried(
        line: FakeLine, line_fake: tuple[FakeLine, str]) -> None:
    line.fail_next(None, delay=1.0)
    channel = LineChannel(line_fake[1], TOKEN, timeout=0.2)
    try:
        result = await channel.send(delivery(item()))
    finally:
        await channel.close()
    assert not result.ok and not result.permanent and result.error is not None and "Timeout" in result.error


# -- the LINE fake's own contract ---------------------------------------------------------------------------------
def _buttons(text: str = "ข้อความ", **template: Any) -> dict[str, Any]:
    actions = [{"type": "postback", "label": "รับเรื่อง", "data": "a=1"}]
    return {"type": "template", "altText": "แจ้งเตือน",
            "template": {"type": "buttons", "text": text, "actions": actions, **template}}


def _push(url: str, messages: list[dict[str, Any]], *, token: str = TOKEN, **headers: str) -> httpx.Response:
    return httpx.post(f"{url}/v2/bot/message/push", json={"to": RESPONDER_LINE, "messages": messages},
                      headers={"Authorization": f"Bearer {token}", **headers})


def test_the_line_fake_refuses_a_21_character_label_naming_the_property(line_fake: tuple[FakeLine, str]) -> None:
    message = _buttons()
    message["template"]["actions"][0]["label"] = "รับเรื่องแล้ว Acknowledged"  # 21 clusters
    response = _push(line_fake[1], [message])
    assert response.status_code == 400
    assert response.json() == {"message": "The request body has 1 error(s)", "details": [
        {"message": "Length must be between 0 and 20", "property": "messages[0].template.actions[0].label"}]}


def test_the_line_fake_counts_thai_labels_in_grapheme_clusters(line_fake: tuple[FakeLine, str]) -> None:
    message = _buttons()
    message["template"]["actions"][0]["label"] = "ที่" * 20  # 60 code points, 20 clusters
    assert _push(line_fake[1], [message]).status_code == 200
    message["template"]["actions"][0]["label"] = "ที่" * 21
    assert _push(line_fake[1], [message]).json()["details"][0]["property"] == "messages[0].template.actions[0].label"


def test_a_buttons_text_may_be_160_long_without_a_title_and_60_with_one(line_fake: tuple[FakeLine, str]) -> None:
    url = line_fake[1]
    assert _push(url, [_buttons("ก" * 160)]).status_code == 200
    assert _push(url, [_buttons("ก" * 161)]).json()["details"][0]["message"] == "Length must be between 0 and 160"
    refused = _push(url, [_buttons("ก" * 61, title="[P1] 1300-2569-000123")]).json()
    assert refused["details"] == [{"message": "Length must be between 0 and 60",
                                   "property": "messages[0].template.text"}]
    assert _push(url, [_buttons("ก" * 10, title="ก" * 41)]).json()["details"][0]["property"] == (
        "messages[0].template.title")


def test_carousel_columns_must_have_the_same_number_of_actions(line_fake: tuple[FakeLine, str]) -> None:
    def column(n: int) -> dict[str, Any]:
        return {"text": "เรื่อง", "actions": [{"type": "uri", "label": "เปิด", "uri": "https://x.th"}] * n}

    message: dict[str, Any] = {"type": "template", "altText": "แจ้งเตือน",
                               "template": {"type": "carousel", "columns": [column(2), column(3)]}}
    response = _push(line_fake[1], [message])
    assert response.status_code == 400
    assert response.json()["details"][0]["property"] == "messages[0].template.columns[1].actions"
    message["template"]["columns"] = [column(1)] * 11
    assert _push(line_fake[1], [message]).json()["details"] == [
        {"message": "Size must be between 1 and 10", "property": "messages[0].template.columns"}]


def test_the_line_fake_limits_messages_texts_and_postback_data(line_fake: tuple[FakeLine, str]) -> None:
    url = line_fake[1]
    text = {"type": "text", "text": "สวัสดี"}
    assert _push(url, [text] * 6).json()["details"] == [{"message": "Size must be between 1 and 5",
                                                          "property": "messages"}]
    assert _push(url, [{"type": "text", "text": "ก" * 5001}]).json()["details"][0]["property"] == "messages[0].text"
    long_data = _buttons()
    long_data["template"]["actions"][0]["data"] = "x" * 301
    assert _push(url, [long_data]).json()["details"][0]["property"] == "messages[0].template.actions[0].data"
    accepted = _push(url, [text])
    assert accepted.status_code == 200 and accepted.headers["x-line-request-id"]
    assert accepted.json()["sentMessages"][0]["quoteToken"]


def test_the_line_fake_checks_the_token_and_the_retry_key(line_fake: tuple[FakeLine, str]) -> None:
    url, text = line_fake[1], [{"type": "text", "text": "สวัสดี"}]
    unauthorized = _push(url, text, token="wrong")
    assert unauthorized.status_code == 401
    assert unauthorized.json() == {"message": "Authentication failed. Confirm that the access token in the "
                                              "authorization header is valid."}
    assert _push(url, text, **{"X-Line-Retry-Key": "not-a-uuid"}).status_code == 400
    key = str(uuid.uuid4())
    first = _push(url, text, **{"X-Line-Retry-Key": key})
    again = _push(url, text, **{"X-Line-Retry-Key": key})
    assert first.status_code == 200 and again.status_code == 409
    assert again.headers["x-line-accepted-request-id"] == first.headers["x-line-request-id"]
    assert again.json() == {"message": "The retry key is already accepted",
                            "sentMessages": first.json()["sentMessages"]}


def test_reply_tokens_work_once_and_for_a_minute() -> None:
    now = [1_000_000.0]
    fake = FakeLine([TOKEN], clock=lambda: now[0])
    text = [{"type": "text", "text": "ได้รับเรื่องแล้วค่ะ"}]
    with serve(fake.app) as url:
        def reply(token: str, **headers: str) -> httpx.Response:
            return httpx.post(f"{url}/v2/bot/message/reply", json={"replyToken": token, "messages": text},
                              headers={"Authorization": f"Bearer {TOKEN}", **headers})

        token = httpx.post(f"{url}/_fake/reply-tokens", json={"to": RESPONDER_LINE}).json()["replyToken"]
        assert reply(token).status_code == 200
        assert reply(token).json() == {"message": "Invalid reply token"}
        late = fake.issue_reply_token(RESPONDER_LINE)
        now[0] += 61
        assert reply(late).json() == {"message": "Invalid reply token"}
        assert reply(fake.issue_reply_token(), **{"X-Line-Retry-Key": str(uuid.uuid4())}).status_code == 400
        [replied] = fake.replies()
        assert replied.to == RESPONDER_LINE and replied.messages == text
        # A retry key is remembered for 24 hours, then a request with it is a new one.
        key = {"X-Line-Retry-Key": str(uuid.uuid4())}
        assert _push(url, text, **key).status_code == 200
        now[0] += 24 * 3600 + 1
        assert _push(url, text, **key).status_code == 200


def test_the_line_fakes_faults_and_messages_over_http(line_fake: tuple[FakeLine, str]) -> None:
    fake, url = line_fake
    fake.reset()
    assert httpx.post(f"{url}/_fake/faults", json={"status": 503, "times": 2}).status_code == 204
    text = [{"type": "text", "text": "ทดสอบ"}]
    assert [_push(url, text).status_code for _ in range(3)] == [503, 503, 200]
    seen = httpx.get(f"{url}/_fake/messages").json()
    assert [(r["status"], r["delivered"]) for r in seen] == [(503, False), (503, False), (200, True)]
    assert seen[2]["body"]["messages"] == text


# -- SMS -------------------------------------------------------------------------------------------------------
async def test_one_alert_is_a_thai_sms_of_at_most_two_segments(sms: FakeSms, sms_channel: SmsChannel) -> None:
    alert = item(1)
    d = delivery(alert, address=RESPONDER_PHONE)
    assert await sms_channel.send(d) == DeliveryResult(ok=True, http_status=202)
    [message] = sms.messages()
    assert message.to == RESPONDER_PHONE and message.sender == "1300" and message.reference == str(d.delivery_id)
    assert message.encoding == "UCS-2" and message.segments <= 2
    assert message.text.startswith("[P2] เรื่องใหม่ 1300-2569-000001\nการทารุณกรรมเด็ก\n")
    assert message.text.endswith(alert.link)


async def test_an_sms_retried_with_the_same_reference_is_sent_once(sms: FakeSms, sms_channel: SmsChannel) -> None:
    d = delivery(item(), address=RESPONDER_PHONE)
    sms.fail_next(502, deliver=True)
    lost = await sms_channel.send(d)
    assert not lost.ok and not lost.permanent and lost.http_status == 502
    retried = await sms_channel.send(d)
    assert retried.ok and retried.http_status == 200
    assert len(sms.messages()) == 1


async def test_a_burst_by_sms_lists_cases_and_links_within_ten_segments(
        sms: FakeSms, sms_channel: SmsChannel) -> None:
    items = tuple(item(n) for n in range(1, 41))
    assert (await sms_channel.send(delivery(*items, address=RESPONDER_PHONE))).ok
    [message] = sms.messages()
    assert 2 < message.segments <= 10
    assert message.text.startswith("1300: มี 40 เรื่องแจ้งเตือนถึงคุณ\n[P2] 1300-2569-000001 https://")
    shown = [i for i in items if i.case_number in message.text]
    assert 0 < len(shown) < 40 and all(i.link in message.text for i in shown)
    assert message.text.endswith(f"และอีก {40 - len(shown)} เรื่อง")


@pytest.mark.parametrize(("status", "permanent"), [(429, False), (500, False), (503, False), (400, True)])
async def test_sms_gateway_failures(sms: FakeSms, sms_channel: SmsChannel, status: int, permanent: bool) -> None:
    sms.fail_next(status)
    result = await sms_channel.send(delivery(item(), address=RESPONDER_PHONE))
    assert not result.ok and result.permanent is permanent and result.http_status == status


async def test_an_sms_to_a_number_not_in_e164_or_with_a_bad_key_is_permanent(
        sms: FakeSms, sms_fake: tuple[FakeSms, str], sms_channel: SmsChannel) -> None:
    result = await sms_channel.send(delivery(item(), address="0812345678"))
    assert result.permanent and result.http_status == 400
    assert result.error == "HTTP 400: invalid_number: `to` must be one number in E.164, e.g. +66812345678 (to)"
    channel = SmsChannel(sms_fake[1], "wrong-key", sender="1300", timeout=5.0)
    try:
        unauthorized = await channel.send(delivery(item(), address=RESPONDER_PHONE))
    finally:
        await channel.close()
    assert unauthorized.permanent and unauthorized.http_status == 401
    assert sms.messages() == []


def test_the_sms_fake_counts_segments_as_phones_do(sms_fake: tuple[FakeSms, str]) -> None:
    assert [segments("a" * 160), segments("a" * 161), segments("[" * 80), segments("[" * 81)] == [1, 2, 1, 2]
    assert [segments("ก" * 70), segments("ก" * 71), segments("ก" * 134), segments("ก" * 135)] == [1, 2, 2, 3]
    fake, url = sms_fake
    fake.reset()

    def send(**body: Any) -> httpx.Response:
        return httpx.post(f"{url}/v1/messages", json={"to": RESPONDER_PHONE, "text": "สวัสดี", **body},
                          headers={"Authorization": f"Bearer {API_KEY}"})

    assert send().json() | {"message_id": None} == {"message_id": None, "segments": 1, "encoding": "UCS-2",
                                                     "reference": None}
    assert send(text="Hello from 1300").json()["encoding"] == "GSM-7"
    assert send(text="ก" * 671).json()["error"] == {"code": "text_too_long", "field": "text",
                                                    "message": "`text` takes more than 10 segments"}
    assert send(text="").json()["error"]["code"] == "empty_text"
    assert send(to="+66 81 234 5678").json()["error"]["code"] == "invalid_number"
    assert send(reference="abc").json()["error"]["code"] == "invalid_reference"
    fake.fail_next(429)
    limited = send()
    assert limited.status_code == 429 and limited.headers["Retry-After"] == "1"


# -- e-mail ----------------------------------------------------------------------------------------------------
async def test_an_alert_email_round_trips_through_a_real_smtp_server(
        smtp: FakeSmtp, email_channel: EmailChannel) -> None:
    alert = item(0)
    d = delivery(alert, address=RESPONDER_EMAIL)
    assert await email_channel.send(d) == DeliveryResult(ok=True)
    [mail] = smtp.messages(RESPONDER_EMAIL)
    assert mail.mail_from == "alerts@hotline.example.go.th" and mail.rcpt_tos == (RESPONDER_EMAIL,)
    message = mail.message
    assert message["Subject"] == "[1300][P1] เรื่องใหม่ 1300-2569-000000 — ความรุนแรงในครอบครัว"
    assert message["From"].addresses[0].display_name == "สายด่วน 1300"
    assert message["Message-ID"] == f"<{d.delivery_id}@hotline.example.go.th>"
    assert message["Importance"] == "high"
    plain = message.get_body(("plain",))
    rich = message.get_body(("html",))
    assert plain is not None and rich is not None
    text, page = plain.get_content(), rich.get_content()
    assert plain.get_content_charset() == "utf-8"
    assert "ความรุนแรงในครอบครัว (domestic_violence)" in text and "ต.สันกลาง › อ.พาน › จ.เชียงราย" in text
    assert alert.link in text
    assert f'href="{alert.link}"' in page and "ภายใน 03:15 น." in page
    assert text.index("ประเภท") < text.index("Category")  # Thai first, English beside


async def test_a_burst_by_email_is_one_message_with_a_counted_subject(
        smtp: FakeSmtp, email_channel: EmailChannel) -> None:
    items = (item(5), item(6, kind="realert"), item(7))
    assert (await email_channel.send(delivery(*items, address=RESPONDER_EMAIL))).ok
    [mail] = smtp.messages()
    assert mail.message["Subject"] == ("[1300][P2] 3 เรื่องแจ้งเตือน — 1300-2569-000005, 1300-2569-000006, "
                                       "1300-2569-000007")
    body = mail.message.get_body(("plain",))
    assert body is not None
    assert all(i.link in body.get_content() for i in items)


@pytest.mark.parametrize(("code", "permanent"), [(550, True), (450, False)])
async def test_a_refused_recipient(smtp: FakeSmtp, email_channel: EmailChannel, code: int, permanent: bool) -> None:
    smtp.refuse(RESPONDER_EMAIL, code, "no such user here" if code == 550 else "mailbox busy, try later")
    result = await email_channel.send(delivery(item(), address=RESPONDER_EMAIL))
    assert not result.ok and result.permanent is permanent
    assert result.error is not None and result.error.startswith(f"SMTP {code}")
    assert smtp.messages() == []


async def test_an_unreachable_smtp_server_is_retried() -> None:
    channel = EmailChannel("127.0.0.1", free_port(), "alerts@hotline.example.go.th", timeout=2.0)
    result = await channel.send(delivery(item(), address=RESPONDER_EMAIL))
    assert not result.ok and not result.permanent and result.error


# -- webhook, and what no channel ever carries -------------------------------------------------------------------
async def test_a_webhook_delivery_is_signed_and_carries_the_delivery_id() -> None:
    received: list[tuple[bytes, dict[str, str]]] = []
    receiver = FastAPI()

    @receiver.post("/hook", status_code=202)
    async def hook(request: Request) -> None:
        received.append((await request.body(), dict(request.headers)))

    items = (item(1), item(2))
    channel = WebhookChannel({"unit-7": "s3cret-ของหน่วย"}, timeout=5.0)
    try:
        with serve(receiver) as url:
            d = delivery(*items, address=f"{url}/hook", secret_ref="unit-7")
            result = await channel.send(d)
    finally:
        await channel.close()
    assert result.ok and result.http_status == 202
    [(body, headers)] = received
    assert verify("s3cret-ของหน่วย", body, headers["x-hotline-signature"])
    assert headers["x-hotline-delivery"] == str(d.delivery_id)
    assert json.loads(body) == {"delivery_id": str(d.delivery_id), "items": [i.to_json() for i in items]}


def test_every_channel_is_registered_by_name() -> None:
    assert {"line", "sms", "email", "webhook"} <= set(registry)
    assert registry["line"] is LineChannel and registry["email"] is EmailChannel


async def test_no_alert_carries_the_callers_name_phone_or_story(
        line: FakeLine, line_channel: LineChannel, sms: FakeSms, sms_channel: SmsChannel, smtp: FakeSmtp,
        email_channel: EmailChannel) -> None:
    fields = {f.name for f in dataclasses.fields(AlertItem)}
    assert not fields & {"caller_name", "caller_phone", "name", "phone", "description", "story", "reporter"}
    items = tuple(item(n) for n in range(1, 4))
    assert (await line_channel.send(delivery(*items))).ok
    assert (await sms_channel.send(delivery(*items, address=RESPONDER_PHONE))).ok
    assert (await email_channel.send(delivery(*items, address=RESPONDER_EMAIL))).ok
    mail = smtp.messages()[0].message
    parts = [mail.get_body((kind,)) for kind in ("plain", "html")]
    sent = [str(line.pushes()[0].messages), sms.messages()[0].text, str(mail["Subject"]),
            *(part.get_content() for part in parts if part is not None)]
    assert len(sent) == 5 and not any(THAI_PHONE.search(text) for text in sent)


# ---- safety preferences: on every channel, before anything else ---------------------------------------------------

SAFETY = ("แจ้งเหตุเงียบ ห้ามส่งข้อความที่เป็นอันตราย", "ห้ามโทรกลับ", "ขอเจ้าหน้าที่หญิง")


async def test_the_safety_line_leads_the_line_template_and_the_place_gives_way(
        line: FakeLine, line_channel: LineChannel) -> None:
    alert = item(2, safety_th=SAFETY[1:])  # Bangkok's long place
    assert (await line_channel.send(delivery(alert))).ok
    message = line.pushes()[0].messages[0]
    text = message["template"]["text"]
    assert text.startswith("⚠ ห้ามโทรกลับ · ขอเจ้าหน้าที่หญิง\n") and grapheme_len(text) <= 60
    assert "ห้ามโทรกลับ" in message["altText"]


async def test_the_safety_line_survives_the_shortest_sms(sms: FakeSms, sms_channel: SmsChannel) -> None:
    alert = item(2, safety_th=SAFETY, link="https://hotline.example.go.th/r/" + "x" * 90)
    assert (await sms_channel.send(delivery(alert, address=RESPONDER_PHONE))).ok
    [message] = sms.messages()
    # Category and place gave way; the safety line is worth the extra segments it costs here.
    assert alert.category_th not in message.text and "แขวง" not in message.text and message.segments <= 4
    assert message.text.split("\n")[1] == "⚠ " + " · ".join(SAFETY) and message.text.endswith(alert.link)


async def test_the_safety_row_comes_first_in_the_email(smtp: FakeSmtp, email_channel: EmailChannel) -> None:
    alert = item(0, safety_th=SAFETY[1:2])
    assert (await email_channel.send(delivery(alert, address=RESPONDER_EMAIL))).ok
    body = smtp.messages(RESPONDER_EMAIL)[0].message.get_body(("plain",))
    assert body is not None
    text = body.get_content()
    assert "ข้อควรระวัง / Safety: ห้ามโทรกลับ" in text and text.index("ข้อควรระวัง") < text.index("เลขเรื่อง")


def test_labels_name_every_preference_most_restrictive_first() -> None:
    prefs = Safety(no_callback=True, woman_officer=True, line_only=True, silent=True,
                   safe_hours=SafeHours(start=time(9), end=time(15, 30)))
    assert [th for th, _ in labels.safety(prefs)] == [
        SAFETY[0], "ห้ามโทรกลับ", "ติดต่อทาง LINE เท่านั้น", "โทรได้เฉพาะ 09:00–15:30 น.", "ขอเจ้าหน้าที่หญิง"]
    assert labels.safety(Safety()) == []


# ---- an urgent alert: the case became more urgent after it was routed -----------------------------------------------

URGENT = "ด่วนขึ้น P1 ภายใน 03:15 น."


def urgent(n: int = 0, **changes: Any) -> AlertItem:
    return item(n, kind="urgent", priority="P1", priority_th="ด่วนที่สุด", **changes)


def test_every_alert_kind_has_its_labels_in_one_place() -> None:
    assert set(typing.get_args(AlertKind)) <= set(labels.ALERT_KIND)
    assert urgent().kind_th == "ด่วนขึ้น" and urgent().urgent_line == URGENT
    assert item(kind="escalated", level=3).kind_th == "ยกระดับ ขั้น 3" and item().urgent_line is None
    acknowledged = urgent(ack_deadline_th=None, visit_deadline_th="ภายใน 07:15 น.")
    assert acknowledged.urgent_line == "ด่วนขึ้น P1 ภายใน 07:15 น."  # the visit deadline, once acknowledged
    assert acknowledged.to_json()["visit_deadline_th"] == "ภายใน 07:15 น."


async def test_an_urgent_line_alert_leads_with_the_new_priority_and_deadline_after_the_safety_line(
        line: FakeLine, line_channel: LineChannel) -> None:
    assert (await line_channel.send(delivery(urgent(2), urgent(3, safety_th=SAFETY[1:])))).ok
    assert (await line_channel.send(delivery(urgent(2, safety_th=SAFETY[1:])))).ok
    carousel, buttons = (push.messages[0] for push in line.pushes())
    first, second = carousel["template"]["columns"]
    assert first["text"].startswith(URGENT + "\n") and "ตอบรับ" not in first["text"]
    assert second["text"].startswith("⚠ ห้ามโทรกลับ · ขอเจ้าหน้าที่หญิง\n" + URGENT + "\n")
    template = buttons["template"]
    assert template["title"] == "[P1] 1300-2569-000002 · ด่วนขึ้น"
    assert template["text"].startswith("⚠ ห้ามโทรกลับ · ขอเจ้าหน้าที่หญิง\n" + URGENT)
    assert all(grapheme_len(t["text"]) <= 60 for t in (first, second, template))  # the place gave way
    assert buttons["altText"].startswith(URGENT + " (ด่วนที่สุด) เลขที่ 1300-2569-000002")


async def test_an_urgent_sms_keeps_its_urgent_line_after_the_safety_line(sms: FakeSms, sms_channel: SmsChannel) -> None:
    short = urgent(1)
    crowded = urgent(2, safety_th=SAFETY[1:], link="https://hotline.example.go.th/r/" + "x" * 90)
    for alert in (short, crowded):
        assert (await sms_channel.send(delivery(alert, address=RESPONDER_PHONE))).ok
    first, second = sms.messages()
    assert first.text.startswith(f"[P1] ด่วนขึ้น 1300-2569-000001\n{URGENT}\n") and first.segments <= 2
    lines = second.text.split("\n")
    # Category and place gave way; the safety and urgent lines did not.
    assert lines[1:3] == ["⚠ ห้ามโทรกลับ · ขอเจ้าหน้าที่หญิง", URGENT] and lines[-1] == crowded.link
    assert crowded.category_th not in second.text


async def test_an_urgent_email_says_so_in_its_subject_and_first_rows(
        smtp: FakeSmtp, email_channel: EmailChannel) -> None:
    alert = urgent(0, ack_deadline_th=None, visit_deadline_th="ภายใน 07:15 น.", safety_th=SAFETY[1:2])
    assert (await email_channel.send(delivery(alert, address=RESPONDER_EMAIL))).ok
    message = smtp.messages(RESPONDER_EMAIL)[0].message
    assert message["Subject"] == "[1300][P1] ด่วนขึ้น ภายใน 07:15 น. 1300-2569-000000 — ความรุนแรงในครอบครัว"
    body = message.get_body(("plain",))
    assert body is not None
    lines = body.get_content().split("\n")
    assert lines[:3] == ["ด่วนขึ้น / Now more urgent: 1300-2569-000000", "ข้อควรระวัง / Safety: ห้ามโทรกลับ",
                         "ด่วนขึ้น / Now more urgent: P1 ภายใน 07:15 น."]
    assert "ลงพื้นที่ / Visit: ภายใน 07:15 น." in lines and not any(x.startswith("ตอบรับ") for x in lines)


def test_an_acknowledged_cases_urgent_alert_shows_the_visit_deadline_not_the_acknowledgement() -> None:
    links = Links("test-secret", "https://hotline.example.go.th", 3600)
    payload = {"case_id": str(uuid.uuid4()), "case_number": "1300-2569-000009", "priority": "P1",
               "category": "domestic_violence", "place_th": "ต.สันกลาง › อ.พาน › จ.เชียงราย",
               "ack_deadline": "2026-01-01T20:15:00+00:00", "visit_deadline": "2026-01-02T00:15:00+00:00"}
    alert = {"alert_id": uuid.uuid4(), "kind": "urgent", "level": 1, "center_id": uuid.uuid4(), "payload": payload}
    told = item_for(alert, links)
    assert (told.ack_deadline_th, told.visit_deadline_th) == (None, "ภายใน 07:15 น.")  # Bangkok is UTC+7
    assert told.priority_th == labels.PRIORITY[Priority.P1][0]
    alerting = item_for({**alert, "payload": {**payload, "visit_deadline": None}}, links)
    assert (alerting.ack_deadline_th, alerting.urgent_line) == ("ภายใน 03:15 น.", URGENT)
    reminder = item_for({**alert, "kind": "visit_reminder"}, links)
    assert (reminder.ack_deadline_th, reminder.visit_deadline_th) == (None, None)  # as before
