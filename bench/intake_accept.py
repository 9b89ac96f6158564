"""Intake acceptance benchmark: cases accepted per second through `POST /v1/cases` and the accept latency.

Starts its own Kafka + PostgreSQL (dedicated ports, fresh state in <cache>/bench-intake) and intake alone (its
outbox relay publishes hotline.case.reported.v1; the registry's center topic it follows stays empty). Operator
tokens are minted with the development JWT secret, so no registry is needed. A closed-loop load generator in its
own process (N clients, each an httpx.AsyncClient with one keep-alive connection, posting its next case as soon as
the last one is answered; by default each client is its own operator account) posts realistic Thai cases at 2–3
concurrency levels: a warm-up, then a fixed duration. The baseline, in the same run, on the same machine, through
the same generator: a bare FastAPI app (bench/bare_app.py) in its own uvicorn process with the services' uvicorn
settings, whose one `POST /v1/cases` parses the body into intake's `CaseIn` and answers 201 with a constant JSON,
so intake/bare is the price of what intake does beyond parsing (auth, the rate brake, a case number, sealing
personal data, the transaction with its outbox row, the relay, OpenTelemetry, the body-limit middleware). Each
level runs bare then intake, back to back.

Intake holds back an account sending more than 120 reports a minute (INTAKE_REPORT_RATE, hotline_common.throttle),
which a benchmark client passes within seconds: the bench sets INTAKE_REPORT_RATE=1000000/second because it
measures acceptance, not the brake (the brake's bookkeeping still runs on every request).

After the intake runs it checks that nothing was lost: every 201 is a row in intake.cases (and no other row is
there), the outbox drains, and hotline.case.reported.v1 holds one record per accepted case. Prints a table and
writes bench-results/intake-<timestamp>.json. Everything it started is torn down on exit (also on Ctrl-C/SIGTERM).

    uv run python bench/intake_accept.py [--concurrency 1 8 32] [--duration 15] [--warmup 3] [--accounts 0]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import http.client
import json
import multiprocessing
import os
import random
import signal
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, ClassVar

import httpx

from hotline_common import thai_id, topics
from hotline_common.auth import Role, issue_token
from hotline_common.events import Category, Priority, TargetGroup
from hotline_common.settings import DEV_JWT_SECRET
from hotline_devstack import PostgresCluster, cache_dir, repo_root
from hotline_devstack.procs import ManagedProcess
from hotline_gazetteer import gazetteer
from hotline_load import kit as benchkit
from hotline_load.kit import fmt, log, ratio, summary_ms

KAFKA_PORT = 49692
KAFKA_CONTROLLER_PORT = 49693
PG_PORT = 46032
BASE_PORT = 48600  # Platform's offsets: intake = base + 0
BARE_PORT = 48610  # the bare FastAPI baseline
REPORT_RATE = "1000000/second"  # intake's per-account brake, out of the way (see the docstring)
KEEPALIVE_EXPIRY = 2.0  # idle connections expire before uvicorn's 5 s keep-alive closes them (no close race)
BARE_APP = Path(__file__).with_name("bare_app.py")

# (category, target group, what the caller says, usual urgency): cases as an operator of the 1300 takes them.
CASES_TH: list[tuple[Category, TargetGroup, str, Priority | None]] = [
    (Category.domestic_violence, TargetGroup.woman, "ผู้แจ้งเล่าว่าสามีทำร้ายร่างกายทุกคืน ต้องการความช่วยเหลือ", Priority.P2),
    (Category.domestic_violence, TargetGroup.woman, "ภรรยาถูกสามีทำร้ายร่างกาย ตอนนี้หลบอยู่บ้านเพื่อนบ้าน ขอความช่วยเหลือด่วน",
     Priority.P1),
    (Category.domestic_violence, TargetGroup.child, "เพื่อนบ้านได้ยินเสียงเด็กร้องไห้และเสียงทะเลาะทุกคืน", Priority.P2),
    (Category.teen_pregnancy, TargetGroup.youth, "วัยรุ่นตั้งครรภ์อายุ 15 ปี ไม่กล้าบอกผู้ปกครอง ต้องการคำปรึกษา", Priority.P3),
    (Category.human_trafficking, TargetGroup.general, "แรงงานต่างด้าวถูกยึดเอกสารและไม่ได้รับค่าจ้าง ถูกกักตัวในโรงงาน",
     Priority.P1),
    (Category.drugs, TargetGroup.family, "ลูกชายติดยาเสพติด ทำร้ายพ่อแม่ ขอให้ช่วยพาไปบำบัด", Priority.P2),
    (Category.homeless, TargetGroup.homeless, "มีคนไร้บ้านนอนใต้สะพาน อากาศหนาว ต้องการผ้าห่มและที่พัก", Priority.P3),
    (Category.begging, TargetGroup.child, "พบเด็กขอทานบริเวณสี่แยกไฟแดง คาดว่าถูกบังคับ", Priority.P2),
    (Category.child_youth, TargetGroup.child, "เด็กหญิงอายุประมาณ 8 ปี ถูกทิ้งไว้ที่บ้านคนเดียวหลายวัน", Priority.P1),
    (Category.missing_person, TargetGroup.elderly, "ญาติหายออกจากบ้านตั้งแต่เมื่อวาน มีอาการหลงลืม", Priority.P2),
    (Category.elderly, TargetGroup.elderly, "ผู้แจ้งพบผู้สูงอายุนอนอยู่ริมถนนหน้าตลาด ไม่มีญาติดูแล", Priority.P2),
    (Category.disability, TargetGroup.disabled, "ผู้พิการนั่งรถเข็นติดอยู่ในบ้าน น้ำท่วมสูง", Priority.P1),
    (Category.livelihood, TargetGroup.vulnerable_household, "ครอบครัวตกงาน ไม่มีเงินซื้ออาหารให้ลูกสามคน", Priority.P3),
    (Category.livelihood, TargetGroup.single_parent, "แม่เลี้ยงเดี่ยวค้างค่าเช่าบ้านสามเดือน กำลังจะถูกไล่ออก", Priority.P3),
    (Category.stateless, TargetGroup.general, "บุคคลไม่มีสถานะทางทะเบียน ต้องการความช่วยเหลือด้านการรักษาพยาบาล", Priority.P4),
    (Category.other, TargetGroup.general, "ขอข้อมูลการขอรับเงินสงเคราะห์ครอบครัวที่มีรายได้น้อย", Priority.P4),
]
DETAILS_TH = ["ผู้แจ้งรออยู่ที่จุดเกิดเหตุ", "ขอให้เจ้าหน้าที่ติดต่อกลับ", "เหตุเกิดเมื่อประมาณ 30 นาทีที่แล้ว",
              "ผู้แจ้งเป็นเพื่อนบ้าน", "ผู้แจ้งเป็นครูประจำชั้น", ""]
FIRST_NAMES_TH = ["สมศรี", "สมชาย", "มาลี", "ประเสริฐ", "วันเพ็ญ", "บุญมี", "นิภา", "สุนทร", "กาญจนา", "อำนวย",
                  "ปราณี", "ธนพล", "อรุณี", "จันทร์เพ็ญ", "วิชัย", "สุดารัตน์"]
LAST_NAMES_TH = ["ใจดี", "รักษ์ไทย", "ศรีสุข", "บุญมา", "แก้วมณี", "ทองคำ", "พงษ์ไพร", "สายบุญ", "มั่นคง", "อินทร์แก้ว"]
REPEAT_CALLERS = 100  # a pool of numbers that call again (their cases are linked: intake's case_links)
REPEAT_SHARE = 0.05


# --------------------------------------------------------------------------------------------- cases
class CaseFactory:
    """Cases as an operator submits them: a real sub-district (all 7,436), Thai text naming the place, a caller
    with a Thai name and a mobile number written in the ways people give it (5 % from a pool of repeat callers),
    now and then safety preferences, a national ID, a shelter need or consent to share."""

    def __init__(self, seed: int) -> None:
        self.rnd = random.Random(seed)
        self.tambons = sorted(gazetteer().tambons, key=lambda t: t.code)
        repeat = random.Random(1300)  # the same repeat callers in every job
        self.repeat_phones = [f"08{repeat.randrange(10**8):08d}" for _ in range(REPEAT_CALLERS)]

    def phone(self) -> str:
        r = self.rnd
        if r.random() < REPEAT_SHARE:
            digits = r.choice(self.repeat_phones)
        else:
            digits = f"0{r.choice('689')}{r.randrange(10**8):08d}"
        style = r.random()
        if style < 0.2:
            return f"{digits[:3]}-{digits[3:6]}-{digits[6:]}"
        if style < 0.3:
            return f"+66{digits[1:]}"
        return digits

    def national_id(self) -> str:
        first12 = f"{self.rnd.randrange(1, 9)}{self.rnd.randrange(10**11):011d}"
        return first12 + str(thai_id.check_digit(first12))

    def case(self) -> dict[str, Any]:
        r = self.rnd
        t = r.choice(self.tambons)
        category, group, text, urgency = r.choice(CASES_TH)
        place = f"ที่ ต.{t.name_th} อ.{t.amphoe_name_th} จ.{t.province_name_th}"
        body: dict[str, Any] = {
            "channel": "hotline",
            "category": category.value,
            "target_group": group.value,
            "description": f"{text} {place} {r.choice(DETAILS_TH)}".strip(),
            "urgency": (urgency or Priority.P3).value if r.random() < 0.9 else r.choice(list(Priority)).value,
            "location": {"tambon_code": t.code},
            "caller": {"name": f"{r.choice(FIRST_NAMES_TH)} {r.choice(LAST_NAMES_TH)}", "phone": self.phone()},
            "consent_to_share": r.random() < 0.6,
        }
        if r.random() < 0.15:
            body["safety"] = r.choice([{"no_callback": True}, {"woman_officer": True}, {"line_only": True},
                                       {"safe_hours": {"start": "09:00", "end": "15:00"}}])
        if r.random() < 0.05:
            body["national_id"] = self.national_id()
        if category is Category.homeless or r.random() < 0.03:
            body["needs_place"] = True
        return body

    def encoded(self) -> bytes:
        return json.dumps(self.case(), ensure_ascii=False, separators=(",", ":")).encode()


# --------------------------------------------------------------------------------------------- load generator
@dataclass
class Phase:
    warmup: bool = True
    end: float = 0.0  # perf_counter() at the end of the measured window


async def _run_job(job: dict[str, Any], conn: Connection) -> dict[str, Any]:
    """Closed loop: `concurrency` clients, each posting its next case as soon as the last is answered, for
    `warmup` s (not measured) then `duration` s. Counted: requests completed inside the measured window.

    Each client is its own httpx.AsyncClient with one keep-alive connection: one client sharing a pool of N
    connections costs the generator about twice the CPU per request (httpcore scans its pool on every request;
    measured here at 8 and 32 connections), CPU the servers it measures then lack on a 2-core box."""
    factory = CaseFactory(job["seed"])
    c = job["concurrency"]
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1, keepalive_expiry=KEEPALIVE_EXPIRY)
    # Client i sends as account i % accounts (its own operator, like the hotline's operators at their desks).
    headers = [{"Content-Type": "application/json", **h} for h in job["headers"]]
    ids: list[str] = []  # every 201's case id, warm-up and stragglers included (the loss check)
    window: list[tuple[float, float, int | str, str | None]] = []  # (sent wall, latency s, status, case id)
    warm_statuses: Counter[str] = Counter()
    late_statuses: Counter[str] = Counter()
    samples: list[str] = []
    phase = Phase()

    async with contextlib.AsyncExitStack() as stack:
        clients = [await stack.enter_async_context(httpx.AsyncClient(timeout=30.0, limits=limits)) for _ in range(c)]

        async def one(client: httpx.AsyncClient, headers: dict[str, str]) -> None:
            body = factory.encoded()
            wall, t0 = time.time(), time.perf_counter()
            status: int | str
            case_id = None
            try:
                resp = await client.post(job["url"], content=body, headers=headers)
                status = resp.status_code
                if status == 201:
                    case_id = str(resp.json()["case_id"])
                elif len(samples) < 5:
                    samples.append(f"{status}: {resp.text[:300]}")
            except httpx.HTTPError as exc:
                status = type(exc).__name__
                if len(samples) < 5:
                    samples.append(f"{status}: {exc}")
            t1 = time.perf_counter()
            if case_id is not None:
                ids.append(case_id)
            if phase.warmup:
                warm_statuses[str(status)] += 1
            elif t1 <= phase.end:
                window.append((wall, t1 - t0, status, case_id))
            else:  # issued in the window, answered after it
                late_statuses[str(status)] += 1

        async def client_loop(i: int, until: float) -> None:
            client, mine = clients[i], headers[i % len(headers)]
            while time.perf_counter() < until:
                await one(client, mine)

        if job["warmup"] > 0:
            until = time.perf_counter() + job["warmup"]
            await asyncio.gather(*(client_loop(i, until) for i in range(c)))
        conn.send(("window", "start"))
        cpu0 = time.process_time()
        phase.end = time.perf_counter() + job["duration"]
        phase.warmup = False

        async def mark_end() -> float:
            await asyncio.sleep(max(0.0, phase.end - time.perf_counter()))
            conn.send(("window", "end"))
            return time.process_time()

        marker = asyncio.create_task(mark_end())
        await asyncio.gather(*(client_loop(i, phase.end) for i in range(c)))
        cpu1 = await marker

    statuses = Counter(str(s) for _, _, s, _ in window)
    return {
        "ids": ids,
        "window": window,
        "statuses": dict(statuses),
        "warmup_statuses": dict(warm_statuses),
        "late_statuses": dict(late_statuses),
        "error_samples": samples,
        "cpu_s": cpu1 - cpu0,
    }


def _generator_main(conn: Connection) -> None:
    """Child process: runs the jobs the parent sends, one at a time, until "stop" (or the parent is gone)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C hits the whole group; the parent says when to stop
    import uvloop  # the event loop uvicorn runs the servers on: the client's overhead per request is smaller

    gazetteer()
    conn.send("ready")
    try:
        while True:
            job = conn.recv()
            if job == "stop":
                return
            conn.send(("result", uvloop.run(_run_job(job, conn))))
    except (EOFError, OSError):
        pass


