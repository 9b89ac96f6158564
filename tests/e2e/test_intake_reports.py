"""What intake keeps and what it tells others: national IDs checked and masked outside the case view, the caller's
number only as a keyed hash and a callback reference in events, walk-ins by center staff scoped to their center."""

from __future__ import annotations

import uuid

import asyncpg
import httpx
import pytest

from hotline_common import thai_id, topics
from hotline_common.crypto import PiiVault
from hotline_common.settings import DEV_PII_KEY, DEV_PII_LOOKUP_KEY
from hotline_devstack import Platform
from hotline_registry.demo import DEMO_RESPONDER_TAMBON, center_id_for
from tests.conftest import a_case, eventually, get_token, published
from tests.infra import Infra

pytestmark = pytest.mark.e2e


def national_id(first12: str) -> str:
    return first12 + str(thai_id.check_digit(first12))


@pytest.fixture
async def center(platform: Platform) -> httpx.AsyncClient:
    token = await get_token(platform.url("registry"), "center")
    return httpx.AsyncClient(base_url=platform.url("intake"), timeout=30,
                             headers={"Authorization": f"Bearer {token}"})


async def test_a_national_id_is_sealed_shown_in_the_case_view_and_masked_in_the_event(
        intake: httpx.AsyncClient, intake_db: asyncpg.Connection, infra: Infra) -> None:
    card, in_text = national_id("310120012345"), national_id("110370207181")
    grouped = f"{in_text[0]}-{in_text[1:5]}-{in_text[5:10]}-{in_text[10:12]}-{in_text[12]}"
    r = await intake.post("/v1/cases", json=a_case(
        national_id=card, description=f"เด็กชายอายุ 9 ปี เลขประจำตัว {grouped} ถูกทิ้งไว้ที่บ้านคนเดียว"))
    assert r.status_code == 201, r.text
    case_id = r.json()["case_id"]

    view = (await intake.get(f"/v1/cases/{case_id}")).json()
    assert view["national_id"] == card and grouped in view["description"]  # the authorised, audited view
    row = await intake_db.fetchrow("SELECT national_id_enc, description_enc FROM intake.cases WHERE case_id = $1",
                                   uuid.UUID(case_id))
    assert card.encode() not in row["national_id_enc"] and in_text[-4:].encode() not in row["description_enc"]

    [event] = await published(infra.kafka_bootstrap, topics.CASE_REPORTED.name, case_id)
    assert grouped not in event["description"] and in_text not in event["description"]
    assert thai_id.mask(in_text) in event["description"] and "national_id" not in event


async def test_the_event_carries_the_callers_keyed_hash_and_a_callback_reference_never_the_number(
        intake: httpx.AsyncClient, infra: Infra) -> None:
    phone = f"08{uuid.uuid4().int % 10**8:08d}"
    first = (await intake.post("/v1/cases", json=a_case(caller={"name": "สมศรี ใจดี", "phone": phone}))).json()
    again = (await intake.post("/v1/cases", json=a_case(caller={"phone": phone}))).json()
    anonymous = (await intake.post("/v1/cases", json=a_case(caller=None))).json()

    [e1] = await published(infra.kafka_bootstrap, topics.CASE_REPORTED.name, first["case_id"])
    [e2] = await published(infra.kafka_bootstrap, topics.CASE_REPORTED.name, again["case_id"])
    [e3] = await published(infra.kafka_bootstrap, topics.CASE_REPORTED.name, anonymous["case_id"])
    assert e1["caller_key"] == e2["caller_key"] == PiiVault(DEV_PII_KEY, DEV_PII_LOOKUP_KEY).lookup_ref(phone)
    assert e1["callback_ref"] == f"/v1/cases/{first['case_id']}/contact"
    assert e3["caller_key"] is None and e3["callback_ref"] is None and e3["has_callback"] is False
    for event in (e1, e2):
        assert phone not in str(event) and "สมศรี" not in str(event)


async def test_center_staff_register_a_walk_in_at_their_own_center_by_default(
        center: httpx.AsyncClient, intake_db: asyncpg.Connection) -> None:
    async with center:
        body = a_case(channel="hotline", description="ผู้สูงอายุเดินมาขอความช่วยเหลือที่ศูนย์ ไม่มีญาติดูแล",
                      category="elderly", target_group="elderly")
        del body["location"]
        r = await center.post("/v1/cases", json=body)
        assert r.status_code == 201, r.text
        view = (await center.get(f"/v1/cases/{r.json()['case_id']}")).json()
    assert view["channel"] == "walk_in" and view["tambon_code"] == DEMO_RESPONDER_TAMBON
    row = await intake_db.fetchrow("SELECT reported_center_id, reported_by FROM intake.cases WHERE case_id = $1",
                                   uuid.UUID(view["case_id"]))
    assert row["reported_center_id"] == center_id_for(DEMO_RESPONDER_TAMBON) and row["reported_by"] == "center"


async def test_an_operator_must_say_where(intake: httpx.AsyncClient, intake_db: asyncpg.Connection) -> None:
    before = await intake_db.fetchval("SELECT count(*) FROM intake.cases")
    body = a_case()
    del body["location"]
    r = await intake.post("/v1/cases", json=body)
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "location"], r.text
    assert await intake_db.fetchval("SELECT count(*) FROM intake.cases") == before


async def test_center_staff_see_their_centers_cases_and_another_centers_case_is_not_found(
        center: httpx.AsyncClient, intake: httpx.AsyncClient) -> None:
    elsewhere = (await intake.post("/v1/cases", json=a_case())).json()["case_id"]  # ต.สันกลาง, Chiang Rai
    routed_here = (await intake.post("/v1/cases", json=a_case(
        location={"tambon_code": DEMO_RESPONDER_TAMBON}))).json()["case_id"]
    async with center:
        for path in (f"/v1/cases/{elsewhere}", f"/v1/cases/{elsewhere}/contact"):
            r = await center.get(path)
            assert r.status_code == 404 and r.json()["detail"] == "no such case", (path, r.text)
        # An operator's case becomes theirs when routing sends it to their center.
        async def visible() -> bool:
            return (await center.get(f"/v1/cases/{routed_here}")).status_code == 200
        await eventually(visible, timeout=60)
    assert (await intake.get(f"/v1/cases/{elsewhere}")).status_code == 200  # operators see every case
