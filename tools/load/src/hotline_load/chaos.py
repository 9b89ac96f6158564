"""`hotline-chaos` (make chaos): faults under load. Steady open-loop load through all three channels; a few seconds
in, a fault; then recovery, more load, and a drain until every accepted case has reached the responders' webhook.
Each scenario must lose no case and show no alert twice (definitions: hotline_load.chaos_report).

    hotline-chaos                                  # every scenario, ~20 minutes
    hotline-chaos --only kill-notify,channels      # some of them (shell-style patterns: --only 'kill-*')
    hotline-chaos --list

Scenarios, one platform (single broker) for all but the last, each restarting what it broke:
  kill-<service>       SIGKILL one of the six services mid-load, start it again on the same port
  kafka-restart        stop the broker (controlled shutdown), keep it down --down s, start it on its data
  kafka-kill           the same with SIGKILL
  postgres-restart     PostgreSQL's fast shutdown, down --down s, start
  channels             a burst at twice the rate while the responders' webhook answers 500, then is slower than
                       notify's timeout, then resets connections, each for as long as notify's retries cover
  rebalance-storm      routing from one instance to three and back
  cluster-leader-kill  a second platform on a three-node KRaft cluster (replication 3, min.insync.replicas 2):
                       SIGKILL the node leading hotline.case.reported.v1's partition 0, restart it later

Results: bench-results/chaos-<time>.json; the processes' logs under --state-dir. Exit 1 if any scenario lost a
case, doubled an alert or could not inject or undo its fault.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import fnmatch
import itertools
import json
import logging
import os
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import httpx

from hotline_common import topics
from hotline_devstack import DevstackError, repo_root
from hotline_devstack.services import SERVICES
from hotline_load import kit
from hotline_load.chaos_report import line, table, verdict
from hotline_load.cli import population
from hotline_load.drive import Doors, Offer, at_rate
from hotline_load.kit import log
from hotline_load.mix import CaseMix, parse_shares
from hotline_load.observe import Alerts, Recorder
from hotline_load.run import GROUPS, LoadInfra, Window, analyse, drain, open_doors, results_dir

T = TypeVar("T")

KAFKA_PORT, KAFKA_CONTROLLER_PORT, PG_PORT, BASE_PORT, CLUSTER_PORT = 49492, 49493, 45832, 48400, 49592
STATE_DIR = Path("/tmp/chaos-state")  # the suite's own scratch space, wiped at each start
# notify's delivery settings, given explicitly to the platform: the channel faults are sized from them.
CHANNEL_TIMEOUT_S, ATTEMPTS_PER_CHANNEL, RETRY_BASE_S, LEASE_S = 5.0, 4, 1.0, 15.0
NOTIFY_ENV = {"NOTIFY_CHANNEL_TIMEOUT_SECONDS": str(CHANNEL_TIMEOUT_S),
              "NOTIFY_ATTEMPTS_PER_CHANNEL": str(ATTEMPTS_PER_CHANNEL),
              "NOTIFY_RETRY_BASE_SECONDS": str(RETRY_BASE_S), "NOTIFY_LEASE_SECONDS": str(LEASE_S)}


@dataclass
class Knobs:
    rate: float = 20.0
    duration: float = 30.0  # least seconds of load per scenario
    fault_at: float = 5.0
    down: float = 10.0  # how long Kafka / PostgreSQL / a cluster node stay down, the routing replicas up
    tail: float = 10.0  # load goes on this long after recovery
    drain_timeout: float = 120.0
    max_in_flight: int = 256


@dataclass
class Chaos:
    """What a fault works with: the platform, the knobs, where it notes its facts, and a thread to spawn
    restarted processes from (their parent-death signal fires when the spawning thread ends: it lives until the
    teardown)."""

    infra: LoadInfra
    knobs: Knobs
    spawner: ThreadPoolExecutor
    doors: Doors
    mix: CaseMix
    offers: list[Offer] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)
    loads: list[asyncio.Task[Any]] = field(default_factory=list)
    stop: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def platform(self) -> kit.BenchPlatform:
        assert self.infra.platform is not None
        return self.infra.platform

    async def spawn(self, fn: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self.spawner, lambda: fn(*args))

    def load(self, rate: float, seconds: float) -> None:
        """Offer `rate` cases/s for `seconds` (or until the scenario's load stops) beside the steady load."""
        self.loads.append(asyncio.create_task(at_rate(
            self.doors, self.mix, rate=rate, seconds=seconds, max_in_flight=self.knobs.max_in_flight,
            on_offer=self.offers.append, stop=self.stop)))

    def note(self, what: str, since: float) -> None:
        """Seconds since `since`, as the fact `<what>_s`."""
        self.facts[f"{what}_s"] = round(time.perf_counter() - since, 1)


Fault = Callable[[Chaos], Awaitable[None]]


@dataclass(frozen=True)
class Scenario:
    name: str
    fault: Fault
    cluster: bool = False  # on the platform of the three-node Kafka cluster


# --------------------------------------------------------------------------------------------- the faults
def kill_service(name: str) -> Fault:
    async def fault(c: Chaos) -> None:
        t0 = time.perf_counter()
        await asyncio.to_thread(c.platform.kill, name)
        await c.spawn(c.platform.start_service, name)  # same port, same log file (appended)
        c.note("down", t0)  # killed → ready again
    return fault


async def outage(c: Chaos, stop: Callable[[], Any], start: Callable[[], Any], *, timed_stop: bool = True) -> None:
    """`stop` (off the loop), `knobs.down` seconds away, `start` again: the times of the stop (if `timed_stop`: a kill
    is instant), of the start and of the whole outage."""
    t0 = time.perf_counter()
    await asyncio.to_thread(stop)
    if timed_stop:
        c.note("stop", t0)
    await asyncio.sleep(c.knobs.down)
    t1 = time.perf_counter()
    await c.spawn(start)
    c.note("start", t1)
    c.note("down", t0)


def kafka_down(*, kill: bool) -> Fault:
    async def fault(c: Chaos) -> None:
        kafka = c.infra.kafka
        assert kafka is not None
        await outage(c, kafka.kill if kill else kafka.stop, kafka.start, timed_stop=not kill)
    return fault


async def postgres_restart(c: Chaos) -> None:
    pg = c.infra.postgres
    assert pg is not None
    await outage(c, pg.stop, pg.start)  # SIGINT: fast shutdown, open transactions rolled back


def channel_phases() -> list[tuple[str, dict[str, Any], float]]:
    """(name, sink faults, seconds) of the channel faults. notify gives an alert ATTEMPTS_PER_CHANNEL tries with
    backoff drawn from [base/2, base·2^(n-1)]: failing fast, the last try can come (attempts-1)·base/2 s after the
    first, so a 500 or reset phase lasts less than that (longer, and alerts fail by design: hotline.alert.failed,
    a dead letter, the escalation 15 minutes later). A slow answer costs a whole timeout per try, so the slow phase
    may last nearly that long. Between phases the webhook is healthy for longer than the longest retry delay."""
    fast = 0.8 * (ATTEMPTS_PER_CHANNEL - 1) * RETRY_BASE_S / 2
    return [("500s", {"status": 500}, fast),
            ("slow", {"delay": CHANNEL_TIMEOUT_S + 1.0}, CHANNEL_TIMEOUT_S - 1.0),
            ("resets", {"reset": True}, fast)]


def healthy_gap() -> float:
    return RETRY_BASE_S * 2.0 ** (ATTEMPTS_PER_CHANNEL - 2) + 0.5


async def channels(c: Chaos) -> None:
    sink = c.infra.sink
    assert sink is not None
    phases = channel_phases()
    c.load(c.knobs.rate, sum(s for _, _, s in phases) + healthy_gap() * len(phases))  # the burst: twice the rate
    try:
        for name, faults, seconds in phases:
            # The sink ends the phase itself: on a busy machine this process may wake up late, and a phase that
            # overstays what notify's retries cover fails alerts by design.
            sink.faults(**faults, seconds=seconds)
            c.facts[f"{name}_s"] = seconds
            await asyncio.sleep(seconds + healthy_gap())
    finally:
        sink.faults()


async def rebalance_storm(c: Chaos) -> None:
    replicas = [("2", c.infra.base_port + 10), ("3", c.infra.base_port + 11)]
    for replica, port in replicas:
        t0 = time.perf_counter()
        await c.spawn(c.platform.start_replica, "routing", replica, port)
        c.note(f"routing#{replica}_ready", t0)
    await asyncio.sleep(c.knobs.down)  # three consumers share the partitions
    for replica, _ in replicas:
        t0 = time.perf_counter()
        await asyncio.to_thread(c.platform.stop_service, f"routing#{replica}")  # SIGTERM: leaves the group
        c.note(f"routing#{replica}_stop", t0)


async def cluster_leader_kill(c: Chaos) -> None:
    cluster = c.infra.cluster
    assert cluster is not None
    topic = topics.CASE_REPORTED.name
    before = await cluster.describe(topic)
    if any(len(s.replicas) != len(cluster.nodes) for s in before.values()):
        raise RuntimeError(f"{topic} is not replicated on every node: {before}")
    victim = before[0].leader
    assert victim is not None, f"{topic}-0 has no leader"
    led = sorted(p for p, s in before.items() if s.leader == victim)
    c.facts.update(replicas=len(before[0].replicas), killed_node=victim, partitions_led=led)
    t0 = time.perf_counter()
    await asyncio.to_thread(cluster.kill, victim)
    new = [await cluster.wait_for_leader(topic, p, other_than=victim, timeout=60) for p in led]
    c.note("election", t0)
    c.facts["new_leaders"] = new
    await asyncio.sleep(c.knobs.down)
    t1 = time.perf_counter()
    await c.spawn(cluster.start_node, victim)
    c.note("node_ready", t1)
    await cluster.wait_until_in_sync(topic, timeout=90)
    c.note("back_in_isr", t1)


SCENARIOS: list[Scenario] = [
    *(Scenario(f"kill-{name}", kill_service(name)) for name, _ in SERVICES),
    Scenario("kafka-restart", kafka_down(kill=False)),
    Scenario("kafka-kill", kafka_down(kill=True)),
    Scenario("postgres-restart", postgres_restart),
    Scenario("channels", channels),
    Scenario("rebalance-storm", rebalance_storm),
    Scenario("cluster-leader-kill", cluster_leader_kill, cluster=True),
]


def select(only: str | None, scenarios: Sequence[Scenario] = SCENARIOS) -> list[Scenario]:
    """The scenarios `only` names (comma-separated names or shell-style patterns), in the suite's order."""
    if not only:
        return list(scenarios)
    wanted = [w.strip() for w in only.split(",") if w.strip()]
    unknown = [w for w in wanted if not any(fnmatch.fnmatchcase(s.name, w) for s in scenarios)]
    if unknown:
        raise ValueError(f"no scenario {', '.join(unknown)}; there are {', '.join(s.name for s in scenarios)}")
    return [s for s in scenarios if any(fnmatch.fnmatchcase(s.name, w) for w in wanted)]


# --------------------------------------------------------------------------------------------- running them
@dataclass
class Done:
    """A scenario that ran: what its verdict is recomputed from at the end (an alert may arrive twice late)."""

    scenario: Scenario
    offers: list[Offer]
    started: float
    offered_until: float
    waited: float
    summary: dict[str, Any]
    facts: dict[str, Any]
    error: str | None


async def run_scenario(sc: Scenario, c: Chaos, alerts: Alerts) -> Done:
    k = c.knobs
    c.offers, c.facts, c.loads, c.stop = [], {}, [], asyncio.Event()

    def counts() -> tuple[int, int, int]:
        alerts.update()
        if c.infra.line is not None:
            c.doors.told(c.infra.line.poll())
        return len(c.offers), sum(1 for o in c.offers if o.accepted_at), alerts.count

    recorder = Recorder(c.infra.bootstrap, c.infra.watched(), counts, groups=GROUPS)
    recorder.start()
    attempts_before = await notify_attempts(c.infra)
    log(f"{sc.name}: {k.rate:g} cases/s, the fault {k.fault_at:g} s in")
    started = time.time()
    c.load(k.rate, k.fault_at + 600)  # the steady load, until the scenario stops it
    error = None
    try:
        await asyncio.sleep(k.fault_at)
        t0 = time.perf_counter()
        await sc.fault(c)
        if "down_s" not in c.facts:
            c.note("fault_to_recovered", t0)
        await asyncio.sleep(max(k.tail, k.duration - (time.time() - started)))
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc}"[:500]
        log(f"{sc.name}: the fault could not be injected or undone: {error}")
    finally:
        c.stop.set()
        await asyncio.gather(*c.loads)
    offered_until = time.time()
    try:
        waited = await drain(c.offers, alerts, c.doors, c.infra, k.drain_timeout)
    finally:
        await recorder.stop()
    summary = analyse(Window(sc.name, offered_until - started, k.rate), c.offers, alerts, recorder.ticks, started,
                      offered_until, waited)
    c.facts["silence_s"] = round(longest_silence(alerts, started, offered_until + waited), 1)
    failed = {reason.removeprefix("failed: ").rstrip(": "): n - attempts_before.get(reason, 0)
              for reason, n in (await notify_attempts(c.infra)).items() if reason.startswith("failed")}
    if any(failed.values()):
        c.facts["failed_attempts"] = {reason: n for reason, n in failed.items() if n}
    done = Done(sc, c.offers, started, offered_until, waited, summary, dict(c.facts), error)
    log(line(verdict(summary, done.facts, error)))
    return done


