"""The live event stream (server-sent events): every `hotline.*` event as its safe view (hotline_common.stream),
filtered on the server, resumable with Last-Event-ID (hotline_ops.live explains how).

Pausing in the console loses nothing twice over: the page keeps reading while paused and holds what arrives, and if
the connection drops meanwhile it reconnects with the last id it saw and gets everything after it. Event ids are
Kafka coordinates (`topic/partition/offset`), the same in every ops process, so a client that reconnects to another
replica drops what it has already shown.

The browser reads this with `fetch` and sends its bearer token like every other request (EventSource cannot send
an Authorization header); other clients use any SSE library.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request
from sse_starlette import EventSourceResponse, ServerSentEvent

from hotline_common.stream import EventFilter, EventView, make_filter
from hotline_ops.api import Viewer
from hotline_ops.centers import CenterNames
from hotline_ops.live import Follower, Heard, LiveTail

router = APIRouter(prefix="/v1", tags=["ops"])
PING_SECONDS = 15
RETRY_MS = 1000
NO_MATCH = "-"  # a center filter that names no known center matches nothing, rather than everything


def as_event(heard: Heard[EventView], centers: CenterNames) -> ServerSentEvent:
    view = heard.view.as_dict()
    view["center_name_th"] = centers.name_of(heard.view.center_id) or heard.view.details.get("center_name_th")
    return ServerSentEvent(json.dumps(view, ensure_ascii=False, separators=(",", ":")), id=heard.id,
                           event="event")


HEARTBEAT = "ops.heartbeat"


@router.get("/stream", response_class=EventSourceResponse, dependencies=[Viewer],
            summary="The live event stream (server-sent events `event`, id = topic/partition/offset), filtered")
async def stream(
    request: Request,
    type: Annotated[list[str] | None, Query(description="event type, e.g. `case.routed`, `routed`, a topic")] = None,
    province: Annotated[list[str] | None, Query(description="two-digit province code, e.g. `57`, `10`")] = None,
    center: Annotated[list[str] | None, Query(description="a center id, or text its Thai name contains")] = None,
    priority: Annotated[list[str] | None, Query(description="P1 … P4")] = None,
    case_number: Annotated[list[str] | None, Query(description="e.g. 1300-2569-000001")] = None,
    recent: Annotated[int, Query(ge=0, le=1000, description="on a fresh start, this many recent events that "
                                 "match, before the live ones")] = 0,
    last_event_id: Annotated[str | None, Header(max_length=300)] = None,
) -> EventSourceResponse:
    runtime = request.app.state.runtime
    tail: LiveTail[EventView] = runtime.extras["tail"]
    centers: CenterNames = runtime.extras["centers"]
    center_ids = {found for wanted in center or () for found in centers.matching(wanted)}
    if center and not center_ids:
        center_ids = {NO_MATCH}
    wanted = make_filter(event_types=type or (), provinces=province or (), center_ids=center_ids,
                         priorities=priority or (), case_numbers=[n.strip() for n in case_number or ()])
    return EventSourceResponse(_events(tail, centers, wanted, last_event_id or None, recent), ping=PING_SECONDS,
                               headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})


async def _events(tail: LiveTail[EventView], centers: CenterNames, wanted: EventFilter, last_id: str | None,
                  recent: int) -> AsyncIterator[ServerSentEvent]:
    follower: Follower[EventView]
    with tail.follow(last_id) as follower:
        # The filter learns each case's province, center and priority from its earlier events (an alert names
        # only its center): it reads the recent events first, whether or not they are sent.
        earlier = [heard for heard in follower.backlog if wanted.matches(heard.view)]
        if last_id is None:
            # The recent events a fresh page starts with: heartbeats (several a second) would crowd out the cases'
            # events, and the page hides them unless asked; so they count only when asked for by type.
            if not any("heartbeat" in wanted_type for wanted_type in wanted.event_types):
                earlier = [heard for heard in earlier if heard.view.event_type != HEARTBEAT]
            earlier = earlier[len(earlier) - recent:] if recent else []
        if follower.gap:
            gap: dict[str, Any] = {"last_event_id": last_id, "th": "อาจมีเหตุการณ์ที่ไม่ได้แสดง",
                                   "en": "some events may be missing"}
            yield ServerSentEvent(json.dumps(gap, ensure_ascii=False), event="gap")
        for heard in earlier:
            yield as_event(heard, centers)
        yield ServerSentEvent(comment="live", retry=RETRY_MS)
        while True:
            item = await follower.queue.get()
            if item is None:  # too slow, or the service is stopping: the client resumes with Last-Event-ID
                return
            if wanted.matches(item.view):
                yield as_event(item, centers)