class LoadGenerator:
    """The closed-loop client in its own process: it does not share a GIL with the bench's bookkeeping, and its CPU
    time is its own (reported beside the servers')."""

    def __init__(self) -> None:
        ctx = multiprocessing.get_context("spawn")
        self._conn, child = ctx.Pipe()
        self._proc = ctx.Process(target=_generator_main, args=(child,), name="load-generator", daemon=True)
        self._proc.start()
        child.close()
        if not self._conn.poll(60) or self._conn.recv() != "ready":
            raise RuntimeError("load generator process did not start within 60 s")
        self.pid = self._proc.pid

    def is_running(self) -> bool:
        return self._proc.is_alive()

    async def run(self, job: dict[str, Any], on_window: Callable[[str], None],
                  alive: Callable[[], list[str]]) -> dict[str, Any]:
        """Send `job`; call on_window("start"/"end") as the measured window opens and closes; the result."""
        self._conn.send(job)
        while True:
            while self._conn.poll():
                kind, value = self._conn.recv()
                if kind == "window":
                    on_window(value)
                else:
                    return dict(value)
            if dead := alive():
                raise RuntimeError(f"children exited during the run: {', '.join(dead)}")
            await asyncio.sleep(0.01)

    def stop(self) -> None:
        benchkit.stop_child(self._proc, self._conn)


