"""The operator console's API on the whole platform: case search without personal data, notes, the live timeline
(server-sent events, across intake replicas through PostgreSQL LISTEN/NOTIFY), repeat callers, center staff's
walk-ins and their scope, the page and its sign-in."""

from __future__ import annotations

import asyncio
import json
import os
import re
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import Any

import asyncpg
import httpx
import pytest

from hotline_common import thai_id, thai_time
from hotline_devstack import Platform
from hotline_registry.demo import DEMO_RESPONDER_TAMBON
from tests.conftest import a_case, eventually, get_token

pytestmark = pytest.mark.e2e


def a_phone() -> str:
    return f"08{uuid.uuid4().int % 10**8:08d}"


async def report(client: httpx.AsyncClient, **overrides: Any) -> dict[str, Any]:
    r = await client.post("/v1/cases", json=a_case(**overrides))
    assert r.status_code == 201, r.text
    accepted: dict[str, Any] = r.json()
    return accepted


async def signed_in(platform: Platform, username: str, base_url: str | None = None) -> httpx.AsyncClient:
    token = await get_token(platform.url("registry"), username)
    return httpx.AsyncClient(base_url=base_url or platform.url("intake"), timeout=30,
                             headers={"Authorization": f"Bearer {token}"})


@pytest.fixture
async def center(platform: Platform) -> AsyncIterator[httpx.AsyncClient]:
    """Staff of the center of แขวงพระบรมมหาราชวัง (100101)."""
    async with await signed_in(platform, "center") as client:
        yield client


async def timeline_types(client: httpx.AsyncClient, case_id: str) -> list[str]:
    return [e["type"] for e in (await client.get(f"/v1/cases/{case_id}")).json()["timeline"]]


# ---- server-sent events, read as a browser would ------------------------------------------------------------------
class Timeline:
    """A case's stream: each `timeline` event's entry, and whether it came after the ': live' comment that ends
    the timeline so far."""

    def __init__(self, response: httpx.Response) -> None:
        self.response = response
        self._lines = response.aiter_lines()
        self.live = False
        self.entries: list[dict[str, Any]] = []

    async def _read(self) -> dict[str, Any] | None:
        """The next event's entry, or None at the ': live' comment."""
        fields: dict[str, str] = {}
        async for line in self._lines:
            if line.startswith(":"):
                if line[1:].strip() == "live":
                    self.live = True
                    return None
            elif line:
                name, _, value = line.partition(":")
                fields[name] = value.removeprefix(" ")
            elif "data" in fields:
                assert fields["event"] == "timeline"
                entry: dict[str, Any] = {**json.loads(fields["data"]), "sse_id": fields["id"], "live": self.live}
                assert entry["sse_id"] == entry["event_id"]
                self.entries.append(entry)
                return entry
            else:
                fields = {}
        raise AssertionError("the stream ended")

    async def next(self, timeout: float = 30) -> dict[str, Any]:
        async with asyncio.timeout(timeout):
            while (entry := await self._read()) is None:
                pass
        return entry

    async def until(self, *types: str, timeout: float = 30) -> list[dict[str, Any]]:
        """Read until every one of `types` has been seen (in any order); returns the entries read."""
        start = len(self.entries)
        async with asyncio.timeout(timeout):
            while not set(types) <= {e["type"] for e in self.entries[start:]}:
                await self._read()
        return self.entries[start:]

    async def caught_up(self, timeout: float = 10) -> list[dict[str, Any]]:
        """The timeline so far: the entries before the ': live' comment."""
        async with asyncio.timeout(timeout):
            while not self.live:
                await self._read()
        return [e for e in self.entries if not e["live"]]


@asynccontextmanager
async def streaming(client: httpx.AsyncClient, case_id: str, *, headers: dict[str, str] | None = None,
                    params: dict[str, str] | None = None) -> AsyncIterator[Timeline]:
    async with client.stream("GET", f"/v1/cases/{case_id}/stream", headers=headers, params=params,
                             timeout=httpx.Timeout(30, read=60)) as response:
        assert response.status_code == 200, (await response.aread()).decode()
        assert response.headers["content-type"].startswith("text/event-stream")
        assert response.headers["cache-control"] == "no-store"
        yield Timeline(response)


