"""The base of every event body: frozen, identified, timestamped, versioned."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field


def utcnow() -> datetime:
    return datetime.now(UTC)


class Event(BaseModel):
    """One fact that happened. `event_id` is the CloudEvents `ce_id` and the consumers' inbox key."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    # CloudEvents `type` of this model; set by every subclass.
    ce_type: ClassVar[str] = ""

    event_id: uuid.UUID = Field(default_factory=uuid.uuid4)
    occurred_at: datetime = Field(default_factory=utcnow)
    schema_version: int = 1

    def subject(self) -> str:
        """CloudEvents `subject`: the aggregate this event is about (the Kafka key too)."""
        raise NotImplementedError


class CaseEvent(Event):
    """An event about one case: keyed by the case id, so a case's events stay in order on one partition."""

    case_id: uuid.UUID
    case_number: str

    def subject(self) -> str:
        return str(self.case_id)
