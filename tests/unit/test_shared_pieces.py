"""Small shared pieces: gazetteer, envelope, webhook signature, PII vault, case status, catalogue."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from hotline_common.catalogue import desired_topics
from hotline_common.crypto import PiiVault
from hotline_common.envelope import EnvelopeError, ce_headers, check_headers
from hotline_common.events import CaseUnroutable
from hotline_common.settings import DEV_PII_KEY, ServiceSettings
from hotline_common.topics import CATALOGUE
from hotline_common.webhooks import sign, verify
from hotline_gazetteer import gazetteer
from hotline_intake.cases import STAGE, STATUS_BY_EVENT, case_number, next_status, status_move, year_be


def test_the_gazetteer_holds_every_sub_district_with_thai_names() -> None:
    g = gazetteer()
    assert len(g.tambons) == 7436
    assert len({t.province_code for t in g.tambons}) == 77
    assert len({t.amphoe_code for t in g.tambons}) == 928
    sankang = g.tambon("570511")
    assert sankang is not None
    assert sankang.path_th() == "ต.สันกลาง › อ.พาน › จ.เชียงราย"
    khwaeng = g.tambon("100101")
    assert khwaeng is not None and khwaeng.path_th().startswith("แขวงพระบรมมหาราชวัง › เขตพระนคร")


def test_nearest_sub_district_and_the_limit_of_thailand() -> None:
    g = gazetteer()
    found = g.nearest(19.60861, 99.68137)
    assert found is not None and found[0].code == "570511" and found[1] < 0.01
    assert g.nearest(0.0, 0.0) is None
    assert g.nearest(21.5, 100.0) is None  # southern China, far from any Thai centroid


def test_cloudevents_headers_round_trip_and_bad_ones_are_named() -> None:
    event = CaseUnroutable(case_id=uuid.uuid4(), case_number="1300-2569-000007", reason="ไม่ทราบที่อยู่",
                           reported_event_id=uuid.uuid4())
    headers = ce_headers(event, source="/hotline/routing", traceparent="00-" + "a" * 32 + "-" + "b" * 16 + "-01")
    assert check_headers(headers) == event.event_id
    assert headers["ce_subject"] == str(event.case_id)
    assert headers["ce_type"] == "th.go.msdhs.hotline.case.unroutable.v1"
    del headers["ce_type"]
    with pytest.raises(EnvelopeError, match="ce_type"):
        check_headers(headers)


def test_webhook_signature_is_hmac_sha256_of_the_raw_body() -> None:
    body = '{"case_number":"1300-2569-000001","place_th":"ต.สันกลาง"}'.encode()
    signature = sign("s3cret", body)
    assert signature.startswith("sha256=") and len(signature) == 7 + 64
    assert verify("s3cret", body, signature)
    assert not verify("s3cret", body + b" ", signature)
    assert not verify("other", body, signature)
    assert not verify("s3cret", body, None)


OTHER_KEY = "ZmYtb3RoZXIta2V5LW9mLXRoaXJ0eS10d28tYnl0ZXM="


def test_personal_data_is_sealed_and_the_lookup_hash_is_stable() -> None:
    vault = PiiVault(DEV_PII_KEY, "lookup")
    sealed = vault.seal("สมศรี ใจดี")
    assert sealed is not None and "สมศรี".encode() not in sealed
    assert vault.open(sealed) == "สมศรี ใจดี"
    assert vault.lookup_hash("0812345678") == vault.lookup_hash("0812345678")
    assert vault.lookup_hash("0812345678") != PiiVault(DEV_PII_KEY, "another").lookup_hash("0812345678")


def test_a_rotated_key_opens_old_data_reseals_it_and_keeps_the_lookup_hash() -> None:
    old = PiiVault(DEV_PII_KEY, "lookup")
    sealed = old.seal("0812345678")
    assert sealed is not None
    rotated = PiiVault(f"{OTHER_KEY}, {DEV_PII_KEY}", "lookup")
    assert rotated.open(sealed) == "0812345678"  # the old key still opens
    resealed = rotated.rotate(sealed)
    assert resealed is not None and rotated.rotate(resealed) is None  # now under the newest key
    assert PiiVault(OTHER_KEY, "lookup").open(resealed) == "0812345678"  # the old key can be dropped
    assert rotated.lookup_hash("0812345678") == old.lookup_hash("0812345678")
    with pytest.raises(ValueError, match="no key"):
        PiiVault(" , ", "lookup")


def test_case_status_only_moves_forward() -> None:
    assert next_status("reported", "routed") == "routed"
    assert next_status("routed", "alert_sent") == "alerted"
    assert next_status("alerted", "routed") == "alerted"  # a late event does not move a case back
    assert next_status("reported", "unroutable") == "unroutable"


def test_the_sql_status_move_agrees_with_next_status() -> None:
    # The timeline's one-statement write moves a case by `status_move`; it must decide as `next_status` does.
    for event_type in STATUS_BY_EVENT:
        new, moves_from = status_move(event_type)
        for current in STAGE:
            expected = new if current in moves_from else current
            assert next_status(current, event_type) == expected, (current, event_type)
    assert "acknowledged" not in status_move("routed")[1]


def test_case_numbers_use_the_buddhist_era_year_in_bangkok_time() -> None:
    # 31 Dec 2026 18:00 UTC is already 1 Jan 2027 in Bangkok: พ.ศ. 2570.
    assert year_be(datetime(2026, 12, 31, 18, 0, tzinfo=UTC)) == 2570
    assert year_be(datetime(2026, 12, 31, 16, 0, tzinfo=UTC)) == 2569
    assert case_number(2569, 42) == "1300-2569-000042"


def test_the_catalogue_compacts_registry_topics_and_gives_every_topic_a_dead_letter_topic() -> None:
    topics = {t.name: t for t in desired_topics(ServiceSettings())}
    assert topics["registry.center.v1"].topic_configs["cleanup.policy"] == "compact"
    assert topics["hotline.case.reported.v1"].topic_configs["cleanup.policy"] == "delete"
    assert topics["hotline.case.reported.v1"].num_partitions == 3
    for spec in CATALOGUE:
        assert spec.dlq in topics


def test_a_dead_letters_reason_names_the_fields_but_never_quotes_the_refused_input() -> None:
    from pydantic import BaseModel, ValidationError

    from hotline_common.deadletter import reason_of

    class Report(BaseModel):
        age: int
        description: str

    with pytest.raises(ValidationError) as refused:
        Report.model_validate({"age": "นางสมศรี 081-234-5678"})
    reason = reason_of(refused.value)
    assert reason.startswith("age: Input should be a valid integer")
    assert "description: Field required" in reason
    assert "สมศรี" not in reason and "081" not in reason
    assert "สมศรี" in str(refused.value)  # what the header held before: pydantic's own text quotes the input