# --------------------------------------------------------------------------------------------- CPU accounting
def cpu_delta(before: dict[str, float | None], after: dict[str, float | None]) -> dict[str, float]:
    """CPU seconds each component used between two `Infra.cpu()` samples."""
    out: dict[str, float] = {}
    for k, a in before.items():
        b = after.get(k)
        if a is not None and b is not None:
            out[k] = b - a
    return out


# --------------------------------------------------------------------------------------------- infrastructure
@dataclass
class Infra(benchkit.BenchInfra):
    services_name: ClassVar[str] = "intake"
    bare: ManagedProcess | None = None
    generator: LoadGenerator | None = None
    load: dict[str, float] = field(default_factory=dict)

    def start(self) -> None:
        # Called from the main thread on purpose: the parent-death signal fires when the *spawning thread* ends.
        self.start_infra(pg_port=PG_PORT, kafka_port=KAFKA_PORT, kafka_controller_port=KAFKA_CONTROLLER_PORT)
        assert self.kafka is not None and self.postgres is not None
        t1 = time.perf_counter()
        self.platform = benchkit.BenchPlatform(
            kafka_bootstrap=self.kafka.bootstrap_servers, admin_url=self.postgres.admin_url, log_dir=self.log_dir,
            base_port=BASE_PORT, env={"HOTLINE_ENV": "local", "INTAKE_REPORT_RATE": REPORT_RATE})
        log(f"starting intake on {self.platform.url('intake')} (INTAKE_REPORT_RATE={REPORT_RATE})")
        for attempt in (1, 2):
            try:
                self.platform.start_service("intake")
                break
            except http.client.HTTPException as exc:
                # The readiness probe read its own request back: it connected to itself (a TCP self-connect, 48600
                # is in Linux's ephemeral port range), and that socket holds the port intake is about to bind.
                if attempt == 2:
                    raise
                log(f"intake's readiness probe connected to itself ({exc!r}); starting intake again")
                self.platform.stop_service("intake")
                time.sleep(1.0)
        self.timings["intake_start_s"] = time.perf_counter() - t1
        t2 = time.perf_counter()
        self.bare = ManagedProcess("bare", [sys.executable, str(BARE_APP), str(BARE_PORT)],
                                   self.log_dir / "bare.log", env={**os.environ, "PYTHONUNBUFFERED": "1"},
                                   parent_death_signal=signal.SIGTERM)
        log(f"starting the bare FastAPI baseline on http://127.0.0.1:{BARE_PORT}")
        self.bare.start()
        # Ready when uvicorn says so. No probe connects first: a connect to a port in the ephemeral range that no one
        # listens on can connect to itself and hold the port (then uvicorn exits and wait_until shows its log).
        bare = self.bare
        bare.wait_until(lambda: bare.log_contains("Uvicorn running on"), 60, "uvicorn listening", interval=0.2)
        self.timings["bare_start_s"] = time.perf_counter() - t2
        self.generator = LoadGenerator()
        log(f"ready (infra {self.timings['infra_s']:.1f}s, intake {self.timings['intake_start_s']:.1f}s); "
            f"logs in {self.log_dir}")

    def dead(self) -> list[str]:
        out = super().dead()
        if self.bare is not None and not self.bare.is_running():
            out.append("bare app")
        if self.generator is not None and not self.generator.is_running():
            out.append("load generator")
        return out

    def cpu(self) -> dict[str, float | None]:
        """Cumulative CPU seconds of each component now."""
        table = benchkit.proc_table()
        intake = self.platform.services.get("intake") if self.platform else None
        return {
            "intake": benchkit.tree_cpu(table, intake.pid if intake else None),
            "bare": benchkit.tree_cpu(table, self.bare.pid if self.bare else None),
            "postgres": benchkit.tree_cpu(table, self.postgres.pid if self.postgres else None),
            "kafka": benchkit.tree_cpu(table, self.kafka.pid if self.kafka else None),
            "generator": benchkit.tree_cpu(table, self.generator.pid if self.generator else None),
            "bench": time.process_time(),
            "host_busy": (host := benchkit.host_cpu())[0],
            "host_steal": host[1],
        }

    def teardown_steps(self) -> list[tuple[str, Callable[[], object]]]:
        """Load generator, bare app, intake, sink, Kafka, PostgreSQL."""
        first: list[tuple[str, Callable[[], object]]] = []
        if self.generator is not None:
            first.append(("load generator", self.generator.stop))
        if self.bare is not None:
            first.append(("bare app", self.bare.stop))
        steps = first + super().teardown_steps()
        self.generator = self.bare = None
        return steps


