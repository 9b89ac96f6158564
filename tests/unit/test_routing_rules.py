"""Agency rules are data that name every problem in a bad file; the agency choice prefers a shelter with a place."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Literal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hotline_common.events import AgencyRecord, AgencyType, Category, TargetGroup
from hotline_gazetteer import gazetteer
from hotline_routing.agencies import AgencyChoice, AgencyIndex, choose_agency
from hotline_routing.rules import AgencyRules, RulesError, load_rules, parse_rules

RULES = load_rules()
PROVINCES = sorted(gazetteer().provinces())
CATCH_ALL = '[[rule]]\nid = "the-rest"\nagency_type = "provincial_office"\n'


def naive_first_match(rules: AgencyRules, category: Category, target_group: TargetGroup,
                      province: str) -> tuple[AgencyType, str]:
    rule = next(r for r in rules.rules if r.matches(category, target_group, province))
    return rule.agency_type, rule.id


# ── The packaged rules ───────────────────────────────────────────────────────────────────────────────────────────

def test_the_packaged_rules_load_with_a_version_and_end_in_the_provincial_office() -> None:
    assert RULES.version and len(RULES.rules) > 10
    assert RULES.rules[-1].is_catch_all and RULES.rules[-1].agency_type is AgencyType.provincial_office
    assert all(r.description for r in RULES.rules)  # every rule says why, in Thai and English


def test_every_category_and_target_group_is_named_by_some_packaged_rule() -> None:
    assert set(Category) <= {c for r in RULES.rules for c in r.categories or ()}
    named_groups = {t for r in RULES.rules for t in r.target_groups or ()}
    assert {TargetGroup.child, TargetGroup.youth, TargetGroup.woman, TargetGroup.elderly, TargetGroup.disabled,
            TargetGroup.homeless} <= named_groups


@pytest.mark.parametrize(("category", "target_group", "agency_type", "rule_id"), [
    (Category.domestic_violence, TargetGroup.child, AgencyType.children_family_shelter, "violence-against-child"),
    (Category.domestic_violence, TargetGroup.woman, AgencyType.children_family_shelter, "family-violence"),
    (Category.domestic_violence, TargetGroup.elderly, AgencyType.older_persons_center,
     "violence-against-older-person"),
    (Category.human_trafficking, TargetGroup.woman, AgencyType.children_family_shelter, "trafficking-child-woman"),
    (Category.human_trafficking, TargetGroup.general, AgencyType.destitute_protection_center, "trafficking-other"),
    (Category.teen_pregnancy, TargetGroup.youth, AgencyType.children_family_shelter, "teen-pregnancy"),
    (Category.missing_person, TargetGroup.child, AgencyType.children_family_shelter, "missing-child"),
    (Category.begging, TargetGroup.child, AgencyType.children_family_shelter, "child-homeless-begging"),
    (Category.homeless, TargetGroup.general, AgencyType.destitute_protection_center, "homeless-begging"),
    (Category.begging, TargetGroup.elderly, AgencyType.destitute_protection_center, "homeless-begging"),
    (Category.drugs, TargetGroup.homeless, AgencyType.destitute_protection_center, "homeless-person"),
    (Category.elderly, TargetGroup.elderly, AgencyType.older_persons_center, "older-person"),
    (Category.other, TargetGroup.elderly, AgencyType.older_persons_center, "older-person-other"),
    (Category.disability, TargetGroup.disabled, AgencyType.disability_service_center, "disability"),
    (Category.livelihood, TargetGroup.general, AgencyType.provincial_office, "livelihood"),
    (Category.livelihood, TargetGroup.elderly, AgencyType.provincial_office, "livelihood"),
    (Category.stateless, TargetGroup.child, AgencyType.provincial_office, "stateless"),
    (Category.other, TargetGroup.general, AgencyType.provincial_office, "provincial-office"),
    (Category.drugs, TargetGroup.family, AgencyType.provincial_office, "provincial-office"),
])
def test_a_case_goes_to_the_agency_type_msdhs_sends_it_to(category: Category, target_group: TargetGroup,
                                                           agency_type: AgencyType, rule_id: str) -> None:
    assert RULES.agency_type_for(category, target_group, "57") == (agency_type, rule_id)  # Chiang Rai


def test_rules_that_mean_taking_someone_in_ask_for_a_free_place() -> None:
    assert RULES.rule_for(Category.domestic_violence, TargetGroup.child, "57").needs_place
    assert RULES.rule_for(Category.homeless, TargetGroup.general, "10").needs_place
    assert not RULES.rule_for(Category.livelihood, TargetGroup.general, "57").needs_place


PROVINCIAL_RULES = f"""
version = "test"
[[rule]]
id = "chiang-rai-older-person"
categories = ["elderly"]
provinces = ["57", "56"]
agency_type = "provincial_office"
[[rule]]
id = "north-violence"
categories = ["domestic_violence"]
target_groups = ["child", "woman"]
provinces = ["50", "57"]
agency_type = "children_family_shelter"
needs_place = true
[[rule]]
id = "violence"
categories = ["domestic_violence"]
agency_type = "provincial_office"
[[rule]]
id = "older-person"
target_groups = ["elderly"]
agency_type = "older_persons_center"
{CATCH_ALL}"""
PROVINCIAL = parse_rules(PROVINCIAL_RULES, "provincial.toml")


def test_a_province_rule_applies_in_its_provinces_only() -> None:
    rules = PROVINCIAL
    assert rules.agency_type_for(Category.elderly, TargetGroup.elderly, "57")[1] == "chiang-rai-older-person"
    assert rules.agency_type_for(Category.elderly, TargetGroup.elderly, "10")[1] == "older-person"
    assert rules.agency_type_for(Category.domestic_violence, TargetGroup.child, "50")[1] == "north-violence"
    assert rules.agency_type_for(Category.domestic_violence, TargetGroup.child, "90")[1] == "violence"


@given(st.sampled_from(Category), st.sampled_from(TargetGroup), st.sampled_from(PROVINCES))
def test_the_indexed_lookup_is_the_first_matching_rule(category: Category, target_group: TargetGroup,
                                                       province: str) -> None:
    for rules in (RULES, PROVINCIAL):
        assert rules.agency_type_for(category, target_group, province) == naive_first_match(
            rules, category, target_group, province)


# ── Broken files: every error names the file, the rule and the field ─────────────────────────────────────────────

def rule(rule_id: str, agency_type: str = "children_family_shelter", **fields: str) -> str:
    extra = "".join(f"{k} = {v}\n" for k, v in fields.items())
    return f'[[rule]]\nid = "{rule_id}"\nagency_type = "{agency_type}"\n{extra}'


BROKEN = [
    pytest.param(rule("child-violence", categories='["domestic_violance"]'),
                 ["rule #1 'child-violence'", "categories", "'domestic_violance'", "did you mean 'domestic_violence'"],
                 id="unknown-category"),
    pytest.param(rule("kids", target_groups='["children"]'),
                 ["rule #1 'kids'", "target_groups", "unknown target group 'children'"], id="unknown-target-group"),
    pytest.param(rule("x", agency_type="childrens_shelter", categories='["other"]'),
                 ["rule #1 'x'", "agency_type", "'childrens_shelter'", "did you mean 'children_family_shelter'"],
                 id="unknown-agency-type"),
    pytest.param(rule("x", categories='["other"]').replace('agency_type = "children_family_shelter"\n', ""),
                 ["rule #1 'x'", "agency_type: required"], id="missing-agency-type"),
    pytest.param(rule("x", provinces='["5"]'), ["rule #1 'x'", "provinces", "'5' is not a 2-digit"],
                 id="province-not-two-digits"),
    pytest.param(rule("x", provinces='["99"]'), ["rule #1 'x'", "provinces", "'99' is not a Thai province"],
                 id="province-not-real"),
    pytest.param(rule("x", provinces="[57]"), ["rule #1 'x'", "provinces", '57 must be a quoted string, such as "57"'],
                 id="province-unquoted"),
    pytest.param(rule("x", categories='["other"]') + rule("x", categories='["drugs"]'),
                 ["rule #2 'x'", "id: duplicate: rule #1 already uses 'x'"], id="duplicate-id"),
    pytest.param(rule("Child_Violence", categories='["other"]'), ["rule #1 'Child_Violence'", "id", "kebab-case"],
                 id="id-not-kebab-case"),
    pytest.param(rule("x", categorys='["other"]'),
                 ["rule #1 'x'", "categorys: unknown key (did you mean 'categories'?)"], id="unknown-key"),
    pytest.param(rule("x", target_groups="[]"), ["rule #1 'x'", "target_groups: empty list"], id="empty-list"),
    pytest.param(rule("x", categories='"other"'), ["rule #1 'x'", "categories: must be a list"], id="not-a-list"),
    pytest.param(rule("x", agency_type="disability_service_center", categories='["other"]', needs_place="true"),
                 ["rule #1 'x'", "needs_place", "only residential agencies"], id="place-at-non-residential"),
]


@pytest.mark.parametrize(("rules", "expected"), BROKEN)
def test_a_broken_rule_is_refused_naming_the_file_rule_and_field(tmp_path: Path, rules: str,
                                                                 expected: list[str]) -> None:
    path = tmp_path / "agency_rules.toml"
    path.write_text(f'version = "1"\n{rules}{CATCH_ALL}', "utf-8")
    with pytest.raises(RulesError) as refused:
        load_rules(path)
    assert len(refused.value.errors) == 1, refused.value.errors
    message = str(refused.value)
    assert message.startswith(f"{path}: ")
    for fragment in expected:
        assert fragment in message


V1 = 'version = "1"\n'
OTHER = '["other"]'


@pytest.mark.parametrize(("text", "expected"), [
    pytest.param(V1 + rule("x", categories=OTHER), ["rule #1 'x'", "the last rule must be a catch-all"],
                 id="no-catch-all"),
    pytest.param(V1 + CATCH_ALL + rule("late", categories=OTHER),
                 ["rule #2 'late'", "unreachable: it comes after the catch-all rule #1 'the-rest'"],
                 id="rule-after-catch-all"),
    pytest.param(V1 + rule("anything", agency_type="older_persons_center"),
                 ["rule #1 'anything'", "agency_type: the catch-all must send the rest to provincial_office"],
                 id="catch-all-not-provincial-office"),
    pytest.param(V1 + rule("all-violence", categories='["domestic_violence"]')
                 + rule("child-violence", categories='["domestic_violence"]', target_groups='["child"]') + CATCH_ALL,
                 ["rule #2 'child-violence'", "unreachable: every case it matches is taken by rule #1 'all-violence'"],
                 id="shadowed-by-an-earlier-rule"),
    pytest.param(V1 + rule("north", categories=OTHER, provinces='["57"]')
                 + rule("south", categories=OTHER, provinces='["90"]')
                 + rule("both", categories=OTHER, provinces='["57", "90"]') + CATCH_ALL,
                 ["rule #3 'both'", "unreachable", "rule #1 'north', rule #2 'south'"],
                 id="shadowed-by-province-rules"),
    pytest.param(CATCH_ALL, ["version: required"], id="no-version"),
    pytest.param(V1, ["no rules"], id="no-rules"),
    pytest.param(V1 + "rules = []\n" + CATCH_ALL, ["unknown top-level key 'rules'"], id="unknown-top-key"),
    pytest.param(V1 + CATCH_ALL + '\n[[rule]]\nid = "x"\nagency_type = shelter\n',
                 ["TOML syntax error", "line 8"], id="toml-syntax"),
])
def test_a_broken_rule_list_is_refused_with_the_reason(tmp_path: Path, text: str, expected: list[str]) -> None:
    path = tmp_path / "rules.toml"
    path.write_text(text, "utf-8")
    with pytest.raises(RulesError) as refused:
        load_rules(path)
    message = str(refused.value)
    assert message.startswith(str(path))
    for fragment in expected:
        assert fragment in message, message


def test_every_problem_in_a_file_is_reported_at_once_one_per_line(tmp_path: Path) -> None:
    path = tmp_path / "rules.toml"
    path.write_text('version = "2"\n'
                    + rule("a", categories='["domestic_violance"]', target_groups='["kids"]')
                    + rule("a", agency_type="shelter", provinces='["570"]')
                    + rule("fine", categories='["other"]'), "utf-8")
    with pytest.raises(RulesError) as refused:
        load_rules(path)
    errors = refused.value.errors
    assert str(refused.value).splitlines() == list(errors)
    assert all(e.startswith(f"{path}: ") for e in errors)
    assert [e.split(": ")[1:3] for e in errors] == [
        ["rule #1 'a'", "categories"], ["rule #1 'a'", "target_groups"],
        ["rule #2 'a'", "id"], ["rule #2 'a'", "provinces"], ["rule #2 'a'", "agency_type"],
        ["rule #3 'fine'", "the last rule must be a catch-all (no categories, target_groups or provinces) sending "
                           "the rest to provincial_office"]]


def test_an_unreadable_rules_file_is_a_rules_error(tmp_path: Path) -> None:
    with pytest.raises(RulesError, match="cannot read the rules file"):
        load_rules(tmp_path / "missing.toml")


# ── Agency choice ────────────────────────────────────────────────────────────────────────────────────────────────

SHELTER = AgencyType.children_family_shelter
SAN_KLANG = gazetteer().tambon("570511")  # ต.สันกลาง อ.พาน จ.เชียงราย
assert SAN_KLANG is not None
PROVINCE_TH = {"57": "เชียงราย", "56": "พะเยา", "52": "ลำปาง", "50": "เชียงใหม่", "90": "สงขลา"}
NAMES_TH = {SHELTER: "บ้านพักเด็กและครอบครัวจังหวัด", AgencyType.provincial_office: "สำนักงานพัฒนาสังคมฯ จังหวัด",
            AgencyType.destitute_protection_center: "ศูนย์คุ้มครองคนไร้ที่พึ่งจังหวัด",
            AgencyType.disability_service_center: "ศูนย์บริการคนพิการจังหวัด"}


def agency(agency_type: AgencyType, province: str, *, free: int | None = None, capacity: int | None = 30,
           area: tuple[str, ...] = (), status: Literal["active", "closed"] = "active",
           agency_id: uuid.UUID | None = None) -> AgencyRecord:
    seat = next(p for p in gazetteer().provinces_list() if p.code == province)
    return AgencyRecord(agency_id=agency_id or uuid.uuid4(), agency_type=agency_type,
                        name_th=NAMES_TH[agency_type] + PROVINCE_TH[province], province_code=province,
                        area_province_codes=list(area), lat=seat.lat, lon=seat.lon, capacity=capacity,
                        free_places=free, status=status)


def choose(index: AgencyIndex, agency_type: AgencyType, *, needs_place: bool) -> AgencyChoice | None:
    """The choice for a person at San Klang, Phan district, Chiang Rai."""
    assert SAN_KLANG is not None
    return choose_agency(index, agency_type, province_code="57", lat=SAN_KLANG.lat, lon=SAN_KLANG.lon,
                         needs_place=needs_place)


def index_of(*agencies: AgencyRecord) -> AgencyIndex:
    index = AgencyIndex()
    for a in agencies:
        index.apply(str(a.agency_id), a)
    return index


def test_the_own_provinces_shelter_with_free_places_takes_the_case() -> None:
    own = agency(SHELTER, "57", free=4)
    choice = choose(index_of(own, agency(SHELTER, "56", free=10)), SHELTER, needs_place=True)
    assert choice is not None and choice.agency == own and choice.rule == "shelter_with_free_places"
    assert "4 free of 30" in choice.explanation and 0 < choice.distance_km < 80


def test_a_full_shelter_sends_the_case_to_the_nearest_one_with_free_places_elsewhere() -> None:
    own, phayao, lampang = agency(SHELTER, "57", free=0), agency(SHELTER, "56", free=2), agency(SHELTER, "52", free=9)
    choice = choose(index_of(lampang, own, phayao, agency(SHELTER, "50", free=0)), SHELTER, needs_place=True)
    assert choice is not None and choice.agency == phayao and choice.rule == "shelter_in_other_province"
    assert choice.explanation.startswith("Chiang Rai's children and family shelter is full (0 free of 30); "
                                         "nearest with free places: Phayao's children and family shelter, ")
    assert f"{choice.distance_km:.1f} km" in choice.explanation


def test_with_no_free_place_anywhere_the_own_full_shelter_keeps_the_case() -> None:
    own = agency(SHELTER, "57", free=0)
    choice = choose(index_of(own, agency(SHELTER, "56", free=0), agency(SHELTER, "52", free=None)), SHELTER,
                           needs_place=True)
    assert choice is not None and choice.agency == own and choice.rule == "shelter_full_no_alternative"
    assert "no other active children and family shelter reports free places" in choice.explanation


def test_unreported_free_places_are_asked_before_sending_the_person_to_another_province() -> None:
    own, full = agency(SHELTER, "57", free=None), agency(SHELTER, "57", free=0, area=("56",))
    choice = choose(index_of(full, own, agency(SHELTER, "56", free=5)), SHELTER, needs_place=True)
    assert choice is not None and choice.agency == own and choice.rule == "shelter_places_unknown"


def test_without_a_place_needed_the_nearest_covering_agency_takes_it_whatever_its_places() -> None:
    own = agency(SHELTER, "57", free=0)
    choice = choose(index_of(own, agency(SHELTER, "56", free=5)), SHELTER, needs_place=False)
    assert choice is not None and choice.agency == own and choice.rule == "covers_province"


def test_a_place_is_not_looked_for_at_a_non_residential_agency() -> None:
    own = agency(AgencyType.disability_service_center, "57", free=0)
    choice = choose(index_of(own), AgencyType.disability_service_center, needs_place=True)
    assert choice is not None and choice.agency == own and choice.rule == "covers_province"


def test_with_no_agency_of_the_type_the_provincial_office_takes_the_case_and_says_why() -> None:
    office = agency(AgencyType.provincial_office, "57")
    choice = choose(index_of(office, agency(SHELTER, "56", free=3)), SHELTER, needs_place=True)
    assert choice is not None and choice.agency == office and choice.rule == "provincial_office_fallback"
    assert choice.explanation.startswith("No active children and family shelter covers Chiang Rai; Chiang Rai's "
                                         "provincial social development office takes the case")
    assert choose(index_of(agency(AgencyType.provincial_office, "90")), SHELTER, needs_place=False) is None


def test_an_agency_covers_the_provinces_of_its_area() -> None:
    north = agency(AgencyType.destitute_protection_center, "52", area=("52", "56", "57"), free=3)
    choice = choose(index_of(north), AgencyType.destitute_protection_center, needs_place=True)
    assert choice is not None and choice.agency == north and choice.rule == "shelter_with_free_places"
    assert choice.explanation.startswith("Lampang's protection centre for the destitute covers Chiang Rai")
    assert choice.distance_km > 50
    assert choose_agency(index_of(north), AgencyType.destitute_protection_center, province_code="90", lat=7.0,
                         lon=100.5, needs_place=False) is None


def test_of_several_covering_agencies_the_nearest_wins_and_ties_go_to_the_lower_id() -> None:
    low, high = uuid.UUID(int=1), uuid.UUID(int=2)
    near, far = agency(SHELTER, "57", agency_id=high), agency(SHELTER, "52", area=("57",))
    twin = agency(SHELTER, "57", agency_id=low)
    assert choose(index_of(far, near), SHELTER, needs_place=False).agency == near  # type: ignore[union-attr]
    assert choose(index_of(near, twin), SHELTER, needs_place=False).agency == twin  # type: ignore[union-attr]


def test_a_tombstone_or_closure_removes_an_agency_and_a_new_area_replaces_the_old() -> None:
    own, office = agency(SHELTER, "57", free=3), agency(AgencyType.provincial_office, "57")
    index = index_of(own, office)
    index.apply(str(own.agency_id), own.model_copy(update={"status": "closed"}))
    assert choose(index, SHELTER, needs_place=True).rule == "provincial_office_fallback"  # type: ignore[union-attr]
    index.apply(str(own.agency_id), own)
    assert choose(index, SHELTER, needs_place=True).agency == own  # type: ignore[union-attr]
    index.apply(str(own.agency_id), None)
    assert str(own.agency_id) not in index.agencies
    assert choose(index, SHELTER, needs_place=True).rule == "provincial_office_fallback"  # type: ignore[union-attr]
    lampang = agency(SHELTER, "52", area=("57",))
    index.apply(str(lampang.agency_id), lampang)
    assert index.covering(SHELTER, "57") == [lampang]
    index.apply(str(lampang.agency_id), lampang.model_copy(update={"area_province_codes": ["56"]}))
    assert index.covering(SHELTER, "57") == [] and index.covering(SHELTER, "56") != []
