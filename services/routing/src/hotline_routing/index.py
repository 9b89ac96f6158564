"""The in-memory center index, fed by the compacted `registry.center.v1` topic: the exact nearest active centers."""

from __future__ import annotations

import math
from bisect import bisect_left, insort
from collections.abc import Collection
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
_TWO_R = 2 * EARTH_RADIUS_KM
KMAX = 4  # the table answers while k + (closed or excluded among a cell's candidates) <= KMAX; beyond, a ring search
_GRID = 8  # live grid cells per degree (~14 km); powers of two make floor(lat * cells) exact, so no boundary slack
_GRID_COLS = 360 * _GRID
_MARGIN_DEG = 1.0  # the table covers the active centers' box plus this; queries beyond it take the ring search
_FINEST = 4  # table cells of 1/16 degree (~7 km), coarser where that would make more than 8 cells per center
_CELLS_PER_CENTER = 8
_MIN_CELLS = 256
_DENSE, _DEPTH = 4, 3  # cells with more possible nearest centers split in quarters, at most thrice
_BATCH_PAIRS = 250_000  # quadtree pairs held at once while building
_EPS_RAD = 1e-6  # build slack (~6 m) for numpy's float error in arccos near 0


def _beyond(bound_km: float, best_km: float) -> bool:
    """A lower bound strictly past the k-th best distance, with room for float error: nothing unseen can rank."""
    return bound_km > best_km * (1 + 1e-12) + 1e-9


class _Entry:
    """An active center, its point precomputed for the haversine; `alive` turns False when it leaves the active set."""

    __slots__ = ("alive", "c", "center", "h", "in_table", "key", "lat", "lon", "sid", "uid")

    def __init__(self, key: str, center: CenterRecord) -> None:
        self.key, self.center, self.uid, self.sid = key, center, center.center_id, str(center.center_id)
        self.lat, self.lon = center.lat, center.lon
        self.h, self.c = center.lat * _HALF_RAD, math.cos(math.radians(center.lat))
        self.alive, self.in_table = True, False

    def km(self, h1: float, c1: float, lon: float) -> float:
        s1, s2 = math.sin(self.h - h1), math.sin((self.lon - lon) * _HALF_RAD)
        return _TWO_R * math.asin(math.sqrt(s1 ** 2 + c1 * self.c * s2 ** 2))

    def same_place(self, center: CenterRecord) -> bool:
        old = self.center
        return (center.lat, center.lon, center.center_id, center.tambon_code, center.amphoe_code,
                center.province_code) == (old.lat, old.lon, old.center_id, old.tambon_code, old.amphoe_code,
                                          old.province_code)


def _grid_cell(lat: float, lon: float) -> tuple[int, int]:
    return math.floor(lat * _GRID), math.floor(lon * _GRID) % _GRID_COLS


def _offer(best: Best, k: int, e: _Entry, d: float) -> None:
    if len(best) < k or (d, e.sid, e.key) < best[-1][:3]:
        insort(best, (d, e.sid, e.key, e))
        del best[k:]


class _Strip:
    """Active centers sorted by latitude: a k-nearest search walks outward from the query's latitude."""

    __slots__ = ("entries", "hs", "keys")

    def __init__(self) -> None:
        self.keys: list[tuple[float, str, str]] = []
        self.hs: list[float] = []
        self.entries: list[_Entry] = []

    def add(self, e: _Entry) -> None:
        pos = bisect_left(self.keys, (e.h, e.sid, e.key))
        self.keys.insert(pos, (e.h, e.sid, e.key))
        self.hs.insert(pos, e.h)
        self.entries.insert(pos, e)

    def remove(self, e: _Entry) -> None:
        pos = bisect_left(self.keys, (e.h, e.sid, e.key))
        del self.keys[pos], self.hs[pos], self.entries[pos]

    def search(self, h1: float, c1: float, lon: float, k: int, best: Best, ex: Collection[UUID]) -> None:
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
            if across * min((360 - dl if dl > 180 else dl) * _RAD, math.pi / 2) > reach or e.uid in ex:
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


class _Quarters:
    """A cell with many centers, split at its middle: the candidates of each quarter (or its quarters' quarters)."""

    __slots__ = ("kids", "lat", "lon")

    def __init__(self, lat: float, lon: float, kids: list[Candidates]) -> None:
        self.lat, self.lon, self.kids = lat, lon, kids


Candidates = tuple[_Entry, ...] | _Quarters


