"""The operator console's pure parts: how timeline entries read and travel as server-sent events, stream tickets,
repeat callers' numbers, case numbers as operators say them, list excerpts, pages, and the wiring that lets the
console sign in through intake."""

from __future__ import annotations

import json
import time
import urllib.parse
import uuid
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import jwt
import pytest
import yaml

from hotline_common import labels, thai_id, thai_time
from hotline_common.auth import Principal, Role, issue_token, verify_token
from hotline_common.events import Category, Priority, ResolveOutcome, Safety
from hotline_devstack.services import service_env
from hotline_intake import timeline
from hotline_intake.cases import (
    CaseIn,
    case_numbers_for,
    comparable_phone,
    excerpt,
    page_cursor,
    priority_now,
    read_cursor,
)
from hotline_intake.config import IntakeSettings
from hotline_intake.console import page_context
from hotline_intake.stream import TICKET_SECONDS, issue_ticket, last_seen, ticket_holder

SECRET = "unit-test-secret-0123456789abcdef0123456789"
ROOT = Path(__file__).resolve().parents[2]
OPERATOR = Principal(subject="operator", role=Role.operator)


def entry(type: str, detail: dict[str, object], *, at: datetime | None = None) -> dict[str, object]:
    return {"event_id": uuid.UUID(int=7), "seq": 3, "type": type, "detail": detail, "status": "alerted",
            "occurred_at": at or datetime(2026, 1, 1, 20, 30, tzinfo=UTC)}


# ---- the timeline as the console reads it --------------------------------------------------------------------------
@pytest.mark.parametrize(("type", "detail", "th", "en"), [
    ("routed", {"center_name_th": "ศูนย์ช่วยเหลือสังคมตำบลสันกลาง", "priority": "P1"},
     "ไปยัง ศูนย์ช่วยเหลือสังคมตำบลสันกลาง · P1", "to ศูนย์ช่วยเหลือสังคมตำบลสันกลาง · P1"),
    ("routed", {"center_name_th": None, "agency_name_th": "บ้านพักเด็กและครอบครัวจังหวัดเชียงราย"},
     "ไปยัง บ้านพักเด็กและครอบครัวจังหวัดเชียงราย", "to บ้านพักเด็กและครอบครัวจังหวัดเชียงราย"),
    ("alert_sent", {"channel": "line"}, "ทาง LINE", "by LINE"),
    ("alert_failed", {"channel": "sms", "attempts": 3}, "ทาง SMS ไม่สำเร็จ 3 ครั้ง", "by SMS, 3 attempts failed"),
    ("reported", {"channel": "walk_in"}, "ทางมาติดต่อที่ศูนย์", "by walk-in"),
    ("acknowledged", {"seconds_to_acknowledge": 200}, "ภายใน 3 นาที", "within 3 min"),
    ("resolved", {"outcome": "sheltered"}, *labels.OUTCOME[ResolveOutcome.sheltered]),
    ("note", {"source": "walk_in"}, "โดยเจ้าหน้าที่ศูนย์", "by center staff"),
    ("escalated", {"step": 2, "reroute": True}, "ขั้นที่ 2: ส่งต่อศูนย์ถัดไป", "step 2: on to the next center"),
    ("urgency_raised", {"urgency": "P1", "from": "P3", "reason_code": "danger_words"},
     "P3 → P1 · ผู้แจ้งพิมพ์คำที่บ่งว่ามีอันตราย", "P3 → P1 · the person wrote a danger word"),
    ("routed", {"center_name_th": "ศูนย์ฯ สันกลาง", "priority": "P1", "reprioritised_from": "P3"},
     "ศูนย์ฯ สันกลาง · P3 → P1 เส้นตายใหม่", "ศูนย์ฯ สันกลาง · P3 → P1, a new deadline"),
    ("a_future_type", {"x": 1}, "", ""),
])
def test_each_timeline_entry_says_what_happened_in_thai_and_english(
        type: str, detail: dict[str, object], th: str, en: str) -> None:
    assert timeline.summary(type, detail) == (th, en)


