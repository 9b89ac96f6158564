"""Case events: reported by intake, routed (or not) by routing."""

from __future__ import annotations

import uuid
from enum import StrEnum
from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from hotline_common.events.base import CaseEvent


class Channel(StrEnum):
    hotline = "hotline"
    line = "line"
    walk_in = "walk_in"


class Category(StrEnum):
    """The problem categories of the 1300 service (DESIGN.md §4)."""

    domestic_violence = "domestic_violence"
    teen_pregnancy = "teen_pregnancy"
    human_trafficking = "human_trafficking"
    drugs = "drugs"
    homeless = "homeless"
    begging = "begging"
    child_youth = "child_youth"
    missing_person = "missing_person"
    elderly = "elderly"
    disability = "disability"
    livelihood = "livelihood"
    stateless = "stateless"
    other = "other"


class TargetGroup(StrEnum):
    child = "child"
    youth = "youth"
    woman = "woman"
    family = "family"
    single_parent = "single_parent"
    elderly = "elderly"
    disabled = "disabled"
    homeless = "homeless"
    vulnerable_household = "vulnerable_household"
    general = "general"


class Priority(StrEnum):
    """P1 danger now … P4 advice only; acknowledgement deadlines are settings."""

    P1 = "P1"
    P2 = "P2"
    P3 = "P3"
    P4 = "P4"


class Location(BaseModel):
    """Where the person is, as precisely as the channel knew it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    tambon_code: str | None = Field(default=None, pattern=r"^\d{6}$")
    lat: float | None = None
    lon: float | None = None


class CaseReported(CaseEvent):
    """A case accepted by intake. Holds no caller name or phone: those stay encrypted in intake."""

    ce_type: ClassVar[str] = "th.go.msdhs.hotline.case.reported.v1"

    channel: Channel
    category: Category
    target_group: TargetGroup
    urgency: Priority | None = None
    description: str
    location: Location
    has_callback: bool = False


class CaseRouted(CaseEvent):
    """Routing's decision: the center (and why) that must act on the case."""

    ce_type: ClassVar[str] = "th.go.msdhs.hotline.case.routed.v1"

    category: Category
    target_group: TargetGroup
    priority: Priority
    tambon_code: str
    center_id: uuid.UUID
    center_name_th: str
    center_tambon_code: str
    distance_km: float
    rule: Literal["own_tambon", "nearest_active"]
    reported_event_id: uuid.UUID


class CaseUnroutable(CaseEvent):
    """A case routing could not place; a supervisor decides."""

    ce_type: ClassVar[str] = "th.go.msdhs.hotline.case.unroutable.v1"

    reason: str
    reported_event_id: uuid.UUID
