"""The watchdog's one subscriber: every instance's heartbeat, read live without a consumer group (each watchdog
replica sees all of them; a restarted watchdog gives the services `missing_after` to be heard from again)."""

from __future__ import annotations

from faststream import Context
from faststream.kafka import KafkaRouter

from hotline_common import topics
from hotline_common.events import ServiceHeartbeat
from hotline_common.runtime import Runtime

router = KafkaRouter()


@router.subscriber(topics.OPS_HEARTBEAT.name, auto_offset_reset="latest")
async def on_heartbeat(beat: ServiceHeartbeat, runtime: Runtime = Context()) -> None:
    runtime.extras["watchdog"].heard(beat)
