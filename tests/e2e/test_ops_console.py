"""The ops console on the whole platform: the live stream (how soon a published event is shown, server-side filters,
resuming with Last-Event-ID without losing or repeating anything), the urgent list, today's map, consumer lag while
a consumer is stopped and after it restarts, and dead letters inspected and replayed with an audit entry."""

from __future__ import annotations

import json
import statistics
import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaProducer

from hotline_common import topics
from hotline_common.envelope import ce_headers
from hotline_common.events import AlertFailed
from hotline_devstack import Platform
from hotline_devstack.webhook_sink import WebhookSink
from tests.conftest import a_case, artifact_path, eventually, get_token, published
from tests.e2e.conftest import signed_in
from tests.sse import Stream

pytestmark = pytest.mark.e2e
PERSONAL = ("สมศรี", "0812345678", "ผู้แจ้งเล่าว่า", "ทำร้ายร่างกาย")


@pytest.fixture
async def ops(platform: Platform) -> AsyncIterator[httpx.AsyncClient]:
    async for client in signed_in(platform, "ops", "ops", timeout=30):
        yield client


@pytest.fixture
async def supervisor(platform: Platform) -> AsyncIterator[httpx.AsyncClient]:
    async for client in signed_in(platform, "ops", "supervisor", timeout=30):
        yield client


async def report(intake: httpx.AsyncClient, **overrides: Any) -> dict[str, Any]:
    r = await intake.post("/v1/cases", json=a_case(**overrides))
    assert r.status_code == 201, r.text
    return dict(r.json())


# -- the live stream -----------------------------------------------------------------------------------------------
async def test_a_published_event_is_in_the_stream_within_a_second_without_personal_data(
        ops: httpx.AsyncClient, intake: httpx.AsyncClient) -> None:
    from_publish, from_request = [], []
    async with Stream(ops, {}) as stream:
        for _ in range(5):
            asked = time.time()
            case = await report(intake)
            shown = await stream.wait_for(case["case_number"], "case.reported")
            # From the Kafka record's own timestamp (set when the outbox relay published it) to the client here.
            from_publish.append(shown.at - datetime.fromisoformat(shown.data["timestamp"]).timestamp())
            from_request.append(shown.at - asked)
        routed = await stream.wait_for(case["case_number"], "case.routed")
    summary = {"published_to_shown_s": from_publish, "request_to_shown_s": from_request,
               "median_published_to_shown_s": statistics.median(from_publish)}
    artifact_path("ops-stream-latency.json").write_text(json.dumps(summary, indent=2))
    print(f"ops stream latency: {summary}")
    assert max(from_publish) < 1.0, summary
    assert max(from_request) < 1.0, summary  # the request itself included: the event was published within it
    assert routed.data["province"] == "57" and routed.data["priority"] == "P1"
    rates = {t["topic"]: t for t in (await ops.get("/v1/rates")).json()["topics"]}
    reported = rates[topics.CASE_REPORTED.name]
    assert reported["total"] >= 5 and reported["per_second"] >= round(5 / 60, 3)  # five in the last minute at least
    assert topics.CASE_REPORTED.dlq in rates  # every hotline.* topic is followed, dead-letter ones too
    assert routed.id == f"{routed.data['topic']}/{routed.data['partition']}/{routed.data['offset']}"
    text = "\n".join(stream.raw)
    for personal in PERSONAL:
        assert personal not in text


