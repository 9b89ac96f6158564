"""Dead letters on a real broker, through the shared library and `hotline dlq`: a poisoned record dead-lettered by
the consumers' middleware is listed and shown with its error (personal data hidden), refused for replay until a
correction validates, replayed once with an audit event, and refused the second time, even at the same moment."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer
from faststream.kafka import KafkaBroker

from hotline_common import deadletters
from hotline_common.catalogue import apply_catalogue
from hotline_common.deadletter import MAX_ATTEMPTS
from hotline_common.events import CaseReported, Category, Channel, Location, TargetGroup
from hotline_common.kafka import consumer_options, make_broker
from hotline_common.readmodel import ReadModel
from hotline_common.settings import ServiceSettings
from hotline_common.topics import CASE_REPORTED, OPS_AUDIT
from tests.conftest import eventually
from tests.infra import Infra

pytestmark = pytest.mark.integration

DESCRIPTION = "ลูกสาวถูกพ่อเลี้ยงทำร้าย เบอร์แม่ 0899999999"
ADDRESS = "บ้านเลขที่ 12 ซอยวัดใหม่"


@pytest.fixture(scope="module")
async def bootstrap(infra: Infra) -> str:
    await apply_catalogue(ServiceSettings(KAFKA_BOOTSTRAP_SERVERS=infra.kafka_bootstrap))
    return infra.kafka_bootstrap


@pytest.fixture(scope="module")
async def consumer(bootstrap: str) -> AsyncIterator[tuple[KafkaBroker, dict[str, list[CaseReported]]]]:
    """A consumer of the reported topic with the services' dead-letter middleware, in a group of its own."""
    broker = make_broker(ServiceSettings(KAFKA_BOOTSTRAP_SERVERS=bootstrap), service="test-dlq")
    received: dict[str, list[CaseReported]] = {}

    @broker.subscriber(CASE_REPORTED.name, **consumer_options(f"test-dlq-{uuid.uuid4().hex[:6]}"))
    async def handle(case: CaseReported) -> None:
        received.setdefault(str(case.case_id), []).append(case)

    await broker.start()
    yield broker, received
    await broker.stop()


def cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "hotline_cli", *args]


async def run_cli(bootstrap: str, *args: str, stdin: bytes | None = None) -> tuple[int, Any, str]:
    proc = await asyncio.create_subprocess_exec(*cli(*args), stdout=asyncio.subprocess.PIPE,
                                                stderr=asyncio.subprocess.PIPE, stdin=asyncio.subprocess.PIPE,
                                                env={**os.environ, "KAFKA_BOOTSTRAP_SERVERS": bootstrap})
    out, err = await asyncio.wait_for(proc.communicate(stdin), 60)
    assert proc.returncode is not None
    text = out.decode()
    try:
        return proc.returncode, json.loads(text), err.decode()
    except json.JSONDecodeError:
        return proc.returncode, text, err.decode()


async def poison(bootstrap: str) -> tuple[dict[str, Any], int, int]:
    """A CaseReported without its category, published raw with its CloudEvents headers; (body, partition, offset)."""
    case = CaseReported(case_id=uuid.uuid4(), case_number=f"1300-2569-{uuid.uuid4().int % 10**6:06d}",
                        channel=Channel.line, category=Category.child_youth, target_group=TargetGroup.child,
                        description=DESCRIPTION, location=Location(tambon_code="570511", text=ADDRESS))
    body = json.loads(case.model_dump_json())
    del body["category"]
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        headers = {"ce_specversion": "1.0", "ce_id": str(case.event_id), "ce_type": CaseReported.ce_type,
                   "ce_source": "/hotline/test", "ce_time": case.occurred_at.isoformat(),
                   "content-type": "application/json"}
        sent = await producer.send_and_wait(CASE_REPORTED.name, json.dumps(body, ensure_ascii=False).encode(),
                                            key=str(case.case_id).encode(),
                                            headers=[(k, v.encode()) for k, v in headers.items()])
    finally:
        await producer.stop()
    return body, sent.partition, sent.offset


async def dead_letter_of(bootstrap: str, case_id: str) -> deadletters.DeadLetter:
    async def find() -> deadletters.DeadLetter | None:
        found = await deadletters.dead_letters(bootstrap, CASE_REPORTED.name, limit=200)
        return next((d for d in found if d.event.case_id == case_id), None)

    letter: deadletters.DeadLetter = await eventually(find, timeout=30, interval=0.5)
    return letter


