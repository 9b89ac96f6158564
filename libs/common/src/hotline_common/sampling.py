"""Samples for /metrics what is a state rather than an event: the service's outbox backlog and its consumer lag."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from hotline_common.lag import consumer_lag
from hotline_common.metrics import CONSUMER_LAG, OUTBOX_BACKLOG, OUTBOX_OLDEST_SECONDS
from hotline_common.runtime import Runtime, Worker

log = logging.getLogger("hotline.metrics")
# A sample must not outlive a few intervals when Kafka hangs rather than refuses.
SAMPLE_TIMEOUT = 30.0
MIN_INTERVAL = 1.0


class MetricsSampler(Worker):
    """Every METRICS_SAMPLE_SECONDS: rows waiting in the outbox (and the oldest one's age), and the lag of the
    consumer groups this service's subscribers belong to, read from the broker (`hotline_common.lag`)."""

    name = "metrics-sampler"

    def __init__(self, runtime: Runtime) -> None:
        super().__init__()
        self.runtime = runtime
        self._lag_labels: set[tuple[str, str, str]] = set()
        self._failing: set[str] = set()

    @property
    def groups(self) -> list[str]:
        """The consumer groups of this service's subscribers (`hotline-<service>`); none for a service that only
        follows compacted topics without a group."""
        groups = (getattr(s, "group_id", None) for s in self.runtime.broker.subscribers)
        return sorted({str(group) for group in groups if group})

    async def sample_outbox(self) -> None:
        if self.runtime.pool is None:
            return  # a service without a database (the watchdog) has no outbox
        async with self.runtime.pool.acquire() as conn:
            row = await conn.fetchrow(
                "SELECT count(*) AS waiting, "
                "       coalesce(extract(epoch FROM now() - min(created_at)), 0) AS oldest FROM outbox")
        assert row is not None
        OUTBOX_BACKLOG.labels(service=self.runtime.service).set(row["waiting"])
        OUTBOX_OLDEST_SECONDS.labels(service=self.runtime.service).set(float(row["oldest"]))

    async def sample_lag(self) -> None:
        groups = self.groups
        lags = await consumer_lag(self.runtime.settings.kafka_bootstrap_servers, groups=groups) if groups else []
        seen = {(p.group, p.topic, str(p.partition)) for p in lags}
        for labels in self._lag_labels - seen:  # a partition no longer read (or a sample that failed)
            with contextlib.suppress(KeyError):
                CONSUMER_LAG.remove(*labels)
        for p in lags:
            CONSUMER_LAG.labels(group=p.group, topic=p.topic, partition=str(p.partition)).set(p.lag)
        self._lag_labels = seen

    async def sample(self) -> None:
        """One round; a part that fails (PostgreSQL or Kafka away) is logged once and tried again next round."""
        for what, part in (("outbox", self.sample_outbox), ("lag", self.sample_lag)):
            try:
                await asyncio.wait_for(part(), SAMPLE_TIMEOUT)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if what == "lag":  # an old figure would say the consumers are fine when nobody can tell
                    for labels in self._lag_labels:
                        with contextlib.suppress(KeyError):
                            CONSUMER_LAG.remove(*labels)
                    self._lag_labels = set()
                if what not in self._failing:
                    log.warning("metrics: cannot sample the %s: %r", what, exc)
                self._failing.add(what)
            else:
                if what in self._failing:
                    log.info("metrics: sampling the %s again", what)
                self._failing.discard(what)

    async def _run(self) -> None:
        interval = max(MIN_INTERVAL, self.runtime.settings.metrics_sample_seconds)
        while True:
            await self.sample()
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), interval)
