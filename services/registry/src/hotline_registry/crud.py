"""One CRUD router shape for every directory kind: cursor pages with filters, ETag / If-Match, admins write.

No `from __future__ import annotations` here: FastAPI reads the route signatures, built per kind at run time.
"""

import base64
import binascii
import uuid
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

import asyncpg
from fastapi import APIRouter, Header, HTTPException, Query, Request, Response, status
from pydantic import BaseModel, ConfigDict, create_model

from hotline_common.auth import CurrentPrincipal, Role, require_role
from hotline_common.events import Event
from hotline_common.runtime import Runtime
from hotline_registry import repository
from hotline_registry.repository import Kind, Stored

AnyStaff = require_role(*Role)
Admin = require_role(Role.admin)
# Checks that need the database (references exist, a phone is free): raise FieldError to refuse.
Check = Callable[[asyncpg.Connection, Any], Awaitable[None]]


def runtime_of(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


def etag(version: int) -> str:
    return f'"{version}"'


def expected_version(if_match: str | None) -> int:
    """The version an If-Match names; a write without one is refused (428) rather than risk a lost update."""
    if if_match is None:
        raise HTTPException(status.HTTP_428_PRECONDITION_REQUIRED,
                            detail="send If-Match with the ETag of the version you read")
    try:
        return int(if_match.strip().removeprefix("W/").strip('"'))
    except ValueError:
        raise HTTPException(status.HTTP_412_PRECONDITION_FAILED, detail="If-Match is not an ETag of this API") from None


def encode_cursor(last: uuid.UUID) -> str:
    return base64.urlsafe_b64encode(last.bytes).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> uuid.UUID | None:
    if cursor is None:
        return None
    try:
        return uuid.UUID(bytes=base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, binascii.Error):
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_ENTITY,
                            detail=[{"loc": ["query", "cursor"], "msg": "not a cursor from this API",
                                     "type": "value_error"}]) from None


def body(stored: Stored[Any]) -> dict[str, Any]:
    return {**stored.record.model_dump(mode="json"), "version": stored.version}


def crud_router(kind: Kind[Any], input_model: type[BaseModel], filters_model: type[BaseModel], *,
                summary_th: str, check: Check | None = None) -> APIRouter:
    """GET list / POST / GET one / PUT / DELETE for one kind, documented in OpenAPI with its own models."""
    model: type[Event] = kind.model
    out_model = create_model(f"{model.__name__}Out", __base__=model, version=(int, ...))
    page_model = create_model(f"{model.__name__}Page", __config__=ConfigDict(), items=(list[out_model], ...),
                              next_cursor=(str | None, None))
    router = APIRouter(prefix=f"/v1/{kind.plural}", tags=[kind.plural])
    label = kind.name
    a_label = f"an {label}" if label[0] in "aeiou" else f"a {label}"

    async def build(conn: asyncpg.Connection, data: BaseModel, entity_id: uuid.UUID) -> Event:
        record: Event = data.record(entity_id)  # type: ignore[attr-defined]
        if check is not None:
            await check(conn, record)
        return record

    def reason_of(data: BaseModel) -> str:
        return str(getattr(data, "status_reason", ""))

    @router.get("", response_model=page_model, dependencies=[AnyStaff],
                summary=f"List {kind.plural} ({summary_th}), filtered, one page at a time")
    async def list_(request: Request, filters: Annotated[filters_model, Query()],  # type: ignore[valid-type]
                    ) -> dict[str, Any]:
        query = filters.model_dump(exclude_none=True)  # type: ignore[attr-defined]
        limit, after = query.pop("limit"), decode_cursor(query.pop("cursor", None))
        wanted = query
        async with runtime_of(request).db.acquire() as conn:
            rows = await repository.page(conn, kind, wanted, after=after, limit=limit)
        last = kind.id_of(rows[-1].record) if len(rows) == limit else None
        return {"items": [body(s) for s in rows], "next_cursor": encode_cursor(last) if last else None}

    @router.post("", status_code=status.HTTP_201_CREATED, response_model=out_model, dependencies=[Admin],
                 summary=f"Create {a_label} (admins)")
    async def create(request: Request, response: Response, data: input_model,  # type: ignore[valid-type]
                     principal: CurrentPrincipal) -> dict[str, Any]:
        entity_id = uuid.uuid4()
        async with runtime_of(request).transaction() as conn:
            record = await build(conn, data, entity_id)
            version = await repository.create(conn, kind, record, actor=principal.subject, reason=reason_of(data))
        response.headers["ETag"] = etag(version)
        response.headers["Location"] = f"/v1/{kind.plural}/{entity_id}"
        return body(Stored(record, version))

    @router.get("/{entity_id}", response_model=out_model, dependencies=[AnyStaff], summary=f"One {label}")
    async def read(request: Request, response: Response, entity_id: uuid.UUID) -> dict[str, Any]:
        async with runtime_of(request).db.acquire() as conn:
            stored = await repository.get(conn, kind, entity_id)
        if stored is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no {label} {entity_id}")
        response.headers["ETag"] = etag(stored.version)
        return body(stored)

    @router.put("/{entity_id}", response_model=out_model, dependencies=[Admin],
                summary=f"Replace {a_label} (admins; If-Match the ETag you read, 412 if it changed since)")
    async def replace(request: Request, response: Response, entity_id: uuid.UUID,
                      data: input_model,  # type: ignore[valid-type]
                      principal: CurrentPrincipal, if_match: Annotated[str | None, Header()] = None) -> dict[str, Any]:
        expected = expected_version(if_match)
        async with runtime_of(request).transaction() as conn:
            record = await build(conn, data, entity_id)
            version = await repository.replace(conn, kind, record, expected_version=expected,
                                               actor=principal.subject, reason=reason_of(data))
        response.headers["ETag"] = etag(version)
        return body(Stored(record, version))

    @router.delete("/{entity_id}", status_code=status.HTTP_204_NO_CONTENT, dependencies=[Admin],
                   summary=f"Delete {a_label} (admins; If-Match; published as a tombstone)")
    async def delete(request: Request, entity_id: uuid.UUID, principal: CurrentPrincipal,
                     if_match: Annotated[str | None, Header()] = None) -> Response:
        expected = expected_version(if_match)
        async with runtime_of(request).transaction() as conn:
            if kind.name in ("center", "agency"):
                users = await repository.ids_referencing(conn, entity_id)
                if any(users.values()):
                    raise HTTPException(status.HTTP_409_CONFLICT, detail={
                        "msg": f"this {label} is still referenced; close it instead, or remove these first",
                        **{k: [str(i) for i in v] for k, v in users.items()}})
            await repository.delete(conn, kind, entity_id, expected_version=expected, actor=principal.subject)
        return Response(status_code=status.HTTP_204_NO_CONTENT)

    return router

