"""The public's 1300 LINE account on intake, end to end: webhook bodies shaped like the Messaging API reference's
examples, signed with the channel secret, posted to intake; the bot's answers read back from the LINE fake.

Proves: a forged or missing signature is 401 and nothing is kept; a redelivered event is handled once; the whole Thai
conversation by quick replies reports a LINE case (case.reported, channel line) and answers with its number; a later
message becomes a note; a danger word brings the 1300 / 191 / 1669 numbers at once, and on a reported case
raises it to P1 (routing re-prioritises, notify alerts again, once however often it is said); the silent SOS
reports a P1 silent case and leaves nothing alarming in the chat; a burst beyond the per-user rate is slowed down,
none lost; bad bodies with a valid signature are 400 and an oversize one 413, nothing kept.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import time
import uuid
from typing import Any

import asyncpg
import httpx
import pytest

from hotline_common import topics
from hotline_common.crypto import PiiVault
from hotline_common.line import signature
from hotline_common.settings import DEV_PII_KEY, DEV_PII_LOOKUP_KEY
from hotline_devstack import Platform
from hotline_fakes.line import FakeLine
from hotline_gazetteer import gazetteer
from hotline_intake.line.conversation import State
from tests.conftest import LINE_SECRET, eventually, published
from tests.infra import Infra

pytestmark = pytest.mark.e2e
VAULT = PiiVault(DEV_PII_KEY, DEV_PII_LOOKUP_KEY)
CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
# What would tell someone reading the chat over the person's shoulder that help was called.
ALARMING = ("1300", "191", "1669", "ด่วน", "อันตราย", "ช่วย", "แจ้ง", "เรื่อง", "SOS", "case", "hotline", "เจ้าหน้าที่")


class LineUser:
    """A person on LINE: their events as LINE sends them, and what the bot sent back to them."""

    def __init__(self, http: httpx.AsyncClient, line: FakeLine) -> None:
        self.http, self.line = http, line
        self.user_id = "U" + uuid.uuid4().hex
        self.key = VAULT.lookup_hash(self.user_id)

    def event(self, kind: str, **content: Any) -> dict[str, Any]:
        event: dict[str, Any] = {
            "replyToken": self.line.issue_reply_token(self.user_id), "type": kind, "mode": "active",
            "timestamp": int(time.time() * 1000), "source": {"type": "user", "userId": self.user_id},
            "webhookEventId": "01" + "".join(secrets.choice(CROCKFORD) for _ in range(24)),
            "deliveryContext": {"isRedelivery": False}, **content}
        if kind == "unfollow":
            del event["replyToken"]
        return event

    def text(self, text: str) -> dict[str, Any]:
        return self.event("message", message={"id": str(secrets.randbelow(10**18)), "type": "text",
                                              "quoteToken": secrets.token_urlsafe(16), "text": text})

    def location(self, lat: float, lon: float, address: str) -> dict[str, Any]:
        return self.event("message", message={"id": str(secrets.randbelow(10**18)), "type": "location",
                                              "title": "ตำแหน่งของฉัน", "address": address, "latitude": lat,
                                              "longitude": lon})

    def image(self) -> dict[str, Any]:
        return self.event("message", message={"id": str(secrets.randbelow(10**18)), "type": "image",
                                              "quoteToken": secrets.token_urlsafe(16),
                                              "contentProvider": {"type": "line"}})

    def postback(self, data: str) -> dict[str, Any]:
        return self.event("postback", postback={"data": data})

    def follow(self) -> dict[str, Any]:
        return self.event("follow", follow={"isUnblocked": False})

    async def post(self, *events: dict[str, Any], sign: str | None = "ok", raw: bytes | None = None,
                   via: httpx.AsyncClient | None = None) -> httpx.Response:
        body = raw if raw is not None else json.dumps({"destination": "U" + "f" * 32, "events": list(events)},
                                                      ensure_ascii=False).encode()
        headers = {"Content-Type": "application/json"}
        if sign == "ok":
            headers["X-Line-Signature"] = signature(LINE_SECRET, body)
        elif sign is not None:
            headers["X-Line-Signature"] = sign
        return await (via or self.http).post("/v1/line/webhook", content=body, headers=headers)

    def requests(self) -> list[Any]:
        return [r for r in self.line.requests() if r.delivered and r.to == self.user_id]

    def messages(self) -> list[dict[str, Any]]:
        return [msg for r in self.requests() for msg in r.messages]

    async def say(self, event: dict[str, Any]) -> list[dict[str, Any]]:
        """Send one event and wait for the bot's answer to it."""
        before = len(self.requests())
        r = await self.post(event)
        assert r.status_code == 200, r.text
        await eventually(lambda: len(self.requests()) > before, timeout=20)
        return [msg for req in self.requests()[before:] for msg in req.messages]


