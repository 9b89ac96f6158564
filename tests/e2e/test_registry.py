"""The registry as admins and other services use it, on the real database and broker."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from hotline_gazetteer import gazetteer
from hotline_registry.demo import center_id_for

pytestmark = pytest.mark.e2e


def a_center(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"name_th": "ศูนย์ช่วยเหลือสังคมตำบลลำภี (ทดสอบ)", "name_en": "Lam Phi test center",
                            "host_type": "temple", "tambon_code": "820805", "address": "วัดลำภี หมู่ 3",
                            "phone": "076-123-456", "line_group": "https://line.me/R/ti/g/test"}
    body.update(overrides)
    return body


def a_responder(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"display_name": "นางสาวมาลี ใจดี", "kind": "volunteer",
                            "channels": [{"kind": "line", "address": "U" + uuid.uuid4().hex},
                                         {"kind": "email", "address": "malee@example.org"}]}
    body.update(overrides)
    return body


def field_of(response: httpx.Response) -> list[str]:
    """The failing fields of a 422, as dotted paths without the leading 'body'."""
    assert response.status_code == 422, response.text
    return [".".join(str(p) for p in e["loc"][1:]) for e in response.json()["detail"]]


async def test_center_lifecycle_with_etags_history_and_audit(admin: httpx.AsyncClient,
                                                             operator: httpx.AsyncClient) -> None:
    created = await admin.post("/v1/centers", json=a_center())
    assert created.status_code == 201, created.text
    center = created.json()
    assert created.headers["ETag"] == '"1"'
    assert created.headers["Location"] == f"/v1/centers/{center['center_id']}"
    lam_phi = gazetteer().tambon("820805")
    assert lam_phi is not None
    # Derived from the sub-district: district, province and (no coordinates given) its centroid.
    assert (center["amphoe_code"], center["province_code"]) == (lam_phi.amphoe_code, lam_phi.province_code)
    assert (center["lat"], center["lon"]) == (lam_phi.lat, lam_phi.lon)
    assert center["phone"] == "+6676123456"
    url = f"/v1/centers/{center['center_id']}"

    suspended = a_center(status="suspended", status_reason="เจ้าหน้าที่ลาคลอด staff on leave")
    assert (await admin.put(url, json=suspended)).status_code == 428
    updated = await admin.put(url, json=suspended, headers={"If-Match": '"1"'})
    assert updated.status_code == 200, updated.text
    assert updated.headers["ETag"] == '"2"'
    stale = await admin.put(url, json=a_center(name_th="ชื่อใหม่"), headers={"If-Match": '"1"'})
    assert stale.status_code == 412
    assert stale.headers["ETag"] == '"2"'
    assert (await admin.get(url)).json()["name_th"] == a_center()["name_th"]

    history = (await admin.get(f"{url}/history")).json()
    assert [(h["status"], h["reason"]) for h in history] == [
        ("active", ""), ("suspended", "เจ้าหน้าที่ลาคลอด staff on leave")]

    assert (await operator.put(url, json=a_center(), headers={"If-Match": '"2"'})).status_code == 403
    assert (await operator.get(url)).status_code == 200
    assert (await admin.delete(url, headers={"If-Match": '"2"'})).status_code == 204
    assert (await admin.get(url)).status_code == 404

    audit = (await admin.get("/v1/audit", params={"entity_id": center["center_id"]})).json()["items"]
    assert [a["action"] for a in audit] == ["delete", "update", "create"]
    assert audit[0]["before"]["status"] == "suspended" and audit[0]["after"] is None
    assert audit[1]["before"]["status"] == "active" and audit[1]["after"]["status"] == "suspended"
    assert {a["actor"] for a in audit} == {"admin"}


@pytest.mark.parametrize(("body", "field"), [
    (a_center(tambon_code="999999"), "tambon_code"),
    (a_center(lat=35.68, lon=139.69), "lat"),  # Tokyo
    (a_center(lat=13.7), "lon"),
    (a_center(host_type="castle"), "host_type"),
    (a_center(phone="12"), "phone"),
    (a_center(name_th=""), "name_th"),
])
async def test_bad_center_is_refused_naming_the_field(admin: httpx.AsyncClient, body: dict[str, Any],
                                                      field: str) -> None:
    response = await admin.post("/v1/centers", json=body)
    assert field in field_of(response)


@pytest.mark.parametrize(("body", "field"), [
    (a_responder(channels=[]), "channels"),
    (a_responder(channels=[{"kind": "line", "address": "malee"}]), "channels.0"),
    (a_responder(channels=[{"kind": "sms", "address": "hello"}]), "channels.0"),
    (a_responder(channels=[{"kind": "email", "address": "malee.example.org"}]), "channels.0"),
    (a_responder(channels=[{"kind": "pigeon", "address": "roof"}]), "channels.0.kind"),
    (a_responder(center_ids=[str(uuid.uuid4())]), "center_ids.0"),
    (a_responder(kind="boss"), "kind"),
])
async def test_bad_responder_is_refused_naming_the_field(admin: httpx.AsyncClient, body: dict[str, Any],
                                                         field: str) -> None:
    assert field in field_of(await admin.post("/v1/responders", json=body))


async def test_a_phone_number_belongs_to_one_responder(admin: httpx.AsyncClient) -> None:
    phone = f"08{uuid.uuid4().int % 10**8:08d}"
    first = await admin.post("/v1/responders", json=a_responder(channels=[{"kind": "sms", "address": phone}]))
    assert first.status_code == 201, first.text
    assert first.json()["channels"][0]["address"] == "+66" + phone[1:]
    # The same number written another way is the same number.
    spaced = f"+66 {phone[1:3]} {phone[3:6]} {phone[6:]}"
    second = await admin.post("/v1/responders", json=a_responder(channels=[{"kind": "sms", "address": spaced}]))
    assert "channels" in field_of(second)
    assert first.json()["responder_id"] in second.json()["detail"][0]["msg"]


async def test_lists_page_through_a_province_with_cursors_and_filters(operator: httpx.AsyncClient) -> None:
    expected = {str(center_id_for(t.code)) for t in gazetteer().tambons if t.province_code == "58"}
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        params: dict[str, Any] = {"province_code": "58", "limit": 17}
        if cursor:
            params["cursor"] = cursor
        page = (await operator.get("/v1/centers", params=params)).json()
        seen += [c["center_id"] for c in page["items"]]
        assert all(c["province_code"] == "58" for c in page["items"])
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert set(seen) == expected and len(seen) == len(expected)
    assert pages == -(-len(expected) // 17) or pages == len(expected) // 17 + 1
    assert (await operator.get("/v1/centers", params={"colour": "red"})).status_code == 422
    assert (await operator.get("/v1/centers", params={"cursor": "!!"})).status_code == 422
    shelters = (await operator.get("/v1/agencies", params={"agency_type": "children_family_shelter",
                                                           "limit": 500})).json()["items"]
    assert len(shelters) == len(gazetteer().provinces())
