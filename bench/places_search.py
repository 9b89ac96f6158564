"""Place search and address resolution: latency per query over the whole country, and how often the answer is right.

Queries are made from the gazetteer itself with a fixed seed: tambon, amphoe and province names whole, as 2-6
character prefixes, with a typo or without tone marks, with ต./อ./จ. markers, in any order, in English, postal
and tambon codes; addresses with house and village numbers for resolve. Baseline in the same process: the same
queries through a naive linear scan, rapidfuzz `process.extract` (WRatio) over every name. The target is
p99 < 5 ms per search query.

    uv run --frozen python bench/places_search.py [--queries 3000] [--seed 1300]
"""

from __future__ import annotations

import argparse
import gc
import random
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from rapidfuzz import fuzz, process

from hotline_gazetteer import Gazetteer, Tambon

T = TypeVar("T")
TARGET_P99_MS = 5.0
TONE_MARKS = "\u0e48\u0e49\u0e4a\u0e4b\u0e4c\u0e47"
THAI_LETTERS = "กขคงจฉชซญดตถทนบปผพฟมยรลวสหอฮะาิีุูเแโไ"


@dataclass(frozen=True)
class Query:
    kind: str
    text: str
    target: str  # code of the place the query means (a prefix may mean many: counted only if exact enough)


def typo(rng: random.Random, word: str) -> str:
    """One edit a hurried operator makes: a missed, doubled, swapped or wrong character, or no tone marks."""
    if any(c in TONE_MARKS for c in word) and rng.random() < 0.3:
        return "".join(c for c in word if c not in TONE_MARKS)
    i = rng.randrange(1, len(word)) if len(word) > 1 else 0
    letters = THAI_LETTERS if "\u0e00" <= word[0] <= "\u0e7f" else "abcdefghiklmnoprstuy"
    edit = rng.choice(["delete", "insert", "swap", "replace"])
    if edit == "delete" and len(word) > 3:
        return word[:i] + word[i + 1:]
    if edit == "swap" and i + 1 < len(word):
        return word[:i] + word[i + 1] + word[i] + word[i + 2:]
    if edit == "insert":
        return word[:i] + rng.choice(letters) + word[i:]
    return word[:i] + rng.choice(letters) + word[i + 1:]


def tambon_marker(t: Tambon) -> tuple[str, str]:
    return ("แขวง", "เขต") if t.is_bangkok else ("ต.", "อ.")


def search_queries(g: Gazetteer, rng: random.Random, n: int) -> list[Query]:
    queries: list[Query] = []
    provinces = g.provinces_list()
    amphoes = [a for p in provinces for a in g.amphoes_in(p.code)]
    while len(queries) < n:
        t = rng.choice(g.tambons)
        a = g.amphoe(t.amphoe_code)
        assert a is not None
        tm, am = tambon_marker(t)
        roll = rng.randrange(12)
        if roll == 0:
            queries.append(Query("th name", t.name_th, t.code))
        elif roll == 1:
            name = rng.choice([t.name_th, a.name_th, rng.choice(provinces).name_th])
            queries.append(Query("th prefix", name[: rng.randint(2, 6)], ""))
        elif roll == 2:
            queries.append(Query("th typo", typo(rng, t.name_th) + " " + t.amphoe_name_th, t.code))
        elif roll == 3:
            queries.append(Query("th markers", f"{tm}{t.name_th} {am}{t.amphoe_name_th}", t.code))
        elif roll == 4:
            queries.append(Query("th any order", f"{t.amphoe_name_th} {t.name_th}", t.code))
        elif roll == 5:
            queries.append(Query("th no spaces", f"ตำบล{t.name_th}อำเภอ{t.amphoe_name_th}", t.code))
        elif roll == 6:
            queries.append(Query("en", f"{t.name_en} {t.amphoe_name_en}".lower(), t.code))
        elif roll == 7:
            queries.append(Query("en prefix", t.name_en[: rng.randint(2, 6)].lower(), ""))
        elif roll == 8:
            queries.append(Query("en typo", typo(rng, t.name_en.lower()) + " " + t.province_name_en, t.code))
        elif roll == 9:
            amphoe = rng.choice(amphoes)
            queries.append(Query("amphoe", f"{amphoe.name_th} {amphoe.province_name_th}", amphoe.code))
        elif roll == 10:
            queries.append(Query("postal", t.postal_code, ""))
        else:
            queries.append(Query("code", t.code, t.code))
    return queries


