"""The registry's SQL; nothing else touches its tables.

Every entity kind is stored the same way: its published record as `doc`, the columns lists filter on, and a
`version` (the ETag). One write = the row, its audit entry and its compacted-topic record, in one transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import asyncpg

from hotline_common import outbox, topics
from hotline_common.events import AgencyRecord, CenterRecord, Event, ResponderRecord
from hotline_common.events.rota import RotaRecord
from hotline_common.topics import TopicSpec

SOURCE = "/hotline/registry"
R = TypeVar("R", bound=Event)


@dataclass(frozen=True)
class Kind(Generic[R]):
    """One kind of directory entity: its table, record model, topic and list filters."""

    name: str
    plural: str
    id_field: str
    model: type[R]
    topic: TopicSpec
    columns: Callable[[R], dict[str, Any]]
    # query parameter -> SQL condition on `{}` (the parameter's placeholder)
    filters: dict[str, str] = field(default_factory=dict)

    @property
    def table(self) -> str:
        return self.plural

    def id_of(self, record: R) -> uuid.UUID:
        value: uuid.UUID = getattr(record, self.id_field)
        return value


CENTERS: Kind[CenterRecord] = Kind(
    "center", "centers", "center_id", CenterRecord, topics.REGISTRY_CENTER,
    lambda c: {"name_th": c.name_th, "tambon_code": c.tambon_code, "amphoe_code": c.amphoe_code,
               "province_code": c.province_code, "host_type": c.host_type, "status": c.status},
    {"province_code": "province_code = {}", "amphoe_code": "amphoe_code = {}", "tambon_code": "tambon_code = {}",
     "status": "status = {}", "host_type": "host_type = {}", "q": "name_th ILIKE '%' || {} || '%'"},
)
AGENCIES: Kind[AgencyRecord] = Kind(
    "agency", "agencies", "agency_id", AgencyRecord, topics.REGISTRY_AGENCY,
    lambda a: {"name_th": a.name_th, "agency_type": a.agency_type.value, "province_code": a.province_code,
               "status": a.status},
    {"province_code": "province_code = {}", "agency_type": "agency_type = {}", "status": "status = {}",
     "q": "name_th ILIKE '%' || {} || '%'"},
)
RESPONDERS: Kind[ResponderRecord] = Kind(
    "responder", "responders", "responder_id", ResponderRecord, topics.REGISTRY_RESPONDER,
    lambda r: {"display_name": r.display_name, "kind": r.kind, "active": r.active, "center_ids": r.center_ids,
               "agency_ids": r.agency_ids},
    {"center_id": "{}::uuid = ANY(center_ids)", "agency_id": "{}::uuid = ANY(agency_ids)", "kind": "kind = {}",
     "active": "active = {}::boolean", "q": "display_name ILIKE '%' || {} || '%'"},
)
ROTAS: Kind[RotaRecord] = Kind(
    "rota", "rotas", "rota_id", RotaRecord, topics.REGISTRY_ROTA,
    lambda r: {"name": r.name, "unit_kind": r.unit_kind, "unit_id": r.unit_id},
    {"unit_id": "unit_id = {}::uuid", "unit_kind": "unit_kind = {}"},
)
KINDS: dict[str, Kind[Any]] = {k.plural: k for k in (CENTERS, AGENCIES, RESPONDERS, ROTAS)}


class NotFoundError(LookupError):
    pass


class StaleVersionError(Exception):
    def __init__(self, current: int) -> None:
        super().__init__(f"the record changed since you read it (now version {current})")
        self.current = current


class AlreadyExistsError(Exception):
    pass


class DuplicatePhoneError(ValueError):
    def __init__(self, phone: str, owner: uuid.UUID) -> None:
        super().__init__(f"phone {phone} already belongs to responder {owner}")
        self.phone, self.owner = phone, owner


@dataclass(frozen=True)
class Stored(Generic[R]):
    record: R
    version: int


def _stored(kind: Kind[R], row: asyncpg.Record) -> Stored[R]:
    return Stored(kind.model.model_validate(row["doc"]), row["version"])


def _doc(record: Event) -> dict[str, Any]:
    return record.model_dump(mode="json")


async def get(conn: asyncpg.Connection, kind: Kind[R], entity_id: uuid.UUID, *, lock: bool = False
              ) -> Stored[R] | None:
    suffix = " FOR UPDATE" if lock else ""
    row = await conn.fetchrow(f"SELECT doc, version FROM {kind.table} WHERE {kind.id_field} = $1{suffix}",  # noqa: S608
                              entity_id)
    return _stored(kind, row) if row else None


async def get_many(conn: asyncpg.Connection, kind: Kind[R], ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Stored[R]]:
    rows = await conn.fetch(f"SELECT doc, version FROM {kind.table} WHERE {kind.id_field} = ANY($1)",  # noqa: S608
                            list(ids))
    found = [_stored(kind, r) for r in rows]
    return {kind.id_of(s.record): s for s in found}


async def page(conn: asyncpg.Connection, kind: Kind[R], filters: dict[str, Any], *, after: uuid.UUID | None,
               limit: int) -> list[Stored[R]]:
    """One page in id order (keyset: stable under concurrent writes, unlike OFFSET)."""
    conditions, args = [], []
    for name, value in filters.items():
        args.append(value)
        conditions.append(kind.filters[name].format(f"${len(args)}"))
    if after is not None:
        args.append(after)
        conditions.append(f"{kind.id_field} > ${len(args)}")
    where = f"WHERE {' AND '.join(conditions)}" if conditions else ""
    args.append(limit)
    rows = await conn.fetch(
        f"SELECT doc, version FROM {kind.table} {where} ORDER BY {kind.id_field} LIMIT ${len(args)}",  # noqa: S608
        *args,
    )
    return [_stored(kind, r) for r in rows]


async def ids_referencing(conn: asyncpg.Connection, unit_id: uuid.UUID) -> dict[str, list[uuid.UUID]]:
    """Responders and rotas that name a center or agency (which must not vanish under them)."""
    responders = await conn.fetch("SELECT responder_id FROM responders WHERE $1 = ANY(center_ids) "
                                  "OR $1 = ANY(agency_ids) LIMIT 20", unit_id)
    rotas = await conn.fetch("SELECT rota_id FROM rotas WHERE unit_id = $1 LIMIT 20", unit_id)
    return {"responders": [r[0] for r in responders], "rotas": [r[0] for r in rotas]}


async def existing_ids(conn: asyncpg.Connection, kind: Kind[Any], ids: Sequence[uuid.UUID]) -> set[uuid.UUID]:
    rows = await conn.fetch(f"SELECT {kind.id_field} FROM {kind.table} WHERE {kind.id_field} = ANY($1)",  # noqa: S608
                            list(ids))
    return {r[0] for r in rows}


async def phone_owners(conn: asyncpg.Connection, phones: Sequence[str]) -> dict[str, uuid.UUID]:
    rows = await conn.fetch("SELECT phone, responder_id FROM responder_phones WHERE phone = ANY($1)", list(phones))
    return {r["phone"]: r["responder_id"] for r in rows}


async def _claim_phones(conn: asyncpg.Connection, responders: Sequence[ResponderRecord]) -> None:
    ids = [r.responder_id for r in responders]
    await conn.execute("DELETE FROM responder_phones WHERE responder_id = ANY($1)", ids)
    wanted = [(p, r.responder_id) for r in responders for p in r.phones()]
    if not wanted:
        return
    owners = await phone_owners(conn, [p for p, _ in wanted])
    claimed: dict[str, uuid.UUID] = {}
    for phone, rid in wanted:
        owner = owners.get(phone) or claimed.get(phone)
        if owner is not None and owner != rid:
            raise DuplicatePhoneError(phone, owner)
        claimed[phone] = rid
    await conn.executemany("INSERT INTO responder_phones (phone, responder_id) VALUES ($1, $2)",
                           list(claimed.items()))


@dataclass(frozen=True)
class Previous:
    """A row as it was before a write: what the audit log and the status history compare against."""

    version: int
    doc: dict[str, Any]


async def _previous(conn: asyncpg.Connection, kind: Kind[Any], ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Previous]:
    rows = await conn.fetch(f"SELECT {kind.id_field}, version, doc FROM {kind.table} "  # noqa: S608
                            f"WHERE {kind.id_field} = ANY($1)", list(ids))
    return {r[0]: Previous(r["version"], r["doc"]) for r in rows}


async def _write_side_effects(conn: asyncpg.Connection, kind: Kind[R], records: Sequence[R],
                              docs: list[dict[str, Any]], before: dict[uuid.UUID, Previous], *, actor: str,
                              action: str, reason: str) -> None:
    """What every write also does: phones, center status history, audit log, the compacted-topic record."""
    ids = [kind.id_of(r) for r in records]
    if kind is RESPONDERS:
        await _claim_phones(conn, records)  # type: ignore[arg-type]
    if kind is CENTERS:
        changed = [(entity_id, doc["status"]) for entity_id, doc in zip(ids, docs, strict=True)
                   if entity_id not in before or before[entity_id].doc["status"] != doc["status"]]
        await conn.executemany("INSERT INTO center_status_history (center_id, status, reason, changed_by) "
                               "VALUES ($1, $2, $3, $4)", [(cid, st, reason, actor) for cid, st in changed])
    await conn.executemany(
        "INSERT INTO audit_log (actor, action, entity_kind, entity_id, before, after) VALUES ($1,$2,$3,$4,$5,$6)",
        [(actor, action, kind.name, entity_id, before[entity_id].doc if entity_id in before else None, doc)
         for entity_id, doc in zip(ids, docs, strict=True)],
    )
    await outbox.enqueue_many(conn, kind.topic, list(records), source=SOURCE)


async def create(conn: asyncpg.Connection, kind: Kind[R], record: R, *, actor: str, reason: str = "") -> int:
    if await get(conn, kind, kind.id_of(record)) is not None:
        raise AlreadyExistsError(f"{kind.name} {kind.id_of(record)} already exists")
    await upsert_many(conn, kind, [record], actor=actor, action="create", reason=reason)
    return 1


async def replace(conn: asyncpg.Connection, kind: Kind[R], record: R, *, expected_version: int, actor: str,
                  reason: str = "") -> int:
    """Write over version `expected_version`; a stale version is refused (the caller's If-Match)."""
    current = await get(conn, kind, kind.id_of(record), lock=True)
    if current is None:
        raise NotFoundError(f"no {kind.name} {kind.id_of(record)}")
    if current.version != expected_version:
        raise StaleVersionError(current.version)
    versions = await upsert_many(conn, kind, [record], actor=actor, action="update", reason=reason)
    return versions[0]


async def upsert_many(conn: asyncpg.Connection, kind: Kind[R], records: Sequence[R], *, actor: str,
                      action: str, reason: str = "") -> list[int]:
    """Insert or overwrite records (seeding, imports, and the single writes above); returns the new versions."""
    if not records:
        return []
    before = await _previous(conn, kind, [kind.id_of(r) for r in records])
    docs = [_doc(r) for r in records]  # once: the row, the audit entry
    rows = [{kind.id_field: kind.id_of(r), "doc": doc, **kind.columns(r), "updated_by": actor}
            for r, doc in zip(records, docs, strict=True)]
    cols = list(rows[0])
    updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in cols[1:])
    await conn.executemany(
        f"INSERT INTO {kind.table} ({', '.join(cols)}) VALUES ({', '.join(f'${i + 1}' for i in range(len(cols)))}) "  # noqa: S608
        f"ON CONFLICT ({kind.id_field}) DO UPDATE SET {updates}, version = {kind.table}.version + 1, "
        "updated_at = now()",
        [tuple(row.values()) for row in rows],
    )
    await _write_side_effects(conn, kind, records, docs, before, actor=actor, action=action, reason=reason)
    return [before[kind.id_of(r)].version + 1 if kind.id_of(r) in before else 1 for r in records]


