"""Intake HTTP API: take a case report, show a case with its timeline."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, HTTPException, Request, status

from hotline_common import outbox, topics
from hotline_common.auth import CurrentPrincipal, Role, require_role
from hotline_common.crypto import PiiVault
from hotline_common.events import CaseReported, Location
from hotline_common.events.base import utcnow
from hotline_common.runtime import Runtime
from hotline_intake import repository
from hotline_intake.cases import (
    Caller,
    CaseAccepted,
    CaseIn,
    CaseView,
    TimelineEntry,
    case_number,
    year_be,
)

router = APIRouter(prefix="/v1", tags=["cases"])
Reporter = require_role(Role.operator, Role.supervisor, Role.center_staff)
Reader = require_role(Role.operator, Role.supervisor, Role.admin)


def _runtime(request: Request) -> tuple[Runtime, PiiVault]:
    return request.app.state.runtime, request.app.state.vault


@router.post("/cases", status_code=status.HTTP_201_CREATED, response_model=CaseAccepted, dependencies=[Reporter],
             summary="Report a case (รับแจ้งเหตุ)")
async def report_case(request: Request, body: CaseIn, principal: CurrentPrincipal) -> CaseAccepted:
    runtime, vault = _runtime(request)
    now = utcnow()
    case_id = uuid.uuid4()
    caller = body.caller or Caller()
    location = Location(**body.location.model_dump())
    # The case, its first timeline entry and its event commit together or not at all (the outbox).
    async with runtime.db.acquire() as conn:
        number = case_number(year_be(now), await repository.next_case_seq(conn, year_be(now)))
    async with runtime.transaction() as conn:
        event = CaseReported(
            case_id=case_id, case_number=number, channel=body.channel, category=body.category,
            target_group=body.target_group, urgency=body.urgency, description=body.description,
            location=location, has_callback=bool(caller.phone), needs_place=body.needs_place, occurred_at=now,
        )
        await repository.insert_case(
            conn, case_id=case_id, case_number=number, channel=body.channel.value, category=body.category.value,
            target_group=body.target_group.value, urgency=body.urgency.value if body.urgency else None,
            tambon_code=location.tambon_code, lat=location.lat, lon=location.lon,
            description_enc=vault.seal(body.description), caller_name_enc=vault.seal(caller.name),
            caller_phone_enc=vault.seal(caller.phone), address_enc=vault.seal(location.text),
            needs_place=body.needs_place,
            caller_phone_key=vault.lookup_hash(caller.phone) if caller.phone else None,
            status="reported", reported_by=principal.subject, created_at=now, updated_at=now,
        )
        await repository.add_event(conn, event_id=event.event_id, case_id=case_id, type="reported",
                                   occurred_at=now, detail={"channel": body.channel.value,
                                                            "case_number": number})
        await outbox.enqueue(conn, topics.CASE_REPORTED, event, source=runtime.source)
    return CaseAccepted(case_id=case_id, case_number=number, status="reported")


@router.get("/cases/{case_id}", response_model=CaseView, dependencies=[Reader], summary="A case and its timeline")
async def get_case(request: Request, case_id: uuid.UUID) -> CaseView:
    runtime, vault = _runtime(request)
    async with runtime.db.acquire() as conn:
        row = await repository.get_case(conn, case_id)
        if row is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, detail="no such case")
        events = await repository.timeline(conn, case_id)
    name, phone = vault.open(row["caller_name_enc"]), vault.open(row["caller_phone_enc"])
    return CaseView(
        case_id=row["case_id"], case_number=row["case_number"], status=row["status"], channel=row["channel"],
        category=row["category"], target_group=row["target_group"], urgency=row["urgency"],
        description=vault.open(row["description_enc"]) or "", tambon_code=row["tambon_code"],
        lat=row["lat"], lon=row["lon"], caller=Caller(name=name, phone=phone) if name or phone else None,
        created_at=row["created_at"],
        timeline=[TimelineEntry(event_id=e["event_id"], type=e["type"], occurred_at=e["occurred_at"],
                                detail=e["detail"]) for e in events],
    )
