"""Sends due alerts, records every attempt, retries with backoff, and publishes the outcome (via the outbox)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any

import asyncpg

from hotline_common import outbox, topics
from hotline_common.events import AlertFailed, AlertSent
from hotline_common.runtime import Runtime
from hotline_notify import repository
from hotline_notify.alerts import retry_delay
from hotline_notify.channels import AlertChannel, Delivery, DeliveryResult
from hotline_notify.config import NotifySettings

log = logging.getLogger("hotline.notify.dispatch")


class Dispatcher:
    def __init__(self, runtime: Runtime, channels: dict[str, AlertChannel]) -> None:
        self.runtime = runtime
        self.settings: NotifySettings = runtime.settings  # type: ignore[assignment]
        self.channels = channels
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def wake(self) -> None:
        self._wake.set()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="alert-dispatcher")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        for channel in self.channels.values():
            await channel.close()

    async def _run(self) -> None:
        while True:
            try:
                sent = await self.dispatch_once()
                if sent:
                    continue
                async with self.runtime.db.acquire() as conn:
                    due_in = await repository.next_due_in(conn)
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), min(due_in if due_in is not None else 5.0, 5.0))
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("dispatcher paused: %r", exc)
                await asyncio.sleep(1.0)

    async def dispatch_once(self) -> int:
        async with self.runtime.db.acquire() as conn:
            due = await repository.claim_due(conn, limit=self.settings.dispatch_batch,
                                             lease_seconds=self.settings.lease_seconds)
        if due:
            await asyncio.gather(*(self._deliver(alert) for alert in due))
        return len(due)

    async def _deliver(self, alert: asyncpg.Record) -> None:
        channel = self.channels.get(alert["channel"])
        started = time.perf_counter()
        if channel is None:
            result = DeliveryResult(ok=False, permanent=True, error=f"channel {alert['channel']} not available")
        else:
            result = await channel.send(Delivery(alert_id=alert["alert_id"], address=alert["address"],
                                                 secret_ref=alert["secret_ref"], payload=alert["payload"]))
        elapsed_ms = (time.perf_counter() - started) * 1000
        await self._settle(alert, result, elapsed_ms)

    async def _settle(self, alert: asyncpg.Record, result: DeliveryResult, elapsed_ms: float) -> None:
        attempts: int = alert["attempts"]
        common: dict[str, Any] = {"alert_id": alert["alert_id"], "case_id": alert["case_id"],
                                  "case_number": alert["case_number"], "responder_id": alert["responder_id"],
                                  "center_id": alert["center_id"], "channel": alert["channel"],
                                  "attempts": attempts}
        source = self.runtime.source
        async with self.runtime.transaction() as conn:
            await repository.record_attempt(conn, alert_id=alert["alert_id"], channel=alert["channel"],
                                            outcome="delivered" if result.ok else "failed",
                                            http_status=result.http_status, error=result.error,
                                            duration_ms=elapsed_ms)
            if result.ok:
                await repository.mark_sent(conn, alert["alert_id"])
                await outbox.enqueue(conn, topics.ALERT_SENT, AlertSent(**common), source=source)
            elif result.permanent or attempts >= self.settings.max_attempts:
                error = result.error or "failed"
                await repository.mark_failed(conn, alert["alert_id"], error)
                await outbox.enqueue(conn, topics.ALERT_FAILED, AlertFailed(**common, last_error=error),
                                     source=source)
                log.error("alert %s failed after %d attempt(s): %s", alert["alert_id"], attempts, error)
            else:
                delay = retry_delay(attempts, base=self.settings.retry_base_seconds,
                                    cap=self.settings.retry_cap_seconds)
                await repository.schedule_retry(conn, alert["alert_id"], delay=delay,
                                                error=result.error or "failed")
