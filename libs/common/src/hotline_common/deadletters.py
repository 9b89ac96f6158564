"""Dead-letter queues for the ops team: what each `<topic>.dlq` holds, each record with its error, and replaying one
to its original topic (as it was, or corrected and validated) with an audit entry on `hotline.ops.audit.v1`.

Records get to a `.dlq` two ways, both with the same `dlq_*` headers beside the original ones: a consumer's
`DeadLetterMiddleware` (a poison record, or one that failed every retry) and `outbox.enqueue_dead_letter` (a record
a service gave up on, e.g. an undeliverable alert). UI-free: the `hotline dlq` commands and the ops console's
dead-letter page both call these functions.

A replay is one Kafka transaction of two records, the replayed one and its `DeadLetterReplayed` audit event, so
neither exists without the other. Its transactional id names the dead letter, so two replays of one record at the
same moment (an ops double-click, two consoles) fence each other: the later one waits out the earlier, then finds
its audit entry and refuses. Consumers deduplicate by event id besides, so even a forced second replay of an
unchanged record is processed at most once in effect.
"""

from __future__ import annotations

import contextlib
import json
import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.errors import KafkaError
from pydantic import ValidationError

from hotline_common.envelope import ce_headers
from hotline_common.events.ops import DeadLetterReplayed, dead_letter_ref
from hotline_common.kafka import PRODUCER_GUARANTEES
from hotline_common.stream import DETAIL_FIELDS, DLQ_SUFFIX, EventView, partitions_of, read_range, reader, view_of
from hotline_common.topics import BY_NAME, OPS_AUDIT, TopicSpec

DLQ_HEADER = "dlq_"
SOURCE = "/hotline/ops"
# Values shown in a dead letter's payload; every other value is masked to its kind and length. The names of the
# masked fields stay visible, so the ops user can see what is missing or wrong and correct just that.
SHOWN_FIELDS = frozenset(DETAIL_FIELDS) | {
    "event_id", "occurred_at", "schema_version", "case_id", "case_number", "channel", "category", "priority",
    "center_id", "tambon_code", "no_callback", "line_only", "woman_officer", "silent", "start", "end",
}
# Pydantic's error text quotes the input it refused (`input_value={...}`): for a record missing one field, that is
# the whole body, description and all. Shown without it.
_INPUT_VALUE = re.compile(r"input_value=.*?, input_type=", re.DOTALL)


class DeadLetterError(Exception):
    """Why a dead-letter operation was refused; the message is meant for the ops user."""


class DeadLetterNotFound(DeadLetterError):
    pass


class AlreadyReplayed(DeadLetterError):
    def __init__(self, previous: DeadLetterReplayed) -> None:
        super().__init__(f"already replayed by {previous.replayed_by} at {previous.occurred_at.isoformat()} "
                         f"(to {previous.target_topic} offset {previous.target_offset}); force it to send again")
        self.previous = previous


class InvalidPayload(DeadLetterError):
    def __init__(self, message: str, errors: Sequence[str]) -> None:
        super().__init__(f"{message}: " + "; ".join(errors))
        self.errors = list(errors)


@dataclass(frozen=True)
class DeadLetterQueue:
    topic: str  # `hotline.case.reported.v1.dlq`
    source_topic: str  # `hotline.case.reported.v1`
    count: int  # records it holds now
    replayed: int  # of them, replayed (by the audit topic)

    @property
    def pending(self) -> int:
        return max(0, self.count - self.replayed)

    def as_dict(self) -> dict[str, Any]:
        return {"topic": self.topic, "source_topic": self.source_topic, "count": self.count,
                "replayed": self.replayed, "pending": self.pending}


@dataclass(frozen=True)
class DeadLetter:
    """One dead-lettered record: where it is, where it came from, why it failed; its body only as a safe summary
    (`event`) and, when asked for, as a masked payload."""

    topic: str
    partition: int
    offset: int
    timestamp: datetime
    key: str | None
    source_topic: str | None
    source_partition: int | None  # None for records a service dead-lettered itself (not on consume)
    source_offset: int | None
    error: str
    reason: str
    attempts: int | None
    event: EventView
    replays: list[DeadLetterReplayed] = field(default_factory=list)
    payload: Any = None  # only from `show`: the body with personal values masked

    @property
    def ref(self) -> str:
        return dead_letter_ref(self.topic, self.partition, self.offset)

    def as_dict(self) -> dict[str, Any]:
        out = {"ref": self.ref, "topic": self.topic, "partition": self.partition, "offset": self.offset,
               "timestamp": self.timestamp.isoformat(), "key": self.key, "source_topic": self.source_topic,
               "source_partition": self.source_partition, "source_offset": self.source_offset,
               "error": self.error, "reason": self.reason, "attempts": self.attempts,
               "event_type": self.event.event_type, "event_id": self.event.event_id,
               "case_id": self.event.case_id, "case_number": self.event.case_number,
               "replays": [json.loads(r.model_dump_json()) for r in self.replays]}
        if self.payload is not None:
            out["payload"] = self.payload
        return out


