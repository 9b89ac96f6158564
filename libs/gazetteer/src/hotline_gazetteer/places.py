"""The gazetteer: every tambon with its amphoe and province, looked up by code, by position or by name."""

from __future__ import annotations

import csv
import math
from collections import defaultdict
from dataclasses import dataclass
from functools import cache, cached_property
from importlib import resources
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from hotline_gazetteer.index import PlaceIndex
    from hotline_gazetteer.resolve import Resolution
    from hotline_gazetteer.search import PlaceHit

EARTH_RADIUS_KM = 6371.0088
# A point farther than this from every tambon centroid is not in Thailand (the largest tambons are ~40 km across;
# border rivers put Laos and Cambodia within a few km of Thai centroids, which this cannot tell apart).
MAX_KM_FROM_CENTROID = 40.0
_CELL_DEG = 0.1


@dataclass(frozen=True, slots=True)
class Tambon:
    code: str
    name_th: str
    name_en: str
    amphoe_code: str
    amphoe_name_th: str
    amphoe_name_en: str
    province_code: str
    province_name_th: str
    province_name_en: str
    postal_code: str
    lat: float
    lon: float

    @property
    def is_bangkok(self) -> bool:
        return self.province_code == "10"

    def path_th(self) -> str:
        """ต.สันกลาง › อ.พาน › จ.เชียงราย (แขวง/เขต in Bangkok)."""
        if self.is_bangkok:
            return f"แขวง{self.name_th} › เขต{self.amphoe_name_th} › {self.province_name_th}"
        return f"ต.{self.name_th} › อ.{self.amphoe_name_th} › จ.{self.province_name_th}"

    def path_en(self) -> str:
        """San Klang › Phan › Chiang Rai."""
        return f"{self.name_en} › {self.amphoe_name_en} › {self.province_name_en}"


@dataclass(frozen=True, slots=True)
class Amphoe:
    """A district: amphoe (อำเภอ), or khet (เขต) in Bangkok. Centroid = mean of its tambons' points."""

    code: str
    name_th: str
    name_en: str
    province_code: str
    province_name_th: str
    province_name_en: str
    lat: float
    lon: float
    postal_codes: tuple[str, ...]  # distinct, sorted

    @property
    def is_bangkok(self) -> bool:
        return self.province_code == "10"

    def path_th(self) -> str:
        """อ.พาน › จ.เชียงราย (เขต… › กรุงเทพมหานคร in Bangkok)."""
        if self.is_bangkok:
            return f"เขต{self.name_th} › {self.province_name_th}"
        return f"อ.{self.name_th} › จ.{self.province_name_th}"

    def path_en(self) -> str:
        return f"{self.name_en} › {self.province_name_en}"


@dataclass(frozen=True, slots=True)
class Province:
    """A province (จังหวัด), or Bangkok. Centroid = mean of its tambons' points."""

    code: str
    name_th: str
    name_en: str
    lat: float
    lon: float
    postal_codes: tuple[str, ...]  # distinct, sorted

    @property
    def is_bangkok(self) -> bool:
        return self.code == "10"

    def path_th(self) -> str:
        """จ.เชียงราย (กรุงเทพมหานคร: Bangkok is not a จังหวัด)."""
        return self.name_th if self.is_bangkok else f"จ.{self.name_th}"

    def path_en(self) -> str:
        return self.name_en


def _amphoe(tambons: list[Tambon]) -> Amphoe:
    t = tambons[0]
    lat, lon = _centroid(tambons)
    return Amphoe(code=t.amphoe_code, name_th=t.amphoe_name_th, name_en=t.amphoe_name_en,
                  province_code=t.province_code, province_name_th=t.province_name_th,
                  province_name_en=t.province_name_en, lat=lat, lon=lon, postal_codes=_postal_codes(tambons))


def _province(tambons: list[Tambon]) -> Province:
    t = tambons[0]
    lat, lon = _centroid(tambons)
    return Province(code=t.province_code, name_th=t.province_name_th, name_en=t.province_name_en, lat=lat, lon=lon,
                    postal_codes=_postal_codes(tambons))


def _centroid(tambons: list[Tambon]) -> tuple[float, float]:
    return (round(sum(t.lat for t in tambons) / len(tambons), 5),
            round(sum(t.lon for t in tambons) / len(tambons), 5))


def _postal_codes(tambons: list[Tambon]) -> tuple[str, ...]:
    return tuple(sorted({t.postal_code for t in tambons}))


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(a))


def _cell(lat: float, lon: float) -> tuple[int, int]:
    return int(math.floor(lat / _CELL_DEG)), int(math.floor(lon / _CELL_DEG))


@cache
def _ring(r: int) -> list[tuple[int, int]]:
    """The cells at Chebyshev distance r from (0, 0)."""
    if r == 0:
        return [(0, 0)]
    return [(di, dj) for di in range(-r, r + 1) for dj in range(-r, r + 1) if max(abs(di), abs(dj)) == r]


def _min_cell_km(lat: float, rings: int) -> float:
    """A lower bound of one cell's extent in km anywhere within `rings` cells of `lat` (east-west shrinks poleward;
    1 % slack for the sphere against the flat bound)."""
    farthest = min(89.0, abs(lat) + (rings + 1) * _CELL_DEG)
    return 0.99 * math.radians(_CELL_DEG) * EARTH_RADIUS_KM * min(1.0, math.cos(math.radians(farthest)))