async def delete(conn: asyncpg.Connection, kind: Kind[Any], entity_id: uuid.UUID, *, expected_version: int,
                 actor: str) -> None:
    current = await get(conn, kind, entity_id, lock=True)
    if current is None:
        raise NotFoundError(f"no {kind.name} {entity_id}")
    if current.version != expected_version:
        raise StaleVersionError(current.version)
    await conn.execute(f"DELETE FROM {kind.table} WHERE {kind.id_field} = $1", entity_id)  # noqa: S608
    await conn.execute(
        "INSERT INTO audit_log (actor, action, entity_kind, entity_id, before, after) "
        "VALUES ($1, 'delete', $2, $3, $4, NULL)",
        actor, kind.name, entity_id, _doc(current.record))
    await outbox.enqueue_tombstone(conn, kind.topic, str(entity_id), source=SOURCE)


async def status_history(conn: asyncpg.Connection, center_id: uuid.UUID) -> list[asyncpg.Record]:
    return list(await conn.fetch("SELECT status, reason, changed_by, changed_at FROM center_status_history "
                                 "WHERE center_id = $1 ORDER BY id", center_id))


async def audit_page(conn: asyncpg.Connection, *, entity_id: uuid.UUID | None, after: int | None, limit: int
                     ) -> list[asyncpg.Record]:
    return list(await conn.fetch(
        "SELECT id, at, actor, action, entity_kind, entity_id, before, after FROM audit_log "
        "WHERE ($1::uuid IS NULL OR entity_id = $1) AND ($2::bigint IS NULL OR id < $2) ORDER BY id DESC LIMIT $3",
        entity_id, after, limit))