def dlq_topic_of(name: str) -> str:
    """`hotline.case.reported.v1` or `….dlq` → `hotline.case.reported.v1.dlq`."""
    return name if name.endswith(DLQ_SUFFIX) else f"{name}{DLQ_SUFFIX}"


def safe_reason(reason: str) -> str:
    return _INPUT_VALUE.sub("input_value=‹hidden›, input_type=", reason)


def mask(value: Any, *, name: str | None = None) -> Any:
    """The body with every value outside `SHOWN_FIELDS` replaced by its kind and length (recursively)."""
    if isinstance(value, dict):
        return {k: mask(v, name=k) for k, v in value.items()}
    if isinstance(value, list) and any(isinstance(v, dict | list) for v in value):
        return [mask(v, name=name) for v in value]
    if value is None or name in SHOWN_FIELDS:
        return value
    if isinstance(value, str):
        return f"‹ซ่อน · hidden: text, {len(value)} chars›"
    return f"‹ซ่อน · hidden: {type(value).__name__}›"


def _headers(record: ConsumerRecord[bytes, bytes]) -> dict[str, str]:
    return {k: v.decode("utf-8", "replace") for k, v in (record.headers or ())}


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def _dead_letter(record: ConsumerRecord[bytes, bytes], replays: Mapping[str, list[DeadLetterReplayed]], *,
                 with_payload: bool = False) -> DeadLetter:
    headers = _headers(record)
    payload = None
    if with_payload and record.value is not None:
        try:
            payload = mask(json.loads(record.value))
        except (json.JSONDecodeError, UnicodeDecodeError):
            payload = f"‹not JSON: {len(record.value)} bytes›"
    ref = dead_letter_ref(record.topic, record.partition, record.offset)
    return DeadLetter(
        topic=record.topic, partition=record.partition, offset=record.offset,
        timestamp=datetime.fromtimestamp(record.timestamp / 1000, UTC),
        key=record.key.decode("utf-8", "replace") if record.key is not None else None,
        source_topic=headers.get("dlq_topic") or record.topic.removesuffix(DLQ_SUFFIX),
        source_partition=_int(headers.get("dlq_partition")), source_offset=_int(headers.get("dlq_offset")),
        error=headers.get("dlq_error", ""), reason=safe_reason(headers.get("dlq_reason", "")),
        attempts=_int(headers.get("dlq_attempts")), event=view_of(record), replays=list(replays.get(ref, [])),
        payload=payload)


async def replays(bootstrap: str, *, consumer: AIOKafkaConsumer | None = None
                  ) -> dict[str, list[DeadLetterReplayed]]:
    """Every recorded replay, by dead letter (`dead_letter_ref`), oldest first. Committed transactions only."""
    own = consumer is None
    consumer = consumer or reader(bootstrap, client_id="hotline-ops-audit")
    if own:
        await consumer.start()
    found: dict[str, list[DeadLetterReplayed]] = {}
    try:
        tps = await partitions_of(consumer, [OPS_AUDIT.name])
        firsts = await consumer.beginning_offsets(tps) if tps else {}
        async for record in read_range(consumer, firsts):
            if dict(record.headers or ()).get("ce_type") != DeadLetterReplayed.ce_type.encode():
                continue  # other ops events share the topic
            try:
                event = DeadLetterReplayed.model_validate_json(record.value or b"")
            except ValidationError:
                continue
            found.setdefault(event.subject(), []).append(event)
    finally:
        if own:
            await consumer.stop()
    return found


async def queues(bootstrap: str, *, include_empty: bool = True) -> list[DeadLetterQueue]:
    """Every `.dlq` topic of the cluster with how many records it holds and how many of them were replayed."""
    consumer = reader(bootstrap, client_id="hotline-ops-dlq")
    await consumer.start()
    try:
        names = sorted(n for n in await consumer.topics() if n.endswith(DLQ_SUFFIX))
        tps = await partitions_of(consumer, names)
        firsts = await consumer.beginning_offsets(tps) if tps else {}
        ends = await consumer.end_offsets(tps) if tps else {}
        done = await replays(bootstrap, consumer=consumer)
    finally:
        await consumer.stop()
    out: list[DeadLetterQueue] = []
    for name in names:
        parts = [tp for tp in tps if tp.topic == name]
        count = sum(ends[tp] - firsts[tp] for tp in parts)
        replayed = sum(1 for tp in parts for ref in done if _held(ref, tp, firsts[tp], ends[tp]))
        if count or include_empty:
            out.append(DeadLetterQueue(topic=name, source_topic=name.removesuffix(DLQ_SUFFIX), count=count,
                                       replayed=min(replayed, count)))
    return out


