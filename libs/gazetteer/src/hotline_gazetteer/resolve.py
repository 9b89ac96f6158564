"""Free-text address resolution: the one sub-district a Thai address names, with a confidence and the alternatives."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

from hotline_gazetteer.index import Place, PlaceIndex
from hotline_gazetteer.places import Amphoe, Province, Tambon
from hotline_gazetteer.spans import Span, read

MatchedPart = Literal["tambon", "amphoe", "province", "postal_code", "tambon_code"]

# Support of one reading (see `resolve`): a tambon name alone, and what each agreeing part adds.
NAME_ONLY = 0.65
POSTAL_ONLY = 0.45
AMPHOE_ADDS = 0.2
PROVINCE_ADDS = 0.15
POSTAL_ADDS = 0.1
DISAGREES = 0.7  # per marked part (อ./จ./postal code…) that names somewhere else
SHARPNESS = 16  # how fast a weaker reading stops counting against the best one
MAX_CANDIDATES = 10
CANDIDATE_FLOOR = 0.75  # candidates listed: support at least this fraction of the best one's


def tambon_dict(tambon: Tambon) -> dict[str, Any]:
    return {**asdict(tambon), "path_th": tambon.path_th(), "path_en": tambon.path_en()}


@dataclass(frozen=True, slots=True)
class Candidate:
    tambon: Tambon
    score: float  # 0..1, on the scale of `Resolution.confidence` (the best candidate's score is the confidence)
    matched: tuple[MatchedPart, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"tambon": tambon_dict(self.tambon), "score": self.score, "matched": list(self.matched)}


@dataclass(frozen=True, slots=True)
class Resolution:
    """What `resolve` found: the best sub-district (or None), how sure, the alternatives, which parts matched."""

    query: str
    tambon: Tambon | None
    confidence: float
    matched: tuple[MatchedPart, ...]
    candidates: tuple[Candidate, ...]
    amphoe: Amphoe | None  # the best tambon's, or the district the text names when no tambon fits
    province: Province | None
    postal_code: str | None  # the first 5-digit number of the text

    def to_dict(self) -> dict[str, Any]:
        return {
            "query": self.query,
            "tambon": tambon_dict(self.tambon) if self.tambon else None,
            "confidence": self.confidence,
            "matched": list(self.matched),
            "candidates": [c.to_dict() for c in self.candidates],
            "amphoe": asdict(self.amphoe) if self.amphoe else None,
            "province": asdict(self.province) if self.province else None,
            "postal_code": self.postal_code,
        }


@dataclass(frozen=True, slots=True)
class _Reading:
    place: Place
    support: float
    matched: tuple[MatchedPart, ...]


def _best_free(options: list[tuple[float, int, Span]], used: int) -> tuple[float, int]:
    best, mask = 0.0, 0
    for sim, m, _ in options:
        if sim > best and not m & used:
            best, mask = sim, m
    return best, mask


def _read(index: PlaceIndex, place: Place, options: dict[int, list[tuple[float, int, Span]]],
          hinted: list[Span], postal: str | None) -> _Reading | None:
    """The best reading of the text as the tambon `place` (see `resolve` for the rule)."""
    best: _Reading | None = None
    for sim, own_mask, own in options.get(place.id, ()):
        if own.script == "num" and len(own.key) == 6:  # a tambon code names the whole chain
            return _Reading(place, 1.0, ("tambon_code", "tambon", "amphoe", "province"))
        by_postal = own.script == "num"
        matched: list[MatchedPart] = ["postal_code" if by_postal else "tambon"]
        s_a, amphoe_mask = _best_free(options.get(place.amphoe, []), own_mask)
        s_p, province_mask = _best_free(options.get(place.province, []), own_mask | amphoe_mask)
        used = own_mask | amphoe_mask | province_mask
        support = (POSTAL_ONLY if by_postal else NAME_ONLY) + AMPHOE_ADDS * s_a + PROVINCE_ADDS * s_p
        if s_a:
            matched.append("amphoe")
        if s_p:
            matched.append("province")
        if postal is not None and not by_postal:
            if postal in place.postal_codes:
                support += POSTAL_ADDS
                matched.append("postal_code")
            else:
                support *= DISAGREES
        support = min(1.0, support) * (1.0 if by_postal else sim)
        for span in hinted:
            if not span.mask & used and not (span.matches.keys() & {place.id, place.amphoe, place.province}):
                support *= DISAGREES
        if best is None or support > best.support:
            best = _Reading(place, support, tuple(matched))
    return best


def resolve(index: PlaceIndex, text: str) -> Resolution:
    """The sub-district a free-text Thai address names.

    House numbers, หมู่/ม. and village (บ้าน…) names, ถนน/ซอย and the words ตำบล/แขวง, อำเภอ/เขต, จังหวัด (ต. อ. จ.)
    are read as in `search`; a 5-digit number is the postal code. Each tambon whose name appears is a reading,
    and its *support* is the tambon name's similarity (1 exact, 0.95 without tone marks, the rapidfuzz ratio for a
    typo) × (0.65, + 0.2 if its amphoe is named, + 0.15 if its province is, + 0.1 if the postal code is its own;
    at most 1), × 0.7 if the postal code is another's and × 0.7 for each marked part (อ./จ./ต.) naming a place
    elsewhere. A postal code alone supports each of its tambons at 0.45; a valid 6-digit tambon code at 1.

    Confidence = support of the best reading / Σ over readings (support / best support)^16: tambon, amphoe and
    province agreeing give ≥ 0.9; a tambon name unique in the country alone 0.65; a name that n tambons share,
    with nothing to tell them apart, 0.65 / n (< 0.5). Candidates are the readings with at least 0.75 of the best
    support, best first, at most 10. Nothing plausible: tambon None, confidence 0.
    """
    units = index.units(text, "resolve")
    spans = read(index, units, "resolve")
    postal = next((s.key for s in spans if s.script == "num" and len(s.key) == 5), None)
    options: dict[int, list[tuple[float, int, Span]]] = {}
    for span in spans:
        for place, sim in span.matches.items():
            options.setdefault(place, []).append((sim, span.mask, span))
    hinted = [s for s in spans if s.hint is not None and s.matches]
    readings = [r for p in options if index.places[p].kind == "tambon"
                if (r := _read(index, index.places[p], options, hinted, postal)) is not None and r.support > 0]
    if not readings:
        amphoe, province = _named_amphoe_and_province(index, options)
        return Resolution(query=text, tambon=None, confidence=0.0, matched=(), candidates=(), amphoe=amphoe,
                          province=province, postal_code=postal)
    readings.sort(key=lambda r: (-r.support, r.place.code))
    top = readings[0].support
    weights = [(r.support / top) ** SHARPNESS for r in readings]
    total = sum(weights)
    candidates = tuple(
        Candidate(tambon=_tambon(r.place), score=round(r.support * w / total, 3), matched=r.matched)
        for r, w in zip(readings, weights, strict=True) if r.support >= CANDIDATE_FLOOR * top
    )[:MAX_CANDIDATES]
    best = _tambon(readings[0].place)
    return Resolution(query=text, tambon=best, confidence=candidates[0].score, matched=readings[0].matched,
                      candidates=candidates, amphoe=_amphoe(index, readings[0].place.amphoe),
                      province=_province(index, readings[0].place.province), postal_code=postal)


def _tambon(place: Place) -> Tambon:
    assert isinstance(place.obj, Tambon)
    return place.obj


def _amphoe(index: PlaceIndex, place_id: int) -> Amphoe | None:
    obj = index.places[place_id].obj if place_id >= 0 else None
    return obj if isinstance(obj, Amphoe) else None


def _province(index: PlaceIndex, place_id: int) -> Province | None:
    obj = index.places[place_id].obj if place_id >= 0 else None
    return obj if isinstance(obj, Province) else None


def _named_amphoe_and_province(index: PlaceIndex, options: dict[int, list[tuple[float, int, Span]]]
                               ) -> tuple[Amphoe | None, Province | None]:
    """No tambon fits: the district (and province) the text names, if exactly one fits best."""
    scored: list[tuple[float, int]] = []
    for place_id, opts in options.items():
        place = index.places[place_id]
        if place.kind == "amphoe":
            own = max(sim for sim, _, _ in opts)
            province = max((sim for sim, _, _ in options.get(place.province, [])), default=0.0)
            scored.append((own * (0.7 + 0.3 * province), place_id))
    scored.sort(reverse=True)
    if scored and (len(scored) == 1 or scored[0][0] > scored[1][0]):
        place = index.places[scored[0][1]]
        return _amphoe(index, place.id), _province(index, place.province)
    provinces = sorted(((max(s for s, _, _ in opts), p) for p, opts in options.items()
                        if index.places[p].kind == "province"), reverse=True)
    if provinces and (len(provinces) == 1 or provinces[0][0] > provinces[1][0]):
        return None, _province(index, provinces[0][1])
    return None, None