# ---- case search ----------------------------------------------------------------------------------------------------
async def test_cases_are_found_by_number_phone_sub_district_day_and_status_without_personal_data(
        intake: httpx.AsyncClient) -> None:
    phone, card = a_phone(), "1103702071811"
    name = f"สมหญิง {uuid.uuid4().hex[:6]}"
    first = await report(intake, caller={"name": name, "phone": phone}, location={"tambon_code": "570512"},
                         description=f"แม่เล่าว่าลูกสาว เลขประจำตัว {card} ถูกทำร้ายที่บ้าน " + "ก" * 300)
    second = await report(intake, caller={"phone": phone}, location={"tambon_code": "570512"})
    third = await report(intake, caller={"phone": phone}, location={"tambon_code": "570513"})
    ours = {c["case_id"] for c in (first, second, third)}

    # The caller's number, written another way, in a header: their cases, newest first, in pages.
    spaced = f"{phone[:3]}-{phone[3:6]} {phone[6:]}"
    page = (await intake.get("/v1/cases", params={"limit": 2}, headers={"X-Caller-Phone": spaced})).json()
    assert [i["case_id"] for i in page["items"]] == [third["case_id"], second["case_id"]]
    rest = (await intake.get("/v1/cases", params={"limit": 2, "cursor": page["next_cursor"]},
                             headers={"X-Caller-Phone": spaced})).json()
    assert [i["case_id"] for i in rest["items"]] == [first["case_id"]] and rest["next_cursor"] is None

    # Nothing in a list names or reaches the person; national IDs are masked, the description cut short.
    listed = await intake.get("/v1/cases", params={"limit": 5}, headers={"X-Caller-Phone": phone})
    assert name not in listed.text and phone not in listed.text and card not in listed.text
    item = next(i for i in listed.json()["items"] if i["case_id"] == first["case_id"])
    assert thai_id.mask(card) in item["excerpt"] and len(item["excerpt"]) <= 120 and item["excerpt"].endswith("…")
    assert item["place_th"] == "ต.แม่เย็น › อ.พาน › จ.เชียงราย" and item["tambon_code"] == "570512"
    assert not {"caller", "national_id", "description"} & set(item)

    # By number: the whole number, or its last digits (this year's or last year's).
    by_number = (await intake.get("/v1/cases", params={"number": second["case_number"]})).json()["items"]
    assert [i["case_id"] for i in by_number] == [second["case_id"]]
    digits = second["case_number"].rsplit("-", 1)[1].lstrip("0")
    assert second["case_id"] in {i["case_id"] for i in
                                 (await intake.get("/v1/cases", params={"number": digits})).json()["items"]}

    # By sub-district, by day (Bangkok), by status.
    async def found(**params: Any) -> set[str]:
        r = await intake.get("/v1/cases", params={"limit": 100, **params}, headers={"X-Caller-Phone": phone})
        assert r.status_code == 200, r.text
        return {i["case_id"] for i in r.json()["items"]}

    assert await found(tambon_code="570512") == {first["case_id"], second["case_id"]}
    today = datetime.now(thai_time.BANGKOK).date()
    assert await found(created_from=today.isoformat(), created_to=today.isoformat()) == ours
    assert await found(created_to=(today - timedelta(days=1)).isoformat()) == set()
    assert await found(created_from=(today + timedelta(days=1)).isoformat()) == set()
    await eventually(lambda: found(status="alerted"), timeout=30)  # routing and notify act on them
    assert await found(status="resolved") == set()
    assert await found(status="alerted") <= ours

    # Bad filters are refused, without echoing the number.
    bad = await intake.get("/v1/cases", headers={"X-Caller-Phone": "call me on 0812345678"})
    assert bad.status_code == 422 and "0812345678" not in bad.text
    assert (await intake.get("/v1/cases", params={"cursor": "nonsense"})).status_code == 422
    assert (await intake.get("/v1/cases", params={"status": "lost"})).status_code == 422
    assert (await intake.get("/v1/cases", params={"limit": 500})).status_code == 422