async def notify_attempts(infra: LoadInfra) -> dict[str, int]:
    """notify's delivery attempts so far by outcome and error ({} if PostgreSQL does not answer)."""
    assert infra.postgres is not None
    try:
        return await asyncio.to_thread(kit.attempt_outcomes, infra.postgres)
    except DevstackError:
        return {}


def longest_silence(alerts: Alerts, start: float, end: float) -> float:
    """The longest stretch between `start` and `end` in which the webhook received no alert at all."""
    times = sorted(r.at for got in alerts.by_case.values() for r in got if start <= r.at <= end)
    edges = [start, *times, end] if times else [start, end]
    return max(b - a for a, b in itertools.pairwise(edges))


async def settle(infra: LoadInfra, timeout: float = 120.0) -> None:
    """Before the next scenario: every service answers /readyz with 200 (its database, Kafka, its views)."""
    assert infra.platform is not None
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient(timeout=3.0) as client:
        for name, proc in list(infra.platform.services.items()):
            while True:
                with contextlib.suppress(httpx.HTTPError):
                    if (await client.get(f"{proc.url}/readyz")).status_code == 200:
                        break
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{name} not ready {timeout:.0f} s after the last scenario")
                await asyncio.sleep(0.5)


async def run_platform(infra: LoadInfra, scenarios: Sequence[Scenario], knobs: Knobs, args: argparse.Namespace,
                       password: str, spawner: ThreadPoolExecutor) -> list[Done]:
    assert infra.platform is not None and infra.sink is not None
    quiet_about_kafka_away()
    mix = CaseMix(seed=args.seed, places=args.places_used, channels=args.channel_shares, population=args.weights)
    alerts = Alerts(infra.sink)
    limits = httpx.Limits(max_connections=knobs.max_in_flight, max_keepalive_connections=knobs.max_in_flight,
                          keepalive_expiry=2.0)
    out: list[Done] = []
    async with httpx.AsyncClient(timeout=30.0, limits=limits) as client:
        doors = await open_doors(client, infra, password)
        c = Chaos(infra, knobs, spawner, doors, mix)
        for sc in scenarios:
            try:
                await settle(infra)
            except RuntimeError as exc:
                log(f"{sc.name}: not run, the platform did not recover from the last one: {exc}")
                break
            out.append(await run_scenario(sc, c, alerts))
        # A notify instance that died mid-send resends once its lease has run out: wait that long, then judge
        # every scenario on everything received, so a late second copy still counts.
        log(f"waiting {LEASE_S + 5:g} s for late redeliveries, then judging on everything received")
        await asyncio.sleep(LEASE_S + 5)
        alerts.update()
        for d in out:
            d.summary = analyse(Window(d.scenario.name, d.offered_until - d.started, knobs.rate), d.offers, alerts,
                                [], d.started, d.offered_until, d.waited) | {"max_lag": d.summary["max_lag"]}
        claimed = {o.case_number for d in out for o in d.offers if o.case_number}
        unclaimed = sorted(n for n in alerts.by_case if n not in claimed and n != "None")
        if unclaimed and out:
            # Saved by intake but the answer died with it (refused to the caller, alerted all the same).
            log(f"{len(unclaimed)} alerted case(s) no offer was told the number of: {', '.join(unclaimed[:5])}")
            out[-1].facts["unclaimed_alerts_on_this_platform"] = len(unclaimed)
    return out


