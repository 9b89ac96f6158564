"""Bad input gets a 4xx that names the problem, and nothing is written or published."""

from __future__ import annotations

import json
from typing import Any

import asyncpg
import httpx
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition

from hotline_common import topics
from hotline_devstack import Platform
from tests.conftest import a_case, get_token
from tests.infra import Infra

pytestmark = pytest.mark.e2e


async def reported_end_offsets(bootstrap: str) -> dict[int, int]:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None)
    await consumer.start()
    try:
        parts = [TopicPartition(topics.CASE_REPORTED.name, p)
                 for p in sorted(consumer.partitions_for_topic(topics.CASE_REPORTED.name) or [0, 1, 2])]
        return {tp.partition: off for tp, off in (await consumer.end_offsets(parts)).items()}
    finally:
        await consumer.stop()


async def counts(db: asyncpg.Connection) -> tuple[int, int]:
    return (await db.fetchval("SELECT count(*) FROM intake.cases"),
            await db.fetchval("SELECT count(*) FROM intake.outbox"))


def without(key: str) -> dict[str, Any]:
    body = a_case()
    del body[key]
    return body


BAD_BODIES = [
    pytest.param(a_case(colour="red"), 422, "colour", id="unknown-field"),
    pytest.param(a_case(caller={"name": "x", "idcard": "1234"}), 422, "idcard", id="unknown-nested-field"),
    pytest.param(without("category"), 422, "category", id="missing-category"),
    pytest.param(a_case(category="weather"), 422, "category", id="unknown-category"),
    pytest.param(a_case(location={"tambon_code": "999999"}), 422, "tambon_code", id="unknown-tambon"),
    pytest.param(a_case(location={"tambon_code": "5705"}), 422, "tambon_code", id="malformed-tambon"),
    pytest.param(a_case(location={"lat": 51.5, "lon": -0.12}), 422, "outside Thailand", id="london"),
    pytest.param(a_case(location={"lat": 18.92, "lon": 102.45}), 422, "outside Thailand", id="laos-vang-vieng"),
    pytest.param(a_case(location={"lat": 13.7}), 422, "lat and lon", id="half-a-position"),
    pytest.param(a_case(location={}), 422, "tambon_code", id="no-location"),
    pytest.param(a_case(urgency="P9"), 422, "urgency", id="bad-urgency"),
    pytest.param(a_case(description=""), 422, "description", id="empty-description"),
    pytest.param(a_case(description="ก" * 9000), 422, "description", id="description-too-long"),
    pytest.param(a_case(caller={"phone": "call me maybe"}), 422, "phone", id="bad-phone"),
    pytest.param(a_case(description="สามีทำร้าย\x1b[2J\x07"), 422, "U+001B", id="control-character"),
    pytest.param(a_case(caller={"name": "สมศรี\x00"}), 422, "name", id="nul-in-a-name"),
    pytest.param(a_case(location={"text": "บ้านเลขที่ 9\x08"}), 422, "text", id="control-in-an-address"),
    pytest.param(a_case(national_id="1103702071812"), 422, "check digit", id="national-id-check-digit"),
    pytest.param(a_case(national_id="110370207181"), 422, "13 digits", id="national-id-12-digits"),
]


@pytest.mark.parametrize(("body", "status", "named"), BAD_BODIES)
async def test_bad_case_is_refused_naming_the_field_and_nothing_is_kept(
    intake: httpx.AsyncClient, intake_db: asyncpg.Connection, infra: Infra, body: dict[str, Any], status: int,
    named: str,
) -> None:
    before, offsets = await counts(intake_db), await reported_end_offsets(infra.kafka_bootstrap)
    r = await intake.post("/v1/cases", json=body)
    assert r.status_code == status, r.text
    assert named in r.text, f"the error should name {named!r}: {r.text}"
    assert await counts(intake_db) == before
    assert await reported_end_offsets(infra.kafka_bootstrap) == offsets


