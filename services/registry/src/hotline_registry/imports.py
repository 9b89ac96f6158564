"""Bulk CSV import and export of centers, agencies and responders: how real lists get into the directory.

An import is all or nothing: every row is checked first (a dry run stops there) and any bad row, reported with its
line number and field, means nothing is written. Lists inside a cell are separated by `;`; a responder's channels
are `kind:address` in order of preference, e.g. `line:U4af4…;sms:0812345678`, a webhook's signing secret
reference after `|` (`webhook:https://…|ref`).
"""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Annotated, Any

import asyncpg
from fastapi import APIRouter, HTTPException, Query, Request, status
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, ValidationError

from hotline_common.auth import CurrentPrincipal, Role, require_role
from hotline_common.events import AgencyRecord, CenterRecord, Event, ResponderRecord
from hotline_registry import repository
from hotline_registry.api import check_responder
from hotline_registry.crud import runtime_of
from hotline_registry.directory import AgencyIn, CenterIn, FieldError, ResponderIn
from hotline_registry.repository import AGENCIES, CENTERS, RESPONDERS, Kind

router = APIRouter(prefix="/v1", tags=["import / export"])
PAGE = 1000


def _list(cell: str) -> list[str]:
    return [part.strip() for part in cell.split(";") if part.strip()]


def _blank_to_none(row: dict[str, str], *names: str) -> dict[str, Any]:
    return {k: (None if k in names and not v else v) for k, v in row.items()}


def _channels(cell: str) -> list[dict[str, str]]:
    channels = []
    for part in _list(cell):
        kind, sep, rest = part.partition(":")
        if not sep:
            raise ValueError(f"channel {part!r} is not kind:address")
        address, _, secret_ref = rest.partition("|")
        channel = {"kind": kind.strip(), "address": address.strip()}
        if secret_ref.strip():
            channel["secret_ref"] = secret_ref.strip()
        channels.append(channel)
    return channels


@dataclass(frozen=True)
class CsvFormat:
    """How one kind's records map to CSV rows and back to the input the API takes."""

    kind: Kind[Any]
    input_model: type[BaseModel]
    columns: tuple[str, ...]
    to_input: Callable[[dict[str, str]], dict[str, Any]]
    to_row: Callable[[Any], dict[str, Any]]


def _center_row(c: CenterRecord) -> dict[str, Any]:
    return {**c.model_dump(mode="json", include=set(CENTER_COLUMNS)), "center_id": str(c.center_id)}


def _agency_row(a: AgencyRecord) -> dict[str, Any]:
    row = a.model_dump(mode="json", include=set(AGENCY_COLUMNS))
    for name in ("area_province_codes", "categories", "target_groups"):
        row[name] = ";".join(row[name])
    return row


def _responder_row(r: ResponderRecord) -> dict[str, Any]:
    return {"responder_id": str(r.responder_id), "display_name": r.display_name, "kind": r.kind,
            "channels": ";".join(f"{c.kind}:{c.address}" + (f"|{c.secret_ref}" if c.secret_ref else "")
                                 for c in r.channels), "languages": ";".join(r.languages),
            "center_ids": ";".join(map(str, r.center_ids)), "agency_ids": ";".join(map(str, r.agency_ids)),
            "active": str(r.active).lower()}


CENTER_COLUMNS = ("center_id", "name_th", "name_en", "host_type", "tambon_code", "address", "lat", "lon", "phone",
                  "line_group", "status")
AGENCY_COLUMNS = ("agency_id", "agency_type", "name_th", "name_en", "province_code", "area_province_codes",
                  "address", "lat", "lon", "phone", "categories", "target_groups", "capacity", "free_places",
                  "status")
RESPONDER_COLUMNS = ("responder_id", "display_name", "kind", "channels", "languages", "center_ids", "agency_ids",
                     "active")

FORMATS: dict[str, CsvFormat] = {
    "centers": CsvFormat(
        CENTERS, CenterIn, CENTER_COLUMNS,
        lambda r: {**_blank_to_none(r, "lat", "lon", "phone", "line_group"), "status_reason": "CSV import"},
        _center_row),
    "agencies": CsvFormat(
        AGENCIES, AgencyIn, AGENCY_COLUMNS,
        lambda r: {**_blank_to_none(r, "lat", "lon", "phone", "capacity", "free_places"),
                   **{k: _list(r.get(k, "")) for k in ("area_province_codes", "categories", "target_groups")}},
        _agency_row),
    "responders": CsvFormat(
        RESPONDERS, ResponderIn, RESPONDER_COLUMNS,
        lambda r: {**r, "channels": _channels(r.get("channels", "")), "languages": _list(r.get("languages", "")),
                   "center_ids": _list(r.get("center_ids", "")), "agency_ids": _list(r.get("agency_ids", "")),
                   "active": r.get("active") or "true"},
        _responder_row),
}


@dataclass
class RowError:
    line: int
    field: str
    message: str


class Checked(BaseModel):
    records: list[Any]
    errors: list[dict[str, Any]]
    creates: int
    updates: int


def _field(loc: tuple[Any, ...]) -> str:
    return ".".join(str(p) for p in loc) or "row"


