"""Notify dispatch benchmark: hotline.case.routed.v1 → notify (PostgreSQL, on-call, grouping) → signed webhook.

Starts its own Kafka + PostgreSQL (dedicated ports, fresh state in <cache>/bench-notify), a webhook sink, and
notify alone; the directory notify follows (the registry's demo responders and rotas, webhooks pointing at the
sink) is published straight to the registry's compacted topics. Routed events are produced straight to Kafka,
each for a distinct case: at a fixed rate, then as a burst. The baseline, in the same run and through the same
broker and sink: a raw aiokafka consumer (its own process, no database, no grouping) doing one HTTP POST per
message. Prints a table and writes bench-results/notify-<timestamp>.json. Everything it started is torn down on
exit (also on Ctrl-C/SIGTERM).

    uv run python bench/notify_dispatch.py [--rate 50] [--duration 20] [--burst 2000]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import hmac
import json
import multiprocessing
import os
import random
import signal
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from itertools import pairwise
from multiprocessing.connection import Connection
from typing import Any, ClassVar

import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from hotline_common import topics
from hotline_common.catalogue import apply_catalogue
from hotline_common.envelope import ce_headers
from hotline_common.events import AgencyType, CaseRouted, Category, Event, Priority, TargetGroup
from hotline_common.events.base import utcnow
from hotline_common.events.cases import CenterCandidate, RoutingExplanation
from hotline_common.kafka import PRODUCER_GUARANTEES
from hotline_common.settings import ServiceSettings
from hotline_devstack import PostgresCluster, cache_dir, repo_root
from hotline_devstack.services import ServiceProcess
from hotline_gazetteer import Tambon, gazetteer
from hotline_load import kit as benchkit
from hotline_load.kit import fmt, log, percentile, ratio, summary_ms
from hotline_registry.demo import agency_id_for, demo_center, demo_directory

KAFKA_PORT = 49592
KAFKA_CONTROLLER_PORT = 49593
PG_PORT = 45932
BASE_PORT = 48500  # Platform's offsets: notify = base + 3
BASELINE_TOPIC = "bench.notify.baseline"
PLATFORM_LINGER_MS = 5  # what hotline_common.kafka.make_broker uses; the bench's producer matches it
NOTIFY_DISPATCH_BATCH = 50  # notify's default NOTIFY_DISPATCH_BATCH: the baseline POSTs as many at once
PARTITIONS = 3  # KAFKA_TOPIC_PARTITIONS' default: hotline.case.routed.v1 has 3, so does the baseline topic
ROUTING_SOURCE = "/hotline/routing"
REGISTRY_SOURCE = "/hotline/registry"
ACK_MINUTES = {Priority.P1: 15, Priority.P2: 60, Priority.P3: 1440, Priority.P4: 0}  # routing's defaults
PRIORITY_WEIGHTS = {Priority.P1: 15, Priority.P2: 35, Priority.P3: 40, Priority.P4: 10}


# --------------------------------------------------------------------------------------------- CPU accounting
def cpu_share(before: float | None, after: float | None, wall: float) -> float | None:
    """Percent of one core used over `wall` seconds."""
    if before is None or after is None or wall <= 0:
        return None
    return 100.0 * (after - before) / wall


def cpu_ms_per(before: float | None, after: float | None, n: int) -> float | None:
    """CPU milliseconds per item."""
    if before is None or after is None or n <= 0:
        return None
    return 1000.0 * (after - before) / n


# --------------------------------------------------------------------------------------------- child processes
def baseline_body(value: bytes) -> dict[str, Any]:
    """What the raw consumer posts for one routed event: the webhook contract's shape, one item, no database."""
    event = json.loads(value)
    return {"delivery_id": event["event_id"], "items": [{
        "alert_id": event["event_id"], "case_id": event["case_id"], "case_number": event["case_number"],
        "priority": event["priority"], "category": event["category"], "kind": "new", "level": 1,
        "tambon_code": event["tambon_code"], "unit_name_th": event["center_name_th"], "unit_id": event["center_id"],
    }]}