def address_queries(g: Gazetteer, rng: random.Random, n: int) -> list[Query]:
    queries: list[Query] = []
    while len(queries) < n:
        t = rng.choice(g.tambons)
        tm, am = tambon_marker(t)
        house = f"{rng.randint(1, 999)}/{rng.randint(1, 30)}" if rng.random() < 0.3 else str(rng.randint(1, 999))
        village = f"หมู่ {rng.randint(1, 15)} " if not t.is_bangkok else f"ซอย{rng.choice(g.tambons).name_th} "
        province = t.province_name_th if t.is_bangkok else "จ." + t.province_name_th
        roll = rng.randrange(5)
        if roll == 0:
            text = f"บ้านเลขที่ {house} {village}{tm}{t.name_th} {am}{t.amphoe_name_th} {province} {t.postal_code}"
        elif roll == 1:
            text = f"{house} {village}ตำบล{t.name_th} อำเภอ{t.amphoe_name_th} {t.province_name_th}"
        elif roll == 2:
            text = f"{t.name_th} {t.amphoe_name_th} {t.province_name_th}"
        elif roll == 3:
            text = f"{tm}{typo(rng, t.name_th)} {am}{t.amphoe_name_th} {province}"
        else:
            text = f"{house} {village}{tm}{t.name_th} {t.postal_code}"
        queries.append(Query("address", text, t.code))
    return queries


def timed(fn: Callable[[str], T], queries: list[Query]) -> tuple[list[float], list[T]]:
    """Each query's latency in ms, and its answer."""
    times: list[float] = []
    results: list[T] = []
    gc.collect()
    for q in queries:
        started = time.perf_counter()
        result = fn(q.text)
        times.append((time.perf_counter() - started) * 1000)
        results.append(result)
    return times, results


