"""Finding cases and places from the console: case search that shows nothing naming or reaching the person (a
repeat caller's earlier cases included), and the sub-district typeahead from the gazetteer intake already holds.

The caller's number travels in the `X-Caller-Phone` header, not in the query string: URLs end up in access logs,
proxies' logs, browser history and Referer headers, where a number that identifies a person in crisis must not.
A header keeps the search a plain GET, with the same filters and pages as the others.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Header, HTTPException, Query, Request, status
from pydantic import BaseModel

from hotline_common import thai_time
from hotline_common.auth import CurrentPrincipal
from hotline_common.crypto import PiiVault
from hotline_common.events.base import utcnow
from hotline_common.runtime import Runtime
from hotline_gazetteer import gazetteer
from hotline_intake import repository, service
from hotline_intake.api import Reader
from hotline_intake.cases import (
    CasePage,
    CaseQuery,
    CaseSummary,
    case_numbers_for,
    comparable_phone,
    excerpt,
    page_cursor,
    place_th,
    read_cursor,
)

router = APIRouter(prefix="/v1")
PHONE = r"^\+?[0-9][0-9 -]{2,19}$"  # hotline_common.contact.Caller's


@router.get("/cases", response_model=CasePage, dependencies=[Reader], tags=["cases"],
            summary="Find cases, newest first (ค้นหาเรื่อง): by number, caller's phone, sub-district, day, status; "
            "no personal data; center staff see their center's cases only")
async def find_cases(
    request: Request, query: Annotated[CaseQuery, Query()], principal: CurrentPrincipal,
    x_caller_phone: Annotated[str | None, Header(pattern=PHONE, description="the caller's callback number: their "
                                                 "cases, whatever way it was written (kept out of URLs)")] = None,
) -> CasePage:
    runtime: Runtime = request.app.state.runtime
    vault: PiiVault = request.app.state.vault
    try:
        after = read_cursor(query.cursor) if query.cursor else None
    except ValueError as bad:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_ENTITY,
                            detail=[{"loc": ["query", "cursor"], "msg": str(bad), "type": "value_error"}]) from bad
    async with runtime.db.acquire() as conn:
        rows = await repository.search_cases(
            conn, numbers=case_numbers_for(query.number, utcnow()) if query.number else None,
            phone_key=vault.lookup_hash(comparable_phone(x_caller_phone)) if x_caller_phone else None,
            tambon_code=query.tambon_code, status=query.status,
            created_from=thai_time.start_of_day(query.created_from) if query.created_from else None,
            created_before=thai_time.start_of_day(query.created_to + timedelta(days=1)) if query.created_to else None,
            center_id=service.center_scope(principal), after=after, limit=query.limit + 1)
    items = [CaseSummary(
        case_id=r["case_id"], case_number=r["case_number"], status=r["status"], channel=r["channel"],
        category=r["category"], target_group=r["target_group"], urgency=r["urgency"], tambon_code=r["tambon_code"],
        place_th=place_th(r["tambon_code"]), created_at=r["created_at"],
        excerpt=excerpt(vault.open(r["description_enc"]) or "")) for r in rows[:query.limit]]
    more = len(rows) > query.limit
    return CasePage(items=items, next_cursor=page_cursor(items[-1].created_at, items[-1].case_id) if more else None)


class PlaceOption(BaseModel):
    """A sub-district to pick: tambon (ตำบล), or khwaeng (แขวง) in Bangkok."""

    code: str
    name_th: str
    name_en: str
    path_th: str
    path_en: str


# Plain `def`: FastAPI runs it in its thread pool, so a search (about a millisecond) never holds the event loop.
@router.get("/places", response_model=list[PlaceOption], dependencies=[Reader], tags=["places"],
            summary="Sub-districts for a typeahead (ค้นหาตำบล): Thai or English, any order, prefixes, typos")
def find_places(q: Annotated[str, Query(min_length=1, max_length=100, description="e.g. 'สันกลาง พาน', 'san klang'")],
                limit: Annotated[int, Query(ge=1, le=20)] = 8) -> list[PlaceOption]:
    # Districts and provinces rank among the hits (and bring their sub-districts along): ask for more, keep tambons.
    hits = gazetteer().search(q, limit=max(3 * limit, 25))
    return [PlaceOption(code=h.code, name_th=h.name_th, name_en=h.name_en, path_th=h.path_th, path_en=h.path_en)
            for h in hits if h.kind == "tambon"][:limit]


async def warm_places() -> None:
    """Build the gazetteer's name index at start-up (about half a second), not on an operator's first keystroke."""
    await asyncio.to_thread(lambda: gazetteer().index)