def test_an_entry_is_shown_at_bangkok_time_with_its_labels_and_the_case_status() -> None:
    shown = timeline.present(entry("routed", {"center_name_th": "ศูนย์ฯ สันกลาง"}))
    assert shown["time_th"] == "02/01/2569 03:30 น."  # 20:30 UTC is 03:30 the next day in Bangkok, year B.E.
    assert (shown["label_th"], shown["label_en"]) == labels.CASE_EVENT["routed"] == ("ส่งต่อ", "routed")
    assert (shown["status_th"], shown["status_en"]) == labels.CASE_STATUS["alerted"]
    assert shown["event_id"] == str(uuid.UUID(int=7)) and shown["case_status"] == "alerted"
    unknown = timeline.present({**entry("merged", {}), "status": "archived"})
    assert (unknown["label_th"], unknown["status_th"]) == ("merged", "archived")  # a newer value never crashes


def test_an_entry_travels_as_one_sse_event_named_timeline_with_its_event_id() -> None:
    row = entry("declined", {"reason": "ไม่อยู่ในพื้นที่\nพรุ่งนี้ว่าง"})  # a line break must not split the event
    encoded = timeline.as_event(row).encode().decode()
    lines = encoded.split("\r\n")
    assert lines[0] == f"id: {uuid.UUID(int=7)}" and lines[1] == "event: timeline"
    data = [line for line in lines if line.startswith("data: ")]
    assert len(data) == 1 and encoded.endswith("\r\n\r\n")
    assert json.loads(data[0][len("data: "):])["detail"]["reason"] == "ไม่อยู่ในพื้นที่\nพรุ่งนี้ว่าง"


# ---- stream tickets -----------------------------------------------------------------------------------------------
def test_a_ticket_opens_its_own_case_stream_for_a_minute_and_nothing_else() -> None:
    case = uuid.uuid4()
    staff = Principal(subject="center", role=Role.center_staff, center_id=str(uuid.uuid4()))
    ticket = issue_ticket(SECRET, staff, case)
    assert ticket_holder(SECRET, ticket, case) == staff  # the center scope travels with it
    with pytest.raises(ValueError, match="another case"):
        ticket_holder(SECRET, ticket, uuid.uuid4())
    with pytest.raises(jwt.ExpiredSignatureError):
        ticket_holder(SECRET, issue_ticket(SECRET, OPERATOR, case, now=time.time() - TICKET_SECONDS - 5), case)
    with pytest.raises(jwt.InvalidSignatureError):
        ticket_holder("another-secret-0123456789abcdef0123456789", ticket, case)
    # A ticket is no access token, and an access token is no ticket.
    with pytest.raises(jwt.InvalidTokenError):
        verify_token(SECRET, ticket)
    access = issue_token(SECRET, subject="operator", role=Role.operator, ttl_seconds=60)
    with pytest.raises(jwt.InvalidTokenError):
        ticket_holder(SECRET, access, case)


def test_a_stream_resumes_after_the_first_event_id_it_is_given() -> None:
    seen = uuid.uuid4()
    assert last_seen(str(seen), None) == seen
    assert last_seen("not-an-id", str(seen)) == seen  # a Last-Event-ID that is not ours falls to `after`
    assert last_seen(None, None) is None and last_seen("", "garbage") is None


# ---- repeat callers, case numbers, excerpts, pages ----------------------------------------------------------------
def test_a_callers_number_is_the_same_however_it_was_written() -> None:
    same = {comparable_phone(p) for p in ("0812345678", "081-234-5678", "081 234 5678", "+66812345678",
                                          "+66 81 234 5678")}
    assert same == {"0812345678"}
    assert comparable_phone("+95 9 123 456 789") == "+959123456789"  # another country keeps its code
    assert comparable_phone("1300") == "1300"


def test_operators_find_a_case_by_its_whole_number_or_its_last_digits() -> None:
    now = datetime(2026, 3, 1, tzinfo=UTC)  # B.E. 2569
    assert case_numbers_for("1300-2568-000042", now) == ["1300-2568-000042"]
    assert case_numbers_for(" 42 ", now) == ["1300-2569-000042", "1300-2568-000042"]
    assert case_numbers_for("000042", now) == ["1300-2569-000042", "1300-2568-000042"]
    assert case_numbers_for("1300-42", now) == [] and case_numbers_for("abc", now) == []


