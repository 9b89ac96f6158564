"""Place search and address resolution over the national gazetteer, and the registry's /v1/places routes."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from types import SimpleNamespace

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import SecretStr

from hotline_common.auth import Role, issue_token
from hotline_gazetteer import Gazetteer, gazetteer
from hotline_registry.places import router

SAN_KLANG_PHAN = "570511"
LAM_PHI = "820805"
LAT_YAO_BANGKOK = "103001"


def named(name_th: str) -> set[str]:
    """Codes of every tambon with this Thai name, from the data itself."""
    return {t.code for t in gazetteer().tambons if t.name_th == name_th}


def first(query: str, limit: int = 10) -> str:
    hits = gazetteer().search(query, limit=limit)
    assert hits, f"no hit for {query!r}"
    return hits[0].code


# ---- provinces, districts, sub-districts ---------------------------------------------------------------------

def test_every_province_and_district_is_there_with_centroid_and_postal_codes() -> None:
    g = gazetteer()
    provinces = g.provinces_list()
    assert len(provinces) == 77 and [p.code for p in provinces] == sorted(g.provinces())
    assert sum(len(g.amphoes_in(p.code)) for p in provinces) == 928
    assert sum(len(g.tambons_in(a.code)) for p in provinces for a in g.amphoes_in(p.code)) == len(g.tambons)
    phan = g.amphoe("5705")
    assert phan is not None and (phan.name_th, phan.name_en, phan.province_code) == ("พาน", "Phan", "57")
    in_phan = g.tambons_in("5705")
    assert phan.lat == pytest.approx(sum(t.lat for t in in_phan) / len(in_phan), abs=1e-5)
    assert phan.lon == pytest.approx(sum(t.lon for t in in_phan) / len(in_phan), abs=1e-5)
    assert set(phan.postal_codes) == {t.postal_code for t in in_phan}
    assert phan.path_th() == "อ.พาน › จ.เชียงราย" and phan.path_en() == "Phan › Chiang Rai"
    bangkok, chatuchak = g.province("10"), g.amphoe("1030")
    assert bangkok is not None and bangkok.path_th() == "กรุงเทพมหานคร" and len(g.amphoes_in("10")) == 50
    assert chatuchak is not None and chatuchak.path_th() == "เขตจตุจักร › กรุงเทพมหานคร"
    assert g.province("99") is None and g.amphoe("9999") is None and g.amphoes_in("99") == []
    assert g.provinces()["57"] == "เชียงราย"  # the old dict view still works


def test_the_search_index_is_built_only_when_first_needed() -> None:
    g = Gazetteer.from_package()
    assert "index" not in vars(g)
    assert g.tambon(SAN_KLANG_PHAN) is not None and g.nearest(19.60861, 99.68137) is not None
    assert "index" not in vars(g)
    g.search("พาน")
    assert "index" in vars(g)
    assert g.index is g.index


# ---- search ---------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("query", [
    "สันกลาง พาน", "พาน สันกลาง", "ต.สันกลาง อ.พาน", "ต.สันกลางอ.พาน", "ตำบลสันกลางอำเภอพาน", "ตำบล สันกลาง อำเภอ พาน",
    "สันกลางพาน", "สันกลาง พาน เชียงราย", "ต.สันกลาง อ.พาน จ.เชียงราย", "san klang phan", "Phan San Klang",
    "San Klang, Phan, Chiang Rai", "tambon san klang amphoe phan",
])
def test_a_tambon_is_found_from_its_district_in_any_order_and_spelling(query: str) -> None:
    hits = gazetteer().search(query)
    top = hits[0]
    assert (top.kind, top.code, top.score) == ("tambon", SAN_KLANG_PHAN, 100.0)
    assert top.path_th == "ต.สันกลาง › อ.พาน › จ.เชียงราย"
    assert top.path_en == "San Klang › Phan › Chiang Rai"
    assert (top.amphoe_code, top.province_code, top.postal_codes) == ("5705", "57", ("57120",))
    assert all(h.score < top.score for h in hits[1:])


def test_the_same_name_elsewhere_is_still_offered_below_the_best_fit() -> None:
    hits = gazetteer().search("สันกลาง พาน")
    assert hits[0].code == SAN_KLANG_PHAN
    assert {h.code for h in hits[1:3]} == named("สันกลาง") - {SAN_KLANG_PHAN}


def test_a_province_comes_first_then_its_districts() -> None:
    hits = gazetteer().search("เชียงราย", limit=10)
    assert (hits[0].kind, hits[0].code, hits[0].path_th) == ("province", "57", "จ.เชียงราย")
    assert len(hits) == 10
    assert all(h.province_code == "57" and h.kind == "amphoe" for h in hits[1:])
    assert hits[1].code == "5701"  # อ.เมืองเชียงราย


@pytest.mark.parametrize("query", ["chiang rai muang", "Muang Chiang Rai", "mueang chiang-rai", "อ.เมือง จ.เชียงราย",
                                   "เมืองเชียงราย", "เมือง เชียงราย"])
def test_the_capital_district_answers_to_mueang_and_muang(query: str) -> None:
    assert first(query) == "5701"


@pytest.mark.parametrize("query", ["แขวงลาดยาว เขตจตุจักร กทม.", "แขวงลาดยาว เขตจตุจักร กรุงเทพฯ", "ลาดยาว จตุจักร",
                                   "lat yao chatuchak bangkok"])
def test_bangkok_khwaeng_and_khet(query: str) -> None:
    top = gazetteer().search(query)[0]
    assert top.code == LAT_YAO_BANGKOK
    assert top.path_th == "แขวงลาดยาว › เขตจตุจักร › กรุงเทพมหานคร"
    assert top.path_en == "Lat Yao › Chatuchak › Bangkok"


@pytest.mark.parametrize("query", ["กทม", "กทม.", "กรุงเทพ", "Bangkok", "krung thep"])
def test_bangkok_by_its_short_names(query: str) -> None:
    hits = gazetteer().search(query)
    assert (hits[0].kind, hits[0].code, hits[0].path_th) == ("province", "10", "กรุงเทพมหานคร")


def test_typos_still_find_the_place() -> None:
    g = gazetteer()
    assert {h.code for h in g.search("สันกลง")[:3]} == named("สันกลาง")  # a vowel missing
    assert first("สันกลง พาน") == SAN_KLANG_PHAN
    assert first("ต.ลำภี อ.ท้ายเหมอง") == LAM_PHI  # a vowel missing in the district
    assert first("ต.ถรำ อ.ตะกั่วทุ่ง") == "820401"  # ถ้ำ: a short name mistyped, inside the named district
    assert first("chaing mai") == "50"
    assert first("san klnag phan") == SAN_KLANG_PHAN
    no_tone_marks = g.search("ทาขาม", limit=50)  # ท่าข้าม typed without its tone marks
    assert {h.code for h in no_tone_marks if h.kind == "tambon" and h.score >= 90} == named("ท่าข้าม")


def test_a_prefix_offers_provinces_before_sub_districts() -> None:
    hits = gazetteer().search("เชียงร")
    assert (hits[0].kind, hits[0].code) == ("province", "57")
    assert named("สันกลาง") <= {h.code for h in gazetteer().search("สันกล")}
    assert first("chiang ma") == "50"


def test_postal_and_tambon_codes() -> None:
    g = gazetteer()
    with_postal = {t.code for t in g.tambons if t.postal_code == "57120"}
    hits = g.search("57120", limit=50)
    assert {h.code for h in hits} == with_postal and all(h.kind == "tambon" for h in hits)
    assert first("82120 ลำภี") == LAM_PHI
    assert [h.code for h in g.search("570511")][:1] == [SAN_KLANG_PHAN]
    assert first("5705") == "5705" and first("57") == "57"


@pytest.mark.parametrize("query", ["xyzzy qwrtp", "ฟหกดฟหกด", "!!!", "", "   ", "1234567"])
def test_nonsense_finds_nothing(query: str) -> None:
    assert gazetteer().search(query) == []


@pytest.mark.parametrize("limit", [1, 3, 10, 50])
def test_hits_are_ranked_and_limited(limit: int) -> None:
    hits = gazetteer().search("หนอง", limit=limit)
    assert len(hits) == limit
    scores = [h.score for h in hits]
    assert scores == sorted(scores, reverse=True) and all(0 < s <= 100 for s in scores)
    assert len({(h.kind, h.code) for h in hits}) == limit
    assert json.loads(json.dumps(hits[0].to_dict()))["path_th"] == hits[0].path_th


def test_a_sample_of_the_whole_country_is_found_by_its_full_path() -> None:
    g = gazetteer()
    paths = Counter((t.name_th, t.amphoe_code) for t in g.tambons)
    english = Counter((t.name_en.lower(), t.amphoe_code) for t in g.tambons)
    for t in g.tambons[::9]:
        tm, am = ("แขวง", "เขต") if t.is_bangkok else ("ต.", "อ.")
        if paths[(t.name_th, t.amphoe_code)] == 1:
            assert first(f"{tm}{t.name_th} {am}{t.amphoe_name_th} {t.province_name_th}") == t.code, t
        if english[(t.name_en.lower(), t.amphoe_code)] == 1:
            # "Nakhon Nayok Mueang Nakhon Nayok" is as much the district as the tambon: a tie may come first.
            assert t.code in best(f"{t.name_en} {t.amphoe_name_en}"), t


def best(query: str) -> set[str]:
    hits = gazetteer().search(query)
    return {h.code for h in hits if h.score == hits[0].score}


# ---- resolve --------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "code"), [
    ("ต.สันกลาง อ.พาน จ.เชียงราย", SAN_KLANG_PHAN),
    ("สันกลาง พาน เชียงราย", SAN_KLANG_PHAN),
    ("สันกลางพานเชียงราย", SAN_KLANG_PHAN),
    ("ตำบลลำภีอำเภอท้ายเหมืองจังหวัดพังงา", LAM_PHI),
    ("บ้านเลขที่ 12 หมู่ 3 ตำบลลำภี อำเภอท้ายเหมือง พังงา 82120", LAM_PHI),
    ("99/1 ม.3 บ้านหนองบัว ถนนพหลโยธิน ซอย 5 ต.ลำภี อ.ท้ายเหมือง จ.พังงา ๘๒๑๒๐", LAM_PHI),
    ("แขวงลาดยาว เขตจตุจักร กทม.", LAT_YAO_BANGKOK),
    ("เลขที่ 1 ซอยพหลโยธิน 24 แขวงลาดยาว เขตจตุจักร กรุงเทพฯ 10900", LAT_YAO_BANGKOK),
])
def test_an_address_that_names_tambon_amphoe_and_province_is_resolved_with_high_confidence(text: str,
                                                                                          code: str) -> None:
    r = gazetteer().resolve(text)
    assert r.tambon is not None and r.tambon.code == code
    assert r.confidence >= 0.9
    assert {"tambon", "amphoe", "province"} <= set(r.matched)
    assert r.candidates[0].tambon.code == code and r.candidates[0].score == r.confidence
    assert r.amphoe is not None and r.amphoe.code == code[:4]
    assert r.province is not None and r.province.code == code[:2]


def test_the_postal_code_is_read_and_checked() -> None:
    g = gazetteer()
    r = g.resolve("บ้านเลขที่ 12 หมู่ 3 ตำบลลำภี อำเภอท้ายเหมือง พังงา 82120")
    assert r.postal_code == "82120" and "postal_code" in r.matched
    alone = g.resolve("ต.สันกลาง")
    narrowed = g.resolve("ต.สันกลาง 57120")
    assert narrowed.tambon is not None and narrowed.tambon.code == SAN_KLANG_PHAN
    assert [c.tambon.code for c in narrowed.candidates] == [SAN_KLANG_PHAN]
    assert narrowed.confidence > 2 * alone.confidence
    wrong = g.resolve("ต.ลำภี อ.ท้ายเหมือง จ.พังงา 57120")
    assert wrong.tambon is not None and wrong.tambon.code == LAM_PHI
    assert wrong.confidence < g.resolve("ต.ลำภี อ.ท้ายเหมือง จ.พังงา").confidence


def test_a_tambon_name_alone_is_ambiguous_when_many_provinces_have_it() -> None:
    g = gazetteer()
    expected = named("สันกลาง")
    assert len({g.tambon(c).province_code for c in expected}) > 1  # type: ignore[union-attr]
    r = g.resolve("ต.สันกลาง")
    assert r.confidence < 0.5
    assert {c.tambon.code for c in r.candidates} == expected
    assert r.matched == ("tambon",)
    in_chiang_mai = g.resolve("ต.สันกลาง จ.เชียงใหม่")
    assert {c.tambon.code for c in in_chiang_mai.candidates} == {c for c in expected if c.startswith("50")}
    assert in_chiang_mai.confidence < 0.5
    assert g.resolve("ต.สันกลาง อ.พาน").confidence >= 0.8


def test_the_most_shared_tambon_name_gives_low_confidence_and_at_most_ten_candidates() -> None:
    g = gazetteer()
    name, count = Counter(t.name_th for t in g.tambons).most_common(1)[0]
    assert count > 10
    r = g.resolve(f"ตำบล{name}")
    assert r.confidence < 0.1
    assert len(r.candidates) == 10 and {c.tambon.code for c in r.candidates} <= named(name)


def test_a_unique_tambon_name_alone_is_fairly_but_not_fully_trusted() -> None:
    g = gazetteer()
    assert named("ลำภี") == {LAM_PHI}
    r = g.resolve("ลำภี")
    assert r.tambon is not None and r.tambon.code == LAM_PHI
    assert 0.5 <= r.confidence < 0.9
    elsewhere = g.resolve("ต.ลำภี จ.เชียงราย")  # a province that disagrees
    assert elsewhere.confidence < r.confidence


def test_typos_in_an_address_lower_the_confidence_but_not_the_answer() -> None:
    r = gazetteer().resolve("ต.สันกลง อ.พาน จ.เชียงราย")
    assert r.tambon is not None and r.tambon.code == SAN_KLANG_PHAN
    assert 0.8 <= r.confidence < 1.0


def test_a_district_without_a_tambon_is_reported_but_not_guessed() -> None:
    r = gazetteer().resolve("อ.พาน จ.เชียงราย")
    assert r.tambon is None and r.confidence == 0.0 and r.candidates == ()
    assert r.amphoe is not None and r.amphoe.code == "5705"
    assert r.province is not None and r.province.code == "57"


@pytest.mark.parametrize("text", ["xyzzy", "ฟหกดฟหกด กขคง", "", "บ้านเลขที่ 12 หมู่ 3", "โทร 0812345678"])
def test_nothing_plausible_resolves_to_nothing(text: str) -> None:
    r = gazetteer().resolve(text)
    assert r.tambon is None and r.confidence == 0.0 and r.matched == () and r.candidates == ()
    assert json.loads(json.dumps(r.to_dict()))["tambon"] is None


def test_a_tambon_code_in_the_text_is_trusted() -> None:
    r = gazetteer().resolve("570511")
    assert r.tambon is not None and r.tambon.code == SAN_KLANG_PHAN and r.confidence == 1.0
    assert "tambon_code" in r.matched
    body = json.loads(json.dumps(r.to_dict()))
    assert body["tambon"]["path_th"] == "ต.สันกลาง › อ.พาน › จ.เชียงราย"
    assert body["candidates"][0]["matched"] == list(r.matched)


# ---- the registry's routes ------------------------------------------------------------------------------------

SECRET = "unit-test-secret-0123456789abcdef0123456789"


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    app = FastAPI()
    app.state.settings = SimpleNamespace(jwt_secret=SecretStr(SECRET))  # what hotline_common.auth reads
    app.include_router(router)
    token = issue_token(SECRET, subject="operator", role=Role.operator, ttl_seconds=300)
    with TestClient(app, headers={"Authorization": f"Bearer {token}"}) as c:
        yield c


def test_the_routes_need_a_signed_in_staff_member(client: TestClient) -> None:
    for path in ("/v1/places/search?q=พาน", "/v1/places/provinces", f"/v1/places/tambons/{SAN_KLANG_PHAN}"):
        assert client.get(path, headers={"Authorization": ""}).status_code == 401
        assert client.get(path, headers={"Authorization": "Bearer not-a-token"}).status_code == 401
    responder = issue_token(SECRET, subject="r", role=Role.responder, ttl_seconds=60)
    assert client.get("/v1/places/provinces", headers={"Authorization": f"Bearer {responder}"}).status_code == 200


def test_search_route(client: TestClient) -> None:
    r = client.get("/v1/places/search", params={"q": "ต.สันกลาง อ.พาน", "limit": 3})
    assert r.status_code == 200
    body = r.json()
    assert body["query"] == "ต.สันกลาง อ.พาน" and len(body["hits"]) == 3
    top = body["hits"][0]
    assert top["kind"] == "tambon" and top["code"] == SAN_KLANG_PHAN and top["score"] == 100.0
    assert top["path_th"] == "ต.สันกลาง › อ.พาน › จ.เชียงราย" and top["path_en"] == "San Klang › Phan › Chiang Rai"
    assert client.get("/v1/places/search", params={"q": "xyzzy"}).json() == {"query": "xyzzy", "hits": []}


@pytest.mark.parametrize("params", [{}, {"q": ""}, {"q": "ก" * 101}, {"q": "พาน", "limit": 0},
                                    {"q": "พาน", "limit": 51}])
def test_search_route_refuses_bad_parameters(client: TestClient, params: dict[str, object]) -> None:
    assert client.get("/v1/places/search", params=params).status_code == 422


def test_resolve_route(client: TestClient) -> None:
    r = client.get("/v1/places/resolve", params={"q": "บ้านเลขที่ 12 หมู่ 3 ตำบลลำภี อำเภอท้ายเหมือง พังงา 82120"})
    assert r.status_code == 200
    body = r.json()
    assert body["tambon"]["code"] == LAM_PHI and body["tambon"]["path_th"] == "ต.ลำภี › อ.ท้ายเหมือง › จ.พังงา"
    assert body["confidence"] >= 0.9 and set(body["matched"]) == {"tambon", "amphoe", "province", "postal_code"}
    assert body["postal_code"] == "82120" and body["amphoe"]["code"] == "8208" and body["province"]["code"] == "82"
    ambiguous = client.get("/v1/places/resolve", params={"q": "ต.สันกลาง"}).json()
    assert ambiguous["confidence"] < 0.5 and {c["tambon"]["code"] for c in ambiguous["candidates"]} == named("สันกลาง")
    nothing = client.get("/v1/places/resolve", params={"q": "xyzzy"}).json()
    assert nothing["tambon"] is None and nothing["confidence"] == 0 and nothing["candidates"] == []


def test_browse_routes(client: TestClient) -> None:
    provinces = client.get("/v1/places/provinces").json()
    assert len(provinces) == 77 and provinces[0]["code"] == "10" and provinces[0]["path_th"] == "กรุงเทพมหานคร"
    amphoes = client.get("/v1/places/provinces/57/amphoes").json()
    assert len(amphoes) == len(gazetteer().amphoes_in("57")) and {a["province_code"] for a in amphoes} == {"57"}
    tambons = client.get("/v1/places/amphoes/5705/tambons").json()
    assert SAN_KLANG_PHAN in {t["code"] for t in tambons} and {t["amphoe_code"] for t in tambons} == {"5705"}
    missing_province = client.get("/v1/places/provinces/99/amphoes")
    assert missing_province.status_code == 404 and "ไม่พบจังหวัด" in missing_province.json()["detail"]
    assert client.get("/v1/places/amphoes/9999/tambons").status_code == 404


def test_one_tambon_route(client: TestClient) -> None:
    r = client.get(f"/v1/places/tambons/{LAM_PHI}")
    assert r.status_code == 200
    body = r.json()
    assert body["path_th"] == "ต.ลำภี › อ.ท้ายเหมือง › จ.พังงา" and body["path_en"] == "Lam Phi › Thai Mueang › Phangnga"
    assert body["postal_code"] == "82120" and body["name_en"] == "Lam Phi"
    missing = client.get("/v1/places/tambons/999999")
    assert missing.status_code == 404 and "ไม่พบตำบล" in missing.json()["detail"]


def test_openapi_documents_every_route_with_a_summary_and_a_response_model(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    expected = {"/v1/places/search", "/v1/places/resolve", "/v1/places/provinces",
                "/v1/places/provinces/{province_code}/amphoes", "/v1/places/amphoes/{amphoe_code}/tambons",
                "/v1/places/tambons/{tambon_code}"}
    assert set(paths) == expected
    for path in expected:
        get = paths[path]["get"]
        assert get["summary"] and get["tags"] == ["places"]
        assert get["responses"]["200"]["content"]["application/json"]["schema"], path
