"""The intake domain: what a valid case report is, how events move a case's status, how cases are found."""

from __future__ import annotations

import base64
import re
import uuid
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from hotline_common import thai_id, thai_time
from hotline_common.contact import Caller
from hotline_common.events import Category, Channel, Priority, Safety, TargetGroup
from hotline_common.text import PlainText
from hotline_gazetteer import gazetteer


class LocationIn(BaseModel):
    """A sub-district code, a position (a LINE location message, a phone's GPS), or a free-text Thai address
    for routing to resolve (the most precise one given wins)."""

    model_config = ConfigDict(extra="forbid")

    tambon_code: str | None = Field(default=None, pattern=r"^\d{6}$",
                                    description="6-digit DOPA sub-district code, e.g. 570511")
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)
    text: PlainText | None = Field(
        default=None, min_length=2, max_length=300, description="free-text address, e.g. ต.สันกลาง อ.พาน จ.เชียงราย")

    @field_validator("tambon_code")
    @classmethod
    def _known(cls, code: str | None) -> str | None:
        if code is not None and gazetteer().tambon(code) is None:
            raise ValueError(f"unknown tambon code {code}")
        return code

    @model_validator(mode="after")
    def _one_form(self) -> LocationIn:
        has_position = self.lat is not None or self.lon is not None
        if self.tambon_code is None and not has_position and not self.text:
            raise ValueError("give tambon_code, lat and lon, or an address text")
        if has_position:
            if self.lat is None or self.lon is None:
                raise ValueError("lat and lon go together")
            if gazetteer().nearest(self.lat, self.lon) is None:
                raise ValueError(f"position {self.lat}, {self.lon} is outside Thailand")
        return self


def national_id(text: str) -> str:
    return thai_id.validate(text)


FreeText = Annotated[PlainText, Field(min_length=1, max_length=8000)]
NationalId = Annotated[str, AfterValidator(national_id)]


class CaseIn(BaseModel):
    """A report as an operator (or a channel) submits it."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    channel: Channel = Channel.hotline
    category: Category
    target_group: TargetGroup
    description: FreeText
    urgency: Priority | None = None
    location: LocationIn | None = Field(default=None, description="where the person is; center staff may leave it "
                                        "out for their own center's sub-district")
    caller: Caller | None = None
    national_id: NationalId | None = Field(default=None, description="the person's 13-digit Thai national ID, if "
                                           "given (checked with its check digit; sealed, masked outside the case "
                                           "view)", examples=["1-1037-02071-81-1"])
    safety: Safety = Field(default_factory=Safety, description="how to contact the person safely; every responder "
                           "sees it before acting")
    needs_place: bool = Field(default=False, description="the person needs a place to stay (shelter referral)")
    consent_to_share: bool = Field(default=False, description="the caller agrees that the center may share what "
                                   "they said with the agencies it refers the case to")


class CaseAccepted(BaseModel):
    case_id: uuid.UUID
    case_number: str
    status: str


class TimelineEntry(BaseModel):
    event_id: uuid.UUID
    type: str
    occurred_at: datetime
    detail: dict[str, object]


class NoteIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    text: FreeText


class UrgencyIn(BaseModel):
    """An operator makes an open case more urgent (a follow-up call: the danger is now). Never lowers it."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    urgency: Priority = Field(description="the new priority; one that is not more urgent than the case's changes "
                              "nothing")
    reason: FreeText | None = Field(default=None, description="why, in the operator's words: kept as a sealed note, "
                                    "never in the event")


class UrgencyOutcome(BaseModel):
    case_id: uuid.UUID
    raised: bool = Field(description="false: the case was already this urgent or more")
    priority: Priority = Field(description="the case's priority now, as intake knows it")


