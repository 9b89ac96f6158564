"""`hotline-dev up`'s channel demo without the platform: the demo responder's update against the registry's own
models and seed, notify's env against NotifySettings and its channels against the real fakes, the service ports."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from hotline_common.events.registry import ResponderDetails
from hotline_common.settings_doc import env_names
from hotline_devstack.cli import build_parser
from hotline_devstack.demo_channels import (
    DEMO_EMAIL,
    DEMO_LINE_USER_ID,
    DEMO_PHONE,
    DEMO_PUBLIC_LINE_USER_ID,
    DEMO_TAMBON,
    DEV_PUBLIC_LINE_CHANNEL_SECRET,
    demo_channels,
    demo_responder_id,
    line_signature,
    notify_channel_env,
    public_line_webhook,
    responder_update,
)
from hotline_devstack.services import SERVICES, service_env
from hotline_fakes.bundle import AllFakes, Ports
from hotline_notify.app import channels_from
from hotline_notify.channels import AlertItem, Delivery
from hotline_notify.config import NotifySettings
from hotline_registry.demo import DEMO_RESPONDER_TAMBON, demo_directory, responder_id_for
from hotline_registry.directory import ResponderIn

WEBHOOK = "http://127.0.0.1:8003/v1/demo/inbox"
FIELDS = list(ResponderDetails.model_fields)


@pytest.fixture(scope="module")
def seeded() -> dict[str, Any]:
    """The demo volunteer as the registry seeds it and answers GET /v1/responders/{id} (record + version)."""
    [volunteer] = [r for r in demo_directory(WEBHOOK).responders
                   if str(r.responder_id) == demo_responder_id()]
    return {**volunteer.model_dump(mode="json"), "version": 1}


def test_the_demo_responder_is_the_one_the_responder_account_is_linked_to() -> None:
    assert DEMO_TAMBON == DEMO_RESPONDER_TAMBON  # seed: the `responder` account's responder_id
    assert demo_responder_id() == str(responder_id_for(DEMO_RESPONDER_TAMBON))


def test_the_update_puts_line_sms_email_before_the_webhook_and_the_registry_accepts_it(
        seeded: dict[str, Any]) -> None:
    body = responder_update(seeded, FIELDS)
    assert body is not None
    assert set(body) <= set(FIELDS)  # no id, version or event fields: the input model forbids them
    record = ResponderIn.model_validate(body).record(uuid.UUID(seeded["responder_id"]))
    assert [(c.kind, c.address) for c in record.channels] == [
        ("line", DEMO_LINE_USER_ID), ("sms", DEMO_PHONE), ("email", DEMO_EMAIL), ("webhook", WEBHOOK)]
    assert record.channels[-1].secret_ref == seeded["channels"][0]["secret_ref"] == "demo"
    # Nothing else of theirs changes.
    unchanged = {k: v for k, v in seeded.items() if k in FIELDS and k != "channels"}
    assert {k: v for k, v in record.model_dump(mode="json").items() if k in unchanged} == unchanged


def test_a_second_up_on_the_same_database_writes_nothing(seeded: dict[str, Any]) -> None:
    body = responder_update(seeded, FIELDS)
    assert body is not None
    # What the registry stores (its validators normalise, e.g. the phone to E.164) and answers on the next GET.
    stored = ResponderIn.model_validate(body).record(uuid.UUID(seeded["responder_id"]))
    assert responder_update({**stored.model_dump(mode="json"), "version": 2}, FIELDS) is None


def test_other_line_sms_or_email_addresses_give_way_to_the_demo_ones() -> None:
    current = [{"kind": "sms", "address": "+66812345678", "secret_ref": None},
               {"kind": "webhook", "address": "https://example.org/hook", "secret_ref": "x"}]
    assert [c["kind"] for c in demo_channels(current)] == ["line", "sms", "email", "webhook"]
    assert demo_channels(current)[1]["address"] == DEMO_PHONE


@pytest.fixture
def fakes() -> Iterator[AllFakes]:
    with AllFakes(ports=Ports(line=0, sms=0, smtp=0, viewer=0)) as started:
        yield started


def fakes_env(fakes: AllFakes) -> dict[str, str]:
    return notify_channel_env(line_url=fakes.urls["line"], line_token=fakes.token, sms_url=fakes.urls["sms"],
                              sms_api_key=fakes.api_key, smtp_host=fakes.smtp.host, smtp_port=fakes.smtp.port)


async def test_notify_given_that_env_reaches_the_fakes_on_every_channel(
        fakes: AllFakes, monkeypatch: pytest.MonkeyPatch) -> None:
    env = fakes_env(fakes)
    assert set(env) <= set(env_names(NotifySettings).values())  # every name is one notify reads
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    channels = channels_from(NotifySettings())
    assert set(channels) == {"line", "sms", "email", "webhook"}
    item = AlertItem(alert_id=uuid.uuid4(), case_id=uuid.uuid4(), case_number="1300-2569-000001", priority="P1",
                     priority_th="ด่วนที่สุด", category="domestic_violence", category_th="ความรุนแรงในครอบครัว",
                     place_th="แขวงพระบรมมหาราชวัง › เขตพระนคร › กรุงเทพมหานคร", unit_name_th=None, kind="new",
                     level=1, link="http://127.0.0.1:8003/r/x", ack_data="a", decline_data="d")
    try:
        for kind, address in (("line", DEMO_LINE_USER_ID), ("sms", DEMO_PHONE), ("email", DEMO_EMAIL)):
            result = await channels[kind].send(Delivery(uuid.uuid4(), address, None, (item,)))
            assert result.ok, (kind, result)
    finally:
        for channel in channels.values():
            await channel.close()
    assert [p.to for p in fakes.line.pushes()] == [DEMO_LINE_USER_ID]
    assert [m.to for m in fakes.sms.messages()] == [DEMO_PHONE]
    assert [m.rcpt_tos for m in fakes.smtp.messages()] == [(DEMO_EMAIL,)]


def test_up_defaults_are_the_fakes_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("FAKE_LINE_PORT", "FAKE_SMS_PORT", "FAKE_SMTP_PORT", "FAKE_VIEWER_PORT", "SERVICES_BASE_PORT"):
        monkeypatch.delenv(name, raising=False)
    args = build_parser().parse_args(["up"])
    assert Ports(args.line_port, args.sms_port, args.smtp_port, args.viewer_port) == Ports()
    assert args.base_port == 8000


@pytest.mark.parametrize("base_port", [8000, 18000])
def test_services_find_each_other_on_the_base_port(base_port: int, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("DEMO_ALERT_WEBHOOK_URL", "NOTIFY_PUBLIC_BASE_URL", "NOTIFY_INTAKE_URL"):
        monkeypatch.delenv(name, raising=False)
    shift = base_port - 8000
    for name, port in SERVICES:
        env = service_env(name, 5432, "127.0.0.1:9092", base_port=base_port)
        assert env[f"{name.upper()}_PORT"] == str(port + shift)
        assert env["DEMO_ALERT_WEBHOOK_URL"] == f"http://127.0.0.1:{8003 + shift}/v1/demo/inbox"
    notify = service_env("notify", 5432, "127.0.0.1:9092", base_port=base_port)
    assert notify["NOTIFY_PUBLIC_BASE_URL"] == f"http://127.0.0.1:{8003 + shift}"
    assert notify["NOTIFY_INTAKE_URL"] == f"http://127.0.0.1:{8000 + shift}"
    if base_port == 8000:  # the settings' own defaults: nothing changes for a plain `make up`
        defaults = NotifySettings.model_fields
        assert notify["NOTIFY_PUBLIC_BASE_URL"] == defaults["public_base_url"].default
        assert notify["NOTIFY_INTAKE_URL"] == defaults["intake_url"].default


def test_the_shells_own_public_url_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NOTIFY_PUBLIC_BASE_URL", "http://192.168.1.20:8003")
    assert "NOTIFY_PUBLIC_BASE_URL" not in service_env("notify", 5432, "127.0.0.1:9092")


@pytest.mark.parametrize("kwargs", [{"text": "ช่วยด้วย สามีทำร้ายร่างกาย"}, {"lat": 13.75, "lon": 100.49},
                                    {"postback": "cat=domestic_violence"}])
def test_line_say_sends_what_intake_reads_as_a_signed_line_webhook(kwargs: dict[str, Any]) -> None:
    from hotline_common.line import signature, signature_ok
    from hotline_intake.line.incoming import Location, Postback, Text, incoming, read_body

    body = json.dumps(public_line_webhook(now_ms=1_700_000_000_000, event_id="01DEMOABCDEF", **kwargs),
                      ensure_ascii=False).encode()
    assert line_signature(DEV_PUBLIC_LINE_CHANNEL_SECRET, body) == signature(DEV_PUBLIC_LINE_CHANNEL_SECRET, body)
    assert signature_ok(DEV_PUBLIC_LINE_CHANNEL_SECRET, body, line_signature(DEV_PUBLIC_LINE_CHANNEL_SECRET, body))
    [event] = read_body(body)
    assert event.user_id == DEMO_PUBLIC_LINE_USER_ID and event.event_id == "01DEMOABCDEF"
    did = incoming(event.raw)
    expected = {"text": Text, "lat": Location, "postback": Postback}[next(iter(kwargs))]
    assert isinstance(did, expected), did
    assert build_parser().parse_args(["line-say", "--location", "13.75,100.49"]).location == "13.75,100.49"
