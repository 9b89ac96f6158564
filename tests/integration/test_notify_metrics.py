"""Notify's SLA metrics against real PostgreSQL, each step run as notify runs it (the handler's transaction, the
timer worker's claim): a passed acknowledgement deadline is one breach by priority, kind and province, an
acknowledgement observes its time, a visit deadline passing and a policy run out are breaches too, and a unit with
nobody on call counts as "nobody" without pretending its deadline passed."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from prometheus_client import REGISTRY

from hotline_common.events import Priority
from hotline_notify import repository
from tests.integration import test_notify_reprioritise as reprioritise
from tests.integration.test_notify_reprioritise import CENTER_A, SOMCHAI, Notify

pytestmark = pytest.mark.integration
# Its fixture: a notify schema of the test's own, center A with two responders on call, no rota (default policy).
notify = reprioritise.notify


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def breaches(kind: str, priority: str = "P1") -> float:
    return sample("hotline_sla_breaches_total", priority=priority, kind=kind, province="57")  # tambon 570511


async def fire_due(n: Notify, *, now: bool = False) -> list[tuple[str, int]]:
    """Every due timer, as the timer worker fires them; `now`: make the pending ones due first (time passes)."""
    fired = []
    async with n.pool.acquire() as conn:
        if now:
            await conn.execute("UPDATE timers SET fire_at = now() WHERE case_id = $1 AND state = 'pending'",
                               n.case_id)
    while True:
        async with n.pool.acquire() as conn, conn.transaction():
            timer = await repository.claim_timer(conn, instance="test")
            if timer is None:
                return fired
            await n.workflow.fire(conn, timer)
            fired.append((timer["kind"], timer["step"]))


async def test_a_passed_acknowledgement_deadline_is_a_breach_and_the_late_acknowledgement_is_timed(
        notify: Notify) -> None:
    before = breaches("acknowledgement")
    routed = notify.routed(CENTER_A, priority=Priority.P1, deadline=timedelta(seconds=-1))
    await notify.deliver(routed)
    assert breaches("acknowledgement") == before  # alerted, not yet late
    assert await fire_due(notify) == [("escalate", 1)]
    assert breaches("acknowledgement") == before + 1

    count = sample("hotline_acknowledgement_seconds_count", priority="P1")
    total = sample("hotline_acknowledgement_seconds_sum", priority="P1")
    await notify.act("acknowledge", SOMCHAI, routed.event_id)
    assert sample("hotline_acknowledgement_seconds_count", priority="P1") == count + 1
    assert sample("hotline_acknowledgement_seconds_sum", priority="P1") > total
    # A second tap changes nothing, and observes nothing.
    await notify.act("acknowledge", SOMCHAI, routed.event_id)
    assert sample("hotline_acknowledgement_seconds_count", priority="P1") == count + 1

    # Not resolved by the visit deadline (4 h for P1 here): the reminder's firing is the visit breach.
    visits = breaches("visit")
    assert await fire_due(notify, now=True) == [("visit_reminder", 1)]
    assert breaches("visit") == visits + 1
    assert breaches("acknowledgement") == before + 1


async def test_a_policy_run_out_is_an_unacknowledged_breach(notify: Notify) -> None:
    before = breaches("unacknowledged", "P2")
    await notify.deliver(notify.routed(CENTER_A, priority=Priority.P2))
    steps: list[tuple[str, int]] = []
    for _ in range(10):  # the default policy: re-alert, the hotline supervisors, then the final notice
        steps += await fire_due(notify, now=True)
        if (await notify.case())["status"] == "unacknowledged":
            break
    assert (await notify.case())["status"] == "unacknowledged", steps
    assert breaches("unacknowledged", "P2") == before + 1


async def test_nobody_on_call_counts_as_nobody_not_as_a_passed_deadline(notify: Notify) -> None:
    nobody = sample("hotline_alerts_total", channel="none", outcome="nobody")
    late = breaches("acknowledgement", "P3")
    await notify.deliver(notify.routed(uuid.uuid4(), priority=Priority.P3))  # a center nobody belongs to
    assert sample("hotline_alerts_total", channel="none", outcome="nobody") >= nobody + 1
    # Escalated at once, an hour before the deadline: no breach (yet).
    assert ("escalate", 1) in await fire_due(notify)
    assert breaches("acknowledgement", "P3") == late
