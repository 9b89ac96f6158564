"""Notify subscribers: a routed case becomes one pending alert per responder on call, exactly once."""

from __future__ import annotations

import asyncio

from faststream import Context
from faststream.kafka import KafkaRouter

from hotline_common import outbox, topics
from hotline_common.events import AlertFailed, CaseRouted
from hotline_common.events.base import utcnow
from hotline_common.kafka import PARTITION_WORKERS, consumer_options
from hotline_common.runtime import Runtime
from hotline_notify import repository
from hotline_notify.alerts import alert_id_for, alert_payload
from hotline_notify.oncall import ResponderIndex, who_is_on_call

router = KafkaRouter()


@router.subscriber(topics.CASE_ROUTED.name, **consumer_options("notify", workers=PARTITION_WORKERS))
async def on_case_routed(routed: CaseRouted, runtime: Runtime = Context()) -> None:
    await asyncio.wait_for(runtime.extras["responders"].ready.wait(), 120)
    index: ResponderIndex = runtime.extras["responder_index"]
    # The center; or, when the case went to the provincial One Home team, its agency.
    unit = routed.center_id or routed.agency_id
    on_call = who_is_on_call(index, unit, utcnow()) if unit else []
    base_url = runtime.extras["public_base_url"]
    async with runtime.transaction() as conn:
        if not await outbox.claim_once(conn, routed.event_id, topics.CASE_ROUTED.name):
            return  # redelivered: its alerts exist already
        if not on_call:
            await outbox.enqueue(conn, topics.ALERT_FAILED, AlertFailed(
                alert_id=alert_id_for(routed.event_id, unit or routed.case_id), case_id=routed.case_id,
                case_number=routed.case_number, center_id=unit, attempts=0,
                last_error="nobody is on call for this center"), source=runtime.source)
            return
        for responder in on_call:
            channel = responder.channels[0]  # preference order; fallback channels come with the notify issue
            await repository.insert_alert(
                conn, alert_id=alert_id_for(routed.event_id, responder.responder_id), case_id=routed.case_id,
                case_number=routed.case_number, routed_event_id=routed.event_id,
                responder_id=responder.responder_id, center_id=unit, channel=channel.kind,
                address=channel.address, secret_ref=channel.secret_ref,
                payload=alert_payload(routed, responder, link=f"{base_url}/cases/{routed.case_id}"),
            )
    runtime.extras["dispatcher"].wake()
