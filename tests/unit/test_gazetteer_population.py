"""The provinces' registered population (DOPA, 31 December 2019) shipped with the gazetteer, and its loader."""

from __future__ import annotations

import csv
from importlib import resources

from hotline_gazetteer import gazetteer, population

BANGKOK = "10"
# DOPA's national total of registered population on 31 December 2019, as the source states it
# (Ahoerstemeier/tambon AHTambonData/Population/DOPA2019.xml, see data/SOURCE.md): the 77 provinces add up to it.
DOPA_NATIONAL_TOTAL_2019 = 66_558_935


def raw() -> bytes:
    return resources.files("hotline_gazetteer").joinpath("data/population.csv").read_bytes()


def rows() -> list[dict[str, str]]:
    return list(csv.DictReader(raw().decode("utf-8").splitlines()))


def test_every_gazetteer_province_has_exactly_one_row() -> None:
    codes = [r["province_code"] for r in rows()]
    assert len(codes) == len(set(codes)) == 77
    assert set(population()) == {p.code for p in gazetteer().provinces_list()}


def test_each_row_names_the_gazetteer_province_of_its_code() -> None:
    for r in rows():
        province = gazetteer().province(r["province_code"])
        assert province is not None and province.name_th == r["province_name_th"], r


def test_every_province_is_populated() -> None:
    assert all(n > 0 for n in population().values())
    # The smallest province (Samut Songkhram) has some 190,000; a dropped digit would show here.
    assert min(population().values()) > 150_000


def test_bangkok_is_the_most_populous() -> None:
    pop = population()
    assert max(pop, key=lambda code: pop[code]) == BANGKOK
    assert pop[BANGKOK] == 5_666_264


def test_the_provinces_add_up_to_the_national_total_the_source_states() -> None:
    assert sum(population().values()) == DOPA_NATIONAL_TOTAL_2019


def test_one_reference_year() -> None:
    assert {r["year"] for r in rows()} == {"2019"}


def test_file_is_utf8_with_unix_line_endings_and_no_bom() -> None:
    data = raw()
    assert not data.startswith(b"\xef\xbb\xbf")
    assert b"\r" not in data
    assert data.endswith(b"\n")
    assert data.decode("utf-8").splitlines()[0] == "province_code,province_name_th,population,year"


def test_a_caller_changing_its_figures_changes_nobody_elses() -> None:
    mine = population()
    mine[BANGKOK] = 0
    assert population()[BANGKOK] == 5_666_264
