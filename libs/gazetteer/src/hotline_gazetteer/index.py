"""The name index behind search and resolve: every place's keys, sorted for prefixes, by length for rapidfuzz."""

from __future__ import annotations

import heapq
import itertools
import time
from bisect import bisect_left
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from hotline_gazetteer.normalise import (
    PLACE_MARKERS,
    Level,
    Script,
    Unit,
    clean,
    english_key,
    loose_key,
    parse,
    thai_key,
)
from hotline_gazetteer.places import Amphoe, Province, Tambon

if TYPE_CHECKING:
    from hotline_gazetteer.places import Gazetteer

PlaceKind = Level
Mode = Literal["search", "resolve"]
KIND_RANK: dict[PlaceKind, int] = {"province": 0, "amphoe": 1, "tambon": 2}
PREFIX_KEEP = 50  # keys a prefix shared by many keys ("ban", "หนอง") is read as: its shortest, provinces first

# Names people use that are not the official one.
ALIASES: dict[str, tuple[str, ...]] = {
    "10": ("กทม", "กรุงเทพ", "bkk", "krung thep", "krung thep maha nakhon"),
    "14": ("อยุธยา", "ayutthaya", "ayudhya"),
    "30": ("โคราช", "korat"),
    "34": ("อุบล", "ubon"),
}
_SHIFT_THAI = {c: c - 0x0E00 + 0x80 for c in range(0x0E00, 0x0E80)}


def one_byte(key: str) -> str:
    """rapidfuzz compares one-byte strings fastest: Thai (U+0E00–U+0E7F) is shifted to U+0080–U+00FF for it."""
    return key.translate(_SHIFT_THAI)


def script_of(key: str) -> Script:
    return "th" if key and "\u0e00" <= key[0] <= "\u0e7f" else "en"


@dataclass(frozen=True, slots=True)
class Place:
    """A province, amphoe or tambon, numbered for the index, with the ids of the places above it."""

    id: int
    kind: PlaceKind
    code: str
    name_th: str
    name_en: str
    amphoe: int  # -1 unless a tambon
    province: int  # -1 for a province
    postal_codes: frozenset[str]
    obj: Tambon | Amphoe | Province

    def path_th(self) -> str:
        return self.obj.path_th()

    def path_en(self) -> str:
        return self.obj.path_en()


@dataclass(frozen=True, slots=True)
class Below:
    """The keys of everything inside one amphoe or province, sorted (loose, the same in one byte, (place, key))."""

    keys: list[str]
    narrow: list[str]
    refs: list[tuple[int, str]]


