"""Intake's use cases, shared by every channel (the API, the operator console, LINE, walk-ins): accept a report,
find a case, decide who may see it."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

import asyncpg
from fastapi import HTTPException, status

from hotline_common import outbox, thai_id, topics
from hotline_common.auth import Principal, Role
from hotline_common.contact import Caller
from hotline_common.crypto import PiiVault
from hotline_common.events import CaseReported, CaseUrgencyRaised, Channel, Location, Priority, UrgencyReason
from hotline_common.events.base import utcnow
from hotline_common.runtime import Runtime
from hotline_gazetteer import gazetteer
from hotline_intake import duplicates, repository
from hotline_intake.cases import (
    CaseAccepted,
    CaseIn,
    RelatedCase,
    case_number,
    comparable_phone,
    priority_now,
    year_be,
)
from hotline_intake.centers import CenterDirectory


@dataclass(frozen=True)
class Reporter:
    """Who takes the report: an account (`subject`), or a channel acting for the person (`line:<user>`)."""

    subject: str
    center_id: uuid.UUID | None = None  # center staff: their center (a walk-in)


def reporter_of(principal: Principal) -> Reporter:
    center = uuid.UUID(principal.center_id) if principal.center_id and principal.role is Role.center_staff else None
    return Reporter(principal.subject, center)


def unprocessable(field: str, msg: str) -> HTTPException:
    """A 422 shaped like FastAPI's own, naming the field at fault."""
    return HTTPException(status.HTTP_422_UNPROCESSABLE_ENTITY,
                         detail=[{"loc": ["body", field], "msg": msg, "type": "value_error"}])


def walk_in_defaults(body: CaseIn, reporter: Reporter, centers: CenterDirectory) -> CaseIn:
    """Center staff register walk-ins: the channel is walk-in and the place defaults to their center's tambon."""
    if reporter.center_id is None:
        if body.location is None:
            raise unprocessable("location", "give tambon_code, lat and lon, or an address text")
        return body
    update: dict[str, object] = {"channel": Channel.walk_in}
    if body.location is None:
        tambon = centers.tambon_of(reporter.center_id)
        if tambon is None:
            raise unprocessable("location", "your center's sub-district is not known yet: give the location")
        update["location"] = {"tambon_code": tambon}
    return CaseIn.model_validate(body.model_dump(exclude_none=True) | update)


async def report(runtime: Runtime, vault: PiiVault, body: CaseIn, reporter: Reporter, *,
                 case_id: uuid.UUID | None = None, now: datetime | None = None) -> CaseAccepted:
    """Accept a case: the row, its first timeline entry and `case.reported` commit together or not at all (the
    outbox). The event carries no name, phone or national ID: a keyed hash of the phone and where to ask for it."""
    assert body.location is not None, "walk_in_defaults fills the location in"
    now = now or utcnow()
    case_id = case_id or uuid.uuid4()
    caller = body.caller or Caller()
    location = Location(**body.location.model_dump())
    # The same caller however the number was written: the key links their cases (here and in events).
    phone_key = vault.lookup_hash(comparable_phone(caller.phone)) if caller.phone else None
    caller_key = phone_key.hex() if phone_key else None
    async with runtime.db.acquire() as conn:
        number = case_number(year_be(now), await repository.next_case_seq(conn, year_be(now)))
    event = CaseReported(
        case_id=case_id, case_number=number, channel=body.channel, category=body.category,
        target_group=body.target_group, urgency=body.urgency, description=thai_id.mask_in_text(body.description),
        location=location, has_callback=bool(caller.phone), needs_place=body.needs_place, occurred_at=now,
        safety=body.safety, caller_key=caller_key,
        callback_ref=f"/v1/cases/{case_id}/contact" if caller.phone else None,
    )
    seen = sighting(tambon_code=location.tambon_code, lat=location.lat, lon=location.lon, at=now,
                    category=body.category, target_group=body.target_group, channel=body.channel, caller_key=phone_key)
    async with runtime.transaction() as conn:
        await repository.insert_case(
            conn, case_id=case_id, case_number=number, channel=body.channel.value, category=body.category.value,
            target_group=body.target_group.value, urgency=body.urgency.value if body.urgency else None,
            tambon_code=location.tambon_code, lat=location.lat, lon=location.lon, place_code=seen.tambon_code,
            description_enc=vault.seal(body.description), caller_name_enc=vault.seal(caller.name),
            caller_phone_enc=vault.seal(caller.phone), address_enc=vault.seal(location.text),
            national_id_enc=vault.seal(body.national_id), needs_place=body.needs_place,
            consent_to_share=body.consent_to_share, safety=body.safety.model_dump(mode="json"),
            caller_phone_key=phone_key,
            reported_center_id=reporter.center_id, center_id=reporter.center_id,
            status="reported", reported_by=reporter.subject, created_at=now, updated_at=now,
        )
        await repository.add_event(conn, event_id=event.event_id, case_id=case_id, type="reported",
                                   occurred_at=now, detail={"channel": body.channel.value, "case_number": number})
        await outbox.enqueue(conn, topics.CASE_REPORTED, event, source=runtime.source)
        if phone_key is not None:
            await repository.link_same_caller(conn, case_id, phone_key)
        await suggest_duplicates(conn, case_id, seen)
    return CaseAccepted(case_id=case_id, case_number=number, status="reported")


