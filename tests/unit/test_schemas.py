"""The exported JSON Schemas: current, one per topic, and they accept real events and reject broken ones."""

# jsonschema ships no type information (types-jsonschema is not in the dev group).
# mypy: disable-error-code="import-untyped"

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from jsonschema import Draft202012Validator, FormatChecker

from hotline_common import schemas
from hotline_common.events import (
    AgencyRecord,
    AgencyType,
    AlarmState,
    AlertChannel,
    AlertFailed,
    AlertSent,
    CaseAcknowledged,
    CaseDeclined,
    CaseEscalated,
    CaseReported,
    CaseResolved,
    CaseRouted,
    CaseUnroutable,
    CaseUrgencyRaised,
    Category,
    CenterCandidate,
    CenterRecord,
    Channel,
    DeadLetterReplayed,
    Event,
    Location,
    Priority,
    ResolveOutcome,
    ResponderRecord,
    RotaRecord,
    RoutingExplanation,
    ServiceHeartbeat,
    TambonCandidate,
    TargetGroup,
    WatchdogAlarm,
)
from hotline_common.events.rota import EscalationLevel, EscalationTarget, Override, Shift
from hotline_common.topics import CATALOGUE, TopicSpec

CASE = uuid.uuid4()
CENTER = uuid.uuid4()
RESPONDER = uuid.uuid4()
OTHER = uuid.uuid4()

