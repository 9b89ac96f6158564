"""The Kafka broker factory and consumer options: delivery guarantees are set here, once, explicitly."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.kafka.opentelemetry import KafkaTelemetryMiddleware
from faststream.kafka.prometheus import KafkaPrometheusMiddleware
from faststream.message import StreamMessage
from opentelemetry.sdk.trace import TracerProvider
from prometheus_client import REGISTRY

from hotline_common.deadletter import DeadLetterMiddleware
from hotline_common.progress import ProgressMiddleware
from hotline_common.settings import ServiceSettings

# aiokafka defaults to acks=1 without idempotence: a leader failover can lose or duplicate records.
PRODUCER_GUARANTEES: dict[str, Any] = {"acks": "all", "enable_idempotence": True}

# FastStream's default AckPolicy.ACK_FIRST commits on receipt (at-most-once). NACK_ON_ERROR commits only
# after the handler returned, and seeks back to the record when it raised, so a crash replays it.
CONSUMER_ACK_POLICY = AckPolicy.NACK_ON_ERROR


def make_broker(
    settings: ServiceSettings,
    *,
    service: str,
    tracer_provider: TracerProvider | None = None,
    extra_middlewares: Sequence[Any] = (),
) -> KafkaBroker:
    """One broker per process: idempotent producer with acks=all, telemetry, dead-lettering and Prometheus metrics
    (FastStream's `faststream_*`: records received, processed and published, their durations and errors)."""
    middlewares: list[Any] = [KafkaTelemetryMiddleware(tracer_provider=tracer_provider)]
    middlewares.append(DeadLetterMiddleware)
    middlewares.append(ProgressMiddleware)  # for the heartbeat: is a record stuck in its handler?
    # Inside the dead-letter middleware, so a handler's error counts as one even when the record is then
    # dead-lettered (or retried) rather than raised further.
    middlewares.append(KafkaPrometheusMiddleware(registry=REGISTRY, app_name=f"hotline-{service}"))
    middlewares.extend(extra_middlewares)
    return KafkaBroker(
        # A list: FastStream passes one string on whole, and aiokafka splits only a bare string at its commas.
        [server.strip() for server in settings.kafka_bootstrap_servers.split(",")],
        client_id=f"hotline-{service}",
        # A few ms of linger lets the outbox relay's concurrent sends share one request.
        linger_ms=5,
        request_timeout_ms=30_000,
        middlewares=middlewares,
        logger=logging.getLogger(f"hotline.{service}.kafka"),
        # "Received"/"Processed" for every record is noise at INFO and costs CPU on the hot path.
        log_level=logging.DEBUG,
        graceful_timeout=15.0,
        **PRODUCER_GUARANTEES,
    )


# Consumers per subscriber and process: each takes its own partitions, so partitions are worked on in
# parallel while each keeps its order (and its commit-after-handler). Scale further with replicas.
PARTITION_WORKERS = 3


# A read model's batch: whatever has arrived, up to this many records, or after this long. One offset commit and one
# pass through the consumer middlewares per batch instead of per record (an offset commit is a write in the broker);
# nobody waits on a read model by the half second.
READ_MODEL_BATCH_RECORDS = 500
READ_MODEL_BATCH_WAIT_MS = 500


def consumer_options(service: str, *, workers: int = 1) -> dict[str, Any]:
    """Subscriber keyword arguments for a consumer-group member of `service`."""
    options: dict[str, Any] = {
        "group_id": f"hotline-{service}",
        "ack_policy": CONSUMER_ACK_POLICY,
        "auto_offset_reset": "earliest",
    }
    if workers > 1:
        options["max_workers"] = workers
    return options


def read_model_options(service: str) -> dict[str, Any]:
    """Subscriber keyword arguments for a read model of `service` (a timeline, the ops console): batches of the
    undecoded records, for `hotline_common.deadletter.apply_each`."""
    return consumer_options(service) | {"batch": True, "max_records": READ_MODEL_BATCH_RECORDS,
                                        "batch_timeout_ms": READ_MODEL_BATCH_WAIT_MS, "decoder": _records}


async def _records(msg: StreamMessage[Any]) -> Any:
    return list(msg.raw_message)