def sighting(*, tambon_code: str | None, lat: float | None, lon: float | None, at: datetime, category: str,
             target_group: str, channel: str, caller_key: bytes | None) -> duplicates.Sighting:
    """A report as duplicate detection sees it. A position alone (a LINE location) is placed in the sub-district
    it is nearest to, so it can meet a call that named the sub-district."""
    if tambon_code is None and lat is not None and lon is not None:
        near = gazetteer().nearest(lat, lon)
        tambon_code = near[0].code if near else None
    return duplicates.Sighting(tambon_code, lat, lon, at, str(category), str(target_group), str(channel), caller_key)


async def suggest_duplicates(conn: asyncpg.Connection, case_id: uuid.UUID, new: duplicates.Sighting) -> None:
    """Link the earlier reports that may be the same incident, for an operator to decide (never merged here)."""
    rows = await repository.recent_cases_near(conn, since=new.at - duplicates.WINDOW, exclude=case_id,
                                              place_code=new.tambon_code, lat=new.lat, lon=new.lon,
                                              box_deg=duplicates.NEAR_KM / 100)  # 0.03° ≥ 3 km in Thailand
    earlier = [(r["case_id"], sighting(tambon_code=r["tambon_code"], lat=r["lat"], lon=r["lon"], at=r["created_at"],
                                       category=r["category"], target_group=r["target_group"], channel=r["channel"],
                                       caller_key=r["caller_phone_key"])) for r in rows]
    found = duplicates.suggestions(new, earlier)
    if found:
        await repository.link_possible_duplicates(conn, case_id, found)


async def decide_duplicate(conn: asyncpg.Connection, case_id: uuid.UUID, other_id: uuid.UUID, decision: str,
                           principal: Principal, *, now: datetime | None = None) -> None:
    """An operator's answer to a possible duplicate, on both cases' timelines. Both must be theirs to see."""
    now = now or utcnow()
    first = await case_for(conn, case_id, principal)
    second = await case_for(conn, other_id, principal)
    if not await repository.decide_link(conn, case_id, other_id, decision=decision, by=principal.subject):
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="these two cases were not suggested as duplicates")
    # Both rows held in a fixed order (as every timeline writer holds its case) so the entries keep commit order.
    for this, other in sorted([(first, second), (second, first)], key=lambda pair: pair[0]["case_id"]):
        await repository.get_case_for_update(conn, this["case_id"])
        await repository.add_event(
            conn, event_id=uuid.uuid5(this["case_id"], f"linked:{other['case_id']}:{decision}:{now.isoformat()}"),
            case_id=this["case_id"], type="linked", occurred_at=now,
            detail={"case_id": str(other["case_id"]), "case_number": other["case_number"], "decision": decision,
                    "by": principal.subject})