def test_an_excerpt_masks_national_ids_before_it_shortens() -> None:
    card = "1103702071811"
    assert thai_id.is_valid(card)
    text = "เด็กชาย เลขประจำตัว " + card + " ถูกทิ้งไว้ที่บ้าน\nคนเดียว  " + "ก" * 200
    short = excerpt(text)
    assert card not in short and thai_id.mask(card) in short and "\n" not in short
    assert len(short) == 120 and short.endswith("…")
    assert excerpt("สั้น ๆ") == "สั้น ๆ"
    cut = excerpt("ก" * 110 + " " + card)  # an ID across the cut: what is left of it is its masked start
    assert cut.endswith("x-xxxx-x…") and not any(ch.isdigit() for ch in cut)


def test_a_page_cursor_names_the_last_case_listed() -> None:
    at, case = datetime(2026, 3, 1, 4, 5, 6, 789, tzinfo=UTC), uuid.uuid4()
    assert read_cursor(page_cursor(at, case)) == (at, case)
    for bad in ("", "not-base64!", page_cursor(at, case)[:-4]):
        with pytest.raises(ValueError, match="cursor"):
            read_cursor(bad)


def test_a_day_typed_in_thailand_starts_at_bangkok_midnight() -> None:
    assert thai_time.start_of_day(date(2026, 5, 1)) == datetime(2026, 4, 30, 17, 0, tzinfo=UTC)


# ---- the form ------------------------------------------------------------------------------------------------------
def test_consent_to_share_is_asked_not_assumed() -> None:
    body = {"category": "elderly", "target_group": "elderly", "description": "ขอให้ไปเยี่ยมบ้าน"}
    assert CaseIn.model_validate(body).consent_to_share is False
    assert CaseIn.model_validate(body | {"consent_to_share": True}).consent_to_share is True


def test_the_form_offers_every_category_group_and_priority_with_the_labels_responders_see() -> None:
    page = page_context()
    assert [c[0] for c in page["categories"]] == [c.value for c in Category]
    assert page["priorities"][0] == ("P1", *labels.PRIORITY[Priority.P1], *labels.PRIORITY_WHEN[Priority.P1])
    shown = {flag: (th, en) for flag, th, en in page["safety"]}
    assert shown["no_callback"] == labels.safety(Safety(no_callback=True))[0] == ("ห้ามโทรกลับ", "do not call back")
    assert set(shown) == {"no_callback", "line_only", "woman_officer", "silent"}


# ---- signing in through intake -------------------------------------------------------------------------------------
@pytest.mark.parametrize("base_port", [8000, 18000])
def test_intake_finds_the_registry_for_the_consoles_sign_in(base_port: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("INTAKE_REGISTRY_URL", raising=False)
    env = service_env("intake", 5432, "127.0.0.1:9092", base_port=base_port)
    assert env["INTAKE_REGISTRY_URL"] == f"http://127.0.0.1:{base_port + 1}"
    if base_port == 8000:
        assert env["INTAKE_REGISTRY_URL"] == IntakeSettings.model_fields["registry_url"].default
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text("utf-8"))
    url = urllib.parse.urlsplit(compose["services"]["intake"]["environment"]["INTAKE_REGISTRY_URL"])
    assert (url.hostname, url.port) == ("registry", 8001)


@pytest.mark.parametrize(("urgency", "timeline", "now"), [
    (None, [], None),
    ("P2", [], "P2"),
    (None, [{"type": "routed", "detail": {"priority": "P3"}}], "P3"),
    ("P3", [{"type": "routed", "detail": {"priority": "P2"}},  # routing's danger words beat the operator's P3
            {"type": "note", "detail": {"priority": "P1"}}], "P2"),  # only routings and raises count
    ("P3", [{"type": "routed", "detail": {"priority": "P3"}}, {"type": "urgency_raised", "detail": {"urgency": "P1"}},
            {"type": "routed", "detail": {"priority": "P1", "reprioritised_from": "P3"}}], "P1"),
    ("P4", [{"type": "routed", "detail": {"priority": "P9"}}], "P4"),  # a value this intake does not know
])
def test_a_cases_priority_now_is_the_most_urgent_it_has_been_made(
        urgency: str | None, timeline: list[dict[str, Any]], now: str | None) -> None:
    assert priority_now(urgency, timeline) == (Priority(now) if now else None)
