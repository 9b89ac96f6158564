"""Where a case goes and how urgent it is: pure functions of (case, index, gazetteer)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from hotline_common.events import CaseReported, Category, CenterRecord, Priority
from hotline_gazetteer import Gazetteer, haversine_km
from hotline_routing.index import CenterIndex

# Until the routing-rules issue: what a category alone says when the operator gave no urgency.
URGENT_CATEGORIES = {Category.domestic_violence, Category.human_trafficking, Category.child_youth,
                     Category.missing_person}


@dataclass(frozen=True)
class Routed:
    center: CenterRecord
    tambon_code: str
    distance_km: float
    rule: Literal["own_tambon", "nearest_active"]
    priority: Priority


@dataclass(frozen=True)
class Unroutable:
    reason: str


def priority_of(case: CaseReported) -> Priority:
    if case.urgency is not None:
        return case.urgency
    return Priority.P2 if case.category in URGENT_CATEGORIES else Priority.P3


def decide(case: CaseReported, index: CenterIndex, places: Gazetteer) -> Routed | Unroutable:
    loc = case.location
    if loc.tambon_code:
        tambon = places.tambon(loc.tambon_code)
        if tambon is None:
            return Unroutable(f"unknown tambon code {loc.tambon_code}")
        lat, lon = (loc.lat, loc.lon) if loc.lat is not None and loc.lon is not None else (tambon.lat, tambon.lon)
    elif loc.lat is not None and loc.lon is not None:
        found = places.nearest(loc.lat, loc.lon)
        if found is None:
            return Unroutable(f"position {loc.lat}, {loc.lon} is not within any Thai sub-district's range")
        tambon, lat, lon = found[0], loc.lat, loc.lon
    else:
        return Unroutable("the case has neither a sub-district nor a position")

    own = index.active_in_tambon(tambon.code)
    if own:
        center = min(own, key=lambda c: haversine_km(lat, lon, c.lat, c.lon))
        return Routed(center, tambon.code, round(haversine_km(lat, lon, center.lat, center.lon), 3), "own_tambon",
                      priority_of(case))
    nearest = index.nearest_active(lat, lon)
    if nearest is None:
        return Unroutable("no active center in the registry")
    return Routed(nearest[0], tambon.code, round(nearest[1], 3), "nearest_active", priority_of(case))