# ---- notes ----------------------------------------------------------------------------------------------------------
async def test_a_note_is_sealed_shown_in_the_audited_view_and_marked_on_the_timeline_without_its_words(
        intake: httpx.AsyncClient, intake_db: asyncpg.Connection) -> None:
    case = await report(intake, caller=None)
    words = f"ผู้แจ้งโทรกลับมาเล่าว่าย้ายไปอยู่บ้านญาติแล้ว {uuid.uuid4().hex[:8]}"
    r = await intake.post(f"/v1/cases/{case['case_id']}/notes", json={"text": f"  {words}  "})
    assert r.status_code == 201, r.text
    note_id = r.json()["note_id"]
    for bad in ({"text": ""}, {"text": "มี\x1bอักขระควบคุม"}, {"text": "ก" * 8001}, {"words": "x"}):
        assert (await intake.post(f"/v1/cases/{case['case_id']}/notes", json=bad)).status_code == 422
    missing = await intake.post(f"/v1/cases/{uuid.uuid4()}/notes", json={"text": words})
    assert missing.status_code == 404

    view = (await intake.get(f"/v1/cases/{case['case_id']}")).json()
    assert [(n["note_id"], n["text"], n["source"], n["author"]) for n in view["notes"]] == [
        (note_id, words, "operator", "operator")]
    [entry] = [e for e in view["timeline"] if e["type"] == "note"]
    assert entry["detail"] == {"note_id": note_id, "source": "operator", "author": "operator"}
    stored = await intake_db.fetchval("SELECT body_enc FROM intake.case_notes WHERE note_id = $1", note_id)
    assert words.encode() not in stored and words[-8:].encode() not in stored
    assert await intake_db.fetchval("SELECT count(*) FROM intake.case_events WHERE detail::text LIKE $1",
                                    f"%{words[-8:]}%") == 0
    # The view unsealed the note: that opening is on record, even for an anonymous caller.
    audit = await intake_db.fetch("SELECT subject, purpose FROM intake.contact_access WHERE case_id = $1",
                                  uuid.UUID(case["case_id"]))
    assert [(a["subject"], a["purpose"]) for a in audit] == [("operator", "case_view")]


# ---- the live timeline ----------------------------------------------------------------------------------------------
async def test_the_stream_sends_the_timeline_so_far_then_each_entry_as_routing_and_notify_act(
        intake: httpx.AsyncClient, platform: Platform) -> None:
    # At the demo responder's center: that volunteer can decline it, and routing then moves it on, live.
    case = await report(intake, location={"tambon_code": DEMO_RESPONDER_TAMBON})
    case_id = case["case_id"]
    await eventually(lambda: _has(intake, case_id, "routed", "alert_sent"), timeout=30)
    async with streaming(intake, case_id) as stream:
        so_far = await stream.caught_up()
        assert so_far[0]["type"] == "reported"
        assert sorted(e["type"] for e in so_far) == ["alert_sent", "reported", "routed"]
        routed = next(e for e in so_far if e["type"] == "routed")
        assert routed["label_th"] == "ส่งต่อ" and routed["summary_th"].startswith("ไปยัง ศูนย์")
        assert routed["time_th"].endswith(" น.") and "/25" in routed["time_th"]  # Bangkok, Buddhist-era year

        note = await intake.post(f"/v1/cases/{case_id}/notes", json={"text": "ผู้แจ้งขอให้ติดต่อหลังสองทุ่ม"})
        assert note.status_code == 201
        [noted] = await stream.until("note")
        assert noted["live"] and noted["summary_en"] == "by operator" and "สองทุ่ม" not in json.dumps(noted)

        async with await signed_in(platform, "responder", platform.url("notify")) as responder:
            declined = await responder.post(f"/v1/cases/{case_id}/decline",
                                             json={"reason": "เจ้าหน้าที่ลงพื้นที่อื่นอยู่ทั้งหมด"})
            assert declined.status_code == 200, declined.text
        moved = await stream.until("declined", "routed", "alert_sent", timeout=45)
        assert all(e["live"] for e in moved)
        again = next(e for e in moved if e["type"] == "routed")
        assert again["detail"]["attempt"] == 2 and again["detail"]["center_id"] != routed["detail"]["center_id"]
        assert next(e for e in moved if e["type"] == "alert_sent")["label_en"] == "alert sent"
        assert moved[-1]["case_status"] in ("routed", "alerted", "declined")
    # Everything streamed is the case's timeline, each entry once.
    ids = [e["event_id"] for e in stream.entries]
    assert len(ids) == len(set(ids))
    assert sorted(ids) == sorted(e["event_id"] for e in (await intake.get(f"/v1/cases/{case_id}")).json()["timeline"])


