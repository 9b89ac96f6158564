"""A case's live timeline for the console: server-sent events, the timeline so far and then each new entry as it
is recorded (hotline_intake.live), resumable with Last-Event-ID.

How a browser authenticates: EventSource cannot send an Authorization header, and the console keeps its access
token in sessionStorage (not in a cookie, so no other page or tab can make requests in the operator's name). So the
console first asks `POST /v1/cases/{id}/stream-ticket` (with its bearer token, under the case view's rules) for a
ticket and opens `GET /v1/cases/{id}/stream?ticket=...`. A ticket is a JWT like the access token, with an audience
of its own (it is not an access token anywhere, and an access token is not a ticket), the case id (it opens that
one stream only), and a minute to live (query strings end up in logs and browser history: one that leaks there is
soon worthless). EventSource reconnects to the same URL by itself; once the ticket has expired, the console gets a
new one and resumes from the last entry it saw (`after`, as Last-Event-ID would). Other clients may simply send
their bearer token.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator
from typing import Annotated

import jwt
from fastapi import APIRouter, Depends, Header, HTTPException, Query, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel
from sse_starlette import EventSourceResponse, ServerSentEvent

from hotline_common.auth import ALGORITHM, CurrentPrincipal, Principal, Role, current_principal
from hotline_common.runtime import Runtime
from hotline_intake import repository, service, timeline
from hotline_intake.api import READERS, Reader
from hotline_intake.live import RESYNC, CaseFeed

router = APIRouter(prefix="/v1", tags=["cases"])
TICKET_AUDIENCE = "hotline-intake-stream"
TICKET_ISSUER = "hotline-intake"
TICKET_SECONDS = 60
PING_SECONDS = 15  # a comment line now and then: proxies keep the connection, the client notices a dead one
_bearer = HTTPBearer(auto_error=False)


class StreamTicket(BaseModel):
    ticket: str
    expires_in: int


def issue_ticket(secret: str, principal: Principal, case_id: uuid.UUID, *, now: float | None = None) -> str:
    issued = int(now if now is not None else time.time())
    claims: dict[str, object] = {"sub": principal.subject, "role": principal.role.value, "case": str(case_id),
                                 "aud": TICKET_AUDIENCE, "iss": TICKET_ISSUER, "iat": issued,
                                 "exp": issued + TICKET_SECONDS}
    if principal.center_id:
        claims["center_id"] = principal.center_id
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def ticket_holder(secret: str, ticket: str, case_id: uuid.UUID) -> Principal:
    """Who the ticket was issued to, if it is valid now and for this case; ValueError (or a jwt error) if not."""
    claims = jwt.decode(ticket, secret, algorithms=[ALGORITHM], audience=TICKET_AUDIENCE, issuer=TICKET_ISSUER,
                        options={"require": ["exp", "sub", "case"]})
    if claims["case"] != str(case_id):
        raise ValueError("the ticket is for another case")
    return Principal(subject=str(claims["sub"]), role=Role(claims["role"]), center_id=claims.get("center_id"))


async def stream_reader(
    request: Request, case_id: uuid.UUID,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    ticket: Annotated[str | None, Query(max_length=2000, description="from POST /v1/cases/{id}/stream-ticket, "
                                        "for browsers (EventSource sends no Authorization header)")] = None,
) -> Principal:
    if credentials is not None:
        principal = await current_principal(request, credentials)
    elif ticket is not None:
        secret: str = request.app.state.settings.jwt_secret.get_secret_value()
        try:
            principal = ticket_holder(secret, ticket, case_id)
        except (jwt.PyJWTError, ValueError) as exc:
            raise HTTPException(status.HTTP_401_UNAUTHORIZED, detail=f"invalid ticket: {exc}") from exc
    else:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, detail="missing bearer token or ticket",
                            headers={"WWW-Authenticate": "Bearer"})
    if principal.role not in READERS:
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail=f"role {principal.role.value} may not do this")
    return principal


@router.post("/cases/{case_id}/stream-ticket", response_model=StreamTicket, dependencies=[Reader],
             summary="A one-minute ticket that opens this case's live timeline in a browser (EventSource)")
async def stream_ticket(request: Request, case_id: uuid.UUID, principal: CurrentPrincipal) -> StreamTicket:
    runtime: Runtime = request.app.state.runtime
    async with runtime.db.acquire() as conn:
        await service.case_for(conn, case_id, principal)
    secret: str = request.app.state.settings.jwt_secret.get_secret_value()
    return StreamTicket(ticket=issue_ticket(secret, principal, case_id), expires_in=TICKET_SECONDS)


def last_seen(*candidates: str | None) -> uuid.UUID | None:
    """The first of Last-Event-ID and `after` that is an event id; None (from the beginning) if neither is."""
    for value in candidates:
        if value:
            try:
                return uuid.UUID(value)
            except ValueError:  # not an id this stream gave
                continue
    return None


@router.get("/cases/{case_id}/stream", response_class=EventSourceResponse,
            summary="The case's live timeline (server-sent events: `timeline`, one per entry, id = event id)")
async def stream(
    request: Request, case_id: uuid.UUID, principal: Annotated[Principal, Depends(stream_reader)],
    last_event_id: Annotated[str | None, Header(max_length=100)] = None,
    after: Annotated[str | None, Query(max_length=100, description="resume after this event id (what "
                                       "Last-Event-ID says, for a client that opens a new connection)")] = None,
) -> EventSourceResponse:
    runtime: Runtime = request.app.state.runtime
    async with runtime.db.acquire() as conn:
        await service.case_for(conn, case_id, principal)
    entries = _entries(runtime, runtime.extras["case_feed"], case_id, last_seen(last_event_id, after))
    return EventSourceResponse(entries, ping=PING_SECONDS,
                               headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})


async def _entries(runtime: Runtime, feed: CaseFeed, case_id: uuid.UUID,
                   last_seen: uuid.UUID | None) -> AsyncIterator[ServerSentEvent]:
    with feed.follow(case_id) as heard:
        async with runtime.db.acquire() as conn:
            after = await repository.seq_of(conn, case_id, last_seen) if last_seen else 0
            pending = await repository.timeline_since(conn, case_id, after)
        sent: set[uuid.UUID] = set()
        caught_up = False
        while True:
            for row in pending:
                if row["event_id"] not in sent:  # heard live and read from the table too
                    sent.add(row["event_id"])
                    after = max(after, row["seq"])
                    yield timeline.as_event(row)
            if not caught_up:  # the timeline so far is out: what follows is live (a comment, unseen by EventSource)
                caught_up = True
                yield ServerSentEvent(comment="live", retry=timeline.RETRY_MS)
            item = await heard.get()
            if item is RESYNC:
                async with runtime.db.acquire() as conn:
                    pending = await repository.timeline_since(conn, case_id, after)
            else:
                pending = [item]
