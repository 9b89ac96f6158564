"""CSV import (all rows or none, every bad row reported), export, free places, and the compacted topics."""

from __future__ import annotations

import asyncio
import contextlib
import csv
import io
import json
import uuid
from typing import Any

import asyncpg
import httpx
import pytest

from hotline_common import topics
from hotline_common.events import AgencyType
from hotline_common.views import CompactedView
from hotline_devstack import Platform
from hotline_registry.demo import agency_id_for
from tests.conftest import eventually, get_token
from tests.infra import Infra

pytestmark = pytest.mark.e2e
HEADER = "center_id,name_th,name_en,host_type,tambon_code,address,lat,lon,phone,line_group,status\n"


async def import_csv(client: httpx.AsyncClient, kind: str, text: str, *, dry_run: bool = False) -> httpx.Response:
    return await client.post(f"/v1/import/{kind}", params={"dry_run": dry_run}, content=text.encode("utf-8"),
                             headers={"Content-Type": "text/csv"})


async def names_like(client: httpx.AsyncClient, q: str) -> list[str]:
    page = (await client.get("/v1/centers", params={"q": q, "limit": 500})).json()
    return sorted(c["name_th"] for c in page["items"])


async def test_import_is_all_or_nothing_and_reports_every_bad_row(admin: httpx.AsyncClient) -> None:
    tag = uuid.uuid4().hex[:6]
    text = HEADER + (
        f",ศูนย์นำเข้า{tag} วัดป่า,,temple,820805,,,,,,active\n"
        f",ศูนย์นำเข้า{tag} โรงเรียน,,school,999999,,,,,,active\n"  # line 3: unknown sub-district
        f",ศูนย์นำเข้า{tag} อบต.,,sao,820805,,35.68,139.69,,,active\n"  # line 4: Tokyo
        f",ศูนย์นำเข้า{tag} รพสต.,,health_hospital,820805,,,,,,open\n"  # line 5: no such status
    )
    refused = await import_csv(admin, "centers", text)
    assert refused.status_code == 422
    report = refused.json()
    assert [(e["line"], e["field"]) for e in report["errors"]] == [(3, "tambon_code"), (4, "lat"), (5, "status")]
    assert report["imported"] == 0
    assert await names_like(admin, f"ศูนย์นำเข้า{tag}") == []

    good = HEADER + f",ศูนย์นำเข้า{tag} วัดป่า,,temple,820805,,,,,,active\n" \
                    f",ศูนย์นำเข้า{tag} โรงเรียน,,school,820805,,,,076-123-457,,suspended\n"
    dry = await import_csv(admin, "centers", good, dry_run=True)
    assert dry.status_code == 200 and dry.json()["creates"] == 2 and dry.json()["imported"] == 0
    assert await names_like(admin, f"ศูนย์นำเข้า{tag}") == []
    done = await import_csv(admin, "centers", "\ufeff" + good)  # as Excel saves "CSV UTF-8"
    assert done.status_code == 200, done.text
    assert done.json()["imported"] == 2
    assert await names_like(admin, f"ศูนย์นำเข้า{tag}") == [f"ศูนย์นำเข้า{tag} วัดป่า", f"ศูนย์นำเข้า{tag} โรงเรียน"]


async def test_responder_import_checks_phones_within_the_file(admin: httpx.AsyncClient) -> None:
    phone = f"08{uuid.uuid4().int % 10**8:08d}"
    text = ("responder_id,display_name,kind,channels,languages,center_ids,agency_ids,active\n"
            f",นายหนึ่ง,volunteer,sms:{phone},th,,,true\n"
            f",นายสอง,volunteer,sms:+66{phone[1:]},th;en,,,true\n"
            ",นายสาม,volunteer,,th,,,true\n")
    report = (await import_csv(admin, "responders", text)).json()
    assert [(e["line"], e["field"]) for e in report["errors"]] == [(3, "channels"), (4, "channels")]