def _held(ref: str, tp: TopicPartition, first: int, end: int) -> bool:
    topic, _, rest = ref.rpartition(":")
    topic, _, partition = topic.rpartition(":")
    return topic == tp.topic and partition == str(tp.partition) and first <= int(rest) < end


async def dead_letters(bootstrap: str, topic: str, *, limit: int = 50) -> list[DeadLetter]:
    """The newest `limit` records of one dead-letter topic (`topic` with or without `.dlq`), oldest first."""
    name = dlq_topic_of(topic)
    consumer = reader(bootstrap, client_id="hotline-ops-dlq")
    await consumer.start()
    try:
        tps = await partitions_of(consumer, [name])
        if not tps:
            raise DeadLetterNotFound(f"no topic {name}")
        firsts = await consumer.beginning_offsets(tps)
        ends = await consumer.end_offsets(tps)
        offsets = {tp: max(firsts[tp], ends[tp] - limit) for tp in tps}
        records = [r async for r in read_range(consumer, offsets, ends)]
        done = await replays(bootstrap, consumer=consumer)
    finally:
        await consumer.stop()
    records.sort(key=lambda r: (r.timestamp, r.partition, r.offset))
    return [_dead_letter(r, done) for r in records[-limit:]]


async def _fetch(consumer: AIOKafkaConsumer, topic: str, partition: int, offset: int
                 ) -> ConsumerRecord[bytes, bytes]:
    tp = TopicPartition(topic, partition)
    if tp not in await partitions_of(consumer, [topic]):
        raise DeadLetterNotFound(f"no partition {partition} of topic {topic}")
    first, end = (await consumer.beginning_offsets([tp]))[tp], (await consumer.end_offsets([tp]))[tp]
    if not first <= offset < end:
        raise DeadLetterNotFound(f"{topic} holds offsets {first}…{end - 1} of partition {partition}, not {offset}")
    async for record in read_range(consumer, {tp: offset}, {tp: offset + 1}):
        if record.offset == offset:
            return record
    raise DeadLetterNotFound(f"no record at offset {offset} of {topic}:{partition}")


