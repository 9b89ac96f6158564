"""Every service instance's heartbeat: a `ServiceHeartbeat` on `hotline.ops.heartbeat.v1` every few seconds.

"The process answers" is not "the service works": a consumer can hang on a lock or a call that never returns while
the process and its HTTP port look fine. So the heartbeat also says how long the oldest record has been in its
handler (`hotline_common.progress`, fed on every consumer), and the watchdog reads it beside the consumer
lag it takes from the broker itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time

from hotline_common import topics
from hotline_common.envelope import ce_headers
from hotline_common.events import ServiceHeartbeat
from hotline_common.events.base import utcnow
from hotline_common.progress import PROGRESS
from hotline_common.runtime import Runtime, Worker

log = logging.getLogger("hotline.heartbeat")


def instance_name() -> str:
    return f"{socket.gethostname()}/{os.getpid()}"


class Heartbeat(Worker):
    """Publishes this instance's heartbeat every `interval` seconds, straight to Kafka (not through the outbox: it
    must go out while PostgreSQL is away, saying so)."""

    name = "heartbeat"

    def __init__(self, runtime: Runtime, interval: float) -> None:
        super().__init__()
        self.runtime, self.interval = runtime, interval
        self.instance = instance_name()
        self.started_at = utcnow()

    async def beat(self) -> ServiceHeartbeat:
        checks = await self.runtime.ready()
        event = ServiceHeartbeat(service=self.runtime.service, instance=self.instance, started_at=self.started_at,
                                 interval_seconds=self.interval, ready=all(checks.values()), checks=checks,
                                 in_flight=PROGRESS.in_flight,
                                 oldest_in_flight_seconds=round(PROGRESS.oldest_in_flight_seconds(), 3),
                                 processed=PROGRESS.processed)
        await self.runtime.broker.publish(
            event.model_dump_json().encode("utf-8"), topic=topics.OPS_HEARTBEAT.name, key=event.subject().encode(),
            headers=ce_headers(event, source=self.runtime.source))
        return event

    async def _run(self) -> None:
        while True:
            started = time.monotonic()
            try:
                await asyncio.wait_for(self.beat(), timeout=self.interval * 2)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # Kafka away: the missing heartbeats are the message
                log.warning("heartbeat not sent: %r", exc)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), max(0.0, self.interval - (time.monotonic() - started)))
            self._wake.clear()
