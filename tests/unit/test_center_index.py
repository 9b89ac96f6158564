"""The center index answers exactly what a scan of every active center answers, through live registry updates."""

from __future__ import annotations

import heapq
import random
import uuid
from collections.abc import Collection

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hotline_common.events import CenterRecord
from hotline_gazetteer import gazetteer, haversine_km
from hotline_routing.index import KMAX, CenterIndex

AMPHOES = ("1001", "1002", "5701", "5702")
# A coarse lattice makes exact duplicates and exact ties (points mirrored about the query's meridian or parallel).
LATTICE = st.tuples(st.integers(20, 84).map(lambda i: i / 4), st.integers(384, 432).map(lambda j: j / 4))
AROUND_THAILAND = st.tuples(st.floats(3, 23), st.floats(95, 108))
ANYWHERE = st.tuples(st.floats(-90, 90), st.floats(-180, 180))
Answer = list[tuple[str, float]]


def record(n: int, point: tuple[float, float], amphoe: str = "5701", status: str = "active") -> CenterRecord:
    return CenterRecord(center_id=uuid.UUID(int=n), name_th=f"ศูนย์ {n}", tambon_code=f"{amphoe}01",
                        amphoe_code=amphoe, province_code=amphoe[:2], lat=point[0], lon=point[1],
                        status=status)  # type: ignore[arg-type]


def scan(centers: Collection[CenterRecord], lat: float, lon: float, *, k: int = 1, amphoe_code: str | None = None,
         province_code: str | None = None, exclude: Collection[uuid.UUID] = ()) -> Answer:
    """Every active center, sorted by (haversine, center id): the answer the index must give."""
    ranked = sorted((haversine_km(lat, lon, c.lat, c.lon), str(c.center_id)) for c in centers
                    if c.status == "active" and c.center_id not in exclude
                    and amphoe_code in (None, c.amphoe_code) and province_code in (None, c.province_code))
    return [(cid, d) for d, cid in ranked[:k]]


def ask(index: CenterIndex, lat: float, lon: float, **options: object) -> Answer:
    found = index.nearest(lat, lon, **options)  # type: ignore[arg-type]
    for center, _ in found:  # the current record, not a stale copy (keys are center ids here)
        assert center is index.centers[str(center.center_id)]
    return [(str(c.center_id), d) for c, d in found]


def index_of(*centers: CenterRecord, rebuild_after: int | None = None) -> CenterIndex:
    index = CenterIndex(rebuild_after=rebuild_after)
    for c in centers:
        index.apply(str(c.center_id), c)
    return index


center_draws = st.lists(st.tuples(st.one_of(LATTICE, AROUND_THAILAND), st.sampled_from(AMPHOES),
                                  st.sampled_from(["active", "active", "active", "suspended", "closed"])),
                        min_size=0, max_size=40)
query_draws = st.one_of(LATTICE, AROUND_THAILAND, LATTICE, AROUND_THAILAND, ANYWHERE)
# An update: (which center, new point or None to keep it, new status or None for a tombstone).
# Small ids first, so updates mostly hit existing centers (including ones added since the last table build).
update_draws = st.tuples(st.one_of(st.integers(0, 6), st.integers(0, 50)),
                         st.one_of(st.none(), LATTICE, AROUND_THAILAND),
                         st.sampled_from(["active", "suspended", "closed", None]))


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(draws=center_draws, steps=st.lists(st.tuples(update_draws, query_draws, st.integers(1, KMAX + 2),
                                                    st.sets(st.integers(0, 50), max_size=4),
                                                    st.sampled_from([None, *AMPHOES, "10", "57"]), st.booleans()),
                                          min_size=1, max_size=12),
       rebuild_after=st.sampled_from([None, 0, 3, 10**9]), prebuilt=st.sampled_from([True, True, False]))
