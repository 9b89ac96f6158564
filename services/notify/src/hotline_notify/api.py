"""Notify HTTP API: a case's alerting history, responders' actions by API, and the demo responders' inbox."""

from __future__ import annotations

import json
import uuid
from typing import Any

from fastapi import APIRouter, Header, HTTPException, Request, status
from pydantic import BaseModel, Field

from hotline_common.auth import CurrentPrincipal, Principal, Role, require_role
from hotline_common.events import ResolveOutcome
from hotline_common.runtime import Runtime
from hotline_common.webhooks import verify
from hotline_notify import repository
from hotline_notify.workflow import ActionRefused, Outcome, Workflow

router = APIRouter(prefix="/v1")
Watchers = require_role(Role.operator, Role.supervisor, Role.ops, Role.admin)
Actors = require_role(Role.responder, Role.supervisor, Role.admin)


def _runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


def _rows(rows: list[Any]) -> list[dict[str, Any]]:
    return [dict(r) for r in rows]


@router.get("/cases/{case_id}", tags=["cases"], dependencies=[Watchers],
            summary="Where alerting stands for a case: status, escalation step, alerts, attempts, timers, actions")
async def case_state(request: Request, case_id: uuid.UUID) -> dict[str, Any]:
    async with _runtime(request).db.acquire() as conn:
        case = await repository.get_case(conn, case_id)
        if case is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, detail="notify has no alerts for this case")
        return {**{k: v for k, v in dict(case).items() if k != "policy"}, "policy": case["policy"],
                "alerts": _rows(await repository.alerts_of_case(conn, case_id)),
                "attempts": _rows(await repository.attempts_of_case(conn, case_id)),
                "timers": _rows(await repository.timers_of_case(conn, case_id)),
                "actions": _rows(await repository.actions_of_case(conn, case_id))}


@router.get("/alerts", tags=["cases"], dependencies=[Watchers])
async def alerts_of_case(request: Request, case_id: uuid.UUID) -> list[dict[str, Any]]:
    async with _runtime(request).db.acquire() as conn:
        return _rows(await repository.alerts_of_case(conn, case_id))


class ActAs(BaseModel):
    responder_id: uuid.UUID | None = Field(default=None, description="who acts: a supervisor or admin acting for a "
                                           "responder names them; a responder acts as themselves")


class Decline(ActAs):
    reason: str = Field(min_length=3, max_length=500, description="why the center cannot take it (no caller data)")


class Resolve(ActAs):
    outcome: ResolveOutcome


def _actor(principal: Principal, body: ActAs) -> uuid.UUID:
    if principal.role is Role.responder:
        if principal.responder_id is None:
            raise HTTPException(status.HTTP_403_FORBIDDEN, detail="this account is not linked to a responder "
                                "in the directory (ask an admin)")
        me = uuid.UUID(principal.responder_id)
        if body.responder_id not in (None, me):
            raise HTTPException(status.HTTP_403_FORBIDDEN, detail="a responder acts only as themselves")
        return me
    if body.responder_id is None:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_ENTITY,
                            detail=[{"loc": ["body", "responder_id"], "msg": "name the responder you act for",
                                     "type": "missing"}])
    return body.responder_id


async def _act(request: Request, action: str, case_id: uuid.UUID, **kwargs: Any) -> dict[str, Any]:
    runtime = _runtime(request)
    workflow: Workflow = runtime.extras["workflow"]
    try:
        async with runtime.transaction() as conn:
            outcome: Outcome = await getattr(workflow, action)(conn, case_id, via="api", **kwargs)
    except ActionRefused as refused:
        code = status.HTTP_404_NOT_FOUND if refused.code == "unknown_case" else status.HTTP_409_CONFLICT
        raise HTTPException(code, detail={"code": refused.code, "th": refused.th, "en": refused.en}) from None
    runtime.extras["timers"].wake()
    return {"case_id": str(case_id), "status": outcome.status, "changed": outcome.done}


@router.post("/cases/{case_id}/acknowledge", tags=["actions"], dependencies=[Actors])
async def acknowledge(request: Request, case_id: uuid.UUID, principal: CurrentPrincipal,
                      body: ActAs | None = None) -> dict[str, Any]:
    return await _act(request, "acknowledge", case_id, responder_id=_actor(principal, body or ActAs()))


@router.post("/cases/{case_id}/decline", tags=["actions"], dependencies=[Actors])
async def decline(request: Request, case_id: uuid.UUID, principal: CurrentPrincipal, body: Decline
                  ) -> dict[str, Any]:
    return await _act(request, "decline", case_id, responder_id=_actor(principal, body), reason=body.reason)


@router.post("/cases/{case_id}/resolve", tags=["actions"], dependencies=[Actors])
async def resolve(request: Request, case_id: uuid.UUID, principal: CurrentPrincipal, body: Resolve
                  ) -> dict[str, Any]:
    return await _act(request, "resolve", case_id, responder_id=_actor(principal, body), outcome=body.outcome)


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
        return _rows(await repository.inbox(conn, min(limit, 500)))
