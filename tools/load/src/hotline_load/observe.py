"""What the load generator watches while it runs: the alerts the responders' webhook receives (the end of a case's
path), each consumer group's lag (from the broker, hotline_common.lag), and the CPU and memory of every process of
the platform, once a second."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import psutil
from aiokafka.errors import KafkaError

from hotline_common.lag import consumer_lag
from hotline_devstack.webhook_sink import Received
from hotline_load.kit import RemoteSink


class Alerts:
    """The responders' webhook: every alert received, by case number."""

    def __init__(self, sink: RemoteSink) -> None:
        self.sink = sink
        self.by_case: dict[str, list[Received]] = {}
        self.count = 0

    def update(self) -> None:
        for r in self.sink.poll():
            self.by_case.setdefault(str(r.body.get("case_number")), []).append(r)
            self.count += 1

    def first(self, case_number: str) -> float | None:
        got = self.by_case.get(case_number)
        return min(r.at for r in got) if got else None


@dataclass
class Tick:
    """One second of the run."""

    at: float
    offered: int
    accepted: int
    alerted: int
    lag: dict[str, int]  # consumer group → records waiting
    cpu: dict[str, float]  # process → % of one core over the last tick
    rss_mb: dict[str, float]


@dataclass
class Watched:
    """The processes to account for, by name; a name's figure includes its children (PostgreSQL's backends), but
    for the names in `alone` (the load generator, whose children are the platform itself)."""

    pids: dict[str, int]
    alone: frozenset[str] = frozenset()
    procs: dict[str, psutil.Process] = field(default_factory=dict)
    last: dict[str, float] = field(default_factory=dict)  # CPU seconds of the tree at the last sample
    last_at: float = 0.0

    def sample(self) -> tuple[dict[str, float], dict[str, float]]:
        now = time.monotonic()
        cpu: dict[str, float] = {}
        rss: dict[str, float] = {}
        for name, pid in self.pids.items():
            try:
                proc = self.procs.setdefault(name, psutil.Process(pid))
                tree = [proc] if name in self.alone else [proc, *proc.children(recursive=True)]
                seconds, memory = 0.0, 0
                for p in tree:
                    with contextlib.suppress(psutil.Error):
                        times = p.cpu_times()
                        seconds += times.user + times.system
                        memory += p.memory_info().rss
            except psutil.Error:
                continue  # gone (a chaos scenario killed it): no figure this tick
            if name in self.last and self.last_at:
                cpu[name] = max(0.0, 100.0 * (seconds - self.last[name]) / (now - self.last_at))
            self.last[name] = seconds
            rss[name] = memory / 2**20
        self.last_at = now
        return cpu, rss


class Recorder:
    """Samples once a second in the background until stopped; `ticks` is the run's timeline."""

    def __init__(self, bootstrap: str, watched: Watched, counts: Any, *, groups: Mapping[str, str]) -> None:
        self.bootstrap, self.watched, self.counts, self.groups = bootstrap, watched, counts, groups
        self.ticks: list[Tick] = []
        self._task: asyncio.Task[None] | None = None
        self._lag: dict[str, int] = {}
        self._lag_task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self.watched.sample()  # the baseline of the CPU counters
        self._task = asyncio.create_task(self._run(), name="load-recorder")
        self._lag_task = asyncio.create_task(self._lag_loop(), name="load-lag")

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(1.0)
            offered, accepted, alerted = self.counts()
            cpu, rss = self.watched.sample()
            self.ticks.append(Tick(time.time(), offered, accepted, alerted, dict(self._lag), cpu, rss))

    async def _lag_loop(self) -> None:
        # Its own loop: reading the lag takes a few broker round trips, longer than a tick when the broker is busy.
        while True:
            with contextlib.suppress(KafkaError, OSError, asyncio.TimeoutError):
                lags = await consumer_lag(self.bootstrap, groups=list(self.groups))
                total: dict[str, int] = dict.fromkeys(self.groups, 0)
                for p in lags:
                    total[p.group] = total.get(p.group, 0) + p.lag
                self._lag = {self.groups.get(g, g): n for g, n in total.items()}
            await asyncio.sleep(1.0)

    async def stop(self) -> None:
        for task in (self._task, self._lag_task):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
