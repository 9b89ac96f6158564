"""Rotas through the API: who is on call at an instant, coverage gaps, and rotas the registry refuses."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from hotline_registry.demo import center_id_for, stable_id
from tests.e2e.test_registry import a_center, a_responder, field_of

pytestmark = pytest.mark.e2e


async def created(client: httpx.AsyncClient, path: str, body: dict[str, Any]) -> dict[str, Any]:
    response = await client.post(path, json=body)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


async def on_call(client: httpx.AsyncClient, center_id: str, at: str) -> list[tuple[str, str]]:
    response = await client.get("/v1/oncall", params={"center_id": center_id, "at": at})
    assert response.status_code == 200, response.text
    return [(p["display_name"], p["shift"]) for p in response.json()["on_call"]]


async def test_demo_center_hands_over_at_half_past_four(admin: httpx.AsyncClient) -> None:
    center = str(center_id_for("570511"))  # ต.สันกลาง อ.พาน จ.เชียงราย
    day = await admin.get("/v1/oncall", params={"center_id": center, "at": "2026-11-23T16:29:59+07:00"})
    night = await admin.get("/v1/oncall", params={"center_id": center, "at": "2026-11-23T16:30:00"})  # Bangkok
    assert [p["shift"] for p in day.json()["on_call"]] == ["เวรกลางวัน day"]
    assert [p["shift"] for p in night.json()["on_call"]] == ["เวรกลางคืน night"]
    person = night.json()["on_call"][0]
    assert person["responder_id"] == str(stable_id("responder", "570511"))
    assert night.json()["on_call"][0]["until"] == "2026-11-24T01:30:00+00:00"  # 08:30 Bangkok the next day
    assert [t["kind"] for level in night.json()["escalation"] for t in level["targets"]] == [
        "on_call", "agency", "hotline_supervisor"]


async def test_weekly_rotation_with_leave_across_midnight(admin: httpx.AsyncClient) -> None:
    center = await created(admin, "/v1/centers", a_center(name_th="ศูนย์ทดสอบเวรหมุนเวียน"))
    names = ["สมชาย", "สมหญิง", "สมศักดิ์"]
    people = [await created(admin, "/v1/responders", a_responder(display_name=n, center_ids=[center["center_id"]]))
              for n in names]
    ids = [p["responder_id"] for p in people]
    members = (await admin.get("/v1/responders", params={"center_id": center["center_id"], "active": True})).json()
    assert sorted(p["display_name"] for p in members["items"]) == sorted(names)
    rota = {
        "unit_kind": "center", "unit_id": center["center_id"], "name": "เวรประจำสัปดาห์",
        "shifts": [
            # Monday 2026-11-23 starts week 0 (สมชาย); the next Monday week 1 (สมหญิง).
            {"name": "กลางวัน", "start": "08:30", "end": "16:30", "responder_ids": ids,
             "rotate_every_days": 7, "rotation_anchor": "2026-11-23"},
            {"name": "กลางคืน", "start": "16:30", "end": "08:30", "responder_ids": ids,
             "rotate_every_days": 7, "rotation_anchor": "2026-11-23"},
        ],
        "overrides": [{"start": "2026-11-25T08:30:00+07:00", "end": "2026-11-26T08:30:00+07:00",
                       "replaces": ids[0], "responder_id": ids[2], "reason": "ลาป่วย sick leave"}],
        "escalation": [{"targets": [{"kind": "on_call"}], "timeout_minutes": 10},
                       {"targets": [{"kind": "responder", "id": ids[1]}], "timeout_minutes": 10}],
    }
    await created(admin, "/v1/rotas", rota)
    cid = center["center_id"]
    # The rotation runs backwards from its anchor too: Sunday night's shift is week −1, สมศักดิ์'s.
    assert await on_call(admin, cid, "2026-11-23T08:29:00+07:00") == [("สมศักดิ์", "กลางคืน")]
    assert await on_call(admin, cid, "2026-11-23T08:30:00+07:00") == [("สมชาย", "กลางวัน")]
    assert await on_call(admin, cid, "2026-11-23T23:59:00+07:00") == [("สมชาย", "กลางคืน")]
    # Sunday night's shift started in week 0: it still belongs to สมชาย on Monday morning.
    assert await on_call(admin, cid, "2026-11-30T08:29:00+07:00") == [("สมชาย", "กลางคืน")]
    assert await on_call(admin, cid, "2026-11-30T08:30:00+07:00") == [("สมหญิง", "กลางวัน")]
    # The sick day: สมศักดิ์ covers, สมชาย is off.
    assert await on_call(admin, cid, "2026-11-25T12:00:00+07:00") == [("สมศักดิ์", "override")]
    assert await on_call(admin, cid, "2026-11-26T08:30:00+07:00") == [("สมชาย", "กลางวัน")]


@pytest.mark.parametrize(("change", "field"), [
    ({"shifts": [{"name": "ศูนย์", "start": "08:30", "end": "08:30", "responder_ids": ["$p"]}]}, "shifts"),
    ({"shifts": [{"name": "a", "start": "08:00", "end": "17:00", "responder_ids": ["$p"]},
                 {"name": "b", "start": "16:00", "end": "20:00", "responder_ids": ["$p"]}]}, "shifts"),
    ({"timezone": "Asia/Bangkokk"}, "timezone"),
    ({"overrides": [{"start": "2026-11-25T08:30:00", "end": "2026-11-26T08:30:00", "responder_id": "$p"}]},
     "overrides.0.start"),
    ({"unit_id": str(uuid.uuid4())}, "unit_id"),
    ({"shifts": [{"name": "x", "start": "08:00", "end": "17:00", "responder_ids": [str(uuid.uuid4())]}]},
     "shifts.0.responder_ids.0"),
])
async def test_bad_rota_is_refused_naming_the_field(admin: httpx.AsyncClient, change: dict[str, Any],
                                                    field: str) -> None:
    person = await created(admin, "/v1/responders", a_responder())
    body: dict[str, Any] = {"unit_kind": "center", "unit_id": str(center_id_for("100101")), "name": "ทดสอบ"}
    body.update(change)
    text = httpx.Response(200, json=body).text.replace("$p", person["responder_id"])
    response = await admin.post("/v1/rotas", content=text, headers={"Content-Type": "application/json"})
    assert any(f == field or f.startswith(field + ".") for f in field_of(response)), response.text


async def test_coverage_gaps_show_a_weekday_only_center(admin: httpx.AsyncClient) -> None:
    # Satun (91): a province no other test touches.
    center = await created(admin, "/v1/centers", a_center(tambon_code="910101", name_th="ศูนย์เปิดเฉพาะวันทำการ"))
    person = await created(admin, "/v1/responders", a_responder(center_ids=[center["center_id"]]))
    await created(admin, "/v1/rotas", {
        "unit_kind": "center", "unit_id": center["center_id"], "name": "วันทำการ",
        "shifts": [{"name": "office", "start": "08:30", "end": "16:30", "days": [0, 1, 2, 3, 4],
                    "responder_ids": [person["responder_id"]]}]})
    gaps = (await admin.get("/v1/coverage/gaps", params={"days": 7, "province_code": "91"})).json()
    assert [u["unit_id"] for u in gaps["units"]] == [center["center_id"]]
    unit = gaps["units"][0]
    # Every night and the whole weekend: at least 5 nights' gaps and one running Friday 16:30 → Monday 08:30.
    assert len(unit["gaps"]) >= 5
    assert any(g["start"].endswith("09:30:00+00:00") and g["end"].endswith("01:30:00+00:00") for g in unit["gaps"])
    # Inactive responders do not cover: deactivating the only person leaves the whole week open.
    etag = (await admin.get(f"/v1/responders/{person['responder_id']}")).headers["ETag"]
    body = a_responder(center_ids=[center["center_id"]], active=False, channels=person["channels"])
    assert (await admin.put(f"/v1/responders/{person['responder_id']}", json=body,
                            headers={"If-Match": etag})).status_code == 200
    gaps = (await admin.get("/v1/coverage/gaps", params={"days": 7, "province_code": "91"})).json()
    assert len(gaps["units"][0]["gaps"]) == 1
