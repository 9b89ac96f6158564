"""The operator console in a real browser on the operator's 1366×768 screen: a whole call taken with the keyboard
alone (Thai typed into the sub-district typeahead, arrows and Enter to pick, a shortcut to submit), the case number
at once, the timeline moving by itself as routing and notify act; then the same caller again, and a case found and
opened without the mouse."""

from __future__ import annotations

import re
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Page, expect

from hotline_common.settings import DEV_DEMO_PASSWORD
from hotline_devstack import Platform
from tests.conftest import a_case

pytestmark = [pytest.mark.e2e, pytest.mark.browser]
CASE_NUMBER = re.compile(r"^1300-\d{4}-\d{6}$")


async def sign_in(page: Page, platform: Platform, username: str = "operator") -> None:
    await page.set_viewport_size({"width": 1366, "height": 768})
    await page.goto(platform.url("intake") + "/console")
    await expect(page.locator("#username")).to_be_focused()
    await page.keyboard.type(username)
    await page.keyboard.press("Tab")
    await page.keyboard.type(DEV_DEMO_PASSWORD)
    await page.keyboard.press("Enter")
    await expect(page.locator("#caller-name")).to_be_focused()


async def tab(page: Page, times: int = 1) -> None:
    for _ in range(times):
        await page.keyboard.press("Tab")


async def test_an_operator_takes_a_whole_call_with_the_keyboard_and_watches_the_case_move(
    page: Page, screenshot: Callable[[str], Awaitable[Path]], platform: Platform, intake: httpx.AsyncClient,
) -> None:
    phone = f"08{uuid.uuid4().int % 10**8:08d}"
    await sign_in(page, platform)
    await expect(page.get_by_text("Ctrl+Enter").first).to_be_visible()  # the shortcuts are on the page
    # The whole form on the operator's screen: nothing to scroll to, either way.
    width, height = await page.evaluate("[document.documentElement.scrollWidth, document.documentElement.scrollHeight]")
    assert width <= 1366 and height <= 768, (width, height)

    await page.keyboard.type("สมศรี ใจดี")
    await tab(page)
    await page.keyboard.type(phone)
    await tab(page, 2)  # past "anonymous", to the consent
    await expect(page.locator("#consent")).to_be_focused()
    await page.keyboard.press("Space")
    await tab(page)
    place = page.locator("#place")
    await expect(place).to_be_focused()
    await page.keyboard.type("สันกลาง")  # three sub-districts have this name: the arrows pick the one in Phan
    options = page.locator("#place-options [role=option]")
    await expect(options).to_have_count(3)
    for _ in range(3):
        await page.keyboard.press("ArrowDown")
        active = await place.get_attribute("aria-activedescendant")
        if "อ.พาน" in await page.locator(f"#{active}").inner_text():
            break
    await page.keyboard.press("Enter")
    await expect(place).to_have_value("ต.สันกลาง › อ.พาน › จ.เชียงราย")
    await expect(page.locator("#tambon-code")).to_have_value("570511")
    await expect(page.locator("#place-options")).to_be_hidden()

    await tab(page)
    await page.keyboard.press("ArrowDown")  # the first problem: domestic violence
    await expect(page.locator("#category")).to_have_value("domestic_violence")
    await tab(page)
    for _ in range(3):  # child, youth, woman
        await page.keyboard.press("ArrowDown")
    await expect(page.locator("#target-group")).to_have_value("woman")
    await tab(page)
    await expect(page.locator("#description")).to_be_focused()
    await page.keyboard.type("ผู้แจ้งเล่าว่าสามีดื่มสุราแล้วทำร้ายร่างกายทุกคืน ตอนนี้หลบอยู่บ้านเพื่อนบ้าน")
    await tab(page, 3)  # past the national ID and "needs a place to stay", into the urgency group, on "not set"
    await page.keyboard.press("ArrowDown")
    await page.keyboard.press("ArrowDown")
    await expect(page.locator("input[name=urgency][value=P2]")).to_be_checked()
    await tab(page)  # the first safety preference
    await expect(page.locator("input[name=safety][value=no_callback]")).to_be_focused()
    await page.keyboard.press("Space")
    await screenshot("form-filled")

    await page.keyboard.press("Control+Enter")
    number = page.locator("#case-number")
    await expect(number).to_have_text(CASE_NUMBER)
    await expect(page.locator("#caller-name")).to_be_focused()  # ready for the next call
    await expect(page.locator("#caller-name")).to_have_value("")
    await expect(place).to_have_value("")
    case_number = await number.inner_text()
    await expect(page.locator("#recent")).to_contain_text(case_number)
    await screenshot("after-submit")

    [found] = (await intake.get("/v1/cases", params={"number": case_number})).json()["items"]
    case = (await intake.get(f"/v1/cases/{found['case_id']}")).json()
    assert (case["category"], case["target_group"], case["urgency"], case["tambon_code"]) == (
        "domestic_violence", "woman", "P2", "570511")
    assert case["caller"] == {"name": "สมศรี ใจดี", "phone": phone} and case["channel"] == "hotline"
    assert case["consent_to_share"] is True and case["safety"]["no_callback"] is True
    assert await page.locator("#case").get_attribute("data-case-id") == found["case_id"]

    # The timeline moves by itself: routed to the center, then the alert.
    routed = page.locator("#timeline li[data-type=routed]")
    await expect(routed).to_contain_text("ส่งต่อ", timeout=30_000)
    await expect(routed).to_contain_text("ศูนย์")
    await expect(page.locator("#timeline li[data-type=alert_sent]")).to_contain_text("แจ้งเตือนแล้ว", timeout=30_000)
    center = next(e for e in (await intake.get(f"/v1/cases/{found['case_id']}")).json()["timeline"]
                  if e["type"] == "routed")["detail"]["center_name_th"]
    await expect(routed).to_contain_text(center)
    await expect(page.locator("#timeline li").first).to_have_attribute("data-type", "reported")
    await screenshot("timeline-updated")

    # The same caller again: recognised while the number is typed.
    await page.keyboard.press("Alt+KeyN")
    await expect(page.locator("#caller-name")).to_be_focused()
    await tab(page)
    await page.keyboard.type(f"{phone[:3]}-{phone[3:6]}-{phone[6:]}")
    await expect(page.locator("#repeat")).to_contain_text("โทรมาแล้ว 1 ครั้ง")
    await expect(page.locator("#repeat")).to_contain_text(case_number)
    await screenshot("repeat-caller")


