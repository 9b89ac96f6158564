"""Which MSDHS agency takes a referral: the in-memory agency index (fed by `registry.agency.v1`) and the choice."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from typing import Literal

from hotline_common.events import AgencyRecord, AgencyType
from hotline_common.events.registry import RESIDENTIAL_AGENCIES
from hotline_gazetteer import gazetteer, haversine_km

AgencyChoiceRule = Literal[
    "covers_province",              # an active agency of the type covers the person's province
    "provincial_office_fallback",   # none does: the province's provincial office takes it
    "shelter_with_free_places",     # a place is needed and a covering agency reports free places
    "shelter_places_unknown",       # a place is needed; no covering agency has free places, one does not report
    "shelter_in_other_province",    # every covering agency is full: the nearest elsewhere with free places
    "shelter_full_no_alternative",  # full everywhere (or unreported elsewhere): the covering one, full
]

TYPE_NAMES = {
    AgencyType.provincial_office: "provincial social development office",
    AgencyType.children_family_shelter: "children and family shelter",
    AgencyType.destitute_protection_center: "protection centre for the destitute",
    AgencyType.older_persons_center: "older persons' welfare centre",
    AgencyType.disability_service_center: "disability service centre",
    AgencyType.self_help_settlement: "self-help settlement",
    AgencyType.other: "MSDHS agency",
}


@dataclass(frozen=True)
class AgencyChoice:
    agency: AgencyRecord
    rule: AgencyChoiceRule
    distance_km: float  # from the person
    why: Callable[[], str] = field(repr=False, compare=False)

    @property
    def explanation(self) -> str:
        """English, one sentence, for the supervisor's screen and the audit trail. Worded only when the decision is
        published: the sentence cost as much as the choice itself."""
        return self.why()


class AgencyIndex:
    """Active agencies by (type, province covered); an agency covers its own province and its `area_province_codes`."""

    def __init__(self) -> None:
        self.agencies: dict[str, AgencyRecord] = {}
        self._covering: dict[tuple[AgencyType, str], dict[str, AgencyRecord]] = {}
        self._active: dict[AgencyType, dict[str, AgencyRecord]] = {}

    def apply(self, key: str, agency: AgencyRecord | None) -> None:
        """One registry record (None = deleted); a closed agency stops receiving referrals at once."""
        old = self.agencies.pop(key, None)
        if old is not None:
            for province in _covered(old):
                self._covering.get((old.agency_type, province), {}).pop(key, None)
            self._active.get(old.agency_type, {}).pop(key, None)
        if agency is None:
            return
        self.agencies[key] = agency
        if agency.status == "active":
            for province in _covered(agency):
                self._covering.setdefault((agency.agency_type, province), {})[key] = agency
            self._active.setdefault(agency.agency_type, {})[key] = agency

    def covering(self, agency_type: AgencyType, province_code: str) -> list[AgencyRecord]:
        """Active agencies of the type that cover the province."""
        return list(self._covering.get((agency_type, province_code), {}).values())

    def active(self, agency_type: AgencyType) -> list[AgencyRecord]:
        return list(self._active.get(agency_type, {}).values())


def choose_agency(index: AgencyIndex, agency_type: AgencyType, *, province_code: str, lat: float, lon: float,
                  needs_place: bool) -> AgencyChoice | None:
    """The agency of `agency_type` that should take the case of a person at (lat, lon) in `province_code`.

    Covering agencies come first (several: the nearest). With none, the province's provincial office takes the
    case (it leads the One Home team and arranges the rest); None only if even that is missing.

    When a place is needed at a residential agency, free places decide among covering agencies: free > 0 first,
    then unreported (`free_places` None — not confirmed, but the own province's agency is still asked before the
    person is sent away, since it is the one legally responsible and may simply not have reported), then full ones.
    If every covering agency is full, the nearest active agency of the type elsewhere with free places — the issue
    asks for a neighbouring province; with no province adjacency data, great-circle distance from the person is the
    approximation (the nearest is almost always in a neighbouring province, but a border or a gulf can mislead).
    Agencies elsewhere that do not report places are not sent to. Ties: (distance, agency id).
    """
    covering = _by_distance(index.covering(agency_type, province_code), lat, lon)
    def where() -> str:
        return _province_name(province_code)

    if not covering:
        if agency_type is AgencyType.provincial_office:
            return None
        offices = _by_distance(index.covering(AgencyType.provincial_office, province_code), lat, lon)
        if not offices:
            return None
        office, d = offices[0]
        return AgencyChoice(office, "provincial_office_fallback", round(d, 3),
                            lambda: f"No active {TYPE_NAMES[agency_type]} covers {where()}; "
                                    f"{_name(office)} takes the case ({d:.1f} km)")
    if not (needs_place and agency_type in RESIDENTIAL_AGENCIES):
        agency, d = covering[0]
        return AgencyChoice(agency, "covers_province", round(d, 3),
                            lambda: f"{_name(agency)} covers {where()} ({d:.1f} km)")

    with_places = [(a, d) for a, d in covering if a.free_places]
    if with_places:
        agency, d = with_places[0]
        return AgencyChoice(agency, "shelter_with_free_places", round(d, 3),
                            lambda: f"{_name(agency)} covers {where()} and has {_places(agency)} places ({d:.1f} km)")
    unknown = [(a, d) for a, d in covering if a.free_places is None]
    if unknown:
        agency, d = unknown[0]
        return AgencyChoice(agency, "shelter_places_unknown", round(d, 3),
                            lambda: f"{_name(agency)} covers {where()} but does not report free places: ask it "
                                    f"first ({d:.1f} km)")
    full, d_full = covering[0]
    others = f" and {len(covering) - 1} other covering one(s) are" if len(covering) > 1 else " is"
    covered = {a.agency_id for a, _ in covering}
    elsewhere = _by_distance([a for a in index.active(agency_type) if a.agency_id not in covered and a.free_places],
                             lat, lon)
    if elsewhere:
        agency, d = elsewhere[0]
        return AgencyChoice(agency, "shelter_in_other_province", round(d, 3),
                            lambda: f"{_name(full)}{others} full ({_places(full)}); nearest with free places: "
                                    f"{_name(agency)}, {d:.1f} km ({_places(agency)})")
    return AgencyChoice(full, "shelter_full_no_alternative", round(d_full, 3),
                        lambda: f"{_name(full)}{others} full ({_places(full)}) and no other active "
                                f"{TYPE_NAMES[agency_type]} reports free places: it takes the case ({d_full:.1f} km)")


def _covered(agency: AgencyRecord) -> set[str]:
    return {agency.province_code, *agency.area_province_codes}


def _by_distance(agencies: list[AgencyRecord], lat: float, lon: float) -> list[tuple[AgencyRecord, float]]:
    ranked = [(a, haversine_km(lat, lon, a.lat, a.lon)) for a in agencies]
    ranked.sort(key=lambda ad: (ad[1], str(ad[0].agency_id)))
    return ranked


@cache
def _province_names() -> dict[str, str]:
    return {p.code: p.name_en for p in gazetteer().provinces_list()}


def _province_name(code: str) -> str:
    return _province_names().get(code, f"province {code}")


def _name(agency: AgencyRecord) -> str:
    """Chiang Rai's children and family shelter: short, and the supervisor sees the Thai name beside it."""
    return f"{_province_name(agency.province_code)}'s {TYPE_NAMES[agency.agency_type]}"


def _places(agency: AgencyRecord) -> str:
    free = agency.free_places if agency.free_places is not None else "?"
    return f"{free} free of {agency.capacity}" if agency.capacity is not None else f"{free} free"
