"""Routing subscribers: a reported case becomes a routed (or unroutable) case, exactly once in effect; a decline or
an escalation asking for another center sends it to the next one; an urgency raised after the report raises the
priority of the case's current routing."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Collection

import asyncpg
from faststream import Context
from faststream.kafka import KafkaRouter

from hotline_common import outbox, topics
from hotline_common.events import (
    CaseDeclined,
    CaseEscalated,
    CaseReported,
    CaseRouted,
    CaseUnroutable,
    CaseUrgencyRaised,
    Priority,
)
from hotline_common.events.base import utcnow
from hotline_common.kafka import PARTITION_WORKERS, consumer_options
from hotline_common.metrics import ROUTING_DECISION_SECONDS, ROUTING_DECISIONS, UNKNOWN, count_case
from hotline_common.runtime import Runtime
from hotline_routing import repository
from hotline_routing.decide import Routed, Unroutable, reprioritised, routed_event
from hotline_routing.engine import Routing
from hotline_routing.priority import RANK

router = KafkaRouter()
log = logging.getLogger("hotline.routing")


async def _publish(conn: asyncpg.Connection, runtime: Runtime, case: CaseReported, decision: Routed | Unroutable, *,
                   attempt: int, tried: list[uuid.UUID], trigger: uuid.UUID | None,
                   priority_reasons: list[str] | None = None) -> None:
    """Record the decision and publish it, in the caller's transaction."""
    if isinstance(decision, Routed):
        event = routed_event(case.case_id, case.case_number, decision, reported_event_id=case.event_id,
                             attempt=attempt, tried=tried, safety=case.safety)
        if priority_reasons is not None and event.explanation is not None:  # re-routing: the first assessment stands
            event = event.model_copy(update={"explanation": event.explanation.model_copy(
                update={"priority_reasons": priority_reasons})})
        await repository.save_decision(conn, case_id=case.case_id, reported_event_id=case.event_id,
                                       center_id=event.center_id, rule=event.rule, distance_km=event.distance_km,
                                       priority=event.priority.value, attempt=attempt, trigger_event_id=trigger,
                                       routed=event)
        await outbox.enqueue(conn, topics.CASE_ROUTED, event, source=runtime.source)
        return
    await repository.save_decision(conn, case_id=case.case_id, reported_event_id=case.event_id, center_id=None,
                                   rule="unroutable", distance_km=None, priority=None, attempt=attempt,
                                   trigger_event_id=trigger)
    candidates = decision.not_located.candidates if decision.not_located else []
    await outbox.enqueue(conn, topics.CASE_UNROUTABLE, CaseUnroutable(
        case_id=case.case_id, case_number=case.case_number, reason=decision.reason, reason_code=decision.reason_code,
        candidates=candidates, reported_event_id=case.event_id), source=runtime.source)


async def _routing(runtime: Runtime) -> Routing:
    routing: Routing = runtime.extras["routing"]
    # Never decide on a half-loaded index: a case would go to a "nearest" center that is merely the first loaded.
    await asyncio.wait_for(routing.ready(), runtime.extras["index_ready_timeout"])
    return routing


def _decide(routing: Routing, case: CaseReported, *, tried: Collection[uuid.UUID] = ()) -> Routed | Unroutable:
    started = time.perf_counter()
    decision = routing.decide(case, now=utcnow(), tried=tried)
    ROUTING_DECISION_SECONDS.observe(time.perf_counter() - started)
    return decision


def _count(decision: Routed | Unroutable, *, trigger: str) -> None:
    """Called once the decision is committed: a redelivery returns before, a failed transaction is retried."""
    if isinstance(decision, Routed):
        ROUTING_DECISIONS.labels(outcome="routed", rule=decision.choice.rule, trigger=trigger).inc()
    else:
        ROUTING_DECISIONS.labels(outcome="unroutable", rule=decision.reason_code, trigger=trigger).inc()


# Every case passes here: a consumer per partition. Declines, escalations and raised urgencies are a few per
# hundred cases: one consumer each is plenty, and each idle consumer costs a fetch every half second in this
# process and in the broker.
RARE = consumer_options("routing")


@router.subscriber(topics.CASE_REPORTED.name, **consumer_options("routing", workers=PARTITION_WORKERS))
async def on_case_reported(case: CaseReported, runtime: Runtime = Context()) -> None:
    routing = await _routing(runtime)
    decision = _decide(routing, case)
    async with runtime.transaction() as conn:
        if not await outbox.claim_once(conn, case.event_id, topics.CASE_REPORTED.name):
            return  # redelivered: routed already
        if isinstance(decision, Routed):
            await repository.save_case(conn, case, priority=decision.priority.priority.value,
                                       priority_reasons=list(decision.priority.reasons))
        else:
            await repository.save_case(conn, case, priority=None, priority_reasons=[])
        await _publish(conn, runtime, case, decision, attempt=1, tried=[], trigger=None)
    _count(decision, trigger="reported")
    if isinstance(decision, Routed):
        count_case(case, province=decision.located.tambon.province_code, priority=decision.priority.priority.value)
    else:
        count_case(case, province=UNKNOWN, priority=None)


