"""How a case's timeline reads on the console: each entry's label and one line on what happened, Thai first with
English beside, at Bangkok time; and the server-sent event that carries it."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from sse_starlette import ServerSentEvent

from hotline_common import labels, thai_time
from hotline_common.events import Channel, ResolveOutcome

# The console follows a stream's `retry` when the connection drops: soon, but not a storm after a restart.
RETRY_MS = 3000


def _pair(table: Mapping[Any, tuple[str, str]], key: object) -> tuple[str, str]:
    found = table.get(key)
    return found if found else (str(key), str(key))


def _channel(value: object) -> tuple[str, str]:
    try:
        return _pair(labels.CHANNEL, Channel(str(value)))
    except ValueError:  # a channel added after this intake was built
        return str(value), str(value)


Line = tuple[str, str]


def _reported(d: Mapping[str, Any]) -> Line:
    th, en = _channel(d.get("channel"))
    return f"ทาง{th}", f"by {en}"


def _routed(d: Mapping[str, Any]) -> Line:
    to = d.get("center_name_th") or d.get("agency_name_th") or "-"
    if d.get("reprioritised_from"):
        was, now = d["reprioritised_from"], d.get("priority")
        return f"{to} · {was} → {now} เส้นตายใหม่", f"{to} · {was} → {now}, a new deadline"
    priority = f" · {d['priority']}" if d.get("priority") else ""
    return f"ไปยัง {to}{priority}", f"to {to}{priority}"


def _urgency_raised(d: Mapping[str, Any]) -> Line:
    th, en = _pair(labels.URGENCY_REASON, d.get("reason_code"))
    was = f"{d['from']} → " if d.get("from") else ""
    return f"{was}{d.get('urgency')} · {th}", f"{was}{d.get('urgency')} · {en}"


def _unroutable(d: Mapping[str, Any]) -> Line:
    reason = str(d.get("reason") or "")
    return f"ไม่พบศูนย์ที่รับเรื่องได้ {reason}".strip(), f"no center could take it {reason}".strip()


def _alert_sent(d: Mapping[str, Any]) -> Line:
    th, en = _pair(labels.ALERT_CHANNEL, d.get("channel"))
    return f"ทาง {th}", f"by {en}"


def _alert_failed(d: Mapping[str, Any]) -> Line:
    th, en = _pair(labels.ALERT_CHANNEL, d.get("channel"))
    attempts = d.get("attempts") or 0
    return f"ทาง {th} ไม่สำเร็จ {attempts} ครั้ง", f"by {en}, {attempts} attempts failed"


def _escalated(d: Mapping[str, Any]) -> Line:
    step = d.get("step") or d.get("level") or "?"
    if d.get("reroute"):
        return f"ขั้นที่ {step}: ส่งต่อศูนย์ถัดไป", f"step {step}: on to the next center"
    return f"ขั้นที่ {step}", f"step {step}"


def _declined(d: Mapping[str, Any]) -> Line:
    reason = str(d.get("reason") or "")
    return f"เหตุผล: {reason}", f"reason: {reason}"


def _acknowledged(d: Mapping[str, Any]) -> Line:
    seconds = d.get("seconds_to_acknowledge")
    if not isinstance(seconds, int | float):
        return "", ""
    minutes = max(1, round(seconds / 60))
    return f"ภายใน {minutes} นาที", f"within {minutes} min"


def _resolved(d: Mapping[str, Any]) -> Line:
    try:
        return _pair(labels.OUTCOME, ResolveOutcome(str(d.get("outcome"))))
    except ValueError:
        return str(d.get("outcome")), str(d.get("outcome"))


def _note(d: Mapping[str, Any]) -> Line:
    th, en = _pair(labels.NOTE_SOURCE, d.get("source"))
    return f"โดย{th}", f"by {en}"


def _linked(d: Mapping[str, Any]) -> Line:
    th, en = _pair(labels.LINK_DECISION, d.get("decision"))
    other = d.get("case_number") or "-"
    return f"{th} กับ {other}", f"{en} as {other}"


SUMMARIES: dict[str, Callable[[Mapping[str, Any]], Line]] = {
    "reported": _reported, "routed": _routed, "unroutable": _unroutable, "alert_sent": _alert_sent,
    "alert_failed": _alert_failed, "escalated": _escalated, "declined": _declined, "acknowledged": _acknowledged,
    "resolved": _resolved, "note": _note, "linked": _linked, "urgency_raised": _urgency_raised,
}


def summary(type: str, detail: Mapping[str, Any]) -> Line:
    """One line on what the entry says happened (Thai, English); empty when the label says it all."""
    describe = SUMMARIES.get(type)
    return describe(detail) if describe else ("", "")


def present(row: Mapping[str, Any]) -> dict[str, Any]:
    """A timeline entry (with the case's status) as the console shows it; JSON-ready."""
    label_th, label_en = _pair(labels.CASE_EVENT, row["type"])
    summary_th, summary_en = summary(row["type"], row["detail"])
    status_th, status_en = _pair(labels.CASE_STATUS, row["status"])
    return {
        "event_id": str(row["event_id"]), "type": row["type"], "occurred_at": row["occurred_at"].isoformat(),
        "time_th": thai_time.datetime_th(row["occurred_at"]), "label_th": label_th, "label_en": label_en,
        "summary_th": summary_th, "summary_en": summary_en, "detail": row["detail"],
        "case_status": row["status"], "status_th": status_th, "status_en": status_en,
    }


def as_event(row: Mapping[str, Any]) -> ServerSentEvent:
    """`event: timeline`, the entry's event id as the SSE id (what Last-Event-ID names on a reconnect)."""
    return ServerSentEvent(json.dumps(present(row), ensure_ascii=False, default=str), event="timeline",
                           id=str(row["event_id"]))
