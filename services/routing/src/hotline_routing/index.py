"""The in-memory center index, fed by the compacted `registry.center.v1` topic: the exact nearest active centers."""

from __future__ import annotations

import gc
import math
from bisect import bisect_left, insort
from collections.abc import Collection, Iterable
from itertools import pairwise
from uuid import UUID

import numpy as np
import numpy.typing as npt

from hotline_common.events import CenterRecord
from hotline_gazetteer.places import EARTH_RADIUS_KM

Found = list[tuple[CenterRecord, float]]
Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]
Vectors = tuple[Floats, Floats, Floats]  # unit vectors, one array per axis: numpy gathers 1-D arrays fastest
Best = list[tuple[float, str, str, "_Entry"]]  # (km, str(center_id), key, entry): the ranking order, nearest first

# `haversine_km` step by step with the same roundings, so distances and ties come out bit for bit the same as the
# brute-force answer: radians(x) is x * (pi / 180), and halving commutes with rounding, so half-angles precompute.
_RAD = math.pi / 180
_HALF_RAD = _RAD / 2
_QUARTER = math.pi / 2
_TWO_R = 2 * EARTH_RADIUS_KM
KMAX = 4  # the table answers while k + (closed or excluded among a cell's candidates) <= KMAX; beyond, a ring search
_MARGIN_DEG = 1.0  # the table covers the active centers' box plus this; queries beyond it take the ring search
_FINEST = 4  # table cells of 1/16 degree (~7 km), coarser where that would make more than 8 cells per center
_CELLS_PER_CENTER = 8
_MIN_CELLS = 256
_SMALL_AREA = 16  # a district or province with more active centers asks the table first
_CROWDED, _DEPTH = 4, 3  # a cell with more possible nearest centers is split in quarters, at most thrice
_BATCH_PAIRS = 250_000  # quadtree pairs held at once while building
_EPS_RAD = 1e-6  # build slack (~6 m) for numpy's float error in arccos near 0


class _Entry:
    """An active center, its point precomputed for the haversine; `alive` turns False when it leaves the active set."""

    __slots__ = ("alive", "c", "center", "h", "in_table", "key", "lat", "lon", "sid")

    def __init__(self, key: str, center: CenterRecord) -> None:
        sid = str(center.center_id)
        self.key, self.center, self.sid = key, center, key if key == sid else sid  # one string, not two
        self.lat, self.lon = center.lat, center.lon
        self.h, self.c = center.lat * _HALF_RAD, math.cos(math.radians(center.lat))
        self.alive, self.in_table = True, False

    def same_place(self, center: CenterRecord) -> bool:
        old = self.center
        return (center.lat, center.lon, center.center_id, center.tambon_code, center.amphoe_code,
                center.province_code) == (old.lat, old.lon, old.center_id, old.tambon_code, old.amphoe_code,
                                          old.province_code)


def _order(e: _Entry) -> tuple[float, str, str]:
    return e.h, e.sid, e.key


