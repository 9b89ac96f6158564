"""Registry state published on compacted topics: the latest record per entity id (tombstone = deleted)."""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, ClassVar, Literal

import phonenumbers
from pydantic import (
    AfterValidator,
    AnyHttpUrl,
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    field_validator,
    model_validator,
)

from hotline_common.events.base import Event
from hotline_common.events.cases import Category, TargetGroup

HostType = Literal["sao", "municipality", "school", "health_hospital", "temple", "other"]
CenterStatus = Literal["active", "suspended", "closed"]
TAMBON_CODE = r"^\d{6}$"
PROVINCE_CODE = r"^\d{2}$"


def normalise_phone(raw: str) -> str:
    """E.164 (+66…) from any Thai way of writing a number (081-234-5678, 0812345678, +66 81 234 5678)."""
    try:
        number = phonenumbers.parse(raw, "TH")
    except phonenumbers.NumberParseException as exc:
        raise ValueError(f"not a phone number: {exc}") from None
    if not phonenumbers.is_valid_number(number):
        raise ValueError("not a valid phone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


Phone = Annotated[str, AfterValidator(normalise_phone)]
ProvinceCode = Annotated[str, Field(pattern=PROVINCE_CODE)]


class CenterRecord(Event):
    """A tambon Social Assistance Center (ศูนย์ช่วยเหลือสังคมตำบล). Several per sub-district are allowed."""

    ce_type: ClassVar[str] = "th.go.msdhs.registry.center.v1"

    center_id: uuid.UUID
    name_th: str = Field(min_length=1, max_length=200)
    name_en: str = Field(default="", max_length=200)
    host_type: HostType = "sao"
    tambon_code: str = Field(pattern=TAMBON_CODE)
    amphoe_code: str = Field(pattern=r"^\d{4}$")
    province_code: ProvinceCode
    address: str = Field(default="", max_length=500)
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    phone: Phone | None = None
    line_group: str | None = Field(default=None, max_length=200, description="LINE group id or invite link")
    status: CenterStatus = "active"

    def subject(self) -> str:
        return str(self.center_id)


class AgencyType(StrEnum):
    """MSDHS agencies in a province (DESIGN.md §4)."""

    provincial_office = "provincial_office"
    children_family_shelter = "children_family_shelter"
    destitute_protection_center = "destitute_protection_center"
    older_persons_center = "older_persons_center"
    disability_service_center = "disability_service_center"
    self_help_settlement = "self_help_settlement"
    other = "other"


# Agencies that take people in: they report free places so routing can send a referral where a bed is free.
RESIDENTIAL_AGENCIES = frozenset({AgencyType.children_family_shelter, AgencyType.destitute_protection_center,
                                  AgencyType.older_persons_center})


class AgencyRecord(Event):
    """An MSDHS agency: what it serves (categories × target groups), where (provinces), and its free places."""

    ce_type: ClassVar[str] = "th.go.msdhs.registry.agency.v1"

    agency_id: uuid.UUID
    agency_type: AgencyType
    name_th: str = Field(min_length=1, max_length=200)
    name_en: str = Field(default="", max_length=200)
    province_code: ProvinceCode
    area_province_codes: list[ProvinceCode] = Field(default_factory=list,
                                                    description="provinces it covers (own included)")
    address: str = Field(default="", max_length=500)
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    phone: Phone | None = None
    categories: list[Category] = Field(default_factory=list)
    target_groups: list[TargetGroup] = Field(default_factory=list)
    capacity: int | None = Field(default=None, ge=0)
    free_places: int | None = Field(default=None, ge=0)
    free_places_at: datetime | None = None
    status: Literal["active", "closed"] = "active"

    @model_validator(mode="after")
    def _places_fit(self) -> AgencyRecord:
        if self.capacity is not None and self.free_places is not None and self.free_places > self.capacity:
            raise ValueError(f"free_places ({self.free_places}) exceeds capacity ({self.capacity})")
        return self

    def subject(self) -> str:
        return str(self.agency_id)


# The `secret_ref` of the demo responders' webhook: notify signs with setting DEMO_WEBHOOK_SECRET.
DEMO_SECRET_REF = "demo"
# The demo directory's unit of the 1300 hotline's supervisors (escalation target `hotline_supervisor`); production
# names its own in NOTIFY_HOTLINE_UNIT_ID.
DEMO_HOTLINE_UNIT = uuid.UUID("5c1e0a3e-1300-4000-8000-000000000001")
LINE_USER_ID = re.compile(r"^U[0-9a-f]{32}$")
# Deliverability is proven by sending; the shape check only catches typing slips.
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")
_URL = TypeAdapter(AnyHttpUrl)


class AlertChannel(BaseModel):
    """One way to reach a responder. Secrets are never published: `secret_ref` names one notify holds."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["line", "sms", "email", "webhook"]
    address: str = Field(description="LINE user id, phone number (SMS), e-mail address or URL")
    secret_ref: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _usable_address(cls, data: Any) -> Any:
        if not isinstance(data, dict) or not isinstance(data.get("address"), str):
            return data
        kind, address = data.get("kind"), data["address"].strip()
        if kind == "sms":
            address = normalise_phone(address)
        elif kind == "line" and not LINE_USER_ID.match(address):
            raise ValueError("a LINE user id is U followed by 32 hex digits")
        elif kind == "email" and not EMAIL.match(address):
            raise ValueError("not an e-mail address")
        elif kind == "webhook":
            _URL.validate_python(address)
        return {**data, "address": address}


class ResponderDetails(BaseModel):
    """What the directory knows of a responder: declared once for the record and for the registry's input."""

    display_name: str = Field(min_length=1, max_length=200)
    kind: Literal["volunteer", "social_worker", "duty_officer"]
    channels: list[AlertChannel] = Field(min_length=1, description="in order of preference")
    languages: list[str] = Field(default_factory=lambda: ["th"])
    center_ids: list[uuid.UUID] = Field(default_factory=list)
    agency_ids: list[uuid.UUID] = Field(default_factory=list)
    active: bool = True

    @field_validator("channels")
    @classmethod
    def _distinct_channels(cls, channels: list[AlertChannel]) -> list[AlertChannel]:
        seen = set()
        for channel in channels:
            if (channel.kind, channel.address) in seen:
                raise ValueError(f"{channel.kind} {channel.address} is listed twice")
            seen.add((channel.kind, channel.address))
        return channels

    def phones(self) -> list[str]:
        return [c.address for c in self.channels if c.kind == "sms"]


class ResponderRecord(Event, ResponderDetails):
    """A volunteer (อพม.), social worker or duty officer: how to reach them, and which units they belong to."""

    ce_type: ClassVar[str] = "th.go.msdhs.registry.responder.v1"

    responder_id: uuid.UUID

    def subject(self) -> str:
        return str(self.responder_id)
