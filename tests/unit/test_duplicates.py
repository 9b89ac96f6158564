"""Duplicate-incident suggestions: the same place and window are required, and the same caller is not a duplicate."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from hotline_intake.duplicates import THRESHOLD, WINDOW, Sighting, score, suggestions

T0 = datetime(2026, 11, 24, 3, 0, tzinfo=UTC)
CALL = Sighting("570511", None, None, T0, "child_youth", "child", "hotline", b"caller-a")


def later(**changes: object) -> Sighting:
    base = dict(tambon_code="570511", lat=None, lon=None, at=T0 + timedelta(hours=2), category="child_youth",
                target_group="child", channel="line", caller_key=b"caller-b")
    return Sighting(**(base | changes))  # type: ignore[arg-type]


def test_a_line_message_about_the_same_child_in_the_same_tambon_is_suggested() -> None:
    assert score(later(), CALL) >= THRESHOLD


def test_another_place_or_outside_the_window_is_not() -> None:
    assert score(later(tambon_code="570512"), CALL) == 0
    assert score(later(at=T0 + WINDOW + timedelta(minutes=1)), CALL) == 0


def test_a_position_near_the_place_counts_as_the_same_place() -> None:
    here = Sighting(None, 19.5963, 99.7408, T0, "child_youth", "child", "hotline")
    near = later(tambon_code=None, lat=19.6050, lon=99.7450)  # about 1 km away
    far = later(tambon_code=None, lat=19.9, lon=99.74)  # about 34 km
    assert score(near, here) >= THRESHOLD and score(far, here) == 0


def test_the_same_caller_again_is_a_repeat_caller_not_a_second_report() -> None:
    assert score(later(caller_key=b"caller-a"), CALL) == 0


def test_another_group_of_people_is_less_likely_than_the_same_one() -> None:
    assert score(later(target_group="elderly", category="elderly"), CALL) < THRESHOLD <= score(later(), CALL)


def test_suggestions_are_the_likely_ones_likeliest_first() -> None:
    earlier = [("far", later(tambon_code="100101")), ("old", later(at=T0 - timedelta(hours=3))),
               ("close", later(at=T0 + timedelta(minutes=10)))]
    assert [k for k, _ in suggestions(CALL, earlier)] == ["close", "old"]


@given(st.sampled_from(["child", "elderly", "woman"]), st.sampled_from(["hotline", "line", "walk_in"]),
       st.integers(min_value=-600, max_value=600))
def test_the_score_is_symmetric_and_bounded(group: str, channel: str, minutes: int) -> None:
    other = later(target_group=group, channel=channel, at=T0 + timedelta(minutes=minutes))
    assert 0 <= score(other, CALL) == score(CALL, other) <= 1
