"""The ops console in a real browser on the ops team's wall screen (1920×1080): a new case in the live stream as it
happens, the stream filtered by province, paused and resumed with the events that came meanwhile, the urgent list
(a breach in red), today's map, the dead-letter page where only the ops role may replay, and the wall turning red
while a service is frozen."""

from __future__ import annotations

import json
import os
import re
import signal
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaProducer
from playwright.async_api import Page, Route, expect

from hotline_common import topics
from hotline_common.envelope import ce_headers
from hotline_common.events import AlertFailed
from hotline_common.settings import DEV_DEMO_PASSWORD
from hotline_devstack import Platform
from hotline_devstack.webhook_sink import WebhookSink
from tests.conftest import a_case, eventually, get_token
from tests.sse import Stream

pytestmark = [pytest.mark.e2e, pytest.mark.browser]
Shot = Callable[[str], Awaitable[Path]]


async def sign_in(page: Page, platform: Platform, username: str = "ops") -> None:
    await page.set_viewport_size({"width": 1920, "height": 1080})
    await page.goto(platform.url("ops") + "/console")
    await expect(page.locator("#username")).to_be_focused()
    await page.keyboard.type(username)
    await page.keyboard.press("Tab")
    await page.keyboard.type(DEV_DEMO_PASSWORD)
    await page.keyboard.press("Enter")
    await expect(page.locator("#live-state")).to_have_attribute("data-state", "live")


async def report(intake: httpx.AsyncClient, **overrides: Any) -> dict[str, Any]:
    r = await intake.post("/v1/cases", json=a_case(**overrides))
    assert r.status_code == 201, r.text
    return dict(r.json())


@pytest.fixture
async def heard(platform: Platform) -> AsyncIterator[Stream]:
    """The same stream as the page's, unfiltered, read by the test: to know what the page must have been sent."""
    token = await get_token(platform.url("registry"), "ops")
    async with httpx.AsyncClient(base_url=platform.url("ops"), timeout=30,
                                 headers={"Authorization": f"Bearer {token}"}) as client, Stream(client, {}) as stream:
        yield stream


def row(page: Page, case_number: str, event_type: str | None = None) -> Any:
    kind = f'[data-type="{event_type}"]' if event_type else ""
    return page.locator(f'#events li[data-case="{case_number}"]{kind}')


async def test_a_new_case_shows_live_on_the_stream_and_the_map_then_the_stream_filters_by_province(
        page: Page, screenshot: Shot, platform: Platform, intake: httpx.AsyncClient, heard: Stream) -> None:
    await sign_in(page, platform)
    case = await report(intake)  # ต.สันกลาง จ.เชียงราย
    await expect(row(page, case["case_number"], "case.reported")).to_be_visible(timeout=5_000)
    await expect(row(page, case["case_number"], "case.routed")).to_be_visible()
    shown = await row(page, case["case_number"], "case.routed").inner_text()
    assert "เชียงราย" in shown and "P1" in shown and "สมศรี" not in shown
    await expect(page.locator('#bubbles g[data-code="57"]')).to_be_visible(timeout=10_000)  # today's map
    await expect(page.locator('#top-provinces li[data-code="57"]')).to_contain_text("เชียงราย")
    rate = page.locator(f'#rates tr[data-topic="{topics.CASE_REPORTED.name}"] .rate')
    await expect(rate).not_to_have_text("0.00")  # events/s over the last minute
    await screenshot("live")

    await page.keyboard.press("Alt+F")
    await expect(page.locator("#f-type")).to_be_focused()
    await page.locator("#f-province").select_option("57")
    await expect(page.locator("#live-state")).to_have_attribute("data-state", "live")
    bangkok = await report(intake, location={"tambon_code": "100101"})
    await heard.wait_for(bangkok["case_number"], "case.routed")
    chiang_rai = await report(intake)  # after the Bangkok case was heard: the page has judged it by now
    await expect(row(page, chiang_rai["case_number"], "case.routed")).to_be_visible(timeout=10_000)
    await expect(row(page, bangkok["case_number"])).to_have_count(0)
    provinces = await page.locator("#events li").evaluate_all("rows => rows.map(r => r.dataset.province)")
    assert set(provinces) - {""} == {"57"}, provinces  # alerts name no province: kept by their case's
    await screenshot("filtered")

    await page.keyboard.press("Alt+X")  # every province again
    await expect(page.locator("#f-province")).to_have_value("")
    await expect(row(page, bangkok["case_number"], "case.routed")).to_be_visible()  # among the recent ones


