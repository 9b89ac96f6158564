"""Notify HTTP API: a case's alerts, and the demo responders' webhook inbox."""

from __future__ import annotations

import json
import uuid
from typing import Any

from fastapi import APIRouter, Header, HTTPException, Request, status

from hotline_common.auth import Role, require_role
from hotline_common.runtime import Runtime
from hotline_notify import repository
from hotline_notify.channels.webhook import verify

router = APIRouter(prefix="/v1")


def _runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


@router.get("/alerts", tags=["alerts"], dependencies=[require_role(Role.operator, Role.supervisor, Role.ops,
                                                                    Role.admin)])
async def alerts_of_case(request: Request, case_id: uuid.UUID) -> list[dict[str, Any]]:
    async with _runtime(request).db.acquire() as conn:
        return [dict(r) for r in await repository.alerts_of_case(conn, case_id)]


@router.post("/demo/inbox", tags=["demo"], status_code=status.HTTP_202_ACCEPTED,
             summary="Demo responders' webhook (local mode): verifies the signature and keeps the alert")
async def demo_inbox_receive(
    request: Request,
    x_hotline_signature: str | None = Header(default=None),
    x_hotline_delivery: str | None = Header(default=None),
) -> dict[str, str]:
    runtime = _runtime(request)
    body = await request.body()
    if not verify(runtime.settings.demo_webhook_secret.get_secret_value(), body, x_hotline_signature):
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, detail="bad or missing X-Hotline-Signature")
    if not x_hotline_delivery:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, detail="missing X-Hotline-Delivery")
    async with runtime.db.acquire() as conn:
        await repository.save_inbox(conn, delivery_id=x_hotline_delivery, signature_ok=True, body=json.loads(body))
    return {"status": "accepted"}


@router.get("/demo/inbox", tags=["demo"], dependencies=[require_role(*Role)])
async def demo_inbox_list(request: Request, limit: int = 50) -> list[dict[str, Any]]:
    async with _runtime(request).db.acquire() as conn:
        return [dict(r) for r in await repository.inbox(conn, min(limit, 500))]
