"""The load generator's own logic (tools/load): the case mix it offers and how it judges a window. Its runs against
the platform are `make bench`; these check what its figures rest on."""

from __future__ import annotations

from collections import Counter

import pytest

from hotline_common.events import Category, Channel
from hotline_devstack.webhook_sink import Received
from hotline_gazetteer import gazetteer, population
from hotline_intake.cases import CaseIn
from hotline_load.drive import Offer, conversation
from hotline_load.kit import open_loop
from hotline_load.mix import CATEGORY_SHARES, DESCRIPTIONS, TARGETS, CaseMix, parse_shares, place_weights
from hotline_load.observe import Alerts, Tick
from hotline_load.run import Window, analyse, cpu_per_case, holds


def test_channel_shares_are_normalised_and_a_wrong_one_is_named() -> None:
    assert parse_shares("hotline=6,line=3,walk_in=1") == pytest.approx(
        {Channel.hotline: 0.6, Channel.line: 0.3, Channel.walk_in: 0.1})
    assert parse_shares("line=1") == {Channel.line: 1.0}
    with pytest.raises(ValueError, match="'fax=1'"):
        parse_shares("hotline=1,fax=1")
    with pytest.raises(ValueError, match="positive"):
        parse_shares("hotline=0")


def test_every_category_has_its_people_and_thai_words() -> None:
    assert set(CATEGORY_SHARES) == set(Category) == set(TARGETS) == set(DESCRIPTIONS)
    assert sum(CATEGORY_SHARES.values()) == pytest.approx(1.0)
    assert all(any("\u0e00" <= ch <= "\u0e7f" for ch in text) for texts in DESCRIPTIONS.values() for text in texts)


def test_the_same_seed_offers_the_same_cases_and_each_is_a_valid_report() -> None:
    shares = parse_shares("hotline=0.6,line=0.3,walk_in=0.1")
    first = [CaseMix(seed=7, channels=shares, population=population()).next() for _ in range(1)]
    a, b = CaseMix(seed=7, channels=shares), CaseMix(seed=7, channels=shares)
    cases = [a.next() for _ in range(2000)]
    assert [c.body for c in cases] == [b.next().body for _ in range(2000)]
    assert first[0].seq == 1 and [c.seq for c in cases[:3]] == [1, 2, 3]
    for case in cases[:300]:
        CaseIn.model_validate(case.body)  # what intake takes
    channels = Counter(c.channel for c in cases)
    assert 0.55 < channels[Channel.hotline] / 2000 < 0.65 and 0.05 < channels[Channel.walk_in] / 2000 < 0.15
    by_position = sum(1 for c in cases if "lat" in c.body["location"])
    assert 0.15 < by_position / 2000 < 0.25
    assert all(c.target_group in TARGETS[c.category] for c in cases)


def test_population_weighting_draws_bangkok_far_more_often_than_uniform_does() -> None:
    tambons = gazetteer().tambons
    figures = population()
    weights = place_weights(tambons, figures)
    assert weights is not None and place_weights(tambons, None) is None
    # The weights of a province's sub-districts add up to its population.
    bangkok = sum(w for t, w in zip(tambons, weights, strict=True) if t.province_code == "10")
    assert bangkok == pytest.approx(figures["10"])
    weighted = CaseMix(seed=1, places="population", population=figures)
    uniform = CaseMix(seed=1, places="uniform")
    share = {name: sum(1 for _ in range(4000) if mix.next().tambon.province_code == "10") / 4000
             for name, mix in (("weighted", weighted), ("uniform", uniform))}
    # Bangkok: 180 of 7,436 sub-districts (2.4 %), 5.7 of 66.6 million people (8.5 %).
    assert 0.015 < share["uniform"] < 0.035 and 0.07 < share["weighted"] < 0.10


