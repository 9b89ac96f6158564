"""The ops views' pure parts: what an event view shows and hides, the filter's memory of a case, the dead-letter
payload masking and reason cleaning, merge patches, `--since`."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from aiokafka.structs import ConsumerRecord
from pydantic import ValidationError

from hotline_cli.main import parse_since
from hotline_common.deadletters import mask, merge_patch, safe_reason
from hotline_common.envelope import ce_headers
from hotline_common.events import AlertSent, CaseReported, Category, Channel, Event, Location, Priority, TargetGroup
from hotline_common.stream import event_type_of, make_filter, view_of
from hotline_common.topics import ALERT_SENT, CASE_REPORTED

DESCRIPTION = "สามีทำร้ายร่างกาย บ้านเลขที่ 5"


def record(topic: str, event: Event | None, *, value: bytes | None = None, offset: int = 0,
           extra: dict[str, str] | None = None) -> ConsumerRecord[bytes, bytes]:
    headers = {**(ce_headers(event, source="/test") if event else {}), **(extra or {})}
    body = value if value is not None else (event.model_dump_json().encode() if event else None)
    return ConsumerRecord(topic=topic, partition=1, offset=offset, timestamp=1_795_000_000_000, timestamp_type=0,
                          key=event.subject().encode() if event else None, value=body, checksum=None,
                          serialized_key_size=36, serialized_value_size=len(body or b""),
                          headers=[(k, v.encode()) for k, v in headers.items()])


def a_report(tambon: str = "570511", urgency: Priority = Priority.P2) -> CaseReported:
    return CaseReported(case_id=uuid.uuid4(), case_number="1300-2569-000042", channel=Channel.line,
                        category=Category.domestic_violence, target_group=TargetGroup.woman, urgency=urgency,
                        description=DESCRIPTION, location=Location(tambon_code=tambon, lat=19.6, lon=99.7,
                                                                   text="ซอย 3 ต.สันกลาง"),
                        caller_key="b" * 64, callback_ref="/v1/cases/x/contact")


def test_an_event_view_shows_what_happened_to_which_case_and_nothing_personal() -> None:
    case = a_report()
    view = view_of(record(CASE_REPORTED.name, case))
    assert (view.event_type, view.case_number, view.case_id, view.event_id) == (
        "case.reported", "1300-2569-000042", str(case.case_id), str(case.event_id))
    assert (view.channel, view.category, view.priority, view.province) == ("line", "domestic_violence", "P2", "57")
    assert view.occurred_at == case.occurred_at and view.ce_type == CaseReported.ce_type
    text = json.dumps(view.as_dict(), ensure_ascii=False)
    for personal in (DESCRIPTION, "ซอย 3", "19.6", "99.7", "b" * 64, "/contact"):
        assert personal not in text


def test_a_record_that_is_not_json_is_still_shown_with_its_problem() -> None:
    view = view_of(record(CASE_REPORTED.name + ".dlq", a_report(), value=b"\xff{not json",
                          extra={"dlq_error": "UnicodeDecodeError"}))
    assert view.dead_letter and view.event_type == "case.reported" and view.problem
    assert view.case_number is None


def test_event_types_come_from_the_topic_names() -> None:
    assert event_type_of("hotline.case.urgency_raised.v1") == "case.urgency_raised"
    assert event_type_of("hotline.alert.failed.v1.dlq") == "alert.failed"
    assert event_type_of("registry.center.v1") == "registry.center"


def test_the_filter_judges_a_cases_later_events_by_what_its_earlier_ones_said() -> None:
    here, there = a_report("960101", Priority.P1), a_report("100101", Priority.P1)
    wanted = make_filter(provinces=["96"], priorities=["p1"])
    views = [view_of(record(CASE_REPORTED.name, e)) for e in (here, there)]
    alerts = [view_of(record(ALERT_SENT.name, AlertSent(case_id=c.case_id, case_number=c.case_number,
                                                        alert_id=uuid.uuid4(), responder_id=uuid.uuid4(),
                                                        center_id=uuid.uuid4(), channel="sms", attempts=1)))
              for c in (here, there)]
    assert [wanted.matches(v) for v in views + alerts] == [True, False, True, False]
    by_type = make_filter(event_types=["alert_sent"])
    assert [by_type.matches(v) for v in views + alerts] == [False, False, True, True]
    assert make_filter(event_types=["sent"]).matches(alerts[0])
    assert not make_filter(event_types=["ent"]).matches(alerts[0])
    assert make_filter(case_numbers=["1300-2569-000042"]).matches(alerts[1])


def test_a_dead_letters_payload_shows_its_shape_and_safe_values_only() -> None:
    body = json.loads(a_report().model_dump_json())
    masked = mask(body)
    assert masked["case_number"] == "1300-2569-000042" and masked["channel"] == "line"
    assert masked["location"]["tambon_code"] == "570511"
    assert masked["description"] == f"‹ซ่อน · hidden: text, {len(DESCRIPTION)} chars›"
    assert masked["location"]["text"].startswith("‹ซ่อน") and masked["location"]["lat"].startswith("‹ซ่อน")
    assert masked["caller_key"].startswith("‹ซ่อน") and set(masked) == set(body)


def test_a_validation_errors_reason_loses_the_input_it_quotes() -> None:
    body = json.loads(a_report().model_dump_json())
    del body["category"]
    with pytest.raises(ValidationError) as raised:
        CaseReported.model_validate(body)
    reason = str(raised.value)  # what the middleware writes into dlq_reason: it quotes the body (shortened)
    assert "input_value={'event_id'" in reason and "/contact" in reason
    cleaned = safe_reason(reason)
    assert "category" in cleaned and "Field required" in cleaned and "input_value=‹hidden›" in cleaned
    assert "event_id" not in cleaned and "/contact" not in cleaned


def test_merge_patch_merges_objects_removes_nulls_and_replaces_the_rest() -> None:
    original = {"category": "x", "location": {"tambon_code": "570511", "text": "t"}, "urgency": "P3"}
    assert merge_patch(original, {"category": "other", "location": {"text": None}, "urgency": None}) == {
        "category": "other", "location": {"tambon_code": "570511"}}
    assert original["category"] == "x"  # not modified in place


def test_since_takes_a_duration_or_a_bangkok_time() -> None:
    now = datetime(2026, 11, 24, 3, 0, tzinfo=UTC)
    assert parse_since("15m", now=now) == now - timedelta(minutes=15)
    assert parse_since("2d", now=now) == now - timedelta(days=2)
    assert parse_since("2026-11-24T09:00") == datetime(2026, 11, 24, 2, 0, tzinfo=UTC)

