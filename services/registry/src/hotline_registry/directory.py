"""The directory's domain: what an admin submits, checked against the gazetteer, becomes a published record."""

from __future__ import annotations

import uuid
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from hotline_common.events import (
    AgencyRecord,
    AgencyType,
    Category,
    CenterRecord,
    ResponderRecord,
    TargetGroup,
)
from hotline_common.events.registry import CenterStatus, HostType, ResponderDetails
from hotline_common.events.rota import EscalationLevel, Override, RotaRecord, Shift
from hotline_gazetteer import Tambon, gazetteer


class FieldError(ValueError):
    """Bad input that pydantic alone cannot see (it needs the gazetteer or the database): 422 naming `loc`."""

    def __init__(self, loc: tuple[str | int, ...], msg: str) -> None:
        super().__init__(f"{'.'.join(map(str, loc))}: {msg}")
        self.loc, self.msg = loc, msg


class Input(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Position(Input):
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180, validate_default=True)

    @field_validator("lon")
    @classmethod
    def _both_or_neither(cls, lon: float | None, info: ValidationInfo) -> float | None:
        if (info.data.get("lat") is None) != (lon is None):
            raise ValueError("give both lat and lon, or neither")
        return lon


def place(position: Position, default: tuple[float, float]) -> tuple[float, float]:
    """The given coordinates, which must be in Thailand, else the default (a place centroid)."""
    if position.lat is None or position.lon is None:
        return default
    if gazetteer().nearest(position.lat, position.lon) is None:
        raise FieldError(("lat",), "coordinates are outside Thailand")
    return position.lat, position.lon


def tambon(code: str, loc: tuple[str | int, ...] = ("tambon_code",)) -> Tambon:
    found = gazetteer().tambon(code)
    if found is None:
        raise FieldError(loc, f"unknown sub-district code {code}")
    return found


def province_seat(code: str, loc: tuple[str | int, ...] = ("province_code",)) -> Tambon:
    """A province's first sub-district of its first district (the Mueang district): where its offices sit."""
    tambons = sorted((t for t in gazetteer().tambons if t.province_code == code), key=lambda t: t.code)
    if not tambons:
        raise FieldError(loc, f"unknown province code {code}")
    return tambons[0]


class CenterIn(Position):
    name_th: str = Field(min_length=1, max_length=200, examples=["ศูนย์ช่วยเหลือสังคมตำบลสันกลาง"])
    name_en: str = Field(default="", max_length=200)
    host_type: HostType = "sao"
    tambon_code: str = Field(pattern=r"^\d{6}$", examples=["570802"])
    address: str = Field(default="", max_length=500)
    phone: str | None = None
    line_group: str | None = Field(default=None, max_length=200)
    status: CenterStatus = "active"
    status_reason: str = Field(default="", max_length=500, description="why the status changed (kept in history)")

    def record(self, center_id: uuid.UUID) -> CenterRecord:
        t = tambon(self.tambon_code)
        lat, lon = place(self, (t.lat, t.lon))
        return CenterRecord(center_id=center_id, amphoe_code=t.amphoe_code, province_code=t.province_code, lat=lat,
                            lon=lon, **self.model_dump(exclude={"lat", "lon", "status_reason"}))


class AgencyIn(Position):
    agency_type: AgencyType
    name_th: str = Field(min_length=1, max_length=200, examples=["บ้านพักเด็กและครอบครัวจังหวัดเชียงราย"])
    name_en: str = Field(default="", max_length=200)
    province_code: str = Field(pattern=r"^\d{2}$", examples=["57"])
    area_province_codes: list[str] = Field(default_factory=list, description="provinces covered; default: its own")
    address: str = Field(default="", max_length=500)
    phone: str | None = None
    categories: list[Category] = Field(default_factory=list)
    target_groups: list[TargetGroup] = Field(default_factory=list)
    capacity: int | None = Field(default=None, ge=0)
    free_places: int | None = Field(default=None, ge=0)
    status: Literal["active", "closed"] = "active"

    def record(self, agency_id: uuid.UUID) -> AgencyRecord:
        seat = province_seat(self.province_code)
        area = self.area_province_codes or [self.province_code]
        for i, code in enumerate(area):
            province_seat(code, ("area_province_codes", i))
        lat, lon = place(self, (seat.lat, seat.lon))
        data = self.model_dump(exclude={"lat", "lon", "area_province_codes"})
        return AgencyRecord(agency_id=agency_id, area_province_codes=area, lat=lat, lon=lon, **data)


class ResponderIn(Input, ResponderDetails):
    """A responder as submitted: the record's details without its id."""

    def record(self, responder_id: uuid.UUID) -> ResponderRecord:
        return ResponderRecord(responder_id=responder_id, **self.model_dump())


class RotaIn(Input):
    """A rota as submitted: the record without its id (the URL or the server gives it)."""

    unit_kind: Literal["center", "agency"]
    unit_id: uuid.UUID
    name: str = Field(min_length=1, max_length=200)
    timezone: str = "Asia/Bangkok"
    shifts: list[Shift] = Field(default_factory=list)
    overrides: list[Override] = Field(default_factory=list)
    escalation: list[EscalationLevel] = Field(default_factory=list)

    def record(self, rota_id: uuid.UUID) -> RotaRecord:
        return RotaRecord(rota_id=rota_id, **self.model_dump())


def people_of(rota: RotaRecord) -> set[uuid.UUID]:
    """Everyone a rota can put on call (its pools and the overrides' stand-ins)."""
    people = {rid for shift in rota.shifts for rid in shift.responder_ids}
    return people | {o.responder_id for o in rota.overrides if o.responder_id is not None}
