"""The LINE conversation without I/O: what the bot asks and answers, the case it reports, the notes it adds, the
silent SOS — and, over random event sequences, that it never raises nor sends a message LINE would refuse."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from linebot.v3 import SignatureValidator  # type: ignore[import-untyped]

from hotline_common.events import Category, Channel, Priority, TargetGroup
from hotline_common.line import LABEL_MAX, QUICK_REPLY_ITEMS_MAX, clusters, signature, signature_ok
from hotline_fakes.line_rules import check_messages, grapheme_len
from hotline_gazetteer import gazetteer
from hotline_intake.line import messages as m
from hotline_intake.line.conversation import (
    AddNote,
    CaseCreated,
    CreateCase,
    Draft,
    RaiseUrgency,
    State,
    Step,
    is_danger,
    step,
)
from hotline_intake.line.incoming import (
    BadWebhook,
    Follow,
    Ignored,
    Incoming,
    Location,
    Media,
    Postback,
    Text,
    Unfollow,
    incoming,
    read_body,
)
from hotline_intake.line.replies import line_messages

PLACES = gazetteer()
NUMBER = "1300-2569-000123"
# Words that would tell someone reading the chat over the person's shoulder that help was called.
ALARMING = ("1300", "191", "1669", "ด่วน", "อันตราย", "ช่วย", "แจ้ง", "เรื่อง", "SOS", "case", "hotline", "เจ้าหน้าที่")


class Chat:
    """Drives the machine like the worker does: a CreateCase is answered with CaseCreated."""

    def __init__(self, state: State | None = None) -> None:
        self.state = state or State()
        self.replies: list[m.Reply] = []
        self.actions: list[Any] = []

    def send(self, event: Incoming) -> Step:
        result = step(self.state, event, PLACES)
        self.state = result.state
        self.replies += result.replies
        self.actions += result.actions
        for action in result.actions:
            if isinstance(action, CreateCase):
                created = step(self.state, CaseCreated(uuid.uuid4(), NUMBER, action.silent), PLACES)
                self.state = created.state
                self.replies += created.replies
                return Step(created.state, result.replies + created.replies, result.actions)
        return result


def texts(replies: tuple[m.Reply, ...] | list[m.Reply]) -> str:
    return "\n".join(r.text for r in replies)


def labels(reply: m.Reply) -> list[str]:
    return [b.label for b in reply.buttons]


def created(chat: Chat) -> CreateCase:
    [action] = [a for a in chat.actions if isinstance(a, CreateCase)]
    return action


def report_by_buttons(chat: Chat) -> None:
    chat.send(Follow())
    chat.send(Text("สามีทำร้ายร่างกายทุกคืน"))
    chat.send(Postback("cat=domestic_violence"))
    chat.send(Postback("tg=woman"))
    chat.send(Text("สันกลาง พาน เชียงราย"))
    chat.send(Postback("safe=line_only"))
    chat.send(Postback("safe=woman_officer"))
    chat.send(Postback("safe=done"))


# -- the conversation -------------------------------------------------------------------------------------------
def test_a_whole_report_by_quick_replies_creates_a_line_case_and_answers_with_its_number() -> None:
    chat = Chat()
    greeting = chat.send(Follow()).replies[0]
    assert "1300" in greeting.text and "Hello" in greeting.text
    assert {"start", "sos"} <= {b.data for b in greeting.buttons}

    asked = chat.send(Text("ลูกสาวไม่กลับบ้านสองวันแล้ว")).replies[-1]
    assert asked.text == m.ASK_CATEGORY and len(asked.buttons) == len(Category) == QUICK_REPLY_ITEMS_MAX
    assert chat.send(Postback("cat=missing_person")).replies[-1].text == m.ASK_TARGET
    assert chat.send(Postback("tg=youth")).replies[-1].text == m.ASK_PLACE
    assert chat.send(Postback("place=570511")).replies[-1].text == m.ASK_SAFETY  # a button of an ambiguous name
    chat.send(Postback("safe=no_callback"))
    summary = chat.send(Postback("safe=done")).replies[-1]
    assert "บุคคลสูญหาย" in summary.text and "ต.สันกลาง › อ.พาน › จ.เชียงราย" in summary.text
    assert "ห้ามโทรกลับ" in summary.text and chat.state.asked == "confirm"

    done = chat.send(Postback("confirm=yes"))
    body = created(chat).body
    assert body.channel is Channel.line and body.category is Category.missing_person
    assert body.target_group is TargetGroup.youth and body.location is not None
    assert body.location.tambon_code == "570511" and body.safety.no_callback and not body.safety.silent
    assert body.description == "ลูกสาวไม่กลับบ้านสองวันแล้ว" and body.urgency is None
    assert NUMBER in done.replies[-1].text and "ที่พิมพ์ต่อจากนี้" in done.replies[-1].text
    assert chat.state.case_number == NUMBER and chat.state.draft is None


def test_the_bot_asks_only_for_what_is_missing() -> None:
    chat = Chat()
    chat.send(Location(19.63, 99.74, "พาน เชียงราย"))  # the place first
    chat.send(Postback("cat=elderly"))
    assert chat.send(Postback("tg=elderly")).replies[-1].text == m.ASK_SAFETY
    assert chat.state.draft is not None and chat.state.draft.place is not None
    assert "ใกล้ ต." in chat.state.draft.place.label


def test_a_typed_sub_district_is_resolved_and_an_ambiguous_one_offers_its_matches() -> None:
    chat = Chat(State(asked="place", draft=Draft(category="other", target_group="general")))
    offered = chat.send(Text("สันกลาง")).replies[-1]
    assert offered.text == m.PLACE_CHOICES
    places = [b for b in offered.buttons if b.kind == "postback"]
    assert {b.data for b in places} == {"place=501202", "place=501313", "place=570511"}
    assert all(grapheme_len(b.label) <= LABEL_MAX for b in offered.buttons)
    assert any(b.kind == "location" for b in offered.buttons)
    chat.send(Postback("place=501313"))
    assert chat.state.draft is not None and chat.state.draft.place is not None
    assert chat.state.draft.place.tambon_code == "501313" and chat.state.draft.place.text == "สันกลาง"
    assert chat.state.draft.words == ()  # a place name is not the story

    chat = Chat(State(asked="place", draft=Draft(category="other", target_group="general")))
    chat.send(Text("ตำบลลำภี อำเภอท้ายเหมือง พังงา"))
    assert chat.state.draft is not None and chat.state.draft.place is not None
    assert chat.state.draft.place.tambon_code == "820805"


def test_a_place_not_found_or_outside_thailand_is_asked_again() -> None:
    chat = Chat(State(asked="place", draft=Draft(category="other", target_group="general")))
    assert chat.send(Text("ไม่รู้เหมือนกัน")).replies[-1].text == m.PLACE_UNKNOWN
    assert chat.send(Location(35.659, 139.703, "Tokyo")).replies[-1].text == m.OUTSIDE_THAILAND
    assert chat.state.asked == "place" and chat.state.draft is not None and chat.state.draft.place is None


def test_danger_words_bring_1300_191_and_1669_first_and_make_the_case_p1() -> None:
    chat = Chat()
    first = chat.send(Text("ช่วยด้วย พ่อเลี้ยงจะฆ่าหนู")).replies
    assert "191" in first[0].text and "1669" in first[0].text and "1300" in first[0].text
    assert first[-1].text == m.ASK_CATEGORY  # then the conversation goes on
    chat.send(Postback("cat=child_youth"))
    chat.send(Postback("tg=child"))
    chat.send(Postback("place=100101"))
    assert "ด่วนที่สุด" in chat.send(Postback("safe=done")).replies[-1].text  # the summary says so
    chat.send(Postback("confirm=yes"))
    assert created(chat).body.urgency is Priority.P1


@pytest.mark.parametrize("text", ["ด่วน!!", "ฉันอยาก ตาย", "เขามีมีดอยู่ในมือ", "SOS", "ช่วย\u200bด้วย"])
def test_danger_words_are_found_inside_thai_text(text: str) -> None:
    assert is_danger(text)


@pytest.mark.parametrize("text", ["สวัสดีค่ะ", "ยายอยู่คนเดียว ไม่มีคนดูแล", "ขอข้อมูลเบี้ยผู้สูงอายุ"])
def test_ordinary_words_are_not_danger(text: str) -> None:
    assert not is_danger(text)


def test_later_messages_become_notes_on_the_open_case_with_a_short_acknowledgement() -> None:
    chat = Chat(State(greeted=True, case_id=uuid.uuid4(), case_number=NUMBER))
    ack = chat.send(Text("เขากลับมาบ้านแล้ว"))
    assert ack.actions == (AddNote("เขากลับมาบ้านแล้ว"),) and NUMBER in ack.replies[-1].text
    image = chat.send(Media("image", "468789577898262530"))
    [note] = image.actions
    assert isinstance(note, AddNote) and "468789577898262530" in note.text and "ไม่ได้ดาวน์โหลด" in note.text
    moved = chat.send(Location(13.75, 100.49, "ถนนหน้าพระลาน"))
    assert isinstance(moved.actions[0], AddNote) and "13.750000, 100.490000" in moved.actions[0].text
    urgent = chat.send(Text("เขาทำร้ายแม่อีกแล้ว"))
    assert "191" in urgent.replies[0].text and urgent.actions[0].text.startswith("[ด่วน")  # type: ignore[union-attr]
    assert urgent.actions[1:] == (RaiseUrgency(),)  # the case becomes P1, not only a note
    assert chat.send(Postback("cat=drugs")).replies == ()  # a stale button of the finished report


def test_a_new_report_can_start_while_a_case_is_open() -> None:
    chat = Chat(State(greeted=True, case_id=uuid.uuid4(), case_number=NUMBER))
    assert chat.send(Postback("start")).replies[-1].text == m.ASK_CATEGORY
    assert chat.send(Text("อีกเรื่องหนึ่งค่ะ")).actions == ()  # words of the new draft, not a note


def test_the_silent_sos_creates_a_p1_silent_case_at_once_and_every_answer_is_bland() -> None:
    chat = Chat()
    chat.send(Follow())
    chat.replies.clear()
    prompt = chat.send(Postback("sos")).replies[-1]
    assert [b.kind for b in prompt.buttons] == ["location"]
    chat.send(Text("ช่วยด้วย"))  # a danger word, answered blandly too
    chat.send(Location(13.7500, 100.4913, "ถนนหน้าพระลาน แขวงพระบรมมหาราชวัง"))
    body = created(chat).body
    assert body.urgency is Priority.P1 and body.safety.silent and body.safety.line_only and body.safety.no_callback
    assert body.category is Category.domestic_violence and body.target_group is TargetGroup.general
    assert body.location is not None and body.location.lat == 13.75
    later = chat.send(Text("เขาออกไปแล้ว"))
    assert isinstance(later.actions[0], AddNote) and len(later.actions) == 1
    assert chat.send(Text("ช่วยด้วย")).actions[1:] == (RaiseUrgency(),)  # raised, and still answered blandly
    chat.send(Media("image", "1"))
    said = texts(chat.replies) + " ".join(b.label for r in chat.replies for b in r.buttons)
    assert not [w for w in ALARMING if w in said], said
    assert chat.replies[-1].text == m.BLAND


def test_unblocking_during_a_silent_sos_is_answered_blandly_not_with_the_sos_greeting() -> None:
    chat = Chat()
    chat.send(Postback("sos"))
    chat.send(Location(6.0, 101.0, None))
    chat.send(Unfollow())
    again = chat.send(Follow())  # the phone's owner unblocked the account: the greeting would show the SOS button
    assert [r.text for r in again.replies] == [m.BLAND] and not again.replies[0].buttons
    assert chat.state.silent and chat.state.case_id is not None
    fresh = Chat().send(Follow())
    assert fresh.replies[0].text == m.GREETING


def test_a_silent_sos_keeps_what_the_draft_knew() -> None:
    chat = Chat()
    chat.send(Text("ลูกถูกตี"))
    chat.send(Postback("cat=child_youth"))
    chat.send(Postback("tg=child"))
    chat.send(Postback("sos"))
    chat.send(Text("พระบรมมหาราชวัง"))  # a typed sub-district is enough too
    body = created(chat).body
    assert body.category is Category.child_youth and body.target_group is TargetGroup.child
    assert body.location is not None and body.location.tambon_code == "100101" and "ลูกถูกตี" in body.description


def test_tapping_the_sos_by_mistake_can_be_undone() -> None:
    chat = Chat()
    chat.send(Postback("sos"))
    assert chat.send(Text("ยกเลิก")).replies[-1].text == m.ASK_CATEGORY and chat.state.asked == "category"


def test_an_image_in_a_draft_is_acknowledged_and_only_the_fact_is_kept() -> None:
    chat = Chat(State(asked="category", draft=Draft(), greeted=True))
    said = chat.send(Media("image", "325708")).replies
    assert said[0].text.startswith("ได้รับรูปภาพ") and said[-1].text == m.ASK_CATEGORY
    assert chat.state.draft is not None and chat.state.draft.media == ("image:325708",)


def test_unfollow_forgets_the_draft_but_not_the_open_case() -> None:
    case_id = uuid.uuid4()
    chat = Chat(State(greeted=True, case_id=case_id, case_number=NUMBER, asked="target_group",
                      draft=Draft(category="drugs", words=("เรื่องส่วนตัว",))))
    assert chat.send(Unfollow()).replies == ()
    assert chat.state.draft is None and chat.state.case_id == case_id
    assert "เรื่องส่วนตัว" not in chat.state.model_dump_json()


def test_cancel_drops_the_draft_and_a_resolved_case_ends_the_notes() -> None:
    chat = Chat()
    report_by_buttons(chat)
    assert chat.send(Postback("confirm=no")).replies[-1].text == m.CANCELLED and chat.state.draft is None
    closed = State(greeted=True, case_id=uuid.uuid4(), case_number=NUMBER).case_closed()
    assert step(closed, Text("อีกเรื่องค่ะ"), PLACES).actions == ()


# -- random conversations ---------------------------------------------------------------------------------------
POSTBACKS = (["start", "sos", "confirm=yes", "confirm=no", "edit=place", "safe=done", "place=570511", "place=999999",
              "cat=bogus", "tg=", "", "=", "a=b&c=d"] + [f"cat={c.value}" for c in Category]
             + [f"tg={t.value}" for t in TargetGroup] + [f"safe={f}" for f in m.SAFETY_CHOICES])
WORDS = ["สันกลาง", "พระบรมมหาราชวัง", "ช่วยด้วย", "ยกเลิก", "สามีตีฉัน", "หนองบัว", "", " ", "\x00\x07",
         "\ud800", "a" * 6000, "📍", "ตำบลลำภี อำเภอท้ายเหมือง พังงา 82120"]

events = st.one_of(
    st.just(Follow()), st.just(Unfollow()), st.builds(Ignored, st.sampled_from(["message:sticker", "unsend"])),
    st.builds(Text, st.one_of(st.sampled_from(WORDS), st.text(max_size=300))),
    st.builds(Location, st.floats(-90, 90), st.floats(-180, 180), st.one_of(st.none(), st.text(max_size=400))),
    st.builds(Location, st.floats(5.7, 20.4), st.floats(97.4, 105.6), st.none()),
    st.builds(Media, st.sampled_from(["image", "video", "audio", "file"]), st.text(min_size=1, max_size=20)),
    st.builds(Postback, st.one_of(st.sampled_from(POSTBACKS), st.text(max_size=50))),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(events, max_size=25))
def test_random_conversations_never_raise_nor_send_what_line_refuses(sequence: list[Incoming]) -> None:
    chat = Chat()
    for event in sequence:
        before = chat.state
        result = chat.send(event)
        assert len(result.replies) <= 5
        for reply in result.replies:
            assert len(reply.buttons) <= QUICK_REPLY_ITEMS_MAX
            assert all(1 <= len(clusters(b.label)) <= LABEL_MAX for b in reply.buttons)
        payload = [msg.to_dict() for msg in line_messages(result.replies)] if result.replies else None
        if payload is not None:
            assert check_messages(payload) == [], payload  # the fake's copy of LINE's rules
        # The state survives its sealed round trip, and the replies the worker queues theirs.
        assert State.model_validate_json(chat.state.model_dump_json()) == chat.state
        assert [m.Reply.model_validate(json.loads(json.dumps(r.model_dump()))) for r in result.replies] == list(
            result.replies)
        if before.silent and before.case_id is not None and before.asked != "sos" and before.draft is None:
            assert all(r.text == m.BLAND for r in result.replies)  # an open silent SOS stays bland


def test_more_than_five_answers_fold_into_five_messages_keeping_the_last_buttons() -> None:
    replies = [m.say(f"ข้อความ {i}") for i in range(6)] + [m.say(m.ASK_TARGET, m.target_buttons())]
    sent = [x.to_dict() for x in line_messages(replies)]
    assert len(sent) == 5 and "ข้อความ 5" in sent[-1]["text"] and len(sent[-1]["quickReply"]["items"]) == 10
    assert check_messages(sent) == []


# -- the webhook body ---------------------------------------------------------------------------------------------
USER = "U206d25c2ea6bd87c17655609a1c37cb8"


def event(**overrides: Any) -> dict[str, Any]:
    """A text message event shaped like the Messaging API reference's example."""
    body: dict[str, Any] = {
        "replyToken": "nHuyWiB7yP5Zw52FIkcQobQuGDXCTA", "type": "message", "mode": "active",
        "timestamp": 1462629479859, "source": {"type": "user", "userId": USER},
        "webhookEventId": "01FZ74A0TDDPYRVKNK77XKC3ZR", "deliveryContext": {"isRedelivery": False},
        "message": {"id": "444573844083572737", "type": "text", "quoteToken": "q3Plxr4AgKd...", "text": "สวัสดี"},
    }
    body.update(overrides)
    return body


