"""Places HTTP API: the national gazetteer for operators — typeahead search, address resolution, browsing."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, status
from pydantic import BaseModel, Field

from hotline_common.auth import Role, require_role
from hotline_gazetteer import (
    Amphoe,
    Candidate,
    MatchedPart,
    PlaceHit,
    PlaceKind,
    Province,
    Resolution,
    Tambon,
    gazetteer,
)

# Plain `def` routes: FastAPI runs them in its thread pool, so the one-off index build (~0.5 s, on the first
# search or resolve of the process) never stalls the event loop; after that each call takes about a millisecond.
router = APIRouter(prefix="/v1/places", tags=["places"], dependencies=[require_role(*Role)])


class TambonOut(BaseModel):
    """A sub-district: tambon (ตำบล), or khwaeng (แขวง) in Bangkok."""

    code: str = Field(examples=["570511"])
    name_th: str = Field(examples=["สันกลาง"])
    name_en: str = Field(examples=["San Klang"])
    amphoe_code: str
    amphoe_name_th: str
    amphoe_name_en: str
    province_code: str
    province_name_th: str
    province_name_en: str
    postal_code: str
    lat: float
    lon: float
    path_th: str = Field(examples=["ต.สันกลาง › อ.พาน › จ.เชียงราย"])
    path_en: str = Field(examples=["San Klang › Phan › Chiang Rai"])

    @classmethod
    def of(cls, t: Tambon) -> TambonOut:
        return cls.model_validate({**asdict(t), "path_th": t.path_th(), "path_en": t.path_en()})


class AmphoeOut(BaseModel):
    """A district: amphoe (อำเภอ), or khet (เขต) in Bangkok; lat/lon is the mean of its sub-districts' points."""

    code: str = Field(examples=["5705"])
    name_th: str = Field(examples=["พาน"])
    name_en: str = Field(examples=["Phan"])
    province_code: str
    province_name_th: str
    province_name_en: str
    lat: float
    lon: float
    postal_codes: list[str]
    path_th: str = Field(examples=["อ.พาน › จ.เชียงราย"])
    path_en: str = Field(examples=["Phan › Chiang Rai"])

    @classmethod
    def of(cls, a: Amphoe) -> AmphoeOut:
        return cls.model_validate({**asdict(a), "path_th": a.path_th(), "path_en": a.path_en()})


class ProvinceOut(BaseModel):
    """A province (จังหวัด), or Bangkok; lat/lon is the mean of its sub-districts' points."""

    code: str = Field(examples=["57"])
    name_th: str = Field(examples=["เชียงราย"])
    name_en: str = Field(examples=["Chiang Rai"])
    lat: float
    lon: float
    postal_codes: list[str]
    path_th: str = Field(examples=["จ.เชียงราย"])
    path_en: str = Field(examples=["Chiang Rai"])

    @classmethod
    def of(cls, p: Province) -> ProvinceOut:
        return cls.model_validate({**asdict(p), "path_th": p.path_th(), "path_en": p.path_en()})


class PlaceHitOut(BaseModel):
    kind: PlaceKind
    code: str
    name_th: str
    name_en: str
    path_th: str = Field(examples=["ต.สันกลาง › อ.พาน › จ.เชียงราย"])
    path_en: str = Field(examples=["San Klang › Phan › Chiang Rai"])
    score: float = Field(ge=0, le=100, description="100 = every word of the query matched a name exactly")
    province_code: str
    amphoe_code: str | None
    postal_codes: list[str]
    lat: float
    lon: float

    @classmethod
    def of(cls, h: PlaceHit) -> PlaceHitOut:
        return cls.model_validate(asdict(h))


class SearchOut(BaseModel):
    query: str
    hits: list[PlaceHitOut]


class CandidateOut(BaseModel):
    tambon: TambonOut
    score: float = Field(ge=0, le=1)
    matched: list[MatchedPart]

    @classmethod
    def of(cls, c: Candidate) -> CandidateOut:
        return cls(tambon=TambonOut.of(c.tambon), score=c.score, matched=list(c.matched))