class _Strip:
    """Centers sorted by latitude: a k-nearest search walks outward from the query's latitude."""

    __slots__ = ("entries", "hs")

    def __init__(self) -> None:
        self.hs: list[float] = []
        self.entries: list[_Entry] = []  # by (h, sid, key): sort keys made when needed, not kept (memory)

    def add(self, e: _Entry) -> None:
        pos = bisect_left(self.entries, _order(e), key=_order)
        self.hs.insert(pos, e.h)
        self.entries.insert(pos, e)

    def remove(self, e: _Entry) -> None:
        pos = bisect_left(self.entries, _order(e), key=_order)
        del self.hs[pos], self.entries[pos]

    def search(self, h1: float, c1: float, lon: float, k: int, best: Best, ex: set[str]) -> None:
        """Merge this strip's centers into `best`, walking out from the query's latitude; done once the latitude
        gap alone (great-circle >= R * latitude gap) is past the k-th best. On the way, a center far off in
        longitude is passed over without its haversine: d >= R asin(cos(lat) sin(gap)) >= R cos(lat) gap 2 / pi."""
        hs, entries, n = self.hs, self.entries, len(self.hs)
        hi = bisect_left(hs, h1)
        lo = hi - 1
        sin, asin, sqrt = math.sin, math.asin, math.sqrt
        reach, across = _reach(best, k), c1 / math.pi  # in half-radians, as h
        while lo >= 0 or hi < n:
            if hi < n and (lo < 0 or hs[hi] - h1 <= h1 - hs[lo]):
                e, gap = entries[hi], hs[hi] - h1
                hi += 1
            else:
                e, gap = entries[lo], h1 - hs[lo]
                lo -= 1
            if gap > reach:
                return
            dl = abs(e.lon - lon)
            dl = (360 - dl if dl > 180 else dl) * _RAD
            if across * (dl if dl < _QUARTER else _QUARTER) > reach or (ex and e.sid in ex):
                continue
            s1, s2 = sin(e.h - h1), sin((e.lon - lon) * _HALF_RAD)
            d = _TWO_R * asin(sqrt(s1 ** 2 + c1 * e.c * s2 ** 2))
            if len(best) < k or (d, e.sid, e.key) < best[-1][:3]:
                insort(best, (d, e.sid, e.key, e))
                del best[k:]
                reach = _reach(best, k)


def _reach(best: Best, k: int) -> float:
    """How far (in half-radians) an unseen center may be and still rank: the k-th best, with room for float error."""
    return (best[k - 1][0] * (1 + 1e-12) + 1e-9) / _TWO_R if len(best) >= k else math.inf


def _ranked(entries: Iterable[_Entry], lat: float, lon: float, k: int, ex: set[str]) -> Best:
    """The k nearest of these still active and not excluded, by (haversine_km, center id, key)."""
    h1, c1, sin, asin, sqrt = lat * _HALF_RAD, math.cos(math.radians(lat)), math.sin, math.asin, math.sqrt
    return sorted((_TWO_R * asin(sqrt(sin(e.h - h1) ** 2 + c1 * e.c * sin((e.lon - lon) * _HALF_RAD) ** 2)), e.sid,
                   e.key, e) for e in entries if e.alive and e.sid not in ex)[:k]


class _Cell:
    """What the table knows of one cell: `near1`, the centers that can be the nearest to some point in it (less
    any that another center beats everywhere in it), and, read on the slower paths and only then made into
    entries, those that can be among the K nearest: nearest its middle first, `ends[K - 1]` being where the K
    nearest's end, K up to KMAX."""

    __slots__ = ("block", "lists", "near1", "row")

    def __init__(self, near1: tuple[_Entry, ...], block: _Block | None, row: int) -> None:
        self.near1, self.block, self.row = near1, block, row
        self.lists: tuple[tuple[_Entry, ...], tuple[int, ...]] | None = None

    def near(self) -> tuple[tuple[_Entry, ...], tuple[int, ...]]:
        if self.lists is None and self.block is not None:
            self.lists = self.block.lists(self.row)
        return self.lists or ((), ())


class _Block:
    """The K-nearest candidates of the cells made together, as arrays: cell `row`'s are members[starts[row]:...]."""

    __slots__ = ("ends", "entries", "members", "starts")

    def __init__(self, entries: list[_Entry], members: Ints, starts: Ints, ends: Ints) -> None:
        self.entries, self.members, self.starts, self.ends = entries, members.astype(np.int32), starts, ends

    def lists(self, row: int) -> tuple[tuple[_Entry, ...], tuple[int, ...]]:
        ids = self.members[self.starts[row]:self.starts[row + 1]].tolist()
        return tuple(map(self.entries.__getitem__, ids)), tuple(self.ends[row].tolist())


class _Quarters:
    """A cell with many centers, split at its middle: each quarter's cell (or quarters)."""

    __slots__ = ("kids", "lat", "lon")

    def __init__(self, lat: float, lon: float, kids: list[_Cell | _Quarters]) -> None:
        self.lat, self.lon, self.kids = lat, lon, kids