async def _parse_row(conn: asyncpg.Connection, fmt: CsvFormat, row: dict[str | None, Any], line: int,
                     entity_id: uuid.UUID) -> Event | list[RowError]:
    """One row as a record, or what is wrong with it."""
    extra = [k for k in row if k not in fmt.columns]
    if extra:
        return [RowError(line, "row", f"unexpected columns or cells: {extra}")]
    raw = {str(k): (v or "").strip() for k, v in row.items() if k != fmt.kind.id_field}
    try:
        data = fmt.input_model.model_validate(fmt.to_input(raw))
        record: Event = data.record(entity_id)  # type: ignore[attr-defined]
        if isinstance(record, ResponderRecord):
            await check_responder(conn, record)
    except ValidationError as exc:
        return [RowError(line, _field(e["loc"]), e["msg"]) for e in exc.errors()]
    except FieldError as exc:
        return [RowError(line, _field(exc.loc), exc.msg)]
    except ValueError as exc:
        return [RowError(line, "row", str(exc))]
    return record


def _row_id(fmt: CsvFormat, row: dict[str | None, Any]) -> uuid.UUID:
    given = row.get(fmt.kind.id_field)
    return uuid.UUID(given) if given else uuid.uuid4()


async def check_rows(request: Request, fmt: CsvFormat, text: str) -> Checked:
    """Every row parsed, validated and checked against the directory; nothing written."""
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in fmt.columns if c not in (reader.fieldnames or []) and c != fmt.kind.id_field]
    if missing:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_ENTITY, detail=[
            {"loc": ["body", "line 1"], "msg": f"missing columns: {', '.join(missing)}", "type": "value_error"}])
    errors: list[RowError] = []
    records: list[Event] = []
    seen: dict[uuid.UUID, int] = {}
    phones: dict[str, tuple[int, uuid.UUID]] = {}
    async with runtime_of(request).db.acquire() as conn:
        for row in reader:
            line = reader.line_num
            try:
                entity_id = _row_id(fmt, row)
            except ValueError:
                errors.append(RowError(line, fmt.kind.id_field, "not a UUID"))
                continue
            if entity_id in seen:
                errors.append(RowError(line, fmt.kind.id_field, f"the same id as line {seen[entity_id]}"))
                continue
            seen[entity_id] = line
            parsed = await _parse_row(conn, fmt, row, line, entity_id)
            if isinstance(parsed, list):
                errors.extend(parsed)
                continue
            for phone in parsed.phones() if isinstance(parsed, ResponderRecord) else []:
                if phone in phones:
                    errors.append(RowError(line, "channels", f"phone {phone} is also on line {phones[phone][0]}"))
                phones[phone] = (line, entity_id)
            records.append(parsed)
        for phone, owner in (await repository.phone_owners(conn, list(phones))).items():
            line, wanted_by = phones[phone]
            if owner != wanted_by:
                errors.append(RowError(line, "channels", f"phone {phone} already belongs to responder {owner}"))
        existing = await repository.existing_ids(conn, fmt.kind, list(seen))
    if not records and not errors:
        errors.append(RowError(1, "body", "no rows to import"))
    return Checked(records=records, errors=[e.__dict__ for e in sorted(errors, key=lambda e: e.line)],
                   creates=len(seen) - len(existing), updates=len(existing))


@router.post("/import/{kind}", dependencies=[require_role(Role.admin)],
             summary="Import centers, agencies or responders from CSV (UTF-8); all rows or none",
             openapi_extra={"requestBody": {"content": {"text/csv": {"schema": {"type": "string"}}},
                                            "required": True}})
async def import_csv(request: Request, kind: str, principal: CurrentPrincipal,
                     dry_run: Annotated[bool, Query(description="check every row, write nothing")] = False,
                     ) -> JSONResponse:
    fmt = FORMATS.get(kind)
    if fmt is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"import one of: {', '.join(FORMATS)}")
    try:
        text = (await request.body()).decode("utf-8-sig")  # Excel writes a BOM
    except UnicodeDecodeError:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_ENTITY, detail=[
            {"loc": ["body"], "msg": "the file is not UTF-8 (save it as CSV UTF-8)", "type": "value_error"}]) from None
    checked = await check_rows(request, fmt, text)
    summary = {"kind": kind, "dry_run": dry_run, "rows": len(checked.records) + len(checked.errors),
               "creates": checked.creates, "updates": checked.updates, "errors": checked.errors}
    if checked.errors:
        return JSONResponse({**summary, "imported": 0}, status_code=422)
    if dry_run:
        return JSONResponse({**summary, "imported": 0})
    async with runtime_of(request).transaction() as conn:
        await repository.upsert_many(conn, fmt.kind, checked.records, actor=principal.subject, action="import",
                                     reason="CSV import")
    return JSONResponse({**summary, "imported": len(checked.records)})


@router.get("/export/{kind}.csv", dependencies=[require_role(Role.admin, Role.supervisor, Role.ops)],
            summary="Export centers, agencies or responders as CSV (UTF-8 with BOM, opens in Excel)",
            response_class=StreamingResponse)
async def export_csv(request: Request, kind: str) -> StreamingResponse:
    fmt = FORMATS.get(kind)
    if fmt is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"export one of: {', '.join(FORMATS)}")
    pool = runtime_of(request).db

    async def rows() -> AsyncIterator[str]:
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=fmt.columns, extrasaction="ignore")
        out.write("\ufeff")
        writer.writeheader()
        after = None
        while True:
            async with pool.acquire() as conn:
                page = await repository.page(conn, fmt.kind, {}, after=after, limit=PAGE)
            for stored in page:
                writer.writerow({k: ("" if v is None else v) for k, v in fmt.to_row(stored.record).items()})
            yield out.getvalue()
            out.seek(0)
            out.truncate()
            if len(page) < PAGE:
                return
            after = fmt.kind.id_of(page[-1].record)

    return StreamingResponse(rows(), media_type="text/csv; charset=utf-8",
                             headers={"Content-Disposition": f'attachment; filename="{kind}.csv"'})
