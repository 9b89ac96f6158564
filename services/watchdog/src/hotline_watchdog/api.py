"""The watchdog's status: what it hears from each service and which alarms are open (for the ops console and
for anyone checking the watchdog itself)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from hotline_common.auth import Role, require_role
from hotline_common.events.base import utcnow
from hotline_watchdog.watch import Watchdog

router = APIRouter(prefix="/v1", tags=["watchdog"])


@router.get("/status", dependencies=[require_role(Role.ops, Role.admin, Role.supervisor)],
            summary="Each watched service's state (สถานะบริการ), its instances' last heartbeats, open alarms")
async def status(request: Request) -> dict[str, Any]:
    watchdog: Watchdog = request.app.state.runtime.extras["watchdog"]
    now = utcnow()
    problems = {s: [p for p in watchdog.problems if p.service == s] for s in watchdog.settings.services}
    return {
        "checked_at": now.isoformat(),
        "pager": watchdog.pager.channels,
        "services": {
            service: {
                "ok": not problems[service],
                "problems": [{"kind": p.kind, "detail": p.detail, "detail_th": p.detail_th}
                             for p in problems[service]],
                "instances": [{"instance": b.instance, "ready": b.ready, "seconds_ago": round(
                    (now - b.occurred_at).total_seconds(), 1), "in_flight": b.in_flight, "processed": b.processed}
                    for (name, _), b in sorted(watchdog.heartbeats.items()) if name == service],
                "lag": watchdog.lag[service][-1].lag if watchdog.lag[service] else None,
            }
            for service in watchdog.settings.services
        },
        "alarms": [{"service": a.problem.service, "problem": a.problem.kind, "since": a.since.isoformat(),
                    "paged": a.paged_at is not None} for a in watchdog.alarms.values()],
    }
