"""Place search for operators' typeahead: Thai or English, any order, prefixes, typos, markers, codes."""

from __future__ import annotations

import heapq
from dataclasses import asdict, dataclass
from typing import Any

from hotline_gazetteer.index import KIND_RANK, Place, PlaceIndex, PlaceKind
from hotline_gazetteer.spans import Span, read

# Children of a place the query names outright are listed after it, scored this fraction of their parent.
CHILD_FACTOR = 0.8
STRONG = 90.0
POSTAL_WEIGHT = 4.0  # a postal code weighs as much as a four-letter word


@dataclass(frozen=True, slots=True)
class PlaceHit:
    """One search result; `score` is 0..100 (100 = every word of the query matched a name exactly)."""

    kind: PlaceKind
    code: str
    name_th: str
    name_en: str
    path_th: str  # ต.สันกลาง › อ.พาน › จ.เชียงราย
    path_en: str  # San Klang › Phan › Chiang Rai
    score: float
    province_code: str
    amphoe_code: str | None
    postal_codes: tuple[str, ...]
    lat: float
    lon: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _hit(index: PlaceIndex, place: Place, score: float) -> PlaceHit:
    obj = place.obj
    province = index.places[place.province].code if place.province >= 0 else place.code
    amphoe = index.places[place.amphoe].code if place.amphoe >= 0 else (place.code if place.kind == "amphoe" else None)
    return PlaceHit(kind=place.kind, code=place.code, name_th=place.name_th, name_en=place.name_en,
                    path_th=place.path_th(), path_en=place.path_en(), score=round(score, 1),
                    province_code=province, amphoe_code=amphoe, postal_codes=tuple(sorted(place.postal_codes)),
                    lat=obj.lat, lon=obj.lon)


def _options(spans: list[Span]) -> dict[int, list[tuple[float, int, Span]]]:
    """Place id → the spans that name it, as (similarity × weight, mask, span); a postal code names its tambons."""
    options: dict[int, list[tuple[float, int, Span]]] = {}
    for span in spans:
        mask = span.mask
        for place, sim in span.matches.items():
            options.setdefault(place, []).append((sim * span.weight, mask, span))
    return options


def _best_free(options: list[tuple[float, int, Span]] | None, used: int) -> tuple[float, int]:
    best, mask = 0.0, 0
    for value, m, _ in options or ():
        if value > best and not m & used:
            best, mask = value, m
    return best, mask


def _fit(place: Place, options: dict[int, list[tuple[float, int, Span]]], postal: list[tuple[str, int]]) -> float:
    """How much of the query (similarity × length) `place` and its parents explain, in the best reading: its own
    name takes each span that suits it in turn, then its amphoe and province the best spans left, then postal codes.
    """
    best = 0.0
    for own, own_mask, _ in options.get(place.id, ()):
        amphoe, m = _best_free(options.get(place.amphoe), own_mask) if place.amphoe >= 0 else (0.0, 0)
        used = own_mask | m
        province, m = _best_free(options.get(place.province), used) if place.province >= 0 else (0.0, 0)
        used |= m
        total = own + amphoe + province
        for code, m in postal:
            if code in place.postal_codes and not m & used:
                total, used = total + POSTAL_WEIGHT, used | m
        best = max(best, total)
    return best


def search(index: PlaceIndex, query: str, limit: int = 10) -> list[PlaceHit]:
    """Places whose names the query's words match, best first.

    Each word (or run of words) of the query is read as the name of the place itself or of its amphoe or province,
    whichever fits ("พาน สันกลาง", "ต.สันกลาง อ.พาน", "san klang phan", "chiang rai muang"). The score is the share
    of the query, weighted by length, that the place and its parents explain, times how well each part matched:
    exact 1, without tone marks or in another romanisation 0.95, a prefix 0.8–0.9 by how much of the name is typed
    (+0.04 for a province, +0.02 for a district), a typo 0.9 × rapidfuzz ratio. A 5-digit postal code lists the
    tambons that have it, a 2/4/6-digit code names a province, amphoe or tambon. When the best hit is a province
    or amphoe named outright, its districts or sub-districts follow it.
    """
    limit = max(1, limit)
    units = index.units(query, "search")
    if not units:
        return []
    spans = read(index, units, "search")
    total = sum(s.weight for s in spans if s.end - s.start == 1)
    options = _options(spans)
    postal = [(s.key, s.mask) for s in spans if s.script == "num" and len(s.key) == 5]
    scores = {p: 100 * _fit(index.places[p], options, postal) / total for p in options}
    ranked = heapq.nsmallest(limit, scores.items(), key=lambda kv: _order(index, kv))
    if ranked and len(ranked) < limit:
        ranked = _with_children(index, ranked, limit)
    return [_hit(index, index.places[p], s) for p, s in ranked]


def _order(index: PlaceIndex, item: tuple[int, float]) -> tuple[float, int, str]:
    place = index.places[item[0]]
    return -round(item[1], 1), KIND_RANK[place.kind], place.code


def _with_children(index: PlaceIndex, ranked: list[tuple[int, float]], limit: int) -> list[tuple[int, float]]:
    top, score = ranked[0]
    if index.places[top].kind == "tambon" or score < STRONG:
        return ranked
    seen = {p for p, _ in ranked}
    extra = [(child, score * CHILD_FACTOR) for child in index.children.get(top, ()) if child not in seen]
    merged = ranked + extra[: limit - len(ranked)]
    return sorted(merged, key=lambda kv: _order(index, kv))
