"""The ops console's JSON API, thin: who may look, then what the repository, the live tail and the lag sampler
hold. The page polls these every few seconds; the event stream is in hotline_ops.stream, the dead letters in
hotline_ops.deadletters."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel

from hotline_common.auth import Role, require_role
from hotline_common.events.base import utcnow
from hotline_common.runtime import Runtime
from hotline_common.thai_time import BANGKOK, start_of_day
from hotline_gazetteer import gazetteer
from hotline_ops import repository
from hotline_ops.config import OpsSettings
from hotline_ops.health import HealthBoard
from hotline_ops.live import LiveTail
from hotline_ops.samples import Samples
from hotline_ops.urgent import STAGE, WaitingCase, waiting_case

router = APIRouter(prefix="/v1", tags=["ops"])
# Who may watch (nothing in the console names a person), and who may put a dead letter back on its topic.
VIEWERS = (Role.ops, Role.admin, Role.supervisor)
REPLAYERS = (Role.ops,)
Viewer = require_role(*VIEWERS)


def _runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


class Waiting(BaseModel):
    now: datetime
    cases: list[WaitingCase]
    stages: dict[str, tuple[str, str]]


@router.get("/urgent", response_model=Waiting, dependencies=[Viewer],
            summary="Open P1/P2 cases nobody has acknowledged (ด่วน ยังไม่มีผู้รับเรื่อง), the nearest deadline first")
async def urgent(request: Request) -> Waiting:
    runtime = _runtime(request)
    settings: OpsSettings = request.app.state.settings
    async with runtime.db.acquire() as conn:
        rows = await repository.waiting_cases(conn, limit=settings.urgent_limit)
    now = utcnow()
    return Waiting(now=now, cases=[waiting_case(row, now) for row in rows], stages=STAGE)


class ProvinceCount(BaseModel):
    code: str
    name_th: str
    name_en: str
    count: int


class Today(BaseModel):
    day: str  # the Bangkok calendar day, ISO
    total: int
    not_located: int  # reported with a free-text address that routing has not resolved yet
    provinces: list[ProvinceCount]  # those with cases, most first


@router.get("/map/today", response_model=Today, dependencies=[Viewer],
            summary="Today's cases (Asia/Bangkok day) by province (เรื่องวันนี้รายจังหวัด)")
async def today(request: Request) -> Today:
    day = utcnow().astimezone(BANGKOK).date()
    start = start_of_day(day)
    async with _runtime(request).db.acquire() as conn:
        counts = await repository.reported_by_province(conn, start, start + timedelta(days=1))
    provinces = []
    for code, n in counts.items():
        province = gazetteer().province(code) if code else None
        if province is not None:
            provinces.append(ProvinceCount(code=code or "", name_th=province.name_th, name_en=province.name_en,
                                           count=n))
    provinces.sort(key=lambda p: (-p.count, p.name_th))
    return Today(day=day.isoformat(), total=sum(counts.values()),
                 not_located=sum(n for code, n in counts.items() if not code or gazetteer().province(code) is None),
                 provinces=provinces)


@router.get("/rates", dependencies=[Viewer], summary="Events per second per topic over the last minute, as the "
            "live stream hears them (อัตราเหตุการณ์)")
async def rates(request: Request) -> dict[str, Any]:
    tail: LiveTail[Any] = _runtime(request).extras["tail"]
    per_second = tail.rates.per_second()
    return {"window_seconds": tail.rates.window, "following": tail.ready.is_set(),
            "topics": [{"topic": topic, "per_second": rate, "total": tail.rates.totals.get(topic, 0)}
                       for topic, rate in per_second.items()]}


@router.get("/lag", dependencies=[Viewer], summary="Each consumer group's lag per topic (งานค้าง), the largest "
            "first, as last sampled")
async def lag(request: Request) -> dict[str, Any]:
    samples: Samples = _runtime(request).extras["samples"]
    return {"sampled_at": samples.lag_at, "every_seconds": samples.every, "error": samples.lag_error,
            "groups": [{"group": r.group, "topic": r.topic, "lag": r.lag, "partitions": r.partitions}
                       for r in samples.lag]}


@router.get("/health", dependencies=[Viewer], summary="Each service's health (สุขภาพระบบ) as the watchdog judges it, "
            "and the watchdog's open alarms")
async def health(request: Request) -> dict[str, Any]:
    board: HealthBoard = _runtime(request).extras["health"]
    return {"checked_at": utcnow().isoformat(), **board.view(utcnow())}
