"""Registry state published on compacted topics: the latest record per entity id (tombstone = deleted)."""

from __future__ import annotations

import uuid
from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from hotline_common.events.base import Event


class CenterRecord(Event):
    """A tambon Social Assistance Center as routing needs it."""

    ce_type: ClassVar[str] = "th.go.msdhs.registry.center.v1"

    center_id: uuid.UUID
    name_th: str
    name_en: str
    tambon_code: str
    amphoe_code: str
    province_code: str
    lat: float
    lon: float
    host_type: Literal["sao", "municipality", "school", "health_hospital", "temple", "other"] = "sao"
    status: Literal["active", "suspended", "closed"] = "active"

    def subject(self) -> str:
        return str(self.center_id)


# The `secret_ref` of the demo responders' webhook: notify signs with setting DEMO_WEBHOOK_SECRET.
DEMO_SECRET_REF = "demo"


class AlertChannel(BaseModel):
    """One way to reach a responder. Secrets are never published: `secret_ref` names one notify holds."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["webhook", "line", "sms", "email"]
    address: str = Field(description="URL, LINE user id, phone number or e-mail address")
    secret_ref: str | None = None


class ResponderRecord(Event):
    """A responder and where they are on call (the rota comes with the registry issue)."""

    ce_type: ClassVar[str] = "th.go.msdhs.registry.responder.v1"

    responder_id: uuid.UUID
    display_name: str
    kind: Literal["volunteer", "social_worker", "duty_officer"]
    center_ids: list[uuid.UUID]
    channels: list[AlertChannel]
    active: bool = True

    def subject(self) -> str:
        return str(self.responder_id)
