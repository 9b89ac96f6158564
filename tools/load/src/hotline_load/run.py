"""One load run on a platform of its own: Kafka, PostgreSQL, the six services, the responders' webhook and the LINE
fake, all started here and stopped at the end. Offers cases (hotline_load.mix, through hotline_load.drive), waits
until every accepted case has reached a responder's webhook (or the drain timeout), and says what happened:
accepted/s, accept → alert delivered p50/p95/p99 per channel, cases lost, duplicate alerts, the consumer groups'
lag, CPU and memory per process, and the raw Kafka baseline measured in the same run."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from hotline_common.events import Channel
from hotline_devstack.services import SERVICES
from hotline_load import kit
from hotline_load.baseline import run_baseline
from hotline_load.drive import Doors, Offer, as_fast, at_rate
from hotline_load.kit import log, summary_ms
from hotline_load.line_fake import ACCESS_TOKEN, CHANNEL_SECRET, LineFake
from hotline_load.mix import CaseMix, Places
from hotline_load.observe import Alerts, Recorder, Tick, Watched

KAFKA_PORT, KAFKA_CONTROLLER_PORT, PG_PORT, BASE_PORT = 49392, 49393, 45732, 48300
P99_TARGET_MS = 1000.0
GROUPS = {f"hotline-{name}": name for name in ("intake", "routing", "notify", "ops")}


@dataclass
class Window:
    """One stretch of load: `rate` cases/s (None: as fast as `concurrency` clients go) for `seconds`."""

    name: str
    seconds: float
    rate: float | None = None
    concurrency: int = 32
    measured: bool = True  # a warm-up is offered and checked for delivery, but not in the statistics


@dataclass
class Spec:
    windows: Sequence[Window]
    channels: dict[Channel, float]
    places: Places = "population"
    seed: int = 1300
    max_in_flight: int = 256
    drain_timeout: float = 60.0
    baseline_rate: float | None = None  # None: the highest fixed rate of the windows
    population: dict[str, int] | None = None


@dataclass
class LoadInfra(kit.BenchInfra):
    line: LineFake | None = None
    env: dict[str, str] = field(default_factory=dict)
    pg_port: int = PG_PORT
    kafka_port: int = KAFKA_PORT
    kafka_controller_port: int = KAFKA_CONTROLLER_PORT
    kafka_nodes: int = 1  # > 1: a KafkaCluster (node i on kafka_port + 2(i-1))
    base_port: int = BASE_PORT

    def start(self) -> None:
        self.start_infra(pg_port=self.pg_port, kafka_port=self.kafka_port,
                         kafka_controller_port=self.kafka_controller_port, kafka_nodes=self.kafka_nodes)
        assert self.postgres is not None and self.sink is not None
        self.line = LineFake()
        log(f"LINE fake on {self.line.url}")
        t1 = time.perf_counter()
        self.platform = kit.BenchPlatform(
            kafka_bootstrap=self.bootstrap, admin_url=self.postgres.admin_url, log_dir=self.log_dir,
            base_port=self.base_port, env={
                "HOTLINE_ENV": "local", "DEMO_ALERT_WEBHOOK_URL": self.sink.url,
                "INTAKE_LINE_API_BASE_URL": self.line.url, "INTAKE_LINE_CHANNEL_SECRET": CHANNEL_SECRET,
                "INTAKE_LINE_CHANNEL_ACCESS_TOKEN": ACCESS_TOKEN,
                # One demo account offers what a room of operators would: the per-account brake is not measured.
                "INTAKE_REPORT_RATE": "1000000/minute", **self.env})
        for name, _ in SERVICES:
            log(f"starting {name} on {self.platform.url(name)}")
            self.platform.start_service(name)
        self.timings["services_s"] = time.perf_counter() - t1

    def teardown_steps(self) -> list[tuple[str, Any]]:
        steps = super().teardown_steps()
        if self.line is not None:
            line = self.line
            steps.insert(1, ("LINE fake", line.stop))
        return steps

    def watched(self) -> Watched:
        assert self.platform is not None and self.postgres is not None
        pids = {name: proc.pid for name, proc in self.platform.services.items() if proc.pid is not None}
        nodes = self.cluster.nodes.items() if self.cluster else ()
        for name, pid in (("kafka", self.kafka.pid if self.kafka else None),
                          *((f"kafka-{i}", node.pid) for i, node in nodes), ("postgres", self.postgres.pid),
                          ("webhook sink", self.sink.pid if self.sink else None),
                          ("LINE fake", self.line.pid if self.line else None)):
            if pid is not None:
                pids[name] = pid
        pids["load generator"] = os.getpid()
        return Watched(pids, alone=frozenset({"load generator"}))


async def token(client: httpx.AsyncClient, registry: str, username: str, password: str) -> str:
    r = await client.post(f"{registry}/v1/auth/token", data={"username": username, "password": password})
    r.raise_for_status()
    return str(r.json()["access_token"])


async def open_doors(client: httpx.AsyncClient, infra: LoadInfra, password: str) -> Doors:
    """The three channels' ways in, signed in as the demo operator and center-staff accounts."""
    assert infra.platform is not None
    registry = infra.platform.url("registry")
    operator = await token(client, registry, "operator", password)
    staff = await token(client, registry, "center", password)
    return Doors(client, infra.platform.url("intake"), operator_token=operator, staff_token=staff, line=infra.line)


