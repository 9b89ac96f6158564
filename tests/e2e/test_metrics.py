"""Every service's /metrics on the running platform: a case reported in Thai moves the counters of routing (cases by
channel, category, province and priority; decisions and their time) and notify (alerts delivered, time to
acknowledge), every service shows its outbox backlog and routing its consumer lag, a poisoned record is counted as a
dead letter — and no personal data or case id appears in any of it."""

from __future__ import annotations

import uuid

import httpx
import pytest
from aiokafka import AIOKafkaProducer
from prometheus_client.parser import text_string_to_metric_families

from hotline_common import topics
from hotline_common.settings import ServiceSettings
from hotline_devstack import Platform
from hotline_devstack.services import SERVICES
from hotline_devstack.webhook_sink import WebhookSink
from tests.conftest import a_case, eventually

pytestmark = pytest.mark.e2e

Samples = list[tuple[str, dict[str, str], float]]
SAMPLE_SECONDS = 10.0  # METRICS_SAMPLE_SECONDS' default: gauges are at most this old


async def scrape(platform: Platform, service: str) -> tuple[str, Samples]:
    async with httpx.AsyncClient(timeout=10) as client:
        r = await client.get(f"{platform.url(service)}/metrics")  # no token: Prometheus scrapes like this
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/plain")
    samples = [(s.name, dict(s.labels), float(s.value))
               for family in text_string_to_metric_families(r.text) for s in family.samples]
    return r.text, samples


def value(samples: Samples, name: str, /, **labels: str) -> float:
    """The sum of `name`'s samples whose labels include `labels` (0 when there is none yet)."""
    return sum(v for n, have, v in samples if n == name and labels.items() <= have.items())


def present(samples: Samples, name: str, /, **labels: str) -> list[tuple[dict[str, str], float]]:
    return [(have, v) for n, have, v in samples if n == name and labels.items() <= have.items()]


async def grown(platform: Platform, service: str, before: Samples, name: str, /, *, by: float = 1,
                **labels: str) -> Samples:
    """Waits until `name{labels}` on `service` is at least `by` above its value in `before`; the samples then."""
    start = value(before, name, **labels)

    async def check() -> Samples | None:
        _, now = await scrape(platform, service)
        return now if value(now, name, **labels) >= start + by else None

    try:
        result: Samples = await eventually(check, timeout=30)
    except AssertionError:
        _, now = await scrape(platform, service)
        raise AssertionError(f"{service}: {name}{labels} stayed at {value(now, name, **labels)} "
                             f"(was {start}); series: {present(now, name)}") from None
    return result


async def test_a_case_moves_the_counters_of_routing_and_notify(
        intake: httpx.AsyncClient, sink: WebhookSink, platform: Platform) -> None:
    _, routing_before = await scrape(platform, "routing")
    _, notify_before = await scrape(platform, "notify")
    _, intake_before = await scrape(platform, "intake")
    body = a_case(description="ผู้แจ้งเล่าว่าสามีทำร้ายร่างกายทุกคืน ลูกสาวอายุ 6 ขวบอยู่ในบ้าน ต้องการความช่วยเหลือ",
                  location={"tambon_code": "570511"})  # ต.สันกลาง อ.พาน จ.เชียงราย: province 57
    r = await intake.post("/v1/cases", json=body)
    assert r.status_code == 201, r.text
    case = r.json()
    [alert] = await eventually(lambda: sink.for_case(case["case_id"]), timeout=30)

    # Intake: the report left through its outbox.
    await grown(platform, "intake", intake_before, "hotline_outbox_published_total", service="intake",
                topic=topics.CASE_REPORTED.name)
    # Routing: the case by its labels ("ทำร้ายร่างกาย" makes it P1), the decision and how long it took.
    labels = {"channel": "hotline", "category": "domestic_violence", "province": "57", "priority": "P1"}
    routing = await grown(platform, "routing", routing_before, "hotline_cases_total", **labels)
    assert value(routing, "hotline_routing_decisions_total", outcome="routed", rule="own_tambon",
                 trigger="reported") >= value(routing_before, "hotline_routing_decisions_total", outcome="routed",
                                              rule="own_tambon", trigger="reported") + 1
    assert value(routing, "hotline_routing_decision_seconds_count") >= value(
        routing_before, "hotline_routing_decision_seconds_count") + 1
    assert value(routing, "hotline_routing_decision_seconds_sum") > value(
        routing_before, "hotline_routing_decision_seconds_sum")
    # FastStream's own: the record consumed and acknowledged by routing's handler.
    assert value(routing, "faststream_received_processed_messages_total", app_name="hotline-routing",
                 status="acked") > value(routing_before, "faststream_received_processed_messages_total",
                                         app_name="hotline-routing", status="acked")

    # Notify: the alert delivered on the webhook, and the delivery's time.
    notify = await grown(platform, "notify", notify_before, "hotline_alerts_total", channel="webhook",
                         outcome="delivered")
    assert value(notify, "hotline_alert_delivery_seconds_count", channel="webhook") >= value(
        notify_before, "hotline_alert_delivery_seconds_count", channel="webhook") + 1

    # The responder acknowledges on the page of the alert: the time to acknowledge is observed, as P1.
    async with httpx.AsyncClient(timeout=10) as browser:
        done = await browser.post(f"{alert.body['link']}/acknowledge", follow_redirects=True)
    assert done.status_code == 200 and "รับเรื่องแล้ว" in done.text
    notify = await grown(platform, "notify", notify, "hotline_acknowledgement_seconds_count", priority="P1")
    assert value(notify, "hotline_acknowledgement_seconds_sum", priority="P1") > 0

    # Nothing personal and no case identity in any service's metrics.
    for name, _ in SERVICES:
        text, _ = await scrape(platform, name)
        for secret in (body["caller"]["name"], body["caller"]["phone"], "สามี", "ลูกสาว", case["case_id"],
                       case["case_number"]):
            assert secret not in text, f"{name}'s /metrics shows {secret!r}"


