"""The channel contract: `send(delivery) -> DeliveryResult`; a channel never raises for a failed delivery.

A delivery is one message to one responder on one channel. It carries one alert, or several when a burst of
alerts for the same responder is due at once (grouped into one message, never dropped).
"""

from __future__ import annotations

import abc
import uuid
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

from hotline_common import labels

# "urgent": the case became more urgent after it was routed (a higher priority, an earlier deadline).
AlertKind = Literal["new", "realert", "escalated", "visit_reminder", "urgent"]


@dataclass(frozen=True)
class AlertItem:
    """One case in a message: only what the responder needs to act — never the caller's name, phone or story."""

    alert_id: uuid.UUID
    case_id: uuid.UUID
    case_number: str  # 1300-2569-000123
    priority: str  # P1..P4
    priority_th: str  # e.g. "ด่วนที่สุด"
    category: str  # Category value, e.g. "domestic_violence"
    category_th: str  # e.g. "ความรุนแรงในครอบครัว"
    place_th: str  # ต.สันกลาง › อ.พาน › จ.เชียงราย
    unit_name_th: str | None  # the center (or agency) the case was sent to
    kind: AlertKind
    level: int  # escalation level (1: the first alert)
    link: str  # signed, expiring link to the responder page (acknowledge / decline / resolve there)
    ack_data: str  # LINE postback data for "acknowledge" (at most 300 characters, signed)
    decline_data: str  # LINE postback data for "decline" (the page asks for the reason)
    ack_deadline_th: str | None = None  # "ภายใน 03:15 น." — local time, for the message text
    tambon_code: str | None = None  # for receiving systems (webhook)
    unit_id: uuid.UUID | None = None  # the center (or agency) alerted about
    safety_th: tuple[str, ...] = ()  # the person's safety preferences ("ห้ามโทรกลับ"): shown before anything else
    # An acknowledged case's urgent alert: the (shortened) visit deadline, what counts once acknowledged.
    visit_deadline_th: str | None = None

    @property
    def safety_line(self) -> str | None:
        return "⚠ " + " · ".join(self.safety_th) if self.safety_th else None

    @property
    def kind_th(self) -> str:
        """"ยกระดับ ขั้น 2": what the alert is, as every channel names it."""
        kind = labels.th(labels.ALERT_KIND, self.kind)
        return f"{kind} ขั้น {self.level}" if self.kind == "escalated" else kind

    @property
    def urgent_line(self) -> str | None:
        """"ด่วนขึ้น P1 ภายใน 03:15 น.": what an urgent alert says first after the safety line (the responder may
        have read the case at a lower priority, with a later deadline)."""
        if self.kind != "urgent":
            return None
        return " ".join(x for x in (self.kind_th, self.priority, self.deadline_th) if x)

    @property
    def deadline_th(self) -> str | None:
        """The deadline that counts now: the visit's once acknowledged, else the acknowledgement's."""
        return self.visit_deadline_th or self.ack_deadline_th

    def to_json(self) -> dict[str, Any]:
        return {
            "alert_id": str(self.alert_id), "case_id": str(self.case_id), "case_number": self.case_number,
            "priority": self.priority, "priority_th": self.priority_th, "category": self.category,
            "category_th": self.category_th, "place_th": self.place_th, "unit_name_th": self.unit_name_th,
            "kind": self.kind, "level": self.level, "link": self.link, "ack_deadline_th": self.ack_deadline_th,
            "tambon_code": self.tambon_code, "unit_id": str(self.unit_id) if self.unit_id else None,
            "safety_th": list(self.safety_th), "visit_deadline_th": self.visit_deadline_th,
        }


@dataclass(frozen=True)
class Delivery:
    delivery_id: uuid.UUID  # idempotency key: LINE X-Line-Retry-Key, webhook X-Hotline-Delivery, SMS reference
    address: str  # LINE user id, E.164 phone, e-mail address or URL
    secret_ref: str | None
    items: tuple[AlertItem, ...]  # at least one


@dataclass(frozen=True)
class DeliveryResult:
    ok: bool
    # A permanent failure (e.g. 4xx but 408/429) is not worth retrying on this channel: go to the next one.
    permanent: bool = False
    http_status: int | None = None
    error: str | None = None


class AlertChannel(abc.ABC):
    kind: ClassVar[str]

    @abc.abstractmethod
    async def send(self, delivery: Delivery) -> DeliveryResult: ...

    async def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections."""


registry: dict[str, type[AlertChannel]] = {}


def register(cls: type[AlertChannel]) -> type[AlertChannel]:
    registry[cls.kind] = cls
    return cls