async def _has(client: httpx.AsyncClient, case_id: str, *types: str) -> bool:
    return set(types) <= set(await timeline_types(client, case_id))


async def test_another_intake_replica_streams_entries_the_first_one_records(
        intake: httpx.AsyncClient, platform: Platform) -> None:
    case = await report(intake)  # through the first replica, routed and alerted before the second starts
    await eventually(lambda: _has(intake, case["case_id"], "routed", "alert_sent"), timeout=30)
    port = int(os.environ.get("TEST_BASE_PORT", "28000")) + 60
    await asyncio.to_thread(platform.start_replica, "intake", "b", port)
    try:
        async with await signed_in(platform, "operator", f"http://127.0.0.1:{port}") as replica:
            async with streaming(replica, case["case_id"]) as stream:
                so_far = await stream.caught_up()
                assert so_far[0]["type"] == "reported"
                assert sorted(e["type"] for e in so_far) == ["alert_sent", "reported", "routed"]
                # A note written by the first replica: the second hears of it only through NOTIFY.
                r = await intake.post(f"/v1/cases/{case['case_id']}/notes", json={"text": "บันทึกจากเครื่องแรก"})
                assert r.status_code == 201
                [noted] = await stream.until("note", timeout=15)
                assert noted["live"] and noted["detail"]["note_id"] == r.json()["note_id"]
            everything = [e["event_id"] for e in stream.entries]

            # A reconnect with Last-Event-ID sends only what came after it.
            async with streaming(replica, case["case_id"], headers={"Last-Event-ID": everything[0]}) as resumed:
                after_first = await resumed.caught_up()
            assert [e["event_id"] for e in after_first] == everything[1:]
            async with streaming(replica, case["case_id"], params={"after": everything[-1]}) as resumed:
                assert await resumed.caught_up() == []

            # A replica that stops ends its open streams at once (the consoles reconnect to another): no hang.
            async with streaming(replica, case["case_id"]) as open_stream:
                await open_stream.caught_up()
                started = time.monotonic()
                await asyncio.to_thread(platform.stop_service, "intake#b")
                assert time.monotonic() - started < 10
                with pytest.raises((AssertionError, httpx.HTTPError)):
                    await open_stream.next(timeout=5)
    finally:
        await asyncio.to_thread(platform.stop_service, "intake#b")


