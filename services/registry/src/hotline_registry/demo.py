"""Demo data for local mode, derived from the gazetteer with stable ids: a center, a volunteer and a 24-hour rota
per sub-district; a provincial office and a children and family shelter per province, each with a duty officer."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import time

from hotline_common.auth import Role
from hotline_common.events import AgencyRecord, AgencyType, Category, CenterRecord, ResponderRecord, TargetGroup
from hotline_common.events.registry import DEMO_HOTLINE_UNIT, DEMO_SECRET_REF, AlertChannel
from hotline_common.events.rota import EscalationLevel, EscalationTarget, RotaRecord, Shift
from hotline_gazetteer import Tambon, gazetteer

NAMESPACE = uuid.UUID("5d1c1300-0000-4000-8000-000000001300")
DEMO_ACCOUNTS: tuple[tuple[str, Role], ...] = (  # and `responder`, `center`, `shelter`: linked to a unit (seed)
    ("operator", Role.operator),
    ("supervisor", Role.supervisor),
    ("admin", Role.admin),
    ("ops", Role.ops),
)
SHELTER_CATEGORIES = [Category.domestic_violence, Category.teen_pregnancy, Category.human_trafficking,
                      Category.child_youth, Category.missing_person]
SHELTER_GROUPS = [TargetGroup.child, TargetGroup.youth, TargetGroup.woman, TargetGroup.family,
                  TargetGroup.single_parent]


def stable_id(kind: str, key: str) -> uuid.UUID:
    """Stable ids, so re-seeding and every replica agree."""
    return uuid.uuid5(NAMESPACE, f"{kind}:{key}")


def center_id_for(tambon_code: str) -> uuid.UUID:
    return stable_id("center", tambon_code)


def responder_id_for(key: str) -> uuid.UUID:
    """A demo responder: a sub-district code (its center's volunteer), `agency:<id>` or `hotline-supervisor`."""
    return stable_id("responder", key)


# The sub-district of the demo `center` and `responder` accounts: แขวงพระบรมมหาราชวัง, เขตพระนคร, Bangkok.
DEMO_RESPONDER_TAMBON = "100101"


def agency_id_for(province_code: str, agency_type: AgencyType) -> uuid.UUID:
    return stable_id("agency", f"{province_code}:{agency_type.value}")


def demo_center(t: Tambon) -> CenterRecord:
    place_th = "แขวง" if t.is_bangkok else "ตำบล"
    return CenterRecord(
        center_id=center_id_for(t.code),
        name_th=f"ศูนย์ช่วยเหลือสังคม{place_th}{t.name_th}",
        name_en=f"{t.name_en} Social Assistance Center",
        tambon_code=t.code,
        amphoe_code=t.amphoe_code,
        province_code=t.province_code,
        lat=t.lat,
        lon=t.lon,
    )


def demo_agencies(seat: Tambon) -> list[AgencyRecord]:
    """A province's provincial office (พมจ., leads One Home) and its children and family shelter."""
    province_th, province_en, code = seat.province_name_th, seat.province_name_en, seat.province_code
    office = AgencyRecord(
        agency_id=agency_id_for(code, AgencyType.provincial_office), agency_type=AgencyType.provincial_office,
        name_th=f"สำนักงานพัฒนาสังคมและความมั่นคงของมนุษย์จังหวัด{province_th}",
        name_en=f"{province_en} Provincial Social Development and Human Security Office",
        province_code=code, area_province_codes=[code], lat=seat.lat, lon=seat.lon,
        categories=list(Category), target_groups=list(TargetGroup),
    )
    shelter = AgencyRecord(
        agency_id=agency_id_for(code, AgencyType.children_family_shelter),
        agency_type=AgencyType.children_family_shelter,
        name_th=f"บ้านพักเด็กและครอบครัวจังหวัด{province_th}", name_en=f"{province_en} Children and Family Shelter",
        province_code=code, area_province_codes=[code], lat=seat.lat, lon=seat.lon,
        categories=SHELTER_CATEGORIES, target_groups=SHELTER_GROUPS, capacity=30, free_places=10,
    )
    return [office, shelter]


def hotline_unit() -> AgencyRecord:
    """The 1300 hotline's supervisors, at the ministry in Bangkok: the last escalation level of every policy."""
    return AgencyRecord(
        agency_id=DEMO_HOTLINE_UNIT, agency_type=AgencyType.other,
        name_th="ศูนย์ช่วยเหลือสังคม สายด่วน 1300 (ผู้ควบคุมเวร)", name_en="1300 Social Assistance Hotline supervisors",
        province_code="10", area_province_codes=[], lat=13.7589, lon=100.5167,
        categories=list(Category), target_groups=list(TargetGroup),
    )


def demo_responder(key: str, name: str, kind: str, webhook_url: str, *, center: uuid.UUID | None = None,
                   agency: uuid.UUID | None = None) -> ResponderRecord:
    return ResponderRecord(
        responder_id=responder_id_for(key), display_name=name, kind=kind,
        center_ids=[center] if center else [], agency_ids=[agency] if agency else [],
        channels=[AlertChannel(kind="webhook", address=webhook_url, secret_ref=DEMO_SECRET_REF)],
    )


def around_the_clock(unit_kind: str, unit_id: uuid.UUID, name: str, people: list[uuid.UUID],
                     escalation: list[EscalationLevel]) -> RotaRecord:
    """Office hours and the night shift (16:30–08:30 the next day), the same people on both."""
    return RotaRecord(
        rota_id=stable_id("rota", str(unit_id)), unit_kind=unit_kind, unit_id=unit_id, name=name,
        shifts=[Shift(name="เวรกลางวัน day", start=time(8, 30), end=time(16, 30), responder_ids=people),
                Shift(name="เวรกลางคืน night", start=time(16, 30), end=time(8, 30), responder_ids=people)],
        escalation=escalation,
    )


@dataclass
class DemoDirectory:
    centers: list[CenterRecord] = field(default_factory=list)
    agencies: list[AgencyRecord] = field(default_factory=list)
    responders: list[ResponderRecord] = field(default_factory=list)
    rotas: list[RotaRecord] = field(default_factory=list)


def demo_directory(webhook_url: str) -> DemoDirectory:
    demo = DemoDirectory()
    seats: dict[str, Tambon] = {}
    for t in sorted(gazetteer().tambons, key=lambda t: t.code):
        seats.setdefault(t.province_code, t)
    for code, seat in sorted(seats.items()):
        for agency in demo_agencies(seat):
            demo.agencies.append(agency)
            officer = demo_responder(f"agency:{agency.agency_id}", f"เจ้าหน้าที่เวร {agency.name_th} (demo duty officer)",
                                     "duty_officer", webhook_url, agency=agency.agency_id)
            demo.responders.append(officer)
            demo.rotas.append(around_the_clock("agency", agency.agency_id, f"เวร {agency.name_th}",
                                               [officer.responder_id], [
                EscalationLevel(targets=[EscalationTarget(kind="on_call")], timeout_minutes=15, repeat=1),
                EscalationLevel(targets=[EscalationTarget(kind="hotline_supervisor")], timeout_minutes=30),
            ]))
        del code
    demo.agencies.append(hotline := hotline_unit())
    supervisor = demo_responder("hotline-supervisor", "ผู้ควบคุมเวร ศูนย์ช่วยเหลือสังคม สายด่วน 1300 (demo supervisor)",
                                "duty_officer", webhook_url, agency=hotline.agency_id)
    demo.responders.append(supervisor)
    demo.rotas.append(around_the_clock("agency", hotline.agency_id, "เวรผู้ควบคุม 1300", [supervisor.responder_id], []))
    for t in gazetteer().tambons:
        center = demo_center(t)
        volunteer = demo_responder(t.code, f"อพม. ประจำ{center.name_th} (demo volunteer)", "volunteer", webhook_url,
                                   center=center.center_id)
        office = agency_id_for(t.province_code, AgencyType.provincial_office)
        demo.centers.append(center)
        demo.responders.append(volunteer)
        demo.rotas.append(around_the_clock("center", center.center_id, f"เวร {center.name_th}",
                                           [volunteer.responder_id], [
            EscalationLevel(targets=[EscalationTarget(kind="on_call")], timeout_minutes=10, repeat=1),
            EscalationLevel(targets=[EscalationTarget(kind="agency", id=office)], timeout_minutes=15),
            EscalationLevel(targets=[EscalationTarget(kind="hotline_supervisor")], timeout_minutes=15),
        ]))
    return demo
