"""Reading a query: runs of its words (spans) matched to places exactly, by prefix, and with typos (rapidfuzz)."""

from __future__ import annotations

import heapq
from bisect import bisect_left
from dataclasses import dataclass, field

from rapidfuzz import fuzz, process

from hotline_gazetteer.index import PREFIX_KEEP, Mode, PlaceIndex, PlaceKind, one_byte
from hotline_gazetteer.normalise import Level, Script, Unit, loose_key

MAX_SPAN_UNITS = 4  # "krung thep maha nakhon" is the longest name in words
PREFIX_KIND_BONUS: dict[PlaceKind, float] = {"province": 0.04, "amphoe": 0.02, "tambon": 0.0}
FUZZY_KEEP = 40
INSIDE_CUTOFF = 60  # rapidfuzz ratio for a name inside a place the query names: a short list, so looser
NUMBER_WEIGHT = 4  # a code weighs as much as a four-letter word
CONTEXT_MAX_MATCHES = 30  # a span naming more places than this ("เมือง") gives no context


@dataclass(slots=True)
class Span:
    """Consecutive query units read as one name, with the places that name matches (place id → similarity 0..1)."""

    start: int
    end: int
    script: Script
    key: str
    loose: str
    hint: Level | None
    weight: int
    matches: dict[int, float] = field(default_factory=dict)
    exact: bool = False  # some match is exact (tone marks and romanisation variants aside)

    @property
    def mask(self) -> int:
        return ((1 << self.end) - 1) ^ ((1 << self.start) - 1)


def read(index: PlaceIndex, units: list[Unit], mode: Mode) -> list[Span]:
    """Every run of up to MAX_SPAN_UNITS units that could be one name, each with the places it matches.

    Exact matches first; the amphoes and provinces they name are the context of the other spans. Then prefixes
    (search only: the last word anywhere, earlier words inside the context), then typos: rapidfuzz inside the
    context, and across the country for a word that is neither a name nor the start of one.
    """
    spans = _spans(units)
    for span in spans:
        _match_exact(index, span)
    named = _named_parents(index, spans)
    names = [s for s in spans if s.script != "num"]
    alive = [False] * len(units)
    for span in names:
        context = frozenset(p for p, mask in named.items() if not mask & span.mask)
        if mode == "search" and (context or not span.exact):
            # Only the last word is still being typed; an earlier one is a prefix only of a name in a place the
            # query names ("สันกล พาน").
            _match_prefix(index, span, context, everywhere=span.end == len(units) and not span.exact)
        if span.end - span.start == 1:
            alive[span.start] = bool(span.matches) or index.prefix_range(span.loose)[1] > 0
    for span in names:
        if span.exact or len(span.matches) >= 3:
            continue
        context = frozenset(p for p, mask in named.items() if not mask & span.mask)
        if context and len(span.loose) >= 2:
            _match_fuzzy_inside(index, span, context, mode)
        if len(span.loose) < 4 or all(alive[span.start:span.end]):
            continue  # every word is a name or the start of one: a typo is not the likelier reading
        if span.end - span.start == 1:
            _match_fuzzy(index, span, context, mode, None)  # ~0.3 ms: only for words that match nothing
        else:
            # Candidate narrowing: a name of several words, mistyped after its first letter.
            lo, count = index.prefix_range(span.loose[0])
            choices = index.sorted_keys[lo:lo + count], index.narrow_keys[lo:lo + count]
            _match_fuzzy(index, span, context, mode, choices)
    return spans


def _spans(units: list[Unit]) -> list[Span]:
    spans: list[Span] = []
    for i, first in enumerate(units):
        if first.script == "num":
            spans.append(Span(i, i + 1, "num", first.key, first.key, first.hint, NUMBER_WEIGHT))
            continue
        key, weight = "", 0
        for j in range(i, min(len(units), i + MAX_SPAN_UNITS)):
            unit = units[j]
            if unit.script != first.script or (j > i and unit.hint is not None):
                break
            key, weight = key + unit.key, weight + len(unit.key)
            spans.append(Span(i, j + 1, first.script, key, loose_key(key), first.hint, weight))
    return spans


def _keep(index: PlaceIndex, span: Span, place: int) -> bool:
    return span.hint is None or index.places[place].kind == span.hint


def _match_exact(index: PlaceIndex, span: Span) -> None:
    if span.script == "num":
        digits = span.key
        if len(digits) == 5:
            span.matches.update(dict.fromkeys(index.by_postal.get(digits, ()), 1.0))
        elif len(digits) in (2, 4, 6) and digits in index.by_code and _keep(index, span, index.by_code[digits]):
            span.matches[index.by_code[digits]] = 1.0
    else:
        for place, key in index.refs.get(span.loose, ()):
            if _keep(index, span, place):
                span.matches[place] = max(span.matches.get(place, 0.0), 1.0 if key == span.key else 0.95)
    span.exact = bool(span.matches)


