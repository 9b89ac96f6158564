"""The intake domain: what a valid case report is, and how events move a case's status."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

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


class CaseAccepted(BaseModel):
    case_id: uuid.UUID
    case_number: str
    status: str


class TimelineEntry(BaseModel):
    event_id: uuid.UUID
    type: str
    occurred_at: datetime
    detail: dict[str, object]


class CaseView(BaseModel):
    case_id: uuid.UUID
    case_number: str
    status: str
    channel: Channel
    category: Category
    target_group: TargetGroup
    urgency: Priority | None
    description: str
    tambon_code: str | None
    lat: float | None
    lon: float | None
    caller: Caller | None
    national_id: str | None = Field(description="unmasked here only: this view is audited")
    safety: Safety
    created_at: datetime
    timeline: list[TimelineEntry]


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


def case_number(year_be: int, seq: int) -> str:
    return f"1300-{year_be}-{seq:06d}"


def year_be(now: datetime) -> int:
    return thai_time.year_be(now)
