"""Registry HTTP API: sign-in, the directory's CRUD, on-call look-ups, coverage gaps, free places, audit."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

import asyncpg
from fastapi import APIRouter, Depends, HTTPException, Query, Request, status
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import BaseModel, ConfigDict, Field

from hotline_common import oncall
from hotline_common.auth import CurrentPrincipal, Role, issue_token, require_role
from hotline_common.events import AgencyType, ResponderRecord
from hotline_common.events.registry import RESIDENTIAL_AGENCIES, CenterStatus, HostType
from hotline_common.events.rota import RotaRecord
from hotline_common.thai_time import BANGKOK
from hotline_registry import repository
from hotline_registry.accounts import check_password
from hotline_registry.crud import AnyStaff, crud_router, runtime_of
from hotline_registry.directory import AgencyIn, CenterIn, FieldError, ResponderIn, RotaIn, people_of
from hotline_registry.repository import AGENCIES, CENTERS, RESPONDERS, ROTAS

router = APIRouter(prefix="/v1")


class Token(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int
    role: Role


@router.post("/auth/token", response_model=Token, tags=["auth"], summary="Sign in (OAuth2 password form)")
async def token(request: Request, form: Annotated[OAuth2PasswordRequestForm, Depends()]) -> Token:
    runtime = runtime_of(request)
    async with runtime.db.acquire() as conn:
        account = await repository.get_account(conn, form.username)
    if account is None or not check_password(form.password, account["password_hash"]):
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, detail="wrong username or password",
                            headers={"WWW-Authenticate": "Bearer"})
    settings = runtime.settings
    role = Role(account["role"])
    access = issue_token(settings.jwt_secret.get_secret_value(), subject=account["username"], role=role,
                         ttl_seconds=settings.jwt_ttl_seconds,
                         center_id=str(account["center_id"]) if account["center_id"] else None,
                         agency_id=str(account["agency_id"]) if account["agency_id"] else None,
                         responder_id=str(account["responder_id"]) if account["responder_id"] else None)
    return Token(access_token=access, expires_in=settings.jwt_ttl_seconds, role=role)


# ---- the directory's CRUD ------------------------------------------------------------------------------------
class Filters(BaseModel):
    """A list's query: its filters, and the page (`limit`, `cursor`) that every list shares."""

    model_config = ConfigDict(extra="forbid")

    limit: int = Field(default=50, ge=1, le=500)
    cursor: str | None = Field(default=None, description="`next_cursor` of the previous page")


class CenterFilters(Filters):
    province_code: str | None = Field(default=None, pattern=r"^\d{2}$")
    amphoe_code: str | None = Field(default=None, pattern=r"^\d{4}$")
    tambon_code: str | None = Field(default=None, pattern=r"^\d{6}$")
    status: CenterStatus | None = None
    host_type: HostType | None = None
    q: str | None = Field(default=None, min_length=1, max_length=100, description="part of the Thai name")


class AgencyFilters(Filters):
    province_code: str | None = Field(default=None, pattern=r"^\d{2}$")
    agency_type: AgencyType | None = None
    status: Literal["active", "closed"] | None = None
    q: str | None = Field(default=None, min_length=1, max_length=100)


class ResponderFilters(Filters):
    center_id: uuid.UUID | None = None
    agency_id: uuid.UUID | None = None
    kind: Literal["volunteer", "social_worker", "duty_officer"] | None = None
    active: bool | None = None
    q: str | None = Field(default=None, min_length=1, max_length=100)


class RotaFilters(Filters):
    unit_id: uuid.UUID | None = None
    unit_kind: Literal["center", "agency"] | None = None


async def _must_exist(conn: asyncpg.Connection, kind: repository.Kind[Any], ids: list[uuid.UUID],
                      loc: tuple[str | int, ...]) -> None:
    found = await repository.existing_ids(conn, kind, ids)
    for i, entity_id in enumerate(ids):
        if entity_id not in found:
            raise FieldError((*loc, i), f"no {kind.name} {entity_id}")


async def check_responder(conn: asyncpg.Connection, responder: ResponderRecord) -> None:
    await _must_exist(conn, CENTERS, responder.center_ids, ("center_ids",))
    await _must_exist(conn, AGENCIES, responder.agency_ids, ("agency_ids",))