@pytest.fixture
async def webhook(platform: Platform) -> Any:
    async with httpx.AsyncClient(base_url=platform.url("intake"), timeout=30) as client:
        yield client


@pytest.fixture
def person(webhook: httpx.AsyncClient, line_api: tuple[FakeLine, str]) -> LineUser:
    return LineUser(webhook, line_api[0])


async def kept(db: asyncpg.Connection, user: LineUser) -> list[asyncpg.Record]:
    return list(await db.fetch("SELECT event_id, processed_at, event_enc FROM intake.line_inbox WHERE user_key = $1 "
                               "ORDER BY seq", user.key))


async def conversation_of(db: asyncpg.Connection, user: LineUser) -> State:
    sealed = await db.fetchval("SELECT state_enc FROM intake.line_conversations WHERE user_key = $1", user.key)
    return State.model_validate_json(VAULT.open(sealed) or "{}")


def labels_of(message: dict[str, Any]) -> list[str]:
    return [item["action"]["label"] for item in message.get("quickReply", {}).get("items", [])]


async def test_a_forged_or_missing_signature_is_401_and_nothing_is_kept(
        person: LineUser, intake_db: asyncpg.Connection) -> None:
    event = person.text("สวัสดีค่ะ")
    forged = await person.post(event, sign=signature("not-the-channel-secret", b"anything"))
    missing = await person.post(event, sign=None)
    assert forged.status_code == missing.status_code == 401
    assert "X-Line-Signature" in forged.json()["detail"]
    assert await kept(intake_db, person) == [] and person.requests() == []


async def test_a_redelivered_event_is_handled_once(person: LineUser, intake_db: asyncpg.Connection) -> None:
    event = person.text("ยายอยู่คนเดียว ไม่มีใครดูแล")
    first = await person.post(event)
    assert first.json() == {"status": "ok", "events": 1, "new": 1}
    await eventually(lambda: len(person.requests()) == 1)
    again = await person.post({**event, "deliveryContext": {"isRedelivery": True}})
    assert again.status_code == 200 and again.json()["new"] == 0
    await person.say(person.text("อยู่ที่อำเภอพาน"))  # a later message is answered: the worker has moved on
    assert len(person.requests()) == 2 and len(await kept(intake_db, person)) == 2
    assert (await conversation_of(intake_db, person)).draft.words == (  # type: ignore[union-attr]
        "ยายอยู่คนเดียว ไม่มีใครดูแล", "อยู่ที่อำเภอพาน")


async def test_the_thai_conversation_by_quick_replies_reports_a_line_case_and_later_messages_become_notes(
        person: LineUser, intake_db: asyncpg.Connection, infra: Infra) -> None:
    [greeting] = await person.say(person.follow())
    assert "สายด่วน 1300" in greeting["text"] and "📍" in labels_of(greeting)
    [category] = await person.say(person.text("สามีตีฉันทุกคืน ลูกก็กลัวมาก"))
    assert len(labels_of(category)) == 13 and "ความรุนแรงในครอบครัว" in labels_of(category)
    [target] = await person.say(person.postback("cat=domestic_violence"))
    assert "สตรี" in labels_of(target)
    [place] = await person.say(person.postback("tg=woman"))
    assert place["quickReply"]["items"][0]["action"]["type"] == "location"
    [choices] = await person.say(person.text("สันกลาง"))  # three sub-districts have this name
    assert "สันกลาง อ.พาน" in labels_of(choices)
    [safety] = await person.say(person.postback("place=570511"))
    assert "ติดต่อทาง LINE เท่านั้น" in labels_of(safety)
    await person.say(person.postback("safe=line_only"))
    [summary] = await person.say(person.postback("safe=done"))
    assert "ต.สันกลาง › อ.พาน › จ.เชียงราย" in summary["text"] and "ส่งเรื่อง · Send" in labels_of(summary)
    [reported] = await person.say(person.postback("confirm=yes"))

    state = await conversation_of(intake_db, person)
    assert state.case_id is not None and state.case_number is not None
    case_id = state.case_id
    assert state.case_number in reported["text"] and "ทาง LINE นี้" in reported["text"]
    row = await intake_db.fetchrow("SELECT channel, category, target_group, tambon_code, reported_by, safety "
                                   "FROM intake.cases WHERE case_id = $1", case_id)
    assert {**dict(row), "safety": json.loads(row["safety"])} == {
        "channel": "line", "category": "domestic_violence", "target_group": "woman", "tambon_code": "570511",
        "reported_by": "line", "safety": {"no_callback": False, "safe_hours": None, "line_only": True,
                                          "woman_officer": False, "silent": False}}
    [event] = await published(infra.kafka_bootstrap, topics.CASE_REPORTED.name, str(case_id))
    assert event["channel"] == "line" and event["case_number"] == state.case_number
    assert "สามีตีฉันทุกคืน" in event["description"]
    assert all(r.endpoint == "reply" for r in person.requests())  # fresh reply tokens: no push needed

    [ack] = await person.say(person.text("ตอนนี้เขาออกไปทำงานแล้ว"))
    assert state.case_number in ack["text"]
    await person.say(person.image())
    notes = await intake_db.fetch("SELECT source, author, body_enc FROM intake.case_notes WHERE case_id = $1 "
                                  "ORDER BY note_id", case_id)
    assert [(n["source"], n["author"]) for n in notes] == [("line", "line"), ("line", "line")]
    assert VAULT.open(notes[0]["body_enc"]) == "ตอนนี้เขาออกไปทำงานแล้ว"
    assert "ไม่ได้ดาวน์โหลด" in (VAULT.open(notes[1]["body_enc"]) or "")
    # Routing took the case from Kafka: its answer is on intake's timeline.
    await eventually(lambda: intake_db.fetchval(
        "SELECT count(*) FROM intake.case_events WHERE case_id = $1 AND type IN ('routed', 'unroutable')", case_id))
    # Nothing personal in clear: the inbox rows are emptied once handled, the conversation is sealed.
    assert all(r["event_enc"] is None for r in await kept(intake_db, person))
    sealed = await intake_db.fetchrow("SELECT user_id_enc, state_enc FROM intake.line_conversations "
                                      "WHERE user_key = $1", person.key)
    assert person.user_id.encode() not in sealed["user_id_enc"] and "สามี".encode() not in sealed["state_enc"]