async def test_pausing_holds_the_new_events_and_resuming_shows_them_all_once(
        page: Page, screenshot: Shot, platform: Platform, intake: httpx.AsyncClient, heard: Stream) -> None:
    await sign_in(page, platform)
    await page.keyboard.press("Alt+P")
    await expect(page.locator("#pause")).to_have_attribute("aria-pressed", "true")
    await expect(page.locator("#live-state")).to_have_attribute("data-state", "paused")
    meanwhile = [await report(intake), await report(intake, location={"tambon_code": "100101"})]
    for case in meanwhile:
        await heard.wait_for(case["case_number"], "case.routed")
    await expect(page.locator("#held")).to_contain_text("new while paused")
    for case in meanwhile:
        await expect(row(page, case["case_number"])).to_have_count(0)
    await screenshot("paused")

    await page.keyboard.press("Alt+P")
    await expect(page.locator("#live-state")).to_have_attribute("data-state", "live")
    for case in meanwhile:
        for kind in ("case.reported", "case.routed"):
            await expect(row(page, case["case_number"], kind)).to_have_count(1)
    ids = await page.locator("#events li").evaluate_all("rows => rows.map(r => r.dataset.id)")
    assert len(ids) == len(set(ids)), "an event shown twice"
    # Everything the stream heard since the pause, none lost: the page shows each (heartbeats aside).
    wanted = [e.id for e in heard.events if e.event == "event" and e.data["event_type"] != "ops.heartbeat"
              and e.data.get("case_number") in {c["case_number"] for c in meanwhile}]
    assert set(wanted) <= set(ids)
    await expect(page.locator("#held")).to_have_text("")
    await screenshot("resumed")


async def test_the_urgent_list_counts_down_shows_a_breach_in_red_and_drops_an_acknowledged_case(
        page: Page, screenshot: Shot, platform: Platform, intake: httpx.AsyncClient, sink: WebhookSink) -> None:
    case = await report(intake, location={"tambon_code": "100101"}, urgency="P1")
    await sign_in(page, platform)
    urgent = page.locator(f'#urgent tr[data-case="{case["case_number"]}"]')
    await expect(urgent).to_have_attribute("data-stage", "waiting", timeout=15_000)
    await expect(urgent.locator(".left")).to_have_text(re.compile(r"^1[345]:\d\d$"))
    await expect(urgent).not_to_have_class(re.compile("breached"))
    await screenshot("urgent")

    # Twenty minutes on, as the server would say: the page's clock follows the server's, so the P1 is late.
    async def later(route: Route) -> None:
        response = await route.fetch()
        body = await response.json()
        body["now"] = (datetime.fromisoformat(body["now"]) + timedelta(minutes=20)).isoformat()
        await route.fulfill(response=response, json=body)

    await page.route("**/v1/urgent", later)
    await expect(urgent).to_have_class(re.compile("breached"), timeout=10_000)
    await expect(urgent.locator(".left")).to_contain_text("เกินกำหนด")
    await expect(page.locator("#urgent-count")).to_have_class(re.compile("bad"))
    await screenshot("breached")
    await page.unroute("**/v1/urgent")

    await eventually(lambda: sink.for_case(case["case_id"]), timeout=30)
    responder = await get_token(platform.url("registry"), "responder")
    async with httpx.AsyncClient(base_url=platform.url("notify"), timeout=10,
                                 headers={"Authorization": f"Bearer {responder}"}) as notify:
        assert (await notify.post(f"/v1/cases/{case['case_id']}/acknowledge")).status_code == 200
    await expect(urgent).to_have_count(0, timeout=15_000)


