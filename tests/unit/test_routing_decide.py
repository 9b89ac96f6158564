"""Routing decisions are pure functions of (case, index, gazetteer)."""

from __future__ import annotations

import uuid

from hotline_common.events import CaseReported, CenterRecord, Location, Priority
from hotline_gazetteer import gazetteer
from hotline_routing.decide import Routed, Unroutable, decide
from hotline_routing.index import CenterIndex


def center(code: str, status: str = "active") -> CenterRecord:
    t = gazetteer().tambon(code)
    assert t is not None
    return CenterRecord(center_id=uuid.uuid4(), name_th=f"ศูนย์ช่วยเหลือสังคมตำบล{t.name_th}", name_en=t.name_en,
                        tambon_code=code, amphoe_code=t.amphoe_code, province_code=t.province_code, lat=t.lat,
                        lon=t.lon, status=status)  # type: ignore[arg-type]


def case(**location: object) -> CaseReported:
    return CaseReported(case_id=uuid.uuid4(), case_number="1300-2569-000001", channel="hotline",
                        category="domestic_violence", target_group="woman", description="ถูกทำร้าย",
                        location=Location(**location))  # type: ignore[arg-type]


def index_of(*centers: CenterRecord) -> CenterIndex:
    index = CenterIndex()
    for c in centers:
        index.apply(str(c.center_id), c)
    return index


def test_a_case_goes_to_the_active_center_of_its_own_sub_district() -> None:
    own, neighbour = center("570511"), center("570503")
    decision = decide(case(tambon_code="570511"), index_of(neighbour, own), gazetteer())
    assert isinstance(decision, Routed)
    assert decision.center == own and decision.rule == "own_tambon" and decision.distance_km == 0


def test_a_closed_center_is_passed_over_for_the_nearest_active_one() -> None:
    closed, neighbour, far = center("570511", "closed"), center("570503"), center("100101")
    decision = decide(case(tambon_code="570511"), index_of(closed, neighbour, far), gazetteer())
    assert isinstance(decision, Routed)
    assert decision.center == neighbour and decision.rule == "nearest_active"
    assert 5 < decision.distance_km < 20  # สันกลาง → ธารทอง, both in อ.พาน


def test_closing_a_center_in_the_index_stops_it_receiving_cases() -> None:
    own = center("570511")
    index = index_of(own)
    index.apply(str(own.center_id), own.model_copy(update={"status": "closed"}))
    assert isinstance(decide(case(tambon_code="570511"), index, gazetteer()), Unroutable)
    index.apply(str(own.center_id), None)  # tombstone
    assert index.centers == {}


def test_a_position_resolves_to_the_sub_district_whose_centroid_is_nearest() -> None:
    lampi = gazetteer().tambon("820805")
    assert lampi is not None
    decision = decide(case(lat=lampi.lat + 0.002, lon=lampi.lon), index_of(center("820805")), gazetteer())
    assert isinstance(decision, Routed) and decision.tambon_code == "820805"


def test_a_position_outside_thailand_is_unroutable_with_its_reason() -> None:
    decision = decide(case(lat=1.29, lon=103.85), index_of(center("570511")), gazetteer())  # Singapore
    assert isinstance(decision, Unroutable) and "not within" in decision.reason


def test_the_operator_urgency_wins_and_the_category_sets_the_default() -> None:
    index = index_of(center("570511"))
    urgent = case(tambon_code="570511").model_copy(update={"urgency": Priority.P1})
    assert decide(urgent, index, gazetteer()).priority == Priority.P1  # type: ignore[union-attr]
    assert decide(case(tambon_code="570511"), index, gazetteer()).priority == Priority.P2  # type: ignore[union-attr]
