"""The escalation plan of a case: pure functions of the unit's policy, the acknowledgement deadline and the clock.

Step 0 is the first alert, to the first level's targets, at routing. If nobody acknowledges by the deadline, step 1
follows the policy: the first level's re-alerts (`repeat`), then each next level in turn, each step waiting its
level's timeout. One step past the last is final: the policy is exhausted, said once, and nothing more is sent —
the case stays on the supervisors' and the ops team's screens as unacknowledged.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from hotline_common.events.rota import EscalationLevel, EscalationTarget


@dataclass(frozen=True)
class Step:
    number: int  # 0: the first alert
    level: int  # 1-based
    realert: bool  # a repeat of the same level
    targets: list[EscalationTarget]
    reroute: bool  # ask routing for the next center as this level starts
    wait: timedelta  # before the next step (unscaled)


def default_policy(minutes: int) -> list[EscalationLevel]:
    """For a unit whose rota has no policy: re-alert the people on call once, then the hotline supervisors."""
    return [EscalationLevel(targets=[EscalationTarget(kind="on_call")], timeout_minutes=minutes, repeat=1),
            EscalationLevel(targets=[EscalationTarget(kind="hotline_supervisor")], timeout_minutes=minutes)]


def steps(policy: list[EscalationLevel]) -> list[Step]:
    out: list[Step] = []
    for i, level in enumerate(policy):
        for r in range(level.repeat + 1):
            out.append(Step(number=len(out), level=i + 1, realert=r > 0, targets=list(level.targets),
                            reroute=level.reroute and r == 0 and i > 0,
                            wait=timedelta(minutes=level.timeout_minutes)))
    return out


def step(policy: list[EscalationLevel], number: int) -> Step | None:
    """Step `number`, or None once the policy is exhausted (number == len(steps): the final notice)."""
    plan = steps(policy)
    return plan[number] if number < len(plan) else None


def first_escalation_at(routed_at: datetime, ack_deadline: datetime | None, scale: float) -> datetime | None:
    """When step 1 is due: the acknowledgement deadline, its distance from the routing divided by the clock scale.
    No deadline (P4, advice only): no escalation."""
    if ack_deadline is None:
        return None
    return routed_at + (ack_deadline - routed_at) / scale


def next_at(policy: list[EscalationLevel], number: int, now: datetime, scale: float) -> datetime | None:
    """When the step after `number` is due (its wait, scaled), or None after the final notice."""
    current = step(policy, number)
    return None if current is None else now + current.wait / scale


def to_json(policy: list[EscalationLevel]) -> list[dict[str, Any]]:
    return [level.model_dump(mode="json") for level in policy]


def from_json(data: list[dict[str, Any]]) -> list[EscalationLevel]:
    return [EscalationLevel.model_validate(level) for level in data]
