"""On-call rotas: a unit's shifts in local wall-clock time, their overrides, and its escalation policy."""

from __future__ import annotations

import itertools
import uuid
from datetime import UTC, date, datetime, time
from enum import IntEnum
from typing import Annotated, ClassVar, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import InitErrorDetails

from hotline_common.events.base import Event

MINUTES_PER_DAY = 24 * 60
MINUTES_PER_WEEK = 7 * MINUTES_PER_DAY


def _as_utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


# An instant: any offset in, UTC out — one form to publish, and comparisons that need no offset lookups.
UtcInstant = Annotated[AwareDatetime, AfterValidator(_as_utc)]


class Weekday(IntEnum):
    """A local weekday, numbered like `date.weekday()` (ISO weekday − 1): mon = 0 … sun = 6. JSON carries the int."""

    mon = 0
    tue = 1
    wed = 2
    thu = 3
    fri = 4
    sat = 5
    sun = 6

    @property
    def label(self) -> str:
        return ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")[self]


def _minutes(at: time) -> int:
    return at.hour * 60 + at.minute


def _clock(minute_of_week: int) -> str:
    minute = minute_of_week % MINUTES_PER_DAY
    return f"{minute // 60:02d}:{minute % 60:02d}"


class Shift(BaseModel):
    """A shift that recurs on some local weekdays; `end <= start` means it ends the next day (16:30–08:30)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(min_length=1, max_length=100, description='e.g. "day", "night", "เวรกลางวัน"')
    start: time = Field(description="local wall-clock time in the rota's timezone, whole minutes")
    end: time = Field(description="local wall-clock time; at or before `start`: the next day")
    days: list[Weekday] = Field(default_factory=lambda: list(Weekday), description="local weekdays it starts on")
    responder_ids: list[uuid.UUID] = Field(min_length=1, description="the pool, in rotation order")
    rotate_every_days: int | None = Field(
        default=None, ge=1, le=366,
        description="None: the whole pool is on call together; n: one of the pool per n-day period, in order")
    rotation_anchor: date | None = Field(default=None, description="local date on which pool[0] starts a period")

    @field_validator("start", "end")
    @classmethod
    def _wall_clock_minutes(cls, value: time) -> time:
        if value.tzinfo is not None:
            raise ValueError("shift times are wall-clock times of the rota's timezone: leave out the UTC offset")
        if value.second or value.microsecond:
            raise ValueError("shift times are whole minutes")
        return value

    @field_validator("days")
    @classmethod
    def _distinct_days(cls, days: list[Weekday]) -> list[Weekday]:
        if not days:
            raise ValueError("a shift runs on at least one weekday")
        if len(set(days)) != len(days):
            raise ValueError("a weekday is listed twice")
        return days

    @field_validator("responder_ids")
    @classmethod
    def _distinct_responders(cls, responder_ids: list[uuid.UUID]) -> list[uuid.UUID]:
        if len(set(responder_ids)) != len(responder_ids):
            raise ValueError("a responder is listed twice in the pool")
        return responder_ids

    @model_validator(mode="after")
    def _consistent(self) -> Shift:
        if self.start == self.end:
            raise ValueError(f"shift {self.name!r} starts and ends at {self.start:%H:%M}: it has no length")
        if self.rotate_every_days is not None and self.rotation_anchor is None:
            raise ValueError("rotation_anchor is required when rotate_every_days is set")
        if self.rotate_every_days is None and self.rotation_anchor is not None:
            raise ValueError("rotation_anchor is only meaningful with rotate_every_days")
        return self

    @property
    def length_minutes(self) -> int:
        """Always 1 … 1439: a shift is shorter than a day, so only occurrences from today or yesterday cover now."""
        return (_minutes(self.end) - _minutes(self.start)) % MINUTES_PER_DAY

    def weekly_minutes(self) -> list[tuple[int, int]]:
        """Its occurrences as [start, end) minutes of a Monday-00:00-based week (end may pass the week's end)."""
        first = _minutes(self.start)
        return [(day * MINUTES_PER_DAY + first, day * MINUTES_PER_DAY + first + self.length_minutes)
                for day in sorted(self.days)]


class Override(BaseModel):
    """A one-off change: leave (replaces only), swap or cover (both), or extra cover (responder_id only)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    start: UtcInstant = Field(description="timezone-aware; stored in UTC")
    end: UtcInstant = Field(description="timezone-aware, after start; stored in UTC")
    responder_id: uuid.UUID | None = Field(default=None, description="who is on call instead / in addition")
    replaces: uuid.UUID | None = Field(default=None, description="who is off (leave)")
    reason: str = Field(default="", max_length=500)

    @model_validator(mode="after")
    def _consistent(self) -> Override:
        if self.start >= self.end:
            raise ValueError(f"override starts ({self.start.isoformat()}) at or after it ends ({self.end.isoformat()})")
        if self.responder_id is None and self.replaces is None:
            raise ValueError("an override names a responder_id (on call), replaces (off), or both")
        if self.responder_id == self.replaces:
            raise ValueError("an override cannot replace a responder with themselves")
        return self


class EscalationTarget(BaseModel):
    """Whom one escalation level alerts."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["on_call", "responder", "center", "agency", "hotline_supervisor"] = Field(
        description="on_call: this unit's on-call people now; responder: a named responder; center/agency: the "
                    "on-call people of another unit; hotline_supervisor: the 1300 supervisors")
    id: uuid.UUID | None = Field(default=None, description="the responder, center or agency; absent otherwise")

    @model_validator(mode="after")
    def _id_matches_kind(self) -> EscalationTarget:
        needs_id = self.kind in ("responder", "center", "agency")
        if needs_id and self.id is None:
            raise ValueError(f"an escalation target of kind {self.kind!r} needs the {self.kind}'s id")
        if not needs_id and self.id is not None:
            raise ValueError(f"an escalation target of kind {self.kind!r} takes no id")
        return self