async def test_a_poisoned_record_is_shown_with_its_error_replayed_once_corrected_and_audited(
    bootstrap: str, consumer: tuple[KafkaBroker, dict[str, list[CaseReported]]]
) -> None:
    _, received = consumer
    body, partition, offset = await poison(bootstrap)
    case_id = body["case_id"]
    letter = await dead_letter_of(bootstrap, case_id)
    dlq = CASE_REPORTED.dlq

    code, queues, _ = await run_cli(bootstrap, "dlq", "list", "--json")
    assert code == 0
    [queue] = [q for q in queues if q["topic"] == dlq]
    assert queue["source_topic"] == CASE_REPORTED.name and queue["pending"] >= 1

    code, shown, err = await run_cli(bootstrap, "dlq", "show", dlq, str(letter.offset), "--json")
    assert code == 0, err
    assert shown["error"] == "ValidationError" and "category" in shown["reason"]
    assert (shown["source_topic"], shown["source_partition"], shown["source_offset"]) == (
        CASE_REPORTED.name, partition, offset)
    assert shown["case_number"] == body["case_number"] and shown["event_id"] == body["event_id"]
    assert shown["payload"]["case_number"] == body["case_number"] and "category" not in shown["payload"]
    assert shown["payload"]["description"].startswith("‹ซ่อน · hidden")
    assert shown["payload"]["location"]["tambon_code"] == "570511"
    assert shown["replays"] == []
    text = json.dumps(shown, ensure_ascii=False)
    assert DESCRIPTION not in text and ADDRESS not in text and "0899999999" not in text  # not in the reason either

    ref = (dlq, str(letter.offset))
    # As it is, it would only be dead-lettered again; a correction must validate; neither sends anything.
    code, refused, _ = await run_cli(bootstrap, "dlq", "replay", *ref, "--yes", "--as", "ops-test", "--json")
    assert code == 1 and refused["kind"] == "invalid_payload" and "category" in refused["error"]
    code, refused, _ = await run_cli(bootstrap, "dlq", "replay", *ref, "--yes", "--as", "ops-test", "--json",
                                     "--patch", '{"category": "no-such-category"}')
    assert code == 1 and refused["kind"] == "invalid_payload"
    assert any(e.startswith("category:") for e in refused["errors"]) and "no-such-category" not in refused["error"]
    # Without --yes it asks first; "n" sends nothing.
    code, _, err = await run_cli(bootstrap, "dlq", "replay", *ref, "--as", "ops-test", "--patch",
                                 '{"category": "child_youth"}', stdin=b"n\n")
    assert code == 1 and "replay" in err
    assert case_id not in received

    code, audit, err = await run_cli(bootstrap, "dlq", "replay", *ref, "--yes", "--as", "ops-test", "--json",
                                     "--patch", '{"category": "child_youth"}')
    assert code == 0, err
    assert (audit["replayed_by"], audit["edited"], audit["forced"]) == ("ops-test", True, False)
    assert (audit["dlq_topic"], audit["dlq_offset"], audit["target_topic"]) == (dlq, letter.offset,
                                                                                 CASE_REPORTED.name)
    assert audit["target_partition"] == partition  # the original key, so the case's partition
    assert audit["replayed_event_id"] == body["event_id"] and audit["case_id"] == case_id

    [replayed] = await eventually(lambda: received.get(case_id), timeout=30)
    assert replayed.category == Category.child_youth and str(replayed.event_id) == body["event_id"]
    assert replayed.description == DESCRIPTION  # untouched by the correction, never seen by the ops user

    code, again, _ = await run_cli(bootstrap, "dlq", "replay", *ref, "--yes", "--as", "someone-else", "--json",
                                   "--patch", '{"category": "child_youth"}')
    assert code == 1 and again["kind"] == "already_replayed" and "ops-test" in again["error"]

    recorded = (await deadletters.replays(bootstrap))[f"{dlq}:0:{letter.offset}"]
    assert [(r.replayed_by, r.edited) for r in recorded] == [("ops-test", True)]
    code, shown, _ = await run_cli(bootstrap, "dlq", "show", *ref, "--json")
    assert [r["replayed_by"] for r in shown["replays"]] == ["ops-test"]
    await asyncio.sleep(1)
    assert len(received[case_id]) == 1, "the refused replay sent nothing"


