"""One trace per case across every service: a report sent with a W3C traceparent is followed, under that trace id,
through intake's request, the outbox, each Kafka hop (routing, notify), the alert's delivery and the HTTP call that
carries it to the responders' system."""

from __future__ import annotations

import json
import secrets
from typing import Any

import httpx
import pytest

from hotline_devstack.webhook_sink import WebhookSink
from tests.conftest import TRACES, a_case, eventually

pytestmark = pytest.mark.e2e


def spans_of(service: str, trace_id: str) -> list[dict[str, Any]]:
    path = TRACES / f"{service}.jsonl"
    if not path.exists():
        return []
    spans = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [s for s in spans if s["trace_id"] == trace_id]


async def test_a_case_is_one_trace_from_the_http_request_through_kafka_to_the_alert(
        intake: httpx.AsyncClient, sink: WebhookSink) -> None:
    trace_id = secrets.token_hex(16)
    traceparent = f"00-{trace_id}-{secrets.token_hex(8)}-01"
    r = await intake.post("/v1/cases", json=a_case(description="เด็กถูกทิ้งไว้คนเดียวที่บ้าน"),
                          headers={"traceparent": traceparent})
    assert r.status_code == 201, r.text
    alerts = await eventually(lambda: sink.for_case(r.json()["case_id"]))
    # The responders' system was called within the same trace.
    assert alerts[0].traceparent.split("-")[1] == trace_id, alerts[0].traceparent

    def seen() -> dict[str, list[dict[str, Any]]] | None:
        found = {name: spans_of(name, trace_id) for name in ("intake", "routing", "notify")}
        wanted = {"intake": "hotline.case.reported.v1 publish", "routing": "hotline.case.routed.v1 publish",
                  "notify": "alert deliver webhook"}
        ok = all(any(s["name"] == wanted[name] for s in spans) for name, spans in found.items())
        return found if ok else None

    found = await eventually(seen, timeout=30)  # spans are exported in batches every few seconds
    names = {name: sorted({s["name"] for s in spans}) for name, spans in found.items()}
    assert "POST /v1/cases" in names["intake"], names
    assert "hotline.case.reported.v1 process" in names["routing"], names
    assert "hotline.case.routed.v1 process" in names["notify"], names
    assert any(n.startswith("POST") for n in names["notify"]), names  # the webhook's HTTP client span

    # One tree: every span's parent is a span of this trace, except the caller's own (outside the platform).
    spans = [s for group in found.values() for s in group]
    ids = {s["span_id"] for s in spans}
    roots = [s for s in spans if s["parent_id"] not in ids]
    assert {s["parent_id"] for s in roots} == {traceparent.split("-")[2]}, [(s["name"], s["service"]) for s in roots]
    # Nothing personal rides along in span attributes.
    assert "เด็กถูกทิ้ง" not in json.dumps(spans, ensure_ascii=False)
