"""Routing's center index: the nearest active centers per query, against a numpy scan of every center.

Two registries: one center at each of the gazetteer's 7,436 tambon centroids (demo scale), and 20,000 centers
jittered around them (several per sub-district, as real deployments may have). Two query sets with a fixed seed:
points uniform over Thailand's bounding box (a third of them at sea or abroad, the index's worst case) and points a
few km from tambon centroids (where cases come from). Timed one by one: `nearest(lat, lon)` and
`nearest(lat, lon, k=3, province_code=...)`. Baseline in the same process, on the same queries: numpy's vectorised
haversine over arrays of every active center (or the province's), argmin (argsort for k = 3), per query. Every
answer is compared; where the two differ, an exact scan with `haversine_km` decides, so a numpy rounding tie is told
apart from a wrong answer. Also: build time from records, memory (tracemalloc), live updates (a center closed,
then reopened: the apply, and the very next query). Targets: >= 100,000 nearest-center queries/s on one core and
under 50 MB of index. About 40 s.

    uv run --frozen python bench/routing_index.py [--queries 100000] [--seed 1300] [--baseline-every 1]
"""

from __future__ import annotations

import argparse
import gc
import math
import os
import platform
import random
import statistics
import sys
import time
import tracemalloc
import uuid
from collections.abc import Callable
from typing import TypeVar

import numpy as np

from hotline_common.events import CenterRecord
from hotline_gazetteer import gazetteer, haversine_km
from hotline_routing.index import KMAX, CenterIndex

TARGET_QPS = 100_000
TARGET_MB = 50.0
THAILAND = (5.6, 20.5, 97.3, 105.7)  # lat, lat, lon, lon
JITTER_DEG = 0.03  # ~3 km
Point = tuple[float, float]
Query = tuple[float, float, str]  # lat, lon, province code
T = TypeVar("T")


def registry(rng: random.Random, size: int) -> list[CenterRecord]:
    """A center per tambon at its centroid; past 7,436, more centers a few km from random tambons' centroids."""
    tambons = gazetteer().tambons
    out = []
    for i in range(size):
        t = tambons[i] if i < len(tambons) and size == len(tambons) else rng.choice(tambons)
        jitter = 0.0 if size == len(tambons) else JITTER_DEG
        out.append(CenterRecord(center_id=uuid.UUID(int=rng.getrandbits(128)), name_th=f"ศูนย์ช่วยเหลือสังคมตำบล{t.name_th}",
                                tambon_code=t.code, amphoe_code=t.amphoe_code, province_code=t.province_code,
                                lat=t.lat + rng.uniform(-jitter, jitter), lon=t.lon + rng.uniform(-jitter, jitter)))
    return out


def build(records: list[CenterRecord]) -> tuple[CenterIndex, float, float]:
    index = CenterIndex()
    began = time.perf_counter()
    for c in records:
        index.apply(str(c.center_id), c)
    applied = time.perf_counter()
    index.rebuild()
    return index, applied - began, time.perf_counter() - applied


def memory(records: list[CenterRecord]) -> tuple[float, float]:
    """The index's own allocations (the records exist before), retained and at the build's peak, MB."""
    gc.collect()
    tracemalloc.start()
    index, _, _ = build(records)
    retained, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    del index
    return retained / 1e6, peak / 1e6


