"""Event models, declared once: every service and the exported JSON Schemas come from here."""

from hotline_common.events.alerts import AlertFailed, AlertSent
from hotline_common.events.base import Event
from hotline_common.events.cases import (
    ActionVia,
    CaseAcknowledged,
    CaseDeclined,
    CaseEscalated,
    CaseReported,
    CaseResolved,
    CaseRouted,
    CaseUnroutable,
    Category,
    CenterCandidate,
    Channel,
    Location,
    Priority,
    ResolveOutcome,
    RoutingExplanation,
    SafeHours,
    Safety,
    TambonCandidate,
    TargetGroup,
)
from hotline_common.events.registry import AgencyRecord, AgencyType, AlertChannel, CenterRecord, ResponderRecord
from hotline_common.events.rota import RotaRecord

__all__ = [
    "ActionVia",
    "AgencyRecord",
    "AgencyType",
    "AlertChannel",
    "AlertFailed",
    "AlertSent",
    "CaseAcknowledged",
    "CaseDeclined",
    "CaseEscalated",
    "CaseReported",
    "CaseResolved",
    "CaseRouted",
    "CaseUnroutable",
    "Category",
    "CenterCandidate",
    "CenterRecord",
    "Channel",
    "Event",
    "Location",
    "Priority",
    "ResolveOutcome",
    "ResponderRecord",
    "RotaRecord",
    "RoutingExplanation",
    "SafeHours",
    "Safety",
    "TambonCandidate",
    "TargetGroup",
]