class _Table:
    """A snapshot of the active set: for each fine lat/lon cell, `near1`, the centers that can be the nearest to
    some point in it (split into quarters where there are many), and as arrays (read on the slower paths only) those
    that can be among the K nearest, K up to KMAX: `members[start:start + ends[K - 1]]`, nearest the middle first."""

    __slots__ = ("cols", "ends", "entries", "i0", "j0", "members", "near1", "rows", "scale", "start")

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
        self.entries, size, n = entries, self.rows * self.cols, len(entries)
        self.near1: list[Candidates] = [()] * size
        self.start, self.ends = np.zeros(size, np.int64), np.zeros((size, KMAX), np.int32)
        chunks: list[Ints] = []
        rho_cell = _rects(self.i0 + np.arange(self.rows), np.full(self.rows, self.j0), 1, self.scale)[1].max()
        side = 2 << max(self.rows - 1, self.cols - 1, 1).bit_length()  # the root's pool: every center
        self._descend(_unit(lat, lon), np.array([self.i0]), np.array([self.j0]), side, np.zeros(n, np.int64),
                      np.arange(n), rho_cell, chunks, {})
        self.members = np.concatenate(chunks).astype(np.int32)

    def cell(self, lat: float, lon: float) -> int:
        i, j = math.floor(lat * self.scale) - self.i0, math.floor(lon * self.scale) - self.j0
        return i * self.cols + j if 0 <= i < self.rows and 0 <= j < self.cols else -1

    def candidates(self, cell: int) -> tuple[list[_Entry], list[int]]:
        """The cell's KMAX-nearest candidates and where each K-nearest prefix ends."""
        start, ends = int(self.start[cell]), self.ends[cell].tolist()
        return [self.entries[i] for i in self.members[start:start + ends[-1]].tolist()], ends

    def _descend(self, x: Vectors, r0: Ints, c0: Ints, side: int, node: Ints, center: Ints, rho_cell: float,
                 chunks: list[Ints], interned: dict[tuple[int, ...], tuple[_Entry, ...]]) -> None:
        """Exact by the triangle inequality. A point p of a cell lies within rho of its middle m, so p's K-th nearest
        is within D_K(m) + rho and each of its K nearest within D_K(m) + 2 rho of m. A quadtree of blocks narrows the
        centers down first: a block keeps those within D_K(M) + 2 rho_B + 2 rho_cell of its middle M, which holds
        the K nearest of every point in it (so its quarters' D_K are exact) and every candidate of its cells."""
        kk, last_row, last_col = min(KMAX, len(self.entries)), self.i0 + self.rows, self.j0 + self.cols
        while True:
            if 4 * len(node) > _BATCH_PAIRS and len(r0) > 1:  # bounds the memory: one half of the blocks, then the rest
                cut = len(r0) // 2
                at = int(np.searchsorted(node, cut))
                self._descend(x, r0[:cut], c0[:cut], side, node[:at], center[:at], rho_cell, chunks, interned)
                self._descend(x, r0[cut:], c0[cut:], side, node[at:] - cut, center[at:], rho_cell, chunks, interned)
                return
            side //= 2
            node, center, r0, c0 = _split(node, center, r0, c0, side, last_row, last_col)
            mid, rho = _rects(r0, c0, side, self.scale)
            dots = _dot(x, center, mid, node)
            kth, work = [], dots.copy()
            for _ in range(kk):  # the K-th largest cosine per block; ties masked together only widen the limits
                best = np.maximum.reduceat(work, np.searchsorted(node, np.arange(len(r0))))
                kth.append(np.arccos(np.clip(best, -1, 1)))
                work[work >= best[node]] = -np.inf
            reach = rho if side == 1 else 2 * rho_cell + rho
            limits = [np.cos(np.minimum(a + 2 * reach + _EPS_RAD, math.pi)) for a in kth]
            keep = dots >= limits[-1][node]
            node, center, dots = node[keep], center[keep], dots[keep]
            if side == 1:
                break
        order = np.lexsort((-dots, node))
        node, center, dots = node[order], center[order], dots[order]
        ends = np.stack([np.bincount(node, dots >= lim[node], len(r0)) for lim in limits], axis=1)
        starts = np.searchsorted(node, np.arange(len(r0) + 1))
        one = _unbeaten(x, node, center, mid, rho, starts, np.arange(len(node)) < (starts[:-1] + ends[:, 0])[node])
        cells = (r0 - self.i0) * self.cols + c0 - self.j0
        self.start[cells] = starts[:-1] + sum(len(c) for c in chunks)
        self.ends[cells] = np.pad(ends, ((0, 0), (0, KMAX - kk)), mode="edge")
        chunks.append(center)
        for cell, near1 in zip(cells.tolist(), self._near1(x, node[one], center[one], r0, c0, self.scale, interned),
                               strict=True):
            self.near1[cell] = near1

    def _near1(self, x: Vectors, node: Ints, center: Ints, r0: Ints, c0: Ints, res: float,
               interned: dict[tuple[int, ...], tuple[_Entry, ...]], depth: int = 0) -> list[Candidates]:
        """Each cell's possible nearest centers, as entries; where there are more than _DENSE, the cell's quarters'
        (their pool: the cell's own, as whatever is nearest somewhere in a quarter is so in the cell)."""
        counts = np.bincount(node, minlength=len(r0))
        dense = (counts > _DENSE) & (depth < _DEPTH)
        split: dict[int, _Quarters] = {}
        if dense.any():
            parents, pick = np.flatnonzero(dense), dense[node]
            kid, kid_center, kr, kc = _split((np.cumsum(dense) - 1)[node[pick]], center[pick], 2 * r0[parents],
                                             2 * c0[parents], 1, 2**62, 2**62)
            mid, rho = _rects(kr, kc, 1, 2 * res)
            dots = _dot(x, kid_center, mid, kid)
            best = np.maximum.reduceat(dots, np.searchsorted(kid, np.arange(len(kr))))
            keep = dots >= np.cos(np.minimum(np.arccos(np.clip(best, -1, 1)) + 2 * rho + _EPS_RAD, math.pi))[kid]
            kid, kid_center, dots = kid[keep], kid_center[keep], dots[keep]
            order = np.lexsort((-dots, kid))
            kid, kid_center = kid[order], kid_center[order]
            starts = np.searchsorted(kid, np.arange(len(kr) + 1))
            one = _unbeaten(x, kid, kid_center, mid, rho, starts, np.ones(len(kid), bool))
            kids = self._near1(x, kid[one], kid_center[one], kr, kc, 2 * res, interned, depth + 1)
            split = {g: _Quarters((2 * r + 1) / (2 * res), (2 * c + 1) / (2 * res), kids[4 * q:4 * q + 4])
                     for q, (g, r, c) in enumerate(zip(parents.tolist(), r0[parents].tolist(), c0[parents].tolist(),
                                                       strict=True))}
        members, bounds, get = center.tolist(), np.append(0, np.cumsum(counts)).tolist(), self.entries.__getitem__
        out: list[Candidates] = []
        for g in range(len(r0)):
            if g in split:
                out.append(split[g])
                continue
            ids = tuple(members[bounds[g]:bounds[g + 1]])
            if (near1 := interned.get(ids)) is None:
                near1 = interned[ids] = tuple(map(get, ids))
            out.append(near1)
        return out


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
        self._grid: dict[tuple[int, int], list[_Entry]] = {}
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
        self._grid.setdefault(_grid_cell(e.lat, e.lon), []).append(e)
        if self._table is not None:
            self._added.add(e)
            self._changed()

    def _retire(self, e: _Entry) -> None:
        c = e.center
        e.alive = False
        del self._live[e.key], self._tambons[c.tambon_code][e.key]
        self._amphoes[c.amphoe_code].remove(e)
        self._provinces[c.province_code].remove(e)
        self._grid[_grid_cell(e.lat, e.lon)].remove(e)
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
        self._table = _Table(entries) if entries else None
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
        if amphoe_code is None and province_code is None:
            return self._anywhere(lat, lon, k, exclude)
        if amphoe_code is not None and province_code is not None and amphoe_code[:2] != province_code:
            return []  # an amphoe code starts with its province's
        strip = self._amphoes.get(amphoe_code) if amphoe_code is not None else self._provinces.get(province_code or "")
        best: Best = []
        if strip is not None:
            strip.search(lat * _HALF_RAD, math.cos(math.radians(lat)), lon, k, best, set(exclude))
        return [(e.center, d) for d, _, _, e in best]

    def _anywhere(self, lat: float, lon: float, k: int, exclude: Collection[UUID]) -> Found:
        if self._table is None and self._live:
            self.rebuild()
        h1, c1, t = lat * _HALF_RAD, math.cos(math.radians(lat)), self._table
        cell = t.cell(lat, lon) if t is not None else -1
        if t is None or cell < 0:
            return self._ring_search(lat, lon, h1, c1, k, set(exclude))
        if k == 1 and not exclude:  # the hot path: a handful of candidates, no sorting
            near1 = t.near1[cell]
            while isinstance(near1, _Quarters):
                near1 = near1.kids[(lat >= near1.lat) * 2 + (lon >= near1.lon)]
            sin, asin, sqrt = math.sin, math.asin, math.sqrt
            top, top_d = None, math.inf
            for e in near1:
                if not e.alive:
                    break  # a closed candidate: the cell's longer lists below know who may now be nearest
                s1, s2 = sin(e.h - h1), sin((e.lon - lon) * _HALF_RAD)
                d = _TWO_R * asin(sqrt(s1 ** 2 + c1 * e.c * s2 ** 2))
                if d < top_d or (d == top_d and top is not None and (e.sid, e.key) < (top.sid, top.key)):
                    top, top_d = e, d
            else:
                if top is not None and not self._added.hs:
                    return [(top.center, top_d)]
                if top is not None:
                    best: Best = [(top_d, top.sid, top.key, top)]
                    self._added.search(h1, c1, lon, 1, best, ())
                    return [(e.center, d) for d, _, _, e in best]
        return self._from_table(t, cell, h1, c1, lat, lon, k, set(exclude))

    def _from_table(self, t: _Table, cell: int, h1: float, c1: float, lat: float, lon: float, k: int,
                    ex: set[UUID]) -> Found:
        """Closed or excluded candidates act like exclusions: with g of them among the first K' prefix, the k
        nearest remaining are still in it when k + g <= K' (the K' nearest of any point of the cell are)."""
        near, ends = t.candidates(cell)
        need = k
        while True:
            if need > KMAX:
                return self._ring_search(lat, lon, h1, c1, k, ex)
            candidates = near[:ends[need - 1]]
            gone = sum(1 for e in candidates if not e.alive or e.uid in ex)
            if k + gone <= need:
                break
            need = k + gone
        best: Best = []
        for e in candidates:
            if e.alive and e.uid not in ex:
                _offer(best, k, e, e.km(h1, c1, lon))
        self._added.search(h1, c1, lon, k, best, ex)
        return [(e.center, d) for d, _, _, e in best]

    def _ring_search(self, lat: float, lon: float, h1: float, c1: float, k: int, ex: set[UUID]) -> Found:
        """Rings of live-grid cells outward from the query's cell, until the nearest possible point outside the
        searched window is farther than the k-th best. Outside the window a center is either past a latitude edge
        (great-circle >= R * latitude gap) or past a longitude edge, where the nearest point is on the edge's
        meridian: sin(d / R) = cos(lat) * sin(longitude gap), or the pole past 90 degrees. Near the poles or far out
        at sea the rings would not end soon: past as many cells as centers, it scans them all."""
        qi, qj = math.floor(lat * _GRID), math.floor(lon * _GRID)
        best: Best = []
        for r in range(_GRID_COLS // 2):
            if r * r * 4 > max(64, len(self._live)):
                break
            cells = [(qi, qj)] if r == 0 else (
                [(qi + di, qj + dj) for di in (-r, r) for dj in range(-r, r + 1)]
                + [(qi + di, qj + dj) for di in range(-r + 1, r) for dj in (-r, r)])
            for i, j in cells:
                for e in self._grid.get((i, j % _GRID_COLS), ()):
                    if e.uid not in ex:
                        _offer(best, k, e, e.km(h1, c1, lon))
            if len(best) < k:
                continue
            south, north = (qi - r) / _GRID, (qi + r + 1) / _GRID
            west, east = (qj - r) / _GRID, (qj + r + 1) / _GRID
            gaps = [g for g, exists in ((lat - south, south > -90), (north - lat, north <= 90)) if exists]
            bound = EARTH_RADIUS_KM * math.radians(min(gaps)) if gaps else math.inf
            if east - west < 360:
                gap = math.radians(min(lon - west, east - lon))
                bound = min(bound, EARTH_RADIUS_KM * math.asin(min(1.0, c1 * math.sin(min(gap, math.pi / 2)))))
            if _beyond(bound, best[k - 1][0]):
                return [(e.center, d) for d, _, _, e in best]
        best.clear()
        for e in self._live.values():
            if e.uid not in ex:
                _offer(best, k, e, e.km(h1, c1, lon))
        return [(e.center, d) for d, _, _, e in best]

