"""Is a new report perhaps the same incident as an earlier one? A call and a LINE message about the same child in
the same sub-district within hours often are. Intake only *suggests* (the operator decides): a wrong merge would
hide a second person in danger, so nothing is ever merged silently.

Pure: a report is reduced to what it says about place, time and people (no personal data), and scored.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar

from hotline_gazetteer import haversine_km

WINDOW = timedelta(hours=6)  # "within hours"
NEAR_KM = 3.0  # two positions this close are one place (a LINE location and a village named on the phone)
THRESHOLD = 0.6
K = TypeVar("K")


@dataclass(frozen=True)
class Sighting:
    """What a report says about where, when and who."""

    tambon_code: str | None
    lat: float | None
    lon: float | None
    at: datetime
    category: str
    target_group: str
    channel: str
    caller_key: bytes | None = None


def same_place(a: Sighting, b: Sighting) -> bool:
    if a.tambon_code and b.tambon_code and a.tambon_code == b.tambon_code:
        return True
    if a.lat is None or a.lon is None or b.lat is None or b.lon is None:
        return False
    return haversine_km(a.lat, a.lon, b.lat, b.lon) <= NEAR_KM


def score(new: Sighting, earlier: Sighting) -> float:
    """0 (unrelated) … 1 (very likely the same incident). The same place and window are required; then the same
    people affected, the same kind of problem, another channel and closeness in time add up. The same caller
    again is not a duplicate incident but a repeat caller (linked separately)."""
    gap = abs(new.at - earlier.at)
    if gap > WINDOW or not same_place(new, earlier):
        return 0.0
    if new.caller_key is not None and new.caller_key == earlier.caller_key:
        return 0.0
    s = 0.3
    s += 0.3 if new.target_group == earlier.target_group else 0.0
    s += 0.2 if new.category == earlier.category else 0.0
    s += 0.1 if new.channel != earlier.channel else 0.0
    s += 0.1 * (1 - gap / WINDOW)
    return round(min(s, 1.0), 3)


def suggestions(new: Sighting, earlier: Sequence[tuple[K, Sighting]], *, limit: int = 5) -> list[tuple[K, float]]:
    """The earlier reports worth showing to the operator, likeliest first."""
    scored = [(key, score(new, s)) for key, s in earlier]
    return sorted([(k, v) for k, v in scored if v >= THRESHOLD], key=lambda kv: -kv[1])[:limit]
