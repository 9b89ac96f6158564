"""Event models, declared once: every service and the exported JSON Schemas come from here."""

from hotline_common.events.alerts import AlertFailed, AlertSent
from hotline_common.events.base import Event
from hotline_common.events.cases import (
    CaseReported,
    CaseRouted,
    CaseUnroutable,
    Category,
    Channel,
    Location,
    Priority,
    TargetGroup,
)
from hotline_common.events.registry import AgencyRecord, AgencyType, AlertChannel, CenterRecord, ResponderRecord
from hotline_common.events.rota import RotaRecord

__all__ = [
    "AgencyRecord",
    "AgencyType",
    "AlertChannel",
    "AlertFailed",
    "AlertSent",
    "CaseReported",
    "CaseRouted",
    "CaseUnroutable",
    "Category",
    "CenterRecord",
    "Channel",
    "Event",
    "Location",
    "Priority",
    "ResponderRecord",
    "RotaRecord",
    "TargetGroup",
]
