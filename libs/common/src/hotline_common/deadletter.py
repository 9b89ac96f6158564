"""Bounded retries on consume, then the record goes to `<topic>.dlq` with the reason; a partition never blocks."""

from __future__ import annotations

import asyncio
import json
import logging
import random
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

import asyncpg
from faststream import BaseMiddleware
from faststream.message import StreamMessage
from pydantic import BaseModel, ValidationError

from hotline_common.envelope import EnvelopeError
from hotline_common.metrics import DEAD_LETTERS

log = logging.getLogger("hotline.deadletter")

MAX_ATTEMPTS = 5
# Errors of the infrastructure, not of the record: retried forever (with backoff) instead of dead-lettered,
# because dead-lettering a good case while PostgreSQL restarts would lose it from the normal flow.
TRANSIENT = (
    OSError,
    TimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.CannotConnectNowError,
    asyncpg.TooManyConnectionsError,
    asyncpg.InterfaceError,
)
# Errors that no retry can fix: the record itself is bad.
POISON = (ValidationError, json.JSONDecodeError, UnicodeDecodeError, EnvelopeError)

_attempts: dict[tuple[str, int, int], int] = {}
M = TypeVar("M", bound=BaseModel)


def backoff(attempt: int, *, base: float = 0.2, cap: float = 10.0) -> float:
    """Exponential backoff with full jitter."""
    return float(random.uniform(0, min(cap, base * 2**attempt)))  # noqa: S311 - jitter, not crypto


def reason_of(exc: BaseException) -> str:
    """Where and why a record failed, for the dead-letter header and the ops team: a validation error names the
    fields and the rules they broke, without the values."""
    if isinstance(exc, ValidationError):
        return "; ".join(f"{'.'.join(str(p) for p in e['loc']) or '(body)'}: {e['msg']}"
                         for e in exc.errors(include_input=False, include_url=False))
    return str(exc)


class DeadLetterMiddleware(BaseMiddleware):
    async def consume_scope(self, call_next: Any, msg: StreamMessage[Any]) -> Any:
        # A batch (a read model's, see `apply_each`) is keyed by its first record; what is left to this middleware
        # then is an error of the batch as a whole, and the whole batch is dead-lettered.
        records = msg.raw_message if isinstance(msg.raw_message, tuple) else (msg.raw_message,)
        first = records[0]
        key = (first.topic, first.partition, first.offset)
        broker = self.context.get("broker")
        try:
            result = await call_next(msg)
        except TRANSIENT as exc:
            n = _attempts[key] = _attempts.get(key, 0) + 1
            log.warning("transient error on %s@%s:%s (try %d): %r", *key, n, exc)
            await asyncio.sleep(backoff(n, cap=5.0))
            raise
        except POISON as exc:
            for record in records:
                await dead_letter(broker, record, exc, attempts=1)
            return None
        except Exception as exc:
            n = _attempts[key] = _attempts.get(key, 0) + 1
            if n < MAX_ATTEMPTS:
                log.warning("error on %s@%s:%s (try %d of %d): %r", *key, n, MAX_ATTEMPTS, exc)
                await asyncio.sleep(backoff(n, cap=2.0))
                raise
            for record in records:
                await dead_letter(broker, record, exc, attempts=n)
            _attempts.pop(key, None)
            return None
        _attempts.pop(key, None)
        return result


async def dead_letter(broker: Any, record: Any, exc: BaseException, *, attempts: int) -> None:
    """Publish the record, untouched, to `<topic>.dlq` with why (never the refused input: it may be the person's
    words; pydantic's text quotes it, its structured errors need not)."""
    headers = {k: v.decode("utf-8", "replace") for k, v in (record.headers or ())}
    headers.update(
        {
            "dlq_error": type(exc).__name__,
            "dlq_reason": reason_of(exc)[:2000],
            "dlq_topic": record.topic,
            "dlq_partition": str(record.partition),
            "dlq_offset": str(record.offset),
            "dlq_attempts": str(attempts),
        }
    )
    # The original bytes, untouched, so a replay is exact.
    await broker.publish(record.value, topic=f"{record.topic}.dlq", key=record.key, headers=headers)
    _attempts.pop((record.topic, record.partition, record.offset), None)
    DEAD_LETTERS.labels(topic=record.topic, error=type(exc).__name__).inc()
    log.error("dead-lettered %s@%s:%s after %d attempt(s): %s", record.topic, record.partition,
              record.offset, attempts, type(exc).__name__)


async def apply_each(broker: Any, records: Sequence[Any], model: type[M],
                     apply: Callable[[M], Awaitable[None]]) -> None:
    """A read model's batch (`kafka.read_model_options`), record by record, in order, with the rules of the
    middleware for each alone: one that does not parse is dead-lettered at once, one whose `apply` fails otherwise
    is tried MAX_ATTEMPTS times and then dead-lettered, and the batch goes on. A transient error raises: the batch is
    fetched again from its first record, and `apply` must be idempotent (the read models' are)."""
    for record in records:
        try:
            event = model.model_validate_json(record.value)
        except POISON as exc:
            await dead_letter(broker, record, exc, attempts=1)
            continue
        for attempt in range(1, MAX_ATTEMPTS + 1):
            try:
                await apply(event)
                break
            except TRANSIENT:
                raise
            except Exception as exc:
                if attempt == MAX_ATTEMPTS:
                    await dead_letter(broker, record, exc, attempts=attempt)
                else:
                    log.warning("error on %s@%s:%s (try %d of %d): %r", record.topic, record.partition,
                                record.offset, attempt, MAX_ATTEMPTS, exc)
                    await asyncio.sleep(backoff(attempt, cap=2.0))
