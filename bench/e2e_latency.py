"""End-to-end latency benchmark: POST /v1/cases → Kafka → routing → Kafka → notify → signed webhook.

Starts its own Kafka + PostgreSQL (dedicated ports, fresh state in <cache>/bench), a webhook sink and the
four services, measures a raw aiokafka produce→consume baseline through the same broker, then the platform
at a fixed offered rate and in an as-fast-as-possible burst. Prints a table and writes
bench-results/e2e-<timestamp>.json. Everything it started is torn down on exit (also on Ctrl-C/SIGTERM).

    uv run python bench/e2e_latency.py [--rate 50] [--duration 20] [--warmup 3] [--burst 500]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sys
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

from hotline_common import topics
from hotline_common.events import Category, TargetGroup
from hotline_devstack import PostgresCluster, cache_dir, repo_root
from hotline_gazetteer import gazetteer
from hotline_load import kit as benchkit
from hotline_load.baseline import run_baseline
from hotline_load.kit import fmt, log, ratio, summary_ms

KAFKA_PORT = 49092
KAFKA_CONTROLLER_PORT = 49093
PG_PORT = 45432
BASE_PORT = 48000
RATE_MAX_IN_FLIGHT = 64  # open-loop requests in flight at once in the fixed-rate run
GEO_SHARE = 0.2  # share of cases located by lat/lon instead of a tambon code

DESCRIPTIONS_TH = [
    "ผู้แจ้งพบผู้สูงอายุนอนอยู่ริมถนนหน้าตลาด ไม่มีญาติดูแล",
    "เด็กหญิงอายุประมาณ 8 ปี ถูกทิ้งไว้ที่บ้านคนเดียวหลายวัน",
    "ภรรยาถูกสามีทำร้ายร่างกายเป็นประจำ ขอความช่วยเหลือด่วน",
    "มีคนไร้บ้านนอนใต้สะพาน อากาศหนาว ต้องการผ้าห่มและที่พัก",
    "พบเด็กขอทานบริเวณสี่แยกไฟแดง คาดว่าถูกบังคับ",
    "ครอบครัวตกงาน ไม่มีเงินซื้ออาหารให้ลูกสามคน",
    "วัยรุ่นตั้งครรภ์อายุ 15 ปี ไม่กล้าบอกผู้ปกครอง",
    "ญาติหายออกจากบ้านตั้งแต่เมื่อวาน มีอาการหลงลืม",
    "ผู้พิการนั่งรถเข็นติดอยู่ในบ้าน น้ำท่วมสูง",
    "เพื่อนบ้านได้ยินเสียงเด็กร้องไห้และเสียงทะเลาะทุกคืน",
    "แรงงานต่างด้าวถูกยึดเอกสารและไม่ได้รับค่าจ้าง",
    "บุคคลไม่มีสถานะทางทะเบียน ต้องการความช่วยเหลือด้านการรักษาพยาบาล",
]
DETAILS_TH = [
    "ผู้แจ้งรออยู่ที่จุดเกิดเหตุ",
    "ขอให้เจ้าหน้าที่ติดต่อกลับ",
    "ผู้แจ้งไม่ประสงค์ออกนาม",
    "เหตุเกิดเมื่อประมาณ 30 นาทีที่แล้ว",
    "",
]


# --------------------------------------------------------------------------------------------- infra
@dataclass
class Infra(benchkit.BenchInfra):
    load: dict[str, float] = field(default_factory=dict)  # 1-min load average: the box may be shared

    def start(self) -> None:
        # Called from the main thread on purpose: the parent-death signal fires when the *spawning thread* ends.
        self.start_infra(pg_port=PG_PORT, kafka_port=KAFKA_PORT, kafka_controller_port=KAFKA_CONTROLLER_PORT)
        assert self.kafka is not None and self.postgres is not None and self.sink is not None
        t1 = time.perf_counter()
        self.platform = benchkit.BenchPlatform(
            kafka_bootstrap=self.kafka.bootstrap_servers, admin_url=self.postgres.admin_url, log_dir=self.log_dir,
            base_port=BASE_PORT, env={"DEMO_ALERT_WEBHOOK_URL": self.sink.url, "HOTLINE_ENV": "local"},
        )
        for name in ("registry", "intake", "routing", "notify"):
            log(f"starting {name} on {self.platform.url(name)}")
            self.platform.start_service(name)
        self.timings["services_s"] = time.perf_counter() - t1
        log(f"platform ready (infra {self.timings['infra_s']:.1f}s, services {self.timings['services_s']:.1f}s); "
            f"logs in {self.log_dir}")


# --------------------------------------------------------------------------------------------- platform
@dataclass
class Posted:
    phase: str
    sent_at: float  # time.time() just before the request
    done_at: float  # time.time() when the response (or error) arrived
    status: int | None
    case_id: str | None = None
    error: str | None = None


class CaseFactory:
    def __init__(self, seed: int) -> None:
        self.rnd = random.Random(seed)
        self.tambons = gazetteer().tambons
        self.categories = list(Category)
        self.groups = list(TargetGroup)

    def case(self) -> dict[str, Any]:
        r = self.rnd
        t = r.choice(self.tambons)
        location: dict[str, Any]
        if r.random() < GEO_SHARE:
            # A point a few hundred metres from the tambon centroid: intake resolves it to the nearest tambon.
            location = {"lat": round(t.lat + r.uniform(-0.005, 0.005), 6),
                        "lon": round(t.lon + r.uniform(-0.005, 0.005), 6)}
        else:
            location = {"tambon_code": t.code}
        body: dict[str, Any] = {
            "category": r.choice(self.categories).value,
            "target_group": r.choice(self.groups).value,
            "description": f"{r.choice(DESCRIPTIONS_TH)} {r.choice(DETAILS_TH)}".strip(),
            "location": location,
        }
        if r.random() < 0.5:
            body["caller"] = {"name": "ผู้แจ้ง ทดสอบ", "phone": f"08{r.randrange(10**8):08d}"}
        return body


async def get_token(client: httpx.AsyncClient, registry_url: str, password: str) -> str:
    resp = await client.post(f"{registry_url}/v1/auth/token",
                             data={"username": "operator", "password": password})
    resp.raise_for_status()
    return str(resp.json()["access_token"])


async def post_case(client: httpx.AsyncClient, url: str, body: dict[str, Any], phase: str,
                    gate: asyncio.Semaphore | None = None) -> Posted:
    """POST one case. `sent_at` is taken before waiting for `gate`: an open-loop request that has to queue
    because the server is slow counts that wait in its HTTP latency (no coordinated omission)."""
    sent = time.time()
    try:
        if gate is None:
            resp = await client.post(url, json=body)
        else:
            async with gate:
                resp = await client.post(url, json=body)
    except httpx.HTTPError as exc:
        return Posted(phase, sent, time.time(), None, error=f"{type(exc).__name__}: {exc}")
    done = time.time()
    if resp.status_code != 201:
        return Posted(phase, sent, done, resp.status_code, error=resp.text[:300])
    return Posted(phase, sent, done, 201, case_id=str(resp.json()["case_id"]))


async def post_at_rate(client: httpx.AsyncClient, url: str, factory: CaseFactory, *, rate: float,
                       seconds: float, phase: str, gate: asyncio.Semaphore) -> tuple[list[Posted], float]:
    """Open loop: request i is issued at start + i/rate whatever the earlier ones are doing; at most
    `gate` of them are in flight, the rest wait in a cheap FIFO (httpx's pool gets slow with a long queue).
    Returns the posts and the generator's worst lateness (s) against its schedule."""
    return await benchkit.open_loop(rate, seconds, lambda: post_case(client, url, factory.case(), phase, gate))


async def post_burst(client: httpx.AsyncClient, url: str, factory: CaseFactory, *, count: int,
                     concurrency: int) -> list[Posted]:
    bodies = [factory.case() for _ in range(count)]
    out: list[Posted] = []

    async def worker() -> None:
        while bodies:
            out.append(await post_case(client, url, bodies.pop(), "burst"))

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return out


def analyse(posts: list[Posted], arrivals: benchkit.Arrivals, waited: float) -> dict[str, Any]:
    accepted = [p for p in posts if p.case_id]
    errors = [p for p in posts if not p.case_id]
    e2e: list[float] = []
    e2e_from_send: list[float] = []
    missing: list[str] = []
    redeliveries = extra_alerts = bad_signatures = 0
    last_webhook = 0.0
    for p in accepted:
        assert p.case_id is not None
        got = arrivals.by_case.get(p.case_id)
        if not got:
            missing.append(p.case_id)
            continue
        first = min(r.at for r in got)
        last_webhook = max(last_webhook, *(r.at for r in got))
        e2e.append(first - p.done_at)
        e2e_from_send.append(first - p.sent_at)
        deliveries = {r.delivery_id for r in got}
        redeliveries += len(got) - len(deliveries)  # same alert (X-Hotline-Delivery) received again
        extra_alerts += len(deliveries) - 1  # more than one alert for one case (one responder per demo center)
        bad_signatures += sum(1 for r in got if not r.signature_ok)
    first_sent = min((p.sent_at for p in posts), default=0.0)
    last_accept = max((p.done_at for p in accepted), default=0.0)
    accept_span = last_accept - first_sent
    e2e_span = last_webhook - first_sent
    delivered = len(accepted) - len(missing)
    status_counts: dict[str, int] = {}
    for p in errors:
        key = str(p.status) if p.status else "exception"
        status_counts[key] = status_counts.get(key, 0) + 1
    return {
        "posted": len(posts),
        "accepted": len(accepted),
        "errors": len(errors),
        "error_statuses": status_counts,
        "error_samples": [p.error for p in errors[:3]],
        "accepted_per_s": len(accepted) / accept_span if accept_span > 0 else None,
        "delivered_per_s": delivered / e2e_span if e2e_span > 0 and delivered else None,
        "http_accept_ms": summary_ms([p.done_at - p.sent_at for p in accepted]),
        "e2e_ms": summary_ms(e2e),
        "e2e_from_send_ms": summary_ms(e2e_from_send),
        "delivered": delivered,
        "missing": len(missing),
        "missing_case_ids": missing[:20],
        "redeliveries": redeliveries,
        "extra_alerts": extra_alerts,
        "bad_signatures": bad_signatures,
        "drain_wait_s": waited,
    }


STAGES_SQL = """
SELECT c.case_id::text AS case_id,
       extract(epoch FROM c.created_at)::float8 AS reported,
       (SELECT extract(epoch FROM min(d.decided_at))::float8
          FROM routing.decisions d WHERE d.case_id = c.case_id) AS routed,
       (SELECT extract(epoch FROM min(a.created_at))::float8
          FROM notify.alerts a WHERE a.case_id = c.case_id) AS alert_queued,
       (SELECT extract(epoch FROM min(t.at))::float8
          FROM notify.alerts a JOIN notify.attempts t USING (alert_id) WHERE a.case_id = c.case_id) AS attempt_settled,
       (SELECT t.duration_ms FROM notify.alerts a JOIN notify.attempts t USING (alert_id)
         WHERE a.case_id = c.case_id ORDER BY t.at LIMIT 1) AS webhook_post_ms
  FROM intake.cases c
"""


def stage_times(postgres: PostgresCluster) -> dict[str, dict[str, float | None]]:
    """Per-case stage timestamps from the services' own tables (all PostgreSQL/host clock, epoch seconds):
    intake cases.created_at (handler start), routing decisions.decided_at and notify alerts.created_at
    (transaction start of the consuming handler), notify attempts.at (settling the first delivery) and
    attempts.duration_ms (notify's own timing of that webhook POST).
    The bench database is fresh, so every case in it is one of ours."""
    out: dict[str, dict[str, float | None]] = {}
    for line in postgres.psql(STAGES_SQL).splitlines():
        case_id, *values = line.split("|")
        if len(values) == 5:
            out[case_id] = dict(zip(("reported", "routed", "alert_queued", "attempt_settled", "webhook_post_ms"),
                                    (float(v) if v else None for v in values), strict=True))
    return out


async def publish_times(bootstrap: str, topic: str) -> dict[str, float]:
    """When each case's event was published (record timestamp = the relay's send time, epoch seconds), read from
    the beginning of `topic`. The key is the case id."""
    out: dict[str, float] = {}

    def keep(records: list[Any]) -> None:
        for rec in records:
            out.setdefault(rec.key.decode() if rec.key else "", rec.timestamp / 1000.0)

    await benchkit.read_topic(bootstrap, topic, keep, timeout=30)
    return out


def stage_breakdown(posts: list[Posted], arrivals: benchkit.Arrivals, stages: dict[str, dict[str, float | None]],
                    published: dict[str, dict[str, float]]) -> dict[str, Any]:
    """Where the end-to-end time goes, per hop (ms, p50/p95/p99/max over the cases that got that far)."""
    spans: dict[str, list[float]] = {
        "http_before_handler": [],  # request sent → intake handler starts (client queue, uvicorn, event loop)
        "http_handler_to_201": [],  # intake handler start → 201 received (transaction incl. commit)
        "intake_to_published": [],  # intake handler start → case.reported record sent by intake's outbox relay
        "published_to_routing": [],  # → routing's handler starts on it (Kafka + routing's consumer queue)
        "routing_to_published": [],  # routing's handler start → case.routed record sent by routing's relay
        "published_to_notify": [],  # → notify's handler inserts the alert (Kafka + notify's consumer queue)
        "alert_queued_to_webhook": [],  # notify dispatcher claims it → webhook received by the sink
        "webhook_post": [],  # notify's timing of the POST to the sink (attempts.duration_ms)
        "webhook_to_settled": [],  # sink received → notify's settle transaction starts
    }

    def add(key: str, a: float | None, b: float | None) -> None:
        if a is not None and b is not None:
            spans[key].append(b - a)

    for p in posts:
        st = stages.get(p.case_id or "")
        if st is None:
            continue
        got = arrivals.by_case.get(p.case_id or "")
        sink_at = min(r.at for r in got) if got else None
        add("http_before_handler", p.sent_at, st["reported"])
        add("http_handler_to_201", st["reported"], p.done_at)
        cid = p.case_id or ""
        reported_pub = published["reported"].get(cid)
        routed_pub = published["routed"].get(cid)
        add("intake_to_published", st["reported"], reported_pub)
        add("published_to_routing", reported_pub, st["routed"])
        add("routing_to_published", st["routed"], routed_pub)
        add("published_to_notify", routed_pub, st["alert_queued"])
        add("alert_queued_to_webhook", st["alert_queued"], sink_at)
        add("webhook_to_settled", sink_at, st["attempt_settled"])
        if st["webhook_post_ms"] is not None:
            spans["webhook_post"].append(st["webhook_post_ms"] / 1000.0)
    return {k: summary_ms(v) for k, v in spans.items()}


async def case_status(client: httpx.AsyncClient, intake_url: str, case_ids: list[str]) -> dict[str, Any]:
    """Intake's view of (a few) missing cases: status and timeline types, as evidence for a report."""
    out: dict[str, Any] = {}
    for cid in case_ids[:5]:
        try:
            resp = await client.get(f"{intake_url}/v1/cases/{cid}")
            data = resp.json()
            out[cid] = {"status": data.get("status"), "timeline": [e["type"] for e in data.get("timeline", [])]}
        except (httpx.HTTPError, ValueError, KeyError) as exc:
            out[cid] = {"error": repr(exc)}
    return out


async def run_platform(infra: Infra, args: argparse.Namespace, password: str) -> dict[str, Any]:
    assert infra.platform is not None and infra.sink is not None and infra.postgres is not None
    intake, registry = infra.platform.url("intake"), infra.platform.url("registry")
    pool = max(RATE_MAX_IN_FLIGHT, args.concurrency)
    # Idle connections expire before uvicorn closes them (its keep-alive timeout is 5 s, httpx's default too):
    # otherwise a request can race the server's close and fail with ReadError.
    limits = httpx.Limits(max_connections=pool, max_keepalive_connections=pool, keepalive_expiry=2.0)
    factory = CaseFactory(args.seed)
    arrivals = benchkit.Arrivals(infra.sink)
    async with httpx.AsyncClient(timeout=30.0, limits=limits) as client:
        client.headers["Authorization"] = f"Bearer {await get_token(client, registry, password)}"
        cases_url = f"{intake}/v1/cases"
        results: dict[str, Any] = {}

        # Fixed offered rate: warm-up (not in the statistics, but checked for delivery), then the measured window.
        log(f"platform: {args.rate:g} cases/s for {args.warmup:g}s warm-up + {args.duration:g}s")
        gate = asyncio.Semaphore(RATE_MAX_IN_FLIGHT)
        cpu0 = time.process_time()
        warm, late_w = await post_at_rate(client, cases_url, factory, rate=args.rate, seconds=args.warmup,
                                          phase="warmup", gate=gate)
        rated, late_r = await post_at_rate(client, cases_url, factory, rate=args.rate, seconds=args.duration,
                                           phase="rate", gate=gate)
        ids = [p.case_id for p in warm + rated if p.case_id]
        waited, _ = await arrivals.wait_all(ids, args.drain_timeout, infra, what="webhook", interval=0.05)
        results["warmup"] = analyse(warm, arrivals, waited)
        results["rate"] = analyse(rated, arrivals, waited)
        results["rate"]["offered_rate"] = args.rate
        results["rate"]["generator_worst_lateness_ms"] = max(late_w, late_r) * 1000
        results["rate"]["max_in_flight"] = RATE_MAX_IN_FLIGHT
        results["rate"]["bench_cpu_s"] = time.process_time() - cpu0  # this process, incl. waiting for webhooks
        log(f"  rate run: {results['rate']['accepted']} accepted, {results['rate']['delivered']} delivered, "
            f"{results['rate']['missing']} missing")

        burst: list[Posted] = []
        if args.burst > 0:
            log(f"platform: burst of {args.burst} cases, concurrency {args.concurrency}")
            cpu0 = time.process_time()
            burst = await post_burst(client, cases_url, factory, count=args.burst, concurrency=args.concurrency)
            ids = [p.case_id for p in burst if p.case_id]
            waited, _ = await arrivals.wait_all(ids, args.drain_timeout, infra, what="webhook", interval=0.05)
            results["burst"] = analyse(burst, arrivals, waited)
            results["burst"]["concurrency"] = args.concurrency
            results["burst"]["bench_cpu_s"] = time.process_time() - cpu0
            log(f"  burst: {results['burst']['accepted']} accepted, {results['burst']['delivered']} delivered, "
                f"{results['burst']['missing']} missing")

        arrivals.update()
        posted_ids = {p.case_id for p in warm + rated + burst if p.case_id}
        try:
            stages = await asyncio.to_thread(stage_times, infra.postgres)
            results["notify_attempts"] = await asyncio.to_thread(benchkit.attempt_outcomes, infra.postgres)
            assert infra.kafka is not None
            published = {
                "reported": await publish_times(infra.kafka.bootstrap_servers, topics.CASE_REPORTED.name),
                "routed": await publish_times(infra.kafka.bootstrap_servers, topics.CASE_ROUTED.name),
            }
            results["rate"]["stages_ms"] = stage_breakdown(rated, arrivals, stages, published)
            if burst:
                results["burst"]["stages_ms"] = stage_breakdown(burst, arrivals, stages, published)
        except Exception as exc:  # diagnostics only: the run's results stand without them
            log(f"stage breakdown unavailable: {exc!r}")
        results["unexpected_webhooks"] = sum(len(v) for k, v in arrivals.by_case.items() if k not in posted_ids)
        for phase in ("warmup", "rate", "burst"):
            if phase in results and results[phase]["missing"]:
                results[phase]["missing_intake_view"] = await case_status(
                    client, intake, results[phase]["missing_case_ids"])
    return results


# --------------------------------------------------------------------------------------------- report
def print_report(res: dict[str, Any]) -> None:
    base = res["baseline"]
    plat = res["platform"]
    rows: list[tuple[str, str, str, str]] = []

    def row(label: str, rate_v: Any, burst_v: Any, base_v: Any) -> None:
        rows.append((label, rate_v, burst_v, base_v))

    r = plat["rate"]
    b = plat.get("burst")
    bl = base["latency_ms"]

    def pb(key: str, sub: str | None = None, digits: int = 1) -> str:
        if b is None:
            return "-"
        v = b[key][sub] if sub else b[key]
        return fmt(v, digits)

    row("offered rate (/s)", fmt(r["offered_rate"]), f"max, c={b['concurrency']}" if b else "-",
        fmt(base["offered_rate"]))
    row("cases / messages", fmt(r["posted"]), pb("posted"), fmt(base["messages"]))
    row("accepted (HTTP 201)", fmt(r["accepted"]), pb("accepted"), "-")
    row("accepted cases/s", fmt(r["accepted_per_s"]), pb("accepted_per_s"), fmt(base["msgs_per_s"]))
    row("delivered webhooks/s", fmt(r["delivered_per_s"]), pb("delivered_per_s"), "-")
    row("HTTP accept p50 (ms)", fmt(r["http_accept_ms"]["p50"]), pb("http_accept_ms", "p50"), "-")
    row("HTTP accept p99 (ms)", fmt(r["http_accept_ms"]["p99"]), pb("http_accept_ms", "p99"), "-")
    for q in ("p50", "p95", "p99", "max"):
        row(f"e2e {q} (ms)", fmt(r["e2e_ms"][q]), pb("e2e_ms", q), fmt(bl[q]))
    row("missing", fmt(r["missing"]), pb("missing"), fmt(base["missing"]))
    row("dup: redelivered (same id)", fmt(r["redeliveries"]), pb("redeliveries"), fmt(base["duplicates"]))
    row("dup: extra alerts (other id)", fmt(r["extra_alerts"]), pb("extra_alerts"), "-")
    row("bad signatures", fmt(r["bad_signatures"]), pb("bad_signatures"), "-")
    row("HTTP errors", fmt(r["errors"]), pb("errors"), "-")

    head = ("", "platform @rate", "platform burst", "kafka baseline")
    widths = [max(len(x[i]) for x in [head, *rows]) for i in range(4)]
    line = "  ".join("-" * w for w in widths)
    print()
    print("End-to-end: HTTP 201 from intake → signed webhook at the sink (baseline: produce → consume)")
    print(line)
    print("  ".join(h.ljust(w) if i == 0 else h.rjust(w) for i, (h, w) in enumerate(zip(head, widths, strict=True))))
    print(line)
    for rr in rows:
        print("  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(rr, widths, strict=True))))
    print(line)
    if "stages_ms" in r:
        print("where the time goes (p50 / p99 ms; from the services' tables):")
        for key, v in r["stages_ms"].items():
            bv = b["stages_ms"][key] if b and "stages_ms" in b else None
            burst_txt = f"   burst {fmt(bv['p50'])} / {fmt(bv['p99'])}" if bv else ""
            print(f"  {key:<26} @rate {fmt(v['p50']):>9} / {fmt(v['p99']):>9}{burst_txt}")
        print(line)
    rat = res["ratio_platform_over_baseline"]
    print(f"platform/baseline at {fmt(r['offered_rate'])}/s: p50 ×{fmt(rat['p50'])}, p99 ×{fmt(rat['p99'])}"
          "  (platform path: 2 Kafka hops, each behind a PostgreSQL outbox, + notify's dispatcher + 1 webhook)")
    w = plat["warmup"]
    print(f"warm-up: {w['accepted']} accepted, {w['errors']} HTTP errors, {w['missing']} missing (not in the "
          f"statistics); unexpected webhooks: {plat['unexpected_webhooks']}")
    if "notify_attempts" in plat:
        print("notify delivery attempts: " + ", ".join(f"{k} ×{v}" for k, v in plat["notify_attempts"].items()))
    load = ", ".join(f"{k} {v:.1f}" for k, v in res["loadavg_1m"].items())
    benchkit.print_footer(res, load)


# --------------------------------------------------------------------------------------------- main
def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rate", type=float, default=50.0, help="offered cases/s of the fixed-rate run (default 50)")
    p.add_argument("--duration", type=float, default=20.0, help="measured seconds at --rate (default 20)")
    p.add_argument("--warmup", type=float, default=3.0, help="seconds at --rate before measuring (default 3)")
    p.add_argument("--burst", type=int, default=500, help="cases posted as fast as possible; 0 = skip (default 500)")
    p.add_argument("--concurrency", type=int, default=32, help="concurrent requests of the burst (default 32)")
    p.add_argument("--drain-timeout", type=float, default=45.0,
                   help="seconds to wait for outstanding webhooks after each phase (default 45)")
    p.add_argument("--seed", type=int, default=1300, help="random seed of the generated cases")
    args = p.parse_args(argv)
    if args.rate <= 0 or args.duration <= 0 or args.warmup < 0 or args.burst < 0 or args.concurrency < 1:
        p.error("--rate/--duration must be > 0, --warmup/--burst >= 0, --concurrency >= 1")
    return args


async def measure(infra: Infra, args: argparse.Namespace, password: str) -> dict[str, Any]:
    assert infra.kafka is not None
    infra.load["before_baseline"] = os.getloadavg()[0]
    log(f"baseline: aiokafka produce→consume at {args.rate:g} msg/s for {args.warmup:g}s + {args.duration:g}s")
    t0 = time.perf_counter()
    baseline = await run_baseline(infra.kafka.bootstrap_servers, rate=args.rate, duration=args.duration,
                                  warmup=args.warmup, drain_timeout=args.drain_timeout)
    infra.timings["baseline_s"] = time.perf_counter() - t0
    log(f"  baseline p50 {fmt(baseline['latency_ms']['p50'])} ms, p99 {fmt(baseline['latency_ms']['p99'])} ms")
    infra.load["after_baseline"] = os.getloadavg()[0]
    t0 = time.perf_counter()
    plat = await run_platform(infra, args, password)
    infra.timings["platform_s"] = time.perf_counter() - t0
    infra.load["after_platform"] = os.getloadavg()[0]
    return {"baseline": baseline, "platform": plat}


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    root = repo_root()
    state_dir = cache_dir() / "bench"
    secret = os.environ.get("DEMO_WEBHOOK_SECRET") or "dev-only-webhook-secret"
    password = os.environ.get("DEMO_PASSWORD") or "hotline-demo"
    started = time.time()
    t_start = time.perf_counter()
    code = benchkit.git_state(root)
    infra = Infra(state_dir=state_dir, webhook_secret=secret)
    res = benchkit.measure_then_stop(infra, lambda: measure(infra, args, password),
                                     stopping="the platform, Kafka and PostgreSQL")
    if res is None:
        return 130
    infra.timings["total_s"] = time.perf_counter() - t_start

    r, bl = res["platform"]["rate"], res["baseline"]["latency_ms"]
    res["ratio_platform_over_baseline"] = {"p50": ratio(r["e2e_ms"]["p50"], bl["p50"]),
                                           "p99": ratio(r["e2e_ms"]["p99"], bl["p99"])}
    benchkit.write_results(res, "e2e", root=root, started=started, args=args, code=code, infra=infra,
                           load={"loadavg_1m": infra.load})
    print_report(res)
    rate, burst = res["platform"]["rate"], res["platform"].get("burst") or {}
    warm = res["platform"]["warmup"]
    problems = sum(p.get(k, 0) for p in (warm, rate, burst) for k in ("missing", "errors"))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
