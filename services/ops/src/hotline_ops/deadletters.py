"""The dead-letter page's API, thin over hotline_common.deadletters: the queues' counts (as last sampled), a queue's
newest records, one record with its error and its payload (personal values masked by the library), and a replay to
its original topic by the ops role only, audited on `hotline.ops.audit.v1` by the library in the same Kafka
transaction."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Query, Request, status
from pydantic import BaseModel, ConfigDict, Field

from hotline_common import deadletters as dlq
from hotline_common.auth import Principal, require_role
from hotline_common.runtime import Runtime
from hotline_ops.api import REPLAYERS, Viewer
from hotline_ops.samples import Samples

router = APIRouter(prefix="/v1/deadletters", tags=["dead letters"])
Topic = Annotated[str, Path(pattern=r"^hotline\.[a-z0-9_.]+\.dlq$", max_length=200,
                            description="a dead-letter topic, e.g. hotline.case.reported.v1.dlq")]


def _runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


def _refused(exc: dlq.DeadLetterError) -> HTTPException:
    if isinstance(exc, dlq.DeadLetterNotFound):
        return HTTPException(status.HTTP_404_NOT_FOUND, detail=str(exc))
    if isinstance(exc, dlq.InvalidPayload):
        return HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail={"message": str(exc),
                                                                            "errors": exc.errors})
    return HTTPException(status.HTTP_409_CONFLICT, detail=str(exc))


class Queues(BaseModel):
    sampled_at: datetime | None
    error: str | None
    pending: int  # records not replayed yet, over all queues: what the badge shows
    topics: list[dict[str, Any]]


@router.get("", response_model=Queues, dependencies=[Viewer],
            summary="Every dead-letter queue with its records and how many were replayed (คิวข้อผิดพลาด)")
async def queues(request: Request) -> Queues:
    samples: Samples = _runtime(request).extras["samples"]
    return Queues(sampled_at=samples.dead_letters_at, error=samples.dead_letters_error,
                  pending=sum(q.pending for q in samples.dead_letters),
                  topics=[q.as_dict() for q in samples.dead_letters])


@router.get("/{topic}", dependencies=[Viewer], summary="The newest records of one dead-letter queue, newest first")
async def records(request: Request, topic: Topic,
                  limit: Annotated[int, Query(ge=1, le=500)] = 50) -> dict[str, Any]:
    try:
        found = await dlq.dead_letters(_runtime(request).settings.kafka_bootstrap_servers, topic, limit=limit)
    except dlq.DeadLetterError as exc:
        raise _refused(exc) from exc
    return {"topic": topic, "records": [letter.as_dict() for letter in reversed(found)]}


@router.get("/{topic}/{partition}/{offset}", dependencies=[Viewer],
            summary="One dead letter: its error, its replays, its payload with personal values masked")
async def record(request: Request, topic: Topic, partition: Annotated[int, Path(ge=0)],
                 offset: Annotated[int, Path(ge=0)]) -> dict[str, Any]:
    try:
        letter = await dlq.show(_runtime(request).settings.kafka_bootstrap_servers, topic, offset,
                                partition=partition)
    except dlq.DeadLetterError as exc:
        raise _refused(exc) from exc
    return {**letter.as_dict(), "event": letter.event.as_dict()}


class ReplayIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    force: bool = Field(default=False, description="replay although an earlier replay was recorded")
    patch: dict[str, Any] | None = Field(default=None, description="a JSON merge patch (RFC 7386) correcting the "
                                         "body; the result must be a valid event of the original topic")


@router.post("/{topic}/{partition}/{offset}/replay",
             summary="Publish a dead letter again to its original topic (ops only), with an audit entry")
async def replay(request: Request, topic: Topic, partition: Annotated[int, Path(ge=0)],
                 offset: Annotated[int, Path(ge=0)], principal: Annotated[Principal, require_role(*REPLAYERS)],
                 body: ReplayIn | None = None) -> dict[str, Any]:
    runtime = _runtime(request)
    wanted = body or ReplayIn()
    try:
        audit = await dlq.replay(runtime.settings.kafka_bootstrap_servers, topic, offset, partition=partition,
                                 by=principal.subject, force=wanted.force, patch=wanted.patch)
    except dlq.DeadLetterError as exc:
        raise _refused(exc) from exc
    samples: Samples = runtime.extras["samples"]
    await samples.sample_dead_letters()  # the queue's count changes now, not at the next sample
    return audit.model_dump(mode="json")