def test_a_line_case_is_one_conversation_in_the_order_the_bot_asks() -> None:
    case = CaseMix(seed=3, channels={Channel.line: 1.0}).next()
    events = conversation("U" + "a" * 32, case)
    assert events[0]["message"]["text"] == case.body["description"]
    assert [e["postback"]["data"] for e in events[1:]] == [
        f"cat={case.category.value}", f"tg={case.target_group.value}", f"place={case.tambon.code}", "safe=done",
        "confirm=yes"]
    assert len({e["replyToken"] for e in events}) == 6 and len({e["webhookEventId"] for e in events}) == 6


class _Sink:
    def __init__(self, received: list[Received]) -> None:
        self.received = received

    def poll(self) -> list[Received]:
        out, self.received = self.received, []
        return out


def _alert(number: str, delivery: str, at: float) -> Received:
    return Received(delivery, {"case_number": number}, True, at=at)


def test_a_window_counts_lost_cases_and_duplicate_alerts_and_holds_only_without_them() -> None:
    offers = [Offer(1, Channel.hotline, 100.0, 100.05, "1300-2569-000001", 201),
              Offer(2, Channel.line, 100.1, 100.4, "1300-2569-000002", 200),
              Offer(3, Channel.hotline, 100.2, 100.25, "1300-2569-000003", 201)]
    alerts = Alerts(_Sink([_alert("1300-2569-000001", "d1", 100.35), _alert("1300-2569-000002", "d2", 100.9),
                           _alert("1300-2569-000002", "d2", 101.5)]))  # type: ignore[arg-type]
    alerts.update()
    w = analyse(Window("w", 10, 1.0), offers, alerts, [], 100.0, 110.0, 0.5)
    assert (w["accepted"], w["delivered"], w["lost"], w["duplicate_deliveries"]) == (3, 2, 1, 1)
    assert w["lost_case_numbers"] == ["1300-2569-000003"]
    assert w["e2e_ms_by_channel"]["hotline"]["p50"] == pytest.approx(300.0)
    assert w["e2e_ms_by_channel"]["line"]["p50"] == pytest.approx(500.0)
    assert not holds(w)
    alerts.by_case.pop("1300-2569-000002")
    alerts.by_case["1300-2569-000003"] = [_alert("1300-2569-000003", "d3", 100.5)]
    offers.pop(1)
    ok = analyse(Window("w", 10, 1.0), offers, alerts, [], 100.0, 110.0, 0.5)
    assert (ok["lost"], ok["duplicate_deliveries"]) == (0, 0) and holds(ok)
    slow = analyse(Window("w", 10, 1.0), [Offer(4, Channel.hotline, 100.0, 100.0, "1300-2569-000004", 201)],
                   _with(alerts, "1300-2569-000004", 101.2), [], 100.0, 110.0, 0.5)
    assert slow["e2e_ms"]["p99"] == pytest.approx(1200.0) and not holds(slow)


def test_cpu_per_case_sums_each_process_over_the_ticks_and_leaves_the_harness_out_of_the_platform() -> None:
    ticks = [Tick(float(i), 0, 0, 0, {}, {"intake": 50.0, "kafka": 20.0, "load generator": 90.0}, {})
             for i in range(10)]
    cost = cpu_per_case(ticks, 100)  # 10 s at half a core = 5 CPU-s over 100 cases
    assert cost["intake"] == pytest.approx(50.0) and cost["kafka"] == pytest.approx(20.0)
    assert cost["load generator"] == pytest.approx(90.0) and cost["platform"] == pytest.approx(70.0)
    assert cpu_per_case(ticks, 0) == {}


def _with(alerts: Alerts, number: str, at: float) -> Alerts:
    alerts.by_case[number] = [_alert(number, "d-" + number, at)]
    return alerts


async def test_the_open_loop_launches_rate_times_seconds_in_order_and_returns_every_result() -> None:
    launched: list[int] = []

    async def launch() -> int:
        launched.append(len(launched))
        return launched[-1] * 2

    results, late = await open_loop(400.0, 0.05, launch)
    assert launched == list(range(20)) and results == [2 * i for i in range(20)] and late >= 0
