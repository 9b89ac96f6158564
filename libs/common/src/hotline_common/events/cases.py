"""Case events: reported by intake, routed (or not) by routing."""

from __future__ import annotations

import uuid
from datetime import datetime, time
from enum import StrEnum
from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from hotline_common.events.base import CaseEvent


class Channel(StrEnum):
    hotline = "hotline"
    line = "line"
    walk_in = "walk_in"


class Category(StrEnum):
    """The problem categories of the 1300 service (DESIGN.md §4)."""

    domestic_violence = "domestic_violence"
    teen_pregnancy = "teen_pregnancy"
    human_trafficking = "human_trafficking"
    drugs = "drugs"
    homeless = "homeless"
    begging = "begging"
    child_youth = "child_youth"
    missing_person = "missing_person"
    elderly = "elderly"
    disability = "disability"
    livelihood = "livelihood"
    stateless = "stateless"
    other = "other"


class TargetGroup(StrEnum):
    child = "child"
    youth = "youth"
    woman = "woman"
    family = "family"
    single_parent = "single_parent"
    elderly = "elderly"
    disabled = "disabled"
    homeless = "homeless"
    vulnerable_household = "vulnerable_household"
    general = "general"


class Priority(StrEnum):
    """P1 danger now … P4 advice only; acknowledgement deadlines are settings."""

    P1 = "P1"
    P2 = "P2"
    P3 = "P3"
    P4 = "P4"


class Location(BaseModel):
    """Where the person is, as precisely as the channel knew it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    tambon_code: str | None = Field(default=None, pattern=r"^\d{6}$")
    lat: float | None = None
    lon: float | None = None
    text: str | None = Field(default=None, max_length=300, description="a free-text Thai address, e.g. "
                             "'ต.สันกลาง อ.พาน จ.เชียงราย'; routing resolves it when nothing more precise is known")


class SafeHours(BaseModel):
    """A window (Asia/Bangkok time) when calling the person is safe, e.g. 09:00–15:00 while the abuser is at work.
    An end before the start runs past midnight."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    start: time
    end: time


class Safety(BaseModel):
    """How the person may be contacted without putting them at risk. It travels with the case to every responder,
    who sees it before acting. It names no one."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    no_callback: bool = Field(default=False, description="do not call back (ห้ามโทรกลับ)")
    safe_hours: SafeHours | None = Field(default=None, description="call only in this window (โทรได้เฉพาะเวลา)")
    line_only: bool = Field(default=False, description="contact by LINE only (ติดต่อทาง LINE เท่านั้น)")
    woman_officer: bool = Field(default=False, description="a woman officer, please (ขอเจ้าหน้าที่หญิง)")
    silent: bool = Field(default=False, description="a silent SOS: the person could not speak or write freely "
                         "(แจ้งเหตุเงียบ)")


class CaseReported(CaseEvent):
    """A case accepted by intake. Holds no caller name, phone or national ID: those stay encrypted in intake, and
    national IDs typed into the description are masked."""

    ce_type: ClassVar[str] = "th.go.msdhs.hotline.case.reported.v1"

    channel: Channel
    category: Category
    target_group: TargetGroup
    urgency: Priority | None = None
    description: str
    location: Location
    needs_place: bool = Field(default=False, description="the person needs a place to stay (a shelter referral)")
    has_callback: bool = False
    safety: Safety = Field(default_factory=Safety, description="how to contact the person safely")
    caller_key: str | None = Field(default=None, pattern=r"^[0-9a-f]{64}$", description="keyed hash (HMAC-SHA256, "
                                   "PII_LOOKUP_KEY) of the caller's phone: links a repeat caller's cases, names no one")
    callback_ref: str | None = Field(default=None, description="where the caller's number is kept, for whoever is "
                                     "allowed to call back: intake's `GET /v1/cases/{id}/contact` (audited)")


CenterRule = Literal["own_tambon", "nearest_same_amphoe", "nearest_same_province", "nearest_any", "one_home",
                     # events published before the district/province preference carried this one rule
                     "nearest_active"]
LocationSource = Literal["tambon_code", "coordinates", "text"]


class CenterCandidate(BaseModel):
    """A center routing considered, nearest first."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    center_id: uuid.UUID
    name_th: str
    tambon_code: str
    distance_km: float


class RoutingExplanation(BaseModel):
    """Why the case went where it went, for supervisors and for the case timeline."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    location_source: LocationSource
    location_confidence: float = Field(ge=0, le=1, description="1 for a code or a position; resolve's for text")
    candidates: list[CenterCandidate] = Field(default_factory=list)
    agency_rule: str | None = Field(default=None, description="id of the agency rule that matched")
    agency_note: str = ""
    priority_reasons: list[str] = Field(default_factory=list)


class CaseRouted(CaseEvent):
    """Routing's decision: the center and agency (and why) that must act on the case, and by when."""

    ce_type: ClassVar[str] = "th.go.msdhs.hotline.case.routed.v1"

    category: Category
    target_group: TargetGroup
    priority: Priority
    tambon_code: str
    # None when the case goes to the provincial One Home team after too many centers declined.
    center_id: uuid.UUID | None
    center_name_th: str | None
    center_tambon_code: str | None
    distance_km: float | None
    rule: CenterRule
    reported_event_id: uuid.UUID
    agency_id: uuid.UUID | None = None
    agency_type: str | None = None
    agency_name_th: str | None = None
    ack_deadline: datetime | None = Field(default=None, description="acknowledge by then, or escalate")
    attempt: int = Field(default=1, ge=1, description="1 for the first routing, +1 for each later decision (a "
                         "re-routing or a re-prioritisation)")
    tried_center_ids: list[uuid.UUID] = Field(default_factory=list, description="centers tried before this one")
    explanation: RoutingExplanation | None = None
    safety: Safety = Field(default_factory=Safety, description="the reported case's safety preferences, for "
                           "every responder alerted")
    reprioritised_from: Priority | None = Field(
        default=None, description="set when this decision only raises the priority of the case's current routing "
        "(same center and agency, an earlier deadline) after an urgency was raised; None for a routing to a unit")


