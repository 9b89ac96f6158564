"""Is each service working? A pure judgement from its instances' heartbeats and its consumer group's lag, shared by
the watchdog (which pages the ops on-call) and the ops console (which turns red): both say the same thing.

- down: no instance has sent a heartbeat for `missing_after` seconds (process dead, frozen, or cut off from Kafka);
- not_ready: every live instance reports a failing readiness check (its database, Kafka, an index);
- stuck: an instance has had one record in its handler for `stuck_after` seconds (a lock, a call that never returns);
- lagging: its consumer group has had records waiting for the whole `lag_window`, and no fewer at the end of it
  than at the start — the consumers are not keeping up, whatever the heartbeats say.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from hotline_common.events import ServiceHeartbeat

KINDS_TH = {"down": "ไม่ตอบสนอง", "not_ready": "ไม่พร้อมทำงาน", "stuck": "ค้าง", "lagging": "งานค้างสะสม"}


@dataclass(frozen=True)
class Thresholds:
    missing_after: float = 60.0
    stuck_after: float = 120.0
    lag_window: float = 120.0
    lag_min: int = 1


@dataclass(frozen=True)
class LagSample:
    at: datetime
    lag: int  # records waiting, summed over the group's partitions


@dataclass(frozen=True)
class Problem:
    service: str
    kind: str  # down | not_ready | stuck | lagging
    detail: str
    detail_th: str

    @property
    def key(self) -> tuple[str, str]:
        return self.service, self.kind


def latest_by_instance(heartbeats: Iterable[ServiceHeartbeat]) -> dict[tuple[str, str], ServiceHeartbeat]:
    latest: dict[tuple[str, str], ServiceHeartbeat] = {}
    for beat in heartbeats:
        key = (beat.service, beat.instance)
        if key not in latest or beat.occurred_at > latest[key].occurred_at:
            latest[key] = beat
    return latest


def _seconds(delta: timedelta) -> int:
    return int(delta.total_seconds())


def lagging(samples: Sequence[LagSample], now: datetime, t: Thresholds) -> LagSample | None:
    """The sample at the start of the window if the group has been behind for all of it without draining."""
    window_start = now - timedelta(seconds=t.lag_window)
    before = [s for s in samples if s.at <= window_start]
    inside = [s for s in samples if s.at > window_start]
    if not before or not inside:
        return None  # not watched for a whole window yet
    first = before[-1]
    if first.lag >= t.lag_min and all(s.lag >= t.lag_min for s in inside) and inside[-1].lag >= first.lag:
        return first
    return None


def assess(now: datetime, *, services: Sequence[str], heartbeats: Iterable[ServiceHeartbeat],
           lag: Mapping[str, Sequence[LagSample]], watching_since: datetime, t: Thresholds) -> list[Problem]:
    """The problems of `services` now. `lag` holds each service's group lag samples, oldest first. Until the
    watcher has watched for `missing_after`, a service it has not heard from yet is not called down."""
    latest = latest_by_instance(heartbeats)
    problems: list[Problem] = []
    for service in services:
        beats = [b for (name, _), b in latest.items() if name == service]
        live = [b for b in beats if _seconds(now - b.occurred_at) < t.missing_after]
        if not live:
            if beats:
                last = max(b.occurred_at for b in beats)
                ago = _seconds(now - last)
                problems.append(Problem(service, "down", f"no heartbeat for {ago} s",
                                        f"ไม่มีสัญญาณชีพ {ago} วินาที"))
            elif _seconds(now - watching_since) >= t.missing_after:
                problems.append(Problem(service, "down", "no heartbeat since the watchdog started",
                                        "ไม่มีสัญญาณชีพตั้งแต่เริ่มเฝ้าระวัง"))
        else:
            if not any(b.ready for b in live):
                failing = sorted({name for b in live for name, ok in b.checks.items() if not ok})
                problems.append(Problem(service, "not_ready", f"not ready: {', '.join(failing) or 'unknown'}",
                                        f"ไม่พร้อม: {', '.join(failing) or 'ไม่ทราบสาเหตุ'}"))
            # A heartbeat's figure has grown by the time it is read.
            stuck = [(b.oldest_in_flight_seconds + (now - b.occurred_at).total_seconds(), b) for b in live
                     if b.in_flight]
            worst = max(stuck, default=None, key=lambda pair: pair[0])
            if worst is not None and worst[0] >= t.stuck_after:
                seconds = int(worst[0])
                problems.append(Problem(service, "stuck", f"a record has been in its handler for {seconds} s",
                                        f"รายการหนึ่งค้างอยู่ในการประมวลผล {seconds} วินาที"))
        behind = lagging(lag.get(service, ()), now, t)
        if behind is not None:
            waiting, seconds = lag[service][-1].lag, _seconds(now - behind.at)
            problems.append(Problem(service, "lagging", f"{waiting} records waiting, not draining for {seconds} s",
                                    f"รอประมวลผล {waiting} รายการ ไม่ลดลงมา {seconds} วินาที"))
    return problems