async def _baseline_worker(bootstrap: str, url: str, secret: str, conn: Connection) -> None:
    consumer = AIOKafkaConsumer(BASELINE_TOPIC, bootstrap_servers=bootstrap, group_id="bench-notify-baseline",
                                client_id="bench-baseline", enable_auto_commit=False, auto_offset_reset="earliest")
    stats = Counter[str]()
    # The same client notify's WebhookChannel builds: httpx defaults, 5 s timeout.
    async with httpx.AsyncClient(timeout=5.0, follow_redirects=False) as client:

        async def post(value: bytes) -> None:
            payload = baseline_body(value)
            body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
            sig = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
            headers = {"Content-Type": "application/json; charset=utf-8", "X-Hotline-Signature": sig,
                       "X-Hotline-Delivery": payload["delivery_id"]}
            for attempt in range(4):  # a raw consumer still retries, or a refused connect would lose the message
                try:
                    resp = await client.post(url, content=body, headers=headers)
                    stats["posts"] += 1
                    if resp.is_success:
                        return
                    stats[f"http_{resp.status_code}"] += 1
                except httpx.HTTPError as exc:
                    stats[type(exc).__name__] += 1
                await asyncio.sleep(0.1 * 2**attempt)
            stats["gave_up"] += 1

        await consumer.start()
        try:
            while not consumer.assignment():
                await asyncio.sleep(0.05)
            conn.send("ready")
            while not conn.poll():  # "stop" from the parent, or EOF when the parent is gone
                batches = await consumer.getmany(timeout_ms=100, max_records=NOTIFY_DISPATCH_BATCH)
                records = [rec for recs in batches.values() for rec in recs]
                if records:
                    await asyncio.gather(*(post(rec.value) for rec in records))
                    await consumer.commit()  # after the POSTs: at-least-once, as notify's consumer
                    stats["messages"] += len(records)
        finally:
            await consumer.stop()
    with contextlib.suppress(OSError):
        conn.send(dict(stats))


def _baseline_main(bootstrap: str, url: str, secret: str, conn: Connection) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    asyncio.run(_baseline_worker(bootstrap, url, secret, conn))


class BaselineConsumer:
    """consume → one HTTP POST per message, in its own process as notify is: it does not share a GIL with the
    producer. At most NOTIFY_DISPATCH_BATCH POSTs in flight (what notify's dispatcher claims per pass); commit
    after each batch."""

    def __init__(self, bootstrap: str, url: str, secret: str) -> None:
        ctx = multiprocessing.get_context("spawn")
        self._conn, child = ctx.Pipe()
        self._proc = ctx.Process(target=_baseline_main, args=(bootstrap, url, secret, child),
                                 name="baseline-consumer", daemon=True)
        self._proc.start()
        child.close()
        if not self._conn.poll(90) or self._conn.recv() != "ready":
            raise RuntimeError("baseline consumer did not join its group within 90 s")
        self.pid = self._proc.pid
        self.stats: dict[str, int] = {}

    def is_running(self) -> bool:
        return self._proc.is_alive()

    def stop(self) -> None:
        with contextlib.suppress(OSError):
            self._conn.send("stop")
        if self._conn.poll(15):
            with contextlib.suppress(EOFError, OSError):
                self.stats = self._conn.recv()
        self._proc.join(10)
        if self._proc.is_alive():
            self._proc.kill()
            self._proc.join(5)
        self._conn.close()


# --------------------------------------------------------------------------------------------- infrastructure
async def publish_directory(bootstrap: str, sink_url: str) -> dict[str, int]:
    """The registry's demo responders and rotas (one volunteer on call around the clock per center, a duty
    officer per provincial agency, the 1300 supervisor), every webhook pointing at the sink, on the compacted
    topics notify follows. Records as the registry's outbox writes them: key = subject, CloudEvents headers."""
    await apply_catalogue(ServiceSettings(KAFKA_BOOTSTRAP_SERVERS=bootstrap, HOTLINE_ENV="local"))
    demo = demo_directory(sink_url)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, client_id="bench-registry", linger_ms=20,
                                max_batch_size=512 * 1024, **PRODUCER_GUARANTEES)
    await producer.start()
    try:
        futures = []
        records: list[tuple[str, Event]] = [(topics.REGISTRY_RESPONDER.name, r) for r in demo.responders]
        records += [(topics.REGISTRY_ROTA.name, r) for r in demo.rotas]
        for topic, record in records:
            headers = [(k, v.encode()) for k, v in ce_headers(record, source=REGISTRY_SOURCE).items()]
            futures.append(await producer.send(topic, value=record.model_dump_json().encode(),
                                               key=record.subject().encode(), headers=headers))
        await asyncio.gather(*futures)
    finally:
        await producer.stop()
    return {"responders": len(demo.responders), "rotas": len(demo.rotas)}