async def test_a_browser_opens_the_stream_with_a_one_minute_ticket_for_that_case_only(
        intake: httpx.AsyncClient, operator_token: str) -> None:
    case, other = await report(intake), await report(intake)
    r = await intake.post(f"/v1/cases/{case['case_id']}/stream-ticket")
    assert r.status_code == 200 and r.json()["expires_in"] == 60
    ticket = r.json()["ticket"]
    async with httpx.AsyncClient(base_url=str(intake.base_url), timeout=30) as browser:  # no Authorization header
        async with streaming(browser, case["case_id"], params={"ticket": ticket}) as stream:
            assert (await stream.next())["type"] == "reported"
        refused = [
            await browser.get(f"/v1/cases/{other['case_id']}/stream", params={"ticket": ticket}),  # another case
            await browser.get(f"/v1/cases/{case['case_id']}/stream", params={"ticket": operator_token}),
            await browser.get(f"/v1/cases/{case['case_id']}/stream"),
        ]
        assert [x.status_code for x in refused] == [401, 401, 401]
        # Nor is a ticket an access token.
        as_bearer = await browser.get(f"/v1/cases/{case['case_id']}", headers={"Authorization": f"Bearer {ticket}"})
        assert as_bearer.status_code == 401
    assert (await intake.post(f"/v1/cases/{uuid.uuid4()}/stream-ticket")).status_code == 404


# ---- repeat callers -------------------------------------------------------------------------------------------------
def same_caller(view: dict[str, Any]) -> list[dict[str, Any]]:
    return [r for r in view["related"] if r["kind"] == "same_caller"]


async def test_a_repeat_caller_is_recognised_and_their_cases_are_linked(
        intake: httpx.AsyncClient, intake_db: asyncpg.Connection) -> None:
    phone = a_phone()
    first = await report(intake, caller={"name": "สมศรี", "phone": phone})
    before = (await intake.get("/v1/cases", headers={"X-Caller-Phone": "+66 " + phone[1:]})).json()["items"]
    assert [i["case_id"] for i in before] == [first["case_id"]]  # what the console shows while the number is typed
    second = await report(intake, caller={"phone": f"{phone[:3]}-{phone[3:6]}-{phone[6:]}"}, consent_to_share=True)
    anonymous = await report(intake, caller=None)

    view = (await intake.get(f"/v1/cases/{second['case_id']}")).json()
    # (Other tests' reports in the same sub-district may be suggested as possible duplicates: not this test's concern.)
    assert [(r["kind"], r["case_id"], r["case_number"]) for r in same_caller(view)] == [
        ("same_caller", first["case_id"], first["case_number"])]
    assert view["consent_to_share"] is True
    earlier = (await intake.get(f"/v1/cases/{first['case_id']}")).json()
    assert [(r["kind"], r["case_id"]) for r in same_caller(earlier)] == [("same_caller", second["case_id"])]
    assert earlier["consent_to_share"] is False
    assert same_caller((await intake.get(f"/v1/cases/{anonymous['case_id']}")).json()) == []
    links = await intake_db.fetch("SELECT case_id, related_id, kind FROM intake.case_links WHERE case_id = $1 "
                                  "AND kind = 'same_caller'", uuid.UUID(second["case_id"]))
    assert [(str(r["related_id"]), r["kind"]) for r in links] == [(first["case_id"], "same_caller")]


# ---- center staff ---------------------------------------------------------------------------------------------------
async def test_center_staff_take_walk_ins_at_their_center_and_nothing_of_another_center_exists_for_them(
        center: httpx.AsyncClient, intake: httpx.AsyncClient) -> None:
    body = a_case(description="ผู้สูงอายุเดินมาที่ศูนย์ ขอความช่วยเหลือเรื่องที่อยู่อาศัย", category="elderly",
                  target_group="elderly", consent_to_share=True)
    del body["location"]
    r = await center.post("/v1/cases", json=body)
    assert r.status_code == 201, r.text
    own = r.json()
    view = (await center.get(f"/v1/cases/{own['case_id']}")).json()
    assert (view["channel"], view["tambon_code"], view["consent_to_share"]) == ("walk_in", DEMO_RESPONDER_TAMBON, True)
    noted = await center.post(f"/v1/cases/{own['case_id']}/notes", json={"text": "นัดเยี่ยมบ้านวันพรุ่งนี้"})
    assert noted.status_code == 201
    assert (await center.get(f"/v1/cases/{own['case_id']}")).json()["notes"][0]["source"] == "walk_in"
    async with streaming(center, own["case_id"]) as stream:
        assert (await stream.next())["type"] == "reported"

    elsewhere = await report(intake)  # ต.สันกลาง, Chiang Rai: another center's
    path = f"/v1/cases/{elsewhere['case_id']}"
    answers = [await center.get(path), await center.get(f"{path}/stream"),
               await center.post(f"{path}/stream-ticket"), await center.post(f"{path}/notes", json={"text": "ดู"}),
               await center.post(f"{path}/urgency", json={"urgency": "P1"})]
    assert [a.status_code for a in answers] == [404, 404, 404, 404, 404]
    assert (await center.get("/v1/cases", params={"number": elsewhere["case_number"]})).json()["items"] == []
    mine = {i["case_id"] for i in (await center.get("/v1/cases", params={"limit": 100})).json()["items"]}
    assert own["case_id"] in mine and elsewhere["case_id"] not in mine
    # The operator sees both.
    assert (await intake.get("/v1/cases", params={"number": elsewhere["case_number"]})).json()["items"]