async def test_a_one_megabyte_description_is_refused_before_it_is_read(
    intake: httpx.AsyncClient, intake_db: asyncpg.Connection
) -> None:
    before = await counts(intake_db)
    r = await intake.post("/v1/cases", json=a_case(description="ข" * (1024 * 1024)))
    assert r.status_code == 413
    assert "larger than" in r.text
    assert await counts(intake_db) == before


async def test_malformed_json_is_refused(intake: httpx.AsyncClient, intake_db: asyncpg.Connection) -> None:
    before = await counts(intake_db)
    r = await intake.post("/v1/cases", content=b'{"category": "drugs", ', headers={"Content-Type": "application/json"})
    assert r.status_code == 422
    assert r.json()["detail"][0]["type"] == "json_invalid"
    assert await counts(intake_db) == before


async def test_invalid_utf8_is_refused(intake: httpx.AsyncClient, intake_db: asyncpg.Connection) -> None:
    before = await counts(intake_db)
    body = json.dumps(a_case(), ensure_ascii=False).encode().replace("สามี".encode(), b"\xe0\xb8")
    r = await intake.post("/v1/cases", content=body, headers={"Content-Type": "application/json"})
    assert r.status_code in (400, 422), r.text
    assert r.json()["detail"][0]["type"] == "invalid_utf8" and "UTF-8" in r.text
    assert await counts(intake_db) == before


@pytest.mark.parametrize(("headers", "status"), [
    pytest.param({}, 401, id="no-token"),
    pytest.param({"Authorization": "Bearer not-a-jwt"}, 401, id="garbage-token"),
    pytest.param({"Authorization": "Basic b3BlcmF0b3I6eA=="}, 401, id="wrong-scheme"),
])
async def test_no_valid_token_no_case(platform: Platform, intake_db: asyncpg.Connection, headers: dict[str, str],
                                      status: int) -> None:
    before = await counts(intake_db)
    async with httpx.AsyncClient(base_url=platform.url("intake")) as client:
        r = await client.post("/v1/cases", json=a_case(), headers=headers)
    assert r.status_code == status, r.text
    assert r.headers.get("www-authenticate") == "Bearer"
    assert await counts(intake_db) == before


async def test_a_token_signed_with_another_key_is_refused(platform: Platform) -> None:
    from hotline_common.auth import Role, issue_token

    forged = issue_token("not-the-platform-secret-but-long-enough-0123456789", subject="mallory",
                         role=Role.operator, ttl_seconds=60)
    async with httpx.AsyncClient(base_url=platform.url("intake")) as client:
        r = await client.post("/v1/cases", json=a_case(), headers={"Authorization": f"Bearer {forged}"})
    assert r.status_code == 401
    assert "Signature" in r.json()["detail"]


async def test_a_responder_may_not_report_cases(platform: Platform, intake_db: asyncpg.Connection) -> None:
    token = await get_token(platform.url("registry"), "responder")
    before = await counts(intake_db)
    async with httpx.AsyncClient(base_url=platform.url("intake")) as client:
        r = await client.post("/v1/cases", json=a_case(), headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 403
    assert "responder" in r.json()["detail"]
    assert await counts(intake_db) == before


async def test_wrong_password_gets_no_token(platform: Platform) -> None:
    async with httpx.AsyncClient(base_url=platform.url("registry")) as client:
        r = await client.post("/v1/auth/token", data={"username": "operator", "password": "guess"})
    assert r.status_code == 401
    assert json.loads(r.text)["detail"] == "wrong username or password"


async def test_an_error_names_the_field_without_echoing_personal_data(intake: httpx.AsyncClient) -> None:
    r = await intake.post("/v1/cases", json=a_case(caller={"name": "สมชาย ลับมาก", "phone": "โทรหาฉัน 0899"}))
    assert r.status_code == 422
    [error] = r.json()["detail"]
    assert error["loc"] == ["body", "caller", "phone"]
    assert "0899" not in r.text and "สมชาย" not in r.text
