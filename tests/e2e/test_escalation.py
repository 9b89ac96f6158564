"""Escalation 24 hours a day, on a platform of this module's own with a fast clock (NOTIFY_CLOCK_SCALE): a P1 case
nobody acknowledges walks up every level on time; an acknowledgement stops it; a failing channel falls back to the
next; notify killed mid-escalation resumes with no step lost or repeated; two notify instances never double-alert.

The demo center's policy: the volunteer on call (10 min, one re-alert), the provincial office's duty officer
(15 min), the 1300 supervisors (15 min); P1 must be acknowledged within 15 min. At ×300: 3 s, 2 s, 2 s, 3 s, 3 s.
Here a P1 must be resolved within 12 minutes of its acknowledgement (2.4 s) before reminders, the supervisor 10
minutes (2 s) later. Also: the caller's details reach the acknowledging responder only, a decline on the page moves
the case to another center, a burst to a slow responder is grouped, a hanging one holds up no one else, the API's
acknowledge and resolve.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import re
import shutil
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

import httpx
import pytest

from hotline_common.settings import DEV_WEBHOOK_SECRET
from hotline_devstack import DevstackError, KafkaBroker, Platform, cache_dir
from hotline_devstack.webhook_sink import Received, WebhookSink
from hotline_fakes.line import FakeLine
from hotline_fakes.serve import serve
from hotline_fakes.smtp import FakeSmtp
from hotline_registry.demo import center_id_for
from tests.conftest import ARTIFACTS, a_case, eventually, get_token
from tests.infra import Infra, provision_database

pytestmark = pytest.mark.e2e
SCALE = 300.0
LATE = timedelta(seconds=1.5)  # a timer fires within this of its due time (the worker looks at least every second)


LINE_TOKEN, LINE_SECRET = "test-line-channel-token", "test-line-channel-secret"
VISIT_MINUTES = 12
CALLER = a_case()["caller"]


@dataclass
class Stack:
    platform: Platform
    sink: WebhookSink  # the demo responders' webhook
    broken: WebhookSink  # a responder system answering 500
    smtp: FakeSmtp
    line: FakeLine
    token: str


@pytest.fixture(scope="module")
def stack(infra: Infra) -> Iterator[Stack]:
    """Its own Kafka (consumer groups and topics are per platform) and database; the shared PostgreSQL server."""
    state = cache_dir() / "test-escalation"
    shutil.rmtree(state, ignore_errors=True)
    try:
        kafka = KafkaBroker(cache_dir(), port=29292, controller_port=29293, data_dir=state / "kafka",
                            log_file=ARTIFACTS / "logs" / "escalation-kafka.log")
    except DevstackError as exc:
        pytest.fail(f"the escalation tests start their own Kafka natively and could not: {exc}", pytrace=False)
    db = asyncio.run(provision_database(infra.admin_url))
    sink, broken = WebhookSink(DEV_WEBHOOK_SECRET).start(), WebhookSink(DEV_WEBHOOK_SECRET).start()
    broken.status = 500
    smtp = FakeSmtp().start()
    line = FakeLine([LINE_TOKEN])
    line_server = serve(line.app)
    line_url = line_server.__enter__()
    kafka.start()
    platform = Platform(kafka_bootstrap=kafka.bootstrap_servers, admin_url=db,
                        log_dir=ARTIFACTS / "logs" / "escalation", base_port=29100,
                        env={"DEMO_ALERT_WEBHOOK_URL": sink.url, "HOTLINE_ENV": "test",
                             "NOTIFY_CLOCK_SCALE": str(SCALE), "NOTIFY_ATTEMPTS_PER_CHANNEL": "2",
                             "NOTIFY_RETRY_BASE_SECONDS": "0.1", "NOTIFY_RETRY_CAP_SECONDS": "0.2",
                             "NOTIFY_SMTP_HOST": smtp.host, "NOTIFY_SMTP_PORT": str(smtp.port),
                             # A killed notify's leases run out soon: its alerts are not held up for long.
                             "NOTIFY_LEASE_SECONDS": "4", "NOTIFY_CHANNEL_TIMEOUT_SECONDS": "2",
                             "NOTIFY_LINE_API_BASE_URL": line_url, "NOTIFY_LINE_CHANNEL_ACCESS_TOKEN": LINE_TOKEN,
                             "NOTIFY_LINE_CHANNEL_SECRET": LINE_SECRET,
                             "NOTIFY_VISIT_HOURS_P1": str(VISIT_MINUTES / 60), "NOTIFY_REMINDER_MINUTES": "10"})
    try:
        platform.start()
        yield Stack(platform, sink, broken, smtp, line,
                    asyncio.run(get_token(platform.url("registry"), "supervisor")))
    finally:
        platform.stop()
        kafka.stop()
        line_server.__exit__(None, None, None)
        smtp.stop()
        sink.stop()
        broken.stop()


@pytest.fixture
async def intake(stack: Stack) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=stack.platform.url("intake"), timeout=30,
                                 headers={"Authorization": f"Bearer {stack.token}"}) as client:
        yield client


@pytest.fixture
async def notify(stack: Stack) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=stack.platform.url("notify"), timeout=30,
                                 headers={"Authorization": f"Bearer {stack.token}"}) as client:
        yield client


async def report(intake: httpx.AsyncClient, tambon: str) -> str:
    r = await intake.post("/v1/cases", json=a_case(location={"tambon_code": tambon}))
    assert r.status_code == 201, r.text
    return str(r.json()["case_id"])


async def state(notify: httpx.AsyncClient, case_id: str) -> dict[str, Any] | None:
    r = await notify.get(f"/v1/cases/{case_id}")
    return r.json() if r.status_code == 200 else None


async def settled(notify: httpx.AsyncClient, case_id: str, status: str, timeout: float = 60) -> dict[str, Any]:
    async def reached() -> dict[str, Any] | None:
        found = await state(notify, case_id)
        return found if found and found["status"] == status else None

    found: dict[str, Any] = await eventually(reached, timeout=timeout)
    return found


async def escalations(intake: httpx.AsyncClient, case_id: str) -> list[dict[str, Any]]:
    timeline = (await intake.get(f"/v1/cases/{case_id}")).json()["timeline"]
    return sorted((e["detail"] for e in timeline if e["type"] == "escalated"), key=lambda d: d["step"])


async def responders_of(notify: httpx.AsyncClient, case_id: str) -> dict[str, str]:
    """Alert id → responder id: alerts do not name their addressee (every demo responder shares the sink)."""
    found = await state(notify, case_id)
    assert found is not None
    return {a["alert_id"]: a["responder_id"] for a in found["alerts"]}


def alerted(sink: WebhookSink, case_id: str) -> list[tuple[str, int]]:
    """The alerts a receiver acts on: a repeated delivery (same X-Hotline-Delivery and alert) counts once, as the
    webhook contract asks receivers to deduplicate."""
    return sorted({(r.delivery_id, r.body["alert_id"]): (r.body["kind"], r.body["level"])
                   for r in sink.for_case(case_id)}.values())


WALK = [("escalated", 2), ("escalated", 3), ("new", 1), ("realert", 1)]


def fired_on_time(timers: list[dict[str, Any]]) -> None:
    for t in timers:
        assert t["state"] == "fired", t
        late = datetime.fromisoformat(t["fired_at"]) - datetime.fromisoformat(t["fire_at"])
        assert timedelta(0) <= late < LATE, t


async def test_a_p1_nobody_acknowledges_walks_up_every_level_on_time(
        stack: Stack, intake: httpx.AsyncClient, notify: httpx.AsyncClient) -> None:
    case_id = await report(intake, "570101")
    final = await settled(notify, case_id, "unacknowledged")
    steps = await eventually(lambda: _all_steps(intake, case_id))
    assert [(s["step"], s["level"], s["final"]) for s in steps] == [(1, 1, False), (2, 2, False), (3, 3, False),
                                                                   (4, 3, True)]
    assert [s["targets"] for s in steps[:3]] == [["on_call"], ["agency"], ["hotline_supervisor"]]
    assert all(s["alerted"] == 1 for s in steps[:3])
    timers = [t for t in final["timers"] if t["kind"] == "escalate"]
    assert [t["step"] for t in timers] == [1, 2, 3, 4]
    fired_on_time(timers)
    # Each step waits its level's timeout (scaled) after the one before: 10, 15 and 15 minutes.
    due = [datetime.fromisoformat(t["fire_at"]) for t in timers]
    fired = [datetime.fromisoformat(t["fired_at"]) for t in timers]
    for k, minutes in enumerate((10, 15, 15)):
        assert due[k + 1] - fired[k] == pytest.approx(timedelta(minutes=minutes) / SCALE, abs=timedelta(seconds=0.2))
    await eventually(lambda: alerted(stack.sink, case_id) == WALK or None, timeout=10)
    # Three people: the volunteer (twice), the office's duty officer, the 1300 supervisor; no caller data.
    assert len({a["responder_id"] for a in final["alerts"]}) == 3
    assert all("สมศรี" not in str(r.body) and "0812345678" not in str(r.body) for r in stack.sink.for_case(case_id))


async def _all_steps(intake: httpx.AsyncClient, case_id: str) -> list[dict[str, Any]] | None:
    steps = await escalations(intake, case_id)
    return steps if steps and steps[-1]["final"] else None


async def test_an_acknowledgement_on_the_responder_page_stops_every_pending_alert(
        stack: Stack, intake: httpx.AsyncClient, notify: httpx.AsyncClient) -> None:
    case_id = await report(intake, "570102")
    [first] = await eventually(lambda: stack.sink.for_case(case_id), timeout=30)
    link = first.body["link"]
    async with httpx.AsyncClient(timeout=10) as browser:
        page = await browser.get(link)
        assert page.status_code == 200 and "รับเรื่อง · Acknowledge" in page.text
        assert first.body["case_number"] in page.text and "ความรุนแรงในครอบครัว" in page.text
        # Before: the caller's details are not on the page, nor in the alert.
        assert CALLER["name"] not in page.text and CALLER["phone"] not in page.text
        assert page.headers["cache-control"] == "no-store" and page.headers["referrer-policy"] == "no-referrer"
        done = await browser.post(f"{link}/acknowledge", follow_redirects=True)
        assert done.status_code == 200 and "รับเรื่องแล้ว" in done.text and "ปิดเรื่อง · Resolve" in done.text
        # After: the one who acknowledged sees who to call, and what was reported, from intake.
        assert CALLER["name"] in done.text and f'href="tel:{CALLER["phone"]}"' in done.text
        assert "สามีทำร้ายร่างกาย" in done.text
        again = await browser.post(f"{link}/acknowledge", follow_redirects=True)  # a double tap
        assert again.status_code == 200
    acknowledged = await settled(notify, case_id, "acknowledged")
    assert {t["state"] for t in acknowledged["timers"] if t["kind"] == "escalate"} == {"cancelled"}
    assert [t["state"] for t in acknowledged["timers"] if t["kind"] == "visit_reminder"] == ["pending"]
    # Every opening of the caller's details is on record at intake, in the responder's name.
    access = (await intake.get(f"/v1/cases/{case_id}/contact-access")).json()
    responder = (await responders_of(notify, case_id))[first.body["alert_id"]]
    assert {(a["subject"], a["role"], a["purpose"]) for a in access} == {
        (f"responder-page:{responder}", "responder", "contact")}
    # Past the moment the first re-alert was due: nothing more was sent, nothing escalated (only the reminder to
    # resolve, which the visit deadline asks for).
    await asyncio.sleep(15 * 60 / SCALE + 2 * LATE.total_seconds())
    assert [a for a in alerted(stack.sink, case_id) if a[0] != "visit_reminder"] == [("new", 1)]
    assert await escalations(intake, case_id) == []
    timeline = (await intake.get(f"/v1/cases/{case_id}")).json()
    assert [e["type"] for e in timeline["timeline"]].count("acknowledged") == 1
    assert timeline["status"] == "acknowledged"


async def test_a_channel_answering_500_falls_back_to_the_next_one(
        stack: Stack, intake: httpx.AsyncClient, notify: httpx.AsyncClient) -> None:
    tambon = "570103"
    center = str(center_id_for(tambon))
    person = await extra_cover(stack, center, "นางสาวทดสอบ ช่องทางสำรอง", [
        {"kind": "webhook", "address": stack.broken.url, "secret_ref": "demo"},
        {"kind": "email", "address": "fallback@example.org"}])
    case_id = await report(intake, tambon)

    async def mailed() -> list[Any] | None:
        found = [m for m in stack.smtp.messages("fallback@example.org") if _number(m.message) is not None]
        return found or None

    [mail] = await eventually(mailed, timeout=30)
    found = await state(notify, case_id)
    assert found is not None
    theirs = {a["alert_id"] for a in found["alerts"] if a["responder_id"] == person}
    attempts = [(a["channel"], a["outcome"], a["http_status"]) for a in found["attempts"] if a["alert_id"] in theirs]
    assert attempts == [("webhook", "failed", 500), ("webhook", "failed", 500), ("email", "delivered", None)]
    assert _number(mail.message) == (await intake.get(f"/v1/cases/{case_id}")).json()["case_number"]
    assert stack.broken.for_case(case_id) == []  # the broken system answered 500: nothing counted as received


async def extra_cover(stack: Stack, center: str, name: str, channels: list[dict[str, str]]) -> str:
    """A new responder of the center, on call around the clock by a second rota; returns their id once notify
    (through the registry's topics) would alert them."""
    registry_url = stack.platform.url("registry")
    async with httpx.AsyncClient(base_url=registry_url, timeout=30, headers={
            "Authorization": f"Bearer {await get_token(registry_url, 'admin')}"}) as admin:
        person = await admin.post("/v1/responders", json={
            "display_name": name, "kind": "social_worker", "center_ids": [center], "channels": channels})
        assert person.status_code == 201, person.text
        responder_id = str(person.json()["responder_id"])
        rota = await admin.post("/v1/rotas", json={
            "unit_kind": "center", "unit_id": center, "name": f"เวรเสริม {name}",
            "shifts": [{"name": shift, "start": start.isoformat(), "end": end.isoformat(),
                        "responder_ids": [responder_id]}
                       for shift, start, end in (("am", time(0), time(12)), ("pm", time(12), time(0)))]})
        assert rota.status_code == 201, rota.text

        async def on_call_now() -> bool:
            return responder_id in (await admin.get("/v1/oncall", params={"center_id": center})).text

        await eventually(on_call_now, timeout=20)
    await asyncio.sleep(1)  # the registry's records reach notify through Kafka
    return responder_id


LINE_USER = "U" + "4f" * 16


async def test_a_line_postback_acknowledges_and_is_answered_in_the_chat(
        stack: Stack, intake: httpx.AsyncClient, notify: httpx.AsyncClient) -> None:
    center = str(center_id_for("570113"))
    await extra_cover(stack, center, "นายทดสอบ ไลน์", [{"kind": "line", "address": LINE_USER}])
    case_id = await report(intake, "570113")

    def pushed() -> Any:
        return [r for r in stack.line.pushes() if r.to == LINE_USER]

    [push] = await eventually(pushed, timeout=30)
    number = (await intake.get(f"/v1/cases/{case_id}")).json()["case_number"]
    template = push.messages[0]["template"]
    # One alert is a buttons template; alerts grouped in a burst are carousel columns. Find this case's.
    panels = template["columns"] if template["type"] == "carousel" else [template]
    [panel] = [p for p in panels if number in p.get("title", "")]
    ack = next(a["data"] for a in panel["actions"] if a["type"] == "postback" and "a=ack" in a["data"])
    reply_token = stack.line.issue_reply_token(LINE_USER)
    body = json.dumps({"destination": "U" + "0" * 32, "events": [{
        "type": "postback", "mode": "active", "timestamp": 1795480000000, "webhookEventId": "01HTESTPOSTBACK000000001",
        "deliveryContext": {"isRedelivery": False}, "source": {"type": "user", "userId": LINE_USER},
        "replyToken": reply_token, "postback": {"data": ack}}]}, ensure_ascii=False).encode()
    signature = base64.b64encode(hmac.new(LINE_SECRET.encode(), body, hashlib.sha256).digest()).decode()
    async with httpx.AsyncClient(base_url=stack.platform.url("notify"), timeout=10) as line_platform:
        forged = await line_platform.post("/v1/line/webhook", content=body,
                                          headers={"X-Line-Signature": "AAAA" + signature[4:]})
        assert forged.status_code == 401
        r = await line_platform.post("/v1/line/webhook", content=body, headers={"X-Line-Signature": signature})
        assert r.status_code == 200, r.text
    acknowledged = await settled(notify, case_id, "acknowledged")
    assert [(a["action"], a["via"]) for a in acknowledged["actions"] if a["action"] == "acknowledge"] == [
        ("acknowledge", "line")]
    [reply] = await eventually(lambda: [r for r in stack.line.replies() if r.to == LINE_USER], timeout=10)
    assert f"รับเรื่อง {number} แล้ว" in reply.messages[0]["text"]


async def test_an_acknowledged_case_not_resolved_in_time_reminds_the_responder_then_the_supervisor(
        stack: Stack, intake: httpx.AsyncClient, notify: httpx.AsyncClient) -> None:
    case_id = await report(intake, "570115")
    [first] = await eventually(lambda: stack.sink.for_case(case_id), timeout=30)
    async with httpx.AsyncClient(timeout=10) as browser:
        assert (await browser.post(f"{first.body['link']}/acknowledge")).status_code == 303

    def reminders() -> list[Received] | None:
        found = [r for r in stack.sink.for_case(case_id) if r.body["kind"] == "visit_reminder"]
        return found if len(found) >= 2 else None

    found = await eventually(reminders, timeout=30)
    # First the volunteer who acknowledged, then the next level of the center's policy (the provincial duty
    # officer), each once.
    who = await responders_of(notify, case_id)
    by_responder = {who[r.body["alert_id"]]: r for r in found}
    volunteer = by_responder.pop(who[first.body["alert_id"]])
    [officer] = by_responder.values()
    assert volunteer.at < officer.at and len(found) == 2
    assert volunteer.body["case_number"] == first.body["case_number"] and officer.body["level"] == 2
    final = await state(notify, case_id)
    assert final is not None and final["status"] == "acknowledged"
    timers = [t for t in final["timers"] if t["kind"] == "visit_reminder"]
    assert [t["step"] for t in timers] == [1, 2]
    fired_on_time(timers)
    acknowledged_at = datetime.fromisoformat(next(a["at"] for a in final["actions"] if a["action"] == "acknowledge"))
    assert datetime.fromisoformat(timers[0]["fire_at"]) - acknowledged_at == pytest.approx(
        timedelta(minutes=VISIT_MINUTES) / SCALE, abs=timedelta(seconds=0.3))
    assert datetime.fromisoformat(timers[1]["fire_at"]) - datetime.fromisoformat(timers[0]["fired_at"]) == \
        pytest.approx(timedelta(minutes=10) / SCALE, abs=timedelta(seconds=0.3))


async def test_the_api_acknowledges_and_resolves_as_the_signed_in_responder(
        stack: Stack, intake: httpx.AsyncClient, notify: httpx.AsyncClient) -> None:
    """The demo `responder` account is the volunteer of แขวงพระบรมมหาราชวัง's center: a case there is theirs to take."""
    case_id = await report(intake, "100101")
    await eventually(lambda: stack.sink.for_case(case_id), timeout=30)
    registry = stack.platform.url("registry")
    mine = {"Authorization": f"Bearer {await get_token(registry, 'responder')}"}
    async with httpx.AsyncClient(base_url=stack.platform.url("notify"), timeout=10, headers=mine) as responder, \
            httpx.AsyncClient(base_url=stack.platform.url("intake"), timeout=10, headers=mine) as as_responder:
        # Not theirs yet: intake keeps the caller's details from them.
        assert (await as_responder.get(f"/v1/cases/{case_id}/contact")).status_code == 403
        someone_else = str(uuid.uuid4())
        refused = await responder.post(f"/v1/cases/{case_id}/acknowledge", json={"responder_id": someone_else})
        assert refused.status_code == 403
        r = await responder.post(f"/v1/cases/{case_id}/acknowledge")
        assert r.status_code == 200 and r.json()["status"] == "acknowledged" and r.json()["changed"], r.text

        async def contact() -> dict[str, Any] | None:
            got = await as_responder.get(f"/v1/cases/{case_id}/contact")
            return got.json() if got.status_code == 200 else None

        details = await eventually(contact, timeout=15)
        assert details["caller"] == CALLER and "สามีทำร้ายร่างกาย" in details["description"]
        bad = await responder.post(f"/v1/cases/{case_id}/resolve", json={"outcome": "พาไปส่งบ้าน"})
        assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["body", "outcome"]
        done = await responder.post(f"/v1/cases/{case_id}/resolve", json={"outcome": "referred_to_agency"})
        assert done.status_code == 200 and done.json()["status"] == "resolved", done.text

        async def resolved_at_intake() -> bool:
            return (await intake.get(f"/v1/cases/{case_id}")).json()["status"] == "resolved"

        await eventually(resolved_at_intake, timeout=15)
        # Once resolved, the details are closed to the responder again.
        assert (await as_responder.get(f"/v1/cases/{case_id}/contact")).status_code == 403
    final = await settled(notify, case_id, "resolved")
    assert [(a["action"], a["via"]) for a in final["actions"] if a["action"] != "view"] == [
        ("acknowledge", "api"), ("resolve", "api")]
    assert {t["state"] for t in final["timers"]} == {"cancelled"}  # no escalation, no reminder left


async def test_a_decline_on_the_page_moves_the_case_to_another_center(
        stack: Stack, intake: httpx.AsyncClient, notify: httpx.AsyncClient) -> None:
    case_id = await report(intake, "570116")
    [first] = await eventually(lambda: stack.sink.for_case(case_id), timeout=30)
    link = first.body["link"]
    async with httpx.AsyncClient(timeout=10) as browser:
        empty = await browser.post(f"{link}/decline", data={"reason": " "})
        assert empty.status_code == 422
        declined = await browser.post(f"{link}/decline", data={"reason": "คืนนี้ไม่มีเจ้าหน้าที่ว่าง น้ำท่วมถนนเข้าหมู่บ้าน"},
                                      follow_redirects=True)
        assert declined.status_code == 200 and "ปฏิเสธแล้ว ระบบจะส่งต่อศูนย์ถัดไป" in declined.text

    def new_center() -> list[Received] | None:
        found = [r for r in stack.sink.for_case(case_id)
                 if r.body["kind"] == "new" and r.body["unit_id"] != first.body["unit_id"]]
        return found or None

    [moved] = await eventually(new_center, timeout=30)

    async def rerouted() -> list[dict[str, Any]] | None:
        # The timeline is a read model fed by one consumer per topic: each may trail the alert by up to half a
        # second (a batch).
        timeline = (await intake.get(f"/v1/cases/{case_id}")).json()["timeline"]
        types = [e["type"] for e in timeline]
        return timeline if types.count("routed") >= 2 and "declined" in types else None

    timeline = await eventually(rerouted, timeout=10)
    routed = [e["detail"] for e in timeline if e["type"] == "routed"]
    assert [d["attempt"] for d in routed] == [1, 2] and routed[0]["center_id"] != routed[1]["center_id"]
    [decline] = [e["detail"] for e in timeline if e["type"] == "declined"]
    assert decline["via"] == "page" and decline["reason"].startswith("คืนนี้ไม่มีเจ้าหน้าที่ว่าง")
    assert moved.body["unit_name_th"] == routed[1]["center_name_th"]
    assert moved.body["unit_id"] == routed[1]["center_id"]
    async with httpx.AsyncClient(timeout=10) as browser:  # the old link no longer offers the case
        old = await browser.get(link)
        assert old.status_code == 200 and "รับเรื่อง · Acknowledge" not in old.text


async def test_a_burst_to_a_slow_responder_system_is_grouped_and_none_is_lost(
        stack: Stack, intake: httpx.AsyncClient, notify: httpx.AsyncClient) -> None:
    slow = WebhookSink(DEV_WEBHOOK_SECRET).start()
    slow.delay = 1.0
    try:
        tambon = "570118"
        await extra_cover(stack, str(center_id_for(tambon)), "นายทดสอบ รับหลายเรื่อง",
                          [{"kind": "webhook", "address": slow.url, "secret_ref": "demo"}])
        cases = await asyncio.gather(*(report(intake, tambon) for _ in range(6)))

        def all_received() -> list[Received] | None:
            found = [r for c in cases for r in slow.for_case(c) if r.body["kind"] == "new"]
            return found if {r.body["case_id"] for r in found} == set(cases) else None

        found = await eventually(all_received, timeout=60)
        deliveries = {r.delivery_id for r in found}
        # Fewer messages than alerts, at least one carrying several; each case's alert once.
        assert len(deliveries) < len(cases) and max(r.grouped for r in found) >= 2
        assert sorted(r.body["case_id"] for r in found) == sorted(cases)
        assert all(r.signature_ok for r in found)
    finally:
        slow.stop()


async def test_a_responder_system_that_hangs_holds_up_no_one_else(
        stack: Stack, intake: httpx.AsyncClient, notify: httpx.AsyncClient) -> None:
    hanging = WebhookSink(DEV_WEBHOOK_SECRET).start()
    hanging.delay = 8.0  # far past NOTIFY_CHANNEL_TIMEOUT_SECONDS (2 s here)
    try:
        tambon = "570120"
        person = await extra_cover(stack, str(center_id_for(tambon)), "นายทดสอบ ระบบค้าง",
                                   [{"kind": "webhook", "address": hanging.url, "secret_ref": "demo"}])
        stuck = await report(intake, tambon)
        await eventually(lambda: stack.sink.for_case(stuck), timeout=30)  # the delivery to `hanging` is under way
        other = await report(intake, "570121")  # another center, another responder, meanwhile
        [alert] = await eventually(lambda: stack.sink.for_case(other), timeout=30)

        async def timed_out() -> list[dict[str, Any]] | None:
            found = await state(notify, stuck)
            theirs = {a["alert_id"] for a in found["alerts"] if a["responder_id"] == person} if found else set()
            return [a for a in found["attempts"] if a["alert_id"] in theirs] if found and theirs else None

        first_attempt = (await eventually(timed_out, timeout=30))[0]
        assert first_attempt["outcome"] == "failed" and first_attempt["duration_ms"] >= 1900, first_attempt
        # The other case's alert did not wait for the hanging call to time out.
        assert alert.at < datetime.fromisoformat(first_attempt["at"]).timestamp()
    finally:
        hanging.stop()


def _number(message: Any) -> str | None:
    found = re.search(r"1300-\d{4}-\d{6}", str(message["Subject"]))
    return found.group(0) if found else None


async def test_notify_killed_mid_escalation_resumes_with_no_step_lost_or_repeated(
        stack: Stack, intake: httpx.AsyncClient, notify: httpx.AsyncClient) -> None:
    case_id = await report(intake, "570104")
    await eventually(lambda: _reached(intake, case_id, 1), timeout=30)
    await asyncio.to_thread(stack.platform.kill, "notify")
    await asyncio.sleep(6)  # steps 2 and 3 fall due while notify is dead
    await asyncio.to_thread(stack.platform.start_service, "notify")
    final = await settled(notify, case_id, "unacknowledged")
    steps = await eventually(lambda: _all_steps(intake, case_id))
    assert [s["step"] for s in steps] == [1, 2, 3, 4]
    assert [t["step"] for t in final["timers"] if t["kind"] == "escalate"] == [1, 2, 3, 4]
    await eventually(lambda: alerted(stack.sink, case_id) == WALK or None, timeout=15)
    await asyncio.sleep(1)
    assert alerted(stack.sink, case_id) == WALK  # every alert once: none lost, none repeated
    assert [s["alerted"] for s in steps] == [1, 1, 1, 0]


async def _reached(intake: httpx.AsyncClient, case_id: str, step: int) -> bool:
    return any(s["step"] >= step for s in await escalations(intake, case_id))


async def test_two_notify_instances_never_double_alert(
        stack: Stack, intake: httpx.AsyncClient, notify: httpx.AsyncClient) -> None:
    await asyncio.to_thread(stack.platform.start_replica, "notify", "b", 29150)
    try:
        cases = [await report(intake, tambon) for tambon in ("570105", "570106", "570107", "570111", "570112")]
        for case_id in cases:
            await settled(notify, case_id, "unacknowledged", timeout=90)
        for case_id in cases:
            await eventually(lambda c=case_id: alerted(stack.sink, c) == WALK or None, timeout=15)
        await asyncio.sleep(1)
        received: list[Received] = [r for c in cases for r in stack.sink.for_case(c)]
        # No alert was ever sent under two different idempotency keys (which a receiver could not deduplicate).
        keys = Counter(r.body["alert_id"] for r in {(r.delivery_id, r.body["alert_id"]): r for r in received}.values())
        assert keys.most_common(1)[0][1] == 1
        for case_id in cases:
            assert alerted(stack.sink, case_id) == WALK
            assert [s["step"] for s in await escalations(intake, case_id)] == [1, 2, 3, 4]
    finally:
        await asyncio.to_thread(stack.platform.stop_service, "notify#b")