# --------------------------------------------------------------------------------------------- the run
def outbox_rows(postgres: PostgresCluster) -> int:
    return int(postgres.psql("SELECT count(*) FROM intake.outbox").strip())


async def wait_outbox_empty(postgres: PostgresCluster, timeout: float) -> tuple[int, float]:
    """(rows left, seconds waited) once intake's outbox is empty or `timeout` has passed."""
    t0 = time.perf_counter()
    while True:
        left = await asyncio.to_thread(outbox_rows, postgres)
        waited = time.perf_counter() - t0
        if left == 0 or waited > timeout:
            return left, waited
        await asyncio.sleep(0.1)


async def run_level(infra: Infra, target: str, concurrency: int, args: argparse.Namespace, seed: int,
                    ) -> tuple[dict[str, Any], list[str], list[tuple[str, float, float]]]:
    """One target at one concurrency: the figures, every accepted case id, and (case id, sent, answered) of the
    measured 201s (wall clock, for intake's breakdown)."""
    assert infra.generator is not None and infra.platform is not None
    accounts = min(concurrency, args.accounts) if args.accounts else concurrency
    if target == "intake":
        tokens = [issue_token(DEV_JWT_SECRET, subject=f"bench-operator-{i + 1}", role=Role.operator,
                              ttl_seconds=3600) for i in range(accounts)]
        url, headers = f"{infra.platform.url('intake')}/v1/cases", [{"Authorization": f"Bearer {t}"} for t in tokens]
    else:
        url, headers = f"http://127.0.0.1:{BARE_PORT}/v1/cases", [{}]
    log(f"{target}: {concurrency} client(s), {args.warmup:g}s warm-up + {args.duration:g}s")
    marks: dict[str, tuple[float, dict[str, float | None]]] = {}

    def on_window(what: str) -> None:
        marks[what] = (time.perf_counter(), infra.cpu())

    job = {"url": url, "headers": headers, "concurrency": concurrency, "warmup": args.warmup,
           "duration": args.duration, "seed": seed}
    out = await infra.generator.run(job, on_window, infra.dead)
    (t0, cpu0), (t1, cpu1) = marks["start"], marks["end"]
    wall, used = t1 - t0, cpu_delta(cpu0, cpu1)
    window = out["window"]
    accepted = [w for w in window if w[2] == 201]
    non_201 = {k: v for k, v in out["statuses"].items() if k != "201"}
    res: dict[str, Any] = {
        "target": target,
        "concurrency": concurrency,
        "accounts": accounts if target == "intake" else None,
        "window_s": args.duration,
        "requests": len(window),
        "accepted": len(accepted),
        "accepted_per_s": len(accepted) / args.duration,
        "latency_ms": summary_ms([w[1] for w in accepted]),
        "non_201": non_201,
        "warmup_statuses": out["warmup_statuses"],
        "answered_after_window": out["late_statuses"],
        "error_samples": out["error_samples"],
        # Share of one core each process used during the measured window (from /proc; PostgreSQL with backends).
        "cpu_percent": {k: 100.0 * v / wall for k, v in used.items()},
        # The machine may be shared: whatever ran there that is not one of this bench's processes.
        "cpu_percent_others": 100.0 * (used["host_busy"] - sum(v for k, v in used.items()
                                                              if not k.startswith("host_"))) / wall,
        # The generator's own count (time.process_time in its process), beside /proc's.
        "generator_cpu_percent_self": 100.0 * out["cpu_s"] / args.duration,
    }
    server = "intake" if target == "intake" else "bare"
    if accepted:
        res["cpu_ms_per_case"] = {k: 1000.0 * used[k] / len(accepted) for k in (server, "postgres", "generator")
                                  if k in used}
    if target == "intake":
        assert infra.postgres is not None
        res["outbox_rows_after_window"] = await asyncio.to_thread(outbox_rows, infra.postgres)
        left, waited = await wait_outbox_empty(infra.postgres, args.drain_timeout)
        res["outbox_drain_s"], res["outbox_rows_left"] = waited, left
    lat = res["latency_ms"]
    log(f"  {res['accepted']} accepted ({fmt(res['accepted_per_s'])}/s), p50 {fmt(lat['p50'], 2)} ms, "
        f"p99 {fmt(lat['p99'], 2)} ms, non-201 {non_201 or 0}")
    timed = [(w[3], w[0], w[0] + w[1]) for w in accepted] if target == "intake" else []
    return res, out["ids"], timed