def priority_now(urgency: str | None, timeline: Iterable[Mapping[str, Any]]) -> Priority | None:
    """The most urgent the case has been made: the reported urgency, each routing's priority, each urgency raised.
    A priority only ever goes up, so that is the current one. ("P1" < "P2" < … as text.)"""
    seen = [urgency] if urgency else []
    for entry in timeline:
        detail = entry["detail"]
        value = detail.get("priority") if entry["type"] == "routed" else (
            detail.get("urgency") if entry["type"] == "urgency_raised" else None)
        if isinstance(value, str) and value in Priority.__members__:
            seen.append(value)
    return Priority(min(seen)) if seen else None


class NoteAdded(BaseModel):
    case_id: uuid.UUID
    note_id: int


class NoteView(BaseModel):
    note_id: int
    source: str = Field(description="operator, supervisor, walk_in (center staff) or line (the person)")
    author: str
    text: str
    created_at: datetime


LinkKind = Literal["same_caller", "possible_duplicate"]
LinkDecision = Literal["same_incident", "different"]


class RelatedCase(BaseModel):
    """Another case linked to this one: the same caller's, or the same incident reported again."""

    kind: LinkKind
    case_id: uuid.UUID
    case_number: str
    status: str
    category: Category
    urgency: Priority | None
    created_at: datetime
    score: float | None = Field(default=None, description="possible_duplicate: how likely the same incident (0–1)")
    decision: LinkDecision | None = Field(default=None, description="possible_duplicate: what an operator decided")
    decided_by: str | None = None


class LinkDecisionIn(BaseModel):
    """An operator's answer to a possible duplicate: the same incident (the cases stay linked for everyone who
    opens either) or a different one (no longer suggested). Nothing is merged either way."""

    model_config = ConfigDict(extra="forbid")

    decision: LinkDecision


class CaseView(BaseModel):
    case_id: uuid.UUID
    case_number: str
    status: str
    channel: Channel
    category: Category
    target_group: TargetGroup
    urgency: Priority | None = Field(description="as reported")
    priority: Priority | None = Field(default=None, description="now: the most urgent of the report's urgency, "
                                      "routing's assessment and any urgency raised since")
    description: str
    tambon_code: str | None
    place_th: str | None = Field(default=None, examples=["ต.สันกลาง › อ.พาน › จ.เชียงราย"])
    lat: float | None
    lon: float | None
    caller: Caller | None
    national_id: str | None = Field(description="unmasked here only: this view is audited")
    safety: Safety
    needs_place: bool = False
    consent_to_share: bool = False
    created_at: datetime
    timeline: list[TimelineEntry]
    notes: list[NoteView] = Field(default_factory=list, description="unsealed here only: this view is audited")
    related: list[RelatedCase] = Field(default_factory=list, description="cases linked to this one that the "
                                       "reader may see")


class ContactAccess(BaseModel):
    subject: str
    role: str
    purpose: str
    accessed_at: datetime


# Which status an event puts a case in; later stages never move back (a late `routed` after `alerted`).
STATUS_BY_EVENT: dict[str, str] = {
    "reported": "reported",
    "routed": "routed",
    "unroutable": "unroutable",
    "alert_sent": "alerted",
    "alert_failed": "alert_failed",
    "escalated": "escalated",
    "declined": "declined",
    "acknowledged": "acknowledged",
    "resolved": "resolved",
}
STAGE = {"reported": 0, "routed": 1, "unroutable": 1, "alert_failed": 2, "alerted": 3, "escalated": 3, "declined": 3,
         "acknowledged": 4, "resolved": 5}

CaseStatus = Literal["reported", "routed", "unroutable", "alerted", "alert_failed", "escalated", "declined",
                     "acknowledged", "resolved"]


def next_status(current: str, event_type: str) -> str:
    new = STATUS_BY_EVENT.get(event_type, current)
    return new if STAGE.get(new, 0) >= STAGE.get(current, 0) else current


def status_move(event_type: str) -> tuple[str, list[str]]:
    """`next_status` for SQL: the status an event puts a case in, and the statuses it may move from (the others
    are later stages and stay)."""
    new = STATUS_BY_EVENT[event_type]
    return new, sorted(status for status, stage in STAGE.items() if stage <= STAGE[new])