class PlaceIndex:
    """Built once per gazetteer, on first use: keys → places, and the tables that keep a query under a millisecond."""

    def __init__(self, gazetteer: Gazetteer) -> None:
        started = time.perf_counter()
        self.places: list[Place] = []
        self.by_code: dict[str, int] = {}
        self.children: dict[int, list[int]] = {}
        self.by_postal: dict[str, list[int]] = {}
        self._add_places(gazetteer)
        # loose key → [(place id, exact key)]; one key can name many places (28 tambons are called หนองบัว).
        self.refs: dict[str, list[tuple[int, str]]] = {}
        for place in self.places:
            for key in _keys(place):
                refs = self.refs.setdefault(loose_key(key), [])
                if (place.id, key) not in refs:
                    refs.append((place.id, key))
        self.sorted_keys = sorted(self.refs)
        self.narrow_keys = [one_byte(k) for k in self.sorted_keys]
        self._rank = [min(KIND_RANK[self.places[p].kind] * 100 + len(k) for p, _ in self.refs[k])
                      for k in self.sorted_keys]
        self.top: dict[str, list[int]] = {}  # a prefix shared by > PREFIX_KEEP keys → its best keys, ranked here
        self._rank_big_prefixes(0, len(self.sorted_keys), 0)
        self.by_length: dict[Script, tuple[list[str], list[str]]] = {}
        self.lengths: dict[Script, list[int]] = {}
        for script in ("th", "en"):
            keys = sorted((k for k in self.sorted_keys if script_of(k) == script), key=len)
            self.by_length[script] = (keys, [one_byte(k) for k in keys])
            self.lengths[script] = [len(k) for k in keys]
        self.below = self._index_below()
        self._thai_words = frozenset(k for k in self.sorted_keys if script_of(k) == "th")
        self._longest_word = max(map(len, self._thai_words))
        markers = [m for m, _ in PLACE_MARKERS if not m.endswith(".")]
        self.protected = frozenset(clean(p.name_th) for p in self.places
                                   if "." in p.name_th or any(m in p.name_th[1:] for m in markers))
        self.build_seconds = time.perf_counter() - started

    def _add_places(self, gazetteer: Gazetteer) -> None:
        ids: dict[str, int] = {}
        for p in gazetteer.provinces_list():
            ids[p.code] = self._add("province", p, -1, -1)
        for p in gazetteer.provinces_list():
            for a in gazetteer.amphoes_in(p.code):
                ids[a.code] = self._add("amphoe", a, -1, ids[p.code])
        for t in gazetteer.tambons:
            self._add("tambon", t, ids[t.amphoe_code], ids[t.province_code])
            self.by_postal.setdefault(t.postal_code, []).append(len(self.places) - 1)
        for place in self.places:
            parent = place.amphoe if place.kind == "tambon" else place.province
            if parent >= 0:
                self.children.setdefault(parent, []).append(place.id)

    def _add(self, kind: PlaceKind, obj: Tambon | Amphoe | Province, amphoe: int, province: int) -> int:
        postal = obj.postal_codes if isinstance(obj, Amphoe | Province) else (obj.postal_code,)
        place = Place(id=len(self.places), kind=kind, code=obj.code, name_th=obj.name_th, name_en=obj.name_en,
                      amphoe=amphoe, province=province, postal_codes=frozenset(postal), obj=obj)
        self.places.append(place)
        self.by_code[obj.code] = place.id
        return place.id

    def _rank_big_prefixes(self, lo: int, hi: int, depth: int) -> None:
        i = lo
        while i < hi:
            key = self.sorted_keys[i]
            if len(key) <= depth:  # the parent prefix itself, already ranked with it
                i += 1
                continue
            prefix = key[: depth + 1]
            j = bisect_left(self.sorted_keys, prefix + "\U0010ffff", i, hi)
            if j - i > PREFIX_KEEP:
                self.top[prefix] = heapq.nsmallest(PREFIX_KEEP, range(i, j), key=self._rank.__getitem__)
                self._rank_big_prefixes(i, j, depth + 1)
            i = j

    def _index_below(self) -> dict[int, Below]:
        rows: dict[int, list[tuple[str, int, str]]] = {}
        for loose, refs in self.refs.items():
            for place_id, key in refs:
                place = self.places[place_id]
                for parent in (place.amphoe, place.province):
                    if parent >= 0:
                        rows.setdefault(parent, []).append((loose, place_id, key))
        below: dict[int, Below] = {}
        for parent, found in rows.items():
            found.sort()
            below[parent] = Below([r[0] for r in found], [one_byte(r[0]) for r in found], [(r[1], r[2]) for r in found])
        return below

    def prefix_range(self, loose: str) -> tuple[int, int]:
        """Where the keys starting with `loose` are in `sorted_keys`: (first, count)."""
        lo = bisect_left(self.sorted_keys, loose)
        return lo, bisect_left(self.sorted_keys, loose + "\U0010ffff", lo) - lo

    def units(self, text: str, mode: Mode) -> list[Unit]:
        """The query's units, a run of Thai names typed without spaces cut into names ("สันกลางพาน")."""
        out: list[Unit] = []
        for unit in parse(text, address=mode == "resolve", protected=self.protected):
            pieces = self._segment(unit, mode) if unit.script == "th" else None
            if pieces is None:
                out.append(unit)
            else:
                out.extend(Unit("th", piece, unit.hint if i == 0 else None) for i, piece in enumerate(pieces))
        return out

    def _segment(self, unit: Unit, mode: Mode) -> list[str] | None:
        """The fewest known names that make up a run no name is (or, while typing, starts); the last may be
        unfinished."""
        loose = unit.loose
        n = len(loose)
        if n < 4 or loose in self.refs or (mode == "search" and self.prefix_range(loose)[1] > 0):
            return None
        best: list[tuple[int, int] | None] = [None] * (n + 1)  # (names so far, where the last began)
        best[0] = (0, -1)
        for i in range(n):
            here = best[i]
            if here is None:
                continue
            for j in range(i + 2, min(n, i + self._longest_word) + 1):
                there = best[j]
                if loose[i:j] in self._thai_words and (there is None or here[0] + 1 < there[0]):
                    best[j] = (here[0] + 1, i)
            if mode == "search" and best[n] is None and n - i >= 2 and i > 0 and self.prefix_range(loose[i:])[1]:
                best[n] = (here[0] + 1, i)
        end = best[n]
        if end is None or end[0] < 2:
            return None
        cuts = [n]
        while cuts[-1] > 0:
            step = best[cuts[-1]]
            assert step is not None
            cuts.append(step[1])
        cuts.reverse()
        # Cut the exact key (with its tone marks) where the loose key was cut.
        positions = [i for i, ch in enumerate(unit.key) if loose_key(ch)] + [len(unit.key)]
        return [unit.key[positions[a]:positions[b]] for a, b in itertools.pairwise(cuts)]


def _keys(place: Place) -> list[str]:
    keys = [thai_key(place.name_th), english_key(place.name_en)]
    obj = place.obj
    if isinstance(obj, Amphoe) and obj.name_th == "เมือง" + obj.province_name_th:
        keys += ["เมือง", "mueang"]  # "อ.เมือง จ.เชียงราย", "Muang Chiang Rai"
    keys += [thai_key(a) if script_of(a) == "th" else english_key(a) for a in ALIASES.get(place.code, ())]
    return [k for k in keys if k]