def _named_parents(index: PlaceIndex, spans: list[Span]) -> dict[int, int]:
    """Amphoes and provinces some span names exactly (→ that span's mask): the context of the other spans."""
    found: dict[int, int] = {}
    for span in spans:
        if span.exact and span.script != "num" and len(span.matches) <= CONTEXT_MAX_MATCHES:
            for place in span.matches:
                if index.places[place].kind != "tambon":
                    found.setdefault(place, span.mask)
    return found


def _prefix_sim(typed: int, length: int) -> float:
    """0.8 for a name barely begun, towards 0.9 as more of it is typed (1 is kept for the whole name)."""
    return 0.8 + 0.1 * typed / length


def _match_prefix(index: PlaceIndex, span: Span, context: frozenset[int], everywhere: bool) -> None:
    if len(span.loose) < 2:
        return
    lo, count = index.prefix_range(span.loose)
    if not count:
        return
    n = len(span.loose)
    scored: dict[int, float] = {}

    def score(place: int, key: str, base: float) -> None:
        # While typing, a province or district is the likelier meaning of a prefix than one of 7,000 tambons.
        sim = base + PREFIX_KIND_BONUS[index.places[place].kind]
        sim = sim if key.startswith(span.key) else sim * 0.97
        if sim > scored.get(place, 0.0) and _keep(index, span, place):
            scored[place] = sim

    if everywhere:
        for i in range(lo, lo + count) if count <= PREFIX_KEEP else index.top[span.loose]:
            loose = index.sorted_keys[i]
            base = _prefix_sim(n, len(loose))
            for place, key in index.refs[loose]:
                score(place, key, base)
    if context and (count > PREFIX_KEEP or not everywhere):
        for parent in context:
            below = index.below[parent]
            i = bisect_left(below.keys, span.loose)
            while i < len(below.keys) and below.keys[i].startswith(span.loose):
                place, key = below.refs[i]
                score(place, key, _prefix_sim(n, len(below.keys[i])))
                i += 1
    for place, sim in scored.items():
        if sim > span.matches.get(place, 0.0):
            span.matches[place] = sim


def _match_fuzzy_inside(index: PlaceIndex, span: Span, context: frozenset[int], mode: Mode) -> None:
    """A typo in a name inside a place the query names ("ต.ถรำ อ.ตะกั่วทุ่ง")."""
    scale = 1.0 if mode == "resolve" else 0.9
    query = one_byte(span.loose)
    for parent in sorted(context)[:4]:
        below = index.below[parent]
        for _, ratio, i in process.extract(query, below.narrow, scorer=fuzz.ratio, score_cutoff=INSIDE_CUTOFF,
                                           limit=FUZZY_KEEP):
            place, _key = below.refs[i]
            sim = scale * ratio / 100
            if sim > span.matches.get(place, 0.0) and _keep(index, span, place):
                span.matches[place] = sim


def _match_fuzzy(index: PlaceIndex, span: Span, context: frozenset[int], mode: Mode,
                 choices: tuple[list[str], list[str]] | None) -> None:
    """rapidfuzz over `choices` (keys, and the same one byte a character), or else over the keys of the same script
    and about the same length: one or two edits away."""
    n = len(span.loose)
    if choices is None:
        slack = 1 if n < 8 else 2
        lengths = index.lengths[span.script]
        lo, hi = bisect_left(lengths, n - slack), bisect_left(lengths, n + slack + 1)
        keys, narrow = index.by_length[span.script]
        choices = keys[lo:hi], narrow[lo:hi]
    cutoff = 75 if n >= 5 else 85
    found = process.extract(one_byte(span.loose), choices[1], scorer=fuzz.ratio, score_cutoff=cutoff,
                            limit=FUZZY_KEEP)
    scale = 1.0 if mode == "resolve" else 0.9
    scored: dict[int, float] = {}
    for _, ratio, i in found:
        sim = scale * ratio / 100
        for place, _key in index.refs[choices[0][i]]:
            if sim > scored.get(place, 0.0) and _keep(index, span, place):
                scored[place] = sim
    if len(scored) > 2 * PREFIX_KEEP:  # a common name mistyped ("หนองบวั"): the best, and those in the context
        kept = dict(heapq.nlargest(PREFIX_KEEP, scored.items(), key=lambda kv: kv[1]))
        for place, sim in scored.items():
            p = index.places[place]
            if p.amphoe in context or p.province in context:
                kept[place] = sim
        scored = kept
    for place, sim in scored.items():
        if sim > span.matches.get(place, 0.0):
            span.matches[place] = sim