async def test_an_operator_finds_a_case_by_number_and_opens_it_with_the_keyboard(
    page: Page, screenshot: Callable[[str], Awaitable[Path]], platform: Platform, intake: httpx.AsyncClient,
) -> None:
    r = await intake.post("/v1/cases", json=a_case(caller={"name": "บุญมี มีสุข", "phone": "0899990000"}))
    assert r.status_code == 201, r.text
    accepted = r.json()
    await sign_in(page, platform)

    await page.keyboard.press("Alt+KeyF")
    await expect(page.locator("#find-number")).to_be_focused()
    await page.keyboard.type(accepted["case_number"])
    await page.keyboard.press("Enter")
    first = page.locator("#results button").first
    await expect(first).to_be_focused()
    await expect(first).to_contain_text(accepted["case_number"])
    assert "บุญมี" not in await page.locator("#results").inner_text()  # a list names no one
    await page.keyboard.press("Enter")
    await expect(page.locator("#case-number")).to_have_text(accepted["case_number"])
    await expect(page.locator("#case-facts")).to_contain_text("บุญมี มีสุข")  # the audited view, opened
    await expect(page.locator("#case-facts")).to_contain_text("ความรุนแรงในครอบครัว")
    await screenshot("case-opened")


async def test_an_operator_raises_an_open_case_after_a_follow_up_call_with_the_keyboard(
    page: Page, screenshot: Callable[[str], Awaitable[Path]], platform: Platform, intake: httpx.AsyncClient,
) -> None:
    r = await intake.post("/v1/cases", json=a_case(
        category="elderly", target_group="elderly", urgency="P3", caller=None,
        description="ผู้สูงอายุอยู่บ้านลำพัง ขอให้ไปเยี่ยมบ้าน"))
    assert r.status_code == 201, r.text
    accepted = r.json()
    await sign_in(page, platform)
    await page.keyboard.press("Alt+KeyF")
    await page.keyboard.type(accepted["case_number"])
    await page.keyboard.press("Enter")
    await expect(page.locator("#results button").first).to_be_focused()
    await page.keyboard.press("Enter")
    await expect(page.locator("#case-facts")).to_contain_text("P3", timeout=30_000)
    await expect(page.locator("#timeline li[data-type=routed]")).to_contain_text("P3", timeout=30_000)

    # The follow-up call: the reason typed as a note, then Alt+U raises to the level chosen (P1 by default).
    await page.locator("#note-text").focus()
    await page.keyboard.type("ลูกชายกลับมาบ้านในสภาพเมา ขู่จะทำร้ายแม่")
    await expect(page.locator("#urgency-level")).to_have_value("P1")
    await page.keyboard.press("Alt+KeyU")
    await expect(page.locator("#urgency-result")).to_contain_text("ยกระดับเป็น P1 แล้ว")
    await expect(page.locator("#note-text")).to_have_value("")
    await expect(page.locator("#timeline li[data-type=urgency_raised]")).to_contain_text("P3 → P1", timeout=30_000)
    await expect(page.locator("#timeline li[data-type=routed]").last).to_contain_text("P3 → P1", timeout=30_000)
    await expect(page.locator("#notes")).to_contain_text("ขู่จะทำร้ายแม่")
    await screenshot("urgency-raised")
    await page.keyboard.press("Alt+KeyU")  # again: already P1, nothing new
    await expect(page.locator("#urgency-result")).to_contain_text("P1 อยู่แล้ว")
    raises = [e for e in (await intake.get(f"/v1/cases/{accepted['case_id']}")).json()["timeline"]
              if e["type"] == "urgency_raised"]
    assert len(raises) == 1
