"""The watchdog's judgement (libs/common health.assess) and its paging rules (alarms.next_pages), without a broker:
when is a service down, not ready, stuck or lagging, and when is the ops on-call paged, again, and told it is over."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hotline_common.events import AlarmState, ServiceHeartbeat
from hotline_common.health import LagSample, Problem, Thresholds, assess, lagging
from hotline_watchdog.alarms import next_pages, paged

T0 = datetime(2026, 11, 24, 20, 0, tzinfo=UTC)  # 03:00 in Bangkok
T = Thresholds(missing_after=60, stuck_after=120, lag_window=120, lag_min=1)


def beat(service: str, at: datetime, *, instance: str = "host/1", ready: bool = True, in_flight: int = 0,
         oldest: float = 0.0, checks: dict[str, bool] | None = None) -> ServiceHeartbeat:
    return ServiceHeartbeat(service=service, instance=instance, started_at=T0 - timedelta(hours=1),
                            interval_seconds=15, ready=ready, checks=checks or {"database": ready, "kafka": True},
                            in_flight=in_flight, oldest_in_flight_seconds=oldest, occurred_at=at)


def kinds(problems: list[Problem]) -> set[tuple[str, str]]:
    return {p.key for p in problems}


def judge(now: datetime, beats: list[ServiceHeartbeat], lag: dict[str, list[LagSample]] | None = None,
          services: tuple[str, ...] = ("routing", "notify")) -> list[Problem]:
    return assess(now, services=services, heartbeats=beats, lag=lag or {}, watching_since=T0 - timedelta(hours=1),
                  t=T)


def test_a_service_heard_within_the_window_is_fine_and_one_silent_for_it_is_down() -> None:
    beats = [beat("routing", T0 - timedelta(seconds=59)), beat("notify", T0 - timedelta(seconds=61))]
    problems = judge(T0, beats)
    assert kinds(problems) == {("notify", "down")}
    assert problems[0].detail == "no heartbeat for 61 s" and "61 วินาที" in problems[0].detail_th


def test_one_live_instance_is_enough_and_the_newest_heartbeat_of_each_counts() -> None:
    beats = [beat("notify", T0 - timedelta(minutes=10), instance="a/1"), beat("notify", T0, instance="b/2"),
             beat("routing", T0 - timedelta(minutes=5)), beat("routing", T0 - timedelta(seconds=5))]
    assert judge(T0, beats) == []


def test_a_service_never_heard_is_down_only_once_the_watchdog_has_listened_long_enough() -> None:
    just_started = assess(T0, services=["notify"], heartbeats=[], lag={}, watching_since=T0 - timedelta(seconds=30),
                          t=T)
    assert just_started == []
    later = assess(T0, services=["notify"], heartbeats=[], lag={}, watching_since=T0 - timedelta(seconds=60), t=T)
    assert kinds(later) == {("notify", "down")}


def test_not_ready_names_the_failing_check_only_when_no_live_instance_is_ready() -> None:
    sick = beat("notify", T0, instance="a/1", ready=False, checks={"database": False, "kafka": True})
    problems = judge(T0, [sick, beat("routing", T0)])
    assert kinds(problems) == {("notify", "not_ready")}
    assert problems[0].detail == "not ready: database"
    assert judge(T0, [sick, beat("notify", T0, instance="b/2"), beat("routing", T0)]) == []


def test_stuck_counts_the_time_since_the_heartbeat_too() -> None:
    # 100 s in the handler when the heartbeat left 30 s ago: 130 s by now.
    problems = judge(T0, [beat("routing", T0 - timedelta(seconds=30), in_flight=1, oldest=100), beat("notify", T0)])
    assert kinds(problems) == {("routing", "stuck")}
    assert "130 s" in problems[0].detail
    assert judge(T0, [beat("routing", T0, in_flight=3, oldest=119), beat("notify", T0)]) == []


def samples(*points: tuple[int, int]) -> list[LagSample]:
    """(seconds before T0, records waiting) pairs."""
    return [LagSample(T0 - timedelta(seconds=ago), waiting) for ago, waiting in points]


def test_lagging_needs_a_whole_window_of_waiting_records_that_did_not_drain() -> None:
    assert lagging(samples((130, 5), (90, 6), (30, 9), (0, 9)), T0, T) is not None
    assert lagging(samples((130, 5), (90, 6), (30, 0), (0, 9)), T0, T) is None  # it was empty in between
    assert lagging(samples((130, 9), (60, 6), (0, 3)), T0, T) is None  # draining
    assert lagging(samples((100, 5), (0, 9)), T0, T) is None  # not watched for a whole window yet
    problems = judge(T0, [beat("routing", T0), beat("notify", T0)],
                     lag={"routing": samples((130, 4), (60, 6), (0, 7))})
    assert kinds(problems) == {("routing", "lagging")}
    assert problems[0].detail == "7 records waiting, not draining for 130 s"


def test_a_problem_is_paged_when_it_starts_again_while_it_lasts_and_once_when_it_clears() -> None:
    down = Problem("notify", "down", "no heartbeat for 61 s", "ไม่มีสัญญาณชีพ 61 วินาที")
    repeat = timedelta(minutes=15)
    pages, alarms = next_pages({}, [down], T0, repeat_after=repeat)
    assert [(p.state, p.problem.key) for p in pages] == [(AlarmState.raised, ("notify", "down"))]
    text = pages[0].text(T0)
    assert text.startswith("⚠ 1300 watchdog: notify ไม่ตอบสนอง") and "03:00 น." in text and "notify down" in text
    paged(alarms, pages[0], T0)

    pages, alarms = next_pages(alarms, [down], T0 + timedelta(minutes=5), repeat_after=repeat)
    assert pages == []
    pages, alarms = next_pages(alarms, [down], T0 + timedelta(minutes=15), repeat_after=repeat)
    assert [p.state for p in pages] == [AlarmState.repeated]
    assert pages[0].since == T0
    paged(alarms, pages[0], T0 + timedelta(minutes=15))

    pages, alarms = next_pages(alarms, [], T0 + timedelta(minutes=20), repeat_after=repeat)
    assert [p.state for p in pages] == [AlarmState.cleared] and alarms == {}
    assert "กลับมาทำงานแล้ว" in pages[0].text(T0 + timedelta(minutes=20))
    assert "20 นาที" in pages[0].text(T0 + timedelta(minutes=20))


def test_a_page_no_channel_took_is_raised_again_at_the_next_check_and_its_end_is_not_announced() -> None:
    stuck = Problem("routing", "stuck", "x", "x")
    pages, alarms = next_pages({}, [stuck], T0, repeat_after=timedelta(minutes=15))
    # Nobody took it (not marked paged): the next check raises it again, with its first `since`.
    pages, alarms = next_pages(alarms, [stuck], T0 + timedelta(seconds=10), repeat_after=timedelta(minutes=15))
    assert [(p.state, p.since) for p in pages] == [(AlarmState.raised, T0)]
    pages, alarms = next_pages(alarms, [], T0 + timedelta(seconds=20), repeat_after=timedelta(minutes=15))
    assert pages == [] and alarms == {}