class Scan:
    """The baseline: every active center in numpy arrays sorted by center id (argmin's first of equals is then the
    lowest id, as the index breaks ties), and each province's."""

    def __init__(self, records: list[CenterRecord]) -> None:
        self.records = sorted((c for c in records if c.status == "active"), key=lambda c: str(c.center_id))
        self.ids = [str(c.center_id) for c in self.records]
        self.lat = np.radians([c.lat for c in self.records])
        self.lon = np.radians([c.lon for c in self.records])
        self.cos = np.cos(self.lat)
        self.unit = np.stack([self.cos * np.cos(self.lon), self.cos * np.sin(self.lon), np.sin(self.lat)], axis=1)
        groups: dict[str, list[int]] = {}
        for i, c in enumerate(self.records):
            groups.setdefault(c.province_code, []).append(i)
        self.provinces = {p: np.array(ix) for p, ix in groups.items()}

    def haversine(self, lat: float, lon: float, ix: np.ndarray | slice) -> np.ndarray:
        p = math.radians(lat)
        return np.sin((self.lat[ix] - p) / 2) ** 2 + math.cos(p) * self.cos[ix] * np.sin(
            (self.lon[ix] - math.radians(lon)) / 2) ** 2

    def nearest(self, lat: float, lon: float, _: str) -> int:
        return int(np.argmin(self.haversine(lat, lon, slice(None))))

    def nearest_in(self, lat: float, lon: float, province: str) -> np.ndarray:
        ix = self.provinces[province]
        return ix[np.argsort(self.haversine(lat, lon, ix), kind="stable")[:3]]

    def every_answer(self, queries: list[Query], k: int) -> list[list[str]]:
        """Every query at once, in blocks (cosines of the angles by matrix product): a fast check of all answers."""
        out: list[list[str]] = [[] for _ in queries]
        groups: dict[str, list[int]] = {}
        for i, q in enumerate(queries):
            groups.setdefault(q[2] if k > 1 else "", []).append(i)
        for province, members in groups.items():
            ix = self.provinces[province] if province else np.arange(len(self.records))
            for block in range(0, len(members), 2_000):
                rows = members[block:block + 2_000]
                la, lo = np.radians([queries[i][0] for i in rows]), np.radians([queries[i][1] for i in rows])
                q = np.stack([np.cos(la) * np.cos(lo), np.cos(la) * np.sin(lo), np.sin(la)], axis=1)
                cosines = q @ self.unit[ix].T
                top = (np.argmax(cosines, axis=1)[:, None] if k == 1
                       else np.argsort(-cosines, axis=1, kind="stable")[:, :k])
                for i, best in zip(rows, top, strict=True):
                    out[i] = [self.ids[j] for j in ix[best]]
        return out


def exact(records: list[CenterRecord], lat: float, lon: float, k: int, province: str | None = None) -> list[str]:
    ranked = sorted((haversine_km(lat, lon, c.lat, c.lon), str(c.center_id)) for c in records
                    if c.status == "active" and province in (None, c.province_code))
    return [cid for _, cid in ranked[:k]]


def quantile(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100)[q - 1]


def clocked(fn: Callable[[float, float, str], T], queries: list[Query]) -> tuple[float, list[float], list[T]]:
    """Queries/s from a plain loop (no clock reads), then latencies (µs) and answers from a clocked one."""
    gc.collect()
    began = time.perf_counter()
    for lat, lon, province in queries:
        fn(lat, lon, province)
    per_second = len(queries) / (time.perf_counter() - began)
    latencies, answers = [], []
    clock = time.perf_counter_ns
    for lat, lon, province in queries:
        t0 = clock()
        answers.append(fn(lat, lon, province))
        latencies.append((clock() - t0) / 1000)
    return per_second, latencies, answers


def disagreements(mine: list[list[str]], theirs: list[list[str]], decide: Callable[[int], list[str]],
                  ) -> tuple[int, int]:
    """(wrong, ties): where two answers differ, an exact scan with haversine_km says which is right; a numpy
    rounding that ranks a float-level tie the other way is not the index's error."""
    wrong = ties = 0
    for i, (a, b) in enumerate(zip(mine, theirs, strict=True)):
        if a != b:
            right = a == decide(i)
            wrong, ties = wrong + (not right), ties + right
    return wrong, ties


def updates(index: CenterIndex, records: list[CenterRecord], rng: random.Random, count: int = 500
            ) -> tuple[list[float], list[float], int]:
    """Close a center, ask at its door, reopen it, ask again: apply µs, next-query µs, and answers that were stale."""
    applies, queries, stale = [], [], 0
    clock = time.perf_counter_ns
    for c in rng.sample([c for c in records if c.status == "active"], count):
        for status in ("closed", "active"):
            changed = c.model_copy(update={"status": status})
            t0 = clock()
            index.apply(str(c.center_id), changed)
            t1 = clock()
            found = index.nearest(c.lat, c.lon)
            t2 = clock()
            applies.append((t1 - t0) / 1000)
            queries.append((t2 - t1) / 1000)
            around = index.nearest(c.lat, c.lon, k=KMAX)
            listed = c.center_id in {f.center_id for f, _ in around}
            stale += listed != (status == "active") or found != around[:1]
    return applies, queries, stale