def body_of(*events: Any) -> bytes:
    return json.dumps({"destination": "xxxxxxxxxx", "events": list(events)}).encode()


def test_a_documented_webhook_body_is_read_event_by_event() -> None:
    location = event(webhookEventId="01FZ74A0TDDPYRVKNK77XKC3ZS", message={
        "id": "325708", "type": "location", "title": "my location", "address": "Tokyo",
        "latitude": 35.65910807942215, "longitude": 139.70372892916203})
    postback = event(webhookEventId="01FZ74A0TDDPYRVKNK77XKC3ZT", type="postback", postback={"data": "sos"})
    postback.pop("message")
    [text, where, tap] = read_body(body_of(event(), location, postback))
    assert text.user_id == USER and text.event_id == "01FZ74A0TDDPYRVKNK77XKC3ZR" and not text.redelivery
    assert text.occurred_at.year == 2016 and text.reply_token == "nHuyWiB7yP5Zw52FIkcQobQuGDXCTA"
    assert incoming(text.raw) == Text("สวัสดี")
    assert incoming(where.raw) == Location(35.65910807942215, 139.70372892916203, "Tokyo")
    assert incoming(tap.raw) == Postback("sos")
    assert read_body(b'{"destination": "U1", "events": []}') == []  # LINE's "Verify" button


