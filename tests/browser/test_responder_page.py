"""The responder page in a real browser, on a phone: the alert's link opens the case in Thai first, the responder
acknowledges with the keyboard alone, and the page then shows who to call (fetched from intake)."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Page, expect

from hotline_devstack import Platform
from hotline_devstack.webhook_sink import WebhookSink
from tests.conftest import a_case, eventually

pytestmark = [pytest.mark.e2e, pytest.mark.browser]
CALLER = a_case()["caller"]


async def _tab_to(page: Page, target: str, presses: int = 15) -> None:
    """Tab from the top of the page until the button named `target` has the focus, as a keyboard user would."""
    button = page.get_by_role("button", name=target)
    for _ in range(presses):
        await page.keyboard.press("Tab")
        if await button.evaluate("el => el === document.activeElement"):
            return
    raise AssertionError(f"{target!r} not reached with {presses} presses of Tab")


@pytest.mark.parametrize("viewport", ["mobile"])
async def test_a_responder_acknowledges_on_a_phone_with_the_keyboard_and_then_sees_the_caller(
    page: Page, screenshot: Callable[[str], Awaitable[Path]], intake: httpx.AsyncClient, sink: WebhookSink,
    platform: Platform,
) -> None:
    # The caller asked: no call back, and a woman officer. Every responder sees it before acting.
    r = await intake.post("/v1/cases", json=a_case(safety={"no_callback": True, "woman_officer": True}))
    assert r.status_code == 201, r.text
    case_id, case_number = r.json()["case_id"], r.json()["case_number"]
    [alert] = await eventually(lambda: sink.for_case(case_id), timeout=30)
    link = alert.body["link"]
    assert link.startswith(platform.url("notify") + "/r/")

    opened = await page.goto(link)
    assert opened is not None and opened.status == 200
    headers = await opened.all_headers()
    assert headers["cache-control"] == "no-store" and headers["referrer-policy"] == "no-referrer"
    assert await page.locator("html").get_attribute("lang") == "th"
    await expect(page.get_by_role("heading", level=1)).to_have_text(case_number)
    await expect(page.locator("dd", has_text="ความรุนแรงในครอบครัว")).to_be_visible()  # the category, Thai first
    await expect(page.get_by_text("รอผู้รับเรื่อง")).to_be_visible()
    safety = page.locator("#safety")
    await expect(safety).to_contain_text("ห้ามโทรกลับ")
    await expect(safety).to_contain_text("ขอเจ้าหน้าที่หญิง")
    assert alert.body["safety_th"] == ["ห้ามโทรกลับ", "ขอเจ้าหน้าที่หญิง"]
    acknowledge = page.get_by_role("button", name="รับเรื่อง · Acknowledge")
    await expect(acknowledge).to_be_visible()
    await expect(acknowledge).to_have_attribute("accesskey", "a")
    # The whole button fits the phone's width: nothing to scroll sideways to.
    box = await acknowledge.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390
    assert await page.evaluate("document.documentElement.scrollWidth") <= 390  # no sideways scrolling at all
    # Before acknowledging, the caller's details are not on the page (nor in the alert).
    assert CALLER["name"] not in await page.content() and CALLER["name"] not in str(alert.body)
    await screenshot("before")

    await _tab_to(page, "รับเรื่อง · Acknowledge")
    async with page.expect_response(lambda resp: "done=acknowledge" in resp.url) as after:
        await page.keyboard.press("Enter")
    done = await after.value
    assert done.status == 200 and (await done.all_headers())["cache-control"] == "no-store"
    await expect(page.get_by_role("status").filter(has_text="รับเรื่องแล้ว")).to_be_visible()

    # The caller's details come from intake when the page is drawn; if intake could not answer yet, the page says
    # so and asks for a refresh: do what the responder would.
    contact = page.locator("#contact")
    deadline = time.monotonic() + 30
    while not await contact.count():
        assert time.monotonic() < deadline, "the caller's details did not appear within 30 s: " + (
            await page.locator("main").inner_text())
        await page.wait_for_timeout(500)
        await page.reload()
    await expect(contact).to_contain_text(CALLER["name"])
    await expect(contact.get_by_role("link", name=CALLER["phone"])).to_have_attribute("href", f"tel:{CALLER['phone']}")
    await expect(page.get_by_role("button", name="ปิดเรื่อง · Resolve")).to_be_visible()
    await screenshot("after")

    async def acknowledged() -> bool:
        return (await intake.get(f"/v1/cases/{case_id}")).json()["status"] == "acknowledged"

    await eventually(acknowledged, timeout=20)