class _Table:
    """A snapshot of the active set over a grid of small lat/lon cells (power-of-two fractions of a degree, so that
    floor(lat * scale) is exact) covering the centers' box and a margin."""

    __slots__ = ("cells", "cols", "entries", "i0", "j0", "rows", "scale", "x")

    def __init__(self, entries: list[_Entry]) -> None:
        lat = np.array([e.lat for e in entries])
        lon = np.array([e.lon for e in entries])
        lat_lo, lat_hi = max(lat.min() - _MARGIN_DEG, -90.0), min(lat.max() + _MARGIN_DEG, 90.0)
        lon_lo, lon_hi = lon.min() - _MARGIN_DEG, lon.max() + _MARGIN_DEG
        m = _FINEST
        while m > -3 and (lat_hi - lat_lo) * (lon_hi - lon_lo) * 4.0**m > max(_MIN_CELLS, _CELLS_PER_CENTER * len(lat)):
            m -= 1
        self.scale = 2.0**m
        self.i0, self.j0 = math.floor(lat_lo * self.scale), math.floor(lon_lo * self.scale)
        self.rows = math.floor(lat_hi * self.scale) - self.i0 + 1
        self.cols = math.floor(lon_hi * self.scale) - self.j0 + 1
        self.cells: list[_Cell | _Quarters] = [_Cell((), None, 0)] * (self.rows * self.cols)
        self.entries, self.x = entries, _unit(lat, lon)
        n, side = len(entries), 2 << max(self.rows - 1, self.cols - 1, 1).bit_length()  # the root: every center
        rho_cell = _rects(self.i0 + np.arange(self.rows), np.full(self.rows, self.j0), 1, self.scale)[1].max()
        _Build(entries, self.x, self, rho_cell).descend(
            np.array([self.i0]), np.array([self.j0]), side, np.zeros(n, np.int64), np.arange(n))

    def cell(self, lat: float, lon: float) -> _Cell | None:
        i, j = math.floor(lat * self.scale) - self.i0, math.floor(lon * self.scale) - self.j0
        if not (0 <= i < self.rows and 0 <= j < self.cols):
            return None
        found: _Cell | _Quarters = self.cells[i * self.cols + j]
        while isinstance(found, _Quarters):
            found = found.kids[(2 if lat >= found.lat else 0) + (lon >= found.lon)]
        return found