class Gazetteer:
    def __init__(self, tambons: list[Tambon]) -> None:
        self.tambons = tambons
        self.by_code = {t.code: t for t in tambons}
        # A coarse grid: a nearest-tambon query looks at a few cells, not the whole country.
        self._grid: dict[tuple[int, int], list[tuple[float, float, Tambon]]] = {}
        for t in tambons:
            p2 = math.radians(t.lat)
            self._grid.setdefault(_cell(t.lat, t.lon), []).append((p2, math.cos(p2), t))
        by_amphoe: dict[str, list[Tambon]] = defaultdict(list)
        by_province: dict[str, list[Tambon]] = defaultdict(list)
        for t in tambons:
            by_amphoe[t.amphoe_code].append(t)
            by_province[t.province_code].append(t)
        self._tambons_in = dict(by_amphoe)
        self._amphoes = {code: _amphoe(ts) for code, ts in sorted(by_amphoe.items())}
        self._provinces = {code: _province(ts) for code, ts in sorted(by_province.items())}
        self._amphoes_in: dict[str, list[Amphoe]] = {}
        for a in self._amphoes.values():
            self._amphoes_in.setdefault(a.province_code, []).append(a)

    @classmethod
    def from_package(cls) -> Gazetteer:
        text = resources.files("hotline_gazetteer").joinpath("data/th_tambon.csv").read_text("utf-8")
        rows = csv.DictReader(text.splitlines())
        return cls([
            Tambon(
                code=r["tambon_code"], name_th=r["tambon_name_th"], name_en=r["tambon_name_en"],
                amphoe_code=r["amphoe_code"], amphoe_name_th=r["amphoe_name_th"],
                amphoe_name_en=r["amphoe_name_en"], province_code=r["province_code"],
                province_name_th=r["province_name_th"], province_name_en=r["province_name_en"],
                postal_code=r["postal_code"], lat=float(r["lat"]), lon=float(r["lon"]),
            )
            for r in rows
        ])

    def tambon(self, code: str) -> Tambon | None:
        return self.by_code.get(code)

    def nearest(self, lat: float, lon: float) -> tuple[Tambon, float] | None:
        """The tambon whose centroid is nearest, with its distance, if any lies within the plausible range.

        Rings of grid cells outward from the point's cell, stopping once every unseen cell is farther than the best
        found (or than the plausible range): a few dozen centroids per query instead of the whole neighbourhood.
        """
        ci, cj = _cell(lat, lon)
        # haversine_km inlined with each centroid's radians and cosine precomputed (the same floats, so the same
        # answer), comparing the haversine's `a` (monotonic in distance): a third of the cost per centroid.
        p1 = math.radians(lat)
        c1, sin, radians = math.cos(p1), math.sin, math.radians
        best: Tambon | None = None
        best_a = math.inf
        ring = 0
        while True:
            for di, dj in _ring(ring):
                for p2, c2, t in self._grid.get((ci + di, cj + dj), ()):
                    a = sin((p2 - p1) / 2) ** 2 + c1 * c2 * sin(radians(t.lon - lon) / 2) ** 2
                    if a < best_a or (a == best_a and best is not None and t.code < best.code):
                        best, best_a = t, a
            best_km = 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(best_a)) if best is not None else math.inf
            # Every cell of the next rings is at least `ring` whole cells away in latitude or longitude.
            unseen_km = ring * _min_cell_km(lat, ring + 1)
            if unseen_km > MAX_KM_FROM_CENTROID or best_km <= unseen_km:
                break
            ring += 1
        if best is None or best_km > MAX_KM_FROM_CENTROID:
            return None
        return best, best_km

    def provinces(self) -> dict[str, str]:
        return {t.province_code: t.province_name_th for t in self.tambons}

    def provinces_list(self) -> list[Province]:
        """All 77 provinces (Bangkok included), by code."""
        return list(self._provinces.values())

    def province(self, code: str) -> Province | None:
        return self._provinces.get(code)

    def amphoe(self, code: str) -> Amphoe | None:
        return self._amphoes.get(code)

    def amphoes_in(self, province_code: str) -> list[Amphoe]:
        """The districts of a province, by code (empty for an unknown province)."""
        return list(self._amphoes_in.get(province_code, ()))

    def tambons_in(self, amphoe_code: str) -> list[Tambon]:
        """The sub-districts of a district, by code (empty for an unknown district)."""
        return list(self._tambons_in.get(amphoe_code, ()))

    @cached_property
    def index(self) -> PlaceIndex:
        """The name index behind `search` and `resolve`: built on first use (0.3–0.6 s), then kept."""
        from hotline_gazetteer.index import PlaceIndex

        return PlaceIndex(self)

    def search(self, query: str, limit: int = 10) -> list[PlaceHit]:
        """Typeahead over provinces, districts and sub-districts (see `hotline_gazetteer.search.search`)."""
        from hotline_gazetteer.search import search

        return search(self.index, query, limit=limit)

    def resolve(self, text: str) -> Resolution:
        """The one sub-district a free-text Thai address names (see `hotline_gazetteer.resolve.resolve`)."""
        from hotline_gazetteer.resolve import resolve

        return resolve(self.index, text)


@cache
def gazetteer() -> Gazetteer:
    """The national gazetteer, loaded once per process (~7,400 rows, a few ms)."""
    return Gazetteer.from_package()
