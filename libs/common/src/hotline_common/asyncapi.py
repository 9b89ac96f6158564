"""A service's AsyncAPI document (FastStream's generator) and a plain page of it, served beside OpenAPI.

The document holds more than the broker's subscribers: the compacted registry topics the service follows as local
views (`runtime.follow`), the topics its read models take in batches of undecoded records (`hotline_common.readmodel`),
and the topics it publishes through the transactional outbox, which never pass through a FastStream publisher. They
are declared on a second broker that exists only for the document and never connects.

FastStream's own HTML page loads its renderer from a CDN (unpkg); these pages load nothing from the internet, so
`/asyncapi` is a page rendered here, without scripts, from the same JSON as `/asyncapi.json`.
"""

from __future__ import annotations

import html
import json
from collections.abc import Sequence
from typing import Any

from faststream.kafka import KafkaBroker
from faststream.specification import AsyncAPI

from hotline_common.runtime import Runtime
from hotline_common.topics import TopicSpec
from hotline_common.views import CompactedView


def _handler_for(spec: TopicSpec) -> Any:
    async def follow(record: Any) -> None:  # never called: the document only reads its signature
        return None

    follow.__annotations__ = {"record": spec.model, "return": None}
    follow.__name__ = follow.__qualname__ = f"view_{spec.model.__name__}"
    follow.__doc__ = spec.model.__doc__
    return follow


def document(runtime: Runtime, *, title: str, description: str = "", version: str = "0.1.0",
             publishes: Sequence[TopicSpec] = ()) -> dict[str, Any]:
    """The AsyncAPI 3.0 document of a service, as JSON-ready data."""
    docs = KafkaBroker(runtime.settings.kafka_bootstrap_servers)
    for component in runtime.components:
        if isinstance(component, CompactedView):
            docs.subscriber(component.spec.name, title=f"{component.spec.name}:View",
                            description="Read whole at start, then followed live by a consumer outside any group "
                                        "(a local view of the latest record per key).")(_handler_for(component.spec))
    for spec in runtime.reads:
        docs.subscriber(spec.name, title=f"{spec.name}:ReadModel",
                        description=f"Read in batches by the consumer group hotline-{runtime.service} into a read "
                                    "model (one offset commit per batch; applying an event twice changes nothing). "
                                    f"Dead letters: {spec.dlq}.")(_handler_for(spec))
    for spec in publishes:
        docs.publisher(spec.name, title=f"{spec.name}:Outbox", schema=spec.model,
                       description="Published through the transactional outbox (CloudEvents binary mode, key = "
                                   f"the {'entity' if spec.compacted else 'case'} id). Dead letters: {spec.dlq}.")
    spec_doc: dict[str, Any] = AsyncAPI(runtime.broker, docs, title=title, version=version,
                                        description=description or None).to_specification().to_jsonable()
    return spec_doc


def subscribed_topics(doc: dict[str, Any]) -> list[str]:
    """The topics the document says the service receives from."""
    return sorted({_channel(doc, op)["address"] for op in doc.get("operations", {}).values()
                   if op.get("action") == "receive"})


def published_topics(doc: dict[str, Any]) -> list[str]:
    return sorted({_channel(doc, op)["address"] for op in doc.get("operations", {}).values()
                   if op.get("action") == "send"})


def _channel(doc: dict[str, Any], operation: dict[str, Any]) -> dict[str, Any]:
    ref = operation["channel"]["$ref"].removeprefix("#/channels/")
    channel: dict[str, Any] = doc["channels"][ref]
    return channel


_STYLE = """body{font-family:system-ui,'Noto Sans Thai',sans-serif;margin:2rem auto;max-width:60rem;padding:0 1rem;
color:#1b1b1b}h1{font-size:1.5rem}h2{font-size:1.15rem;margin-top:2rem}code{background:#f3f3f3;padding:0 .2rem}
details{margin:.3rem 0 1rem}pre{background:#f7f7f7;padding:.8rem;overflow:auto;font-size:.8rem}
.op{display:inline-block;min-width:5.5rem;font-weight:600}.receive{color:#0b6e4f}.send{color:#7a3e00}"""


def page(doc: dict[str, Any]) -> str:
    """The document as a plain HTML page: every channel, what the service does on it, the message's schema."""
    info = doc.get("info", {})
    esc = html.escape
    rows: list[str] = []
    by_channel: dict[str, list[str]] = {}
    for op in doc.get("operations", {}).values():
        by_channel.setdefault(op["channel"]["$ref"].removeprefix("#/channels/"), []).append(op.get("action", ""))
    schemas = doc.get("components", {}).get("schemas", {})
    messages = doc.get("components", {}).get("messages", {})
    for name, channel in sorted(doc.get("channels", {}).items(), key=lambda kv: kv[1].get("address", "")):
        actions = by_channel.get(name, [])
        label = " ".join(f'<span class="op {esc(a)}">{"รับ · receive" if a == "receive" else "ส่ง · send"}</span>'
                         for a in actions)
        payloads = []
        for message in channel.get("messages", {}).values():
            ref = message.get("$ref", "").removeprefix("#/components/messages/")
            payload_ref = messages.get(ref, {}).get("payload", {}).get("$ref", "")
            schema_name = payload_ref.removeprefix("#/components/schemas/")
            schema = schemas.get(schema_name, messages.get(ref, {}).get("payload", {}))
            payloads.append(f"<details><summary>{esc(schema_name or 'payload')}</summary><pre>"
                            f"{esc(json.dumps(schema, ensure_ascii=False, indent=2))}</pre></details>")
        rows.append(f"<h2>{label} <code>{esc(channel.get('address', name))}</code></h2>"
                    f"<p>{esc(channel.get('description', ''))}</p>{''.join(payloads)}")
    return (f'<!doctype html><html lang="th"><head><meta charset="utf-8"><title>{esc(info.get("title", ""))} — '
            f"AsyncAPI</title><style>{_STYLE}</style></head><body><h1>{esc(info.get('title', ''))} — AsyncAPI "
            f"{esc(str(doc.get('asyncapi', '')))}</h1><p>{esc(info.get('description', '') or '')}</p>"
            '<p>เอกสารเหตุการณ์ของบริการนี้ · the events this service receives and sends. JSON: '
            f'<a href="asyncapi.json">asyncapi.json</a></p>{"".join(rows)}</body></html>')