async def test_a_danger_word_gets_the_1300_numbers_at_once_and_marks_the_report_urgent(
        person: LineUser, intake_db: asyncpg.Connection) -> None:
    first, question = await person.say(person.text("ช่วยด้วย พ่อเลี้ยงจะฆ่าหนู"))
    assert all(number in first["text"] for number in ("191", "1669", "1300"))
    assert len(labels_of(question)) == 13  # then the conversation goes on
    state = await conversation_of(intake_db, person)
    assert state.draft is not None and state.draft.urgent


async def test_a_danger_word_about_a_reported_case_raises_it_to_p1_and_its_responders_are_alerted_again(
        person: LineUser, intake_db: asyncpg.Connection, infra: Infra) -> None:
    await person.say(person.text("แม่อายุแปดสิบอยู่บ้านคนเดียว ไม่มีใครดูแล"))
    await person.say(person.postback("cat=elderly"))
    await person.say(person.postback("tg=elderly"))
    san_klang = gazetteer().tambon("570511")
    assert san_klang is not None
    await person.say(person.location(san_klang.lat, san_klang.lon, "ต.สันกลาง อ.พาน จ.เชียงราย"))
    await person.say(person.postback("safe=done"))
    await person.say(person.postback("confirm=yes"))
    case_id = (await conversation_of(intake_db, person)).case_id
    assert case_id is not None

    async def routed() -> list[asyncpg.Record]:
        return list(await intake_db.fetch(
            "SELECT detail FROM intake.case_events WHERE case_id = $1 AND type = 'routed' ORDER BY seq", case_id))

    [first] = await eventually(routed)
    assert json.loads(first["detail"])["priority"] != "P1"
    danger, _ = await person.say(person.text("ช่วยด้วย แม่ล้มหมดสติ"))
    assert "1669" in danger["text"] and "1300" in danger["text"]
    await person.say(person.text("ด่วนมาก"))  # a second danger word: no second alarm

    first, second = [json.loads(r["detail"]) for r in await eventually(
        lambda: _at_least(routed, 2))]
    assert (second["priority"], second["reprioritised_from"]) == ("P1", first["priority"])
    assert second["center_id"] == first["center_id"]
    raises = await published(infra.kafka_bootstrap, topics.CASE_URGENCY_RAISED.name, str(case_id))
    assert [(e["urgency"], e["reason_code"], e["channel"], e["raised_by"]) for e in raises] == [
        ("P1", "danger_words", "line", "")]
    assert "หมดสติ" not in str(raises)  # the words are a sealed note, not in the event
    kinds = await eventually(lambda: intake_db.fetch(
        "SELECT DISTINCT kind FROM notify.alerts WHERE case_id = $1 AND kind = 'urgent'", case_id))
    assert [k["kind"] for k in kinds] == ["urgent"]


async def _at_least(rows: Any, n: int) -> Any:
    found = await rows()
    return found if len(found) >= n else None


