"""What the console polls that only Kafka knows, sampled every few seconds by one background task: the consumer
groups' lag (hotline_common.lag) and the dead-letter queues' counts (hotline_common.deadletters). Any number of
consoles read the same sample instead of each asking Kafka."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from hotline_common.deadletters import DeadLetterQueue, queues
from hotline_common.events.base import utcnow
from hotline_common.lag import PartitionLag, consumer_lag
from hotline_common.runtime import Worker

log = logging.getLogger("hotline.ops.samples")


@dataclass(frozen=True)
class GroupLag:
    group: str
    topic: str
    lag: int
    partitions: int


def by_group_and_topic(partitions: list[PartitionLag]) -> list[GroupLag]:
    """Partitions summed per group and topic, the largest lag first."""
    sums: dict[tuple[str, str], list[int]] = {}
    for p in partitions:
        total = sums.setdefault((p.group, p.topic), [0, 0])
        total[0] += p.lag
        total[1] += 1
    rows = [GroupLag(group, topic, lag, n) for (group, topic), (lag, n) in sums.items()]
    return sorted(rows, key=lambda r: (-r.lag, r.group, r.topic))


class Samples(Worker):
    """A runtime component; `wake()` samples again now (after a replay, say)."""

    name = "ops-samples"

    def __init__(self, bootstrap: str, every: float,
                 on_lag: Callable[[list[GroupLag], datetime], None] | None = None) -> None:
        super().__init__()
        self.bootstrap = bootstrap
        self.every = every
        self.on_lag = on_lag  # each new lag sample, e.g. for the services' health
        self.lag: list[GroupLag] = []
        self.lag_at: datetime | None = None
        self.lag_error: str | None = None
        self.dead_letters: list[DeadLetterQueue] = []
        self.dead_letters_at: datetime | None = None
        self.dead_letters_error: str | None = None
        self.sampled = asyncio.Event()

    async def _run(self) -> None:
        while True:
            self._wake.clear()
            await self.sample_lag()
            await self.sample_dead_letters()
            self.sampled.set()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.every)

    # Kafka away: the last samples stay, dated, and say they could not be renewed.
    async def sample_lag(self) -> None:
        try:
            self.lag = by_group_and_topic(await consumer_lag(self.bootstrap))
            self.lag_at, self.lag_error = utcnow(), None
            if self.on_lag is not None:
                self.on_lag(self.lag, self.lag_at)
        except Exception as exc:
            self.lag_error = type(exc).__name__
            log.warning("could not read the consumer lag: %r", exc)

    async def sample_dead_letters(self) -> None:
        try:
            self.dead_letters = await queues(self.bootstrap)
            self.dead_letters_at, self.dead_letters_error = utcnow(), None
        except Exception as exc:
            self.dead_letters_error = type(exc).__name__
            log.warning("could not count the dead letters: %r", exc)
