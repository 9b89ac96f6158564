"""Where is the person: a sub-district from a code, a position or free Thai text — or why it cannot be known."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache

import numpy as np

from hotline_common.events import Location, TambonCandidate
from hotline_common.events.cases import LocationSource, UnroutableReason
from hotline_gazetteer import Gazetteer, Tambon
from hotline_gazetteer.places import EARTH_RADIUS_KM, MAX_KM_FROM_CENTROID

# However sparse a province's sub-districts, a point farther than this from every centroid is not in it.
MIN_RANGE_KM = 5.0
RANGE_FACTOR = 1.5


@dataclass(frozen=True)
class Located:
    tambon: Tambon
    lat: float
    lon: float
    source: LocationSource
    confidence: float = 1.0


@dataclass(frozen=True)
class NotLocated:
    reason_code: UnroutableReason
    reason: str
    candidates: list[TambonCandidate] = field(default_factory=list)


@cache
def plausible_range_km(places: Gazetteer) -> dict[str, float]:
    """Per province: how far from its nearest sub-district centroid a point can be and still be in it.

    1.5 × the largest gap between a centroid and its nearest neighbour in the province (sparse mountain provinces
    get more room than dense Bangkok), within [5, 40] km. Without boundary polygons a point just across a border
    river can still pass; a point at sea off a dense coast does not.
    """
    ranges: dict[str, float] = {}
    by_province: dict[str, list[Tambon]] = {}
    for t in places.tambons:
        by_province.setdefault(t.province_code, []).append(t)
    for code, tambons in by_province.items():
        lat = np.radians([t.lat for t in tambons])
        lon = np.radians([t.lon for t in tambons])
        dlat = lat[:, None] - lat[None, :]
        dlon = lon[:, None] - lon[None, :]
        a = np.sin(dlat / 2) ** 2 + np.cos(lat[:, None]) * np.cos(lat[None, :]) * np.sin(dlon / 2) ** 2
        dist = 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(a))
        np.fill_diagonal(dist, np.inf)
        gap = float(dist.min(axis=1).max()) if len(tambons) > 1 else MAX_KM_FROM_CENTROID
        ranges[code] = min(MAX_KM_FROM_CENTROID, max(MIN_RANGE_KM, RANGE_FACTOR * gap))
    return ranges


def locate(location: Location, places: Gazetteer, *, min_text_confidence: float) -> Located | NotLocated:
    """The most precise thing the channel gave wins: a code, then a position, then text."""
    if location.tambon_code:
        tambon = places.tambon(location.tambon_code)
        if tambon is None:
            return NotLocated("unknown_tambon", f"unknown sub-district code {location.tambon_code}")
        if location.lat is not None and location.lon is not None:
            return Located(tambon, location.lat, location.lon, "tambon_code")
        return Located(tambon, tambon.lat, tambon.lon, "tambon_code")
    if location.lat is not None and location.lon is not None:
        found = places.nearest(location.lat, location.lon)
        if found is None or found[1] > plausible_range_km(places)[found[0].province_code]:
            return NotLocated("outside_thailand", f"position {location.lat:.5f}, {location.lon:.5f} is not "
                              "within any Thai province's range of a sub-district")
        return Located(found[0], location.lat, location.lon, "coordinates")
    if location.text:
        return _from_text(location.text, places, min_text_confidence)
    return NotLocated("no_location", "the case has no sub-district, position or address")


def _from_text(text: str, places: Gazetteer, min_confidence: float) -> Located | NotLocated:
    resolution = places.resolve(text)
    candidates = [TambonCandidate(tambon_code=c.tambon.code, path_th=c.tambon.path_th(), score=round(c.score, 3))
                  for c in resolution.candidates]
    if resolution.tambon is not None and resolution.confidence >= min_confidence:
        t = resolution.tambon
        return Located(t, t.lat, t.lon, "text", round(resolution.confidence, 3))
    if candidates:
        return NotLocated("ambiguous_text", f"the address may mean {len(candidates)} sub-districts "
                          f"(best confidence {resolution.confidence:.2f})", candidates)
    return NotLocated("unresolved_text", "no sub-district matches the address")