async def rotas_of(conn: asyncpg.Connection, unit_ids: Sequence[uuid.UUID] | None = None) -> list[RotaRecord]:
    if unit_ids is None:
        rows = await conn.fetch("SELECT doc FROM rotas")
    else:
        rows = await conn.fetch("SELECT doc FROM rotas WHERE unit_id = ANY($1)", list(unit_ids))
    return [RotaRecord.model_validate(r["doc"]) for r in rows]


async def responders_by_id(conn: asyncpg.Connection, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, ResponderRecord]:
    return {rid: s.record for rid, s in (await get_many(conn, RESPONDERS, ids)).items()}


@dataclass(frozen=True)
class Unit:
    kind: str
    unit_id: uuid.UUID
    name_th: str
    province_code: str


async def units(conn: asyncpg.Connection, *, province_code: str | None = None) -> list[Unit]:
    """Every active center and agency (what should have someone on call), optionally of one province."""
    rows = await conn.fetch(
        "SELECT 'center' AS kind, center_id AS id, name_th, province_code FROM centers "
        "WHERE status = 'active' AND ($1::text IS NULL OR province_code = $1) "
        "UNION ALL SELECT 'agency', agency_id, name_th, province_code FROM agencies "
        "WHERE status = 'active' AND ($1::text IS NULL OR province_code = $1)", province_code)
    return [Unit(r["kind"], r["id"], r["name_th"], r["province_code"]) for r in rows]


async def count(conn: asyncpg.Connection, kind: Kind[Any]) -> int:
    return int(await conn.fetchval(f"SELECT count(*) FROM {kind.table}"))  # noqa: S608


async def upsert_account(conn: asyncpg.Connection, *, username: str, password_hash: str, role: str,
                         center_id: uuid.UUID | None = None, agency_id: uuid.UUID | None = None,
                         responder_id: uuid.UUID | None = None) -> None:
    await conn.execute(
        "INSERT INTO accounts (username, password_hash, role, center_id, agency_id, responder_id) "
        "VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (username) DO UPDATE SET password_hash = $2, role = $3, "
        "center_id = $4, agency_id = $5, responder_id = $6",
        username, password_hash, role, center_id, agency_id, responder_id,
    )


async def get_account(conn: asyncpg.Connection, username: str) -> asyncpg.Record | None:
    return await conn.fetchrow("SELECT username, password_hash, role, center_id, agency_id, responder_id "
                               "FROM accounts WHERE username = $1", username)