SAMPLES: dict[type[Event], Event] = {
    CaseReported: CaseReported(
        case_id=CASE,
        case_number="1300-2569-000001",
        channel=Channel.line,
        category=Category.domestic_violence,
        target_group=TargetGroup.woman,
        urgency=Priority.P1,
        description="สามีทำร้ายร่างกาย ต้องการความช่วยเหลือด่วน",
        location=Location(lat=13.7563, lon=100.5018),
    ),
    CaseRouted: CaseRouted(
        case_id=CASE,
        case_number="1300-2569-000001",
        category=Category.domestic_violence,
        target_group=TargetGroup.woman,
        priority=Priority.P1,
        tambon_code="100101",
        center_id=CENTER,
        center_name_th="ศูนย์ช่วยเหลือสังคมตำบลพระบรมมหาราชวัง",
        center_tambon_code="100101",
        distance_km=1.25,
        rule="nearest_same_amphoe",
        reported_event_id=uuid.uuid4(),
        agency_id=uuid.uuid4(),
        agency_type="children_family_shelter",
        agency_name_th="บ้านพักเด็กและครอบครัวกรุงเทพมหานคร",
        ack_deadline="2026-11-23T19:15:00+00:00",
        attempt=2,
        tried_center_ids=[uuid.uuid4()],
        explanation=RoutingExplanation(
            location_source="text", location_confidence=0.97, agency_rule="child-violence",
            candidates=[CenterCandidate(center_id=CENTER, name_th="ศูนย์ช่วยเหลือสังคมตำบลพระบรมมหาราชวัง",
                                        tambon_code="100101", distance_km=1.25)],
            priority_reasons=["danger word 'ทำร้าย' (assault) → P1"]),
    ),
    CaseUnroutable: CaseUnroutable(
        case_id=CASE, case_number="1300-2569-000001", reason="the address may mean 3 sub-districts",
        reason_code="ambiguous_text", reported_event_id=uuid.uuid4(),
        candidates=[TambonCandidate(tambon_code="570511", path_th="ต.สันกลาง › อ.พาน › จ.เชียงราย", score=0.22)],
    ),
    CaseUrgencyRaised: CaseUrgencyRaised(case_id=CASE, case_number="1300-2569-000001", urgency=Priority.P1,
                                         reason_code="danger_words", channel=Channel.line),
    CaseDeclined: CaseDeclined(case_id=CASE, case_number="1300-2569-000001", center_id=CENTER,
                               responder_id=RESPONDER, reason="ไม่มีเจ้าหน้าที่ว่าง"),
    CaseEscalated: CaseEscalated(case_id=CASE, case_number="1300-2569-000001", level=2, center_id=CENTER,
                                 reroute=True, reason="nobody acknowledged within 15 minutes", step=3,
                                 targets=["agency"], alerted=1),
    CaseAcknowledged: CaseAcknowledged(case_id=CASE, case_number="1300-2569-000001", responder_id=RESPONDER,
                                       center_id=CENTER, routed_event_id=uuid.uuid4(), via="line", level=1,
                                       seconds_to_acknowledge=312.5),
    CaseResolved: CaseResolved(case_id=CASE, case_number="1300-2569-000001", responder_id=RESPONDER,
                               center_id=CENTER, outcome=ResolveOutcome.helped_on_site, via="page"),
    AlertSent: AlertSent(
        alert_id=uuid.uuid4(),
        case_id=CASE,
        case_number="1300-2569-000001",
        responder_id=uuid.uuid4(),
        center_id=CENTER,
        channel="webhook",
        attempts=1,
    ),
    AlertFailed: AlertFailed(
        alert_id=uuid.uuid4(),
        case_id=CASE,
        case_number="1300-2569-000001",
        center_id=CENTER,
        attempts=5,
        last_error="nobody on call",
    ),
    CenterRecord: CenterRecord(
        center_id=CENTER,
        name_th="ศูนย์ช่วยเหลือสังคมตำบลพระบรมมหาราชวัง",
        name_en="Phra Borom Maha Ratchawang Social Assistance Center",
        tambon_code="100101",
        amphoe_code="1001",
        province_code="10",
        lat=13.75,
        lon=100.49,
    ),
    ResponderRecord: ResponderRecord(
        responder_id=uuid.uuid4(),
        display_name="สมศรี ใจดี",
        kind="volunteer",
        center_ids=[CENTER],
        channels=[AlertChannel(kind="webhook", address="http://127.0.0.1:8003/v1/demo/inbox", secret_ref="demo"),
                  AlertChannel(kind="sms", address="081-234-5678")],
    ),
    AgencyRecord: AgencyRecord(
        agency_id=uuid.uuid4(), agency_type=AgencyType.children_family_shelter,
        name_th="บ้านพักเด็กและครอบครัวจังหวัดเชียงราย", province_code="57", area_province_codes=["57"],
        lat=19.9, lon=99.83, categories=[Category.domestic_violence], target_groups=[TargetGroup.child],
        capacity=30, free_places=4, free_places_at="2026-11-23T10:00:00+07:00", phone="053-150-222",
    ),
    DeadLetterReplayed: DeadLetterReplayed(
        replayed_by="ops", dlq_topic="hotline.case.reported.v1.dlq", dlq_partition=0, dlq_offset=12,
        target_topic="hotline.case.reported.v1", target_partition=2, target_offset=3456,
        replayed_event_id=uuid.uuid4(), edited=True, dlq_error="ValidationError", case_id=CASE,
        case_number="1300-2569-000001",
    ),
    ServiceHeartbeat: ServiceHeartbeat(
        service="notify", instance="notify-7d9f/1", started_at="2026-11-24T02:00:00+07:00", interval_seconds=15,
        ready=False, checks={"database": False, "kafka": True}, in_flight=1, oldest_in_flight_seconds=42.5,
        processed=1234,
    ),
    WatchdogAlarm: WatchdogAlarm(
        service="notify", problem="down", state=AlarmState.raised, detail="no heartbeat for 65 s",
        detail_th="ไม่มีสัญญาณชีพ 65 วินาที", since="2026-11-24T03:12:00+07:00", paged=["sms", "email"],
    ),
    RotaRecord: RotaRecord(
        rota_id=uuid.uuid4(), unit_kind="center", unit_id=CENTER, name="เวรประจำศูนย์",
        shifts=[Shift(name="กลางวัน", start="08:30", end="16:30", responder_ids=[RESPONDER, OTHER],
                      rotate_every_days=7, rotation_anchor="2026-11-23"),
                Shift(name="กลางคืน", start="16:30", end="08:30", responder_ids=[RESPONDER])],
        overrides=[Override(start="2026-11-25T08:30:00+07:00", end="2026-11-26T08:30:00+07:00", replaces=RESPONDER,
                            responder_id=OTHER, reason="ลาป่วย")],
        escalation=[EscalationLevel(targets=[EscalationTarget(kind="on_call")], timeout_minutes=10, repeat=1),
                    EscalationLevel(targets=[EscalationTarget(kind="center", id=CENTER)], timeout_minutes=15)],
    ),
}