async def check_rota(conn: asyncpg.Connection, rota: RotaRecord) -> None:
    unit = CENTERS if rota.unit_kind == "center" else AGENCIES
    if not await repository.existing_ids(conn, unit, [rota.unit_id]):
        raise FieldError(("unit_id",), f"no {rota.unit_kind} {rota.unit_id}")
    for i, shift in enumerate(rota.shifts):
        await _must_exist(conn, RESPONDERS, list(shift.responder_ids), ("shifts", i, "responder_ids"))
    for i, override in enumerate(rota.overrides):
        named = [r for r in (override.responder_id, override.replaces) if r is not None]
        await _must_exist(conn, RESPONDERS, named, ("overrides", i))
    for i, level in enumerate(rota.escalation):
        for j, target in enumerate(level.targets):
            target_kinds: dict[str, repository.Kind[Any]] = {"responder": RESPONDERS, "center": CENTERS,
                                                             "agency": AGENCIES}
            target_kind = target_kinds.get(target.kind)
            if target_kind is not None and target.id is not None:
                await _must_exist(conn, target_kind, [target.id], ("escalation", i, "targets", j))


directory_routers = [
    crud_router(CENTERS, CenterIn, CenterFilters, summary_th="ศูนย์ช่วยเหลือสังคมตำบล"),
    crud_router(AGENCIES, AgencyIn, AgencyFilters, summary_th="หน่วยงาน พม."),
    crud_router(RESPONDERS, ResponderIn, ResponderFilters, summary_th="ผู้ปฏิบัติงาน", check=check_responder),
    crud_router(ROTAS, RotaIn, RotaFilters, summary_th="ตารางเวร", check=check_rota),
]


@router.get("/centers/{center_id}/history", tags=["centers"], dependencies=[AnyStaff],
            summary="A center's status history (active / suspended / closed), oldest first")
async def center_history(request: Request, center_id: uuid.UUID) -> list[dict[str, Any]]:
    async with runtime_of(request).db.acquire() as conn:
        if await repository.get(conn, CENTERS, center_id) is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no center {center_id}")
        return [dict(r) for r in await repository.status_history(conn, center_id)]


# ---- free places ---------------------------------------------------------------------------------------------
class FreePlaces(BaseModel):
    model_config = ConfigDict(extra="forbid")

    free_places: int = Field(ge=0, le=10_000)
    capacity: int | None = Field(default=None, ge=0, le=10_000, description="send when it changed")


@router.post("/agencies/{agency_id}/free-places", tags=["agencies"],
             summary="A shelter reports its free places (ที่ว่าง); published with the agency for routing")
async def report_free_places(request: Request, agency_id: uuid.UUID, report: FreePlaces,
                             principal: CurrentPrincipal) -> dict[str, Any]:
    own_agency = principal.role is Role.agency_staff and principal.agency_id == str(agency_id)
    if principal.role is not Role.admin and not own_agency:
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail="only admins and this agency's staff report its places")
    async with runtime_of(request).transaction() as conn:
        stored = await repository.get(conn, AGENCIES, agency_id, lock=True)
        if stored is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no agency {agency_id}")
        if stored.record.agency_type not in RESIDENTIAL_AGENCIES:
            raise HTTPException(status.HTTP_409_CONFLICT, detail="this agency takes no residents")
        capacity = report.capacity if report.capacity is not None else stored.record.capacity
        if capacity is not None and report.free_places > capacity:
            raise FieldError(("free_places",), f"more free places than the capacity ({capacity})")
        # A count, not an edit: the latest report wins, so no If-Match (a shelter must never be refused a report).
        record = stored.record.model_copy(update={"free_places": report.free_places, "capacity": capacity,
                                                  "free_places_at": datetime.now(UTC)})
        (version,) = await repository.upsert_many(conn, AGENCIES, [record], actor=principal.subject,
                                                  action="free_places")
    return {**record.model_dump(mode="json"), "version": version}


# ---- on call -------------------------------------------------------------------------------------------------
async def _rotas_and_people(conn: asyncpg.Connection, unit_ids: list[uuid.UUID]
                            ) -> tuple[list[RotaRecord], dict[uuid.UUID, ResponderRecord]]:
    """The units' rotas and the responders they name who can be reached (active, with a channel)."""
    rotas = await repository.rotas_of(conn, unit_ids)
    named = await repository.responders_by_id(conn, [rid for r in rotas for rid in people_of(r)])
    return rotas, {rid: person for rid, person in named.items() if person.active and person.channels}


def _instant(at: datetime | None) -> datetime:
    """Now, or the instant asked for; a time without an offset is Bangkok time (what operators mean)."""
    if at is None:
        return datetime.now(UTC)
    return at if at.tzinfo is not None else at.replace(tzinfo=BANGKOK)


