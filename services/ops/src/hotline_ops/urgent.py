"""The urgent list's rows: how long is left to acknowledge an open P1/P2 case, and where it is stuck. Pure."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel

from hotline_gazetteer import gazetteer

Stage = Literal["not_routed", "unroutable", "declined", "escalated", "waiting"]

# Where a case waiting for acknowledgement is stuck (Thai, English).
STAGE: dict[str, tuple[str, str]] = {
    "not_routed": ("ยังไม่ได้ส่งต่อ", "not routed yet"),
    "unroutable": ("ส่งต่อไม่ได้ รอหัวหน้าเวร", "could not be routed: a supervisor decides"),
    "declined": ("ศูนย์ปฏิเสธ กำลังส่งต่อใหม่", "declined, being re-routed"),
    "escalated": ("ยกระดับแล้ว ยังไม่มีผู้รับ", "escalated, still not acknowledged"),
    "waiting": ("รอผู้รับเรื่อง", "waiting for a responder"),
}


class WaitingCase(BaseModel):
    case_id: str
    case_number: str
    priority: str
    stage: Stage
    ack_deadline: datetime | None
    seconds_left: int | None  # negative once the deadline has passed
    breached: bool
    reported_at: datetime | None
    category: str | None
    channel: str | None
    province_code: str | None
    province_th: str | None
    center_name_th: str | None
    agency_name_th: str | None
    escalation_level: int | None


def stage_of(row: dict[str, Any]) -> Stage:
    if row["unroutable_at"] is not None:
        return "unroutable"
    if row["routed_at"] is None:
        return "not_routed"
    if row["declined_at"] is not None:
        return "declined"
    if row["escalation_level"]:
        return "escalated"
    return "waiting"


def waiting_case(row: dict[str, Any], now: datetime) -> WaitingCase:
    deadline: datetime | None = row["ack_deadline"]
    left = int((deadline - now).total_seconds()) if deadline is not None else None
    province = gazetteer().province(row["province_code"]) if row["province_code"] else None
    return WaitingCase(
        case_id=str(row["case_id"]), case_number=row["case_number"], priority=row["priority"], stage=stage_of(row),
        ack_deadline=deadline, seconds_left=left, breached=left is not None and left < 0,
        reported_at=row["reported_at"], category=row["category"], channel=row["channel"],
        province_code=row["province_code"], province_th=province.name_th if province else None,
        center_name_th=row["center_name_th"], agency_name_th=row["agency_name_th"],
        escalation_level=row["escalation_level"])
