"""`hotline-load`: the whole platform under load (make bench). It starts everything it measures on ports of its own
and stops it all at the end, also on Ctrl-C.

    hotline-load --rate 100 --duration 60              # a fixed rate: warm-up, then the measured window
    hotline-load --asap --duration 30 --concurrency 64 # as fast as the platform takes them
    hotline-load --steps 50,100,200,300,500 --duration 30   # rising rates: the highest that holds p99 < 1 s
    hotline-load --channels hotline=0.6,line=0.3,walk_in=0.1 --places uniform

Results: bench-results/load-<time>.json and .png (throughput, latency over time, lag, CPU per process).
"""

from __future__ import annotations

import argparse
import os
import sys
import time

from hotline_devstack import cache_dir, repo_root
from hotline_load import kit, report
from hotline_load.kit import log
from hotline_load.mix import parse_shares
from hotline_load.run import LoadInfra, Spec, Window, results_dir, run


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="hotline-load", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    how = p.add_mutually_exclusive_group()
    how.add_argument("--rate", type=float, default=50.0, help="offered cases/s (default 50)")
    how.add_argument("--asap", action="store_true", help="as fast as --concurrency clients go")
    how.add_argument("--steps", type=str, help="comma-separated rates, one window each, rising")
    p.add_argument("--duration", type=float, default=30.0, help="seconds of each measured window (default 30)")
    p.add_argument("--warmup", type=float, default=5.0, help="seconds at the first rate before measuring (default 5)")
    p.add_argument("--concurrency", type=int, default=32, help="clients of --asap (default 32)")
    p.add_argument("--channels", default="hotline=0.6,line=0.3,walk_in=0.1",
                   help="share of each channel (default hotline=0.6,line=0.3,walk_in=0.1)")
    p.add_argument("--places", choices=("population", "uniform"), default="population",
                   help="sub-districts weighted by their province's population, or uniformly (default population)")
    p.add_argument("--max-in-flight", type=int, default=256, help="open requests at once at a fixed rate")
    p.add_argument("--drain-timeout", type=float, default=60.0,
                   help="seconds to wait after each window for the last cases to reach a responder (default 60)")
    p.add_argument("--seed", type=int, default=1300, help="seed of the generated cases")
    args = p.parse_args(argv)
    try:
        args.channel_shares = parse_shares(args.channels)
        args.step_rates = [float(x) for x in args.steps.split(",")] if args.steps else None
    except ValueError as exc:
        p.error(str(exc))
    if args.duration <= 0 or args.warmup < 0 or args.concurrency < 1 or (not args.asap and args.rate <= 0):
        p.error("--duration and --rate must be > 0, --warmup >= 0, --concurrency >= 1")
    return args


def windows(args: argparse.Namespace) -> list[Window]:
    rates: list[float | None] = list(args.step_rates) if args.step_rates else [None if args.asap else args.rate]
    out = [Window("warm-up", args.warmup, rates[0] or None, args.concurrency, measured=False)] if args.warmup else []
    for r in rates:
        out.append(Window(f"{r:g}/s" if r else f"asap c={args.concurrency}", args.duration, r, args.concurrency))
    return out


def population() -> dict[str, int] | None:
    try:
        from hotline_gazetteer import population as figures
    except ImportError:
        return None
    result: dict[str, int] = figures()
    return result


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    root = repo_root()
    password = os.environ.get("DEMO_PASSWORD") or "hotline-demo"
    secret = os.environ.get("DEMO_WEBHOOK_SECRET") or "dev-only-webhook-secret"
    started = time.time()
    weights = population() if args.places == "population" else None
    if args.places == "population" and weights is None:
        log("no population figures in the gazetteer: sub-districts are drawn uniformly")
    spec = Spec(windows(args), args.channel_shares, "population" if weights else "uniform", args.seed,
                args.max_in_flight, args.drain_timeout, population=weights)
    infra = LoadInfra(state_dir=cache_dir() / "bench-load", webhook_secret=secret)
    code = kit.git_state(root)
    res = kit.measure_then_stop(infra, lambda: run(infra, spec, password),
                                stopping="the platform, Kafka and PostgreSQL")
    if res is None:
        return 130
    res.update({"args": {k: v for k, v in vars(args).items() if k != "channel_shares"}, "git": code,
                "host": {"cpus": os.cpu_count()}, "timings_s": infra.timings, "log_dir": str(infra.log_dir)})
    stem = results_dir(root) / f"load-{time.strftime('%Y%m%d-%H%M%S', time.localtime(started))}"
    json_file, png_file = report.write(res, stem)
    print()
    print(report.table(res))
    print(f"results: {json_file.relative_to(root)}  chart: {png_file.relative_to(root)}  logs: {infra.log_dir}")
    # Refusing or slowing down under overload is the platform's right; losing or doubling a case never is.
    bad = sum(w["lost"] + w["duplicate_deliveries"] for w in res["windows"])
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
