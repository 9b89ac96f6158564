"""When to page: a problem is paged when it starts, again every `repeat_after` while it lasts, and once more when it
has cleared. Pure: the watchdog keeps the open alarms and acts on the pages this returns."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from hotline_common.events import AlarmState
from hotline_common.health import KINDS_TH, Problem
from hotline_common.thai_time import clock_th


@dataclass(frozen=True)
class OpenAlarm:
    problem: Problem
    since: datetime
    paged_at: datetime | None = None  # None: no pager channel took it yet (tried again at the next check)


@dataclass(frozen=True)
class Page:
    state: AlarmState
    problem: Problem
    since: datetime

    def text(self, now: datetime) -> str:
        """One short message, Thai first, for an SMS or a pager: what, which service, since when."""
        p = self.problem
        at = clock_th(self.since)
        if self.state is AlarmState.cleared:
            minutes = max(1, round((now - self.since).total_seconds() / 60))
            return (f"✓ 1300 watchdog: {p.service} กลับมาทำงานแล้ว ({KINDS_TH.get(p.kind, p.kind)} ตั้งแต่ {at}, "
                    f"{minutes} นาที) · {p.service} recovered ({p.kind} since {at})")
        again = " (ซ้ำ · again)" if self.state is AlarmState.repeated else ""
        return (f"⚠ 1300 watchdog{again}: {p.service} {KINDS_TH.get(p.kind, p.kind)} — {p.detail_th} "
                f"ตั้งแต่ {at} · {p.service} {p.kind}: {p.detail}")


def next_pages(alarms: dict[tuple[str, str], OpenAlarm], problems: list[Problem], now: datetime, *,
               repeat_after: timedelta) -> tuple[list[Page], dict[tuple[str, str], OpenAlarm]]:
    """The pages due now and the alarms open afterwards (before paging: mark them paged with `paged`)."""
    pages: list[Page] = []
    still: dict[tuple[str, str], OpenAlarm] = {}
    for problem in problems:
        alarm = alarms.get(problem.key)
        if alarm is None:
            alarm = OpenAlarm(problem, since=now)
            pages.append(Page(AlarmState.raised, problem, now))
        else:
            alarm = replace(alarm, problem=problem)  # the latest figures (seconds, records waiting)
            if alarm.paged_at is None:
                pages.append(Page(AlarmState.raised, problem, alarm.since))
            elif now - alarm.paged_at >= repeat_after:
                pages.append(Page(AlarmState.repeated, problem, alarm.since))
        still[problem.key] = alarm
    for key, alarm in alarms.items():
        if key not in still and alarm.paged_at is not None:  # never paged: nobody needs to hear it is over
            pages.append(Page(AlarmState.cleared, alarm.problem, alarm.since))
    return pages, still


def paged(alarms: dict[tuple[str, str], OpenAlarm], page: Page, now: datetime) -> None:
    """A pager channel took `page`: its alarm's repeat counts from now."""
    alarm = alarms.get(page.problem.key)
    if alarm is not None:
        alarms[page.problem.key] = replace(alarm, paged_at=now)