def _load(spec: TopicSpec) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((schemas.DEFAULT_DIR / schemas.filename(spec)).read_text(encoding="utf-8"))
    return doc


def _validator(spec: TopicSpec) -> Draft202012Validator:
    doc = _load(spec)
    Draft202012Validator.check_schema(doc)
    return Draft202012Validator(doc, format_checker=FormatChecker())


def test_committed_schemas_are_current() -> None:
    assert schemas.check(schemas.DEFAULT_DIR) == [], "re-export: uv run python -m hotline_common.schemas"
    assert schemas.main(["--check"]) == 0


def test_check_notices_stale_missing_and_extra_files(tmp_path: Path) -> None:
    written = schemas.export(tmp_path)
    assert len(written) == len(CATALOGUE)
    assert schemas.main(["--check", "--dir", str(tmp_path)]) == 0
    written[0].write_text("{}\n", encoding="utf-8")
    written[1].unlink()
    (tmp_path / "gone.topic.v1.schema.json").write_text("{}\n", encoding="utf-8")
    problems = schemas.check(tmp_path)
    assert len(problems) == 3, problems
    assert schemas.main(["--check", "--dir", str(tmp_path)]) == 1
    schemas.export(tmp_path)  # repairs all three
    assert schemas.check(tmp_path) == []


@pytest.mark.parametrize("spec", CATALOGUE, ids=lambda s: s.name)
def test_every_topic_has_a_schema(spec: TopicSpec) -> None:
    doc = _load(spec)
    assert doc["x-topic"] == spec.name
    assert doc["x-ce-type"] == spec.model.ce_type
    assert doc["$id"].endswith(spec.name)
    assert spec.model.__name__ in doc["title"]
    assert doc["type"] == "object"


def test_no_schema_file_without_a_topic() -> None:
    files = {p.name for p in schemas.DEFAULT_DIR.glob(f"*{schemas.SUFFIX}")}
    assert files == {schemas.filename(spec) for spec in CATALOGUE}


def test_samples_cover_the_catalogue() -> None:
    assert {spec.model for spec in CATALOGUE} <= set(SAMPLES)


@pytest.mark.parametrize("spec", CATALOGUE, ids=lambda s: s.name)
def test_sample_event_validates(spec: TopicSpec) -> None:
    # Exactly the bytes the outbox publishes.
    body = json.loads(SAMPLES[spec.model].model_dump_json())
    _validator(spec).validate(body)


@pytest.mark.parametrize("spec", CATALOGUE, ids=lambda s: s.name)
def test_event_missing_a_required_field_is_rejected(spec: TopicSpec) -> None:
    validator = _validator(spec)
    required = validator.schema["required"]
    assert required, f"{spec.name} has no required field"
    body = json.loads(SAMPLES[spec.model].model_dump_json())
    for field in required:
        broken = {k: v for k, v in body.items() if k != field}
        with pytest.raises(jsonschema.ValidationError, match=field):
            validator.validate(broken)


def test_wrong_enum_value_is_rejected() -> None:
    spec = next(s for s in CATALOGUE if s.model is CaseReported)
    body = json.loads(SAMPLES[CaseReported].model_dump_json())
    body["category"] = "not-a-category"
    with pytest.raises(jsonschema.ValidationError):
        _validator(spec).validate(body)
