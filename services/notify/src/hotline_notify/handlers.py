"""Notify subscribers: a routed case starts alerting its unit's people on call, exactly once in effect."""

from __future__ import annotations

import asyncio

from faststream import Context
from faststream.kafka import KafkaRouter

from hotline_common import outbox, topics
from hotline_common.events import CaseRouted
from hotline_common.kafka import PARTITION_WORKERS, consumer_options
from hotline_common.runtime import Runtime
from hotline_notify.workflow import Workflow

router = KafkaRouter()


@router.subscriber(topics.CASE_ROUTED.name, **consumer_options("notify", workers=PARTITION_WORKERS))
async def on_case_routed(routed: CaseRouted, runtime: Runtime = Context()) -> None:
    # Never alert from a half-loaded directory: "nobody on call" would be a lie.
    await asyncio.wait_for(asyncio.gather(*(view.ready.wait() for view in runtime.extras["views"])), 120)
    workflow: Workflow = runtime.extras["workflow"]
    async with runtime.transaction() as conn:
        if not await outbox.claim_once(conn, routed.event_id, topics.CASE_ROUTED.name):
            return  # redelivered: its alerts and timers exist already
        due = await workflow.start(conn, routed)
    runtime.extras["dispatcher"].wake()
    if due is not None:
        runtime.extras["timers"].wake_for(due)
