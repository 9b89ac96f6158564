"""Registered population of each province (DOPA, 31 December 2019), e.g. to weight synthetic cases by where people live.

Data: `data/population.csv`; its provenance is in `data/SOURCE.md`.
"""

from __future__ import annotations

import csv
from functools import cache
from importlib import resources


def population() -> dict[str, int]:
    """Registered population by province code ("10" → 5,666,264 for Bangkok), all 77 provinces.

    A fresh dict on every call (77 entries): the file is read once, and no caller can change another's figures.
    """
    return dict(_figures())


@cache
def _figures() -> tuple[tuple[str, int], ...]:
    text = resources.files("hotline_gazetteer").joinpath("data/population.csv").read_text("utf-8")
    return tuple((r["province_code"], int(r["population"])) for r in csv.DictReader(text.splitlines()))