@router.get("/oncall", tags=["on-call"], dependencies=[AnyStaff],
            summary="Who is on call (ผู้รับเวร) for a center or an agency at an instant, and its escalation policy")
async def who_is_on_call(request: Request, center_id: uuid.UUID | None = None, agency_id: uuid.UUID | None = None,
                         at: Annotated[datetime | None, Query(description="ISO 8601; default now; "
                                                              "no offset = Asia/Bangkok")] = None) -> dict[str, Any]:
    if (center_id is None) == (agency_id is None):
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_ENTITY, detail=[
            {"loc": ["query", "center_id"], "msg": "give exactly one of center_id and agency_id",
             "type": "value_error"}])
    unit_id = center_id or agency_id
    assert unit_id is not None
    instant = _instant(at)
    async with runtime_of(request).db.acquire() as conn:
        unit_kind: repository.Kind[Any] = CENTERS if center_id else AGENCIES
        if await repository.get(conn, unit_kind, unit_id) is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no {unit_kind.name} {unit_id}")
        rotas, people = await _rotas_and_people(conn, [unit_id])
    entries = oncall.on_call_many(rotas, instant, is_available=people.__contains__)
    return {
        "unit_kind": unit_kind.name, "unit_id": str(unit_id), "at": instant.isoformat(),
        "on_call": [{**people[e.responder_id].model_dump(mode="json", include={"responder_id", "display_name",
                                                                                "kind", "channels", "languages"}),
                     "shift": e.shift, "since": e.since.isoformat(), "until": e.until.isoformat()}
                    for e in entries],
        "escalation": [level.model_dump(mode="json") for r in rotas for level in r.escalation],
    }


@router.get("/coverage/gaps", tags=["on-call"], dependencies=[AnyStaff],
            summary="Active centers and agencies with nobody on call at some moment in the next N days")
async def coverage_gaps(request: Request, days: Annotated[int, Query(ge=1, le=31)] = 7,
                        province_code: Annotated[str | None, Query(pattern=r"^\d{2}$")] = None,
                        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
                        cursor: Annotated[str | None, Query(description="the last unit id of the previous page")]
                        = None) -> dict[str, Any]:
    start = datetime.now(UTC).replace(second=0, microsecond=0)
    end = start + timedelta(days=days)
    async with runtime_of(request).db.acquire() as conn:
        units = await repository.units(conn, province_code=province_code)
        rotas, people = await _rotas_and_people(conn, [u.unit_id for u in units])

    by_unit: dict[uuid.UUID, list[RotaRecord]] = {}
    for rota in rotas:
        by_unit.setdefault(rota.unit_id, []).append(rota)
    after = uuid.UUID(cursor) if cursor else None
    found: list[dict[str, Any]] = []
    for unit in sorted(units, key=lambda u: u.unit_id):
        if after is not None and unit.unit_id <= after:
            continue
        gaps = oncall.coverage_gaps_many(by_unit.get(unit.unit_id, []), start, end, is_available=people.__contains__)
        if gaps:
            found.append({"unit_kind": unit.kind, "unit_id": str(unit.unit_id), "name_th": unit.name_th,
                          "province_code": unit.province_code,
                          "gaps": [{"start": s.isoformat(), "end": e.isoformat()} for s, e in gaps]})
            if len(found) == limit:
                break
    next_cursor = found[-1]["unit_id"] if len(found) == limit else None
    return {"from": start.isoformat(), "to": end.isoformat(), "units": found, "next_cursor": next_cursor}


# ---- audit ---------------------------------------------------------------------------------------------------
@router.get("/audit", tags=["audit"], dependencies=[require_role(Role.admin, Role.ops, Role.supervisor)],
            summary="Who changed what in the directory, newest first")
async def audit(request: Request, entity_id: uuid.UUID | None = None,
                limit: Annotated[int, Query(ge=1, le=500)] = 50,
                cursor: Annotated[int | None, Query(description="the last entry id of the previous page")] = None
                ) -> dict[str, Any]:
    async with runtime_of(request).db.acquire() as conn:
        rows = await repository.audit_page(conn, entity_id=entity_id, after=cursor, limit=limit)
    items = [{**dict(r), "entity_id": str(r["entity_id"]), "at": r["at"].isoformat()} for r in rows]
    return {"items": items, "next_cursor": rows[-1]["id"] if len(rows) == limit else None}

