"""The chaos suite's own logic (tools/load, `hotline-chaos`): how a scenario is judged from what was offered and
what the responders' webhook received, the summary table, and which scenarios `--only` picks. Its runs against the
platform are `make chaos`."""

from __future__ import annotations

import time

import httpx
import pytest

from hotline_common.events import Channel
from hotline_devstack.webhook_sink import Received, WebhookSink
from hotline_load.chaos import (
    ATTEMPTS_PER_CHANNEL,
    CHANNEL_TIMEOUT_S,
    RETRY_BASE_S,
    SCENARIOS,
    channel_phases,
    healthy_gap,
    parse_args,
    select,
)
from hotline_load.chaos_report import table, verdict
from hotline_load.drive import Offer
from hotline_load.observe import Alerts
from hotline_load.run import Window, analyse
from tests.unit.test_load import _Sink


def _alert(number: str, alert: str, delivery: str, at: float) -> Received:
    return Received(delivery, {"case_number": number, "alert_id": alert}, True, at=at)


def _judge(offers: list[Offer], received: list[Received], facts: dict[str, object] | None = None,
           error: str | None = None) -> dict[str, object]:
    alerts = Alerts(_Sink(received))  # type: ignore[arg-type]
    alerts.update()
    summary = analyse(Window("kill-notify", 30, 20.0), offers, alerts, [], 100.0, 130.0, 2.0)
    return verdict(summary, facts or {}, error)


def test_refused_offers_are_not_lost_but_accepted_unalerted_and_unanswered_line_cases_are() -> None:
    offers = [
        Offer(1, Channel.hotline, 100.0, 100.1, "1300-2569-000001", 201),
        Offer(2, Channel.hotline, 101.0, None, None, None, "ConnectError: connection refused"),  # intake down
        Offer(3, Channel.walk_in, 102.0, None, None, 503, "nothing was saved"),  # PostgreSQL down
        Offer(4, Channel.hotline, 103.0, 103.1, "1300-2569-000004", 201),  # accepted, never alerted
        Offer(5, Channel.line, 104.0, None, None, 200, line_user="U1"),  # kept by intake, never answered
        Offer(6, Channel.line, 105.0, 106.0, "1300-2569-000006", 200, line_user="U2"),
    ]
    v = _judge(offers, [_alert("1300-2569-000001", "a1", "d1", 100.6), _alert("1300-2569-000006", "a6", "d6", 109.0)])
    assert (v["offered"], v["accepted"], v["refused"], v["alerted"]) == (6, 3, 2, 2)
    assert (v["lost"], v["lost_unalerted"], v["lost_unanswered_line"]) == (2, 1, 1)
    assert v["lost_case_numbers"] == ["1300-2569-000004"]
    assert v["refused_by"] == {"ConnectError": 1, "503": 1}
    assert v["max_ms"] == pytest.approx(3000.0)  # the LINE case: told at 106.0, alerted at 109.0
    assert v["ok"] is False


def test_a_repeat_under_the_same_delivery_id_is_a_redelivery_but_another_id_for_the_same_alert_a_duplicate() -> None:
    offers = [Offer(1, Channel.hotline, 100.0, 100.1, "1300-2569-000001", 201),
              Offer(2, Channel.hotline, 100.5, 100.6, "1300-2569-000002", 201)]
    # Case 1: resent after a timeout the receiver had processed, same delivery id: it drops the repeat.
    # Case 2: the same alert regrouped into another delivery: the receiver cannot tell, the responder sees it twice.
    received = [_alert("1300-2569-000001", "a1", "d1", 101.0), _alert("1300-2569-000001", "a1", "d1", 107.0),
                _alert("1300-2569-000002", "a2", "d2", 101.0), _alert("1300-2569-000002", "a2", "d2+3", 108.0)]
    v = _judge(offers, received)
    assert (v["lost"], v["redelivered_same_id"], v["duplicates"]) == (0, 1, 1)
    assert v["ok"] is False
    clean = _judge(offers, received[:3])
    assert (clean["redelivered_same_id"], clean["duplicates"], clean["ok"]) == (1, 0, True)


def test_a_fault_that_could_not_be_undone_fails_the_scenario_even_without_loss() -> None:
    offers = [Offer(1, Channel.hotline, 100.0, 100.1, "1300-2569-000001", 201)]
    received = [_alert("1300-2569-000001", "a1", "d1", 100.3)]
    assert _judge(offers, received)["ok"] is True
    assert _judge(offers, received, error="DevstackError: notify exited")["ok"] is False