def quiet_about_kafka_away() -> None:
    """The lag sampler asks a broker some scenarios take away: its refused connections and the clients it could not
    start (aiokafka reports those as unclosed) are expected here, and would bury the suite's own lines."""
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)
    loop = asyncio.get_running_loop()

    def handler(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        if not str(context.get("message", "")).startswith("Unclosed AIOKafka"):
            loop.default_exception_handler(context)

    loop.set_exception_handler(handler)


# --------------------------------------------------------------------------------------------- the command
def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="hotline-chaos", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--only", help="comma-separated scenario names or patterns (default: all; see --list)")
    p.add_argument("--list", action="store_true", help="print the scenarios and exit")
    p.add_argument("--rate", type=float, default=20.0, help="steady offered cases/s (default 20)")
    p.add_argument("--duration", type=float, default=30.0, help="least seconds of load per scenario (default 30)")
    p.add_argument("--fault-at", type=float, default=5.0, help="seconds of load before the fault (default 5)")
    p.add_argument("--down", type=float, default=10.0,
                   help="seconds Kafka, PostgreSQL or a cluster node stay down, extra routing instances up (10)")
    p.add_argument("--tail", type=float, default=10.0, help="seconds of load after recovery (default 10)")
    p.add_argument("--drain-timeout", type=float, default=120.0,
                   help="seconds to wait for the last accepted cases to reach a responder (default 120)")
    p.add_argument("--channels", default="hotline=0.6,line=0.3,walk_in=0.1", help="share of each channel")
    p.add_argument("--places", choices=("population", "uniform"), default="population")
    p.add_argument("--seed", type=int, default=1300)
    p.add_argument("--kafka-port", type=int, default=KAFKA_PORT)
    p.add_argument("--kafka-controller-port", type=int, default=KAFKA_CONTROLLER_PORT)
    p.add_argument("--pg-port", type=int, default=PG_PORT)
    p.add_argument("--base-port", type=int, default=BASE_PORT,
                   help=f"the six services from here; routing's extra instances at +10, +11 (default {BASE_PORT})")
    p.add_argument("--cluster-port", type=int, default=CLUSTER_PORT,
                   help=f"the cluster's node i on this + 2(i-1), its controller one above (default {CLUSTER_PORT})")
    p.add_argument("--state-dir", type=Path, default=STATE_DIR, help=f"data and logs (default {STATE_DIR})")
    args = p.parse_args(argv)
    try:
        args.channel_shares = parse_shares(args.channels)
        args.scenarios = select(args.only)
    except ValueError as exc:
        p.error(str(exc))
    if args.rate <= 0 or args.duration <= 0 or args.fault_at < 0 or args.down < 0 or args.tail < 0:
        p.error("--rate and --duration must be > 0; --fault-at, --down and --tail >= 0")
    return args


def platform_infra(args: argparse.Namespace, secret: str, *, cluster: bool) -> LoadInfra:
    env = dict(NOTIFY_ENV)
    if cluster:
        env["KAFKA_REPLICATION_FACTOR"] = "3"  # the catalogue's topics on all three nodes; min ISR 2 by default
    return LoadInfra(state_dir=args.state_dir / ("cluster" if cluster else "single"), webhook_secret=secret,
                     env=env, pg_port=args.pg_port, base_port=args.base_port,
                     kafka_port=args.cluster_port if cluster else args.kafka_port,
                     kafka_controller_port=args.cluster_port + 1 if cluster else args.kafka_controller_port,
                     kafka_nodes=3 if cluster else 1)


def on_platform(infra: LoadInfra, chosen: list[Scenario], knobs: Knobs, args: argparse.Namespace,
                password: str) -> list[Done] | None:
    """Start the platform, run `chosen` on it, stop it all; None if interrupted, [] if it would not start."""
    spawner = ThreadPoolExecutor(max_workers=1, thread_name_prefix="chaos-spawn")
    what = "the cluster platform" if infra.kafka_nodes > 1 else "the platform"
    try:
        return kit.measure_then_stop(infra, lambda: run_platform(infra, chosen, knobs, args, password, spawner),
                                     stopping=f"{what}, Kafka and PostgreSQL")
    except Exception as exc:  # it did not start (a port in use, a service that failed): the others may still run
        log(f"{what} failed: {exc!r}; logs in {infra.log_dir}")
        return []
    finally:
        spawner.shutdown(wait=False)  # after the teardown: what it spawned is gone


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.list:
        for sc in SCENARIOS:
            print(sc.name + ("  (three-node cluster)" if sc.cluster else ""))
        return 0
    root = repo_root()
    password = os.environ.get("DEMO_PASSWORD") or "hotline-demo"
    secret = os.environ.get("DEMO_WEBHOOK_SECRET") or "dev-only-webhook-secret"
    started = time.time()
    args.weights = population() if args.places == "population" else None
    args.places_used = "population" if args.weights else "uniform"
    knobs = Knobs(args.rate, args.duration, args.fault_at, args.down, args.tail, args.drain_timeout)
    code = kit.git_state(root)
    done: list[Done] = []
    runs: dict[str, dict[str, Any]] = {}
    interrupted = False
    for cluster in (False, True):
        chosen = [s for s in args.scenarios if s.cluster == cluster]
        if not chosen:
            continue
        infra = platform_infra(args, secret, cluster=cluster)
        res = on_platform(infra, chosen, knobs, args, password)
        runs["cluster" if cluster else "single"] = {"timings_s": infra.timings, "log_dir": str(infra.log_dir)}
        if res is None:
            interrupted = True
            break
        done += res
    verdicts = [verdict(d.summary, d.facts, d.error) for d in done]
    missing = [s.name for s in args.scenarios if s.name not in {d.scenario.name for d in done}]
    out = {"started_at": time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(started)),
           "args": {k: v for k, v in vars(args).items() if k not in ("channel_shares", "scenarios", "weights")},
           "knobs": knobs.__dict__, "notify": NOTIFY_ENV, "git": code, "host": {"cpus": os.cpu_count()},
           "platforms": runs, "scenarios": verdicts, "not_run": missing,
           "windows": [d.summary for d in done]}
    out_file = results_dir(root) / f"chaos-{time.strftime('%Y%m%d-%H%M%S', time.localtime(started))}.json"
    out_file.write_text(json.dumps(out, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8")
    print()
    print(table(verdicts))
    if missing:
        print(f"not run: {', '.join(missing)}")
    print(f"results: {out_file.relative_to(root)}  logs: {args.state_dir}/<single|cluster>/logs")
    if interrupted:
        return 130
    return 0 if verdicts and all(v["ok"] for v in verdicts) and not missing else 1


if __name__ == "__main__":
    sys.exit(main())
