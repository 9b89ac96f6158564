"""Who is on call: rota validation, the per-instant answer against brute-force expansion, and coverage gaps."""

from __future__ import annotations

import itertools
import re
import uuid
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from hotline_common.events.rota import EscalationLevel, EscalationTarget, Override, RotaRecord, Shift, Weekday
from hotline_common.oncall import coverage_gaps, expand, local_instant, on_call, on_call_many

BANGKOK = ZoneInfo("Asia/Bangkok")
LONDON = ZoneInfo("Europe/London")
anan, busaba, chai = (uuid.UUID(int=n) for n in (1, 2, 3))
ROTATION_ANCHOR = date(2025, 1, 6)  # a Monday: anan's week, then busaba's (13th), chai's (20th), anan's again


def bkk(day: int, hour: int, minute: int = 0, month: int = 1) -> datetime:
    return datetime(2025, month, day, hour, minute, tzinfo=BANGKOK)


def rota(*shifts: Shift, overrides: tuple[Override, ...] = (), timezone: str = "Asia/Bangkok") -> RotaRecord:
    return RotaRecord(rota_id=uuid.uuid4(), unit_kind="center", unit_id=uuid.uuid4(), name="ศูนย์ช่วยเหลือสังคมตำบล",
                      timezone=timezone, shifts=list(shifts), overrides=list(overrides))


def day_and_night(*overrides: Override) -> RotaRecord:
    weekly = {"responder_ids": [anan, busaba, chai], "rotate_every_days": 7, "rotation_anchor": ROTATION_ANCHOR}
    return rota(Shift(name="day", start=time(8, 30), end=time(16, 30), **weekly),
                Shift(name="night", start=time(16, 30), end=time(8, 30), **weekly), overrides=overrides)


def who(r: RotaRecord, at: datetime) -> list[tuple[uuid.UUID, str]]:
    return [(e.responder_id, e.shift) for e in on_call(r, at)]


# --- the story of a week ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("at", "expected"), [
    (bkk(8, 16, 29), [(anan, "day")]),
    (bkk(8, 16, 30), [(anan, "night")]),
    (bkk(8, 23, 59), [(anan, "night")]),
    (bkk(9, 0, 0), [(anan, "night")]),
    (bkk(9, 8, 29), [(anan, "night")]),
    (bkk(9, 8, 30), [(anan, "day")]),
    # Sunday night started in anan's week, so it stays anan's past midnight into busaba's Monday.
    (bkk(12, 16, 30), [(anan, "night")]),
    (bkk(13, 0, 0), [(anan, "night")]),
    (bkk(13, 8, 29), [(anan, "night")]),
    (bkk(13, 8, 30), [(busaba, "day")]),
    (bkk(20, 8, 30), [(chai, "day")]),
    (bkk(27, 8, 30), [(anan, "day")]),
    (bkk(5, 20, 0), [(chai, "night")]),  # the week before the anchor is the last of the pool's
])
def test_a_weekly_day_and_night_rotation_hands_over_at_08_30_and_16_30(at: datetime, expected: list[object]) -> None:
    assert who(day_and_night(), at) == expected


def test_an_entry_tells_since_and_until_in_utc() -> None:
    [entry] = on_call(day_and_night(), bkk(13, 8, 29))
    assert (entry.since, entry.until) == (bkk(12, 16, 30).astimezone(UTC), bkk(13, 8, 30).astimezone(UTC))
    assert entry.since.tzinfo is UTC and entry.source == "shift"


def test_leave_takes_a_volunteer_off_and_a_swap_puts_another_in() -> None:
    leave = Override(start=bkk(8, 12), end=bkk(8, 14), replaces=anan, reason="ลาป่วย")
    swap = Override(start=bkk(9, 16, 30), end=bkk(10, 8, 30), responder_id=busaba, replaces=anan)
    r = day_and_night(leave, swap)
    assert who(r, bkk(8, 13)) == []
    assert who(r, bkk(9, 20)) == [(busaba, "override")]
    [before] = on_call(r, bkk(8, 10))
    [after] = on_call(r, bkk(8, 15))
    assert before.until == bkk(8, 12).astimezone(UTC)  # the stretch ends where the leave begins
    assert after.since == bkk(8, 14).astimezone(UTC)
    assert coverage_gaps(r, bkk(8, 0), bkk(11, 0)) == [(bkk(8, 12).astimezone(UTC), bkk(8, 14).astimezone(UTC))]