async def create_baseline_topic(bootstrap: str) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, client_id="bench-admin")
    await admin.start()
    try:
        await admin.create_topics([NewTopic(BASELINE_TOPIC, num_partitions=PARTITIONS, replication_factor=1)])
    finally:
        await admin.close()


@dataclass
class Infra(benchkit.BenchInfra):
    services_name: ClassVar[str] = "notify"
    notify_env: dict[str, str] = field(default_factory=dict)
    replicas: int = 0
    baseline: BaselineConsumer | None = None
    directory: dict[str, int] = field(default_factory=dict)

    def start(self) -> None:
        # Called from the main thread on purpose: the parent-death signal fires when the *spawning thread* ends.
        self.start_infra(pg_port=PG_PORT, kafka_port=KAFKA_PORT, kafka_controller_port=KAFKA_CONTROLLER_PORT)
        assert self.kafka is not None and self.postgres is not None and self.sink is not None
        t1 = time.perf_counter()
        bootstrap = self.kafka.bootstrap_servers
        self.directory = asyncio.run(publish_directory(bootstrap, self.sink.url))
        asyncio.run(create_baseline_topic(bootstrap))
        self.timings["directory_s"] = time.perf_counter() - t1
        log(f"directory published: {self.directory['responders']} responders, {self.directory['rotas']} rotas "
            f"({self.timings['directory_s']:.1f}s)")
        t2 = time.perf_counter()
        self.platform = benchkit.BenchPlatform(kafka_bootstrap=bootstrap, admin_url=self.postgres.admin_url,
                                      log_dir=self.log_dir, base_port=BASE_PORT, env=self.notify_env)
        log(f"starting notify on {self.platform.url('notify')}")
        self.platform.start_service("notify")
        for i in range(self.replicas):  # same database and consumer group: notify's scale-out
            port = BASE_PORT + 4 + i
            log(f"starting notify replica {i + 1} on 127.0.0.1:{port}")
            self.platform.start_replica("notify", f"r{i + 1}", port)
        self.timings["notify_start_s"] = time.perf_counter() - t2
        self.baseline = BaselineConsumer(bootstrap, self.sink.url, self.webhook_secret)
        log(f"ready (infra {self.timings['infra_s']:.1f}s, notify {self.timings['notify_start_s']:.1f}s); "
            f"logs in {self.log_dir}")

    @property
    def notify(self) -> dict[str, ServiceProcess]:
        """Every notify instance (replicas as `notify#r1` ...)."""
        return dict(self.platform.services) if self.platform else {}

    def dead(self) -> list[str]:
        out = super().dead()
        if self.baseline is not None and not self.baseline.is_running():
            out.append("baseline consumer")
        return out

    def cpu(self) -> dict[str, float | None]:
        """Cumulative CPU seconds of each component now."""
        table = benchkit.proc_table()
        notify = [benchkit.tree_cpu(table, proc.pid) for proc in self.notify.values()]
        return {
            "notify": sum(x for x in notify if x is not None) if notify else None,
            "postgres": benchkit.tree_cpu(table, self.postgres.pid if self.postgres else None),
            "kafka": benchkit.tree_cpu(table, self.kafka.pid if self.kafka else None),
            "sink": benchkit.tree_cpu(table, self.sink.pid if self.sink else None),
            "baseline_consumer": benchkit.tree_cpu(table, self.baseline.pid if self.baseline else None),
            "bench": time.process_time(),
        }

    def teardown_steps(self) -> list[tuple[str, Callable[[], object]]]:
        """Baseline consumer, notify, sink, Kafka, PostgreSQL."""
        first: list[tuple[str, Callable[[], object]]] = []
        if self.baseline is not None:
            first.append(("baseline consumer", self.baseline.stop))
        return first + super().teardown_steps()


