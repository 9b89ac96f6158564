"""Sends due alerts, records every attempt, retries with backoff, falls back channel by channel, and publishes
the outcome (via the outbox).

Alerts due together for the same responder on the same channel go out as one message (a burst is grouped, never
throttled away). Deliveries run side by side, at most NOTIFY_DISPATCH_BATCH alerts in flight; one responder has
one delivery in flight at a time. Each alert keeps its own state: a retry, a fallback or a failure is decided per
alert.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
import uuid
from collections import defaultdict
from typing import Any

import asyncpg
from opentelemetry import trace

from hotline_common import outbox, topics
from hotline_common.events import AlertFailed, AlertSent
from hotline_common.metrics import ALERT_DELIVERY_SECONDS, ALERTS
from hotline_common.runtime import Runtime, Worker
from hotline_common.telemetry import context_of, link_to
from hotline_notify import repository
from hotline_notify.alerts import address_hint, delivery_id_for, item_for, retry_delay
from hotline_notify.channels import AlertChannel, Delivery, DeliveryResult
from hotline_notify.config import NotifySettings
from hotline_notify.links import Links

log = logging.getLogger("hotline.notify.dispatch")
tracer = trace.get_tracer("hotline.notify.dispatch")


class Dispatcher(Worker):
    name = "alert-dispatcher"

    def __init__(self, runtime: Runtime, channels: dict[str, AlertChannel], links: Links) -> None:
        super().__init__()
        self.runtime = runtime
        self.settings: NotifySettings = runtime.settings  # type: ignore[assignment]
        self.channels = channels
        self.links = links
        self._inflight: set[asyncio.Task[None]] = set()
        self._inflight_alerts = 0
        self._busy: set[uuid.UUID] = set()  # responders with a delivery in flight from this instance

    async def stop(self) -> None:
        await super().stop()
        # Deliveries in flight get a moment to finish and record their outcome; one cut short keeps its lease
        # and is retried by whichever instance runs next (the delivery id lets receivers drop the repeat).
        if self._inflight:
            _, pending = await asyncio.wait(self._inflight, timeout=self.settings.channel_timeout_seconds + 2)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        for channel in self.channels.values():
            await channel.close()

    async def _run(self) -> None:
        while True:
            try:
                self._wake.clear()  # before looking: a wake during the pass is not lost
                if await self.dispatch_once():
                    continue
                async with self.runtime.db.acquire() as conn:
                    due_in = await repository.next_due_in(conn, exclude=list(self._busy))
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), min(due_in if due_in is not None else 5.0, 5.0))
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("dispatcher paused: %r", exc)
                await asyncio.sleep(1.0)

    async def dispatch_once(self) -> int:
        """Claim what is due and start its deliveries without waiting for them: a slow or timing-out responder
        system holds up only its own alerts. A responder with a delivery in flight is left out of the claim, so
        their alerts falling due meanwhile wait and go together in the next message (grouped, in order)."""
        free = self.settings.dispatch_batch - self._inflight_alerts
        if free <= 0:
            return 0
        async with self.runtime.db.acquire() as conn:
            due = await repository.claim_due(conn, limit=free, lease_seconds=self.settings.lease_seconds,
                                             exclude=list(self._busy))
        groups: dict[tuple[Any, str, str], list[asyncpg.Record]] = defaultdict(list)
        for alert in due:
            groups[(alert["responder_id"], alert["channel"], alert["address"])].append(alert)
        for alerts in groups.values():
            self._busy.add(alerts[0]["responder_id"])
            self._inflight_alerts += len(alerts)
            task = asyncio.create_task(self._deliver(alerts), name=f"deliver-{alerts[0]['alert_id']}")
            self._inflight.add(task)
            task.add_done_callback(functools.partial(self._delivered, alerts))
        return len(due)

    def _delivered(self, alerts: list[asyncpg.Record], task: asyncio.Task[None]) -> None:
        self._inflight.discard(task)
        self._inflight_alerts -= len(alerts)
        self._busy.discard(alerts[0]["responder_id"])
        if not task.cancelled() and task.exception() is not None:
            # Its lease runs out and the alerts are claimed again: nothing is lost, but say why.
            log.warning("delivery of %d alert(s) stopped: %r", len(alerts), task.exception())
        self._wake.set()

    async def _deliver(self, alerts: list[asyncpg.Record]) -> None:
        # In the trace of the routing that created the first alert (the others of a grouped message are linked):
        # the channel's HTTP call, and the outcome's event, continue the case's one trace.
        first = alerts[0]
        links = [link for alert in alerts[1:] for link in link_to(alert["traceparent"])]
        with tracer.start_as_current_span(f"alert deliver {first['channel']}", context=context_of(first["traceparent"]),
                                          kind=trace.SpanKind.CLIENT, links=links,
                                          attributes={"hotline.channel": first["channel"],
                                                      "hotline.case_number": first["case_number"],
                                                      "hotline.alerts": len(alerts),
                                                      "hotline.attempt": first["attempts"]}) as span:
            ok = await self._deliver_in_span(alerts)
            if not ok:
                span.set_status(trace.Status(trace.StatusCode.ERROR, "not delivered"))

    async def _deliver_in_span(self, alerts: list[asyncpg.Record]) -> bool:
        first = alerts[0]
        channel = self.channels.get(first["channel"])
        delivery = Delivery(delivery_id=delivery_id_for([a["alert_id"] for a in alerts]),
                            address=first["address"], secret_ref=first["secret_ref"],
                            items=tuple(item_for(dict(a), self.links) for a in alerts))
        started = time.perf_counter()
        if channel is None:
            result = DeliveryResult(ok=False, permanent=True,
                                    error=f"channel {first['channel']} is not configured on this notify")
        else:
            try:
                result = await asyncio.wait_for(channel.send(delivery),
                                                self.settings.channel_timeout_seconds + 1.0)
            except TimeoutError:
                result = DeliveryResult(ok=False, error="timed out")
            except Exception as exc:  # a channel bug must not stop the others' deliveries
                log.exception("channel %s raised", first["channel"])
                result = DeliveryResult(ok=False, error=f"{type(exc).__name__}")
        elapsed_ms = (time.perf_counter() - started) * 1000
        ALERT_DELIVERY_SECONDS.labels(channel=first["channel"]).observe(elapsed_ms / 1000)
        for alert in alerts:
            await self._settle(alert, delivery, result, elapsed_ms)
        return result.ok

    async def _settle(self, alert: asyncpg.Record, delivery: Delivery, result: DeliveryResult,
                      elapsed_ms: float) -> None:
        outcome = await self._record(alert, delivery, result, elapsed_ms)
        # Counted once committed: a transaction that failed leaves the alert to be claimed and counted again.
        ALERTS.labels(channel=alert["channel"], outcome=outcome).inc()

    async def _record(self, alert: asyncpg.Record, delivery: Delivery, result: DeliveryResult,
                      elapsed_ms: float) -> str:
        """The attempt and what follows from it, in one transaction; returns the outcome for the metrics."""
        common: dict[str, Any] = {"alert_id": alert["alert_id"], "case_id": alert["case_id"],
                                  "case_number": alert["case_number"], "responder_id": alert["responder_id"],
                                  "center_id": alert["center_id"], "channel": alert["channel"],
                                  "attempts": alert["attempts"]}
        source = self.runtime.source
        async with self.runtime.transaction() as conn:
            await repository.record_attempt(
                conn, alert_id=alert["alert_id"], delivery_id=delivery.delivery_id, channel=alert["channel"],
                address_hint=address_hint(alert["channel"], alert["address"]),
                outcome="delivered" if result.ok else "failed", http_status=result.http_status, error=result.error,
                duration_ms=elapsed_ms)
            if result.ok:
                if await repository.mark_sent(conn, alert["alert_id"]):
                    await outbox.enqueue(conn, topics.ALERT_SENT, AlertSent(**common), source=source)
                    return "delivered"
                return "cancelled"  # acknowledged while in flight
            error = result.error or "failed"
            if not (result.permanent or alert["channel_attempts"] >= self.settings.attempts_per_channel):
                delay = retry_delay(alert["channel_attempts"], base=self.settings.retry_base_seconds,
                                    cap=self.settings.retry_cap_seconds)
                await repository.schedule_retry(conn, alert["alert_id"], delay=delay, error=error)
                return "retried"
            channels: list[dict[str, Any]] = alert["channels"]
            following = alert["channel_index"] + 1
            if following < len(channels):
                log.warning("alert %s: %s gave up (%s); next channel %s", alert["alert_id"], alert["channel"], error,
                            channels[following]["kind"])
                await repository.next_channel(conn, alert["alert_id"], index=following,
                                              channel=channels[following], error=f"{alert['channel']}: {error}")
                return "fallback"
            if await repository.mark_failed(conn, alert["alert_id"], error):
                failed = AlertFailed(**common, last_error=f"every channel failed; last {alert['channel']}: {error}")
                await outbox.enqueue(conn, topics.ALERT_FAILED, failed, source=source)
                await outbox.enqueue_dead_letter(conn, topics.ALERT_FAILED, failed, reason=failed.last_error,
                                                 error="AlertUndeliverable", attempts=alert["attempts"],
                                                 source=source)
                log.error("alert %s failed on every channel after %d attempt(s): %s", alert["alert_id"],
                          alert["attempts"], error)
                return "failed"
            return "cancelled"