async def show(bootstrap: str, topic: str, offset: int, *, partition: int = 0) -> DeadLetter:
    """One dead letter with its error, its replays and its payload (personal values masked)."""
    consumer = reader(bootstrap, client_id="hotline-ops-dlq")
    await consumer.start()
    try:
        record = await _fetch(consumer, dlq_topic_of(topic), partition, offset)
        done = await replays(bootstrap, consumer=consumer)
    finally:
        await consumer.stop()
    return _dead_letter(record, done, with_payload=True)


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON merge patch: objects merge, `null` removes, anything else replaces."""
    if not isinstance(patch, dict):
        return patch
    merged = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = merge_patch(merged.get(key), value)
    return merged


def _errors(exc: ValidationError) -> list[str]:
    # Where and why, never the input (it may be the person's words).
    return [f"{'.'.join(str(p) for p in e['loc']) or '(body)'}: {e['msg']}" for e in exc.errors(include_input=False)]


def _corrected(spec: TopicSpec, original: bytes | None, headers: Mapping[str, str], *,
               payload: bytes | str | Mapping[str, Any] | None, patch: Mapping[str, Any] | None) -> bytes:
    """The corrected body, validated against the topic's event model; its event id stays the original one, so
    consumers that somehow processed the record already still skip it."""
    if payload is not None:
        try:
            body = json.loads(payload) if isinstance(payload, bytes | str) else dict(payload)
        except json.JSONDecodeError as exc:
            raise InvalidPayload("the corrected payload is not JSON", [str(exc)]) from None
    else:
        try:
            body = json.loads(original) if original is not None else {}
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise InvalidPayload("the original is not JSON", ["give a whole corrected payload instead"]) from None
        body = merge_patch(body, patch)
    if not isinstance(body, dict):
        raise InvalidPayload("the corrected payload is not a JSON object", ["(body): an object is required"])
    if "event_id" not in body and headers.get("ce_id"):
        with contextlib.suppress(ValueError):
            body["event_id"] = str(uuid.UUID(headers["ce_id"]))
    try:
        spec.model.model_validate(body)
    except ValidationError as exc:
        raise InvalidPayload(f"the corrected payload is not a valid {spec.model.__name__}", _errors(exc)) from None
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _event_id(body: bytes | None, headers: Mapping[str, str]) -> uuid.UUID | None:
    try:
        found = json.loads(body).get("event_id") if body else None
    except (json.JSONDecodeError, UnicodeDecodeError, AttributeError):
        found = None
    for candidate in (found, headers.get("ce_id")):
        try:
            return uuid.UUID(str(candidate))
        except ValueError:
            continue
    return None


async def replay(bootstrap: str, topic: str, offset: int, *, by: str, partition: int = 0,
                 payload: bytes | str | Mapping[str, Any] | None = None, patch: Mapping[str, Any] | None = None,
                 force: bool = False, source: str = SOURCE) -> DeadLetterReplayed:
    """Publish a dead letter again to its original topic, with its original key and headers (minus `dlq_*`), and
    record who did it on the audit topic; returns that audit event.

    `payload` replaces the body, `patch` merges into it (RFC 7386); either must validate against the topic's
    event model. Without either, the record goes as it was, and must validate as it is (else it would only be
    dead-lettered again). Refused when the record was replayed before, unless `force`."""
    if not by.strip():
        raise DeadLetterError("say who replays (the ops user's account)")
    name = dlq_topic_of(topic)
    ref = dead_letter_ref(name, partition, offset)
    consumer = reader(bootstrap, client_id="hotline-ops-dlq")
    producer: AIOKafkaProducer | None = None  # made only once the record is found fit (a refusal leaves none open)
    await consumer.start()
    try:
        record = await _fetch(consumer, name, partition, offset)
        headers = _headers(record)
        target = headers.get("dlq_topic") or name.removesuffix(DLQ_SUFFIX)
        spec = BY_NAME.get(target)
        if spec is None:
            raise DeadLetterError(f"{target} is not a topic of the catalogue: nothing to replay it to")
        if not await partitions_of(consumer, [OPS_AUDIT.name]):
            raise DeadLetterError(f"the audit topic {OPS_AUDIT.name} does not exist yet: start a service of this "
                                  "version once (each applies the topic catalogue)")
        edited = payload is not None or patch is not None
        if edited:
            body = _corrected(spec, record.value, headers, payload=payload, patch=patch)
        else:
            body = record.value
            if body is not None and not force:
                try:
                    spec.model.model_validate_json(body)
                except ValidationError as exc:
                    raise InvalidPayload(f"as it is, the record is still not a valid {spec.model.__name__} (give "
                                         "a corrected payload)", _errors(exc)) from None
        # One transactional id per dead letter: starting this producer fences an earlier replay of the same record
        # still in flight and waits until its transaction is complete, so the audit read below sees it.
        producer = AIOKafkaProducer(bootstrap_servers=bootstrap, client_id="hotline-ops-replay",
                                    transactional_id=f"hotline-dlq-replay:{ref}", **PRODUCER_GUARANTEES)
        await producer.start()
        previous = (await replays(bootstrap, consumer=consumer)).get(ref, [])
        if previous and not force:
            raise AlreadyReplayed(previous[-1])
        event_id = _event_id(body, headers)
        out_headers = {k: v for k, v in headers.items() if not k.startswith(DLQ_HEADER)}
        if edited and event_id is not None and "ce_id" in out_headers:
            out_headers["ce_id"] = str(event_id)
        view = view_of(record)
        try:
            async with producer.transaction():
                sent = await (await producer.send(target, body, key=record.key,
                                                  headers=[(k, v.encode()) for k, v in out_headers.items()]))
                audit = DeadLetterReplayed(
                    replayed_by=by.strip(), dlq_topic=name, dlq_partition=partition, dlq_offset=offset,
                    target_topic=target, target_partition=sent.partition, target_offset=sent.offset,
                    replayed_event_id=event_id, edited=edited, forced=bool(previous), dlq_error=headers.get(
                        "dlq_error", "")[:200], case_id=_uuid(view.case_id), case_number=view.case_number)
                await (await producer.send(OPS_AUDIT.name, audit.model_dump_json().encode(),
                                           key=audit.subject().encode(),
                                           headers=[(k, v.encode()) for k, v in
                                                    ce_headers(audit, source=source).items()]))
        except KafkaError as exc:
            raise DeadLetterError(f"the replay was not recorded ({type(exc).__name__}): another replay of {ref} "
                                  "may be under way; look again before retrying") from exc
        return audit
    finally:
        await consumer.stop()
        if producer is not None:
            await producer.stop()


def _uuid(value: str | None) -> uuid.UUID | None:
    try:
        return uuid.UUID(value) if value else None
    except ValueError:
        return None
