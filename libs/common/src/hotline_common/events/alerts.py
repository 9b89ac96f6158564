"""Alert events: notify's delivery outcome for one responder and one routing."""

from __future__ import annotations

import uuid
from typing import ClassVar

from hotline_common.events.base import CaseEvent


class AlertSent(CaseEvent):
    ce_type: ClassVar[str] = "th.go.msdhs.hotline.alert.sent.v1"

    alert_id: uuid.UUID
    responder_id: uuid.UUID
    center_id: uuid.UUID
    channel: str
    attempts: int


class AlertFailed(CaseEvent):
    ce_type: ClassVar[str] = "th.go.msdhs.hotline.alert.failed.v1"

    alert_id: uuid.UUID
    responder_id: uuid.UUID | None = None  # None: nobody was on call to alert
    center_id: uuid.UUID | None  # the center, or the agency of a One Home routing, that was to be alerted
    channel: str | None = None
    attempts: int
    last_error: str
