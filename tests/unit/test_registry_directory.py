"""The registry's pure pieces: admin input → records, CSV rows ↔ records, and the demo directory."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from hotline_common import oncall
from hotline_common.events import AgencyType, AlertChannel
from hotline_common.events.registry import normalise_phone
from hotline_gazetteer import gazetteer
from hotline_registry.demo import demo_directory
from hotline_registry.directory import AgencyIn, CenterIn, FieldError, ResponderIn
from hotline_registry.imports import FORMATS, _channels


def test_a_center_takes_its_district_province_and_position_from_its_sub_district() -> None:
    center = CenterIn(name_th="ศูนย์ช่วยเหลือสังคมตำบลสันกลาง", tambon_code="570511").record(uuid.uuid4())
    san_klang = gazetteer().tambon("570511")
    assert san_klang is not None
    assert (center.amphoe_code, center.province_code) == (san_klang.amphoe_code, san_klang.province_code)
    assert (center.lat, center.lon) == (san_klang.lat, san_klang.lon)


@pytest.mark.parametrize(("fields", "loc"), [
    ({"tambon_code": "999999"}, ("tambon_code",)),
    ({"tambon_code": "570511", "lat": 21.03, "lon": 105.85}, ("lat",)),  # Hanoi
])
def test_a_center_outside_the_gazetteer_is_refused(fields: dict[str, object], loc: tuple[str, ...]) -> None:
    with pytest.raises(FieldError) as refused:
        CenterIn(name_th="ศูนย์ทดสอบ", **fields).record(uuid.uuid4())  # type: ignore[arg-type]
    assert refused.value.loc == loc


def test_an_agency_covers_its_own_province_unless_told_otherwise() -> None:
    shelter = AgencyIn(agency_type=AgencyType.children_family_shelter, name_th="บ้านพักเด็กและครอบครัวจังหวัดพังงา",
                       province_code="82").record(uuid.uuid4())
    assert shelter.area_province_codes == ["82"]
    with pytest.raises(FieldError) as refused:
        AgencyIn(agency_type=AgencyType.other, name_th="ทดสอบ", province_code="82",
                 area_province_codes=["82", "99"]).record(uuid.uuid4())
    assert refused.value.loc == ("area_province_codes", 1)


@pytest.mark.parametrize("written", ["081-234-5678", "0812345678", "+66 81 234 5678", "66812345678"])
def test_thai_phone_numbers_are_stored_one_way(written: str) -> None:
    assert normalise_phone(written) == "+66812345678"


@pytest.mark.parametrize(("kind", "address"), [("line", "Uabc"), ("sms", "1300"), ("email", "no-at-sign"),
                                               ("webhook", "ftp://example.org")])
def test_an_unusable_channel_is_refused(kind: str, address: str) -> None:
    with pytest.raises(ValidationError):
        AlertChannel(kind=kind, address=address)  # type: ignore[arg-type]


def test_channels_cell_keeps_order_and_secret_references() -> None:
    cell = "line:U" + "a" * 32 + ";sms:081-234-5678;webhook:https://example.org/hook?a=1|ops-secret"
    assert _channels(cell) == [{"kind": "line", "address": "U" + "a" * 32},
                               {"kind": "sms", "address": "081-234-5678"},
                               {"kind": "webhook", "address": "https://example.org/hook?a=1",
                                "secret_ref": "ops-secret"}]
    with pytest.raises(ValueError, match="kind:address"):
        _channels("0812345678")


def test_a_responder_survives_the_csv_round_trip() -> None:
    responder = ResponderIn(display_name="นางสาวมาลี ใจดี", kind="social_worker", languages=["th", "en"],
                            channels=[AlertChannel(kind="sms", address="0812345678"),
                                      AlertChannel(kind="webhook", address="https://example.org/h", secret_ref="r")],
                            center_ids=[uuid.uuid4()]).record(uuid.uuid4())
    fmt = FORMATS["responders"]
    row = {k: str(v) for k, v in fmt.to_row(responder).items() if k != "responder_id"}
    again = ResponderIn.model_validate(fmt.to_input(row)).record(responder.responder_id)
    assert again.model_dump(exclude={"event_id", "occurred_at"}) == responder.model_dump(
        exclude={"event_id", "occurred_at"})


def test_the_demo_directory_has_every_province_office_and_shelter_and_nobody_uncovered() -> None:
    demo = demo_directory("http://127.0.0.1:8003/v1/demo/inbox")
    provinces = set(gazetteer().provinces())
    for agency_type in (AgencyType.provincial_office, AgencyType.children_family_shelter):
        assert {a.province_code for a in demo.agencies if a.agency_type is agency_type} == provinces
    assert len(demo.centers) == len(gazetteer().tambons)
    start = datetime(2026, 11, 23, tzinfo=UTC)
    sample = demo.rotas[:: len(demo.rotas) // 50]
    assert all(oncall.coverage_gaps(r, start, start + timedelta(days=7)) == [] for r in sample)
    units = {c.center_id for c in demo.centers} | {a.agency_id for a in demo.agencies}
    assert {r.unit_id for r in demo.rotas} == units
