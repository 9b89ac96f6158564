"""What the process-level benchmarks (e2e_latency.py, notify_dispatch.py) share.

Latency statistics and table cells; a webhook sink in its own process; Kafka + PostgreSQL + services started with
parent-death signals and torn down step by step, whatever failed; SIGTERM/SIGHUP handled like Ctrl-C, and a
teardown that no signal interrupts. The scripts import it as `benchkit` (`bench/` is on sys.path when they run).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import multiprocessing
import os
import platform as pyplatform
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, ClassVar, TypeVar

from aiokafka import AIOKafkaConsumer

from hotline_devstack import KafkaBroker, KafkaCluster, Platform, PostgresCluster, cache_dir, ensure_kafka_jars
from hotline_devstack.services import ServiceProcess
from hotline_devstack.webhook_sink import Received, WebhookSink

T = TypeVar("T")

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------------------------- statistics
def percentile(values: list[float], q: float) -> float | None:
    """Linear interpolation between closest ranks (numpy's default); None for no values."""
    if not values:
        return None
    s = sorted(values)
    pos = (len(s) - 1) * q / 100.0
    lo = int(pos)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (pos - lo)


def summary_ms(seconds: list[float]) -> dict[str, float | int | None]:
    ms = [x * 1000.0 for x in seconds]
    return {
        "n": len(ms),
        "p50": percentile(ms, 50),
        "p95": percentile(ms, 95),
        "p99": percentile(ms, 99),
        "max": max(ms) if ms else None,
        "mean": sum(ms) / len(ms) if ms else None,
    }


def fmt(v: float | int | None, digits: int = 1) -> str:
    if v is None:
        return "-"
    if isinstance(v, int):
        return str(v)
    return f"{v:.{digits}f}"


def ratio(a: float | int | None, b: float | int | None) -> float | None:
    return a / b if a is not None and b else None


# --------------------------------------------------------------------------------------------- offering load
async def open_loop(rate: float, seconds: float, launch: Callable[[], Coroutine[Any, Any, T]], *,
                    stop: asyncio.Event | None = None) -> tuple[list[T], float]:
    """Open loop: the i-th `launch()` starts at start + i/rate whatever the earlier ones are doing (no coordinated
    omission), for `seconds` or until `stop` is set. Returns their results and the generator's worst lateness (s)
    against its schedule."""
    tasks: list[asyncio.Task[T]] = []
    worst_late = 0.0
    start = time.perf_counter()
    for i in range(round(rate * seconds)):
        delay = start + i / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        else:
            worst_late = max(worst_late, -delay)
        if stop is not None and stop.is_set():
            break
        tasks.append(asyncio.create_task(launch()))
    return list(await asyncio.gather(*tasks)), worst_late


# --------------------------------------------------------------------------------------------- CPU accounting
CLK_TCK = os.sysconf("SC_CLK_TCK")


def proc_table() -> dict[int, tuple[int, float]]:
    """pid → (ppid, CPU seconds of the process and of the children it has reaped), from /proc."""
    table: dict[int, tuple[int, float]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            raw = Path(entry.path, "stat").read_text()
        except OSError:
            continue  # gone meanwhile
        fields = raw[raw.rindex(")") + 2:].split()  # the command name may hold spaces and parentheses
        ticks = sum(int(x) for x in fields[11:15])  # utime, stime, cutime, cstime
        table[int(entry.name)] = (int(fields[1]), ticks / CLK_TCK)
    return table


def tree_cpu(table: dict[int, tuple[int, float]], root: int | None) -> float | None:
    """CPU seconds of `root` and every live descendant (PostgreSQL's backends, a wrapper's child)."""
    if root is None or root not in table:
        return None
    children: dict[int, list[int]] = {}
    for pid, (ppid, _) in table.items():
        children.setdefault(ppid, []).append(pid)
    total, todo = 0.0, [root]
    while todo:
        pid = todo.pop()
        total += table[pid][1]
        todo += children.get(pid, [])
    return total


def host_cpu() -> tuple[float, float]:
    """(busy, steal) CPU seconds of the whole machine so far, all cores, from /proc/stat."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields[:8]
    return (user + nice + system + irq + softirq) / CLK_TCK, steal / CLK_TCK


# --------------------------------------------------------------------------------------------- child processes
def stop_child(proc: Any, conn: Connection) -> None:
    """Ask a child process that listens on `conn` to stop; kill it if it has not within 10 s."""
    with contextlib.suppress(OSError):
        conn.send("stop")
    proc.join(10)
    if proc.is_alive():
        proc.kill()
        proc.join(5)
    conn.close()


# --------------------------------------------------------------------------------------------- Kafka
async def read_topic(bootstrap: str, topic: str, on_records: Callable[[list[Any]], None], *,
                     timeout: float = 60.0, max_records: int | None = None) -> None:
    """Every record of `topic` up to its end offsets at the start, read without a consumer group (so it assigns
    itself every partition), passed to `on_records` batch by batch."""

    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, client_id="bench-reader", group_id=None,
                                enable_auto_commit=False, auto_offset_reset="earliest")
    await consumer.start()
    try:
        deadline = time.monotonic() + timeout
        while not consumer.assignment():
            if time.monotonic() > deadline:
                raise RuntimeError(f"no partitions of {topic} assigned")
            await asyncio.sleep(0.05)
        partitions = sorted(consumer.assignment())
        end = await consumer.end_offsets(partitions)
        await consumer.seek_to_beginning(*partitions)

        async def behind() -> bool:
            return any([await consumer.position(tp) < end[tp] for tp in partitions])

        while await behind() and time.monotonic() < deadline:
            for records in (await consumer.getmany(timeout_ms=1000, max_records=max_records)).values():
                on_records(records)
    finally:
        await consumer.stop()


# --------------------------------------------------------------------------------------------- webhook sink
def _sink_main(secret: str, conn: Connection) -> None:
    """Child process: a WebhookSink whose records are streamed to the parent as they arrive."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C hits the whole group; the parent says when to stop
    sink = WebhookSink(secret=secret)  # listen backlog 1024: a burst of connects must not overflow it
    sink.start()
    conn.send(sink.url)
    sent = 0
    try:
        while True:
            if conn.poll(0.02):  # "stop" or faults from the parent; EOF when the parent is gone
                message = conn.recv()
                if message == "stop":
                    break
                sink.status, sink.delay, sink.reset, seconds = message
                sink.until = time.monotonic() + seconds if seconds is not None else None
            new = sink.received[sent:]  # the sink only appends; a slice is atomic under the GIL
            if new:
                conn.send([(r.delivery_id, r.body, r.signature_ok, r.grouped, r.at) for r in new])
                sent += len(new)
    except (EOFError, OSError):
        pass
    finally:
        sink.stop()


class RemoteSink:
    """hotline_devstack's WebhookSink in its own process: in this one its handler threads would share the GIL with
    the load generator and the bookkeeping, and notify (which waits for the slowest POST of a batch) would pay for
    it. `.at` is time.time() at receipt, the clock the rest of the benchmark uses. One Received per alert (item)."""

    def __init__(self, secret: str) -> None:
        ctx = multiprocessing.get_context("spawn")
        self._conn, child = ctx.Pipe()
        self._proc = ctx.Process(target=_sink_main, args=(secret, child), name="webhook-sink", daemon=True)
        self._proc.start()
        child.close()
        if not self._conn.poll(60):
            raise RuntimeError("webhook sink process did not start within 60 s")
        self.url: str = self._conn.recv()
        self.pid = self._proc.pid

    def poll(self) -> list[Received]:
        """Alerts that arrived since the last call."""
        new: list[Received] = []
        while self._conn.poll():
            new += [Received(d, body, ok, grouped, at=at) for d, body, ok, grouped, at in self._conn.recv()]
        return new

    def faults(self, *, status: int = 202, delay: float = 0.0, reset: bool = False, seconds: float | None = None,
               ) -> None:
        """How the sink answers from now on (see WebhookSink), for `seconds` as the sink counts them (None: until
        the next call); no arguments: healthy again."""
        self._conn.send((status, delay, reset, seconds))

    def stop(self) -> None:
        stop_child(self._proc, self._conn)


# --------------------------------------------------------------------------------------------- infrastructure
class BenchPlatform(Platform):
    """Platform whose services also get a parent-death signal: a SIGKILLed bench leaves no service behind."""

    def start_service(self, name: str, *, timeout: float = 120.0) -> ServiceProcess:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        proc = ServiceProcess(name, self.env_for(name), self.port(name), self.log_dir / f"{name}.log",
                              parent_death_signal=signal.SIGTERM)
        self.services[name] = proc
        proc.start()
        proc.wait_ready(timeout)
        return proc

    def start_replica(self, name: str, replica: str, port: int, *, timeout: float = 120.0) -> ServiceProcess:
        env = self.env_for(name) | {f"{name.upper()}_PORT": str(port)}
        proc = ServiceProcess(name, env, port, self.log_dir / f"{name}-{replica}.log",
                              parent_death_signal=signal.SIGTERM)
        self.services[f"{name}#{replica}"] = proc
        proc.start()
        proc.wait_ready(timeout)
        return proc


@dataclass
class BenchInfra:
    """PostgreSQL, Kafka (fresh state in `state_dir`), the webhook sink and the services a benchmark starts.
    Kafka is one broker (`kafka`) or, with `kafka_nodes` > 1, a KafkaCluster (`cluster`) for the fault runs."""

    services_name: ClassVar[str] = "services"  # what the teardown log calls `platform`
    state_dir: Path
    webhook_secret: str
    kafka: KafkaBroker | None = None
    cluster: KafkaCluster | None = None
    postgres: PostgresCluster | None = None
    sink: RemoteSink | None = None
    platform: BenchPlatform | None = None
    timings: dict[str, float] = field(default_factory=dict)
    load_at_stop: float | None = None  # 1-min load average as the teardown began

    @property
    def log_dir(self) -> Path:
        return self.state_dir / "logs"

    @property
    def bootstrap(self) -> str:
        """Kafka's bootstrap servers: the broker's, or every node's of the cluster."""
        kafka = self.cluster or self.kafka
        assert kafka is not None, "start_infra() first"
        return kafka.bootstrap_servers

    def start_infra(self, *, pg_port: int, kafka_port: int, kafka_controller_port: int, kafka_nodes: int = 1) -> None:
        """PostgreSQL, Kafka and the sink. Call it from the main thread: the parent-death signal fires when the
        *spawning thread* ends. A cluster's node i listens on `kafka_port` + 2(i-1) (controllers likewise)."""
        cache = cache_dir()
        ensure_kafka_jars(cache)
        shutil.rmtree(self.state_dir, ignore_errors=True)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        t0 = time.perf_counter()
        self.postgres = PostgresCluster(cache, pg_port, data_dir=self.state_dir / "postgres" / "data",
                                        log_file=self.log_dir / "postgres.log", parent_death_signal=signal.SIGINT)
        log(f"starting PostgreSQL on 127.0.0.1:{pg_port}")
        self.postgres.start()
        if kafka_nodes > 1:
            self.cluster = KafkaCluster(cache, kafka_port, kafka_controller_port, nodes=kafka_nodes,
                                        data_dir=self.state_dir / "kafka-cluster", log_dir=self.log_dir,
                                        parent_death_signal=signal.SIGTERM)
            log(f"starting a {kafka_nodes}-node Kafka {self.cluster.version} cluster on {self.bootstrap}")
            self.cluster.start()
        else:
            self.kafka = KafkaBroker(cache, kafka_port, kafka_controller_port, data_dir=self.state_dir / "kafka",
                                     log_file=self.log_dir / "kafka.log", parent_death_signal=signal.SIGTERM)
            log(f"starting Kafka {self.kafka.version} on {self.kafka.bootstrap_servers}")
            self.kafka.start()
        self.timings["infra_s"] = time.perf_counter() - t0
        self.sink = RemoteSink(self.webhook_secret)
        log(f"webhook sink on {self.sink.url}")

    def start(self) -> None:
        """Everything the benchmark needs: start_infra(), then its services."""
        raise NotImplementedError

    def dead(self) -> list[str]:
        """Children that have exited on their own (a crash during the run)."""
        out = []
        if self.platform:
            out += [n for n, p in self.platform.services.items() if p.pid is not None and not p.is_running()]
        for name, proc in (("kafka", self.kafka), ("postgres", self.postgres)):
            if proc is not None and proc.pid is not None and not proc.is_running():
                out.append(name)
        if self.cluster is not None and not self.cluster.running():  # one node down is a fault run's business
            out.append("kafka (every node)")
        return out

    def teardown_steps(self) -> list[tuple[str, Callable[[], object]]]:
        """Services (reverse order), sink, Kafka, PostgreSQL."""
        steps: list[tuple[str, Callable[[], object]]] = []
        if self.platform is not None:
            steps.append((self.services_name, self.platform.stop))
        if self.sink is not None:
            steps.append(("webhook sink", self.sink.stop))
        if self.kafka is not None:
            kafka = self.kafka
            steps.append(("kafka", lambda: kafka.stop(20.0)))
        if self.cluster is not None:
            cluster = self.cluster
            steps.append(("kafka cluster", lambda: cluster.stop(20.0)))
        if self.postgres is not None:
            steps.append(("postgres", self.postgres.stop))
        return steps

    def stop(self) -> None:
        """Every teardown step, each even if an earlier one failed."""
        for what, step in self.teardown_steps():
            try:
                step()
            except Exception as exc:
                log(f"teardown of {what} failed: {exc!r}")
        self.platform = self.sink = self.kafka = self.cluster = self.postgres = None


class Arrivals:
    """The sink's records (one per alert) indexed by case id."""

    def __init__(self, sink: RemoteSink) -> None:
        self.sink = sink
        self.by_case: dict[str, list[Received]] = {}

    def update(self) -> None:
        for r in self.sink.poll():
            self.by_case.setdefault(str(r.body.get("case_id")), []).append(r)

    async def wait_all(self, case_ids: list[str], timeout: float, infra: BenchInfra, *, what: str,
                       interval: float) -> tuple[float, float]:
        """Wait until every case has an alert (or timeout), logging `what` is still awaited every 5 s and checking
        every `interval` s. Returns (seconds waited, time.time() at the end)."""
        t0 = time.perf_counter()
        pending = set(case_ids)
        last_report = t0
        while True:
            self.update()
            pending = {c for c in pending if c not in self.by_case}
            now = time.perf_counter()
            if not pending or now - t0 > timeout:
                return now - t0, time.time()
            if dead := infra.dead():
                log(f"children exited during the run: {', '.join(dead)} — see {infra.log_dir}")
                return now - t0, time.time()
            if now - last_report > 5:
                log(f"  waiting for {len(pending)} {what}(s) ...")
                last_report = now
            await asyncio.sleep(interval)


def attempt_outcomes(postgres: PostgresCluster) -> dict[str, int]:
    """notify's delivery attempts over the whole run: delivered vs failed (by error), e.g. retries."""
    out: dict[str, int] = {}
    sql = ("SELECT outcome || coalesce(': ' || left(error, 80), ''), count(*) FROM notify.attempts "
           "GROUP BY 1 ORDER BY 2 DESC")
    for line in postgres.psql(sql).splitlines():
        key, _, n = line.rpartition("|")
        out[key] = int(n)
    return out


def git_state(root: Path) -> dict[str, Any]:
    """Which code was measured: HEAD and the files changed on top of it (the services are started from the tree)."""
    git = shutil.which("git")
    if git is None:
        return {}
    try:
        head = subprocess.run([git, "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True, text=True,
                              check=True, timeout=10).stdout.strip()
        status = subprocess.run([git, "status", "--porcelain"], cwd=root, capture_output=True, text=True,
                                check=True, timeout=10).stdout.splitlines()
    except (OSError, subprocess.SubprocessError):
        return {}
    return {"head": head, "changed_files": [line[3:] for line in status]}


def write_results(res: dict[str, Any], prefix: str, *, root: Path, started: float, args: argparse.Namespace,
                  code: dict[str, Any], infra: BenchInfra, load: dict[str, Any], run: dict[str, Any] | None = None,
                  ) -> None:
    """Add how the run went (arguments, `run`, host, versions, `code` from git_state, timings, `load`, where things
    are) to `res` and write it to bench-results/<prefix>-<start time>.json."""
    out_dir = root / "bench-results"
    out_dir.mkdir(exist_ok=True)
    out_file = out_dir / f"{prefix}-{time.strftime('%Y%m%d-%H%M%S', time.localtime(started))}.json"
    res.update({
        "started_at": time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(started)),
        "args": vars(args),
        **(run or {}),
        "host": {"cpus": os.cpu_count(), "python": pyplatform.python_version(), "machine": pyplatform.machine()},
        "kafka_version": KafkaBroker(cache_dir()).version,
        "git": code,
        "timings_s": infra.timings,
        **load,
        "results_file": str(out_file.relative_to(root)),
        "log_dir": str(infra.log_dir),
    })
    out_file.write_text(json.dumps(res, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def print_footer(res: dict[str, Any], load: str) -> None:
    """The report's last lines: the host and its 1-min load average (`load`), the code measured (see git_state),
    where the results file and the logs are."""
    print(f"host: {res['host']['cpus']} CPUs, 1-min load average {load} (numbers are only comparable on a quiet box)")
    if res["git"]:
        dirty = len(res["git"]["changed_files"])
        print(f"code: {res['git']['head']}" + (f" + {dirty} uncommitted file(s)" if dirty else ""))
    print(f"results: {res['results_file']}   logs: {res['log_dir']}")
    print()


# --------------------------------------------------------------------------------------------- signals
def _raise_interrupt(signum: int, _frame: object) -> None:
    raise KeyboardInterrupt(signal.Signals(signum).name)


def interrupt_on_stop_signals() -> None:
    """SIGTERM/SIGHUP raise KeyboardInterrupt, as Ctrl-C does: the same unwinding and teardown."""
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _raise_interrupt)


async def cancel_on_stop_signals(coro: Coroutine[Any, Any, T]) -> T:
    """Await `coro` with SIGTERM/SIGHUP cancelling the running task, as Ctrl-C does under asyncio.run, so it
    unwinds cleanly; afterwards they raise KeyboardInterrupt again."""
    loop, task = asyncio.get_running_loop(), asyncio.current_task()
    assert task is not None
    for sig in (signal.SIGTERM, signal.SIGHUP):
        loop.add_signal_handler(sig, task.cancel)
    try:
        return await coro
    finally:
        for sig in (signal.SIGTERM, signal.SIGHUP):
            loop.remove_signal_handler(sig)
        interrupt_on_stop_signals()


def measure_then_stop(infra: BenchInfra, measure: Callable[[], Coroutine[Any, Any, T]], *, stopping: str) -> T | None:
    """Start `infra`, run `measure()` (SIGTERM/SIGHUP stop it as Ctrl-C does), then stop everything `infra` started,
    however it went, with no signal interrupting that; `stopping` names it in the log. None if interrupted."""
    interrupt_on_stop_signals()
    try:
        infra.start()
        return asyncio.run(cancel_on_stop_signals(measure()))
    except (KeyboardInterrupt, asyncio.CancelledError):
        log("interrupted; tearing down")
        return None
    finally:
        with signals_ignored():
            t0 = time.perf_counter()
            log(f"stopping {stopping} ...")
            infra.load_at_stop = os.getloadavg()[0]
            infra.stop()
            infra.timings["teardown_s"] = time.perf_counter() - t0


@contextlib.contextmanager
def signals_ignored() -> Iterator[None]:
    """Teardown must not be interrupted half-way (that is how orphans happen)."""
    old = {sig: signal.signal(sig, signal.SIG_IGN) for sig in STOP_SIGNALS}
    try:
        yield
    finally:
        for sig, handler in old.items():
            signal.signal(sig, handler)
