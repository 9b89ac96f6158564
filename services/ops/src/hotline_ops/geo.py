"""Where a case is, by province, and a map of Thailand to show it on: drawn from the gazetteer's own points (every
sub-district's centroid), so the page needs no map tiles or scripts from the internet. Pure functions, no I/O."""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from functools import cache

from hotline_common.events import Location
from hotline_gazetteer import gazetteer

# The map's frame, in degrees: all of Thailand with a little margin.
WEST, EAST, SOUTH, NORTH = 97.2, 105.8, 5.5, 20.6
WIDTH = 400.0  # SVG user units; the height follows from the projection


def tambon_of(location: Location) -> str | None:
    """The sub-district a report names or points into; None for free text (routing resolves that)."""
    if location.tambon_code and gazetteer().tambon(location.tambon_code):
        return location.tambon_code
    if location.lat is not None and location.lon is not None:
        found = gazetteer().nearest(location.lat, location.lon)
        return found[0].code if found else None
    return None


def province_of(tambon_code: str | None) -> str | None:
    tambon = gazetteer().tambon(tambon_code) if tambon_code else None
    return tambon.province_code if tambon else None


@dataclass(frozen=True)
class ProvinceShape:
    code: str
    name_th: str
    name_en: str
    outline: str  # SVG path data: the convex hull of the province's sub-district centroids
    x: float  # the province's centroid, where its count is drawn
    y: float


@dataclass(frozen=True)
class ThailandMap:
    width: float
    height: float
    provinces: list[ProvinceShape]


# Equirectangular, scaled east-west by the cosine of the middle latitude: at this size and latitude it is as
# faithful as any projection, and a reader recognises the country's shape.
_KX = math.cos(math.radians((SOUTH + NORTH) / 2))
_SCALE = WIDTH / ((EAST - WEST) * _KX)


def project(lat: float, lon: float) -> tuple[float, float]:
    """A point's SVG coordinates (x right, y down), rounded to what a screen can show."""
    return round((lon - WEST) * _KX * _SCALE, 1), round((NORTH - lat) * _SCALE, 1)


def convex_hull(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Andrew's monotone chain: the hull counter-clockwise (in x-right, y-up terms), without repeated points."""
    pts = sorted(set(points))
    if len(pts) <= 2:
        return pts

    def cross(o: tuple[float, float], a: tuple[float, float], b: tuple[float, float]) -> float:
        return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])

    lower: list[tuple[float, float]] = []
    for p in pts:
        while len(lower) >= 2 and cross(lower[-2], lower[-1], p) <= 0:
            lower.pop()
        lower.append(p)
    upper: list[tuple[float, float]] = []
    for p in reversed(pts):
        while len(upper) >= 2 and cross(upper[-2], upper[-1], p) <= 0:
            upper.pop()
        upper.append(p)
    return lower[:-1] + upper[:-1]


def _outline(points: list[tuple[float, float]]) -> str:
    hull = convex_hull(points)
    if len(hull) < 3:  # a province of one or two points: a small diamond around them
        x, y = hull[0]
        return f"M{x - 2},{y}L{x},{y - 2}L{x + 2},{y}L{x},{y + 2}Z"
    return "M" + "L".join(f"{x},{y}" for x, y in hull) + "Z"


@cache
def thailand() -> ThailandMap:
    """Every province as the outline of its sub-districts' centroids (they tile the country closely enough to read
    as a map), in the gazetteer's order."""
    places = gazetteer()
    points: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for tambon in places.tambons:
        points[tambon.province_code].append(project(tambon.lat, tambon.lon))
    shapes = []
    for province in places.provinces_list():
        x, y = project(province.lat, province.lon)
        shapes.append(ProvinceShape(code=province.code, name_th=province.name_th, name_en=province.name_en,
                                    outline=_outline(points[province.code]), x=x, y=y))
    _, height = project(SOUTH, EAST)
    return ThailandMap(width=WIDTH, height=height, provinces=shapes)