async def reroute(runtime: Runtime, *, event_id: uuid.UUID, topic: str, case_id: uuid.UUID,
                  from_center: uuid.UUID | None, trigger: str) -> None:
    """The next nearest active center not tried yet (the One Home team after too many), unless the case has
    already moved on from the center that asked."""
    routing = await _routing(runtime)
    async with runtime.transaction() as conn:
        if not await outbox.claim_once(conn, event_id, topic):
            return
        stored = await repository.get_case(conn, case_id)
        decisions = await repository.decisions_of(conn, case_id)
        if stored is None or not decisions:
            log.warning("re-routing asked for case %s, which routing never routed", case_id)
            return
        if decisions[-1]["center_id"] is None or decisions[-1]["center_id"] != from_center:
            log.info("case %s: a re-routing request from a center it has already left; ignored", case_id)
            return
        # Once each: a re-prioritisation repeats the current center without trying it again.
        tried = list(dict.fromkeys(d["center_id"] for d in decisions if d["center_id"] is not None))
        # The first assessment's priority stands (the description is not kept to assess it again).
        case = stored.report.model_copy(update={"urgency": Priority(stored.priority) if stored.priority else None})
        decision = _decide(routing, case, tried=tried)
        await _publish(conn, runtime, case, decision, attempt=len(decisions) + 1, tried=tried, trigger=event_id,
                       priority_reasons=stored.priority_reasons)
    _count(decision, trigger=trigger)


@router.subscriber(topics.CASE_DECLINED.name, **RARE)
async def on_case_declined(declined: CaseDeclined, runtime: Runtime = Context()) -> None:
    await reroute(runtime, event_id=declined.event_id, topic=topics.CASE_DECLINED.name, case_id=declined.case_id,
                  from_center=declined.center_id, trigger="declined")


@router.subscriber(topics.CASE_ESCALATED.name, **RARE)
async def on_case_escalated(escalated: CaseEscalated, runtime: Runtime = Context()) -> None:
    if escalated.reroute:
        await reroute(runtime, event_id=escalated.event_id, topic=topics.CASE_ESCALATED.name,
                      case_id=escalated.case_id, from_center=escalated.center_id, trigger="escalated")


@router.subscriber(topics.CASE_URGENCY_RAISED.name, **RARE)
async def on_case_urgency_raised(raised: CaseUrgencyRaised, runtime: Runtime = Context()) -> None:
    """The case's current routing again, more urgent: same center and agency (moving a case because it became
    urgent would only delay it), the new priority, and the earlier of the two deadlines. Never lowered."""
    routing = await _routing(runtime)
    async with runtime.transaction() as conn:
        if not await outbox.claim_once(conn, raised.event_id, topics.CASE_URGENCY_RAISED.name):
            return
        decisions = await repository.decisions_of(conn, raised.case_id)  # locked: one decision at a time
        stored = await repository.get_case(conn, raised.case_id)
        if stored is None:
            log.warning("urgency raised for case %s, which routing never saw", raised.case_id)
            return
        if stored.priority is not None and RANK[Priority(stored.priority)] <= RANK[raised.urgency]:
            log.info("case %s: already %s, urgency %s changes nothing", raised.case_number, stored.priority,
                     raised.urgency)
            return
        reasons = [*stored.priority_reasons, f"urgency raised after the report ({raised.reason_code}, "
                                             f"{raised.channel}) → {raised.urgency}"]
        await repository.set_priority(conn, raised.case_id, priority=raised.urgency.value, priority_reasons=reasons)
        current = decisions[-1]["routed"] if decisions else None
        if current is None:
            # Unroutable, with a supervisor: the stored priority goes with whatever routing comes next.
            log.info("case %s: urgency %s kept; no current routing to raise", raised.case_number, raised.urgency)
            return
        event = reprioritised(CaseRouted.model_validate(current), raised.urgency, reasons,
                              window=routing.policy.ack_windows[raised.urgency], attempt=len(decisions) + 1,
                              now=utcnow())
        await repository.save_decision(conn, case_id=raised.case_id, reported_event_id=event.reported_event_id,
                                       center_id=event.center_id, rule=event.rule, distance_km=event.distance_km,
                                       priority=event.priority.value, attempt=event.attempt,
                                       trigger_event_id=raised.event_id, routed=event)
        await outbox.enqueue(conn, topics.CASE_ROUTED, event, source=runtime.source)
    ROUTING_DECISIONS.labels(outcome="reprioritised", rule=event.rule, trigger="urgency_raised").inc()