async def test_the_stream_filters_by_province_type_priority_and_case_number(
        ops: httpx.AsyncClient, intake: httpx.AsyncClient) -> None:
    async with Stream(ops, {}) as everything, \
            Stream(ops, {"province": "57", "type": "case.reported"}) as chiang_rai, \
            Stream(ops, {"priority": "P4"}) as advice, \
            Stream(ops, {"type": "case.reported"}) as reports:
        bangkok = await report(intake, location={"tambon_code": "100101"})
        first = await report(intake)  # ต.สันกลาง จ.เชียงราย
        await everything.wait_for(bangkok["case_number"], "case.reported")
        await everything.wait_for(first["case_number"], "case.routed")
        sentinel = await report(intake)  # reported after the Bangkok case was heard: every stream has judged it
        await chiang_rai.wait_for(sentinel["case_number"], "case.reported")
        await reports.wait_for(sentinel["case_number"], "case.reported")
        await everything.wait_for(sentinel["case_number"], "case.routed")
        await everything.wait_for(bangkok["case_number"], "case.routed")
        # A new stream for one case, with the recent events that match: that case's only.
        async with Stream(ops, {"case_number": first["case_number"], "recent": 100}) as one_case:
            await one_case.wait_for(first["case_number"], "case.routed", timeout=5)
    assert chiang_rai.of(first["case_number"]) and not chiang_rai.of(bangkok["case_number"])
    assert {e.data["event_type"] for e in chiang_rai.events if e.event == "event"} == {"case.reported"}
    assert {e.data["province"] for e in chiang_rai.events if e.event == "event"} == {"57"}
    assert {e.data["event_type"] for e in reports.events if e.event == "event"} == {"case.reported"}
    assert not advice.of(first["case_number"]) and not advice.of(bangkok["case_number"])
    assert everything.of(bangkok["case_number"], "case.routed")  # it was heard, and filtered out above
    assert {e.data["case_number"] for e in one_case.events if e.event == "event"} == {first["case_number"]}
    assert one_case.of(first["case_number"], "case.reported")


async def test_a_stream_resumed_with_its_last_event_id_loses_and_repeats_nothing(
        ops: httpx.AsyncClient, intake: httpx.AsyncClient) -> None:
    async with Stream(ops, {}) as witness:  # stays connected throughout
        async with Stream(ops, {}) as first:
            before = await report(intake)
            await first.wait_for(before["case_number"], "case.reported")
        last = first.ids()[-1]
        meanwhile = [await report(intake) for _ in range(3)]  # while nobody is listening on `first`'s behalf
        for case in meanwhile:
            await witness.wait_for(case["case_number"], "case.routed")
        async with Stream(ops, {}, last_event_id=last) as resumed:
            after = await report(intake)
            await resumed.wait_for(after["case_number"], "case.reported")
            await witness.wait_for(after["case_number"], "case.reported")
    seen, got = witness.ids(), resumed.ids()
    expected = seen[seen.index(last) + 1:]  # what came after `last`, as a stream that never left saw it
    assert len(got) == len(set(got)), "an event came twice"
    assert last not in got
    n = min(len(expected), len(got))
    assert n > 0 and got[:n] == expected[:n], "lost or reordered on resuming"
    for case in meanwhile:
        assert resumed.of(case["case_number"], "case.reported") and resumed.of(case["case_number"], "case.routed")
    assert not any(e.event == "gap" for e in resumed.events)
    # An id this process no longer holds (or never did): the stream says so, then sends what it holds.
    async with Stream(ops, {"type": "case.reported"}, last_event_id="hotline.case.reported.v1/0/999999999") as gap:
        await eventually(lambda: gap.of(after["case_number"]), timeout=10)
    assert gap.events[0].event == "gap"


# -- the urgent list, the map, lag ---------------------------------------------------------------------------------
async def test_a_fresh_p1_is_on_the_urgent_list_until_acknowledged(
        ops: httpx.AsyncClient, intake: httpx.AsyncClient, platform: Platform, sink: WebhookSink) -> None:
    case = await report(intake, location={"tambon_code": "100101"}, urgency="P1")  # the demo responder's center

    async def listed() -> dict[str, Any] | None:
        answer = (await ops.get("/v1/urgent")).json()
        mine = [c for c in answer["cases"] if c["case_id"] == case["case_id"]]
        return mine[0] if mine and mine[0]["stage"] == "waiting" else None

    row = await eventually(listed, timeout=20)
    assert row["priority"] == "P1" and row["province_th"] == "กรุงเทพมหานคร" and not row["breached"]
    assert 13 * 60 < row["seconds_left"] <= 15 * 60  # routing's P1 deadline: 15 minutes
    assert row["center_name_th"]
    await eventually(lambda: sink.for_case(case["case_id"]), timeout=30)  # notify has alerted: it may be taken
    responder = await get_token(platform.url("registry"), "responder")
    async with httpx.AsyncClient(base_url=platform.url("notify"), timeout=10,
                                 headers={"Authorization": f"Bearer {responder}"}) as notify:
        r = await notify.post(f"/v1/cases/{case['case_id']}/acknowledge")
        assert r.status_code == 200, r.text

    async def gone() -> bool:
        answer = (await ops.get("/v1/urgent")).json()
        return all(c["case_id"] != case["case_id"] for c in answer["cases"])

    await eventually(gone, timeout=20)