def test_group_and_standby_events_are_not_kept() -> None:
    group = event(source={"type": "group", "groupId": "Ca56f94637cc4347f90a25382909b24b9", "userId": USER})
    assert read_body(body_of(group, event(mode="standby"))) == []


@pytest.mark.parametrize(("raw", "says"), [
    (b"\xff\xfe{}", "not valid UTF-8 (at byte 0)"),
    (b"<xml/>", "not JSON"),
    (b"[]", "expected a LINE webhook body"),
    (body_of(event(webhookEventId="")), "events[0].webhookEventId"),
    (body_of(event(timestamp="yesterday")), "events[0].timestamp"),
    (body_of(event(deliveryContext={})), "isRedelivery"),
    (body_of(event(source={"type": "user", "userId": "Ualice"})), "source.userId"),
    (body_of(event(message={"id": "1", "type": "location", "latitude": "north", "longitude": 1})), "latitude"),
    (body_of(event(), "not an event"), "events[1] is not an object"),
])
def test_a_malformed_body_is_refused_saying_where(raw: bytes, says: str) -> None:
    with pytest.raises(BadWebhook) as refused:
        read_body(raw)
    assert says in str(refused.value)


def test_the_signature_is_lines_and_holds_for_bytes_that_are_not_utf8() -> None:
    secret, body = "0123456789abcdef0123456789abcdef", body_of(event())
    assert SignatureValidator(secret).validate(body.decode(), signature(secret, body))  # the SDK agrees
    expected = base64.b64encode(hmac.new(secret.encode(), b"\xff", hashlib.sha256).digest()).decode()
    assert signature_ok(secret, b"\xff", expected)
    assert not signature_ok(secret, body, None) and not signature_ok(secret, body, signature("other", body))
    assert not signature_ok(secret, body + b" ", signature(secret, body))