async def test_the_silent_sos_reports_a_p1_silent_case_and_leaves_nothing_alarming_in_the_chat(
        person: LineUser, intake_db: asyncpg.Connection, infra: Infra) -> None:
    await person.say(person.follow())
    before = len(person.messages())
    [prompt] = await person.say(person.postback("sos"))  # the "📍" button: the chat shows only "📍"
    assert [i["action"]["type"] for i in prompt["quickReply"]["items"]] == ["location"]
    [answer] = await person.say(person.location(13.7500, 100.4913, "ถนนหน้าพระลาน แขวงพระบรมมหาราชวัง"))
    assert answer["text"] == "ได้รับแล้ว ขอบคุณค่ะ"
    await person.say(person.text("เขาอยู่ในบ้าน"))

    state = await conversation_of(intake_db, person)
    assert state.silent and state.case_id is not None
    row = await intake_db.fetchrow("SELECT urgency, safety, lat FROM intake.cases WHERE case_id = $1", state.case_id)
    safety = json.loads(row["safety"])
    assert row["urgency"] == "P1" and row["lat"] == 13.75
    assert safety["silent"] and safety["line_only"] and safety["no_callback"]
    [event] = await published(infra.kafka_bootstrap, topics.CASE_REPORTED.name, str(state.case_id))
    assert event["urgency"] == "P1" and event["safety"]["silent"] and event["channel"] == "line"
    shown = json.dumps(person.messages()[before:], ensure_ascii=False)
    assert not [word for word in ALARMING if word in shown], shown


async def test_a_burst_beyond_the_users_rate_is_slowed_down_and_none_is_lost(
        person: LineUser, intake_db: asyncpg.Connection) -> None:
    burst = [person.text(f"ข้อความที่ {i}") for i in range(25)]  # the rate here: 10 per 2 s
    r = await person.post(*burst)
    assert r.json() == {"status": "ok", "events": 25, "new": 25}

    async def all_handled() -> bool:
        rows = await kept(intake_db, person)
        return len(rows) == 25 and all(row["processed_at"] is not None for row in rows)

    await eventually(all_handled, timeout=30)
    handled = sorted(row["processed_at"].timestamp() for row in await kept(intake_db, person))
    assert handled[-1] - handled[0] >= 3.5  # three windows' worth: slowed, not refused
    for t in handled:  # never more than 10 in any 2-second window
        assert sum(1 for u in handled if t <= u < t + 2.0) <= 10
    state = await conversation_of(intake_db, person)
    assert state.draft is not None and state.draft.words == tuple(f"ข้อความที่ {i}" for i in range(25))  # in order
    await eventually(lambda: len(person.requests()) == 25, timeout=20)  # and every one answered


async def test_two_intake_replicas_handle_one_users_messages_one_at_a_time_and_in_order(
        platform: Platform, person: LineUser, intake_db: asyncpg.Connection) -> None:
    port = int(os.environ.get("TEST_BASE_PORT", "28000")) + 61
    await asyncio.to_thread(platform.start_replica, "intake", "line", port)
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as other:
            parts = [f"ส่วนที่ {i}" for i in range(16)]
            for i, part in enumerate(parts):  # LINE's deliveries land on either replica
                r = await person.post(person.text(part), via=other if i % 2 else None)
                assert r.status_code == 200 and r.json()["new"] == 1

            async def all_handled() -> bool:
                rows = await kept(intake_db, person)
                return len(rows) == 16 and all(row["processed_at"] is not None for row in rows)

            await eventually(all_handled, timeout=30)
    finally:
        await asyncio.to_thread(platform.stop_service, "intake#line")
    state = await conversation_of(intake_db, person)
    assert state.draft is not None and state.draft.words == tuple(parts)  # none lost or doubled, in order
    await eventually(lambda: len(person.requests()) == 16, timeout=20)
    await asyncio.sleep(1.0)
    assert len(person.requests()) == 16  # one answer per message, whichever replica handled it


async def test_bad_bodies_with_a_valid_signature_are_400_and_an_oversize_one_413_nothing_kept(
        person: LineUser, intake_db: asyncpg.Connection) -> None:
    not_json = await person.post(raw=b"this is not json")
    assert not_json.status_code == 400 and "not JSON" in not_json.json()["detail"]
    not_utf8 = await person.post(raw=b'{"destination": "U1", "events": [{"type": "message\xff"}]}')
    assert not_utf8.status_code == 400 and "UTF-8" in not_utf8.json()["detail"]
    half = person.text("สวัสดี")
    del half["webhookEventId"]
    missing = await person.post(person.text("ข้อความแรก"), half)
    assert missing.status_code == 400 and "events[1].webhookEventId" in missing.json()["detail"]
    huge = await person.post(person.text("ก" * 300_000))
    assert huge.status_code == 413
    assert await kept(intake_db, person) == [] and person.requests() == []
    verify = await person.post()  # LINE's "Verify" button sends no events
    assert verify.status_code == 200 and verify.json()["events"] == 0
