"""Where a case goes, to whom, and how urgently: pure functions of (case, indexes, rules, gazetteer, now)."""

from __future__ import annotations

import uuid
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from hotline_common.events import (
    CaseReported,
    CaseRouted,
    Category,
    CenterCandidate,
    CenterRecord,
    Priority,
    RoutingExplanation,
    Safety,
    TargetGroup,
)
from hotline_common.events.cases import CenterRule, UnroutableReason
from hotline_common.events.registry import AgencyType
from hotline_gazetteer import Gazetteer, haversine_km
from hotline_routing.agencies import AgencyChoice, AgencyIndex, choose_agency
from hotline_routing.index import CenterIndex
from hotline_routing.locate import Located, NotLocated, locate
from hotline_routing.priority import PriorityAssessment, assess_priority
from hotline_routing.rules import AgencyRules

LISTED_CANDIDATES = 3


@dataclass(frozen=True)
class Policy:
    """What settings decide: when to give up on text, when to hand over to One Home, how long to acknowledge."""

    min_text_confidence: float
    max_center_tries: int
    ack_windows: dict[Priority, timedelta | None]


@dataclass(frozen=True)
class CenterChoice:
    center: CenterRecord | None  # None: the provincial One Home team (the agency) takes the case
    rule: CenterRule
    distance_km: float | None
    considered: list[tuple[CenterRecord, float]] = field(default_factory=list)  # nearest first

    @property
    def candidates(self) -> list[CenterCandidate]:
        # Built only when the decision is published: a pydantic model per candidate costs more than the choice.
        return [CenterCandidate(center_id=c.center_id, name_th=c.name_th, tambon_code=c.tambon_code,
                                distance_km=round(d, 3)) for c, d in self.considered]


@dataclass(frozen=True)
class Routed:
    category: Category
    target_group: TargetGroup
    located: Located
    choice: CenterChoice
    agency: AgencyChoice | None
    agency_rule: str
    priority: PriorityAssessment
    ack_deadline: datetime | None

    @property
    def center(self) -> CenterRecord | None:
        return self.choice.center

    def explanation(self) -> RoutingExplanation:
        return RoutingExplanation(
            location_source=self.located.source, location_confidence=self.located.confidence,
            candidates=self.choice.candidates, agency_rule=self.agency_rule,
            agency_note=self.agency.explanation if self.agency else "no agency of this kind in the registry",
            priority_reasons=list(self.priority.reasons))


@dataclass(frozen=True)
class Unroutable:
    reason_code: UnroutableReason
    reason: str
    not_located: NotLocated | None = None


def choose_center(index: CenterIndex, located: Located, *, tried: Collection[uuid.UUID] = (),
                  max_tries: int) -> CenterChoice | None:
    """The sub-district's own active center; else the nearest active one in the district, then the province,
    then anywhere — skipping centers already tried. After `max_tries` centers: the One Home team."""
    if len(tried) >= max_tries:
        return CenterChoice(None, "one_home", None)
    lat, lon, tambon = located.lat, located.lon, located.tambon
    own = sorted(((c, haversine_km(lat, lon, c.lat, c.lon)) for c in index.active_in_tambon(tambon.code)
                  if c.center_id not in tried), key=lambda cd: (cd[1], str(cd[0].center_id)))
    if own:
        return CenterChoice(own[0][0], "own_tambon", round(own[0][1], 3), own[:LISTED_CANDIDATES])
    stages: list[tuple[CenterRule, dict[str, str]]] = [
        ("nearest_same_amphoe", {"amphoe_code": tambon.amphoe_code}),
        ("nearest_same_province", {"province_code": tambon.province_code}),
        ("nearest_any", {}),
    ]
    for rule, scope in stages:
        found = index.nearest(lat, lon, exclude=tried, k=LISTED_CANDIDATES, **scope)
        if found:
            return CenterChoice(found[0][0], rule, round(found[0][1], 3), found)
    return None


def decide(case: CaseReported, *, centers: CenterIndex, agencies: AgencyIndex, rules: AgencyRules,
           places: Gazetteer, policy: Policy, now: datetime, tried: Collection[uuid.UUID] = ()) -> Routed | Unroutable:
    located = locate(case.location, places, min_text_confidence=policy.min_text_confidence)
    if isinstance(located, NotLocated):
        return Unroutable(located.reason_code, located.reason, located)
    choice = choose_center(centers, located, tried=tried, max_tries=policy.max_center_tries)
    priority = assess_priority(case.urgency, case.category, case.target_group, case.description)
    agency_type, agency_rule = rules.agency_type_for(case.category, case.target_group, located.tambon.province_code)
    if choice is not None and choice.rule == "one_home":
        agency_type = AgencyType.provincial_office  # One Home is led by the provincial office
    agency = choose_agency(agencies, agency_type, province_code=located.tambon.province_code, lat=located.lat,
                           lon=located.lon, needs_place=case.needs_place)
    if choice is None or (choice.center is None and agency is None):
        return Unroutable("no_active_center", "no active center (nor a provincial office) in the registry")
    window = policy.ack_windows[priority.priority]
    return Routed(case.category, case.target_group, located, choice, agency, agency_rule, priority,
                  now + window if window else None)


def routed_event(case_id: uuid.UUID, case_number: str, routed: Routed, *, reported_event_id: uuid.UUID,
                 attempt: int = 1, tried: Collection[uuid.UUID] = (), safety: Safety | None = None) -> CaseRouted:
    """The decision as notify and intake read it: no caller data, no description — what, where, who, by when."""
    center, agency = routed.center, routed.agency
    return CaseRouted(
        case_id=case_id, case_number=case_number, category=routed.category, target_group=routed.target_group,
        priority=routed.priority.priority, tambon_code=routed.located.tambon.code,
        center_id=center.center_id if center else None, center_name_th=center.name_th if center else None,
        center_tambon_code=center.tambon_code if center else None, distance_km=routed.choice.distance_km,
        rule=routed.choice.rule, reported_event_id=reported_event_id,
        agency_id=agency.agency.agency_id if agency else None,
        agency_type=agency.agency.agency_type.value if agency else None,
        agency_name_th=agency.agency.name_th if agency else None, ack_deadline=routed.ack_deadline,
        attempt=attempt, tried_center_ids=list(tried), explanation=routed.explanation(),
        safety=safety or Safety(),
    )


def reprioritised(current: CaseRouted, priority: Priority, reasons: list[str], *, window: timedelta | None,
                  attempt: int, now: datetime) -> CaseRouted:
    """The current routing again at a higher priority: same center, agency and explanation (with the reasons that
    now hold), a new event, and the new priority's deadline from now — unless the current one is still ahead and
    sooner. A deadline already past is not kept: that would escalate the moment the alerts go out."""
    deadline = now + window if window is not None else None
    if current.ack_deadline is not None and current.ack_deadline > now and (
            deadline is None or current.ack_deadline < deadline):
        deadline = current.ack_deadline
    explanation = (current.explanation.model_copy(update={"priority_reasons": list(reasons)})
                   if current.explanation is not None else None)
    return CaseRouted.model_validate({
        **current.model_dump(exclude={"event_id", "occurred_at", "explanation"}), "occurred_at": now,
        "priority": priority, "ack_deadline": deadline, "attempt": attempt, "reprioritised_from": current.priority,
        "explanation": explanation.model_dump() if explanation is not None else None})
