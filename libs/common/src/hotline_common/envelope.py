"""CloudEvents 1.0 in Kafka binary mode: the event's attributes travel as `ce_*` record headers."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime

from hotline_common.events import Event

SPECVERSION = "1.0"
CONTENT_TYPE = "application/json"
REQUIRED = ("ce_specversion", "ce_id", "ce_type", "ce_source", "ce_time")


def ce_headers(event: Event, *, source: str, traceparent: str | None = None) -> dict[str, str]:
    """Headers for one event record (`source` names the producing service, e.g. `/hotline/intake`)."""
    headers = {
        "ce_specversion": SPECVERSION,
        "ce_id": str(event.event_id),
        "ce_type": event.ce_type,
        "ce_source": source,
        "ce_time": event.occurred_at.isoformat(),
        "ce_subject": event.subject(),
        "content-type": CONTENT_TYPE,
    }
    if traceparent:
        headers["traceparent"] = traceparent
    return headers


class EnvelopeError(ValueError):
    """A record whose headers are not a valid CloudEvents binary-mode envelope."""


def check_headers(headers: Mapping[str, str]) -> uuid.UUID:
    """Validate the required attributes and return the event id."""
    missing = [name for name in REQUIRED if not headers.get(name)]
    if missing:
        raise EnvelopeError(f"missing CloudEvents headers: {', '.join(missing)}")
    if headers["ce_specversion"] != SPECVERSION:
        raise EnvelopeError(f"unsupported ce_specversion {headers['ce_specversion']!r}")
    try:
        datetime.fromisoformat(headers["ce_time"])
        return uuid.UUID(headers["ce_id"])
    except ValueError as exc:
        raise EnvelopeError(f"bad CloudEvents header: {exc}") from exc