def test_extra_cover_adds_a_responder_beside_the_rota() -> None:
    cover = Override(start=bkk(8, 18), end=bkk(8, 22), responder_id=chai, reason="flood season")
    assert who(day_and_night(cover), bkk(8, 19)) == [(anan, "night"), (chai, "override")]


def test_a_pool_without_rotation_is_on_call_together_and_availability_filters_it() -> None:
    r = rota(Shift(name="เวรกลางวัน", start=time(8, 30), end=time(16, 30), responder_ids=[anan, busaba, chai]))
    assert [e.responder_id for e in on_call(r, bkk(8, 9))] == [anan, busaba, chai]
    assert [e.responder_id for e in on_call(r, bkk(8, 9), is_available=lambda rid: rid != busaba)] == [anan, chai]


def test_the_rotas_of_one_unit_are_answered_together_once_per_responder() -> None:
    day = rota(Shift(name="day", start=time(8, 30), end=time(16, 30), responder_ids=[anan, busaba]))
    backup = rota(Shift(name="backup", start=time(0, 0), end=time(23, 59), responder_ids=[busaba, chai]))
    entries = on_call_many([day, backup], bkk(8, 9))
    assert [(e.responder_id, e.shift) for e in entries] == [(anan, "day"), (busaba, "backup"), (chai, "backup")]


def test_a_naive_instant_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        on_call(day_and_night(), datetime(2025, 1, 8, 12))


# --- coverage ---------------------------------------------------------------------------------------------------


def test_a_weekday_day_shift_leaves_nights_and_the_weekend_uncovered() -> None:
    office = Shift(name="office", start=time(8, 30), end=time(16, 30), days=list(Weekday)[:5], responder_ids=[anan])
    gaps = coverage_gaps(rota(office), bkk(6, 0), bkk(13, 0))
    expected = [(bkk(6, 0), bkk(6, 8, 30))] + [(bkk(d, 16, 30), bkk(d + 1, 8, 30)) for d in range(6, 10)]
    expected.append((bkk(10, 16, 30), bkk(13, 0)))
    assert gaps == [(a.astimezone(UTC), b.astimezone(UTC)) for a, b in expected]
    assert coverage_gaps(rota(office), bkk(6, 0), bkk(13, 0), is_available=lambda _: False) == [
        (bkk(6, 0).astimezone(UTC), bkk(13, 0).astimezone(UTC))]


def test_a_unit_without_a_rota_is_uncovered_all_window() -> None:
    assert coverage_gaps(None, bkk(6, 0), bkk(13, 0)) == [(bkk(6, 0).astimezone(UTC), bkk(13, 0).astimezone(UTC))]


# --- zones with daylight saving time ----------------------------------------------------------------------------


def london(month: int, day: int, hour: int, minute: int = 0, fold: int = 0) -> datetime:
    return datetime(2025, month, day, hour, minute, tzinfo=LONDON, fold=fold)


def utc(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2025, month, day, hour, minute, tzinfo=UTC)


def test_a_night_shift_is_an_hour_shorter_when_the_clocks_go_forward_and_longer_when_they_go_back() -> None:
    r = rota(Shift(name="night", start=time(22), end=time(6), responder_ids=[anan]), timezone="Europe/London")
    [spring] = on_call(r, london(3, 30, 3))
    assert (spring.since, spring.until) == (utc(3, 29, 22), utc(3, 30, 5))  # 22:00 GMT to 06:00 BST: 7 hours
    [autumn] = on_call(r, london(10, 26, 5, 59))
    assert (autumn.since, autumn.until) == (utc(10, 25, 21), utc(10, 26, 6))  # 22:00 BST to 06:00 GMT: 9 hours