async def test_two_replays_of_one_record_at_the_same_moment_send_it_once(
    bootstrap: str, consumer: tuple[KafkaBroker, dict[str, list[CaseReported]]]
) -> None:
    _, received = consumer
    body, _, _ = await poison(bootstrap)
    letter = await dead_letter_of(bootstrap, body["case_id"])
    results = await asyncio.gather(
        *(deadletters.replay(bootstrap, CASE_REPORTED.name, letter.offset, by=f"double-click-{i}",
                             patch={"category": "other"}) for i in range(2)), return_exceptions=True)
    done = [r for r in results if not isinstance(r, BaseException)]
    refused = [r for r in results if isinstance(r, BaseException)]
    assert len(done) == 1 and len(refused) == 1, results
    assert isinstance(refused[0], deadletters.DeadLetterError), refused
    await eventually(lambda: received.get(body["case_id"]), timeout=30)
    await asyncio.sleep(1)
    assert len(received[body["case_id"]]) == 1
    recorded = (await deadletters.replays(bootstrap))[letter.ref]
    assert len(recorded) == 1 and recorded[0].replayed_by == done[0].replayed_by
    # Forced, it goes again and says so (the services' inbox then skips it by its event id).
    forced = await deadletters.replay(bootstrap, CASE_REPORTED.name, letter.offset, by="ops", force=True,
                                      patch={"category": "other"})
    assert forced.forced and forced.target_topic == CASE_REPORTED.name
    assert OPS_AUDIT.name in {t for t in await _topics(bootstrap)}


async def _topics(bootstrap: str) -> set[str]:
    code, infos, _ = await run_cli(bootstrap, "topics", "--json")
    assert code == 0
    return {t["name"] for t in infos}


async def test_a_read_model_batch_dead_letters_its_bad_records_alone_and_applies_the_rest_in_order(
        bootstrap: str) -> None:
    """A read model (`hotline_common.readmodel`) takes batches: a poisoned record and one whose apply keeps failing
    are dead-lettered each on its own, with the reason, and the good records around them are applied, in order."""
    key = uuid.uuid4()  # one key, so one partition and one order
    cases = [CaseReported(case_id=key, case_number=f"1300-2569-{i:06d}", channel=Channel.line,
                          category=Category.child_youth, target_group=TargetGroup.child, description=DESCRIPTION,
                          location=Location(tambon_code="570511")) for i in range(4)]
    failing = cases[2].event_id
    applied: list[str] = []
    tries: list[uuid.UUID] = []
    model = ReadModel(f"test-rm-{uuid.uuid4().hex[:6]}")

    @model.on(CASE_REPORTED)
    async def apply(event: CaseReported, runtime: object) -> None:
        assert runtime == "the runtime"
        if event.event_id == failing:
            tries.append(event.event_id)
            raise ValueError("a bug in the read model, not in the record")
        if event.case_id == key:  # the group is new: it reads the topic from its start
            applied.append(event.case_number)

    broker = make_broker(ServiceSettings(KAFKA_BOOTSTRAP_SERVERS=bootstrap), service="test-rm")
    broker.context.set_global("runtime", "the runtime")
    broker.include_router(model.router)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        sent = []
        for i, case in enumerate(cases):
            body = json.loads(case.model_dump_json())
            if i == 1:
                del body["category"]  # poison
            sent.append(await producer.send_and_wait(CASE_REPORTED.name, json.dumps(body).encode(),
                                                     key=str(key).encode()))
        await broker.start()
        await eventually(lambda: len(applied) == 2 or None, timeout=60, interval=0.2)
        assert applied == [cases[0].case_number, cases[3].case_number]
        assert len(tries) == MAX_ATTEMPTS

        async def letters() -> dict[int, deadletters.DeadLetter] | None:
            found = await deadletters.dead_letters(bootstrap, CASE_REPORTED.name, limit=500)
            mine = {d.source_offset: d for d in found if d.source_partition == sent[0].partition
                    and d.source_offset in (sent[1].offset, sent[2].offset)}
            return mine if len(mine) == 2 else None

        found = await eventually(letters, timeout=30, interval=0.5)
        poisoned, failed = found[sent[1].offset], found[sent[2].offset]
        assert poisoned.error == "ValidationError" and "category" in poisoned.reason and poisoned.attempts == 1
        assert failed.error == "ValueError" and failed.attempts == MAX_ATTEMPTS
    finally:
        await producer.stop()
        await broker.stop()