def test_nearest_equals_a_scan_of_every_active_center_through_updates(
        draws: list[tuple[tuple[float, float], str, str]],
        steps: list[tuple[tuple[int, tuple[float, float] | None, str | None], tuple[float, float], int, set[int],
                          str | None, bool]],
        rebuild_after: int | None, prebuilt: bool) -> None:
    centers = {n: record(n, point, amphoe, status) for n, (point, amphoe, status) in enumerate(draws)}
    index = index_of(*centers.values(), rebuild_after=rebuild_after)
    if prebuilt:
        index.rebuild()  # the table then absorbs the updates below until it is due again
    for (which, point, status), query, k, excluded, area, at_a_center in steps:
        old = centers.get(which)
        if status is None:
            centers.pop(which, None)
            index.apply(str(uuid.UUID(int=which)), None)
        else:
            moved = point if point is not None else (old.lat, old.lon) if old is not None else (13.75, 100.5)
            centers[which] = record(which, moved, old.amphoe_code if old else "5702", status)
            index.apply(str(uuid.UUID(int=which)), centers[which])
        lat, lon = query
        if at_a_center and centers:
            lat, lon = (c := list(centers.values())[k % len(centers)]).lat, c.lon
        exclude = {uuid.UUID(int=n) for n in excluded}
        where = {} if area is None else {"amphoe_code": area} if len(area) == 4 else {"province_code": area}
        assert ask(index, lat, lon, k=k, exclude=exclude, **where) == scan(
            centers.values(), lat, lon, k=k, exclude=exclude, **where)  # type: ignore[arg-type]
        assert ask(index, lat, lon) == scan(centers.values(), lat, lon)


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(base=st.tuples(st.sampled_from([0.0, 15.0, -33.5, 61.0, 79.0]), st.sampled_from([100.0, 179.5, -0.25])),
       offsets=st.lists(st.tuples(st.integers(-64, 64), st.integers(-64, 64)), min_size=1, max_size=60),
       queries=st.lists(st.tuples(st.one_of(st.integers(-96, 96).map(lambda i: i / 64), st.floats(-1.5, 1.5)),
                                  st.one_of(st.integers(-96, 96).map(lambda i: i / 64), st.floats(-1.5, 1.5))),
                        min_size=1, max_size=10),
       k=st.integers(1, KMAX + 1), excluded=st.sets(st.integers(0, 59), max_size=3),
       prebuilt=st.sampled_from([True, True, False]))
def test_dense_clusters_anywhere_on_earth_match_a_scan(base: tuple[float, float], offsets: list[tuple[int, int]],
                                                       queries: list[tuple[float, float]], k: int, excluded: set[int],
                                                       prebuilt: bool) -> None:
    """Many centers per table cell, on a fine lattice (ties, cell corners), at high latitudes and across 180."""
    def wrap(lon: float) -> float:
        return (lon + 180) % 360 - 180
    centers = [record(n, (base[0] + i / 64, wrap(base[1] + j / 64))) for n, (i, j) in enumerate(offsets)]
    index = index_of(*centers, rebuild_after=None if prebuilt else 10**9)
    if prebuilt:
        index.rebuild()
    exclude = {uuid.UUID(int=n) for n in excluded}
    for dlat, dlon in queries:
        lat, lon = base[0] + dlat, wrap(base[1] + dlon)
        assert ask(index, lat, lon, k=k, exclude=exclude) == scan(centers, lat, lon, k=k, exclude=exclude)
        assert ask(index, lat, lon) == scan(centers, lat, lon)


@pytest.fixture(scope="module")
def country() -> tuple[CenterIndex, dict[str, CenterRecord]]:
    """One center at every tambon centroid, as at demo scale."""
    records = [record(n, (t.lat, t.lon), t.amphoe_code).model_copy(update={"tambon_code": t.code})
               for n, t in enumerate(gazetteer().tambons)]
    index = index_of(*records)
    index.rebuild()
    return index, {str(c.center_id): c for c in records}


def test_country_scale_answers_equal_a_scan_of_every_center(country: tuple[CenterIndex, dict[str, CenterRecord]]
                                                            ) -> None:
    index, records = country
    points = [(c.lat, c.lon, str(c.center_id)) for c in records.values()]
    rng = random.Random(1300)
    tambons = gazetteer().tambons
    for i in range(300):
        if i % 3:
            lat, lon = rng.uniform(5.6, 20.5), rng.uniform(97.3, 105.7)
        else:
            t = rng.choice(tambons)
            lat, lon = t.lat + rng.uniform(-0.05, 0.05), t.lon + rng.uniform(-0.05, 0.05)
        if i % 50 == 0:  # far out at sea or abroad: beyond the table, the ring search
            lat, lon = rng.uniform(-60, 60), rng.uniform(60, 150)
        k, exclude = (1, []) if i % 2 else (3, [c.center_id for c, _ in index.nearest(lat, lon, k=i % 7)])
        skip = {str(u) for u in exclude}
        expected = heapq.nsmallest(k, ((haversine_km(lat, lon, p_lat, p_lon), cid) for p_lat, p_lon, cid in points
                                       if cid not in skip))
        assert ask(index, lat, lon, k=k, exclude=exclude) == [(cid, d) for d, cid in expected]