class _Build:
    """The table's cells, computed block by block with numpy. Exact by the triangle inequality: a point p of a cell
    lies within rho of its middle m, so p's K-th nearest is within D_K(m) + rho of p, and each of its K nearest
    within D_K(m) + 2 rho of m. A quadtree narrows the centers down first: a block keeps those within
    D_K(M) + 2 rho_B + 2 rho_cell of its middle M, which holds the K nearest of every point in it (so that its
    quarters' D_K are exact) and every candidate of its cells. A crowded cell is split in quarters the same way,
    from its own candidates (a quarter's K nearest are among them)."""

    def __init__(self, entries: list[_Entry], x: Vectors, table: _Table, rho_cell: float) -> None:
        self.entries, self.x, self.table, self.rho_cell = entries, x, table, rho_cell
        self.kk = min(KMAX, len(entries))
        self.interned: dict[tuple[int, ...], tuple[_Entry, ...]] = {}

    def descend(self, r0: Ints, c0: Ints, side: int, node: Ints, center: Ints) -> None:
        t = self.table
        while side > 2:
            if 4 * len(node) > _BATCH_PAIRS and len(r0) > 1:  # bounds the memory: one half of the blocks, then the rest
                cut = len(r0) // 2
                at = int(np.searchsorted(node, cut))
                self.descend(r0[:cut], c0[:cut], side, node[:at], center[:at])
                self.descend(r0[cut:], c0[cut:], side, node[at:] - cut, center[at:])
                return
            side //= 2
            node, center, r0, c0 = _split(node, center, r0, c0, side, t.i0 + t.rows, t.j0 + t.cols)
            mid, rho = _rects(r0, c0, side, t.scale)
            dots = _dot(self.x, center, mid, node)
            keep = dots >= self.limits(dots, node, len(r0), 2 * self.rho_cell + rho)[-1][node]
            node, center = node[keep], center[keep]
        node, center, r0, c0 = _split(node, center, r0, c0, 1, t.i0 + t.rows, t.j0 + t.cols)
        for at, cell in zip(((r0 - t.i0) * t.cols + c0 - t.j0).tolist(), self.cells(node, center, r0, c0, t.scale),
                            strict=True):
            t.cells[at] = cell

    def limits(self, dots: Floats, node: Ints, nodes: int, reach: Floats) -> list[Floats]:
        """Per block, the least cosine a center within D_K + 2 reach has, K = 1..kk. Ties among the K nearest are
        masked together, which only widens the limits."""
        out, work, starts = [], dots.copy(), np.searchsorted(node, np.arange(nodes))
        for _ in range(self.kk):
            best = np.maximum.reduceat(work, starts)
            out.append(np.cos(np.minimum(np.arccos(np.clip(best, -1, 1)) + 2 * reach + _EPS_RAD, math.pi)))
            work[work >= best[node]] = -np.inf
        return out

    def cells(self, node: Ints, center: Ints, r0: Ints, c0: Ints, res: float, depth: int = 0
              ) -> list[_Cell | _Quarters]:
        """Cells from their pools; a crowded one is split in quarters, each from the cell's own candidates (the K
        nearest of any point of a quarter are among them)."""
        mid, rho = _rects(r0, c0, 1, res)
        dots = _dot(self.x, center, mid, node)
        limits = self.limits(dots, node, len(r0), rho)
        keep = dots >= limits[-1][node]
        order = np.lexsort((-dots[keep], node[keep]))
        node, center, dots = node[keep][order], center[keep][order], dots[keep][order]
        ends = np.stack([np.bincount(node, dots >= lim[node], len(r0)) for lim in limits], axis=1)
        ends = ends.astype(np.int16 if ends.max(initial=0) < 2**15 else np.int64)  # a few per cell: 2 bytes
        starts = np.searchsorted(node, np.arange(len(r0) + 1))
        one = _unbeaten(self.x, node, center, mid, rho, starts, np.arange(len(node)) < (starts[:-1] + ends[:, 0])[node])
        ones = np.bincount(node[one], minlength=len(r0))
        block = _Block(self.entries, center, starts, np.pad(ends, ((0, 0), (0, KMAX - self.kk)), mode="edge"))
        firsts, first_bounds = center[one].tolist(), np.append(0, np.cumsum(ones)).tolist()
        out: list[_Cell | _Quarters] = [_Cell(self.intern(firsts[a:b]), block, g)
                                        for g, (a, b) in enumerate(pairwise(first_bounds))]
        crowded = (ones > _CROWDED) & (depth < _DEPTH)
        if crowded.any():
            parents, pick = np.flatnonzero(crowded), crowded[node]
            kid, kid_center, kr, kc = _split((np.cumsum(crowded) - 1)[node[pick]], center[pick], 2 * r0[parents],
                                             2 * c0[parents], 1, 2**62, 2**62)
            kids = self.cells(kid, kid_center, kr, kc, 2 * res, depth + 1)
            for q, (g, r, c) in enumerate(zip(parents.tolist(), r0[parents].tolist(), c0[parents].tolist(),
                                              strict=True)):
                out[g] = _Quarters((2 * r + 1) / (2 * res), (2 * c + 1) / (2 * res), kids[4 * q:4 * q + 4])
        return out

    def intern(self, ids: list[int]) -> tuple[_Entry, ...]:
        key = tuple(ids)
        if (found := self.interned.get(key)) is None:
            found = self.interned[key] = tuple(map(self.entries.__getitem__, key))
        return found