class ResolutionOut(BaseModel):
    query: str
    tambon: TambonOut | None = Field(description="the best sub-district; check `confidence` before trusting it")
    confidence: float = Field(ge=0, le=1, description="≥ 0.9: tambon, amphoe and province agree; < 0.5: ambiguous")
    matched: list[MatchedPart] = Field(description="which parts of the text the best sub-district matched")
    candidates: list[CandidateOut] = Field(description="the sub-districts the text could mean, best first")
    amphoe: AmphoeOut | None
    province: ProvinceOut | None
    postal_code: str | None = Field(description="the postal code found in the text")

    @classmethod
    def of(cls, r: Resolution) -> ResolutionOut:
        return cls(query=r.query, tambon=TambonOut.of(r.tambon) if r.tambon else None, confidence=r.confidence,
                   matched=list(r.matched), candidates=[CandidateOut.of(c) for c in r.candidates],
                   amphoe=AmphoeOut.of(r.amphoe) if r.amphoe else None,
                   province=ProvinceOut.of(r.province) if r.province else None, postal_code=r.postal_code)


def _not_found(what_th: str, what_en: str, code: str) -> HTTPException:
    return HTTPException(status.HTTP_404_NOT_FOUND, detail=f"ไม่พบ{what_th}รหัส {code} (no {what_en} with code {code})")


@router.get("/search", response_model=SearchOut,
            summary="Typeahead over provinces, districts and sub-districts (ค้นหาสถานที่: จังหวัด อำเภอ ตำบล)")
def search_places(q: Annotated[str, Query(min_length=1, max_length=100, description="Thai or English, any order: "
                                          "'ต.สันกลาง อ.พาน', 'san klang phan', a postal or tambon code")],
                  limit: Annotated[int, Query(ge=1, le=50)] = 10) -> SearchOut:
    return SearchOut(query=q, hits=[PlaceHitOut.of(h) for h in gazetteer().search(q, limit=limit)])


@router.get("/resolve", response_model=ResolutionOut,
            summary="The sub-district a free-text address names (หาตำบลจากที่อยู่), with a confidence")
def resolve_address(q: Annotated[str, Query(min_length=1, max_length=300, description="a Thai address, e.g. "
                                            "'12 หมู่ 3 ต.ลำภี อ.ท้ายเหมือง จ.พังงา 82120'")]) -> ResolutionOut:
    return ResolutionOut.of(gazetteer().resolve(q))


@router.get("/provinces", response_model=list[ProvinceOut],
            summary="All 77 provinces, Bangkok included (จังหวัด), by code")
def list_provinces() -> list[ProvinceOut]:
    return [ProvinceOut.of(p) for p in gazetteer().provinces_list()]


@router.get("/provinces/{province_code}/amphoes", response_model=list[AmphoeOut],
            summary="The districts of a province (อำเภอ/เขต), by code")
def list_amphoes(province_code: str) -> list[AmphoeOut]:
    if gazetteer().province(province_code) is None:
        raise _not_found("จังหวัด", "province", province_code)
    return [AmphoeOut.of(a) for a in gazetteer().amphoes_in(province_code)]


@router.get("/amphoes/{amphoe_code}/tambons", response_model=list[TambonOut],
            summary="The sub-districts of a district (ตำบล/แขวง), by code")
def list_tambons(amphoe_code: str) -> list[TambonOut]:
    if gazetteer().amphoe(amphoe_code) is None:
        raise _not_found("อำเภอ/เขต", "district", amphoe_code)
    return [TambonOut.of(t) for t in gazetteer().tambons_in(amphoe_code)]


@router.get("/tambons/{tambon_code}", response_model=TambonOut,
            summary="One sub-district (ตำบล/แขวง) with its district and province")
def get_tambon(tambon_code: str) -> TambonOut:
    tambon = gazetteer().tambon(tambon_code)
    if tambon is None:
        raise _not_found("ตำบล/แขวง", "sub-district", tambon_code)
    return TambonOut.of(tambon)
