"""A read model: a service's own table kept from case topics nobody waits on by the half second (intake's
timeline, the ops console). Its subscribers take batches (`kafka.read_model_options`) and apply each event in turn
(`deadletter.apply_each`): one offset commit per batch, not per record."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from faststream import Context
from faststream.kafka import KafkaRouter

from hotline_common.deadletter import apply_each
from hotline_common.events import Event
from hotline_common.kafka import read_model_options
from hotline_common.runtime import Runtime
from hotline_common.topics import TopicSpec

Apply = Callable[..., Awaitable[None]]  # (event, *, runtime) -> None; idempotent
A = TypeVar("A", bound=Apply)


class ReadModel:
    """The topics a service's read model follows, each with its idempotent `apply(event, runtime=...)`."""

    def __init__(self, service: str) -> None:
        self.service = service
        self.router = KafkaRouter()
        self.specs: list[TopicSpec] = []

    def on(self, spec: TopicSpec) -> Callable[[A], A]:
        """Register `apply` for `spec`'s events. The subscriber is left out of FastStream's AsyncAPI schema (its
        records arrive undecoded); `hotline_common.asyncapi` declares the topic with its event model instead."""
        def register(apply: A) -> A:
            async def batch(records: list[Any], runtime: Runtime = Context(), broker: Any = Context()) -> None:
                async def one(event: Event) -> None:
                    await apply(event, runtime=runtime)

                await apply_each(broker, records, spec.model, one)

            batch.__name__ = batch.__qualname__ = apply.__name__  # the subscriber's name in logs and metrics
            self.router.subscriber(spec.name, include_in_schema=False, **read_model_options(self.service))(batch)
            self.specs.append(spec)
            return apply

        return register
