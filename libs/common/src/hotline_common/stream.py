"""The `hotline.*` event stream as people read it: each record as an `EventView` without personal data, a filter,
and live reading from the end (or from a time, or the beginning) by a consumer outside any group.

UI-free, for the `hotline` CLI and the ops console alike; one case's events across the topics are in
`hotline_common.case_history`.
"""

from __future__ import annotations

import asyncio
import json
from collections import OrderedDict
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, Literal

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition

from hotline_common.topics import OPS_HEARTBEAT

PREFIX = "hotline."
DLQ_SUFFIX = ".dlq"
# Liveness, not events: a record per service instance every few seconds would bury the cases' events. Read only
# when asked for.
QUIET_TOPICS = frozenset({OPS_HEARTBEAT.name})

# What a view shows of an event body, by field name: an allow-list, so that a personal field added to an event
# later stays out until someone decides it is safe. Never names, phones, descriptions, addresses or positions,
# nor free text (a decline's reason, a delivery error, an operator's account) that may quote them.
DETAIL_FIELDS = (
    "target_group", "urgency", "tambon_code", "center_tambon_code", "center_name_th", "agency_id", "agency_type",
    "agency_name_th", "rule", "attempt", "distance_km", "reprioritised_from", "ack_deadline", "reason_code",
    "level", "step", "reroute", "final", "alerted", "targets", "responder_id", "alert_id", "attempts", "outcome",
    "via", "seconds_to_acknowledge", "visit_deadline", "needs_place", "has_callback", "reported_event_id",
    "routed_event_id", "replayed_by", "dlq_topic", "dlq_partition", "dlq_offset", "target_topic",
    "target_partition", "target_offset", "replayed_event_id", "edited", "forced", "dlq_error",
    "service", "problem", "state", "ready",  # the services' heartbeats and the watchdog's alarms
)
MAX_DETAIL_CHARS = 120

Start = Literal["end", "beginning"] | datetime


