"""Composition root of the registry: runtime, seeding, HTTP routes and how domain errors answer. No logic here."""

from __future__ import annotations

import asyncio
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import ValidationError

from hotline_common import topics
from hotline_common.runtime import build_runtime
from hotline_common.web import service_app
from hotline_gazetteer import gazetteer
from hotline_registry import api, handlers, imports, places
from hotline_registry.config import RegistrySettings
from hotline_registry.crud import etag
from hotline_registry.directory import FieldError
from hotline_registry.repository import AlreadyExistsError, DuplicatePhoneError, NotFoundError, StaleVersionError
from hotline_registry.seed import seed_demo

MIGRATIONS = Path(__file__).parent / "migrations"


def _unprocessable(loc: list[str | int], msg: str) -> JSONResponse:
    return JSONResponse({"detail": [{"loc": loc, "msg": msg, "type": "value_error"}]}, status_code=422)


def install_error_answers(app: FastAPI) -> None:
    """The domain's refusals, answered the way FastAPI answers a bad request: 422 names the field at fault."""

    @app.exception_handler(FieldError)
    async def field_error(_: Request, exc: FieldError) -> JSONResponse:
        return _unprocessable(["body", *exc.loc], exc.msg)

    @app.exception_handler(ValidationError)
    async def record_invalid(_: Request, exc: ValidationError) -> JSONResponse:
        # Raised while building a record from valid-looking input (e.g. overlapping shifts); no input echoed.
        errors = [{"loc": ["body", *e["loc"]], "msg": e["msg"], "type": e["type"]} for e in exc.errors()]
        return JSONResponse({"detail": errors}, status_code=422)

    @app.exception_handler(DuplicatePhoneError)
    async def duplicate_phone(_: Request, exc: DuplicatePhoneError) -> JSONResponse:
        return _unprocessable(["body", "channels"], str(exc))

    @app.exception_handler(NotFoundError)
    async def not_found(_: Request, exc: NotFoundError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=404)

    @app.exception_handler(StaleVersionError)
    async def stale(_: Request, exc: StaleVersionError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=412, headers={"ETag": etag(exc.current)})

    @app.exception_handler(AlreadyExistsError)
    async def exists(_: Request, exc: AlreadyExistsError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=409)


def create_app(settings: RegistrySettings | None = None) -> FastAPI:
    settings = settings or RegistrySettings()
    runtime = build_runtime(settings, service="registry")
    runtime.broker.include_router(handlers.router)

    async def seed() -> None:
        if settings.local and settings.seed_demo:
            await seed_demo(runtime.db, settings)

    async def warm_place_index() -> None:
        # Built once per process (~0.5 s): at start-up, not on an operator's first keystroke.
        await asyncio.to_thread(lambda: gazetteer().index)

    runtime.startup += [seed, warm_place_index]
    app = service_app(runtime, title="1300 hotline — registry (ทะเบียนศูนย์และผู้ปฏิบัติงาน)", migrations=MIGRATIONS,
                      bulk_prefixes=("/v1/import/",),
                      description="The national directory: places, centers, agencies, responders and on-call "
                                  "rotas; issues access tokens. Every change is published on the compacted "
                                  "`registry.*` topics and written to the audit log.",
                      publishes=(topics.REGISTRY_CENTER, topics.REGISTRY_AGENCY, topics.REGISTRY_RESPONDER,
                                 topics.REGISTRY_ROTA))
    install_error_answers(app)
    app.include_router(api.router)
    app.include_router(places.router)
    for router in api.directory_routers:
        app.include_router(router)
    app.include_router(imports.router)
    return app