def _rects(rows: Ints, cols: Ints, size: int, res: float) -> tuple[Vectors, Floats]:
    """Middles (unit vectors) of blocks of size x size cells at `res` cells per degree, and the angle to their
    farthest point, a corner: along a parallel the distance grows with the longitude gap, and along a meridian within
    90 degrees it has a single minimum."""
    lat0, lat1 = np.clip(rows / res, -90, 90), np.clip((rows + size) / res, -90, 90)
    mid_lat, half = (lat0 + lat1) / 2, np.full(len(rows), size / res / 2)
    mid_lon = (cols + size / 2).astype(np.float64) / res
    rho = np.maximum(_angle(mid_lat, lat0, half), _angle(mid_lat, lat1, half))
    return _unit(mid_lat, mid_lon), np.where(half <= 90, rho, math.pi)


def _dot(x: Vectors, i: Ints, y: Vectors, j: Ints) -> Floats:
    return x[0][i] * y[0][j] + x[1][i] * y[1][j] + x[2][i] * y[2][j]


def _unbeaten(x: Vectors, node: Ints, center: Ints, mid: Vectors, rho: Floats, starts: Ints,
              first: npt.NDArray[np.bool_]) -> npt.NDArray[np.bool_]:
    """Of the K = 1 candidates (sorted by node, nearest the middle first), those no rival (the three nearest the
    middle) is nearer to everywhere in the cell: for p within rho of m, p.v >= cos(rho) m.v - sin(rho) |v across m|,
    v = rival - center. The margin, far above float error, keeps ties."""
    beaten = ~first
    cos_rho, sin_rho = np.cos(rho)[node], np.sin(rho)[node]
    for t in range(3):
        rival = center[np.minimum(starts[:-1] + t, starts[1:] - 1)][node]
        v = (x[0][rival] - x[0][center], x[1][rival] - x[1][center], x[2][rival] - x[2][center])
        mv = v[0] * mid[0][node] + v[1] * mid[1][node] + v[2] * mid[2][node]
        across = np.sqrt(np.maximum(v[0] ** 2 + v[1] ** 2 + v[2] ** 2 - mv * mv, 0))
        beaten |= (rival != center) & (cos_rho * mv - sin_rho * across > 1e-12)
    return ~beaten


def _split(node: Ints, center: Ints, r0: Ints, c0: Ints, half: int, last_row: int, last_col: int
           ) -> tuple[Ints, Ints, Ints, Ints]:
    """Each block's four quarters (those inside the grid), each starting from its parent's pool."""
    kr = (r0[:, None] + np.array([0, 0, half, half])).ravel()
    kc = (c0[:, None] + np.array([0, half, 0, half])).ravel()
    inside = (kr < last_row) & (kc < last_col)
    counts = np.repeat(np.bincount(node, minlength=len(r0)), 4) * inside
    first = np.repeat(np.searchsorted(node, np.arange(len(r0))), 4)
    kid = np.repeat(np.arange(len(kr)), counts)
    pos = np.arange(len(kid)) - np.repeat(np.cumsum(counts) - counts, counts)
    return (np.cumsum(inside) - 1)[kid], center[first[kid] + pos], kr[inside], kc[inside]


def _unit(lat: Floats, lon: Floats) -> Vectors:
    la, lo = np.radians(lat), np.radians(lon)
    return np.cos(la) * np.cos(lo), np.cos(la) * np.sin(lo), np.sin(la)