async def test_todays_map_counts_a_reported_cases_province(ops: httpx.AsyncClient, intake: httpx.AsyncClient) -> None:
    def mae_hong_son(answer: dict[str, Any]) -> int:
        return next((p["count"] for p in answer["provinces"] if p["code"] == "58"), 0)

    before = (await ops.get("/v1/map/today")).json()
    await report(intake, location={"tambon_code": "580101"}, urgency="P3")  # ต.จองคำ จ.แม่ฮ่องสอน

    async def counted() -> dict[str, Any] | None:
        answer = (await ops.get("/v1/map/today")).json()
        return answer if mae_hong_son(answer) == mae_hong_son(before) + 1 else None

    answer = await eventually(counted, timeout=20)
    assert answer["total"] >= before["total"] + 1
    row = next(p for p in answer["provinces"] if p["code"] == "58")
    assert (row["name_th"], row["name_en"]) == ("แม่ฮ่องสอน", "Mae Hong Son")


async def test_lag_shows_while_routing_is_stopped_and_drains_when_it_restarts(
        ops: httpx.AsyncClient, intake: httpx.AsyncClient, platform: Platform) -> None:
    async def routing_lag() -> int | None:
        answer = (await ops.get("/v1/lag")).json()
        rows = [g for g in answer["groups"] if (g["group"], g["topic"]) == ("hotline-routing",
                                                                           topics.CASE_REPORTED.name)]
        return rows[0]["lag"] if rows else None

    async def drained() -> bool:
        return await routing_lag() == 0

    async def lagging() -> int | None:
        found = await routing_lag()
        return found if found is not None and found >= 3 else None

    await eventually(drained, timeout=30)
    platform.stop_service("routing")
    try:
        for _ in range(3):
            await report(intake, urgency="P3")
        assert await eventually(lagging, timeout=20) >= 3
    finally:
        platform.start_service("routing")
    await eventually(drained, timeout=60)


