"""The watchdog's loop: every check, sample each watched group's lag from the broker, judge every service
(`hotline_common.health`, with the heartbeats the subscriber keeps), page what started, lasts or cleared, and
publish the alarm for the ops console (best effort: the page is what counts)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from datetime import datetime, timedelta

from hotline_common import topics
from hotline_common.envelope import ce_headers
from hotline_common.events import ServiceHeartbeat, WatchdogAlarm
from hotline_common.events.base import utcnow
from hotline_common.health import LagSample, Problem, Thresholds, assess, latest_by_instance
from hotline_common.lag import consumer_lag
from hotline_common.runtime import Runtime, Worker
from hotline_watchdog.alarms import OpenAlarm, Page, next_pages, paged
from hotline_watchdog.config import WatchdogSettings
from hotline_watchdog.pager import Pager

log = logging.getLogger("hotline.watchdog")
KAFKA = "kafka"  # the watchdog's own problem: it cannot read the broker, so it cannot see the services


class Watchdog(Worker):
    name = "watchdog"

    def __init__(self, runtime: Runtime, settings: WatchdogSettings, pager: Pager) -> None:
        super().__init__()
        self.runtime, self.settings, self.pager = runtime, settings, pager
        self.thresholds = Thresholds(missing_after=settings.missing_after_seconds,
                                     stuck_after=settings.stuck_after_seconds,
                                     lag_window=settings.lag_window_seconds, lag_min=settings.lag_min)
        self.watching_since = utcnow()
        self.heartbeats: dict[tuple[str, str], ServiceHeartbeat] = {}
        keep = int(settings.lag_window_seconds / settings.check_seconds) + 3
        self.lag: dict[str, deque[LagSample]] = {s: deque(maxlen=keep) for s in settings.services}
        self.alarms: dict[tuple[str, str], OpenAlarm] = {}
        self.problems: list[Problem] = []
        self.kafka_failing_since: datetime | None = None

    def heard(self, beat: ServiceHeartbeat) -> None:
        self.heartbeats = latest_by_instance([*self.heartbeats.values(), beat])

    async def sample_lag(self, now: datetime) -> None:
        groups = {f"hotline-{service}": service for service in self.settings.services}
        lags = await consumer_lag(self.settings.kafka_bootstrap_servers, groups=list(groups))
        totals = dict.fromkeys(groups.values(), 0)
        for partition in lags:
            totals[groups[partition.group]] += partition.lag
        for service, waiting in totals.items():
            self.lag[service].append(LagSample(now, waiting))

    async def check(self, now: datetime | None = None) -> list[Page]:
        now = now or utcnow()
        try:
            await asyncio.wait_for(self.sample_lag(now), timeout=max(5.0, self.settings.check_seconds))
            self.kafka_failing_since = None
        except Exception as exc:
            if self.kafka_failing_since is None:
                log.warning("cannot read consumer lag: %r", exc)
                self.kafka_failing_since = now
        problems = assess(now, services=self.settings.services, heartbeats=self.heartbeats.values(),
                          lag={s: list(samples) for s, samples in self.lag.items()},
                          watching_since=self.watching_since, t=self.thresholds)
        if self.kafka_failing_since is not None:
            seconds = int((now - self.kafka_failing_since).total_seconds())
            if seconds >= self.thresholds.missing_after:
                problems.append(Problem(KAFKA, "down", f"the watchdog cannot reach Kafka for {seconds} s",
                                        f"ระบบเฝ้าระวังติดต่อ Kafka ไม่ได้ {seconds} วินาที"))
        self.problems = problems
        pages, self.alarms = next_pages(self.alarms, problems, now,
                                        repeat_after=timedelta(minutes=self.settings.repeat_minutes))
        for page in pages:
            await self.send(page, now)
        return pages

    async def send(self, page: Page, now: datetime) -> None:
        alarm = WatchdogAlarm(service=page.problem.service, problem=page.problem.kind, state=page.state,
                              detail=page.problem.detail, detail_th=page.problem.detail_th, since=page.since)
        body = alarm.model_dump(mode="json")
        took = await self.pager.page(alarm.event_id, page.text(now), body)
        log.warning("%s %s %s: %s (paged: %s)", page.state.value, page.problem.service, page.problem.kind,
                    page.problem.detail, ", ".join(took) or "nobody")
        if took:
            paged(self.alarms, page, now)
        alarm = alarm.model_copy(update={"paged": took})
        with contextlib.suppress(Exception):  # Kafka may be the problem; the page went out regardless
            await asyncio.wait_for(self.runtime.broker.publish(
                alarm.model_dump_json().encode("utf-8"), topic=topics.OPS_ALARM.name, key=alarm.subject().encode(),
                headers=ce_headers(alarm, source=self.runtime.source)), timeout=5.0)

    async def _run(self) -> None:
        while True:
            try:
                await self.check()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("watchdog check failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.settings.check_seconds)
            self._wake.clear()

    async def stop(self) -> None:
        await super().stop()
        await self.pager.close()