class EscalationLevel(BaseModel):
    """One step of escalation: alert the targets, wait for an acknowledgement, re-alert, then go to the next."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    targets: list[EscalationTarget] = Field(min_length=1)
    timeout_minutes: int = Field(ge=1, le=1440, description="wait for an acknowledgement before going on")
    repeat: int = Field(default=0, ge=0, le=5, description="re-alerts at this level before the next level")
    reroute: bool = Field(default=False, description="as this level starts, also ask routing for the next nearest "
                                                     "center (the case leaves this one)")


def _error_at(index: int, message: str, value: object) -> ValidationError:
    # Raised from a list validator, pydantic prefixes this `loc` with the field's: a 422 says `shifts.1`, not `shifts`.
    return ValidationError.from_exception_data(
        "Shift", [InitErrorDetails(type="value_error", loc=(index,), input=value, ctx={"error": ValueError(message)})])


def _weekly_overlap(a: Shift, b: Shift) -> tuple[int, int] | None:
    """The earliest stretch of the week, as [start, end) minutes, in which occurrences of `a` and `b` overlap."""
    overlaps = []
    b_weekly = b.weekly_minutes()
    for a_start, a_end in a.weekly_minutes():
        for b_start, b_end in b_weekly:
            # Occurrences live on a circle (Sunday night runs into Monday): compare b shifted by −1, 0, +1 weeks.
            for shift in (-MINUTES_PER_WEEK, 0, MINUTES_PER_WEEK):
                start, end = max(a_start, b_start + shift), min(a_end, b_end + shift)
                if start < end:
                    overlaps.append((start % MINUTES_PER_WEEK, end % MINUTES_PER_WEEK))
    return min(overlaps, default=None)


def _double_booked(shifts: list[Shift]) -> bool:
    """Whether any two occurrences in the week overlap: one sort and sweep (validation runs on every record read)."""
    spans = []
    for shift in shifts:
        for start, end in shift.weekly_minutes():
            if end > MINUTES_PER_WEEK:  # Sunday night into Monday: the part after the week's end wraps to its start
                spans += [(start, MINUTES_PER_WEEK), (0, end - MINUTES_PER_WEEK)]
            else:
                spans.append((start, end))
    spans.sort()
    return any(b_start < a_end for (_, a_end), (b_start, _) in itertools.pairwise(spans))


class RotaRecord(Event):
    """Who of a center or agency is on call when, as a sequence of non-overlapping weekly shifts."""

    ce_type: ClassVar[str] = "th.go.msdhs.registry.rota.v1"

    rota_id: uuid.UUID
    unit_kind: Literal["center", "agency"]
    unit_id: uuid.UUID
    name: str = Field(min_length=1, max_length=200)
    timezone: str = Field(default="Asia/Bangkok", description="IANA zone of the shifts' wall-clock times")
    shifts: list[Shift] = Field(default_factory=list, description="never overlapping; parallel cover is a pool "
                                                                  "without rotation, or a second rota")
    overrides: list[Override] = Field(default_factory=list)
    escalation: list[EscalationLevel] = Field(default_factory=list)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, timezone: str) -> str:
        try:
            ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown timezone {timezone!r}: use an IANA name such as 'Asia/Bangkok'") from None
        return timezone

    @field_validator("shifts")
    @classmethod
    def _one_sequence(cls, shifts: list[Shift]) -> list[Shift]:
        # One rota is one sequence: overlapping shifts would make "whose turn is it" ambiguous.
        if len({s.name for s in shifts}) == len(shifts) and not _double_booked(shifts):
            return shifts  # the common case, in one sweep; the pairwise search below finds what to report
        for j, later in enumerate(shifts):
            for earlier in shifts[:j]:
                if later.name == earlier.name:
                    raise _error_at(j, f"shift name {later.name!r} is used twice", later.name)
                overlap = _weekly_overlap(later, earlier)
                if overlap is not None:
                    start, end = overlap
                    day = Weekday(start // MINUTES_PER_DAY)
                    raise _error_at(j, f"shift {later.name!r} overlaps shift {earlier.name!r} on {day.label} "
                                       f"{_clock(start)}–{_clock(end)}", later.name)
        return shifts

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)  # ZoneInfo caches instances by key: cheap

    def subject(self) -> str:
        return str(self.rota_id)
