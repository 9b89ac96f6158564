"""The alert domain: what a responder is told (no personal data), and when a failed delivery is retried."""

from __future__ import annotations

import random
import uuid
from typing import Any

from hotline_common.events import CaseRouted, ResponderRecord
from hotline_gazetteer import gazetteer

NAMESPACE = uuid.UUID("a1e7a1e7-1300-4000-8000-000000000000")


def alert_id_for(routed_event_id: uuid.UUID, responder_id: uuid.UUID) -> uuid.UUID:
    """Deterministic: the same routing and responder always name the same alert (idempotent delivery key)."""
    return uuid.uuid5(NAMESPACE, f"{routed_event_id}:{responder_id}")


def alert_payload(routed: CaseRouted, responder: ResponderRecord, *, link: str) -> dict[str, Any]:
    """Only what the responder needs to act; the caller's name and phone are on the authenticated page."""
    tambon = gazetteer().tambon(routed.tambon_code)
    return {
        "alert_id": str(alert_id_for(routed.event_id, responder.responder_id)),
        "case_id": str(routed.case_id),
        "case_number": routed.case_number,
        "category": routed.category.value,
        "priority": routed.priority.value,
        "tambon_code": routed.tambon_code,
        "place_th": tambon.path_th() if tambon else routed.tambon_code,
        "center_id": str(routed.center_id) if routed.center_id else None,
        "center_name_th": routed.center_name_th,
        "agency_name_th": routed.agency_name_th,
        "responder_id": str(responder.responder_id),
        "link": link,
        "text_th": f"[{routed.priority.value}] เรื่องใหม่ {routed.case_number} ({routed.category.value}) "
                   f"ที่ {tambon.path_th() if tambon else routed.tambon_code}",
    }


def retry_delay(attempt: int, *, base: float, cap: float) -> float:
    """Exponential backoff with full jitter: spreads retries of many alerts after an outage."""
    return float(random.uniform(base / 2, min(cap, base * 2 ** (attempt - 1))))  # noqa: S311 - jitter only
