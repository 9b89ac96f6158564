"""Routing decisions are pure functions of (case, indexes, rules, gazetteer, policy, now)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from hotline_common.events import AgencyRecord, AgencyType, CaseReported, CenterRecord, Location, Priority
from hotline_gazetteer import gazetteer
from hotline_routing.agencies import AgencyIndex
from hotline_routing.decide import Policy, Routed, Unroutable, decide, reprioritised, routed_event
from hotline_routing.index import CenterIndex
from hotline_routing.rules import load_rules

NOW = datetime(2026, 11, 23, 19, 0, tzinfo=UTC)
POLICY = Policy(min_text_confidence=0.6, max_center_tries=3,
                ack_windows={Priority.P1: timedelta(minutes=15), Priority.P2: timedelta(hours=1),
                             Priority.P3: timedelta(days=1), Priority.P4: None})


def center(code: str, status: str = "active") -> CenterRecord:
    t = gazetteer().tambon(code)
    assert t is not None
    return CenterRecord(center_id=uuid.uuid4(), name_th=f"ศูนย์ช่วยเหลือสังคมตำบล{t.name_th}", name_en=t.name_en,
                        tambon_code=code, amphoe_code=t.amphoe_code, province_code=t.province_code, lat=t.lat,
                        lon=t.lon, status=status)  # type: ignore[arg-type]


def agency(province: str, kind: AgencyType, **fields: Any) -> AgencyRecord:
    seat = min((t for t in gazetteer().tambons if t.province_code == province), key=lambda t: t.code)
    return AgencyRecord(agency_id=uuid.uuid4(), agency_type=kind, name_th=f"{kind.value} {seat.province_name_th}",
                        province_code=province, area_province_codes=[province], lat=seat.lat, lon=seat.lon, **fields)


def case(description: str = "ขอคำปรึกษาเรื่องสิทธิสวัสดิการ", **fields: Any) -> CaseReported:
    location = fields.pop("location", {"tambon_code": "570511"})
    body: dict[str, Any] = {"case_id": uuid.uuid4(), "case_number": "1300-2569-000001", "channel": "hotline",
                            "category": "livelihood", "target_group": "general", "description": description,
                            "location": Location(**location)}
    return CaseReported(**(body | fields))


def index_of(*centers: CenterRecord) -> CenterIndex:
    index = CenterIndex()
    for c in centers:
        index.apply(str(c.center_id), c)
    return index


def agencies_of(*records: AgencyRecord) -> AgencyIndex:
    index = AgencyIndex()
    for a in records:
        index.apply(str(a.agency_id), a)
    return index


CHIANG_RAI = agencies_of(agency("57", AgencyType.provincial_office),
                         agency("57", AgencyType.children_family_shelter, capacity=30, free_places=3))


def route(c: CaseReported, centers: CenterIndex, agencies: AgencyIndex = CHIANG_RAI,
          tried: tuple[uuid.UUID, ...] = ()) -> Routed | Unroutable:
    return decide(c, centers=centers, agencies=agencies, rules=load_rules(), places=gazetteer(), policy=POLICY,
                  now=NOW, tried=tried)


def routed(decision: Routed | Unroutable) -> Routed:
    assert isinstance(decision, Routed), decision
    return decision


def test_a_case_goes_to_the_active_center_of_its_own_sub_district() -> None:
    own, neighbour = center("570511"), center("570503")
    decision = routed(route(case(), index_of(neighbour, own)))
    assert decision.center == own and decision.choice.rule == "own_tambon" and decision.choice.distance_km == 0


def test_without_an_own_center_the_same_district_comes_before_a_nearer_one_elsewhere() -> None:
    # ต.สันกลาง (อ.พาน): a center in another district of Chiang Rai may be nearer than one across อ.พาน.
    san_klang = gazetteer().tambon("570511")
    assert san_klang is not None
    same_district = [t for t in gazetteer().tambons if t.amphoe_code == "5705" and t.code != "570511"]
    other_district = [t for t in gazetteer().tambons if t.province_code == "57" and t.amphoe_code != "5705"]
    farthest_same = max(same_district, key=lambda t: (t.lat - san_klang.lat) ** 2 + (t.lon - san_klang.lon) ** 2)
    nearest_other = min(other_district, key=lambda t: (t.lat - san_klang.lat) ** 2 + (t.lon - san_klang.lon) ** 2)
    far_in_district, near_outside = center(farthest_same.code), center(nearest_other.code)
    decision = routed(route(case(), index_of(center("570511", "closed"), far_in_district, near_outside)))
    assert decision.center == far_in_district and decision.choice.rule == "nearest_same_amphoe"
    assert [c.center_id for c in decision.choice.candidates] == [far_in_district.center_id]


def test_then_the_same_province_then_anywhere() -> None:
    in_province, bangkok = center("570101"), center("100101")
    decision = routed(route(case(), index_of(in_province, bangkok)))
    assert decision.center == in_province and decision.choice.rule == "nearest_same_province"
    decision = routed(route(case(), index_of(bangkok)))
    assert decision.center == bangkok and decision.choice.rule == "nearest_any"


def test_re_routing_skips_centers_tried_and_hands_over_to_one_home_after_three() -> None:
    centers = [center(code) for code in ("570511", "570503", "570504", "570505")]
    index = index_of(*centers)
    first = routed(route(case(), index))
    second = routed(route(case(), index, tried=(first.center.center_id,)))  # type: ignore[union-attr]
    assert second.center not in (None, first.center) and second.choice.rule == "nearest_same_amphoe"
    tried = tuple(c.center_id for c in centers[:3])
    one_home = routed(route(case(), index, tried=tried))
    assert one_home.center is None and one_home.choice.rule == "one_home"
    assert one_home.agency is not None and one_home.agency.agency.agency_type is AgencyType.provincial_office


def test_closing_a_center_in_the_index_stops_it_receiving_cases() -> None:
    own = center("570511")
    index = index_of(own)
    index.apply(str(own.center_id), own.model_copy(update={"status": "closed"}))
    decision = route(case(), index)
    assert isinstance(decision, Unroutable) and decision.reason_code == "no_active_center"


def test_a_position_resolves_to_the_sub_district_whose_centroid_is_nearest() -> None:
    lampi = gazetteer().tambon("820805")
    assert lampi is not None
    decision = routed(route(case(location={"lat": lampi.lat + 0.002, "lon": lampi.lon}), index_of(center("820805"))))
    assert decision.located.tambon.code == "820805" and decision.located.source == "coordinates"


@pytest.mark.parametrize(("lat", "lon"), [(1.29, 103.85), (7.85, 97.95)])  # Singapore; the sea west of Phuket
def test_a_position_outside_thailand_is_unroutable_with_its_reason(lat: float, lon: float) -> None:
    decision = route(case(location={"lat": lat, "lon": lon}), index_of(center("570511")))
    assert isinstance(decision, Unroutable) and decision.reason_code == "outside_thailand"


def test_a_thai_address_is_resolved_when_it_is_unambiguous() -> None:
    decision = routed(route(case(location={"text": "บ้านเลขที่ 12 หมู่ 3 ต.สันกลาง อ.พาน จ.เชียงราย"}),
                            index_of(center("570511"))))
    assert decision.located.tambon.code == "570511" and decision.located.source == "text"
    assert decision.explanation().location_confidence >= 0.9


def test_an_ambiguous_address_is_never_guessed() -> None:
    decision = route(case(location={"text": "ต.สันกลาง"}), index_of(center("570511")))
    assert isinstance(decision, Unroutable) and decision.reason_code == "ambiguous_text"
    assert decision.not_located is not None
    codes = {c.tambon_code for c in decision.not_located.candidates}
    assert "570511" in codes and len(codes) >= 2
    nonsense = route(case(location={"text": "qwxz zzqq"}), index_of(center("570511")))
    assert isinstance(nonsense, Unroutable) and nonsense.reason_code == "unresolved_text"


def test_violence_against_a_child_goes_to_the_shelter_with_p1_and_a_15_minute_deadline() -> None:
    c = case("พ่อเลี้ยงทำร้ายเด็กทุกคืน ตอนนี้กำลังทุบตีอยู่", category="domestic_violence", target_group="child")
    decision = routed(route(c, index_of(center("570511"))))
    assert decision.agency is not None
    assert decision.agency.agency.agency_type is AgencyType.children_family_shelter
    assert decision.priority.priority is Priority.P1 and decision.ack_deadline == NOW + timedelta(minutes=15)
    assert any("ทำร้าย" in reason or "ทุบตี" in reason for reason in decision.explanation().priority_reasons)


def test_a_full_shelter_sends_a_place_referral_to_the_nearest_one_with_places_elsewhere() -> None:
    full = agency("57", AgencyType.children_family_shelter, capacity=30, free_places=0)
    phayao = agency("56", AgencyType.children_family_shelter, capacity=20, free_places=2)
    bangkok = agency("10", AgencyType.children_family_shelter, capacity=40, free_places=9)
    agencies = agencies_of(agency("57", AgencyType.provincial_office), full, phayao, bangkok)
    c = case("แม่และลูกถูกไล่ออกจากบ้าน ไม่มีที่พัก", category="domestic_violence", target_group="family",
             needs_place=True)
    decision = routed(route(c, index_of(center("570511")), agencies))
    assert decision.agency is not None and decision.agency.agency == phayao
    assert "full" in decision.explanation().agency_note


def test_the_operator_urgency_is_never_lowered() -> None:
    decision = routed(route(case(urgency=Priority.P1), index_of(center("570511"))))
    assert decision.priority.priority is Priority.P1
    advice = routed(route(case(urgency=Priority.P4), index_of(center("570511"))))
    assert advice.priority.priority is Priority.P4 and advice.ack_deadline is None


def test_a_raised_urgency_keeps_the_center_and_takes_the_new_priority_and_its_deadline() -> None:
    own = center("570511")
    c = case(urgency=Priority.P3)
    current = routed_event(c.case_id, c.case_number, routed(route(c, index_of(own))), reported_event_id=c.event_id)
    assert current.priority is Priority.P3 and current.ack_deadline == NOW + timedelta(days=1)
    later = NOW + timedelta(hours=2)
    raised = reprioritised(current, Priority.P1, ["operator set P3", "urgency raised → P1"], attempt=2, now=later,
                           window=POLICY.ack_windows[Priority.P1])
    assert (raised.center_id, raised.agency_id, raised.rule) == (own.center_id, current.agency_id, "own_tambon")
    assert raised.priority is Priority.P1 and raised.reprioritised_from is Priority.P3 and raised.attempt == 2
    assert raised.ack_deadline == later + timedelta(minutes=15) and raised.occurred_at == later
    assert raised.event_id != current.event_id and raised.reported_event_id == c.event_id
    assert raised.explanation is not None and raised.explanation.priority_reasons[-1] == "urgency raised → P1"
    assert raised.explanation.candidates == current.explanation.candidates  # type: ignore[union-attr]


def test_a_raised_urgency_keeps_a_sooner_deadline_still_ahead_but_not_one_already_past() -> None:
    c = case(urgency=Priority.P2)
    current = routed_event(c.case_id, c.case_number, routed(route(c, index_of(center("570511")))),
                           reported_event_id=c.event_id)  # P2: by NOW + 1 h
    soon = reprioritised(current, Priority.P1, [], attempt=2, now=NOW + timedelta(minutes=50),
                         window=timedelta(minutes=15))
    assert soon.ack_deadline == NOW + timedelta(hours=1)  # 10 minutes left beats 15
    late = reprioritised(current, Priority.P1, [], attempt=2, now=NOW + timedelta(hours=3),
                         window=timedelta(minutes=15))
    assert late.ack_deadline == NOW + timedelta(hours=3, minutes=15)  # the past one would escalate at once
