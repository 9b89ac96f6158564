"""The escalation plan: steps from a unit's policy, when each is due, and the final notice."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from hotline_common.events.rota import EscalationLevel, EscalationTarget
from hotline_notify import escalation

OFFICE = uuid.uuid4()
POLICY = [
    EscalationLevel(targets=[EscalationTarget(kind="on_call")], timeout_minutes=10, repeat=1),
    EscalationLevel(targets=[EscalationTarget(kind="agency", id=OFFICE)], timeout_minutes=15, reroute=True),
    EscalationLevel(targets=[EscalationTarget(kind="hotline_supervisor")], timeout_minutes=20),
]
T0 = datetime(2026, 11, 24, 3, 0, tzinfo=UTC)  # 10:00 in Bangkok


def test_steps_walk_the_repeats_then_each_level_in_turn() -> None:
    plan = escalation.steps(POLICY)
    assert [(s.number, s.level, s.realert) for s in plan] == [(0, 1, False), (1, 1, True), (2, 2, False),
                                                                 (3, 3, False)]
    assert [s.targets[0].kind for s in plan] == ["on_call", "on_call", "agency", "hotline_supervisor"]
    assert [s.wait for s in plan] == [timedelta(minutes=m) for m in (10, 10, 15, 20)]
    # Re-routing is asked for once, as the level that asks for it starts, never on the first alert.
    assert [s.reroute for s in plan] == [False, False, True, False]


def test_one_step_past_the_last_is_the_final_notice() -> None:
    assert escalation.step(POLICY, 3) is not None
    assert escalation.step(POLICY, 4) is None
    assert escalation.next_at(POLICY, 4, T0, 1.0) is None


def test_the_first_escalation_is_due_at_the_acknowledgement_deadline_scaled() -> None:
    deadline = T0 + timedelta(minutes=15)
    assert escalation.first_escalation_at(T0, deadline, 1.0) == deadline
    assert escalation.first_escalation_at(T0, deadline, 60.0) == T0 + timedelta(seconds=15)
    assert escalation.first_escalation_at(T0, None, 60.0) is None  # P4: advice only, no escalation


def test_each_next_step_waits_its_level_timeout_scaled() -> None:
    assert escalation.next_at(POLICY, 1, T0, 1.0) == T0 + timedelta(minutes=10)
    assert escalation.next_at(POLICY, 2, T0, 60.0) == T0 + timedelta(seconds=15)


def test_the_default_policy_re_alerts_once_then_calls_the_hotline_supervisors() -> None:
    plan = escalation.steps(escalation.default_policy(15))
    assert [(s.level, s.realert, s.targets[0].kind) for s in plan] == [
        (1, False, "on_call"), (1, True, "on_call"), (2, False, "hotline_supervisor")]


def test_the_policy_round_trips_through_its_json_snapshot() -> None:
    assert escalation.from_json(escalation.to_json(POLICY)) == POLICY
