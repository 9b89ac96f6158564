"""Ops events: what the ops team did to the platform itself (audited on `hotline.ops.audit.v1`)."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import ClassVar

from pydantic import Field

from hotline_common.events.base import Event


class DeadLetterReplayed(Event):
    """A dead-lettered record was published again to its original topic by someone of the ops team. Keyed by the
    dead letter (`<dlq topic>:<partition>:<offset>`), so a second replay of the same record can be refused."""

    ce_type: ClassVar[str] = "th.go.msdhs.hotline.ops.dead_letter_replayed.v1"

    replayed_by: str = Field(min_length=1, max_length=200, description="the ops user's account")
    dlq_topic: str
    dlq_partition: int = Field(ge=0)
    dlq_offset: int = Field(ge=0)
    target_topic: str = Field(description="the original topic the record went back to")
    target_partition: int = Field(ge=0)
    target_offset: int = Field(ge=0)
    replayed_event_id: uuid.UUID | None = Field(default=None, description="the event id of the replayed record "
                                                "(consumers deduplicate on it)")
    edited: bool = Field(description="published with a corrected payload rather than as it was")
    forced: bool = Field(default=False, description="replayed although an earlier replay was recorded")
    dlq_error: str = Field(default="", max_length=200, description="the error the record was dead-lettered with")
    case_id: uuid.UUID | None = Field(default=None, description="the case the record is about, if any")
    case_number: str | None = None

    def subject(self) -> str:
        return dead_letter_ref(self.dlq_topic, self.dlq_partition, self.dlq_offset)


def dead_letter_ref(topic: str, partition: int, offset: int) -> str:
    """One dead-lettered record's name: `<dlq topic>:<partition>:<offset>`."""
    return f"{topic}:{partition}:{offset}"


class ServiceHeartbeat(Event):
    """A service instance says it is alive, every few seconds, with what the watchdog needs to tell "running" from
    "working": its readiness checks and whether a consumer has been stuck on one record. Nothing about any case."""

    ce_type: ClassVar[str] = "th.go.msdhs.hotline.ops.heartbeat.v1"

    service: str = Field(min_length=1, max_length=40)
    instance: str = Field(min_length=1, max_length=200, description="host and process of this instance")
    started_at: datetime
    interval_seconds: float = Field(gt=0, description="the next heartbeat is due this long after this one")
    ready: bool
    checks: dict[str, bool] = Field(default_factory=dict, description="readiness checks: database, kafka, …")
    in_flight: int = Field(default=0, ge=0, description="records being handled right now")
    oldest_in_flight_seconds: float = Field(default=0.0, ge=0, description="how long the oldest of them has been "
                                            "in its handler: a consumer stuck on a lock or a hung call shows here")
    processed: int = Field(default=0, ge=0, description="records handled since the instance started")

    def subject(self) -> str:
        return f"{self.service}/{self.instance}"


class AlarmState(StrEnum):
    raised = "raised"
    repeated = "repeated"
    cleared = "cleared"


class WatchdogAlarm(Event):
    """The watchdog found (or no longer finds) a service not working, and paged the ops on-call about it."""

    ce_type: ClassVar[str] = "th.go.msdhs.hotline.ops.watchdog_alarm.v1"

    service: str = Field(min_length=1, max_length=40)
    problem: str = Field(min_length=1, max_length=40, description="down, not_ready, stuck, lagging, …")
    state: AlarmState
    detail: str = Field(max_length=500)
    detail_th: str = Field(max_length=500)
    since: datetime = Field(description="when the problem was first seen")
    paged: list[str] = Field(default_factory=list, description="the ops pager channels that took the message")

    def subject(self) -> str:
        return f"{self.service}/{self.problem}"