# ---- the page, its sign-in, the sub-district typeahead ---------------------------------------------------------------
async def test_the_console_page_signs_in_through_intake_and_offers_the_typeahead(platform: Platform) -> None:
    async with httpx.AsyncClient(base_url=platform.url("intake"), timeout=30) as browser:
        page = await browser.get("/console")
        assert page.status_code == 200 and '<html lang="th">' in page.text
        assert "ผู้แจ้ง" in page.text and "ความรุนแรงในครอบครัว" in page.text and "ห้ามโทรกลับ" in page.text
        assert page.headers["cache-control"] == "no-store" and "frame-ancestors 'none'" in page.headers[
            "content-security-policy"]
        assert "cdn" not in page.text.lower() and "http://" not in page.text and "https://" not in page.text
        script = await browser.get("/console/static/console.js")
        assert script.status_code == 200 and "EventSource" in script.text
        # Every asset the page names is served, the consoles' shared kit (from libs) first of the scripts.
        assets = re.findall(r'(?:src|href)="(/console/[^"?]+)\?v=', page.text)
        assert assets[0] == "/console/kit/kit.js" and "/console/static/typeahead.js" in assets
        assert [(await browser.get(a)).status_code for a in assets] == [200] * len(assets)

        wrong = await browser.post("/console/login", data={"username": "operator", "password": "nope"})
        assert wrong.status_code == 401 and "รหัสผ่านไม่ถูกต้อง" in wrong.json()["detail"]
        admin = await browser.post("/console/login", data={"username": "admin", "password": "hotline-demo"})
        assert admin.status_code == 403
        staff = (await browser.post("/console/login", data={"username": "center", "password": "hotline-demo"})).json()
        assert staff["role"] == "center_staff" and staff["center_tambon"] == DEMO_RESPONDER_TAMBON
        assert staff["center_place_th"].startswith("แขวงพระบรมมหาราชวัง")
        signed = await browser.post("/console/login", data={"username": "operator", "password": "hotline-demo"})
        assert signed.status_code == 200 and signed.json()["role"] == "operator"
        browser.headers["Authorization"] = f"Bearer {signed.json()['access_token']}"

        places = (await browser.get("/v1/places", params={"q": "สันกลาง พาน"})).json()
        assert places[0]["code"] == "570511" and places[0]["path_en"] == "San Klang › Phan › Chiang Rai"
        many = (await browser.get("/v1/places", params={"q": "สันกลาง"})).json()
        assert "570511" in {p["code"] for p in many} and len(many) > 1  # more than one สันกลาง: the path tells
        assert all(len(p["code"]) == 6 for p in (await browser.get("/v1/places", params={"q": "พาน"})).json())
    async with httpx.AsyncClient(base_url=platform.url("intake"), timeout=30) as anonymous:
        assert (await anonymous.get("/v1/places", params={"q": "พาน"})).status_code == 401