async def topic_keys(bootstrap: str, topic: str, timeout: float = 60.0) -> Counter[str]:
    """Record keys (case ids) of the whole topic."""
    keys: Counter[str] = Counter()
    await benchkit.read_topic(bootstrap, topic, lambda records: keys.update(
        rec.key.decode() if rec.key else "" for rec in records), timeout=timeout, max_records=5000)
    return keys


def case_rows(postgres: PostgresCluster) -> dict[str, float]:
    """Every case in intake's table with its created_at (epoch s: the moment service.report() began)."""
    out: dict[str, float] = {}
    for line in postgres.psql("SELECT case_id, extract(epoch FROM created_at)::float8 FROM intake.cases"
                              ).splitlines():
        case_id, _, at = line.partition("|")
        if at:
            out[case_id] = float(at)
    return out


async def verify(infra: Infra, accepted: list[str], timeout: float) -> tuple[dict[str, Any], dict[str, float]]:
    """Nothing lost: each 201 is one row of intake.cases and one record of hotline.case.reported.v1."""
    assert infra.postgres is not None and infra.kafka is not None
    left, waited = await wait_outbox_empty(infra.postgres, timeout)
    rows = await asyncio.to_thread(case_rows, infra.postgres)
    keys = await topic_keys(infra.kafka.bootstrap_servers, topics.CASE_REPORTED.name)
    ids = set(accepted)
    res: dict[str, Any] = {
        "accepted_201": len(accepted),
        "distinct_case_ids": len(ids),
        "cases_rows": len(rows),
        "accepted_not_in_db": len(ids - rows.keys()),
        "db_rows_not_accepted": len(rows.keys() - ids),
        "outbox_rows_left": left,
        "outbox_drain_wait_s": waited,
        "topic": topics.CASE_REPORTED.name,
        "topic_records": sum(keys.values()),
        "topic_distinct_cases": len(keys),
        "accepted_not_published": len(ids - keys.keys()),
        "published_twice": sum(1 for n in keys.values() if n > 1),
    }
    res["ok"] = (len(ids) == len(accepted) == len(rows) and not res["accepted_not_in_db"]
                 and not res["db_rows_not_accepted"] and left == 0 and not res["accepted_not_published"]
                 and res["topic_distinct_cases"] == len(ids))
    return res, rows


