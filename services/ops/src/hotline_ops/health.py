"""The services' health on the ops console: the same judgement as the watchdog's (`hotline_common.health`) from the
heartbeats and the lag samples the console already reads, plus the watchdog's open alarms. The watchdog pages; the
console turns red. The console also watches the watchdog: if its heartbeats stop, that shows too."""

from __future__ import annotations

from collections import deque
from datetime import datetime
from typing import Any

from hotline_common.events import AlarmState, ServiceHeartbeat, WatchdogAlarm
from hotline_common.health import KINDS_TH, LagSample, Thresholds, assess, latest_by_instance
from hotline_common.lag import GROUP_PREFIX
from hotline_ops.samples import GroupLag


class HealthBoard:
    def __init__(self, services: list[str], thresholds: Thresholds, *, started: datetime, keep: int = 200) -> None:
        self.services, self.thresholds, self.started = services, thresholds, started
        self.heartbeats: dict[tuple[str, str], ServiceHeartbeat] = {}
        self.lag: dict[str, deque[LagSample]] = {s: deque(maxlen=keep) for s in services}
        self.alarms: dict[str, WatchdogAlarm] = {}  # open ones, by `service/problem`

    def heard(self, beat: ServiceHeartbeat) -> None:
        self.heartbeats = latest_by_instance([*self.heartbeats.values(), beat])

    def alarmed(self, alarm: WatchdogAlarm) -> None:
        if alarm.state is AlarmState.cleared:
            self.alarms.pop(alarm.subject(), None)
        else:
            self.alarms[alarm.subject()] = alarm

    def record_lag(self, groups: list[GroupLag], at: datetime) -> None:
        for service, samples in self.lag.items():
            waiting = sum(g.lag for g in groups if g.group == f"{GROUP_PREFIX}{service}")
            samples.append(LagSample(at, waiting))

    def view(self, now: datetime) -> dict[str, Any]:
        problems = assess(now, services=self.services, heartbeats=self.heartbeats.values(),
                          lag={s: list(v) for s, v in self.lag.items()}, watching_since=self.started,
                          t=self.thresholds)
        services = []
        for service in self.services:
            beats = [b for (name, _), b in self.heartbeats.items() if name == service]
            mine = [p for p in problems if p.service == service]
            services.append({
                "service": service, "ok": not mine,
                "problems": [{"kind": p.kind, "kind_th": KINDS_TH.get(p.kind, p.kind), "detail": p.detail,
                              "detail_th": p.detail_th} for p in mine],
                "instances": len([b for b in beats if (now - b.occurred_at).total_seconds()
                                  < self.thresholds.missing_after]),
                "last_heard_seconds": round(min((now - b.occurred_at).total_seconds() for b in beats), 1)
                if beats else None,
                "lag": self.lag[service][-1].lag if self.lag[service] else None,
            })
        alarms = [{"service": a.service, "problem": a.problem, "kind_th": KINDS_TH.get(a.problem, a.problem),
                   "detail": a.detail, "detail_th": a.detail_th, "since": a.since.isoformat(), "paged": a.paged}
                  for a in sorted(self.alarms.values(), key=lambda a: a.since)]
        return {"ok": not problems and not alarms, "services": services, "alarms": alarms}