# --------------------------------------------------------------------------------------------- load
class RoutedFactory:
    """Routed events as routing would publish them for the demo directory: a real sub-district, its demo center
    (whose volunteer is on call), the provincial office as agency, routing's acknowledgement windows."""

    def __init__(self, seed: int, centers: int) -> None:
        self.rnd = random.Random(seed)
        tambons = sorted(gazetteer().tambons, key=lambda t: t.code)
        self.tambons: list[Tambon] = self.rnd.sample(tambons, centers) if centers else tambons
        self.categories = list(Category)
        self.groups = list(TargetGroup)
        self.seq = 0

    def event(self) -> CaseRouted:
        r = self.rnd
        t = r.choice(self.tambons)
        center = demo_center(t)
        priority = r.choices(list(PRIORITY_WEIGHTS), weights=list(PRIORITY_WEIGHTS.values()))[0]
        now = utcnow()
        minutes = ACK_MINUTES[priority]
        self.seq += 1
        return CaseRouted(
            case_id=uuid.uuid4(), case_number=f"1300-2569-{self.seq:06d}", category=r.choice(self.categories),
            target_group=r.choice(self.groups), priority=priority, tambon_code=t.code, center_id=center.center_id,
            center_name_th=center.name_th, center_tambon_code=t.code, distance_km=0.0, rule="own_tambon",
            reported_event_id=uuid.uuid4(), agency_id=agency_id_for(t.province_code, AgencyType.provincial_office),
            agency_type=AgencyType.provincial_office.value,
            ack_deadline=now + timedelta(minutes=minutes) if minutes else None,
            explanation=RoutingExplanation(
                location_source="tambon_code", location_confidence=1.0,
                candidates=[CenterCandidate(center_id=center.center_id, name_th=center.name_th, tambon_code=t.code,
                                            distance_km=0.0)]))

    def records(self, n: int) -> list[tuple[str, bytes, bytes, list[tuple[str, bytes]]]]:
        """(case id, value, key, headers) serialised ahead: the send loop only sends."""
        out = []
        for _ in range(n):
            e = self.event()
            headers = [(k, v.encode()) for k, v in ce_headers(e, source=ROUTING_SOURCE).items()]
            out.append((str(e.case_id), e.model_dump_json().encode(), e.subject().encode(), headers))
        return out


async def produce(producer: AIOKafkaProducer, topic: str, records: list[tuple[str, bytes, bytes,
                  list[tuple[str, bytes]]]], rate: float | None) -> tuple[dict[str, float], dict[str, int], float]:
    """Send every record, open loop at `rate`/s (None: as fast as the producer takes them). Returns each case's
    send time (time.time(), also the record's timestamp), its partition, and the seconds until Kafka acknowledged
    the last record."""
    sent_at: dict[str, float] = {}
    futures = []
    start = time.perf_counter()
    for i, (case_id, value, key, headers) in enumerate(records):
        if rate is not None:
            delay = start + i / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
        t = sent_at[case_id] = time.time()
        futures.append(await producer.send(topic, value=value, key=key, headers=headers, timestamp_ms=int(t * 1000)))
    metadata = await asyncio.gather(*futures)
    partitions = {case_id: md.partition for (case_id, *_), md in zip(records, metadata, strict=True)}
    return sent_at, partitions, time.perf_counter() - start


