"""The gazetteer: every tambon with its amphoe and province, looked up by code or by position."""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from functools import cache
from importlib import resources

EARTH_RADIUS_KM = 6371.0088
# A point farther than this from every tambon centroid is not in Thailand (the largest tambons are ~40 km across;
# border rivers put Laos and Cambodia within a few km of Thai centroids, which this cannot tell apart).
MAX_KM_FROM_CENTROID = 40.0
_CELL_DEG = 0.5


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


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(a))


def _cell(lat: float, lon: float) -> tuple[int, int]:
    return int(math.floor(lat / _CELL_DEG)), int(math.floor(lon / _CELL_DEG))


class Gazetteer:
    def __init__(self, tambons: list[Tambon]) -> None:
        self.tambons = tambons
        self.by_code = {t.code: t for t in tambons}
        # A coarse grid: a nearest-tambon query looks at a few cells, not the whole country.
        self._grid: dict[tuple[int, int], list[Tambon]] = {}
        for t in tambons:
            self._grid.setdefault(_cell(t.lat, t.lon), []).append(t)

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
        """The tambon whose centroid is nearest, with its distance, if any lies within the plausible range."""
        ci, cj = _cell(lat, lon)
        reach = math.ceil(MAX_KM_FROM_CENTROID / (111.0 * _CELL_DEG)) + 1
        best: tuple[Tambon, float] | None = None
        for di in range(-reach, reach + 1):
            for dj in range(-reach, reach + 1):
                for t in self._grid.get((ci + di, cj + dj), ()):
                    d = haversine_km(lat, lon, t.lat, t.lon)
                    if best is None or d < best[1]:
                        best = (t, d)
        if best is None or best[1] > MAX_KM_FROM_CENTROID:
            return None
        return best

    def provinces(self) -> dict[str, str]:
        return {t.province_code: t.province_name_th for t in self.tambons}


@cache
def gazetteer() -> Gazetteer:
    """The national gazetteer, loaded once per process (~7,400 rows, a few ms)."""
    return Gazetteer.from_package()
