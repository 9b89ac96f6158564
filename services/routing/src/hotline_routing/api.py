"""Routing HTTP API: what the center index holds (for operators and ops)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from hotline_common.auth import Role, require_role

router = APIRouter(prefix="/v1", tags=["routing"])


@router.get("/index", dependencies=[require_role(Role.ops, Role.admin, Role.supervisor)],
            summary="Size and readiness of the center index")
async def index_status(request: Request) -> dict[str, Any]:
    extras = request.app.state.runtime.extras
    index = extras["index"]
    return {"ready": extras["centers"].ready.is_set(), "centers": len(index.centers),
            "active": sum(1 for c in index.centers.values() if c.status == "active")}