def analyse(sent_at: dict[str, float], arrivals: benchkit.Arrivals) -> dict[str, Any]:
    latency: list[float] = []
    firsts: list[float] = []
    missing: list[str] = []
    redelivered = extra_alerts = bad_signatures = 0
    deliveries: dict[str, int] = {}  # delivery id → alerts it carried
    for case_id, t in sent_at.items():
        got = arrivals.by_case.get(case_id)
        if not got:
            missing.append(case_id)
            continue
        first = min(r.at for r in got)
        firsts.append(first)
        latency.append(first - t)
        alerts = {(r.delivery_id, str(r.body.get("alert_id"))) for r in got}
        redelivered += len(got) - len(alerts)  # the same alert in the same delivery again: a retried POST
        extra_alerts += len({a for _, a in alerts}) - 1  # one volunteer on call per demo center: more is a bug
        bad_signatures += sum(1 for r in got if not r.signature_ok)
        for r in got:
            deliveries[r.delivery_id] = r.grouped
    start = min(sent_at.values(), default=0.0)
    span = max(firsts) - start if firsts else 0.0
    firsts.sort()
    # The middle 80 % of arrivals: the rate once the pipeline is full, without the ramp-up and the tail.
    lo, hi = percentile(firsts, 10), percentile(firsts, 90)
    steady = 0.8 * len(firsts) / (hi - lo) if lo is not None and hi is not None and hi > lo else None
    sizes = list(deliveries.values())
    return {
        "events": len(sent_at),
        "alerted": len(firsts),
        "missing": len(missing),
        "missing_case_ids": missing[:20],
        "alerts_per_s": len(firsts) / span if span > 0 else None,
        "alerts_per_s_middle80": steady,
        "deliveries": len(deliveries),
        "deliveries_per_s": len(deliveries) / span if span > 0 else None,
        "alerts_per_delivery_mean": sum(sizes) / len(sizes) if sizes else None,
        "alerts_per_delivery_max": max(sizes, default=0),
        "first_send_to_last_alert_s": span,
        "latency_ms": summary_ms(latency),
        "redelivered": redelivered,
        "extra_alerts": extra_alerts,
        "bad_signatures": bad_signatures,
    }


STAGES_SQL = """
SELECT a.case_id::text, extract(epoch FROM a.created_at)::float8,
       extract(epoch FROM min(t.at))::float8, (array_agg(t.duration_ms ORDER BY t.at))[1], count(t.id)
  FROM notify.alerts a LEFT JOIN notify.attempts t USING (alert_id)
 GROUP BY a.alert_id
"""


def stage_times(postgres: PostgresCluster) -> dict[str, tuple[float | None, ...]]:
    """Per case from notify's own tables (host clock): alerts.created_at (the routed handler's transaction start),
    the first attempt's at (its settle transaction start) and duration_ms (notify's timing of the POST)."""
    out: dict[str, tuple[float | None, ...]] = {}
    for line in postgres.psql(STAGES_SQL).splitlines():
        case_id, *values = line.split("|")
        if len(values) == 4:
            out[case_id] = tuple(float(v) if v else None for v in values)
    return out


def stage_breakdown(sent_at: dict[str, float], arrivals: benchkit.Arrivals,
                    stages: dict[str, tuple[float | None, ...]]) -> dict[str, Any]:
    spans: dict[str, list[float]] = {
        "produced_to_handler": [],  # send → notify's routed handler starts its transaction (Kafka + consumer queue)
        "handler_to_webhook": [],  # → sink receives (commit, dispatcher wake-up, claim, batch, POST)
        "webhook_post": [],  # notify's own timing of the delivery's POST (attempts.duration_ms)
        "webhook_to_settled": [],  # sink receives → the alert's settle transaction starts
    }
    for case_id, t in sent_at.items():
        st = stages.get(case_id)
        got = arrivals.by_case.get(case_id)
        if st is None:
            continue
        created, settled, post_ms, _ = st
        sink_at = min(r.at for r in got) if got else None
        if created is not None:
            spans["produced_to_handler"].append(created - t)
            if sink_at is not None:
                spans["handler_to_webhook"].append(sink_at - created)
        if post_ms is not None:
            spans["webhook_post"].append(post_ms / 1000.0)
        if sink_at is not None and settled is not None:
            spans["webhook_to_settled"].append(settled - sink_at)
    return {k: summary_ms(v) for k, v in spans.items()}


def handler_cycle(sent_at: dict[str, float], partitions: dict[str, int],
                  stages: dict[str, tuple[float | None, ...]]) -> dict[str, Any]:
    """Time between the starts of notify's routed handler for consecutive events of one partition: each partition
    is handled one event at a time (fetch, handler transaction, offset commit), so in a backlog this is the cost
    of one event on the consumer side, and partitions / cycle is the most the consumer can take."""
    by_partition: dict[int, list[float]] = {}
    for case_id in sent_at:
        st = stages.get(case_id)
        if st is not None and st[0] is not None:
            by_partition.setdefault(partitions[case_id], []).append(st[0])
    gaps: list[float] = []
    for starts in by_partition.values():
        starts.sort()
        gaps += [b - a for a, b in pairwise(starts)]
    out: dict[str, Any] = {"partitions": len(by_partition), **summary_ms(gaps)}
    p50 = out["p50"]
    out["ceiling_per_s"] = 1000.0 * len(by_partition) / p50 if p50 else None
    return out