async def test_every_service_with_a_database_reports_its_outbox_backlog(platform: Platform) -> None:
    with_database = []
    async with httpx.AsyncClient(timeout=10) as client:
        for name, _ in SERVICES:
            if "database" in (await client.get(f"{platform.url(name)}/readyz")).json():
                with_database.append(name)
    assert {"intake", "registry", "routing", "notify"} <= set(with_database)
    for name in with_database:
        async def sampled(service: str = name) -> list[tuple[dict[str, str], float]] | None:
            _, samples = await scrape(platform, service)
            return present(samples, "hotline_outbox_backlog", service=service) or None

        [(_, backlog)] = await eventually(sampled, timeout=SAMPLE_SECONDS * 3)
        assert backlog >= 0
        _, samples = await scrape(platform, name)
        [(_, oldest)] = present(samples, "hotline_outbox_oldest_seconds", service=name)
        assert oldest >= 0


async def test_routing_reports_the_lag_of_its_consumer_group_on_every_partition(
        intake: httpx.AsyncClient, sink: WebhookSink, platform: Platform) -> None:
    # A case routed: the group has committed on the topic (lag counts the topic's partitions from then on).
    r = await intake.post("/v1/cases", json=a_case())
    assert r.status_code == 201, r.text
    await eventually(lambda: sink.for_case(r.json()["case_id"]), timeout=30)

    def partitions(samples: Samples) -> dict[str, float]:
        found = present(samples, "hotline_consumer_lag", group="hotline-routing", topic=topics.CASE_REPORTED.name)
        return {labels["partition"]: v for labels, v in found}

    async def sampled() -> dict[str, float] | None:
        _, samples = await scrape(platform, "routing")
        return partitions(samples) or None

    lag = await eventually(sampled, timeout=SAMPLE_SECONDS * 3)
    count = topics.CASE_REPORTED.partitions or ServiceSettings.model_fields["kafka_topic_partitions"].default
    assert set(lag) == {str(p) for p in range(count)}, lag
    assert all(v >= 0 for v in lag.values()), lag
    # Each service reports its own groups only.
    _, notify = await scrape(platform, "notify")
    assert {labels["group"] for labels, _ in present(notify, "hotline_consumer_lag")} <= {"hotline-notify"}


async def test_a_poisoned_record_is_counted_as_a_dead_letter_at_routing(platform: Platform) -> None:
    _, before = await scrape(platform, "routing")
    producer = AIOKafkaProducer(bootstrap_servers=platform.kafka_bootstrap)
    await producer.start()
    try:
        await producer.send_and_wait(topics.CASE_REPORTED.name, b'{"case_id": "not json',
                                     key=str(uuid.uuid4()).encode())
    finally:
        await producer.stop()
    after = await grown(platform, "routing", before, "hotline_dead_letters_total", topic=topics.CASE_REPORTED.name)
    errors = {labels["error"] for labels, v in present(after, "hotline_dead_letters_total",
                                                       topic=topics.CASE_REPORTED.name)
              if v > value(before, "hotline_dead_letters_total", **labels)}
    assert errors and all(error.isidentifier() for error in errors), errors  # an exception's name, not its text