UrgencyReason = Literal["danger_words", "operator"]


class CaseUrgencyRaised(CaseEvent):
    """Someone made an open case more urgent after it was reported: the person wrote a danger word to the LINE
    account, or an operator raised it (a follow-up call). Routing re-prioritises the case's current routing; the
    priority is never lowered. Carries no words of the person's."""

    ce_type: ClassVar[str] = "th.go.msdhs.hotline.case.urgency_raised.v1"

    urgency: Priority
    reason_code: UrgencyReason
    channel: Channel = Field(description="where the new urgency came from")
    raised_by: str = Field(default="", max_length=200, description="the operator's account; '' for the person "
                           "themselves (LINE)")


class TambonCandidate(BaseModel):
    """A sub-district a free-text address may mean."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    tambon_code: str
    path_th: str
    score: float


UnroutableReason = Literal["no_location", "unknown_tambon", "outside_thailand", "unresolved_text", "ambiguous_text",
                           "no_active_center"]


class CaseUnroutable(CaseEvent):
    """A case routing could not place; a supervisor decides."""

    ce_type: ClassVar[str] = "th.go.msdhs.hotline.case.unroutable.v1"

    reason: str
    reported_event_id: uuid.UUID
    reason_code: UnroutableReason | None = None
    candidates: list[TambonCandidate] = Field(default_factory=list, description="for a supervisor to choose from")


ActionVia = Literal["page", "line", "api"]  # the responder page, a LINE postback, the HTTP API


class CaseDeclined(CaseEvent):
    """A responder declined the case for their center: routing sends it to another center."""

    ce_type: ClassVar[str] = "th.go.msdhs.hotline.case.declined.v1"

    center_id: uuid.UUID
    responder_id: uuid.UUID | None = None
    reason: str = Field(default="", max_length=500, description="why, in the responder's words (no caller data)")
    via: ActionVia | None = None


class CaseEscalated(CaseEvent):
    """Nobody acknowledged in time: notify moved up the escalation policy (and may ask routing for another center)."""

    ce_type: ClassVar[str] = "th.go.msdhs.hotline.case.escalated.v1"

    level: int = Field(ge=1)
    center_id: uuid.UUID | None = None
    reroute: bool = Field(default=False, description="ask routing for the next center")
    reason: str = ""
    step: int = Field(default=0, ge=0, description="the escalation step (re-alerts count), 1 = first after the "
                                                   "acknowledgement deadline")
    targets: list[str] = Field(default_factory=list, description="the level's target kinds, e.g. on_call, agency")
    alerted: int = Field(default=0, ge=0, description="responders alerted at this step")
    final: bool = Field(default=False, description="the policy is exhausted: nobody left to escalate to")


class CaseAcknowledged(CaseEvent):
    """A responder took the case: every pending alert and escalation about it stops."""

    ce_type: ClassVar[str] = "th.go.msdhs.hotline.case.acknowledged.v1"

    responder_id: uuid.UUID
    center_id: uuid.UUID | None = None
    agency_id: uuid.UUID | None = None
    routed_event_id: uuid.UUID
    via: ActionVia
    level: int = Field(default=1, ge=1, description="the escalation level reached when acknowledged")
    seconds_to_acknowledge: float = Field(ge=0, description="from the routing to the acknowledgement")
    visit_deadline: datetime | None = Field(default=None, description="by when the case should be resolved")


class ResolveOutcome(StrEnum):
    helped_on_site = "helped_on_site"  # ช่วยเหลือในพื้นที่แล้ว
    referred_to_agency = "referred_to_agency"  # ส่งต่อหน่วยงาน พม.
    referred_to_police_or_hospital = "referred_to_police_or_hospital"  # ส่งต่อตำรวจ / โรงพยาบาล
    sheltered = "sheltered"  # ส่งเข้าบ้านพัก / สถานคุ้มครอง
    advice_given = "advice_given"  # ให้คำปรึกษาแล้ว
    no_contact = "no_contact"  # ติดต่อผู้ประสบปัญหาไม่ได้
    not_needed = "not_needed"  # ไม่ต้องการความช่วยเหลือ / แจ้งผิด
    other = "other"


class CaseResolved(CaseEvent):
    """The responder closed the case with an outcome (the notes stay with the case, not in the event)."""

    ce_type: ClassVar[str] = "th.go.msdhs.hotline.case.resolved.v1"

    responder_id: uuid.UUID
    center_id: uuid.UUID | None = None
    outcome: ResolveOutcome
    via: ActionVia