# --------------------------------------------------------------------------------------------- the run
@dataclass
class Phase:
    name: str
    path: str  # "platform" or "baseline"
    sent_at: dict[str, float]
    partitions: dict[str, int]  # case id → partition of its routed event
    result: dict[str, Any]


async def run_phase(infra: Infra, producer: AIOKafkaProducer, arrivals: benchkit.Arrivals, factory: RoutedFactory, *,
                    name: str, path: str, n: int, rate: float | None, drain_timeout: float) -> Phase:
    assert infra.sink is not None
    topic = topics.CASE_ROUTED.name if path == "platform" else BASELINE_TOPIC
    records = factory.records(n)
    how = f"{rate:g}/s" if rate else "burst"
    log(f"{name} {path}: {n} routed events, {how}")
    cpu0, wall0 = infra.cpu(), time.time()
    sent_at, partitions, produce_s = await produce(producer, topic, records, rate)
    waited, done_at = await arrivals.wait_all(list(sent_at), drain_timeout, infra, what="alert", interval=0.02)
    cpu1 = infra.cpu()
    result = analyse(sent_at, arrivals)
    result["produce_s"] = produce_s
    result["produced_per_s"] = n / produce_s if produce_s > 0 else None
    result["offered_rate"] = rate
    result["path"] = path
    result["drain_wait_s"] = waited
    wall = done_at - wall0
    # Share of one core each process used from the first send to the last alert (or the drain timeout).
    result["cpu_percent"] = {k: cpu_share(cpu0[k], cpu1[k], wall) for k in cpu0}
    result["cpu_ms_per_alert"] = {k: cpu_ms_per(cpu0[k], cpu1[k], result["alerted"]) for k in cpu0}
    lat = result["latency_ms"]
    log(f"  {result['alerted']}/{n} alerted ({result['missing']} missing), {fmt(result['alerts_per_s'])} alerts/s, "
        f"p50 {fmt(lat['p50'])} ms, p99 {fmt(lat['p99'])} ms")
    return Phase(name, path, sent_at, partitions, result)


async def measure(infra: Infra, args: argparse.Namespace) -> dict[str, Any]:
    assert infra.kafka is not None and infra.sink is not None and infra.postgres is not None
    t0 = time.perf_counter()
    factory = RoutedFactory(args.seed, args.centers)
    arrivals = benchkit.Arrivals(infra.sink)
    producer = AIOKafkaProducer(bootstrap_servers=infra.kafka.bootstrap_servers, client_id="bench-routing",
                                linger_ms=PLATFORM_LINGER_MS, **PRODUCER_GUARANTEES)
    await producer.start()
    phases: list[Phase] = []
    try:
        common = {"drain_timeout": args.drain_timeout}
        # Warm-up, both paths: connections, notify's gazetteer and first queries (not in the statistics).
        if args.warmup:
            for path in ("baseline", "platform"):
                phases.append(await run_phase(infra, producer, arrivals, factory, name="warmup", path=path,
                                              n=args.warmup, rate=args.rate, **common))
        # Each pair back to back, baseline first: the machine's state is as alike as it gets.
        n_rate = round(args.rate * args.duration)
        for path in ("baseline", "platform"):
            phases.append(await run_phase(infra, producer, arrivals, factory, name="rate", path=path, n=n_rate,
                                          rate=args.rate, **common))
        if args.burst:
            for path in ("baseline", "platform"):
                phases.append(await run_phase(infra, producer, arrivals, factory, name="burst", path=path,
                                              n=args.burst, rate=None, **common))
    finally:
        await producer.stop()
    await asyncio.sleep(0.5)
    arrivals.update()
    results: dict[str, Any] = {"baseline": {}, "platform": {}}
    for p in phases:
        results[p.path][p.name] = p.result
    try:
        stages = await asyncio.to_thread(stage_times, infra.postgres)
        for p in phases:
            if p.path == "platform" and p.name != "warmup":
                p.result["stages_ms"] = stage_breakdown(p.sent_at, arrivals, stages)
                if p.name == "burst":  # only in a backlog is the gap between two events the cost of one
                    p.result["handler_cycle_ms"] = handler_cycle(p.sent_at, p.partitions, stages)
        results["platform"]["notify_attempts"] = await asyncio.to_thread(benchkit.attempt_outcomes, infra.postgres)
    except Exception as exc:  # diagnostics only: the run's results stand without them
        log(f"stage breakdown unavailable: {exc!r}")
    known = {c for p in phases for c in p.sent_at}
    results["unexpected_alerts"] = sum(len(v) for k, v in arrivals.by_case.items() if k not in known)
    infra.timings["measure_s"] = time.perf_counter() - t0
    return results