def share(hits: int, total: int) -> str:
    return f"{hits / total:.1%}" if total else "n/a"


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def line(label: str, times: list[float]) -> str:
    return (f"{label:<34} p50 {pct(times, 50):7.3f}  p95 {pct(times, 95):7.3f}  p99 {pct(times, 99):7.3f}  "
            f"max {max(times):7.3f} ms")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--queries", type=int, default=3000, help="search queries (and half as many addresses)")
    parser.add_argument("--seed", type=int, default=1300)
    parser.add_argument("--baseline-queries", type=int, default=600,
                        help="the baseline scans every name for each query (~50 ms each): it gets an evenly spaced "
                             "sample of this many search queries and half as many addresses")
    args = parser.parse_args()
    rng = random.Random(args.seed)

    started = time.perf_counter()
    g = Gazetteer.from_package()
    load_ms = (time.perf_counter() - started) * 1000
    started = time.perf_counter()
    index = g.index
    build_ms = (time.perf_counter() - started) * 1000
    searches = search_queries(g, rng, args.queries)
    addresses = address_queries(g, rng, args.queries // 2)
    for q in searches[:50]:  # warm caches and rapidfuzz's first call, as a running service would be
        g.search(q.text)

    search_ms, hit_lists = timed(lambda text: g.search(text, 10), searches)
    resolve_ms, resolutions = timed(g.resolve, addresses)
    hits = [[h.code for h in found] for found in hit_lists]
    resolved = [r.tambon.code if r.tambon else None for r in resolutions]

    # Baseline: every name of every place in one list, scanned whole by rapidfuzz for each query.
    names: list[str] = []
    owners: list[str] = []
    for place in index.places:
        for name in (place.name_th, place.name_en):
            names.append(name)
            owners.append(place.code)
    full = [f"{t.name_th} {t.amphoe_name_th} {t.province_name_th} {t.postal_code}" for t in g.tambons]

    def naive_search(text: str) -> list[str]:
        return [owners[i] for _, _, i in process.extract(text, names, scorer=fuzz.WRatio, limit=10)]

    def naive_resolve(text: str) -> str | None:
        best = process.extractOne(text, full, scorer=fuzz.token_set_ratio)
        return g.tambons[best[2]].code if best else None

    step = max(1, len(searches) // max(1, args.baseline_queries))
    sample = list(range(0, len(searches), step))
    address_sample = list(range(0, len(addresses), step))
    naive_search_ms, naive_hits = timed(naive_search, [searches[i] for i in sample])
    naive_resolve_ms, naive_resolved = timed(naive_resolve, [addresses[i] for i in address_sample])
    ours_sample_ms = [search_ms[i] for i in sample]
    ours_address_sample_ms = [resolve_ms[i] for i in address_sample]

    targeted = [i for i, q in enumerate(searches) if q.target]
    top10 = sum(searches[i].target in hits[i] for i in targeted)
    top1 = sum(hits[i][:1] == [searches[i].target] for i in targeted)
    sample_targeted = [(k, i) for k, i in enumerate(sample) if searches[i].target]
    sample_top10 = sum(searches[i].target in hits[i] for _, i in sample_targeted)
    naive_top10 = sum(searches[i].target in naive_hits[k] for k, i in sample_targeted)
    right = sum(code == q.target for code, q in zip(resolved, addresses, strict=True))
    sample_right = sum(resolved[i] == addresses[i].target for i in address_sample)
    naive_right = sum(code == addresses[i].target for code, i in zip(naive_resolved, address_sample, strict=True))

    print(f"gazetteer: {len(g.tambons)} tambons, {len(index.places)} places; load {load_ms:.0f} ms, "
          f"search index build {build_ms:.0f} ms (once per process, on first search)")
    print(f"queries: {len(searches)} search, {len(addresses)} resolve (seed {args.seed}); baseline on every "
          f"{step}th: {len(sample)} search, {len(address_sample)} resolve")
    print(line("search", search_ms))
    print(line("resolve", resolve_ms))
    print(line("search, baseline's sample", ours_sample_ms))
    print(line("search baseline (extract, WRatio)", naive_search_ms))
    print(line("resolve, baseline's sample", ours_address_sample_ms))
    print(line("resolve baseline (extractOne)", naive_resolve_ms))
    print(f"baseline / ours on the same queries: search p50 ×{pct(naive_search_ms, 50) / pct(ours_sample_ms, 50):.0f}"
          f", p99 ×{pct(naive_search_ms, 99) / pct(ours_sample_ms, 99):.0f}; resolve p50 "
          f"×{pct(naive_resolve_ms, 50) / pct(ours_address_sample_ms, 50):.0f}, "
          f"p99 ×{pct(naive_resolve_ms, 99) / pct(ours_address_sample_ms, 99):.0f}")
    print(f"search, meant place in the top 10: {share(top10, len(targeted))}, first: {share(top1, len(targeted))} "
          f"[{len(targeted)} queries that mean one place]; on the baseline's sample "
          f"{share(sample_top10, len(sample_targeted))} vs baseline {share(naive_top10, len(sample_targeted))}")
    print(f"resolve, right tambon: {share(right, len(addresses))}, median confidence "
          f"{statistics.median(r.confidence for r in resolutions):.2f}; on the baseline's sample "
          f"{share(sample_right, len(address_sample))} vs baseline {share(naive_right, len(address_sample))}")
    by_kind: dict[str, list[float]] = {}
    for q, ms in zip(searches, search_ms, strict=True):
        by_kind.setdefault(q.kind, []).append(ms)
    slowest = max(by_kind, key=lambda k: pct(by_kind[k], 99))
    print(f"slowest kind of search query: {slowest!r}, p99 {pct(by_kind[slowest], 99):.3f} ms")
    p99 = pct(search_ms, 99)
    verdict = "PASS" if p99 < TARGET_P99_MS else "FAIL"
    print(f"{verdict}: search p99 {p99:.3f} ms (target < {TARGET_P99_MS:.0f} ms)")
    return 0 if verdict == "PASS" else 1


if __name__ == "__main__":
    sys.exit(main())