def breakdown(timed: list[tuple[str, float, float]], created: dict[str, float]) -> dict[str, Any]:
    """Split intake's accept latency at the moment service.report() began (cases.created_at): before it, the
    connection, uvicorn, the middlewares, auth, parsing and the brake; after it, the case number, sealing, the
    transaction (its commit waits for the WAL flush) and the answer."""
    before, after = [], []
    for case_id, sent, answered in timed:
        at = created.get(case_id)
        if at is not None:
            before.append(at - sent)
            after.append(answered - at)
    return {"before_report_ms": summary_ms(before), "report_to_201_ms": summary_ms(after)}


async def measure(infra: Infra, args: argparse.Namespace) -> dict[str, Any]:
    t0 = time.perf_counter()
    infra.load["start"] = os.getloadavg()[0]
    levels: list[dict[str, Any]] = []
    accepted_ids: list[str] = []
    timed: dict[int, list[tuple[str, float, float]]] = {}
    for i, c in enumerate(args.concurrency):
        level: dict[str, Any] = {"concurrency": c}
        for target in ("bare", "intake"):  # back to back, baseline first: the machine's state is as alike as it gets
            res, ids, tm = await run_level(infra, target, c, args, seed=args.seed + 2 * i + (target == "intake"))
            level[target] = res
            if target == "intake":
                accepted_ids += ids
                timed[c] = tm
        intake, bare = level["intake"], level["bare"]
        level["ratio_intake_over_bare"] = {
            "accepted_per_s": ratio(intake["accepted_per_s"], bare["accepted_per_s"]),
            **{q: ratio(intake["latency_ms"][q], bare["latency_ms"][q]) for q in ("p50", "p95", "p99", "max")},
        }
        levels.append(level)
        infra.load[f"after_c{c}"] = os.getloadavg()[0]
    log(f"checking that nothing was lost: {len(accepted_ids)} accepted cases ...")
    check, created = await verify(infra, accepted_ids, args.drain_timeout)
    for level in levels:
        level["intake"]["breakdown"] = breakdown(timed[level["concurrency"]], created)
    infra.timings["measure_s"] = time.perf_counter() - t0
    return {"levels": levels, "verification": check}