def test_a_shift_starting_in_the_skipped_hour_starts_when_the_clocks_jump() -> None:
    r = rota(Shift(name="early", start=time(1, 30), end=time(9), responder_ids=[anan]), timezone="Europe/London")
    assert who(r, utc(3, 30, 0, 59)) == []
    assert on_call(r, utc(3, 30, 1))[0].since == utc(3, 30, 1)


def test_the_repeated_hour_belongs_to_the_shift_that_began_in_its_first_pass() -> None:
    r = rota(Shift(name="late", start=time(0), end=time(1, 30), responder_ids=[anan]),
             Shift(name="early", start=time(1, 30), end=time(8), responder_ids=[busaba]), timezone="Europe/London")
    assert who(r, london(10, 26, 1, 15)) == [(anan, "late")]  # first pass, 00:15 UTC
    assert who(r, london(10, 26, 1, 15, fold=1)) == [(busaba, "early")]  # second pass, 01:15 UTC


def test_when_the_repeated_hour_straddles_midnight_the_shift_of_the_new_day_is_still_on() -> None:
    # St John's fell back at 00:01 to 23:01 of the day before (2010): the midnight shift began in the first pass.
    r = rota(Shift(name="midnight", start=time(0), end=time(6), responder_ids=[anan]), timezone="America/St_Johns")
    second_pass = datetime(2010, 11, 7, 3, tzinfo=UTC)
    assert second_pass.astimezone(r.zone).date() == date(2010, 11, 6)
    [entry] = on_call(r, second_pass)
    assert entry.since == datetime(2010, 11, 7, 2, 30, tzinfo=UTC)


# --- validation -------------------------------------------------------------------------------------------------


def rejected(**fields: object) -> list[tuple[tuple[int | str, ...], str]]:
    base: dict[str, object] = {"rota_id": uuid.uuid4(), "unit_kind": "center", "unit_id": uuid.uuid4(), "name": "r"}
    with pytest.raises(ValidationError) as caught:
        RotaRecord.model_validate(base | fields)
    return [(tuple(e["loc"]), e["msg"]) for e in caught.value.errors()]


def shift(name: str, start: str, end: str, **more: object) -> dict[str, object]:
    return {"name": name, "start": start, "end": end, "responder_ids": [str(anan)], **more}


def test_a_zero_length_shift_is_rejected() -> None:
    [(loc, msg)] = rejected(shifts=[shift("day", "08:30", "08:30")])
    assert loc == ("shifts", 0) and "no length" in msg


@pytest.mark.parametrize(("shifts", "where"), [
    ([shift("day", "08:00", "17:00"), shift("night", "16:00", "08:00")], "Monday 16:00–17:00"),
    ([shift("day", "08:00", "17:00"), shift("night", "16:30", "08:30")], "Monday 08:00–08:30"),
    ([shift("sunday night", "22:00", "07:00", days=[6]), shift("monday", "06:00", "12:00", days=[0])],
     "Monday 06:00–07:00"),
])
def test_overlapping_shifts_are_rejected_naming_both_and_the_weekday(shifts: list[object], where: str) -> None:
    [(loc, msg)] = rejected(shifts=shifts)
    assert loc == ("shifts", 1)
    assert f"shift {shifts[1]['name']!r} overlaps shift {shifts[0]['name']!r} on {where}" in msg  # type: ignore[index]


def test_shifts_meeting_end_to_start_are_accepted() -> None:
    assert len(day_and_night().shifts) == 2


