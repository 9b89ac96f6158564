"""The FastAPI side every service shares: health and readiness, error shapes, limits, the uvicorn entry."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable, Sequence
from pathlib import Path
from typing import Any

import asyncpg
import uvicorn
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest
from starlette.types import ASGIApp, Receive, Scope, Send

from hotline_common import asyncapi, topics
from hotline_common.heartbeat import Heartbeat
from hotline_common.runtime import Runtime, running
from hotline_common.sampling import MetricsSampler
from hotline_common.settings import ServiceSettings
from hotline_common.topics import TopicSpec

MAX_BODY_BYTES = 256 * 1024
# Bulk imports (a whole country's centers as CSV) under the prefixes a service names.
MAX_BULK_BODY_BYTES = 32 * 1024 * 1024
DB_UNAVAILABLE = (OSError, asyncpg.PostgresConnectionError, asyncpg.CannotConnectNowError,
                  asyncpg.TooManyConnectionsError, asyncpg.InterfaceError, TimeoutError)


class BodyLimit:
    """Refuses request bodies over the limit with 413, and JSON or text bodies that are not UTF-8 with 400 saying
    where, before anything reads them. Paths under `signed_prefixes` (webhooks that must check a signature before
    reading anything) are only size-limited: their handler decodes the body once the signature holds."""

    def __init__(self, app: ASGIApp, limit: int = MAX_BODY_BYTES, bulk_prefixes: tuple[str, ...] = (),
                 signed_prefixes: tuple[str, ...] = ()) -> None:
        self.app, self.default_limit, self.bulk_prefixes = app, limit, bulk_prefixes
        self.signed_prefixes = signed_prefixes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = str(scope.get("path", ""))
        bulk = self.bulk_prefixes and path.startswith(self.bulk_prefixes)
        limit = MAX_BULK_BODY_BYTES if bulk else self.default_limit
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        if declared is not None and int(declared) > limit:
            await _too_large(limit)(scope, receive, send)
            return
        textual = headers.get(b"content-type", b"").split(b";")[0].strip().lower()
        signed = self.signed_prefixes and path.startswith(self.signed_prefixes)
        if (textual.endswith(b"json") or textual.startswith(b"text/")) and not signed:
            # Read in full (it is small: the limit holds) and check it here, where an error can still be said
            # plainly: FastAPI turns anything raised while it reads the body into a vague 400.
            body, more = b"", True
            while more:
                message = await receive()
                body += message.get("body", b"")
                more = message.get("more_body", False)
                if len(body) > limit:
                    await _too_large(limit)(scope, receive, send)
                    return
            try:
                body.decode("utf-8")
            except UnicodeDecodeError as bad:
                await JSONResponse({"detail": [{"loc": ["body"], "msg": f"the body is not valid UTF-8 (at byte "
                                                f"{bad.start}); send text as UTF-8", "type": "invalid_utf8"}]},
                                   status_code=400)(scope, receive, send)
                return
            replayed = False

            async def replay() -> Any:
                nonlocal replayed
                if replayed:
                    return await receive()  # after the body: the disconnect
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}

            await self.app(scope, replay, send)
            return
        seen = 0

        async def limited() -> Any:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > limit:
                raise _TooLargeError
            return message

        try:
            await self.app(scope, limited, send)
        except _TooLargeError:
            await _too_large(limit)(scope, receive, send)


class _TooLargeError(Exception):
    pass


def _too_large(limit: int) -> JSONResponse:
    return JSONResponse({"detail": [{"loc": ["body"], "msg": f"request body larger than {limit} bytes",
                                     "type": "too_large"}]}, status_code=413)


def service_app(runtime: Runtime, *, title: str, migrations: Path | None, description: str = "",
                bulk_prefixes: tuple[str, ...] = (), signed_prefixes: tuple[str, ...] = (),
                publishes: Sequence[TopicSpec] = ()) -> FastAPI:
    """The service's FastAPI app; its lifespan opens and closes everything the runtime holds. `publishes`: the
    topics it writes through the outbox, for its AsyncAPI document (its subscribers and views are found)."""

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        async with running(runtime, migrations=migrations):
            yield

    # Every service says it is alive and working, for the watchdog and the ops console.
    runtime.components.append(Heartbeat(runtime, runtime.settings.heartbeat_seconds))
    publishes = (*publishes, topics.OPS_HEARTBEAT)
    app = FastAPI(title=title, description=description, lifespan=lifespan, version="0.1.0")
    app.state.runtime = runtime
    app.state.settings = runtime.settings

    @app.get("/healthz", tags=["ops"], summary="Alive")
    async def healthz() -> dict[str, str]:
        return {"status": "alive", "service": runtime.service}

    @app.get("/readyz", tags=["ops"], summary="Ready: Kafka and the database answer")
    async def readyz() -> JSONResponse:
        checks = await runtime.ready()
        ok = all(checks.values())
        return JSONResponse({"status": "ready" if ok else "not ready", **checks}, status_code=200 if ok else 503)

    # Prometheus scrapes it without a token, like /healthz: it holds counts by bounded labels, no personal data.
    @app.get("/metrics", tags=["ops"], summary="Prometheus metrics (hotline_*, faststream_*, process_*)",
             response_class=Response)
    async def metrics() -> Response:
        return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)

    # The event side of the API beside OpenAPI's HTTP side; built on request, once every subscriber is declared.
    @app.get("/asyncapi.json", tags=["ops"], summary="AsyncAPI 3.0: the topics this service receives and sends")
    async def asyncapi_json() -> JSONResponse:
        return JSONResponse(asyncapi.document(runtime, title=title, description=description, publishes=publishes))

    @app.get("/asyncapi", tags=["ops"], summary="The AsyncAPI document as a page", response_class=HTMLResponse)
    async def asyncapi_page() -> HTMLResponse:
        return HTMLResponse(asyncapi.page(asyncapi.document(runtime, title=title, description=description,
                                                            publishes=publishes)))

    @app.exception_handler(DB_UNAVAILABLE[0])
    @app.exception_handler(asyncpg.PostgresConnectionError)
    @app.exception_handler(asyncpg.CannotConnectNowError)
    @app.exception_handler(asyncpg.TooManyConnectionsError)
    @app.exception_handler(asyncpg.InterfaceError)
    @app.exception_handler(TimeoutError)
    async def database_unavailable(_: Request, exc: Exception) -> JSONResponse:
        # Nothing was committed (the transaction never reached COMMIT): the client may safely retry.
        return JSONResponse({"detail": "the case database is unavailable; nothing was saved, retry shortly"},
                            status_code=503, headers={"Retry-After": "5"})

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_: Request, exc: RequestValidationError) -> JSONResponse:
        # FastAPI's default echoes the submitted value back ("input"); callers' names and phones do not belong
        # in error bodies (nor in the proxies' logs that keep them). Where and why is enough to fix a request.
        errors = [{"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")}
                  for e in exc.errors()]
        return JSONResponse({"detail": errors}, status_code=422)

    app.add_middleware(BodyLimit, bulk_prefixes=bulk_prefixes, signed_prefixes=signed_prefixes)
    FastAPIInstrumentor.instrument_app(app, tracer_provider=runtime.tracer_provider,
                                       excluded_urls="healthz,readyz,metrics")
    runtime.components.append(MetricsSampler(runtime))
    return app


def serve(app_factory: Callable[[], FastAPI], settings: ServiceSettings) -> None:
    uvicorn.run(app_factory(), host=settings.host, port=settings.port, log_level=settings.log_level.lower(),
                access_log=False, timeout_graceful_shutdown=20)
