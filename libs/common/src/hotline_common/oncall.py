"""Who is on call: a rota's shifts and overrides turned into UTC instants, answered per instant or per window.

Pure functions, no I/O. Shift times are local wall-clock times of the rota's zone; every result is in UTC.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Literal
from zoneinfo import ZoneInfo

from hotline_common.events.rota import RotaRecord, Shift

Source = Literal["shift", "override"]
IsAvailable = Callable[[uuid.UUID], bool]
Span = tuple[datetime, datetime]  # [start, end) in UTC
OVERRIDE = "override"  # the `shift` of an entry or interval that an override put on call
ONE_DAY = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class OnCallEntry:
    """One responder on call at the asked instant, and the stretch around it [since, until) they are on for."""

    responder_id: uuid.UUID
    shift: str  # the shift's name, or "override"
    since: datetime  # UTC
    until: datetime  # UTC
    source: Source
    rota_id: uuid.UUID


@dataclass(frozen=True, slots=True)
class Interval:
    """One responder on call over [start, end) in UTC, overrides applied."""

    responder_id: uuid.UUID
    start: datetime
    end: datetime
    shift: str
    source: Source
    rota_id: uuid.UUID


def _utc(value: datetime, name: str) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got the naive {value.isoformat()}")
    return value.astimezone(UTC)


# Memoised: pure, and the hot path asks for the same few (day, shift time, zone) over and over — every center's
# 08:30 today. 16k entries are ~2 MB.
@lru_cache(maxsize=16_384)
def local_instant(day: date, wall: time, zone: ZoneInfo) -> datetime:
    """The UTC instant at which the clocks of `zone` show `wall` on `day`.

    Non-decreasing in wall time, so back-to-back shifts stay back to back across DST: a repeated hour (fold) is
    taken at its first pass, and a skipped wall time (gap) is the instant the clocks jumped over it.
    """
    local = datetime.combine(day, wall)
    instant = local.replace(tzinfo=zone).astimezone(UTC)  # fold=0: the first pass, or the pre-jump offset in a gap
    if instant.astimezone(zone).replace(tzinfo=None) == local:
        return instant
    # In a gap: fold=1 lands before the jump and fold=0 after it; bisect on whole seconds for the jump itself.
    before = int(local.replace(tzinfo=zone, fold=1).timestamp())
    after = int(instant.timestamp())
    while after - before > 1:
        middle = (before + after) // 2
        if datetime.fromtimestamp(middle, zone).replace(tzinfo=None) > local:
            after = middle
        else:
            before = middle
    return datetime.fromtimestamp(after, UTC)


def occurrence(shift: Shift, day: date, zone: ZoneInfo) -> Span:
    """The UTC bounds of the occurrence of `shift` that starts on local `day` (whether or not it runs that day)."""
    end_day = day + ONE_DAY if shift.end <= shift.start else day
    return local_instant(day, shift.start, zone), local_instant(end_day, shift.end, zone)


def whose_turn(shift: Shift, day: date) -> list[uuid.UUID]:
    """The pool members on the occurrence starting on local `day`: everyone, or the one whose period it is."""
    if shift.rotate_every_days is None or shift.rotation_anchor is None:
        return list(shift.responder_ids)
    period = (day - shift.rotation_anchor).days // shift.rotate_every_days  # floor: also right before the anchor
    return [shift.responder_ids[period % len(shift.responder_ids)]]


def _shift_entries(rota: RotaRecord, at: datetime) -> Iterator[tuple[uuid.UUID, Shift, datetime, datetime]]:
    zone = rota.zone
    local = at.astimezone(zone)
    # A shift is shorter than a day, so only occurrences starting today or yesterday (local) can cover `at`; in the
    # second pass of a repeated hour, tomorrow's too when the fold straddles midnight.
    days = [local.date() - ONE_DAY, local.date()] + ([local.date() + ONE_DAY] if local.fold else [])
    for shift in rota.shifts:
        for day in days:
            if day.weekday() not in shift.days:
                continue
            since, until = occurrence(shift, day, zone)
            if since <= at < until:
                for responder_id in whose_turn(shift, day):
                    yield responder_id, shift, since, until


def _on_call_in(rota: RotaRecord, at: datetime) -> Iterator[OnCallEntry]:
    # Override instants are UTC (the model converts them), so these comparisons need no offset lookups.
    active, other_leaves = [], []
    for o in rota.overrides:
        if o.start <= at < o.end:
            active.append(o)
        elif o.replaces is not None:
            other_leaves.append(o)
    off = {o.replaces for o in active if o.replaces is not None}
    for responder_id, shift, begins, ends in _shift_entries(rota, at):
        if responder_id in off:
            continue
        since, until = begins, ends
        # Narrow the stretch to the leaves before and after `at` (one covering `at` took the responder off above).
        for leave in other_leaves:
            if leave.replaces == responder_id:
                if since < leave.end <= at:
                    since = leave.end
                elif at < leave.start < until:
                    until = leave.start
        yield OnCallEntry(responder_id, shift.name, since, until, "shift", rota.rota_id)
    # Someone named on call by an override is on call even if another override has them on leave.
    for cover in active:
        if cover.responder_id is not None:
            yield OnCallEntry(cover.responder_id, OVERRIDE, cover.start, cover.end, "override", rota.rota_id)


def on_call_many(rotas: Iterable[RotaRecord], at: datetime,
                 is_available: IsAvailable | None = None) -> list[OnCallEntry]:
    """Who of a unit with several rotas is on call at `at`: one entry per responder.

    A responder put on call twice keeps the entry that lasts longest from `at`. Order is stable: shift entries before
    override entries, each in the rotas' own order (rota, shift, pool; overrides as listed).
    """
    at = _utc(at, "at")
    chosen: dict[uuid.UUID, OnCallEntry] = {}
    for rota in rotas:
        for entry in _on_call_in(rota, at):
            if is_available is not None and not is_available(entry.responder_id):
                continue
            kept = chosen.get(entry.responder_id)
            if kept is None or entry.until > kept.until:
                chosen[entry.responder_id] = entry
    return sorted(chosen.values(), key=lambda e: e.source == "override")


def on_call(rota: RotaRecord, at: datetime, is_available: IsAvailable | None = None) -> list[OnCallEntry]:
    """Who of the rota is on call at the aware instant `at` (half-open: a shift ending at `at` is over).

    O(shifts + overrides): no expansion.
    """
    return on_call_many([rota], at, is_available)


def _subtract(start: datetime, end: datetime, holes: Sequence[Span]) -> Iterator[Span]:
    """[start, end) minus the holes (sorted by start)."""
    for hole_start, hole_end in holes:
        if hole_end <= start or hole_start >= end:
            continue
        if hole_start > start:
            yield start, hole_start
        start = max(start, hole_end)
        if start >= end:
            return
    yield start, end


def expand(rota: RotaRecord, start: datetime, end: datetime) -> list[Interval]:
    """Every stretch anyone of the rota is on call within [start, end), clipped to it, sorted by start.

    Brute force on purpose: each local day of the window, each shift, then overrides applied to the intervals. It is
    the reference the shortcut in `on_call` is tested against, and what coverage is computed from.
    """
    start, end = _utc(start, "start"), _utc(end, "end")
    if start > end:
        raise ValueError(f"the window starts ({start.isoformat()}) after it ends ({end.isoformat()})")
    zone = rota.zone
    leaves: dict[uuid.UUID, list[Span]] = {}
    for o in rota.overrides:
        if o.replaces is not None:
            leaves.setdefault(o.replaces, []).append((o.start, o.end))
    for holes in leaves.values():
        holes.sort()
    intervals: list[Interval] = []
    # From the day before the window (its night shift may run into it) to the day after (a fold can straddle midnight).
    day, last = start.astimezone(zone).date() - ONE_DAY, end.astimezone(zone).date() + ONE_DAY
    while day <= last:
        for shift in rota.shifts:
            if day.weekday() in shift.days:
                since, until = occurrence(shift, day, zone)
                for responder_id in whose_turn(shift, day):
                    for a, b in _subtract(max(since, start), min(until, end), leaves.get(responder_id, [])):
                        if a < b:
                            intervals.append(Interval(responder_id, a, b, shift.name, "shift", rota.rota_id))
        day += ONE_DAY
    for o in rota.overrides:
        a, b = max(o.start, start), min(o.end, end)
        if o.responder_id is not None and a < b:
            intervals.append(Interval(o.responder_id, a, b, OVERRIDE, "override", rota.rota_id))
    intervals.sort(key=lambda i: (i.start, i.end))
    return intervals


def coverage_gaps_many(rotas: Iterable[RotaRecord], start: datetime, end: datetime,
                       is_available: IsAvailable | None = None) -> list[Span]:
    """The maximal stretches of [start, end), in UTC, in which nobody of any of the unit's rotas is on call."""
    start, end = _utc(start, "start"), _utc(end, "end")
    if start > end:
        raise ValueError(f"the window starts ({start.isoformat()}) after it ends ({end.isoformat()})")
    covered = sorted((i.start, i.end) for rota in rotas for i in expand(rota, start, end)
                     if is_available is None or is_available(i.responder_id))
    gaps: list[Span] = []
    cursor = start
    for a, b in covered:
        if a > cursor:
            gaps.append((cursor, a))
        cursor = max(cursor, b)
    if cursor < end:
        gaps.append((cursor, end))
    return gaps


def coverage_gaps(rota: RotaRecord | None, start: datetime, end: datetime,
                  is_available: IsAvailable | None = None) -> list[Span]:
    """The maximal stretches of [start, end) with nobody on call; a unit without a rota is one gap."""
    return coverage_gaps_many([] if rota is None else [rota], start, end, is_available)
