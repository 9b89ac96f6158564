"""A load run's results as a table on the terminal, as JSON and as a PNG chart (throughput, latency over time, lag,
CPU), under bench-results/ (git-ignored)."""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # files only, no display
import matplotlib.pyplot as plt

from hotline_load.kit import fmt, percentile


def table(res: dict[str, Any]) -> str:
    windows = list(res["windows"])
    rows: list[tuple[str, ...]] = [("", *(w["name"] for w in windows), "kafka baseline")]
    bl = res["baseline"]

    def row(label: str, values: list[str], base: str = "") -> None:
        rows.append((label, *values, base))

    row("offered (/s)", [fmt(w["offered_rate"]) if w["offered_rate"] else f"max c={w['concurrency']}"
                         for w in windows], fmt(bl["offered_rate"]))
    row("offered", [str(w["offered"]) for w in windows], str(bl["messages"]))
    row("accepted", [str(w["accepted"]) for w in windows], str(bl["received"]))
    row("accepted/s", [fmt(w["accepted_per_s"]) for w in windows], fmt(bl["msgs_per_s"]))
    for q in ("p50", "p95", "p99", "max"):
        row(f"accept → alert {q} (ms)", [fmt(w["e2e_ms"][q]) for w in windows], fmt(bl["latency_ms"][q]))
    row("lost (accepted, no alert)", [str(w["lost"]) for w in windows], str(bl["missing"]))
    row("duplicate alerts", [str(w["duplicate_deliveries"]) for w in windows], str(bl["duplicates"]))
    row("errors / not accepted", [f"{w['errors']} / {w['not_accepted']}" for w in windows])
    row("max lag routing / notify", [f"{w['max_lag'].get('routing', 0)} / {w['max_lag'].get('notify', 0)}"
                                     for w in windows])
    row("platform CPU per case (ms)", [fmt(w.get("cpu_ms_per_case", {}).get("platform")) for w in windows])
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    line = "  ".join("-" * w for w in widths)
    out = [line]
    for i, r in enumerate(rows):
        out.append("  ".join(c.ljust(w) if j == 0 else c.rjust(w) for j, (c, w) in enumerate(zip(r, widths,
                                                                                                    strict=True))))
        if i == 0:
            out.append(line)
    out.append(line)
    for w in windows:
        by = ", ".join(f"{c} {n} p99 {fmt(w['e2e_ms_by_channel'].get(c, {}).get('p99'))} ms"
                       for c, n in w["by_channel"].items())
        out.append(f"{w['name']}: {by}")
    for r in res["ratio_to_baseline"]:
        out.append(f"{r['window']}: platform / raw Kafka  p50 ×{fmt(r['p50'])}  p99 ×{fmt(r['p99'])}")
    out.append("processes (CPU % of one core, mean / peak; memory peak):")
    for name, p in sorted(res["processes"].items(), key=lambda kv: -kv[1]["cpu_mean"]):
        out.append(f"  {name:<16} {p['cpu_mean']:6.1f} / {p['cpu_max']:6.1f} %   {p['rss_max_mb']:8.1f} MB")
    best = res["highest_rate_holding_p99_under_1s"]
    out.append("highest accepted rate holding p99 < 1 s with nothing lost: "
               + (f"{best:.1f} cases/s" if best else "none of the windows"))
    return "\n".join(out)


def write(res: dict[str, Any], stem: Path) -> tuple[Path, Path]:
    """`<stem>.json` and `<stem>.png`."""
    json_file, png_file = stem.with_suffix(".json"), stem.with_suffix(".png")
    json_file.write_text(json.dumps(res, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    chart(res, png_file)
    return json_file, png_file


def chart(res: dict[str, Any], path: Path) -> None:
    ticks = res["timeline"]
    if not ticks:
        return
    t0 = ticks[0]["at"]
    xs = [t["at"] - t0 for t in ticks]
    fig, axes = plt.subplots(4, 1, figsize=(12, 13), sharex=True)
    throughput, latency, lag, cpu = axes

    def per_second(key: str) -> list[float]:
        return [0.0] + [max(0, b[key] - a[key]) / max(1e-6, b["at"] - a["at"]) for a, b in itertools.pairwise(ticks)]

    throughput.plot(xs, per_second("offered"), label="offered/s", color="#999999")
    throughput.plot(xs, per_second("accepted"), label="accepted/s")
    throughput.plot(xs, per_second("alerted"), label="alerts delivered/s")
    throughput.set_ylabel("cases / s")
    throughput.legend(loc="upper left")
    throughput.set_title("1300 platform under load: " + ", ".join(w["name"] for w in res["windows"]))

    points = res.get("latency_points", [])
    buckets: dict[int, list[float]] = {}
    for at, ms in points:
        buckets.setdefault(int(at - t0), []).append(ms)
    secs = sorted(buckets)
    for q, style in ((50, "-"), (99, "--")):
        latency.plot(secs, [percentile(buckets[s], q) for s in secs], style, label=f"p{q}")
    latency.axhline(1000, color="red", linewidth=0.8, label="1 s target (p99)")
    latency.set_ylabel("accept → alert (ms)")
    latency.set_yscale("log")
    latency.legend(loc="upper left")

    groups = sorted({g for t in ticks for g in t["lag"]})
    for g in groups:
        lag.plot(xs, [t["lag"].get(g, 0) for t in ticks], label=g)
    lag.set_ylabel("consumer lag (records)")
    lag.legend(loc="upper left")

    names = sorted({n for t in ticks for n in t["cpu"]}, key=lambda n: -sum(t["cpu"].get(n, 0) for t in ticks))
    for n in names[:8]:
        cpu.plot(xs, [t["cpu"].get(n, 0) for t in ticks], label=n)
    cpu.set_ylabel("CPU (% of one core)")
    cpu.set_xlabel("seconds since the load started")
    cpu.legend(loc="upper left", ncol=4)
    for w in res["windows"]:
        for ax in axes:
            ax.axvline(w["started_at"] - t0, color="#cccccc", linewidth=0.8)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
