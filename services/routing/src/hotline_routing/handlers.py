"""Routing subscribers: a reported case becomes a routed (or unroutable) case, exactly once in effect."""

from __future__ import annotations

import asyncio

from faststream import Context
from faststream.kafka import KafkaRouter

from hotline_common import outbox, topics
from hotline_common.events import CaseReported, CaseRouted, CaseUnroutable
from hotline_common.kafka import PARTITION_WORKERS, consumer_options
from hotline_common.runtime import Runtime
from hotline_gazetteer import gazetteer
from hotline_routing import repository
from hotline_routing.decide import Routed, decide
from hotline_routing.index import CenterIndex

router = KafkaRouter()


@router.subscriber(topics.CASE_REPORTED.name, **consumer_options("routing", workers=PARTITION_WORKERS))
async def on_case_reported(case: CaseReported, runtime: Runtime = Context()) -> None:
    view = runtime.extras["centers"]
    # Never decide on a half-loaded index: a case would go to a "nearest" center that is merely the first loaded.
    await asyncio.wait_for(view.ready.wait(), runtime.extras["index_ready_timeout"])
    index: CenterIndex = runtime.extras["index"]
    decision = decide(case, index, gazetteer())
    async with runtime.transaction() as conn:
        if not await outbox.claim_once(conn, case.event_id, topics.CASE_REPORTED.name):
            return  # redelivered: routed already
        if isinstance(decision, Routed):
            c = decision.center
            await repository.save_decision(conn, case_id=case.case_id, reported_event_id=case.event_id,
                                           center_id=c.center_id, rule=decision.rule,
                                           distance_km=decision.distance_km, priority=decision.priority.value)
            routed = CaseRouted(
                case_id=case.case_id, case_number=case.case_number, category=case.category,
                target_group=case.target_group, priority=decision.priority, tambon_code=decision.tambon_code,
                center_id=c.center_id, center_name_th=c.name_th, center_tambon_code=c.tambon_code,
                distance_km=decision.distance_km, rule=decision.rule, reported_event_id=case.event_id,
            )
            await outbox.enqueue(conn, topics.CASE_ROUTED, routed, source=runtime.source)
        else:
            await repository.save_decision(conn, case_id=case.case_id, reported_event_id=case.event_id,
                                           center_id=None, rule="unroutable", distance_km=None, priority=None)
            await outbox.enqueue(conn, topics.CASE_UNROUTABLE, CaseUnroutable(
                case_id=case.case_id, case_number=case.case_number, reason=decision.reason,
                reported_event_id=case.event_id), source=runtime.source)