async def test_export_then_reimport_changes_nothing_but_versions(admin: httpx.AsyncClient) -> None:
    exported = await admin.get("/v1/export/agencies.csv")
    assert exported.status_code == 200
    assert exported.text.startswith("\ufeffagency_id,agency_type")
    rows = list(csv.DictReader(io.StringIO(exported.text.lstrip("\ufeff"))))
    bangkok_office = str(agency_id_for("10", AgencyType.provincial_office))
    assert any(r["agency_id"] == bangkok_office and r["name_th"].endswith("กรุงเทพมหานคร") for r in rows)
    again = await import_csv(admin, "agencies", exported.text, dry_run=True)
    assert again.status_code == 200, again.text[:2000]
    assert again.json()["updates"] == len(rows) and again.json()["creates"] == 0


async def test_shelter_reports_free_places(platform: Platform, admin: httpx.AsyncClient) -> None:
    token = await get_token(platform.url("registry"), "shelter")
    own = agency_id_for("10", AgencyType.children_family_shelter)
    other = agency_id_for("57", AgencyType.children_family_shelter)
    async with httpx.AsyncClient(base_url=platform.url("registry"), timeout=30,
                                 headers={"Authorization": f"Bearer {token}"}) as shelter:
        reported = await shelter.post(f"/v1/agencies/{own}/free-places", json={"free_places": 4})
        assert reported.status_code == 200, reported.text
        assert (await shelter.post(f"/v1/agencies/{other}/free-places", json={"free_places": 4})).status_code == 403
        over = await shelter.post(f"/v1/agencies/{own}/free-places", json={"free_places": 31})
        assert [e["loc"] for e in over.json()["detail"]] == [["body", "free_places"]]
    agency = (await admin.get(f"/v1/agencies/{own}")).json()
    assert agency["free_places"] == 4 and agency["free_places_at"] is not None
    office = agency_id_for("10", AgencyType.provincial_office)
    assert (await admin.post(f"/v1/agencies/{office}/free-places", json={"free_places": 1})).status_code == 409


async def _table(db: asyncpg.Connection, table: str, id_field: str) -> dict[str, Any]:
    return {str(r[0]): r[1] for r in await db.fetch(f"SELECT {id_field}, doc FROM registry.{table}")}


@pytest.mark.timeout(240)
async def test_compacted_topics_rebuild_exactly_the_registry(admin: httpx.AsyncClient, infra: Infra,
                                                             platform_db: str) -> None:
    """Run last in this module: a consumer reading the four topics from the start sees the tables, deletes too."""
    created = await admin.post("/v1/centers", json={"name_th": "ศูนย์ที่จะถูกลบ", "tambon_code": "100101"})
    assert (await admin.delete(f"/v1/centers/{created.json()['center_id']}",
                               headers={"If-Match": '"1"'})).status_code == 204
    specs = {"centers": (topics.REGISTRY_CENTER, "center_id"), "agencies": (topics.REGISTRY_AGENCY, "agency_id"),
             "responders": (topics.REGISTRY_RESPONDER, "responder_id"), "rotas": (topics.REGISTRY_ROTA, "rota_id")}
    views = {name: CompactedView(spec, infra.kafka_bootstrap) for name, (spec, _) in specs.items()}
    for view in views.values():
        view.start()
    db = await asyncpg.connect(platform_db)
    await db.set_type_codec("jsonb", encoder=json.dumps, decoder=json.loads, schema="pg_catalog")
    try:
        await asyncio.gather(*(v.wait_ready(120) for v in views.values()))
        for name, (_, id_field) in specs.items():
            tables = await _table(db, name, id_field)

            def differences(name: str = name, tables: dict[str, Any] = tables) -> dict[str, list[str]]:
                view = {k: r.model_dump(mode="json") for k, r in views[name].records.items()}
                return {"missing": sorted(tables.keys() - view.keys())[:5],
                        "extra": sorted(view.keys() - tables.keys())[:5],
                        "different": sorted(k for k in tables.keys() & view.keys() if tables[k] != view[k])[:5]}

            with contextlib.suppress(AssertionError):  # the relay may still be publishing the last changes
                await eventually(lambda d=differences: not any(d().values()), timeout=60)  # type: ignore[misc]
            assert differences() == {"missing": [], "extra": [], "different": []}, name
            assert created.json()["center_id"] not in views["centers"].records
    finally:
        await db.close()
        for view in views.values():
            await view.stop()
