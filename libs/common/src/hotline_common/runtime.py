"""The composition every service shares: telemetry, pool + migrations, topic catalogue, broker, outbox relay."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

import asyncpg
from faststream.kafka import KafkaBroker
from opentelemetry.sdk.trace import TracerProvider

from hotline_common import db
from hotline_common.catalogue import apply_catalogue
from hotline_common.kafka import make_broker
from hotline_common.outbox import OutboxRelay
from hotline_common.settings import ServiceSettings
from hotline_common.telemetry import setup_telemetry
from hotline_common.topics import TopicSpec
from hotline_common.views import CompactedView

if TYPE_CHECKING:
    from hotline_common.readmodel import ReadModel

log = logging.getLogger("hotline.runtime")
T = TypeVar("T")
STARTUP_TIMEOUT = 120.0


class Component(Protocol):
    """A background part of a service (a view, a dispatcher): started before consuming, stopped after."""

    def start(self) -> None: ...

    async def stop(self) -> None: ...


class Worker:
    """A service's background loop (`_run`), woken early by `wake()`; a Component, so started and stopped with the
    service. Subclasses name it and extend `stop` for what they must finish."""

    name = "worker"

    def __init__(self) -> None:
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def wake(self) -> None:
        self._wake.set()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=self.name)

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        raise NotImplementedError


@dataclass
class Runtime:
    """What a running service holds; handlers reach it through the FastStream context as `runtime`."""

    service: str
    settings: ServiceSettings
    broker: KafkaBroker
    tracer_provider: TracerProvider
    pool: asyncpg.Pool | None = None
    relay: OutboxRelay | None = None
    extras: dict[str, Any] = field(default_factory=dict)
    # Further readiness conditions of this service (e.g. "the center index is loaded").
    checks: dict[str, Callable[[], bool]] = field(default_factory=dict)
    components: list[Component] = field(default_factory=list)
    # Run once the database and Kafka are up, before any subscriber consumes (e.g. seeding demo data).
    startup: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    # False for a service that must keep working while PostgreSQL is away (the watchdog): no pool, no outbox.
    uses_database: bool = True
    # Topics read by this service's read models, for its AsyncAPI document (their subscribers are not in it).
    reads: list[TopicSpec] = field(default_factory=list)

    def include_read_model(self, model: ReadModel) -> None:
        self.broker.include_router(model.router)
        self.reads += model.specs

    def follow(self, spec: TopicSpec, on_change: Callable[[str, Any], None], *, check: str
               ) -> CompactedView[Any]:
        """Keep a live local view of a compacted registry topic; the service is ready once it is loaded.
        `on_change(key, record or None)` sees every record in order (`spec.model`, None for a tombstone)."""
        view: CompactedView[Any] = CompactedView(spec, self.settings.kafka_bootstrap_servers, on_change=on_change)
        self.components.append(view)
        self.checks[check] = view.ready.is_set
        return view

    @property
    def db(self) -> asyncpg.Pool:
        assert self.pool is not None, "the database pool is not open yet"
        return self.pool

    @property
    def source(self) -> str:
        """CloudEvents `source` of the events this service produces."""
        return f"/hotline/{self.service}"

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[asyncpg.Connection]:
        """A connection in a transaction; after it commits, the outbox relay is woken for what it added."""
        async with self.db.acquire() as conn, conn.transaction():
            yield conn
        if self.relay is not None:
            self.relay.wake()

    async def ready(self) -> dict[str, bool]:
        try:
            kafka = bool(await self.broker.ping(timeout=2.0))
        except Exception:
            kafka = False
        checks = {"kafka": kafka, **{name: check() for name, check in self.checks.items()}}
        if self.uses_database:
            checks = {"database": self.pool is not None and await db.ping(self.pool), **checks}
        return checks


def build_runtime(settings: ServiceSettings, *, service: str) -> Runtime:
    provider = setup_telemetry(settings, service=service)
    broker = make_broker(settings, service=service, tracer_provider=provider)
    runtime = Runtime(service=service, settings=settings, broker=broker, tracer_provider=provider)
    broker.context.set_global("runtime", runtime)
    return runtime


async def retry_until_up(what: str, attempt: Callable[[], Awaitable[T]], timeout: float = STARTUP_TIMEOUT) -> T:
    """At start-up a dependency may still be booting (docker compose, make up): wait for it, loudly."""
    deadline = time.monotonic() + timeout
    delay = 0.5
    while True:
        try:
            return await attempt()
        except Exception as exc:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{what} still unreachable after {timeout:.0f}s: {exc!r}") from exc
            log.warning("waiting for %s: %r", what, exc)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5.0)


@contextlib.asynccontextmanager
async def running(runtime: Runtime, *, migrations: Path | None) -> AsyncIterator[Runtime]:
    """Open everything in order, yield, close in reverse: pool and migrations, topics, broker, outbox relay,
    start-up hooks and components, then the subscribers. `migrations=None`: a service without a database."""
    settings, service = runtime.settings, runtime.service
    runtime.uses_database = migrations is not None
    if migrations is not None:
        runtime.pool = await retry_until_up(
            "PostgreSQL", lambda: db.create_pool(settings.database_url, schema=service,
                                                 max_size=settings.database_pool_max)
        )
    started: list[Component] = []
    try:
        if migrations is not None:
            await db.migrate(runtime.db, schema=service, directory=migrations)
        await retry_until_up("Kafka", lambda: apply_catalogue(settings))
        await retry_until_up("Kafka broker", runtime.broker.connect)
        if migrations is not None:
            runtime.relay = OutboxRelay(runtime.db, settings.kafka_bootstrap_servers, schema=service,
                                        client_id=f"hotline-{service}-outbox")
            runtime.relay.start()
        for hook in runtime.startup:
            await hook()
        for component in runtime.components:
            component.start()
            started.append(component)
        await runtime.broker.start()
        log.info("%s started", service)
        yield runtime
    finally:
        with contextlib.suppress(Exception):
            await runtime.broker.stop()
        for component in reversed(started):
            await component.stop()
        if runtime.relay:
            await runtime.relay.stop()
        if runtime.pool is not None:
            await runtime.pool.close()
        runtime.tracer_provider.shutdown()
