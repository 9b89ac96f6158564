"""The channel contract: `send(delivery) -> DeliveryResult`; a channel never raises for a failed delivery."""

from __future__ import annotations

import abc
import uuid
from dataclasses import dataclass
from typing import Any, ClassVar


@dataclass(frozen=True)
class Delivery:
    alert_id: uuid.UUID
    address: str
    secret_ref: str | None
    payload: dict[str, Any]


@dataclass(frozen=True)
class DeliveryResult:
    ok: bool
    # A permanent failure (e.g. 4xx but 408/429) is not worth retrying on this channel.
    permanent: bool = False
    http_status: int | None = None
    error: str | None = None


class AlertChannel(abc.ABC):
    kind: ClassVar[str]

    @abc.abstractmethod
    async def send(self, delivery: Delivery) -> DeliveryResult: ...

    async def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections."""


registry: dict[str, type[AlertChannel]] = {}


def register(cls: type[AlertChannel]) -> type[AlertChannel]:
    registry[cls.kind] = cls
    return cls
