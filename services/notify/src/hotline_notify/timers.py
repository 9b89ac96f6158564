"""Fires due timers (escalation steps, visit reminders), one transaction each, from PostgreSQL: they survive
restarts, fire once however many notify instances run (SKIP LOCKED), and an acknowledgement cancels them."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from opentelemetry import trace

from hotline_common.deadletter import TRANSIENT
from hotline_common.events.base import utcnow
from hotline_common.runtime import Runtime, Worker
from hotline_common.telemetry import context_of
from hotline_notify import repository
from hotline_notify.workflow import Workflow

log = logging.getLogger("hotline.notify.timers")
tracer = trace.get_tracer("hotline.notify.timers")
IDLE_POLL_SECONDS = 1.0  # another instance may have scheduled a timer: look at least this often


class TimerWorker(Worker):
    name = "escalation-timers"

    def __init__(self, runtime: Runtime, workflow: Workflow, on_fired: Callable[[], None],
                 ready: Callable[[], Awaitable[object]]) -> None:
        super().__init__()
        self.runtime, self.workflow, self.on_fired, self.ready = runtime, workflow, on_fired, ready

    def wake_for(self, due: datetime) -> None:
        """A new timer: a pass now only if it falls due before the worker's next look anyway (a routed case's
        deadline is minutes away; a pass per routed event was a tenth of notify's time in a burst)."""
        if due <= utcnow() + timedelta(seconds=IDLE_POLL_SECONDS):
            self._wake.set()

    async def fire_due(self) -> int:
        """Fire every due timer; returns how many fired."""
        fired = 0
        while True:
            try:
                async with self.runtime.transaction() as conn:
                    timer = await repository.claim_timer(conn, instance=self.workflow.instance)
                    if timer is None:
                        return fired
                    timer_id = timer["timer_id"]
                    # An escalation step minutes later is still part of the case's trace (and so are its alerts).
                    with tracer.start_as_current_span(f"timer {timer['kind']} step {timer['step']}",
                                                      context=context_of(timer["traceparent"]),
                                                      attributes={"hotline.timer": timer["kind"],
                                                                  "hotline.step": timer["step"]}):
                        await self.workflow.fire(conn, timer)
            except TRANSIENT:
                raise  # the database is away: the timer is still due, try again later
            except Exception as exc:
                # A bug on one timer must not hold back every timer due after it.
                log.exception("timer %s failed; set aside for the ops team", timer_id)
                async with self.runtime.db.acquire() as conn:
                    await repository.set_aside_timer(conn, timer_id, error=f"{type(exc).__name__}: {exc}"[:500])
            fired += 1
            self.on_fired()

    async def _run(self) -> None:
        # Never escalate from a half-loaded directory: a step would find "nobody" to alert and be spent.
        await self.ready()
        while True:
            try:
                await self.fire_due()
                async with self.runtime.db.acquire() as conn:
                    due_in = await repository.next_timer_in(conn)
                self._wake.clear()
                wait = IDLE_POLL_SECONDS if due_in is None else min(due_in, IDLE_POLL_SECONDS)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), wait)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("timers paused: %r", exc)
                await asyncio.sleep(1.0)