async def add_note(conn: asyncpg.Connection, vault: PiiVault, case_id: uuid.UUID, text: str, *, source: str,
                   author: str, now: datetime | None = None) -> int:
    """A note on the case (sealed) and a timeline entry that says one was added, without its words: the
    timeline is shown live to everyone on the case, the words only in the audited case view."""
    now = now or utcnow()
    # Holding the case row like every timeline writer keeps one case's entries in commit order (case_events.seq),
    # which a live timeline resumes from. Call it in a transaction.
    await repository.get_case_for_update(conn, case_id)
    note_id = await repository.add_note(conn, case_id=case_id, source=source, author=author,
                                        body_enc=vault.seal(text) or b"", created_at=now)
    await repository.add_event(conn, event_id=uuid.uuid5(case_id, f"note:{note_id}"), case_id=case_id, type="note",
                               occurred_at=now, detail={"note_id": note_id, "source": source, "author": author})
    return note_id


class CaseClosed(Exception):
    """The case is resolved: making it more urgent would alert nobody."""


async def raise_urgency(conn: asyncpg.Connection, runtime: Runtime, case_id: uuid.UUID, urgency: Priority, *,
                        reason_code: UrgencyReason, channel: Channel, raised_by: str = "",
                        now: datetime | None = None) -> tuple[Priority, bool]:
    """Make an open case more urgent: a timeline entry and `hotline.case.urgency_raised.v1` (routing re-prioritises
    the current routing, notify re-alerts), in the caller's transaction. Never lowers it: asking for a priority the
    case already has, or a lower one, changes nothing (a second "ด่วน" on LINE is not a second alarm). Returns the
    case's priority now and whether it was raised."""
    row = await repository.get_case(conn, case_id, lock=True)  # held like every timeline writer (commit order)
    if row is None:
        raise LookupError(f"no case {case_id}")
    if row["status"] == "resolved":
        raise CaseClosed(str(case_id))
    current = priority_now(row["urgency"], await repository.timeline(conn, case_id))
    if current is not None and current <= urgency:
        return current, False
    event = CaseUrgencyRaised(case_id=case_id, case_number=row["case_number"], urgency=urgency,
                              reason_code=reason_code, channel=channel, raised_by=raised_by,
                              occurred_at=now or utcnow())
    await repository.add_event(conn, event_id=event.event_id, case_id=case_id, type="urgency_raised",
                               occurred_at=event.occurred_at, detail={
                                   "urgency": urgency.value, "from": current.value if current else None,
                                   "reason_code": reason_code, "channel": channel.value, "raised_by": raised_by})
    await outbox.enqueue(conn, topics.CASE_URGENCY_RAISED, event, source=runtime.source)
    return urgency, True


async def case_for(conn: asyncpg.Connection, case_id: uuid.UUID, principal: Principal) -> asyncpg.Record:
    """The case if this principal may see it. Center staff see only their own center's cases: another center's
    is answered like a case that does not exist, so ids cannot be probed."""
    row = await repository.get_case(conn, case_id)
    if row is None or not may_see(principal, row):
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="no such case")
    return row


def may_see(principal: Principal, row: asyncpg.Record) -> bool:
    if principal.role is not Role.center_staff:
        return True
    if principal.center_id is None:
        return False
    own = uuid.UUID(principal.center_id)
    return own in (row["reported_center_id"], row["center_id"])


def center_scope(principal: Principal) -> uuid.UUID | None:
    """The one center whose cases this principal may list (center staff), or None for every case. Center staff
    without a center see nothing: a scope no case has."""
    if principal.role is not Role.center_staff:
        return None
    return uuid.UUID(principal.center_id) if principal.center_id else uuid.UUID(int=0)


async def related_cases(conn: asyncpg.Connection, case_id: uuid.UUID, principal: Principal) -> list[RelatedCase]:
    """The cases linked to this one (either way) that the principal may see, newest first."""
    return [RelatedCase(kind=r["kind"], case_id=r["case_id"], case_number=r["case_number"], status=r["status"],
                        category=r["category"], urgency=r["urgency"], created_at=r["created_at"], score=r["score"],
                        decision=r["decision"], decided_by=r["decided_by"])
            for r in await repository.related(conn, case_id) if may_see(principal, r)]