async def run(infra: LoadInfra, spec: Spec, password: str) -> dict[str, Any]:
    assert infra.platform is not None and infra.sink is not None
    bootstrap = infra.bootstrap
    rates = [w.rate for w in spec.windows if w.rate]
    baseline_rate = spec.baseline_rate or (max(rates) if rates else 200.0)
    log(f"baseline: raw Kafka produce → consume at {baseline_rate:g}/s for 20 s")
    baseline = await run_baseline(bootstrap, rate=baseline_rate, duration=20, warmup=2, drain_timeout=30)

    mix = CaseMix(seed=spec.seed, places=spec.places, channels=spec.channels, population=spec.population)
    alerts = Alerts(infra.sink)
    pool = max(spec.max_in_flight, *(w.concurrency for w in spec.windows))
    limits = httpx.Limits(max_connections=pool, max_keepalive_connections=pool, keepalive_expiry=2.0)
    offers: list[Offer] = []
    async with httpx.AsyncClient(timeout=60.0, limits=limits) as client:
        doors = await open_doors(client, infra, password)

        def counts() -> tuple[int, int, int]:
            alerts.update()
            if infra.line is not None:
                doors.told(infra.line.poll())
            return len(offers), sum(1 for o in offers if o.accepted_at), alerts.count

        recorder = Recorder(bootstrap, infra.watched(), counts, groups=GROUPS)
        recorder.start()
        results: dict[str, Any] = {"windows": []}
        try:
            for w in spec.windows:
                log(f"{w.name}: " + (f"{w.rate:g} cases/s" if w.rate else f"as fast as {w.concurrency} clients go")
                    + f" for {w.seconds:g} s")
                started = time.time()
                if w.rate:
                    mine, late = await at_rate(doors, mix, rate=w.rate, seconds=w.seconds,
                                               max_in_flight=spec.max_in_flight, on_offer=offers.append)
                else:
                    mine, late = await as_fast(doors, mix, seconds=w.seconds, concurrency=w.concurrency,
                                               on_offer=offers.append), 0.0
                offered_until = time.time()
                waited = await drain(mine, alerts, doors, infra, spec.drain_timeout)
                summary = analyse(w, mine, alerts, recorder.ticks, started, offered_until, waited)
                summary["generator_worst_lateness_ms"] = round(late * 1000, 1)
                results["windows"].append(summary)
                log(f"  {summary['accepted']} accepted ({fmt(summary['accepted_per_s'])}/s), "
                    f"p99 {fmt(summary['e2e_ms']['p99'])} ms, lost {summary['lost']}, "
                    f"duplicates {summary['duplicate_deliveries']}")
        finally:
            await recorder.stop()
    results["baseline"] = baseline
    alerts.update()
    results["latency_points"] = sorted(
        (o.accepted_at, round(1000 * max(0.0, first - o.accepted_at), 1)) for o in offers
        if o.accepted_at and o.case_number and (first := alerts.first(o.case_number)) is not None)
    results["timeline"] = [tick.__dict__ for tick in recorder.ticks]
    results["processes"] = process_summary(recorder.ticks)
    measured = [w for w in results["windows"] if w["measured"]]
    results["holds_p99_under_1s"] = [w["name"] for w in measured if holds(w)]
    best = max((w for w in measured if holds(w)), key=lambda w: w["accepted_per_s"] or 0, default=None)
    results["highest_rate_holding_p99_under_1s"] = best["accepted_per_s"] if best else None
    bl = baseline["latency_ms"]
    results["ratio_to_baseline"] = [
        {"window": w["name"], "p50": kit.ratio(w["e2e_ms"]["p50"], bl["p50"]),
         "p99": kit.ratio(w["e2e_ms"]["p99"], bl["p99"])} for w in measured]
    return results


def holds(window: dict[str, Any]) -> bool:
    """p99 under a second, every case accepted and delivered, none alerted twice."""
    p99 = window["e2e_ms"]["p99"]
    return (p99 is not None and p99 < P99_TARGET_MS and window["lost"] == 0 and window["errors"] == 0
            and window["not_accepted"] == 0 and window["duplicate_deliveries"] == 0)


async def drain(offers: list[Offer], alerts: Alerts, doors: Doors, infra: LoadInfra, timeout: float) -> float:
    """Wait until every offered case was accepted and alerted (or `timeout`); returns the seconds waited."""
    t0 = time.perf_counter()
    last_report = t0
    while True:
        alerts.update()
        if infra.line is not None:
            doors.told(infra.line.poll())
        waiting = [o for o in offers if not o.error and (not o.case_number or o.case_number not in alerts.by_case)]
        now = time.perf_counter()
        if not waiting or now - t0 > timeout:
            return now - t0
        if dead := infra.dead():
            log(f"children exited during the run: {', '.join(dead)} — see {infra.log_dir}")
            return now - t0
        if now - last_report > 5:
            log(f"  waiting for {len(waiting)} case(s) to reach a responder ...")
            last_report = now
        await asyncio.sleep(0.05)


