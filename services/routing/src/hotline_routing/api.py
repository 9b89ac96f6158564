"""Routing HTTP API: what the indexes hold, and "where would this case go?" without publishing anything."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field

from hotline_common.auth import Role, require_role
from hotline_common.events import CaseReported, Category, Channel, Location, Priority, TargetGroup
from hotline_common.events.base import utcnow
from hotline_routing.decide import Routed, routed_event
from hotline_routing.engine import Routing

router = APIRouter(prefix="/v1", tags=["routing"])
PREVIEW_CASE = uuid.UUID(int=0)


def _routing(request: Request) -> Routing:
    routing: Routing = request.app.state.runtime.extras["routing"]
    return routing


@router.get("/index", dependencies=[require_role(Role.ops, Role.admin, Role.supervisor)],
            summary="Size and readiness of the center and agency indexes")
async def index_status(request: Request) -> dict[str, Any]:
    routing = _routing(request)
    centers = routing.centers.centers
    return {"ready": all(v.ready.is_set() for v in routing.views), "centers": len(centers),
            "active": sum(1 for c in centers.values() if c.status == "active"),
            "agencies": len(routing.agencies.agencies), "rules_version": routing.rules.version}


class PreviewIn(BaseModel):
    """A case as intake would report it, minus who called."""

    model_config = ConfigDict(extra="forbid")

    location: Location
    category: Category
    target_group: TargetGroup = TargetGroup.general
    description: str = Field(default="", max_length=5000)
    urgency: Priority | None = None
    needs_place: bool = False


@router.post("/routing/preview", dependencies=[require_role(Role.supervisor, Role.admin)],
             summary="Where would this case go? (ทดลองจัดส่ง) The decision, with its explanation; nothing published")
async def preview(request: Request, body: PreviewIn) -> dict[str, Any]:
    case = CaseReported(case_id=PREVIEW_CASE, case_number="preview", channel=Channel.hotline, **body.model_dump())
    decision = _routing(request).decide(case, now=utcnow())
    if isinstance(decision, Routed):
        event = routed_event(PREVIEW_CASE, "preview", decision, reported_event_id=case.event_id)
        return {"outcome": "routed", **event.model_dump(mode="json", exclude={
            "event_id", "occurred_at", "schema_version", "case_id", "case_number", "reported_event_id"})}
    return {"outcome": "unroutable", "reason_code": decision.reason_code, "reason": decision.reason,
            "candidates": [c.model_dump() for c in decision.not_located.candidates] if decision.not_located else []}
