"""The in-memory center index, fed by the compacted `registry.center.v1` topic."""

from __future__ import annotations

from hotline_common.events import CenterRecord
from hotline_gazetteer import haversine_km


class CenterIndex:
    def __init__(self) -> None:
        self.centers: dict[str, CenterRecord] = {}
        self.by_tambon: dict[str, dict[str, CenterRecord]] = {}

    def apply(self, key: str, center: CenterRecord | None) -> None:
        """One registry record (None = deleted); a closed center stops receiving cases at once."""
        old = self.centers.pop(key, None)
        if old is not None:
            self.by_tambon.get(old.tambon_code, {}).pop(key, None)
        if center is not None:
            self.centers[key] = center
            self.by_tambon.setdefault(center.tambon_code, {})[key] = center

    def active_in_tambon(self, tambon_code: str) -> list[CenterRecord]:
        return [c for c in self.by_tambon.get(tambon_code, {}).values() if c.status == "active"]

    def nearest_active(self, lat: float, lon: float) -> tuple[CenterRecord, float] | None:
        best: tuple[CenterRecord, float] | None = None
        for c in self.centers.values():
            if c.status != "active":
                continue
            d = haversine_km(lat, lon, c.lat, c.lon)
            if best is None or d < best[1]:
                best = (c, d)
        return best