# -- the fake's quick reply rules (LINE's contract) -----------------------------------------------------------------
def quick(*items: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"type": "text", "text": "?", "quickReply": {"items": list(items)}}]


def test_the_fake_refuses_quick_replies_line_would_refuse() -> None:
    ok = {"type": "action", "action": {"type": "location", "label": "ส่งตำแหน่ง"}}
    assert check_messages(quick(ok)) == []
    assert check_messages(quick(*[ok] * 14))[0][1] == "Size must be between 1 and 13"
    assert check_messages(quick({"action": ok["action"]}))[0][0] == "messages[0].quickReply.items[0].type"
    long_label = {"type": "action", "action": {"type": "postback", "label": "ผู้ได้รับผลกระทบจากยาเสพติด", "data": "x"}}
    assert check_messages(quick(long_label)) == [("messages[0].quickReply.items[0].action.label",
                                                   "Length must be between 0 and 20")]
    switch = {"type": "action", "action": {"type": "richmenuswitch", "label": "menu", "richMenuAliasId": "a",
                                           "data": "x"}}
    assert check_messages(quick(switch))[0][0] == "messages[0].quickReply.items[0].action.type"
    icon = {"type": "action", "imageUrl": "http://example.com/i.png", "action": ok["action"]}
    assert check_messages(quick(icon))[0][0] == "messages[0].quickReply.items[0].imageUrl"
    buttons = [{"type": "template", "altText": "a", "template": {"type": "buttons", "text": "t", "actions": [
        {"type": "location", "label": "here"}]}}]
    assert check_messages(buttons) == [("messages[0].template.actions[0].type",
                                        "location actions work only in quick reply buttons")]