# --------------------------------------------------------------------------------------------- report
def print_report(res: dict[str, Any]) -> None:
    plat, base = res["platform"], res["baseline"]
    cols = [(plat.get("rate"), "notify @rate"), (base.get("rate"), "baseline @rate"),
            (plat.get("burst"), "notify burst"), (base.get("burst"), "baseline burst")]
    cols = [(c, h) for c, h in cols if c is not None]
    rows: list[list[str]] = []

    def row(label: str, get: Any) -> None:
        rows.append([label, *(get(c) for c, _ in cols)])

    row("offered rate (/s)", lambda c: fmt(c["offered_rate"]) if c["offered_rate"] else "max")
    row("routed events", lambda c: fmt(c["events"]))
    row("produced /s", lambda c: fmt(c["produced_per_s"], 0))
    row("alerted (first item received)", lambda c: fmt(c["alerted"]))
    row("alerts/s (first send → last)", lambda c: fmt(c["alerts_per_s"]))
    row("alerts/s (middle 80 %)", lambda c: fmt(c["alerts_per_s_middle80"]))
    row("deliveries (POSTs)", lambda c: fmt(c["deliveries"]))
    row("deliveries/s", lambda c: fmt(c["deliveries_per_s"]))
    row("alerts per delivery mean/max",
        lambda c: f"{fmt(c['alerts_per_delivery_mean'], 2)}/{c['alerts_per_delivery_max']}")
    for q in ("p50", "p95", "p99", "max"):
        row(f"routed → webhook {q} (ms)", lambda c, q=q: fmt(c["latency_ms"][q]))
    row("missing", lambda c: fmt(c["missing"]))
    row("redelivered / extra alerts", lambda c: f"{c['redelivered']} / {c['extra_alerts']}")
    row("bad signatures", lambda c: fmt(c["bad_signatures"]))
    for k in ("notify", "baseline_consumer", "postgres", "kafka", "sink", "bench"):
        row(f"CPU % {k}", lambda c, k=k: fmt(c["cpu_percent"].get(k), 0))
    # notify's, or the baseline consumer's: the process that turns an event into a POST.
    row("CPU ms per alert (consumer)", lambda c: fmt(c["cpu_ms_per_alert"][
        "notify" if c["path"] == "platform" else "baseline_consumer"], 2))
    row("CPU ms per alert (postgres)", lambda c: fmt(c["cpu_ms_per_alert"]["postgres"], 2))

    head = ["", *(h for _, h in cols)]
    widths = [max(len(x[i]) for x in [head, *rows]) for i in range(len(head))]
    line = "  ".join("-" * w for w in widths)

    def out(cells: list[str]) -> None:
        print("  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths,
                                                                                             strict=True))))

    print()
    print("Notify: hotline.case.routed.v1 produced → signed webhook at the sink "
          "(baseline: raw consume → one HTTP POST per message)")
    print(line)
    out(head)
    print(line)
    for r in rows:
        out(r)
    print(line)
    for name in ("rate", "burst"):
        st = plat.get(name, {}).get("stages_ms")
        if st:
            print(f"where notify's time goes, {name} (p50 / p99 ms; from notify's tables):")
            for key, v in st.items():
                print(f"  {key:<22} {fmt(v['p50']):>9} / {fmt(v['p99']):>9}")
            cyc = plat[name].get("handler_cycle_ms")
            if cyc and cyc["p50"] is not None:
                print(f"  routed handler cycle per partition: p50 {fmt(cyc['p50'])} ms, p99 {fmt(cyc['p99'])} ms "
                      f"over {cyc['partitions']} partitions (one event at a time each: at most "
                      f"{fmt(cyc['ceiling_per_s'], 0)} events/s)")
    if "notify_attempts" in plat:
        print("notify delivery attempts: " + ", ".join(f"{k} ×{v}" for k, v in plat["notify_attempts"].items()))
    print(line)
    rat = res["ratio_platform_over_baseline"]
    print(f"notify/baseline: burst alerts/s ×{fmt(rat.get('burst_alerts_per_s'), 2)}, "
          f"@rate p50 ×{fmt(rat.get('rate_p50'))}, p99 ×{fmt(rat.get('rate_p99'))}, "
          f"burst p99 ×{fmt(rat.get('burst_p99'))}")
    print(f"baseline consumer: {res['baseline_consumer_stats']}; unexpected alerts: {res['unexpected_alerts']}")
    benchkit.print_footer(res, f"at start {res['loadavg_1m_start']:.1f}, end {res['loadavg_1m_end']:.1f}")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rate", type=float, default=50.0, help="routed events/s of the fixed-rate run (default 50)")
    p.add_argument("--duration", type=float, default=20.0, help="seconds of the fixed-rate run (default 20)")
    p.add_argument("--warmup", type=int, default=100, help="events at --rate per path before measuring (default 100)")
    p.add_argument("--burst", type=int, default=2000, help="events produced as fast as possible; 0 = skip "
                   "(default 2000)")
    p.add_argument("--centers", type=int, default=0, help="spread the cases over this many demo centers (default "
                   "0: all 7,436); few centers make notify group a responder's alerts into one delivery")
    p.add_argument("--replicas", type=int, default=0, help="extra notify instances (same database and consumer "
                   "group; default 0)")
    p.add_argument("--drain-timeout", type=float, default=90.0,
                   help="seconds to wait for outstanding alerts after each phase (default 90)")
    p.add_argument("--seed", type=int, default=1300, help="random seed of the generated events")
    args = p.parse_args(argv)
    if args.rate <= 0 or args.duration <= 0 or min(args.warmup, args.burst, args.centers, args.replicas) < 0:
        p.error("--rate/--duration must be > 0, --warmup/--burst/--centers/--replicas >= 0")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    root = repo_root()
    secret = os.environ.get("DEMO_WEBHOOK_SECRET") or "dev-only-webhook-secret"
    started = time.time()
    t_start = time.perf_counter()
    code = benchkit.git_state(root)
    load_start = os.getloadavg()[0]
    infra = Infra(state_dir=cache_dir() / "bench-notify", webhook_secret=secret,
                  notify_env={"HOTLINE_ENV": "local", "DEMO_WEBHOOK_SECRET": secret}, replicas=args.replicas)
    res = benchkit.measure_then_stop(infra, lambda: measure(infra, args),
                                     stopping="notify, the sink, Kafka and PostgreSQL")
    if res is None:
        return 130
    infra.timings["total_s"] = time.perf_counter() - t_start

    plat, base = res["platform"], res["baseline"]

    def pick(path: dict[str, Any], phase: str, *keys: str) -> Any:
        v: Any = path.get(phase)
        for k in keys:
            v = v.get(k) if isinstance(v, dict) else None
        return v

    res["ratio_platform_over_baseline"] = {
        "burst_alerts_per_s": ratio(pick(plat, "burst", "alerts_per_s"), pick(base, "burst", "alerts_per_s")),
        "rate_p50": ratio(pick(plat, "rate", "latency_ms", "p50"), pick(base, "rate", "latency_ms", "p50")),
        "rate_p99": ratio(pick(plat, "rate", "latency_ms", "p99"), pick(base, "rate", "latency_ms", "p99")),
        "burst_p99": ratio(pick(plat, "burst", "latency_ms", "p99"), pick(base, "burst", "latency_ms", "p99")),
    }
    benchkit.write_results(res, "notify", root=root, started=started, args=args, code=code, infra=infra,
                           run={"directory": infra.directory,
                                "baseline_consumer_stats": infra.baseline.stats if infra.baseline else {}},
                           load={"loadavg_1m_start": load_start, "loadavg_1m_end": infra.load_at_stop})
    print_report(res)
    problems = sum(pick(path, phase, "missing") or 0 for path in (plat, base) for phase in ("warmup", "rate", "burst"))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