@pytest.mark.parametrize(("fields", "loc", "fragment"), [
    ({"timezone": "Asia/Bangkokk"}, ("timezone",), "'Asia/Bangkokk'"),
    ({"overrides": [{"start": "2025-01-08T12:00", "end": "2025-01-08T14:00+07:00", "replaces": str(anan)}]},
     ("overrides", 0, "start"), "timezone"),
    ({"overrides": [{"start": "2025-01-08T14:00+07:00", "end": "2025-01-08T12:00+07:00", "replaces": str(anan)}]},
     ("overrides", 0), "at or after it ends"),
    ({"overrides": [{"start": "2025-01-08T12:00Z", "end": "2025-01-08T14:00Z"}]}, ("overrides", 0), "both"),
    ({"shifts": [shift("day", "08:30", "16:30", rotate_every_days=7)]}, ("shifts", 0), "rotation_anchor"),
    ({"shifts": [shift("day", "08:30", "16:30", responder_ids=[str(anan), str(anan)])]},
     ("shifts", 0, "responder_ids"), "twice"),
    ({"shifts": [shift("day", "08:30", "16:30", days=[])]}, ("shifts", 0, "days"), "at least one"),
    ({"shifts": [shift("day", "08:30:15", "16:30")]}, ("shifts", 0, "start"), "whole minutes"),
    ({"shifts": [shift("day", "08:30", "12:00"), shift("day", "13:00", "16:30")]}, ("shifts", 1), "twice"),
    ({"escalation": [{"targets": [{"kind": "center"}], "timeout_minutes": 10}]},
     ("escalation", 0, "targets", 0), "needs the center's id"),
    ({"escalation": [{"targets": [{"kind": "on_call", "id": str(anan)}], "timeout_minutes": 10}]},
     ("escalation", 0, "targets", 0), "takes no id"),
])
def test_a_faulty_rota_is_rejected_at_the_faulty_field(fields: dict[str, object], loc: tuple[object, ...],
                                                        fragment: str) -> None:
    errors = rejected(**fields)
    assert any(where == loc and fragment in msg for where, msg in errors), errors


def test_a_rota_survives_the_trip_through_kafka_with_its_instants_in_utc() -> None:
    leave = Override(start=bkk(8, 12), end=bkk(8, 14), replaces=anan)
    r = day_and_night(leave)
    assert RotaRecord.model_validate_json(r.model_dump_json()) == r
    assert r.overrides[0].start.tzinfo is UTC and r.overrides[0].start == bkk(8, 12)
    assert r.subject() == str(r.rota_id) and RotaRecord.model_json_schema()["properties"]["shifts"]


def test_an_escalation_policy_reads_like_the_hotline_runs_it() -> None:
    policy = [EscalationLevel(targets=[EscalationTarget(kind="on_call")], timeout_minutes=10, repeat=1),
              EscalationLevel(targets=[EscalationTarget(kind="agency", id=uuid.uuid4()),
                                       EscalationTarget(kind="hotline_supervisor")], timeout_minutes=30)]
    assert day_and_night().model_copy(update={"escalation": policy}).escalation[1].targets[1].id is None


# --- properties -------------------------------------------------------------------------------------------------

PEOPLE = [uuid.UUID(int=n) for n in range(1, 7)]
ZONES = ["Asia/Bangkok", "Europe/London", "Australia/Lord_Howe", "America/Sao_Paulo", "America/Santiago",
         "America/St_Johns"]
# DST transitions of those zones: London, Lord Howe (30 min, at 02:00), São Paulo (at midnight), Santiago, and
# St John's at 00:01 (its repeated hour straddles midnight).
TRANSITIONS = [date(2025, 3, 30), date(2025, 10, 26), date(2025, 4, 6), date(2025, 10, 5), date(2018, 11, 4),
               date(2019, 2, 16), date(2025, 4, 5), date(2025, 9, 7), date(2010, 3, 14), date(2010, 11, 7)]
EDGE_MINUTES = [0, 1, 59, 60, 90, 120, 150, 510, 990, 1380, 1439]
dates = st.one_of(st.sampled_from([d + timedelta(days=k) for d in TRANSITIONS for k in (-1, 0, 1)]),
                  st.dates(date(2018, 1, 1), date(2026, 12, 31)))
minutes_of_day = st.one_of(st.sampled_from(EDGE_MINUTES), st.integers(0, 1439))