def _angle(lat1: Floats, lat2: Floats, dlon: Floats) -> Floats:
    p1, p2, dl = np.radians(lat1), np.radians(lat2), np.radians(dlon)
    a = np.sin((p2 - p1) / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * np.arcsin(np.sqrt(np.clip(a, 0, 1)))  # type: ignore[no-any-return]


class CenterIndex:
    """Every registry record by key (`centers`), and the active centers by sub-district, district, province and
    place. A table of each small cell's possible nearest centers answers most queries; it is built at the first
    query and absorbs later changes (closed centers count as exclusions, new ones sit in a side strip) until
    `rebuild_after` of them (None: max(32, a quarter of the active centers)) drop it, to be rebuilt at the next."""

    def __init__(self, *, rebuild_after: int | None = None) -> None:
        self.centers: dict[str, CenterRecord] = {}
        self._live: dict[str, _Entry] = {}
        self._tambons: dict[str, dict[str, CenterRecord]] = {}
        self._amphoes: dict[str, _Strip] = {}
        self._provinces: dict[str, _Strip] = {}
        self._table: _Table | None = None
        self._added = _Strip()  # active centers the table does not know yet
        self._changes = 0
        self._rebuild_after = rebuild_after

    def apply(self, key: str, center: CenterRecord | None) -> None:
        """One registry record (None = deleted); a closed center stops receiving cases at once."""
        self.centers.pop(key, None)
        if center is not None:
            self.centers[key] = center
        entry = self._live.get(key)
        if entry is not None and center is not None and center.status == "active" and entry.same_place(center):
            entry.center = center  # a new name or phone: the precomputed point stays valid
            self._tambons[center.tambon_code][key] = center
            return
        if entry is not None:
            self._retire(entry)
        if center is not None and center.status == "active":
            self._admit(_Entry(key, center))

    def _admit(self, e: _Entry) -> None:
        c = e.center
        self._live[e.key] = e
        self._tambons.setdefault(c.tambon_code, {})[e.key] = c
        self._amphoes.setdefault(c.amphoe_code, _Strip()).add(e)
        self._provinces.setdefault(c.province_code, _Strip()).add(e)
        if self._table is not None:
            self._added.add(e)
            self._changed()

    def _retire(self, e: _Entry) -> None:
        c = e.center
        e.alive = False
        del self._live[e.key], self._tambons[c.tambon_code][e.key]
        self._amphoes[c.amphoe_code].remove(e)
        self._provinces[c.province_code].remove(e)
        if self._table is not None:
            if not e.in_table:
                self._added.remove(e)
            self._changed()

    def _changed(self) -> None:
        self._changes += 1
        due = self._rebuild_after if self._rebuild_after is not None else max(32, len(self._live) // 4)
        if self._changes > due:
            self._table, self._added = None, _Strip()

    def rebuild(self) -> None:
        """Build the nearest-center table now (else the first unrestricted query after it was dropped does)."""
        entries = list(self._live.values())
        for e in entries:
            e.in_table = True
        collecting = gc.isenabled()
        gc.disable()  # the build makes ~10^5 tuples without cycles: the cyclic collector would rescan them repeatedly
        try:
            self._table = _Table(entries) if entries else None
        finally:
            if collecting:
                gc.enable()
        self._changes, self._added = 0, _Strip()

    def active_in_tambon(self, tambon_code: str) -> list[CenterRecord]:
        return sorted(self._tambons.get(tambon_code, {}).values(), key=lambda c: str(c.center_id))

    def nearest_active(self, lat: float, lon: float) -> tuple[CenterRecord, float] | None:
        found = self.nearest(lat, lon)
        return found[0] if found else None

    def nearest(self, lat: float, lon: float, *, amphoe_code: str | None = None, province_code: str | None = None,
                exclude: Collection[UUID] = (), k: int = 1) -> Found:
        """The k nearest active centers with their great-circle km (as `haversine_km`; equal distances by center
        id), within the amphoe and/or province if given, skipping `exclude`d center ids."""
        if k < 1:
            return []
        ex = {str(u) for u in exclude}  # ids as strings: their hashes are cached, a UUID's is computed each time
        if amphoe_code is None and province_code is None:
            best = self._anywhere(lat, lon, k, ex)
        elif amphoe_code is not None and province_code is not None and amphoe_code[:2] != province_code:
            best = []  # an amphoe code starts with its province's
        else:
            best = self._within(lat, lon, amphoe_code, province_code, k, ex)
        return [(e.center, d) for d, _, _, e in best]

    def _within(self, lat: float, lon: float, amphoe_code: str | None, province_code: str | None, k: int,
                ex: set[str]) -> Best:
        strip = self._amphoes.get(amphoe_code) if amphoe_code is not None else self._provinces.get(province_code or "")
        if strip is None:
            return []
        if len(strip.hs) > _SMALL_AREA:
            # Within its own district or province a point's k nearest are often all of it: then, as nothing else
            # there ranks before them, they are the area's k nearest.
            around = self._anywhere(lat, lon, k, ex)
            if len(around) == k and all((b[3].center.amphoe_code == amphoe_code if amphoe_code is not None
                                         else b[3].center.province_code == province_code) for b in around):
                return around
        best: Best = []
        strip.search(lat * _HALF_RAD, math.cos(math.radians(lat)), lon, k, best, ex)
        return best

    def _anywhere(self, lat: float, lon: float, k: int, ex: set[str]) -> Best:
        if self._table is None and self._live:
            self.rebuild()
        h1, c1 = lat * _HALF_RAD, math.cos(math.radians(lat))
        if self._table is None:
            return []
        cell = self._table.cell(lat, lon)
        if cell is None:
            return self._everywhere(self._table, lat, lon, k, ex)
        if k == 1:  # the hot path: a handful of candidates, no sorting
            sin, asin, sqrt = math.sin, math.asin, math.sqrt
            top, top_d = None, math.inf
            for e in cell.near1:
                if not e.alive or (ex and e.sid in ex):
                    break  # it may have been the nearest: the cell's longer lists below know who is next
                s1, s2 = sin(e.h - h1), sin((e.lon - lon) * _HALF_RAD)
                d = _TWO_R * asin(sqrt(s1 ** 2 + c1 * e.c * s2 ** 2))
                if d < top_d or (d == top_d and top is not None and (e.sid, e.key) < (top.sid, top.key)):
                    top, top_d = e, d
            else:
                if top is not None:
                    best: Best = [(top_d, top.sid, top.key, top)]
                    if self._added.hs:
                        self._added.search(h1, c1, lon, 1, best, ex)
                    return best
        return self._from_table(self._table, cell, lat, lon, k, ex)

    def _from_table(self, t: _Table, cell: _Cell, lat: float, lon: float, k: int, ex: set[str]) -> Best:
        """Closed or excluded candidates act like exclusions: with g of them among the first K' prefix, the k
        nearest remaining are still in it when k + g <= K' (the K' nearest of any point of the cell are)."""
        near, ends = cell.near()
        need = k
        while True:
            if need > KMAX:
                return self._everywhere(t, lat, lon, k, ex)
            candidates = near[:ends[need - 1]]
            gone = sum(1 for e in candidates if not e.alive or e.sid in ex)
            if k + gone <= need:
                break
            need = k + gone
        return self._with_added(_ranked(candidates, lat, lon, k, ex), lat, lon, k, ex)

    def _everywhere(self, t: _Table, lat: float, lon: float, k: int, ex: set[str]) -> Best:
        """Off the grid, or with too many of a cell's candidates closed or excluded: every center by angle (numpy),
        the nearest few ranked exactly, until those not ranked are surely farther than the k-th."""
        q = _unit(np.array([lat]), np.array([lon]))
        cos = t.x[0] * q[0][0] + t.x[1] * q[1][0] + t.x[2] * q[2][0]
        n, m = len(cos), k + len(ex) + 16
        while True:
            top = np.argpartition(-cos, m - 1)[:m] if m < n else np.arange(n)
            best = _ranked(map(t.entries.__getitem__, top.tolist()), lat, lon, k, ex)
            # the others' cosines are at most the least taken: their angle is at least its (less float error)
            if m >= n or (len(best) == k and _reach(best, k) * 2 < math.acos(min(1.0, cos[top].min())) - 1e-7):
                break
            m *= 2
        return self._with_added(best, lat, lon, k, ex)

    def _with_added(self, best: Best, lat: float, lon: float, k: int, ex: set[str]) -> Best:
        if self._added.hs:
            self._added.search(lat * _HALF_RAD, math.cos(math.radians(lat)), lon, k, best, ex)
        return best