def case_number(year_be: int, seq: int) -> str:
    return f"1300-{year_be}-{seq:06d}"


def year_be(now: datetime) -> int:
    return thai_time.year_be(now)


# ---- finding cases ------------------------------------------------------------------------------------------------
EXCERPT_CHARS = 120
_CASE_NUMBER = re.compile(r"^(?:1300-(\d{4})-)?(\d{1,6})$")


class CaseQuery(BaseModel):
    """A search of the cases, newest first; every filter given must match. The caller's phone is not here: it
    travels in a header (see `hotline_intake.search`)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    number: str | None = Field(default=None, pattern=_CASE_NUMBER.pattern, description="a case number, or its "
                               "last digits for this year's and last year's case (`1300-2569-000123`, `123`)")
    tambon_code: str | None = Field(default=None, pattern=r"^\d{6}$")
    status: CaseStatus | None = None
    created_from: date | None = Field(default=None, description="first day (Bangkok), inclusive")
    created_to: date | None = Field(default=None, description="last day (Bangkok), inclusive")
    limit: int = Field(default=20, ge=1, le=100)
    cursor: str | None = Field(default=None, max_length=200, description="`next_cursor` of the previous page")


class CaseSummary(BaseModel):
    """A case as a search lists it: nothing that names or reaches the person. The excerpt is the description with
    national IDs masked, as the case.reported event carries it to the other services, and shortened."""

    case_id: uuid.UUID
    case_number: str
    status: str
    channel: Channel
    category: Category
    target_group: TargetGroup
    urgency: Priority | None
    tambon_code: str | None
    place_th: str | None = Field(examples=["ต.สันกลาง › อ.พาน › จ.เชียงราย"])
    created_at: datetime
    excerpt: str


class CasePage(BaseModel):
    items: list[CaseSummary]
    next_cursor: str | None = Field(description="pass as `cursor` for the next (older) page; null on the last")


def place_th(tambon_code: str | None) -> str | None:
    """Where a sub-district is, as Thai readers read it: ต.สันกลาง › อ.พาน › จ.เชียงราย."""
    tambon = gazetteer().tambon(tambon_code) if tambon_code else None
    return tambon.path_th() if tambon else None


def comparable_phone(phone: str) -> str:
    """The callback number as the repeat-caller key is made of: without spaces and dashes, +66 written as the
    leading 0, so `081-234 5678` and `+66812345678` are the same caller (other countries keep their +code)."""
    compact = phone.replace(" ", "").replace("-", "")
    return "0" + compact[3:] if compact.startswith("+66") else compact


def case_numbers_for(text: str, now: datetime) -> list[str]:
    """The case numbers an operator means: a whole number, or its last digits for this year or last year (a caller
    reads out `000123`; cases are numbered per Buddhist-era year)."""
    found = _CASE_NUMBER.match(text.strip())
    if found is None:
        return []
    year, seq = found.group(1), int(found.group(2))
    years = [int(year)] if year else [year_be(now), year_be(now) - 1]
    return [case_number(y, seq) for y in years]


def excerpt(description: str, limit: int = EXCERPT_CHARS) -> str:
    """The start of a description for a list: national IDs masked first (a cut never leaves half an ID readable)."""
    masked = " ".join(thai_id.mask_in_text(description).split())
    return masked if len(masked) <= limit else masked[: limit - 1].rstrip() + "…"


def page_cursor(created_at: datetime, case_id: uuid.UUID) -> str:
    """Where the next page starts (keyset: the last case listed); opaque to clients."""
    return base64.urlsafe_b64encode(f"{created_at.isoformat()}|{case_id}".encode()).decode()


def read_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    try:
        created_at, case_id = base64.urlsafe_b64decode(cursor.encode()).decode().split("|")
        return datetime.fromisoformat(created_at), uuid.UUID(case_id)
    except ValueError as bad:
        raise ValueError("cursor: not a `next_cursor` this service gave") from bad