async def test_dead_letters_are_inspected_by_all_and_replayed_by_ops_only(
        page: Page, screenshot: Shot, platform: Platform) -> None:
    # An alert notify gave up on, dead-lettered as notify does (outbox.enqueue_dead_letter): valid as it is.
    failed = AlertFailed(case_id=uuid.uuid4(), case_number=f"1300-2569-9{uuid.uuid4().int % 10**5:05d}",
                         alert_id=uuid.uuid4(), center_id=None, attempts=4, last_error="timeout")
    headers = ce_headers(failed, source="/hotline/notify") | {
        "dlq_error": "Undeliverable", "dlq_reason": "every channel failed", "dlq_topic": topics.ALERT_FAILED.name,
        "dlq_attempts": "4"}
    producer = AIOKafkaProducer(bootstrap_servers=platform.kafka_bootstrap)
    await producer.start()
    try:
        await producer.send_and_wait(topics.ALERT_FAILED.dlq, failed.model_dump_json().encode(),
                                     key=failed.subject().encode(),
                                     headers=[(k, v.encode()) for k, v in headers.items()])
    finally:
        await producer.stop()

    async def open_it(username: str) -> None:
        await sign_in(page, platform, username)
        await page.keyboard.press("Alt+2")
        await expect(page.locator("#show-deadletters")).to_have_attribute("aria-pressed", "true")
        topic = page.locator(f'#dlq-topics button[data-topic="{topics.ALERT_FAILED.dlq}"]')
        await expect(topic).to_be_visible(timeout=15_000)
        await topic.focus()
        await page.keyboard.press("Enter")
        record = page.locator("#dlq-records button", has_text=failed.case_number)
        await expect(record).to_be_visible()
        await record.focus()
        await page.keyboard.press("Enter")
        await expect(page.locator("#dlq-record")).to_contain_text("Undeliverable")
        await expect(page.locator("#dlq-record")).to_contain_text(failed.case_number)

    await open_it("supervisor")
    await expect(page.locator("#replay")).to_be_disabled()
    await expect(page.locator("#replay-note")).to_be_visible()
    await screenshot("supervisor")

    await page.locator("#sign-out").click()
    await open_it("ops")
    await expect(page.locator("#replay-note")).to_be_hidden()
    replay = page.locator("#replay")
    await expect(replay).to_be_enabled()
    await replay.focus()
    await page.keyboard.press("Enter")
    await expect(page.locator("#replay-result")).to_contain_text(f"replayed to {topics.ALERT_FAILED.name}")
    await expect(page.locator("#dlq-record")).to_contain_text("ops")  # who replayed it, as audited
    await expect(page.locator("#dlq-records button", has_text=failed.case_number)).to_contain_text("replayed")
    await screenshot("replayed")

    await page.keyboard.press("Alt+1")  # the audit entry went by on the live stream too
    audit = page.locator('#events li[data-type="ops.audit"]', has_text=failed.case_number)
    await expect(audit).to_be_visible(timeout=10_000)
    # The record back on its own topic, beside its dead letter (in red, where it was seen arriving too).
    await expect(page.locator(f'#events li:not(.dead)[data-case="{failed.case_number}"][data-type="alert.failed"]')
                 ).to_be_visible()
    await expect(page.locator(f'#events li.dead[data-case="{failed.case_number}"]')).to_be_visible()
    assert json.loads(await page.evaluate("sessionStorage.getItem('ops.me')"))["may_replay"] is True


async def test_the_wall_turns_red_while_notify_is_frozen_names_who_was_paged_and_turns_green_again(
        page: Page, screenshot: Shot, platform: Platform) -> None:
    await sign_in(page, platform)
    trouble = page.locator("body.trouble")
    await expect(page.locator('#health li[data-service="notify"]')).to_have_class("ok", timeout=20_000)
    await expect(trouble).to_have_count(0)
    pid = platform.services["notify"].pid
    assert pid is not None
    os.kill(pid, signal.SIGSTOP)  # alive to the kernel, answering nothing
    try:
        # The console's own judgement (no heartbeat for the threshold), then the watchdog's alarm and its page.
        notify = page.locator('#health li[data-service="notify"]')
        await expect(notify).to_have_class("bad", timeout=20_000)
        await expect(notify).to_contain_text("ไม่ตอบสนอง")
        await expect(trouble).to_have_count(1)
        await expect(page.locator("#health-state")).to_contain_text("trouble")
        alarm = page.locator('#alarms li[data-service="notify"][data-problem="down"]')
        await expect(alarm).to_contain_text("paged webhook", timeout=20_000)
        assert await page.locator('#health li.bad').count() == 1  # the others are still judged working
        await screenshot("red")
    finally:
        os.kill(pid, signal.SIGCONT)
    await expect(notify).to_have_class("ok", timeout=20_000)
    await expect(alarm).to_have_count(0)
    await expect(trouble).to_have_count(0)
    await expect(page.locator("#health-state")).to_contain_text("all working")
    await screenshot("green-again")