@dataclass(frozen=True)
class EventView:
    """One record of a `hotline.*` topic, safe to show to the ops team: where it is, what happened, to which case,
    and a few summary fields. `problem` says why the body could not be read (the record is shown anyway)."""

    topic: str
    partition: int
    offset: int
    timestamp: datetime  # the record's Kafka timestamp, UTC
    occurred_at: datetime  # the event's CloudEvents time when the record has one, else the Kafka timestamp
    key: str | None
    event_type: str  # "case.reported", "alert.sent", "ops.audit": the topic without prefix, version and ".dlq"
    ce_type: str | None = None
    event_id: str | None = None
    case_id: str | None = None
    case_number: str | None = None
    channel: str | None = None
    category: str | None = None
    priority: str | None = None
    province: str | None = None  # the first two digits of the sub-district's DOPA code
    center_id: str | None = None
    details: Mapping[str, Any] = field(default_factory=dict)
    dead_letter: bool = False  # read from a `<topic>.dlq`
    problem: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready (times as ISO 8601)."""
        out = asdict(self)
        out["timestamp"] = self.timestamp.isoformat()
        out["occurred_at"] = self.occurred_at.isoformat()
        out["details"] = dict(self.details)
        return out


def event_type_of(topic: str) -> str:
    """`hotline.case.reported.v1(.dlq)` → `case.reported`."""
    name = topic.removesuffix(DLQ_SUFFIX).removeprefix(PREFIX)
    head, _, version = name.rpartition(".")
    return head if head and version.startswith("v") and version[1:].isdigit() else name


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _safe(value: Any) -> Any:
    """Scalars and lists of scalars only (nothing nested can slip a personal field through), strings cut short."""
    if isinstance(value, bool | int | float):
        return value
    if isinstance(value, str):
        return value[:MAX_DETAIL_CHARS]
    if isinstance(value, list) and all(isinstance(v, str | int | float | bool) for v in value):
        return [_safe(v) for v in value][:20]
    return None


def _ce_time(headers: Mapping[str, str]) -> datetime | None:
    try:
        found = datetime.fromisoformat(headers["ce_time"]) if headers.get("ce_time") else None
    except ValueError:
        return None
    return found if found is None or found.tzinfo else found.replace(tzinfo=UTC)


def view_of(record: ConsumerRecord[bytes, bytes]) -> EventView:
    """The safe view of one record of any `hotline.*` topic (or its dead-letter topic)."""
    headers = {k: v.decode("utf-8", "replace") for k, v in (record.headers or ())}
    timestamp = datetime.fromtimestamp(record.timestamp / 1000, UTC)
    base: dict[str, Any] = {
        "topic": record.topic, "partition": record.partition, "offset": record.offset, "timestamp": timestamp,
        "occurred_at": _ce_time(headers) or timestamp,
        "key": record.key.decode("utf-8", "replace") if record.key is not None else None,
        "event_type": event_type_of(record.topic), "ce_type": headers.get("ce_type"),
        "event_id": headers.get("ce_id"), "dead_letter": record.topic.endswith(DLQ_SUFFIX),
    }
    if record.value is None:
        return EventView(**base, problem="no value (a tombstone)")
    try:
        body = json.loads(record.value)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        return EventView(**base, problem=f"the body is not JSON: {type(exc).__name__}")
    if not isinstance(body, dict):
        return EventView(**base, problem="the body is not a JSON object")
    location = body.get("location")
    tambon = _text(body.get("tambon_code")) or (_text(location.get("tambon_code")) if isinstance(location, dict)
                                                  else None)
    details = {name: safe for name in DETAIL_FIELDS
               if body.get(name) not in (None, "", []) and (safe := _safe(body[name])) is not None}
    if record.topic.endswith(DLQ_SUFFIX) and headers.get("dlq_error"):
        details["dlq_error"] = headers["dlq_error"][:MAX_DETAIL_CHARS]  # the error's kind only, not its text
    return EventView(
        **base | {"event_id": _text(body.get("event_id")) or base["event_id"]},
        case_id=_text(body.get("case_id")),
        case_number=_text(body.get("case_number")),
        channel=_text(body.get("channel")),
        category=_text(body.get("category")),
        priority=_text(body.get("priority")) or _text(body.get("urgency")),
        province=tambon[:2] if tambon and tambon[:2].isdigit() else None,
        center_id=_text(body.get("center_id")),
        details=details,
    )


@dataclass
class EventFilter:
    """Which views to keep; an empty criterion keeps everything. Later events of a case rarely repeat its place or
    priority (an alert names only its center), so the filter remembers what earlier events of each case said and
    judges later ones by it: `--province 57` keeps a case's alerts once its report or routing was seen."""

    event_types: frozenset[str] = frozenset()  # "case.routed", "routed", a topic name or a CloudEvents type
    provinces: frozenset[str] = frozenset()  # two-digit codes, e.g. "57" (Chiang Rai), "10" (Bangkok)
    center_ids: frozenset[str] = frozenset()
    priorities: frozenset[str] = frozenset()  # "P1" … "P4"
    case_numbers: frozenset[str] = frozenset()
    remember: int = 50_000  # cases remembered
    _facts: OrderedDict[str, dict[str, str]] = field(default_factory=OrderedDict, repr=False)

    def _learn(self, view: EventView) -> dict[str, str]:
        if view.case_id is None:
            return {}
        facts = self._facts.pop(view.case_id, {})
        for name in ("province", "center_id", "priority", "case_number"):
            value = getattr(view, name)
            if value:
                facts[name] = value  # the latest wins: a re-routing moves the center, a raise the priority
        self._facts[view.case_id] = facts
        while len(self._facts) > self.remember:
            self._facts.popitem(last=False)
        return facts

    def matches(self, view: EventView) -> bool:
        facts = self._learn(view)

        def value(name: str) -> str | None:
            found: str | None = getattr(view, name) or facts.get(name)
            return found

        if self.event_types and not any(_type_matches(view, wanted) for wanted in self.event_types):
            return False
        checks = (("province", self.provinces), ("center_id", self.center_ids), ("priority", self.priorities),
                  ("case_number", self.case_numbers))
        return all(not wanted or value(name) in wanted for name, wanted in checks)


def _type_matches(view: EventView, wanted: str) -> bool:
    return (wanted in (view.event_type, view.topic, view.ce_type, view.event_type.replace(".", "_"))
            or view.event_type.endswith(f".{wanted}"))


def make_filter(*, event_types: Iterable[str] = (), provinces: Iterable[str] = (), center_ids: Iterable[str] = (),
                priorities: Iterable[str] = (), case_numbers: Iterable[str] = ()) -> EventFilter:
    return EventFilter(frozenset(event_types), frozenset(provinces), frozenset(center_ids),
                       frozenset(p.upper() for p in priorities), frozenset(case_numbers))


# --- reading -----------------------------------------------------------------------------------------------------

def reader(bootstrap: str, *, client_id: str = "hotline-ops-reader") -> AIOKafkaConsumer:
    """A consumer outside any group (it commits nothing and moves no service's offsets) that sees only committed
    transactions, so an aborted replay never shows. A short fetch wait keeps a live view within a second."""
    return AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False,
                            client_id=client_id, isolation_level="read_committed", fetch_max_wait_ms=100,
                            auto_offset_reset="latest")


async def stream_topics(consumer: AIOKafkaConsumer, *, dead_letters: bool = False, quiet: bool = False,
                        prefix: str = PREFIX) -> list[str]:
    """The cluster's `hotline.*` topics, sorted; their dead-letter topics and the `QUIET_TOPICS` when asked."""
    names: set[str] = await consumer.topics()
    return sorted(n for n in names if n.startswith(prefix) and (dead_letters or not n.endswith(DLQ_SUFFIX))
                  and (quiet or n.removesuffix(DLQ_SUFFIX) not in QUIET_TOPICS))