def hhmm(minute: int) -> time:
    return time(minute // 60 % 24, minute % 60)


@st.composite
def scenarios(draw: st.DrawFn, zones: list[str] = ZONES) -> tuple[RotaRecord, datetime]:
    """A rota of 1–4 shifts cut from the day (so they never overlap), an instant near its edges, overrides near it."""
    zone = draw(st.sampled_from(zones))
    cuts = sorted(draw(st.sets(minutes_of_day, min_size=2, max_size=8)))
    segments = list(zip(cuts, cuts[1:] + cuts[:1], strict=True))
    shifts = []
    for n, i in enumerate(draw(st.lists(st.sampled_from(range(len(segments))), min_size=1, max_size=4, unique=True))):
        every = draw(st.sampled_from([None, 1, 2, 7]))
        shifts.append(Shift(
            name=f"shift {n}", start=hhmm(segments[i][0]), end=hhmm(segments[i][1]),
            days=draw(st.one_of(st.just(list(Weekday)), st.lists(st.sampled_from(list(Weekday)), min_size=1,
                                                                  unique=True))),
            responder_ids=draw(st.lists(st.sampled_from(PEOPLE), min_size=1, max_size=5, unique=True)),
            rotate_every_days=every, rotation_anchor=draw(dates) if every else None))
    minute = draw(st.one_of(st.sampled_from(cuts), minutes_of_day))
    wall = datetime.combine(draw(dates), hhmm(minute), tzinfo=ZoneInfo(zone)).replace(fold=draw(st.integers(0, 1)))
    at = wall.astimezone(UTC) + timedelta(seconds=draw(st.sampled_from([0, 0, -1, 1, -60, 60, 30])))
    overrides = []
    for _ in range(draw(st.integers(0, 4))):
        start = wall.astimezone(UTC) + timedelta(minutes=draw(st.one_of(st.sampled_from([0, 1, -1]),
                                                                        st.integers(-2880, 1440))))
        responder, replaces = draw(st.lists(st.sampled_from(PEOPLE), min_size=2, max_size=2, unique=True))
        kind = draw(st.sampled_from(["leave", "swap", "cover"]))
        overrides.append(Override(start=start.astimezone(draw(st.sampled_from([UTC, ZoneInfo(zone)]))),
                                  end=start + timedelta(minutes=draw(st.integers(1, 2880))),
                                  responder_id=None if kind == "leave" else responder,
                                  replaces=None if kind == "cover" else replaces))
    return rota(*shifts, overrides=tuple(overrides), timezone=zone), at


def on_call_by_expansion(r: RotaRecord, at: datetime) -> set[uuid.UUID]:
    return {i.responder_id for i in expand(r, at - timedelta(days=2), at + timedelta(days=2)) if i.start <= at < i.end}


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_on_call_agrees_with_expanding_the_rota(scenario: tuple[RotaRecord, datetime]) -> None:
    r, at = scenario
    entries = on_call(r, at)
    assert {e.responder_id for e in entries} == on_call_by_expansion(r, at)
    assert len({e.responder_id for e in entries}) == len(entries)
    bounds = [at] + [t for o in r.overrides for t in (o.start, o.end)]
    stretches = expand(r, min(bounds) - timedelta(days=2), max(bounds) + timedelta(days=2))
    for e in entries:
        assert e.since <= at < e.until
        assert (e.responder_id, e.since, e.until, e.shift) in {(i.responder_id, i.start, i.end, i.shift)
                                                               for i in stretches}


def on_call_by_wall_clock(r: RotaRecord, at: datetime) -> set[uuid.UUID]:
    """An independent reading for zones without DST: compare naive local wall-clock times, no UTC conversion."""
    local = at.astimezone(r.zone).replace(tzinfo=None)
    people: set[uuid.UUID] = set()
    for s in r.shifts:
        for back in range(-1, 3):
            day = local.date() - timedelta(days=back)
            begin = datetime.combine(day, s.start)
            finish = datetime.combine(day + timedelta(days=s.end <= s.start), s.end)
            if day.weekday() in s.days and begin <= local < finish:
                if s.rotate_every_days and s.rotation_anchor:
                    periods = (day - s.rotation_anchor).days // s.rotate_every_days
                    people.add(s.responder_ids[periods % len(s.responder_ids)])
                else:
                    people.update(s.responder_ids)
    active = [o for o in r.overrides if o.start <= at < o.end]
    return (people - {o.replaces for o in active}) | {o.responder_id for o in active if o.responder_id}


@settings(max_examples=250, deadline=None)
@given(scenarios(zones=["Asia/Bangkok", "Asia/Kolkata", "UTC"]))
def test_on_call_agrees_with_the_wall_clock_where_there_is_no_daylight_saving(
        scenario: tuple[RotaRecord, datetime]) -> None:
    r, at = scenario
    assert {e.responder_id for e in on_call(r, at)} == on_call_by_wall_clock(r, at)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios(), st.integers(0, 4 * 1440), st.sets(st.sampled_from(PEOPLE)), st.lists(st.integers(0, 10**6)))