def test_the_summary_is_one_table_with_a_row_per_scenario_and_says_which_failed() -> None:
    offers = [Offer(1, Channel.hotline, 100.0, 100.1, "1300-2569-000001", 201)]
    good = _judge(offers, [_alert("1300-2569-000001", "a1", "d1", 100.3)], {"down_s": 7.3, "killed_node": 2})
    good["name"] = "kafka-restart"
    bad = _judge([*offers, Offer(2, Channel.hotline, 100.0, 100.1, "1300-2569-000002", 201)],
                 [_alert("1300-2569-000001", "a1", "d1", 100.3)])
    text = table([good, bad])
    lines = text.splitlines()
    header = next(i for i, ln in enumerate(lines) if ln.startswith("scenario"))
    rows = [ln for ln in lines[header + 1:] if ln and not ln.startswith("-") and not ln[0].isdigit()]
    assert [r.split()[0] for r in rows] == ["kafka-restart", "kill-notify"]
    assert rows[0].split()[1:6] == ["1", "1", "0", "1", "0"] and "ok" in rows[0] and "down 7.3 s" in rows[0]
    assert "killed node 2" in rows[0]
    assert rows[1].split()[5] == "1" and "FAIL" in rows[1]
    assert lines[-1] == "1 of 2 scenarios lost no case and doubled no alert; failed: kill-notify"


def test_only_picks_scenarios_by_name_or_pattern_in_the_suites_order_and_names_an_unknown_one() -> None:
    names = [s.name for s in SCENARIOS]
    assert [f"kill-{n}" for n in ("registry", "intake", "routing", "notify", "ops", "watchdog")] == names[:6]
    assert [s.name for s in select(None)] == names
    assert [s.name for s in select("channels, kill-notify")] == ["kill-notify", "channels"]
    assert [s.name for s in select("kafka-*")] == ["kafka-restart", "kafka-kill"]
    assert [s.name for s in select("cluster-leader-kill")] == ["cluster-leader-kill"]
    assert [s.cluster for s in SCENARIOS].count(True) == 1
    with pytest.raises(ValueError, match="no scenario kill-kafka"):
        select("kill-notify,kill-kafka")
    with pytest.raises(SystemExit):
        parse_args(["--only", "nothing-like-it"])
    args = parse_args(["--only", "kill-*"])
    assert [s.name for s in args.scenarios] == names[:6]
    assert (args.kafka_port, args.pg_port, args.base_port, args.cluster_port) == (49492, 45832, 48400, 49592)


def test_channel_faults_stay_within_what_notifys_retries_cover() -> None:
    # Failing fast, the last of an alert's tries comes at least (attempts-1)·base/2 s after its first; a slow
    # answer costs a timeout per try; a healthy gap outlasts the longest retry delay.
    phases = dict((name, seconds) for name, _, seconds in channel_phases())
    assert phases["500s"] < (ATTEMPTS_PER_CHANNEL - 1) * RETRY_BASE_S / 2
    assert phases["resets"] < (ATTEMPTS_PER_CHANNEL - 1) * RETRY_BASE_S / 2
    assert phases["slow"] < CHANNEL_TIMEOUT_S
    assert healthy_gap() > RETRY_BASE_S * 2 ** (ATTEMPTS_PER_CHANNEL - 2)
    slow = next(faults for name, faults, _ in channel_phases() if name == "slow")
    assert slow["delay"] > CHANNEL_TIMEOUT_S


def test_the_webhook_sink_resets_connections_unrecorded_until_its_fault_ends_by_itself() -> None:
    sink = WebhookSink("secret").start()
    try:
        with httpx.Client(timeout=5.0) as client:
            sink.reset = True
            with pytest.raises(httpx.TransportError):
                client.post(sink.url, json={"case_number": "1300-2569-000001"})
            assert sink.received == []
            sink.until = time.monotonic() - 1.0  # the phase is over: healthy whatever the flags still say
            assert client.post(sink.url, json={"case_number": "1300-2569-000001"}).status_code == 202
            assert [r.body["case_number"] for r in sink.received] == ["1300-2569-000001"]
            sink.reset, sink.status, sink.until = False, 500, None
            assert client.post(sink.url, json={"case_number": "1300-2569-000002"}).status_code == 500
            assert len(sink.received) == 1
    finally:
        sink.stop()