# -- dead letters --------------------------------------------------------------------------------------------------
async def test_a_dead_letter_is_inspected_masked_and_replayed_by_ops_only_with_an_audit_entry(
        ops: httpx.AsyncClient, supervisor: httpx.AsyncClient, platform: Platform) -> None:
    bootstrap = platform.kafka_bootstrap
    good = AlertFailed(case_id=uuid.uuid4(), case_number="1300-2569-999001", alert_id=uuid.uuid4(), center_id=None,
                       attempts=3, last_error="โทรหาคุณสมศรี 0812345678 ไม่ติด")
    body = json.loads(good.model_dump_json())
    del body["attempts"]  # a record intake cannot read: dead-lettered on the first try
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        headers = ce_headers(good, source="/hotline/test")
        await producer.send_and_wait(topics.ALERT_FAILED.name, json.dumps(body).encode(), key=good.subject().encode(),
                                     headers=[(k, v.encode()) for k, v in headers.items()])
    finally:
        await producer.stop()
    dlq_topic = topics.ALERT_FAILED.dlq

    async def mine() -> dict[str, Any] | None:
        r = await ops.get(f"/v1/deadletters/{dlq_topic}")
        found = [x for x in r.json()["records"] if x["event_id"] == str(good.event_id)]
        return found[0] if found else None

    letter = await eventually(mine, timeout=30)
    assert letter["error"] == "ValidationError" and letter["case_number"] == good.case_number
    assert letter["replays"] == []
    found_at = datetime.now(UTC)
    queue = await eventually(lambda: _queue(ops, dlq_topic, after=found_at), timeout=15)  # at the next sample
    assert queue["count"] >= 1 and queue["pending"] >= 1

    path = f"/v1/deadletters/{dlq_topic}/{letter['partition']}/{letter['offset']}"
    shown = (await ops.get(path)).json()
    assert "attempts" in shown["reason"] and shown["source_topic"] == topics.ALERT_FAILED.name
    assert shown["payload"]["case_number"] == good.case_number
    text = json.dumps(shown, ensure_ascii=False)
    assert "สมศรี" not in text and "0812345678" not in text  # the error text quoted them; masked

    refused = await supervisor.post(f"{path}/replay")
    assert refused.status_code == 403
    still_bad = await ops.post(f"{path}/replay")  # as it is, it would only be dead-lettered again
    assert still_bad.status_code == 422 and "attempts" in json.dumps(still_bad.json())
    r = await ops.post(f"{path}/replay", json={"patch": {"attempts": 3}})
    assert r.status_code == 200, r.text
    audit = r.json()
    assert (audit["replayed_by"], audit["dlq_topic"], audit["dlq_offset"], audit["edited"]) == (
        "ops", dlq_topic, letter["offset"], True)
    assert audit["target_topic"] == topics.ALERT_FAILED.name
    answer = (await ops.get("/v1/deadletters")).json()  # counted again at once
    after = next(q for q in answer["topics"] if q["topic"] == dlq_topic)
    assert after["replayed"] == queue["replayed"] + 1 and after["pending"] == queue["pending"] - 1
    again = await ops.post(f"{path}/replay", json={"patch": {"attempts": 3}})
    assert again.status_code == 409 and "already replayed" in again.json()["detail"]

    # The audit entry is on the audit topic, and the corrected record back on its own topic.
    entries = await published(bootstrap, topics.OPS_AUDIT.name, audit["dlq_topic"] + f":{letter['partition']}:"
                              f"{letter['offset']}")
    assert [e["replayed_by"] for e in entries] == ["ops"]
    replayed = await published(bootstrap, topics.ALERT_FAILED.name, str(good.case_id))
    assert [e.get("attempts") for e in replayed][-1] == 3
    assert (await ops.get(path)).json()["replays"][0]["replayed_by"] == "ops"


async def _queue(client: httpx.AsyncClient, topic: str, *, after: datetime) -> dict[str, Any] | None:
    """The queue as sampled after `after`."""
    answer = (await client.get("/v1/deadletters")).json()
    if answer["sampled_at"] is None or datetime.fromisoformat(answer["sampled_at"]) <= after:
        return None
    return next((q for q in answer["topics"] if q["topic"] == topic), None)


async def test_only_the_ops_team_and_its_overseers_may_look(platform: Platform) -> None:
    operator = await get_token(platform.url("registry"), "operator")
    async with httpx.AsyncClient(base_url=platform.url("ops"), timeout=10) as client:
        assert (await client.get("/v1/urgent")).status_code == 401
        for path in ("/v1/urgent", "/v1/stream", "/v1/map/today", "/v1/lag", "/v1/deadletters"):
            r = await client.get(path, headers={"Authorization": f"Bearer {operator}"})
            assert r.status_code == 403, path
        login = await client.post("/console/login", data={"username": "operator", "password": "hotline-demo"})
        assert login.status_code == 403 and "ops console" in login.json()["detail"]
        login = await client.post("/console/login", data={"username": "supervisor", "password": "hotline-demo"})
        assert login.status_code == 200 and login.json()["may_replay"] is False
        login = await client.post("/console/login", data={"username": "ops", "password": "hotline-demo"})
        assert login.status_code == 200 and login.json()["may_replay"] is True
        page = await client.get("/console")
        assert page.status_code == 200 and "ติดตามระบบ 1300" in page.text
        # Every asset from this service: no CDN, no map tiles.
        assert "http://" not in page.text.replace('xmlns="http://www.w3.org/2000/svg"', "")
        assert "https://" not in page.text

