"""Who is on call, per instant and per window: `on_call` and `coverage_gaps` against brute-force expansion.

Baselines in the same run, on the same inputs: each `on_call` query answered by expanding the rota over the two days
around the instant and filtering (what the shortcut avoids), and the coverage of a sample of centers answered minute
by minute with `on_call`. Both are also checked to give the same answers. Pure CPU, no services; about 20 s.

    uv run --frozen python bench/oncall.py [--queries 100000] [--centers 4500] [--seed 1300]
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import time
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from zoneinfo import ZoneInfo

from hotline_common.events.rota import Override, RotaRecord, Shift, Weekday
from hotline_common.oncall import coverage_gaps, expand, on_call

BANGKOK = ZoneInfo("Asia/Bangkok")
WINDOW_START = datetime(2025, 6, 2, tzinfo=BANGKOK)  # a Monday
WINDOW_DAYS = 28
COVERAGE_DAYS = 7
BASELINE_CENTERS = 12  # minute-by-minute coverage is ~10,000 on_call per center: a sample, then scaled


def realistic_rota(rng: random.Random, overrides: int = 10) -> RotaRecord:
    """Day, evening and night shifts rotating weekly among 4 volunteers, with leave, swaps and extra cover."""
    pool = [uuid.uuid4() for _ in range(4)]
    cuts = [("day", clock(8, 30), clock(16, 30)), ("evening", clock(16, 30), clock(22)),
            ("night", clock(22), clock(8, 30))]
    shifts = [Shift(name=name, start=start, end=end, responder_ids=pool, rotate_every_days=7,
                    rotation_anchor=date(2025, 1, 6 + i))  # staggered: not the same volunteer day and night
              for i, (name, start, end) in enumerate(cuts[: rng.choice((2, 3))])]
    if len(shifts) == 2:  # two shifts: the evening one runs through the night
        shifts[1] = shifts[1].model_copy(update={"end": clock(8, 30)})
    changes = []
    for _ in range(overrides):
        start = WINDOW_START + timedelta(minutes=30 * rng.randrange(WINDOW_DAYS * 48))
        kind = rng.choice(("leave", "swap", "cover"))
        someone, other = rng.sample(pool, 2)
        changes.append(Override(start=start, end=start + timedelta(hours=rng.choice((4, 8, 16, 24, 72))),
                                responder_id=None if kind == "leave" else (someone if kind == "swap" else uuid.uuid4()),
                                replaces=None if kind == "cover" else other, reason=kind))
    return RotaRecord(rota_id=uuid.uuid4(), unit_kind="center", unit_id=uuid.uuid4(), name="ศูนย์ช่วยเหลือสังคมตำบล",
                      shifts=shifts, overrides=changes)


def center_rota(rng: random.Random) -> RotaRecord:
    """A center's rota as they vary: office hours only, office plus nights, or round the clock; a few overrides."""
    rota = realistic_rota(rng, overrides=rng.randrange(4))
    style = rng.choice(("office", "office+night", "all"))
    if style == "office":
        weekdays = list(Weekday)[:5]
        return rota.model_copy(update={"shifts": [rota.shifts[0].model_copy(update={"days": weekdays})]})
    if style == "office+night":
        return rota.model_copy(update={"shifts": rota.shifts[:1] + rota.shifts[-1:]})
    return rota


def by_expansion(rota: RotaRecord, at: datetime) -> set[uuid.UUID]:
    around = expand(rota, at - timedelta(days=1), at + timedelta(days=1))
    return {i.responder_id for i in around if i.start <= at < i.end}


def timed(fn: Callable[[datetime], object], instants: list[datetime]) -> tuple[list[float], float, list[object]]:
    """Per-call latencies (µs), the whole loop's seconds, and the answers."""
    latencies, answers = [], []
    began = time.perf_counter()
    for at in instants:
        t0 = time.perf_counter_ns()
        answers.append(fn(at))
        latencies.append((time.perf_counter_ns() - t0) / 1000)
    return latencies, time.perf_counter() - began, answers


def quantile(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100)[q - 1]


def gaps_by_the_minute(rota: RotaRecord, start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    gaps: list[tuple[datetime, datetime]] = []
    at = start
    while at < end:
        if not on_call(rota, at):
            if gaps and gaps[-1][1] == at:
                gaps[-1] = (gaps[-1][0], at + timedelta(minutes=1))
            else:
                gaps.append((at, at + timedelta(minutes=1)))
        at += timedelta(minutes=1)
    return gaps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--queries", type=int, default=100_000)
    parser.add_argument("--centers", type=int, default=4_500)
    parser.add_argument("--seed", type=int, default=1300)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    print(f"python {platform.python_version()} on {platform.machine()}, load average {os.getloadavg()[0]:.2f}")

    rota = realistic_rota(rng)
    span = WINDOW_DAYS * 86_400
    instants = [(WINDOW_START + timedelta(seconds=rng.randrange(span))).astimezone(UTC) for _ in range(args.queries)]
    print(f"\non_call: {len(rota.shifts)} shifts, weekly rotation among 4, {len(rota.overrides)} overrides, "
          f"{args.queries:,} random instants over {WINDOW_DAYS} days")
    fast, fast_s, fast_answers = timed(lambda at: {e.responder_id for e in on_call(rota, at)}, instants)
    slow, slow_s, slow_answers = timed(lambda at: by_expansion(rota, at), instants)
    mismatches = sum(a != b for a, b in zip(fast_answers, slow_answers, strict=True))
    print(f"  {'':<30}{'p50 µs':>10}{'p99 µs':>10}{'queries/s':>12}")
    for label, lat, secs in (("on_call", fast, fast_s), ("baseline: expand ±1 day, filter", slow, slow_s)):
        print(f"  {label:<30}{quantile(lat, 50):>10.1f}{quantile(lat, 99):>10.1f}{len(lat) / secs:>12,.0f}")
    print(f"  speed-up ×{slow_s / fast_s:.1f} (p50 ×{quantile(slow, 50) / quantile(fast, 50):.1f}, "
          f"p99 ×{quantile(slow, 99) / quantile(fast, 99):.1f}); answers differ: {mismatches}")

    rotas = [center_rota(rng) for _ in range(args.centers)]
    start = WINDOW_START.astimezone(UTC)
    end = start + timedelta(days=COVERAGE_DAYS)
    began = time.perf_counter()
    gaps = [coverage_gaps(r, start, end) for r in rotas]
    coverage_s = time.perf_counter() - began
    uncovered = sum(1 for g in gaps if g)
    print(f"\ncoverage_gaps: {args.centers:,} centers × {COVERAGE_DAYS} days")
    print(f"  coverage_gaps                 {coverage_s:8.2f} s  ({coverage_s / args.centers * 1e3:.3f} ms/center; "
          f"{uncovered:,} centers with gaps, {sum(map(len, gaps)):,} gaps)")
    sample = rng.sample(range(args.centers), min(BASELINE_CENTERS, args.centers))
    began = time.perf_counter()
    minute_gaps = [gaps_by_the_minute(rotas[i], start, end) for i in sample]
    minute_s = (time.perf_counter() - began) / len(sample)
    differ = sum(minute_gaps[k] != gaps[i] for k, i in enumerate(sample))
    print(f"  baseline: on_call each minute {minute_s * args.centers:8.2f} s  (scaled from {len(sample)} centers, "
          f"{minute_s * 1e3:.1f} ms/center) → coverage_gaps ×{minute_s * args.centers / coverage_s:.0f}; "
          f"answers differ: {differ}")


if __name__ == "__main__":
    main()
