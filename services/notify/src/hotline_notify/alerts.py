"""The alert domain: identity, what a responder is told (no personal data), and when a failed delivery is retried."""

from __future__ import annotations

import random
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from hotline_common import labels, thai_time
from hotline_common.events import Category, Priority, Safety
from hotline_notify.channels.base import AlertItem
from hotline_notify.links import Links

NAMESPACE = uuid.UUID("a1e7a1e7-1300-4000-8000-000000000000")


def alert_id_for(routed_event_id: uuid.UUID, responder_id: uuid.UUID, step: int = 0, kind: str = "new") -> uuid.UUID:
    """Deterministic: the same routing, responder, escalation step and kind always name the same alert, so a
    redelivered event or a re-fired step cannot make a second one."""
    return uuid.uuid5(NAMESPACE, f"{routed_event_id}:{responder_id}:{step}:{kind}")


def delivery_id_for(alert_ids: Sequence[uuid.UUID]) -> uuid.UUID:
    """One message's idempotency key, the same on every retry of the same alerts: a resend after a crash between
    sending and recording is then recognised by the receiver (LINE answers 409 to a retry key it has accepted;
    webhook receivers drop a repeated X-Hotline-Delivery) instead of alerting the responder twice."""
    return uuid.uuid5(NAMESPACE, ",".join(sorted(str(a) for a in alert_ids)))


def item_for(alert: dict[str, Any], links: Links) -> AlertItem:
    payload: dict[str, Any] = alert["payload"]
    priority, category = Priority(payload["priority"]), Category(payload["category"])
    deadline, visit = payload.get("ack_deadline"), None
    if alert["kind"] == "urgent" and payload.get("visit_deadline"):
        # Acknowledged already: the shortened visit deadline is what now counts, not the acknowledgement's.
        deadline, visit = None, payload["visit_deadline"]
    return AlertItem(
        alert_id=alert["alert_id"], case_id=uuid.UUID(payload["case_id"]), case_number=payload["case_number"],
        priority=priority.value, priority_th=labels.th(labels.PRIORITY, priority), category=category.value,
        category_th=labels.th(labels.CATEGORY, category), place_th=payload["place_th"],
        unit_name_th=payload.get("unit_name_th"), kind=alert["kind"], level=alert["level"],
        link=links.page(alert["alert_id"]), ack_data=links.postback("ack", alert["alert_id"]),
        decline_data=links.postback("decline", alert["alert_id"]),
        ack_deadline_th=_local_time(deadline) if deadline and alert["kind"] != "visit_reminder" else None,
        tambon_code=payload.get("tambon_code"), unit_id=alert["center_id"],
        safety_th=tuple(th for th, _ in labels.safety(Safety(**payload.get("safety") or {}))),
        visit_deadline_th=_local_time(visit) if visit else None,
    )


def _local_time(iso: str) -> str:
    """"ภายใน 03:15 น." in Bangkok time: what a responder woken at night reads."""
    return f"ภายใน {thai_time.clock_th(datetime.fromisoformat(iso))}"


def address_hint(kind: str, address: str) -> str:
    """Enough of an address to debug a delivery, not a copy of the directory: `sms …5678`."""
    if kind in ("sms", "line"):
        return f"{kind} …{address[-4:]}"
    return f"{kind} {address.rsplit('@', maxsplit=1)[-1][:60]}"


def retry_delay(attempt: int, *, base: float, cap: float) -> float:
    """Exponential backoff with full jitter: spreads retries of many alerts after an outage."""
    return float(random.uniform(base / 2, min(cap, base * 2 ** (attempt - 1))))  # noqa: S311 - jitter only
