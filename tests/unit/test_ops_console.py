"""The ops console's pure parts: resuming the live stream from an event id, per-topic rates, the urgent list's rows,
lag per group and topic, the map of Thailand from the gazetteer's points, and the page's labels and wiring."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiokafka import ConsumerRecord

from hotline_common import topics
from hotline_common.events import CaseReported, CenterRecord, Location
from hotline_common.lag import PartitionLag
from hotline_common.stream import EventView, event_type_of, view_of
from hotline_devstack.platform import Platform
from hotline_devstack.services import SERVICES, service_env
from hotline_gazetteer import gazetteer
from hotline_ops import geo
from hotline_ops.centers import CenterNames
from hotline_ops.config import OpsSettings
from hotline_ops.console import event_types, page_context
from hotline_ops.live import LiveTail, TopicRates, record_id
from hotline_ops.samples import by_group_and_topic
from hotline_ops.urgent import STAGE, stage_of, waiting_case

NOW = datetime(2026, 11, 24, 3, 0, tzinfo=UTC)


def record(topic: str, offset: int, body: dict[str, Any] | None = None, partition: int = 0) -> ConsumerRecord[
        bytes, bytes]:
    value = json.dumps(body or {"case_id": str(uuid.uuid4()), "case_number": f"1300-2569-{offset:06d}"}).encode()
    return ConsumerRecord(topic=topic, partition=partition, offset=offset, timestamp=1_700_000_000_000,
                          timestamp_type=0, key=b"k", value=value, checksum=None, serialized_key_size=1,
                          serialized_value_size=len(value), headers=[])


def tail(keep: int = 5, client_queue: int = 100) -> LiveTail[EventView]:
    return LiveTail("127.0.0.1:1", topics=r"^hotline\..*", decode=view_of, keep=keep, client_queue=client_queue,
                    rate_window=60)


def drain(queue: asyncio.Queue[Any]) -> list[Any]:
    out = []
    while not queue.empty():
        out.append(queue.get_nowait())
    return out


# -- resuming the live stream ------------------------------------------------------------------------------------
def test_a_stream_resumes_after_its_last_event_id_with_nothing_lost_or_repeated() -> None:
    live = tail(keep=10)
    for offset in range(4):
        live.hear(record("hotline.case.reported.v1", offset))
    with live.follow(record_id("hotline.case.reported.v1", 0, 1)) as follower:
        assert not follower.gap
        assert [h.id for h in follower.backlog] == ["hotline.case.reported.v1/0/2", "hotline.case.reported.v1/0/3"]
        live.hear(record("hotline.case.routed.v1", 7, partition=2))
        assert [h.id for h in drain(follower.queue)] == ["hotline.case.routed.v1/2/7"]
    assert not live.followers  # a closed stream is let go


def test_a_fresh_stream_gets_the_recent_events_to_choose_from_and_then_the_new_ones() -> None:
    live = tail()
    live.hear(record("hotline.case.reported.v1", 0))
    with live.follow(None) as follower:
        assert [h.id for h in follower.backlog] == ["hotline.case.reported.v1/0/0"] and not follower.gap
        live.hear(record("hotline.case.reported.v1", 1))
        assert [h.view.offset for h in drain(follower.queue)] == [1]


def test_an_id_older_than_the_recent_events_is_a_gap_with_everything_still_held() -> None:
    live = tail(keep=3)
    for offset in range(6):
        live.hear(record("hotline.case.reported.v1", offset))
    with live.follow(record_id("hotline.case.reported.v1", 0, 1)) as follower:
        assert follower.gap
        assert [h.view.offset for h in follower.backlog] == [3, 4, 5]
    # Evicted ids are forgotten with their events: the index never grows past what is kept.
    assert len(live._ids) == 3


def test_a_client_too_slow_for_its_queue_is_ended_to_resume_rather_than_blocking_the_tail() -> None:
    live = tail(keep=100, client_queue=2)
    with live.follow(None) as slow:
        for offset in range(5):
            live.hear(record("hotline.case.reported.v1", offset))
        assert slow.overflowed
        assert drain(slow.queue) == [None]  # its stream ends; it comes back with Last-Event-ID
        assert len(live.recent) == 5  # and finds everything still there


# -- rates -------------------------------------------------------------------------------------------------------
def test_rates_count_the_last_window_per_topic_and_forget_older_seconds() -> None:
    clock = [1000.0]
    rates = TopicRates(window=10, clock=lambda: clock[0])
    rates.topic_seen("hotline.case.resolved.v1")
    for _ in range(20):
        rates.count("hotline.case.reported.v1")
    clock[0] += 5
    rates.count("hotline.case.reported.v1", 10)
    assert rates.per_second() == {"hotline.case.reported.v1": 3.0, "hotline.case.resolved.v1": 0.0}
    clock[0] += 6  # the first second has left the window
    assert rates.per_second()["hotline.case.reported.v1"] == 1.0
    assert rates.totals["hotline.case.reported.v1"] == 30


# -- the urgent list ---------------------------------------------------------------------------------------------
def waiting_row(**overrides: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "case_id": uuid.uuid4(), "case_number": "1300-2569-000001", "priority": "P1",
        "ack_deadline": NOW + timedelta(minutes=15), "reported_at": NOW, "routed_at": NOW, "channel": "hotline",
        "category": "domestic_violence", "province_code": "57", "center_name_th": "ศูนย์ช่วยเหลือสังคมตำบลสันกลาง",
        "agency_name_th": None, "declined_at": None, "escalation_level": None, "unroutable_at": None}
    row.update(overrides)
    return row


def test_time_left_and_breach_are_counted_from_the_deadline() -> None:
    fresh = waiting_case(waiting_row(), NOW + timedelta(minutes=5))
    assert (fresh.seconds_left, fresh.breached, fresh.stage) == (600, False, "waiting")
    assert fresh.province_th == "เชียงราย"
    late = waiting_case(waiting_row(), NOW + timedelta(minutes=16))
    assert (late.seconds_left, late.breached) == (-60, True)


@pytest.mark.parametrize(("overrides", "stage"), [
    ({"routed_at": None, "ack_deadline": None}, "not_routed"),
    ({"routed_at": None, "ack_deadline": None, "unroutable_at": NOW}, "unroutable"),
    ({"declined_at": NOW}, "declined"),
    ({"escalation_level": 2}, "escalated"),
    ({}, "waiting"),
])
def test_the_stage_says_where_a_waiting_case_is_stuck(overrides: dict[str, Any], stage: str) -> None:
    assert stage_of(waiting_row(**overrides)) == stage
    assert stage in STAGE and all(STAGE[stage])  # labelled in Thai and English
    assert waiting_case(waiting_row(**overrides), NOW).breached is False


# -- lag ---------------------------------------------------------------------------------------------------------
def test_lag_is_summed_per_group_and_topic_the_largest_first() -> None:
    rows = by_group_and_topic([
        PartitionLag("hotline-routing", "hotline.case.reported.v1", 0, committed=5, end=9),
        PartitionLag("hotline-routing", "hotline.case.reported.v1", 1, committed=None, end=2),
        PartitionLag("hotline-intake", "hotline.case.routed.v1", 0, committed=3, end=3),
    ])
    assert [(r.group, r.topic, r.lag, r.partitions) for r in rows] == [
        ("hotline-routing", "hotline.case.reported.v1", 6, 2), ("hotline-intake", "hotline.case.routed.v1", 0, 1)]


# -- the map -----------------------------------------------------------------------------------------------------
def test_the_map_has_every_province_inside_its_frame() -> None:
    thailand = geo.thailand()
    assert len(thailand.provinces) == 77
    for province in thailand.provinces:
        assert 0 < province.x < thailand.width and 0 < province.y < thailand.height
        assert province.outline.startswith("M") and province.outline.endswith("Z")
    by_code = {p.code: p for p in thailand.provinces}
    # North is up and east is right: Chiang Rai above Bangkok, Ubon Ratchathani east of it, Narathiwat below.
    assert by_code["57"].y < by_code["10"].y < by_code["96"].y
    assert by_code["34"].x > by_code["10"].x


def test_the_convex_hull_keeps_the_outer_points_only() -> None:
    square = [(0.0, 0.0), (2.0, 0.0), (2.0, 2.0), (0.0, 2.0), (1.0, 1.0), (1.0, 0.0)]
    assert sorted(geo.convex_hull(square)) == [(0.0, 0.0), (0.0, 2.0), (2.0, 0.0), (2.0, 2.0)]


def test_a_case_is_placed_in_its_province_by_code_or_by_position_and_not_by_free_text() -> None:
    assert geo.tambon_of(Location(tambon_code="570511")) == "570511"
    assert geo.province_of("570511") == "57"
    lampi = gazetteer().tambon("820805")
    assert lampi is not None
    assert geo.province_of(geo.tambon_of(Location(lat=lampi.lat, lon=lampi.lon))) == "82"
    assert geo.tambon_of(Location(text="ต.สันกลาง อ.พาน จ.เชียงราย")) is None  # routing resolves it later
    assert geo.tambon_of(Location(tambon_code="999999")) is None
    assert geo.province_of(None) is None


# -- labels, names, wiring ---------------------------------------------------------------------------------------
def test_every_streamed_event_type_has_a_thai_and_an_english_label() -> None:
    labelled = event_types()
    for spec in topics.CATALOGUE:
        if spec.name.startswith("hotline."):
            kind = event_type_of(spec.name)
            th, en = labelled[kind]
            assert th != kind and en, f"{kind} has no label"
    context = page_context()
    assert len(context["provinces"]) == 77
    assert context["labels"]["province"]["57"] == ("เชียงราย", "Chiang Rai")


def center(tambon_code: str, name_th: str) -> CenterRecord:
    t = gazetteer().tambon(tambon_code)
    assert t is not None
    return CenterRecord(center_id=uuid.uuid4(), name_th=name_th, tambon_code=t.code, amphoe_code=t.amphoe_code,
                        province_code=t.province_code, lat=t.lat, lon=t.lon)


def test_a_center_filter_takes_an_id_or_part_of_a_name() -> None:
    names = CenterNames()
    san_klang = center("570511", "ศูนย์ช่วยเหลือสังคมตำบลสันกลาง")
    palace = center("100101", "ศูนย์ช่วยเหลือสังคมแขวงพระบรมมหาราชวัง")
    for record_ in (san_klang, palace):
        names.apply(str(record_.center_id), record_)
    assert names.matching("สันกลาง") == {str(san_klang.center_id)}
    assert names.matching(str(palace.center_id).upper()) == {str(palace.center_id)}
    assert names.matching("ไม่มีศูนย์นี้") == set()
    names.apply(str(san_klang.center_id), None)  # a tombstone: the center is gone
    assert names.name_of(str(san_klang.center_id)) is None
    assert names.matching("สันกลาง") == set()


def test_the_ops_console_is_a_platform_service_on_base_port_plus_four() -> None:
    assert ("ops", 8004) in SERVICES
    assert [name for name, _ in SERVICES].index("ops") > [name for name, _ in SERVICES].index("notify")
    platform = Platform(kafka_bootstrap="k:9092", admin_url="postgresql://postgres@h:5432/db", log_dir=Path("/tmp"),
                        base_port=28000)
    assert platform.port("ops") == 28004
    assert platform.env_for("ops")["OPS_REGISTRY_URL"] == platform.url("registry")
    env = service_env("ops", 5432, "127.0.0.1:9092", base_port=18000)
    assert env["OPS_PORT"] == "18004" and env["DATABASE_URL"].startswith("postgresql://ops:ops@")
    assert OpsSettings.model_fields["port"].default == 8004


def test_a_reported_case_is_shown_without_personal_data() -> None:
    case = CaseReported(case_id=uuid.uuid4(), case_number="1300-2569-000123", channel="hotline",
                        category="domestic_violence", target_group="woman", urgency="P1",
                        description="สมศรีถูกสามีทำร้าย บ้านเลขที่ 12 โทร 0812345678",
                        location=Location(tambon_code="570511", text="บ้านเลขที่ 12 ซอย 3"))
    live = tail()
    live.hear(record("hotline.case.reported.v1", 0, json.loads(case.model_dump_json())))
    shown = json.dumps(live.recent[0].view.as_dict(), ensure_ascii=False)
    assert "1300-2569-000123" in shown and '"province": "57"' in shown and '"priority": "P1"' in shown
    for personal in ("สมศรี", "0812345678", "บ้านเลขที่", "ซอย"):
        assert personal not in shown