def analyse(window: Window, offers: list[Offer], alerts: Alerts, ticks: list[Tick], started: float,
            offered_until: float, waited: float) -> dict[str, Any]:
    accepted = [o for o in offers if o.accepted_at is not None and o.case_number]
    e2e: dict[str, list[float]] = {}
    accept: dict[str, list[float]] = {}
    lost: list[str] = []
    redelivered = extra = seen_twice = 0
    last_alert = 0.0
    for o in accepted:
        assert o.case_number is not None and o.accepted_at is not None
        accept.setdefault(o.channel.value, []).append(o.accepted_at - o.sent_at)
        got = alerts.by_case.get(o.case_number)
        if not got:
            lost.append(o.case_number)
            continue
        first = min(r.at for r in got)
        last_alert = max(last_alert, first)
        e2e.setdefault(o.channel.value, []).append(max(0.0, first - o.accepted_at))
        ids = {r.delivery_id for r in got}
        redelivered += len(got) - len(ids)  # the same alert received again: a duplicate the responder sees
        extra += len(ids) - 1  # another alert for the case (an escalation, a raised urgency)
        # One alert in two deliveries of different ids: a receiver that drops a repeated X-Hotline-Delivery (the
        # webhook contract) still shows it twice.
        deliveries: dict[object, set[str]] = {}
        for r in got:
            deliveries.setdefault(r.body.get("alert_id"), set()).add(r.delivery_id)
        seen_twice += sum(len(d) - 1 for d in deliveries.values())
    statuses: dict[str, int] = {}
    for o in offers:
        if o.error:
            key = str(o.status) if o.status else o.error.split(":", 1)[0]
            statuses[key] = statuses.get(key, 0) + 1
    span = max((o.accepted_at or 0 for o in accepted), default=0.0) - min((o.sent_at for o in offers), default=0.0)
    inside = [t for t in ticks if started <= t.at <= offered_until + waited]
    every = [x for xs in e2e.values() for x in xs]
    return {
        "name": window.name, "measured": window.measured, "offered_rate": window.rate, "started_at": started,
        "concurrency": None if window.rate else window.concurrency, "seconds": window.seconds,
        "offered": len(offers), "accepted": len(accepted),
        "not_accepted": sum(1 for o in offers if not o.error and o.accepted_at is None),
        "errors": sum(1 for o in offers if o.error), "error_statuses": statuses,
        "error_samples": [o.error for o in offers if o.error][:3],
        "accepted_per_s": len(accepted) / span if span > 0 else None,
        "by_channel": {c: len(v) for c, v in sorted(accept.items())},
        "accept_ms": {c: summary_ms(v) for c, v in sorted(accept.items())},
        "e2e_ms": summary_ms(every),
        "e2e_ms_by_channel": {c: summary_ms(v) for c, v in sorted(e2e.items())},
        "delivered": len(accepted) - len(lost), "lost": len(lost), "lost_case_numbers": lost[:20],
        "duplicate_deliveries": redelivered, "further_alerts": extra, "alerts_seen_twice": seen_twice,
        "line_answers_pushed": sum(1 for o in accepted if o.line_push),
        "max_lag": {g: max((t.lag.get(g, 0) for t in inside), default=0) for g in GROUPS.values()},
        "cpu_ms_per_case": cpu_per_case(inside, len(accepted)),
        "drain_s": round(waited, 2),
    }


HARNESS = frozenset({"load generator", "LINE fake", "webhook sink"})  # what the platform's users would be


def cpu_per_case(ticks: list[Tick], cases: int) -> dict[str, float]:
    """CPU milliseconds each process spent per accepted case over the window (one-second ticks), and the
    platform's total without the harness: what a case costs, whatever the latency."""
    if not cases:
        return {}
    out = {name: round(10.0 * sum(t.cpu.get(name, 0.0) for t in ticks) / cases, 2)
           for name in sorted({n for t in ticks for n in t.cpu})}
    out["platform"] = round(sum(v for n, v in out.items() if n not in HARNESS), 2)
    return out


def process_summary(ticks: list[Tick]) -> dict[str, dict[str, float]]:
    """Each process's mean and peak CPU (% of one core) and peak memory over the run."""
    names = sorted({n for t in ticks for n in t.cpu} | {n for t in ticks for n in t.rss_mb})
    out: dict[str, dict[str, float]] = {}
    for name in names:
        cpu = [t.cpu[name] for t in ticks if name in t.cpu]
        rss = [t.rss_mb[name] for t in ticks if name in t.rss_mb]
        out[name] = {"cpu_mean": round(sum(cpu) / len(cpu), 1) if cpu else 0.0,
                     "cpu_max": round(max(cpu), 1) if cpu else 0.0, "rss_max_mb": round(max(rss), 1) if rss else 0.0}
    return out


def fmt(v: float | int | None) -> str:
    return kit.fmt(v)


def results_dir(root: Path) -> Path:
    out = root / "bench-results"
    out.mkdir(exist_ok=True)
    return out