def run(label: str, records: list[CenterRecord], rng: random.Random, n_queries: int, every: int) -> bool:
    index, apply_s, build_s = build(records)
    retained_mb, peak_mb = memory(records)
    print(f"\n{label}: {len(records):,} centers")
    print(f"  build from records: apply {apply_s * 1e3:.0f} ms ({apply_s / len(records) * 1e6:.1f} µs each), then "
          f"the nearest-center table {build_s * 1e3:.0f} ms (at the first query, and again after many changes)")
    print(f"  index memory (tracemalloc): {retained_mb:.1f} MB retained, {peak_mb:.1f} MB at the build's peak")
    scan, tambons = Scan(records), gazetteer().tambons
    lat0, lat1, lon0, lon1 = THAILAND
    sets = {"uniform over Thailand's box": [(rng.uniform(lat0, lat1), rng.uniform(lon0, lon1))
                                            for _ in range(n_queries)],
            "near tambon centroids": [(t.lat + rng.uniform(-JITTER_DEG, JITTER_DEG),
                                       t.lon + rng.uniform(-JITTER_DEG, JITTER_DEG))
                                      for t in (rng.choice(tambons) for _ in range(n_queries))]}
    ok = retained_mb < TARGET_MB
    print(f"  {'':<50}{'p50 µs':>8}{'p99 µs':>8}{'queries/s':>11}{'× scan':>8}{'wrong':>7}{'ties':>6}")
    for name, points in sets.items():
        # each query's province: that of its nearest center, as a case's own province (untimed)
        queries = [(lat, lon, index.nearest(lat, lon)[0][0].province_code) for lat, lon in points]
        sample = queries[::every]
        for what, k, mine, theirs in (
                ("nearest(k=1)", 1, lambda la, lo, _: index.nearest(la, lo), scan.nearest),
                ("nearest(k=3, province)", 3, lambda la, lo, p: index.nearest(la, lo, k=3, province_code=p),
                 scan.nearest_in)):
            fast, fast_lat, found = clocked(mine, queries)
            slow, slow_lat, scanned = clocked(theirs, sample)  # type: ignore[arg-type]
            answers = [[str(c.center_id) for c, _ in f] for f in found]
            baseline = [[scan.ids[int(j)] for j in np.atleast_1d(s)] for s in scanned]
            province = None if k == 1 else 0
            decide = lambda i, k=k, qs=queries, p=province: exact(  # noqa: E731
                records, qs[i][0], qs[i][1], k, None if p is None else qs[i][2])
            wrong, ties = disagreements(answers, scan.every_answer(queries, k), decide)
            wrong_s, ties_s = disagreements(answers[::every], baseline, lambda i, d=decide: d(i * every))
            print(f"  {name + ': ' + what:<50}{quantile(fast_lat, 50):>8.1f}{quantile(fast_lat, 99):>8.1f}"
                  f"{fast:>11,.0f}{fast / slow:>8.1f}{wrong + wrong_s:>7}{ties + ties_s:>6}")
            print(f"  {'  baseline: numpy haversine scan' + (f', every {every}th query' if every > 1 else ''):<50}"
                  f"{quantile(slow_lat, 50):>8.1f}{quantile(slow_lat, 99):>8.1f}{slow:>11,.0f}")
            ok &= wrong + wrong_s == 0 and (k > 1 or fast >= TARGET_QPS)
    applies, next_queries, stale = updates(index, records, rng)
    print(f"  live updates, 500 centers closed then reopened: apply p50 {statistics.median(applies):.1f} µs "
          f"(max {max(applies):.0f}); the very next query p50 {statistics.median(next_queries):.1f} µs "
          f"(max {max(next_queries):.0f}); stale answers {stale}")
    points = sets["near tambon centroids"]
    began = time.perf_counter()
    for lat, lon in points:
        index.nearest(lat, lon)
    print(f"  nearest(k=1) near tambon centroids with those 1,000 changes absorbed (before the rebuild they lead "
          f"to): {len(points) / (time.perf_counter() - began):,.0f} queries/s")
    return ok and stale == 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--queries", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1300)
    parser.add_argument("--baseline-every", type=int, default=5,
                        help="time the per-query numpy scan on every n-th query (2n with 20,000 centers)")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    print(f"python {platform.python_version()} on {platform.machine()}, numpy {np.__version__}, "
          f"load average {os.getloadavg()[0]:.2f}")
    ok = run("demo scale: a center at every tambon centroid", registry(rng, len(gazetteer().tambons)), rng,
             args.queries, args.baseline_every)
    ok &= run("several per sub-district, jittered ~3 km", registry(rng, 20_000), rng, args.queries,
              args.baseline_every * 2)
    print(f"\n{'PASS' if ok else 'FAIL'}: nearest(k=1) >= {TARGET_QPS:,} queries/s, index < {TARGET_MB:.0f} MB, "
          f"every answer exact, no stale answer after an update")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
