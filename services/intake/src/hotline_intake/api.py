"""Intake HTTP API: take a case report, show a case with its timeline and notes, add a note, make it more urgent,
open the caller's details (audited)."""

from __future__ import annotations

import logging
import uuid

import asyncpg
from fastapi import APIRouter, HTTPException, Request, status

from hotline_common.auth import CurrentPrincipal, Principal, Role, require_role
from hotline_common.contact import Caller, ContactView
from hotline_common.crypto import PiiVault
from hotline_common.events import Channel, Safety
from hotline_common.runtime import Runtime
from hotline_intake import repository, service
from hotline_intake.cases import (
    CaseAccepted,
    CaseIn,
    CaseView,
    ContactAccess,
    LinkDecisionIn,
    NoteAdded,
    NoteIn,
    NoteView,
    RelatedCase,
    TimelineEntry,
    UrgencyIn,
    UrgencyOutcome,
    place_th,
    priority_now,
)

router = APIRouter(prefix="/v1", tags=["cases"])
REPORTERS = (Role.operator, Role.supervisor, Role.center_staff)
READERS = (Role.operator, Role.supervisor, Role.admin, Role.center_staff)
Reporter = require_role(*REPORTERS)
Reader = require_role(*READERS)
ContactReader = require_role(Role.operator, Role.supervisor, Role.responder, Role.center_staff)
Auditor = require_role(Role.supervisor, Role.admin)
log = logging.getLogger(__name__)
# Who a note is from, by the role of whoever adds it through the API (LINE follow-ups come from the person).
NOTE_SOURCE = {Role.operator: "operator", Role.supervisor: "supervisor", Role.center_staff: "walk_in"}


def _runtime(request: Request) -> tuple[Runtime, PiiVault]:
    return request.app.state.runtime, request.app.state.vault


@router.post("/cases", status_code=status.HTTP_201_CREATED, response_model=CaseAccepted, dependencies=[Reporter],
             summary="Report a case (รับแจ้งเหตุ); center staff register walk-ins for their center")
async def report_case(request: Request, body: CaseIn, principal: CurrentPrincipal) -> CaseAccepted:
    runtime, vault = _runtime(request)
    await request.app.state.report_throttle.admit(principal.subject)  # held back, not refused, when too fast
    reporter = service.reporter_of(principal)
    body = service.walk_in_defaults(body, reporter, runtime.extras["centers"])
    return await service.report(runtime, vault, body, reporter)


async def _audit(conn: asyncpg.Connection, case_id: uuid.UUID, principal: Principal, purpose: str) -> None:
    """Who opened a caller's details; the log line names the case and the reader, never the details."""
    await repository.record_contact_access(conn, case_id=case_id, subject=principal.subject,
                                           role=principal.role.value, purpose=purpose)
    log.info("caller details of case %s opened by %s (%s, %s)", case_id, principal.subject, principal.role.value,
             purpose)


def _caller(vault: PiiVault, row: asyncpg.Record) -> Caller | None:
    name, phone = vault.open(row["caller_name_enc"]), vault.open(row["caller_phone_enc"])
    return Caller(name=name, phone=phone) if name or phone else None


@router.get("/cases/{case_id}", response_model=CaseView, dependencies=[Reader], summary="A case and its timeline")
async def get_case(request: Request, case_id: uuid.UUID, principal: CurrentPrincipal) -> CaseView:
    runtime, vault = _runtime(request)
    async with runtime.db.acquire() as conn:
        row = await service.case_for(conn, case_id, principal)
        events = await repository.timeline(conn, case_id)
        notes = await repository.notes(conn, case_id)
        related = await service.related_cases(conn, case_id, principal)
        if notes or any(row[c] is not None for c in ("caller_name_enc", "caller_phone_enc", "national_id_enc")):
            await _audit(conn, case_id, principal, "case_view")
    return CaseView(
        case_id=row["case_id"], case_number=row["case_number"], status=row["status"], channel=row["channel"],
        category=row["category"], target_group=row["target_group"], urgency=row["urgency"],
        priority=priority_now(row["urgency"], events),
        description=vault.open(row["description_enc"]) or "", tambon_code=row["tambon_code"],
        place_th=place_th(row["tambon_code"]),
        lat=row["lat"], lon=row["lon"], caller=_caller(vault, row), national_id=vault.open(row["national_id_enc"]),
        safety=Safety(**row["safety"]), needs_place=row["needs_place"], consent_to_share=row["consent_to_share"],
        created_at=row["created_at"],
        timeline=[TimelineEntry(event_id=e["event_id"], type=e["type"], occurred_at=e["occurred_at"],
                                detail=e["detail"]) for e in events],
        notes=[NoteView(note_id=n["note_id"], source=n["source"], author=n["author"],
                        text=vault.open(n["body_enc"]) or "", created_at=n["created_at"]) for n in notes],
        related=related,
    )