# --------------------------------------------------------------------------------------------- report
def print_report(res: dict[str, Any]) -> None:
    head = ["clients", "", "accepted/s", "p50 ms", "p95 ms", "p99 ms", "max ms", "non-201",
            "CPU % server", "postgres", "generator", "others", "server CPU ms/case"]
    rows: list[list[str]] = []
    for level in res["levels"]:
        c = str(level["concurrency"])
        for target in ("intake", "bare"):
            r = level[target]
            lat, cpu = r["latency_ms"], r["cpu_percent"]
            server = "intake" if target == "intake" else "bare"
            non = ", ".join(f"{k}×{v}" for k, v in r["non_201"].items()) or "0"
            rows.append([c if target == "intake" else "", target, fmt(r["accepted_per_s"]),
                         *(fmt(lat[q], 2) for q in ("p50", "p95", "p99", "max")), non,
                         fmt(cpu.get(server), 0), fmt(cpu.get("postgres"), 0), fmt(cpu.get("generator"), 0),
                         fmt(r["cpu_percent_others"], 0), fmt(r.get("cpu_ms_per_case", {}).get(server), 2)])
        rat = level["ratio_intake_over_bare"]
        rows.append(["", "intake/bare", f"×{fmt(rat['accepted_per_s'], 2)}",
                     *(f"×{fmt(rat[q])}" for q in ("p50", "p95", "p99", "max")), "", "", "", "", "", ""])
    widths = [max(len(x[i]) for x in [head, *rows]) for i in range(len(head))]
    line = "  ".join("-" * w for w in widths)

    def out(cells: list[str]) -> None:
        print("  ".join(cell.ljust(w) if i < 2 else cell.rjust(w)
                        for i, (cell, w) in enumerate(zip(cells, widths, strict=True))))

    d = res["args"]["duration"]
    print()
    print(f"Intake: POST /v1/cases → 201, closed loop, {d:g} s per level (bare: the same route parsing CaseIn only)")
    print(line)
    out(head)
    print(line)
    for r in rows:
        out(r)
    print(line)
    steal = max((level[t]["cpu_percent"].get("host_steal", 0.0) for level in res["levels"] for t in ("intake", "bare")),
                default=0.0)
    accounts = sorted({level["intake"]["accounts"] for level in res["levels"]})
    print(f"CPU %: share of one core in the window ({res['host']['cpus']} cores = {100 * res['host']['cpus']} %); "
          "server = intake or the bare app; postgres with its backends; others = every process not this bench's "
          f"(hypervisor steal up to {fmt(steal, 0)} %). intake clients posted as {'/'.join(map(str, accounts))} "
          "operator account(s).")
    print("where intake's time goes (p50 / p99 ms), split where service.report() begins (cases.created_at):")
    for level in res["levels"]:
        b = level["intake"].get("breakdown", {})
        pre, post = b.get("before_report_ms", {}), b.get("report_to_201_ms", {})
        i = level["intake"]
        print(f"  {level['concurrency']:>3} client(s): before report() {fmt(pre.get('p50'), 2)} / "
              f"{fmt(pre.get('p99'), 2)};  report() → 201 {fmt(post.get('p50'), 2)} / {fmt(post.get('p99'), 2)};  "
              f"outbox after the window {i['outbox_rows_after_window']} rows, drained in {fmt(i['outbox_drain_s'])} s")
    v = res["verification"]
    print(line)
    print(f"nothing lost: {'OK' if v['ok'] else 'FAILED'} — {v['accepted_201']} answered 201 (warm-ups included, "
          f"{v['distinct_case_ids']} distinct) = {v['cases_rows']} rows in intake.cases "
          f"({v['accepted_not_in_db']} missing, {v['db_rows_not_accepted']} extra); outbox "
          f"{'empty' if v['outbox_rows_left'] == 0 else str(v['outbox_rows_left']) + ' rows left'} "
          f"after {fmt(v['outbox_drain_wait_s'])} s; {v['topic']}: {v['topic_records']} records, "
          f"{v['topic_distinct_cases']} cases, {v['accepted_not_published']} accepted cases unpublished, "
          f"{v['published_twice']} published twice")
    warm = {k: sum(level[t]["warmup_statuses"].get(k, 0) for level in res["levels"] for t in ("intake", "bare"))
            for k in {k for level in res["levels"] for t in ("intake", "bare") for k in level[t]["warmup_statuses"]}}
    print(f"warm-ups (not in the figures): {', '.join(f'{k} ×{n}' for k, n in sorted(warm.items()))}; generator: one "
          "process on uvloop, one httpx.AsyncClient with one keep-alive connection per client, not pinned "
          f"({res['host']['cpus']} CPUs shared by all)")
    load = ", ".join(f"{k} {v:.1f}" for k, v in res["loadavg_1m"].items())
    benchkit.print_footer(res, load)