def test_gaps_and_on_call_partition_the_window(scenario: tuple[RotaRecord, datetime], minutes: int,
                                               available: set[uuid.UUID], samples: list[int]) -> None:
    r, start = scenario
    end = start + timedelta(minutes=minutes)
    gaps = coverage_gaps(r, start, end, available.__contains__)
    for (_, b), (a, _) in itertools.pairwise(gaps):
        assert b < a  # maximal: no two gaps touch
    assert all(start <= a < b <= end for a, b in gaps)
    edges = [t for a, b in gaps for t in (a, b - timedelta(microseconds=1), a - timedelta(microseconds=1), b)]
    probes = [t for t in edges + [start + (end - start) * s / 10**6 for s in samples] if start <= t < end]
    for t in probes:
        in_gap = any(a <= t < b for a, b in gaps)
        assert in_gap == (on_call(r, t, available.__contains__) == []), t


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(minutes_of_day, minutes_of_day, st.sets(st.sampled_from(list(Weekday)), min_size=1))
                .filter(lambda s: s[0] != s[1]), min_size=2, max_size=2))
def test_shifts_are_rejected_exactly_when_some_minute_of_the_week_is_double_booked(
        drawn: list[tuple[int, int, set[Weekday]]]) -> None:
    def minutes(start: int, end: int, days: set[Weekday]) -> set[int]:
        return {(d * 1440 + start + k) % (7 * 1440) for d in days for k in range((end - start) % 1440)}

    both = minutes(*drawn[0]) & minutes(*drawn[1])
    shifts = [shift(f"s{n}", f"{hhmm(a):%H:%M}", f"{hhmm(b):%H:%M}", days=sorted(d))
              for n, (a, b, d) in enumerate(drawn)]
    if not both:
        RotaRecord.model_validate({"rota_id": uuid.uuid4(), "unit_kind": "agency", "unit_id": uuid.uuid4(),
                                   "name": "r", "shifts": shifts})
        return
    [(loc, msg)] = rejected(shifts=shifts)
    found = re.search(r"on (\w+) (\d\d):(\d\d)–", msg)
    assert loc == ("shifts", 1) and found
    day = [w.label for w in Weekday].index(found[1])
    assert day * 1440 + int(found[2]) * 60 + int(found[3]) in both


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(ZONES), dates, minutes_of_day, dates, minutes_of_day)
def test_wall_clock_times_map_to_instants_in_order(zone_name: str, d1: date, m1: int, d2: date, m2: int) -> None:
    zone = ZoneInfo(zone_name)
    (d1, m1), (d2, m2) = sorted([(d1, m1), (d2, m2)])
    first, second = local_instant(d1, hhmm(m1), zone), local_instant(d2, hhmm(m2), zone)
    assert first <= second
    plain = datetime.combine(d1, hhmm(m1), tzinfo=zone)
    if plain.astimezone(UTC).astimezone(zone).replace(tzinfo=None) == plain.replace(tzinfo=None):
        assert first == plain.astimezone(UTC)  # a wall time that exists is taken at face value (first pass)