@router.post("/cases/{case_id}/notes", status_code=status.HTTP_201_CREATED, response_model=NoteAdded,
             dependencies=[Reporter], summary="Add a note to a case (บันทึกเพิ่มเติม): sealed; the timeline says one "
             "was added, without its words")
async def add_note(request: Request, case_id: uuid.UUID, body: NoteIn, principal: CurrentPrincipal) -> NoteAdded:
    runtime, vault = _runtime(request)
    async with runtime.transaction() as conn:
        await service.case_for(conn, case_id, principal)
        note_id = await service.add_note(conn, vault, case_id, body.text, source=NOTE_SOURCE[principal.role],
                                         author=principal.subject)
    return NoteAdded(case_id=case_id, note_id=note_id)


@router.post("/cases/{case_id}/urgency", response_model=UrgencyOutcome, dependencies=[Reporter],
             summary="Make an open case more urgent (เร่งด่วนขึ้น), e.g. after a follow-up call: routing "
             "re-prioritises it and its responders are alerted again with the shorter deadline; never lowered")
async def raise_urgency(request: Request, case_id: uuid.UUID, body: UrgencyIn,
                        principal: CurrentPrincipal) -> UrgencyOutcome:
    runtime, vault = _runtime(request)
    channel = Channel.walk_in if principal.role is Role.center_staff else Channel.hotline
    async with runtime.transaction() as conn:
        await service.case_for(conn, case_id, principal)
        try:
            priority, raised = await service.raise_urgency(conn, runtime, case_id, body.urgency,
                                                           reason_code="operator", channel=channel,
                                                           raised_by=principal.subject)
        except service.CaseClosed:
            raise HTTPException(status.HTTP_409_CONFLICT, detail="the case is resolved: report a new case") from None
        if raised and body.reason:
            await service.add_note(conn, vault, case_id, f"[เร่งด่วนขึ้น · urgency {priority}] {body.reason}",
                                   source=NOTE_SOURCE[principal.role], author=principal.subject)
    return UrgencyOutcome(case_id=case_id, raised=raised, priority=priority)


@router.get("/cases/{case_id}/related", response_model=list[RelatedCase], dependencies=[Reader],
            summary="Cases linked to this one: the same caller's, possible duplicates (no personal data: not audited)")
async def get_related(request: Request, case_id: uuid.UUID, principal: CurrentPrincipal) -> list[RelatedCase]:
    runtime, _ = _runtime(request)
    async with runtime.db.acquire() as conn:
        await service.case_for(conn, case_id, principal)
        return await service.related_cases(conn, case_id, principal)


@router.post("/cases/{case_id}/related/{other_id}/decision", status_code=status.HTTP_204_NO_CONTENT,
             dependencies=[Reporter], summary="Decide a possible duplicate (เหตุเดียวกันหรือไม่): the same incident "
             "or a different one; recorded on both timelines, nothing merged")
async def decide_duplicate(request: Request, case_id: uuid.UUID, other_id: uuid.UUID, body: LinkDecisionIn,
                           principal: CurrentPrincipal) -> None:
    runtime, _ = _runtime(request)
    async with runtime.transaction() as conn:
        await service.decide_duplicate(conn, case_id, other_id, body.decision, principal)


@router.get("/cases/{case_id}/contact", response_model=ContactView, dependencies=[ContactReader],
            summary="The caller's details (ผู้แจ้ง) for the responder who acknowledged the case; audited")
async def get_contact(request: Request, case_id: uuid.UUID, principal: CurrentPrincipal) -> ContactView:
    runtime, vault = _runtime(request)
    async with runtime.db.acquire() as conn:
        row = await service.case_for(conn, case_id, principal)
        if principal.role is Role.responder:
            # Only the responder who took the case, and only while it is theirs: not the others alerted, not
            # after it is resolved. Intake decides from its own timeline rather than trusting the asker.
            if row["status"] != "acknowledged":
                raise HTTPException(status.HTTP_403_FORBIDDEN, detail=f"the case is {row['status']}: the caller's "
                                    "details are shown while an acknowledged case is open")
            holder = await repository.acknowledged_by(conn, case_id)
            if principal.responder_id is None or holder != principal.responder_id:
                raise HTTPException(status.HTTP_403_FORBIDDEN, detail="only the responder who acknowledged the "
                                    "case sees the caller's details")
        await _audit(conn, case_id, principal, "contact")
    return ContactView(case_id=row["case_id"], case_number=row["case_number"], caller=_caller(vault, row),
                       address_text=vault.open(row["address_enc"]),
                       description=vault.open(row["description_enc"]) or "")


@router.get("/cases/{case_id}/contact-access", response_model=list[ContactAccess], dependencies=[Auditor],
            summary="Who opened the caller's details, when and why")
async def get_contact_access(request: Request, case_id: uuid.UUID) -> list[ContactAccess]:
    runtime, _ = _runtime(request)
    async with runtime.db.acquire() as conn:
        return [ContactAccess(**dict(r)) for r in await repository.contact_accesses(conn, case_id)]