# --------------------------------------------------------------------------------------------- main
def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--concurrency", type=int, nargs="+", default=[1, 8, 32],
                   help="concurrent clients of each level (default 1 8 32)")
    p.add_argument("--duration", type=float, default=15.0, help="measured seconds per level and target (default 15)")
    p.add_argument("--warmup", type=float, default=3.0, help="seconds before each measured window (default 3)")
    p.add_argument("--drain-timeout", type=float, default=60.0,
                   help="seconds to wait for intake's outbox to drain after each level (default 60)")
    p.add_argument("--accounts", type=int, default=0, help="operator accounts the clients post as, client i as "
                   "account i mod accounts (default 0: one per client, as operators at their own desks; 1: all "
                   "from one account, which then queues on the rate brake's per-account lock)")
    p.add_argument("--seed", type=int, default=1300, help="random seed of the generated cases")
    args = p.parse_args(argv)
    if (min(args.concurrency) < 1 or args.duration <= 0 or args.warmup < 0 or args.drain_timeout <= 0
            or args.accounts < 0):
        p.error("--concurrency must be >= 1, --duration/--drain-timeout > 0, --warmup/--accounts >= 0")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    root = repo_root()
    secret = os.environ.get("DEMO_WEBHOOK_SECRET") or "dev-only-webhook-secret"
    started = time.time()
    t_start = time.perf_counter()
    code = benchkit.git_state(root)
    infra = Infra(state_dir=cache_dir() / "bench-intake", webhook_secret=secret)
    res = benchkit.measure_then_stop(infra, lambda: measure(infra, args),
                                     stopping="the load generator, the bare app, intake, Kafka and PostgreSQL")
    if res is None:
        return 130
    infra.timings["total_s"] = time.perf_counter() - t_start
    infra.load["end"] = infra.load_at_stop or 0.0
    benchkit.write_results(res, "intake", root=root, started=started, args=args, code=code, infra=infra,
                           run={"report_rate": REPORT_RATE, "bare_port": BARE_PORT, "intake_port": BASE_PORT},
                           load={"loadavg_1m": infra.load})
    print_report(res)
    errors = sum(n for level in res["levels"] for t in ("intake", "bare")
                 for key in ("warmup_statuses", "non_201", "answered_after_window")
                 for status, n in level[t][key].items() if status != "201")
    return 0 if res["verification"]["ok"] and not errors else 1


if __name__ == "__main__":
    sys.exit(main())