async def partitions_of(consumer: AIOKafkaConsumer, topics: Iterable[str]) -> list[TopicPartition]:
    """Every partition of `topics` (none for a topic that does not exist)."""
    # The consumer knows partitions only of topics it subscribed to, and `topics()` drops the metadata it fetched;
    # its client's own fetch keeps them, without a second connection (an admin client) per command.
    cluster = await consumer._client.fetch_all_metadata()
    return [TopicPartition(topic, p) for topic in topics for p in sorted(cluster.partitions_for_topic(topic) or ())]


async def start_offsets(consumer: AIOKafkaConsumer, tps: Sequence[TopicPartition], start: Start
                        ) -> dict[TopicPartition, int]:
    """Concrete offsets for `start` (resolved now, so nothing published after this call is missed)."""
    if not tps:
        return {}
    ends: dict[TopicPartition, int] = await consumer.end_offsets(list(tps))
    if start == "end":
        return ends
    firsts: dict[TopicPartition, int] = await consumer.beginning_offsets(list(tps))
    if start == "beginning":
        return firsts
    at = await consumer.offsets_for_times({tp: int(start.timestamp() * 1000) for tp in tps})
    return {tp: (found.offset if found is not None else ends[tp]) for tp, found in at.items()}


async def read_range(consumer: AIOKafkaConsumer, offsets: Mapping[TopicPartition, int],
                     ends: Mapping[TopicPartition, int] | None = None) -> AsyncIterator[ConsumerRecord[bytes, bytes]]:
    """Records from `offsets` up to `ends` (default: the ends now), partition by partition in offset order."""
    todo = {tp: off for tp, off in offsets.items()}
    if ends is None:
        ends = await consumer.end_offsets(list(todo)) if todo else {}
    todo = {tp: off for tp, off in todo.items() if off < ends[tp]}
    if not todo:
        return
    consumer.assign(list(todo))
    for tp, off in todo.items():
        consumer.seek(tp, off)
    while todo:
        batch = await consumer.getmany(*todo, timeout_ms=1000, max_records=5000)
        for tp, records in batch.items():
            for rec in records:
                if rec.offset < ends[tp]:
                    yield rec
        # Position, not the last offset: transaction markers and compaction leave gaps.
        for tp in list(todo):
            if await consumer.position(tp) >= ends[tp]:
                del todo[tp]
                consumer.pause(tp)


class EventStream:
    """Live views of the `hotline.*` topics. Entering resolves the start offsets, so whatever is published after
    `async with` returns is seen; iterate for the views, in order within each partition.

        async with EventStream(bootstrap, start="end") as stream:
            async for view in stream: ...

    `until_end=True` stops at the end offsets seen on entering (a bounded read, e.g. "the last hour"). Without
    `topics`, every `hotline.*` topic (`dead_letters`, `quiet`: see `stream_topics`)."""

    def __init__(self, bootstrap: str, *, topics: Sequence[str] | None = None, start: Start = "end",
                 dead_letters: bool = False, quiet: bool = False, until_end: bool = False) -> None:
        self.bootstrap, self.start, self.dead_letters, self.until_end = bootstrap, start, dead_letters, until_end
        self.quiet = quiet
        self.topics: list[str] = list(topics or [])
        self._consumer = reader(bootstrap, client_id="hotline-ops-stream")
        self._ends: dict[TopicPartition, int] = {}

    async def __aenter__(self) -> EventStream:
        await self._consumer.start()
        try:
            if not self.topics:
                self.topics = await stream_topics(self._consumer, dead_letters=self.dead_letters, quiet=self.quiet)
            tps = await partitions_of(self._consumer, self.topics)
            offsets = await start_offsets(self._consumer, tps, self.start)
            if tps:
                self._consumer.assign(tps)
                for tp, off in offsets.items():
                    self._consumer.seek(tp, off)
            if self.until_end:
                self._ends = await self._consumer.end_offsets(tps) if tps else {}
        except BaseException:
            await self._consumer.stop()
            raise
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self._consumer.stop()

    def __aiter__(self) -> AsyncIterator[EventView]:
        return self._views()

    async def _done(self) -> bool:
        for tp, end in self._ends.items():
            if await self._consumer.position(tp) < end:
                return False
        return True

    async def _views(self) -> AsyncIterator[EventView]:
        if not self._consumer.assignment() or (self.until_end and await self._done()):
            if not self.until_end:
                await asyncio.Event().wait()  # nothing to follow: wait to be cancelled, like a quiet stream
            return
        while True:
            batch = await self._consumer.getmany(timeout_ms=500, max_records=1000)
            records = [r for recs in batch.values() for r in recs
                       if not self.until_end or r.offset < self._ends.get(TopicPartition(r.topic, r.partition), 0)]
            for rec in sorted(records, key=lambda r: r.timestamp):
                yield view_of(rec)
            if self.until_end and await self._done():
                return