def test_closing_a_center_sends_the_next_query_to_the_next_nearest() -> None:
    near, next_, far = record(1, (18.0, 99.8)), record(2, (18.05, 99.8)), record(3, (18.5, 99.8))
    index = index_of(near, next_, far)
    index.rebuild()
    assert index.nearest_active(18.0, 99.8) == (near, 0.0)
    index.apply(str(near.center_id), near.model_copy(update={"status": "closed"}))
    assert ask(index, 18.0, 99.8, k=2) == [(str(next_.center_id), haversine_km(18.0, 99.8, 18.05, 99.8)),
                                           (str(far.center_id), haversine_km(18.0, 99.8, 18.5, 99.8))]
    index.apply(str(next_.center_id), next_.model_copy(update={"status": "suspended"}))
    assert [c for c, _ in index.nearest(18.0, 99.8)] == [far]


def test_a_tombstone_removes_a_center_and_reactivation_brings_it_back() -> None:
    near, far = record(1, (18.0, 99.8)), record(2, (18.5, 99.8))
    index = index_of(near, far)
    index.rebuild()
    index.apply(str(near.center_id), None)
    assert str(near.center_id) not in index.centers
    assert [c for c, _ in index.nearest(18.0, 99.8)] == [far]
    index.apply(str(near.center_id), near)
    assert [c for c, _ in index.nearest(18.0, 99.8)] == [near]


def test_country_scale_closure_is_seen_by_the_very_next_query(country: tuple[CenterIndex, dict[str, CenterRecord]]
                                                              ) -> None:
    index, _ = country
    t = gazetteer().tambon("570511")
    assert t is not None
    own = index.nearest(t.lat, t.lon, k=3)
    closing = own[0][0]
    index.apply(str(closing.center_id), closing.model_copy(update={"status": "closed"}))
    try:
        assert index.nearest(t.lat, t.lon, k=2) == own[1:]
        assert index.nearest(t.lat, t.lon, exclude=[own[1][0].center_id]) == own[2:]
    finally:
        index.apply(str(closing.center_id), closing)
    assert index.nearest(t.lat, t.lon, k=3) == own


def test_exclusions_walk_down_the_nearest_centers_one_by_one() -> None:
    centers = [record(n, (18.0 + n / 100, 99.8)) for n in range(1, 9)]
    index = index_of(*centers)
    index.rebuild()
    tried: list[uuid.UUID] = []
    for expected in centers:
        found = index.nearest(18.0, 99.8, exclude=tried)
        assert [c for c, _ in found] == [expected]
        tried.append(found[0][0].center_id)
    assert index.nearest(18.0, 99.8, exclude=tried) == []


def test_a_district_without_an_active_center_has_no_nearest() -> None:
    index = index_of(record(1, (18.0, 99.8), "5701", "closed"), record(2, (18.1, 99.8), "5702"))
    assert index.nearest(18.0, 99.8, amphoe_code="5701") == []
    assert [c.center_id for c, _ in index.nearest(18.0, 99.8, province_code="57")] == [uuid.UUID(int=2)]
    assert index.nearest(18.0, 99.8, amphoe_code="5702", province_code="10") == []
    assert index.nearest(18.0, 99.8, province_code="10") == []


def test_equal_distances_are_ranked_by_center_id() -> None:
    west, east = record(7, (15.0, 100.0)), record(3, (15.0, 101.0))
    index = index_of(west, east)
    assert [c for c, _ in index.nearest(15.0, 100.5, k=2)] == [east, west]


def test_renaming_a_center_keeps_its_place_and_returns_the_new_record() -> None:
    center = record(1, (18.0, 99.8))
    index = index_of(center)
    index.rebuild()
    renamed = center.model_copy(update={"name_th": "ศูนย์ใหม่"})
    index.apply(str(center.center_id), renamed)
    assert index.nearest_active(18.0, 99.8) == (renamed, 0.0)
    assert index.active_in_tambon("570101") == [renamed]


def test_active_in_tambon_lists_active_centers_by_id() -> None:
    a, b, closed = record(9, (18.0, 99.8)), record(2, (18.01, 99.8)), record(5, (18.02, 99.8), status="closed")
    index = index_of(a, b, closed)
    assert index.active_in_tambon("570101") == [b, a]
    assert index.active_in_tambon("570102") == []


def test_an_empty_index_and_far_away_points() -> None:
    assert CenterIndex().nearest(13.75, 100.5, k=3) == []
    assert CenterIndex().nearest_active(13.75, 100.5) is None
    index = index_of(record(1, (13.75, 100.5)))
    for lat, lon in [(-89.9, -179.9), (0.0, 0.0), (90.0, 180.0), (13.75, -79.5)]:
        assert ask(index, lat, lon) == [("00000000-0000-0000-0000-000000000001", haversine_km(lat, lon, 13.75, 100.5))]
