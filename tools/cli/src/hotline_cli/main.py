"""The ops team's command line: `hotline tail | case | lag | dlq | topics`, each with `--json` for scripts."""

from __future__ import annotations

import asyncio
import getpass
import json
import re
import sys
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from aiokafka.errors import KafkaConnectionError, KafkaError
from rich.console import Console

from hotline_cli import render
from hotline_common import deadletters
from hotline_common.case_history import CaseNotFound, case_history
from hotline_common.lag import GROUP_PREFIX, consumer_lag
from hotline_common.settings import ServiceSettings
from hotline_common.stream import EventStream, Start, make_filter
from hotline_common.thai_time import BANGKOK
from hotline_common.topicinfo import topic_infos

T = TypeVar("T")
DEFAULT_BOOTSTRAP = str(ServiceSettings.model_fields["kafka_bootstrap_servers"].default)
SOURCE = "/hotline/cli"

app = typer.Typer(help="1300 hotline ops: the event stream, one case's history, consumer lag, dead letters, topics. "
                       "(สายด่วน 1300 — เครื่องมือผู้ดูแลระบบ)", no_args_is_help=True, add_completion=False)
dlq_app = typer.Typer(help="Dead-letter queues: list, show a record with its error, replay it (with an audit entry).",
                      no_args_is_help=True)
app.add_typer(dlq_app, name="dlq")

# Piped into a file or `less`, rich would assume 80 columns and cut topic names; wide enough for the tables.
out = Console(highlight=False, width=None if sys.stdout.isatty() else 200)
err = Console(stderr=True, highlight=False, width=None if sys.stderr.isatty() else 200)

Bootstrap = Annotated[str, typer.Option("--bootstrap", "-b", envvar="KAFKA_BOOTSTRAP_SERVERS",
                                        help="Kafka bootstrap servers (host:port, comma-separated).")]
AsJson = Annotated[bool, typer.Option("--json", help="JSON for scripts (tail: one object per line).")]


def _run(bootstrap: str, work: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run one command's coroutine; a Kafka that does not answer is said plainly (exit 2), not as a traceback."""
    try:
        return asyncio.run(work())
    except KafkaConnectionError as exc:
        err.print(f"[bold red]Kafka ที่ {bootstrap} ไม่ตอบ · Kafka at {bootstrap} does not answer:[/] {exc}")
        raise typer.Exit(2) from None
    except KafkaError as exc:
        err.print(f"[bold red]Kafka error:[/] {exc!r}")
        raise typer.Exit(2) from None


def parse_since(text: str, *, now: datetime | None = None) -> datetime:
    """`90s`, `15m`, `2h`, `1d` ago, or an ISO date-time (without a zone: Bangkok time)."""
    found = re.fullmatch(r"(\d+)\s*([smhd])", text.strip())
    if found:
        unit = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}[found.group(2)]
        return (now or datetime.now(UTC)) - timedelta(**{unit: int(found.group(1))})
    try:
        at = datetime.fromisoformat(text.strip())
    except ValueError:
        raise typer.BadParameter(f"{text!r}: give 15m, 2h, 1d or an ISO date-time") from None
    return at if at.tzinfo else at.replace(tzinfo=BANGKOK)


@app.command()
def tail(
    bootstrap: Bootstrap = DEFAULT_BOOTSTRAP,
    event_type: Annotated[list[str] | None, typer.Option(
        "--type", "-t", help="Event type: case.routed (or routed), alert.failed, … (repeatable).")] = None,
    province: Annotated[list[str] | None, typer.Option(
        "--province", "-p", help="Two-digit province code, e.g. 10 Bangkok, 57 Chiang Rai (repeatable).")] = None,
    center: Annotated[list[str] | None, typer.Option("--center", help="Center id (repeatable).")] = None,
    priority: Annotated[list[str] | None, typer.Option("--priority", help="P1 … P4 (repeatable).")] = None,
    case: Annotated[list[str] | None, typer.Option("--case", help="Case number (repeatable).")] = None,
    from_beginning: Annotated[bool, typer.Option("--from-beginning", help="Start at the oldest record kept.")
                              ] = False,
    since: Annotated[str | None, typer.Option("--since", help="Start at a time: 15m, 2h, 1d or ISO.")] = None,
    dead_letters: Annotated[bool, typer.Option("--dlq", help="Also the dead-letter topics.")] = False,
    heartbeats: Annotated[bool, typer.Option("--heartbeats", help="Also the services' heartbeats.")] = False,
    no_follow: Annotated[bool, typer.Option("--no-follow", help="Stop at the end instead of waiting for more.")
                         ] = False,
    limit: Annotated[int | None, typer.Option("--limit", "-n", help="Stop after this many events.")] = None,
    as_json: AsJson = False,
) -> None:
    """Follow the hotline.* events live (ติดตามเหตุการณ์สด), filtered, without personal data."""
    if from_beginning and since:
        raise typer.BadParameter("give --from-beginning or --since, not both")
    start: Start = "beginning" if from_beginning else (parse_since(since) if since else "end")
    wanted = make_filter(event_types=event_type or (), provinces=province or (), center_ids=center or (),
                         priorities=priority or (), case_numbers=case or ())

    async def follow() -> None:
        shown = 0
        async with EventStream(bootstrap, start=start, dead_letters=dead_letters, quiet=heartbeats,
                               until_end=no_follow) as stream:
            where = "the end" if start == "end" else ("the beginning" if start == "beginning" else
                                                      start.astimezone(BANGKOK).isoformat(timespec="seconds"))
            # On stderr, so that stdout stays one JSON object per line; scripts may wait for this line.
            err.print(f"[dim]กำลังติดตาม · following {len(stream.topics)} topics from {where}"
                      f"{'' if no_follow else ' (Ctrl-C to stop)'}[/]")
            async for view in stream:
                if not wanted.matches(view):
                    continue
                if as_json:
                    render.print_json(out, view.as_dict())
                else:
                    out.print(render.event_line(view))
                shown += 1
                if limit is not None and shown >= limit:
                    return

    try:
        _run(bootstrap, follow)
    except KeyboardInterrupt:
        raise typer.Exit(0) from None


@app.command("case")
def case_cmd(
    case: Annotated[str, typer.Argument(help="Case number (1300-2569-000042) or case id.")],
    bootstrap: Bootstrap = DEFAULT_BOOTSTRAP,
    as_json: AsJson = False,
) -> None:
    """One case's whole history across the topics (ประวัติของเรื่อง), its dead letters included."""
    try:
        history = _run(bootstrap, lambda: case_history(bootstrap, case))
    except CaseNotFound as exc:
        if as_json:
            render.print_json(out, {"error": str(exc), "kind": "not_found"})
        else:
            err.print(f"[bold red]ไม่พบเรื่อง · not found:[/] {exc}")
        raise typer.Exit(1) from None
    if as_json:
        render.print_json(out, history.as_dict())
    else:
        out.print(render.history_table(history))


@app.command()
def lag(
    bootstrap: Bootstrap = DEFAULT_BOOTSTRAP,
    group: Annotated[list[str] | None, typer.Option("--group", "-g", help="Consumer group (repeatable); default: "
                                                    f"every group named {GROUP_PREFIX}*.")] = None,
    as_json: AsJson = False,
) -> None:
    """Consumer lag per group, topic and partition (ค้างอ่าน), with totals."""
    rows = _run(bootstrap, lambda: consumer_lag(bootstrap, groups=group or None))
    totals = render.lag_totals(rows)
    if as_json:
        render.print_json(out, {"partitions": [{"group": r.group, "topic": r.topic, "partition": r.partition,
                                                "committed": r.committed, "end": r.end, "lag": r.lag}
                                               for r in rows],
                                "groups": totals, "total": sum(totals.values())})
        return
    if not rows:
        out.print("ไม่มีกลุ่มผู้อ่าน · no consumer groups with committed offsets")
        return
    out.print(render.lag_table(rows))
    for name, total in totals.items():
        out.print(f"  {name}: [bold]{total}[/]")
    out.print(f"รวม · total: [bold]{sum(totals.values())}[/]")


@app.command()
def topics(
    bootstrap: Bootstrap = DEFAULT_BOOTSTRAP,
    every: Annotated[bool, typer.Option("--all", help="Every topic, not only the platform's.")] = False,
    as_json: AsJson = False,
) -> None:
    """The topics: partitions, retention, compaction, records held (หัวข้อใน Kafka)."""
    infos = _run(bootstrap, lambda: topic_infos(bootstrap, every=every))
    if as_json:
        render.print_json(out, [t.as_dict() for t in infos])
    else:
        out.print(render.topics_table(infos))


def _refused(exc: deadletters.DeadLetterError, as_json: bool) -> typer.Exit:
    kind = {deadletters.AlreadyReplayed: "already_replayed", deadletters.InvalidPayload: "invalid_payload",
            deadletters.DeadLetterNotFound: "not_found"}.get(type(exc), "refused")
    if as_json:
        body: dict[str, Any] = {"error": str(exc), "kind": kind}
        if isinstance(exc, deadletters.InvalidPayload):
            body["errors"] = exc.errors
        render.print_json(out, body)
    else:
        err.print(f"[bold red]ไม่ดำเนินการ · refused:[/] {exc}")
    return typer.Exit(1)


Topic = Annotated[str, typer.Argument(help="The dead-letter topic, or its original topic.")]
Offset = Annotated[int, typer.Argument(help="The record's offset in the dead-letter topic.")]
Partition = Annotated[int, typer.Option("--partition", help="Partition of the dead-letter topic.")]


@dlq_app.command("list")
def dlq_list(
    topic: Annotated[str | None, typer.Argument(help="A dead-letter topic: list its records.")] = None,
    bootstrap: Bootstrap = DEFAULT_BOOTSTRAP,
    limit: Annotated[int, typer.Option("--limit", "-n", help="Newest records shown.")] = 50,
    every: Annotated[bool, typer.Option("--all", help="Also the empty queues.")] = False,
    as_json: AsJson = False,
) -> None:
    """The dead-letter queues with their counts; or, given one, its records with their errors."""
    if topic is None:
        found = _run(bootstrap, lambda: deadletters.queues(bootstrap, include_empty=every))
        if as_json:
            render.print_json(out, [q.as_dict() for q in found])
        elif found:
            out.print(render.queues_table(found))
        else:
            out.print("[green]ไม่มีข้อความค้าง · no dead letters[/]")
        return
    try:
        items = _run(bootstrap, lambda: deadletters.dead_letters(bootstrap, topic, limit=limit))
    except deadletters.DeadLetterError as exc:
        raise _refused(exc, as_json) from None
    if as_json:
        render.print_json(out, [d.as_dict() for d in items])
    else:
        out.print(render.dead_letters_table(deadletters.dlq_topic_of(topic), items))


@dlq_app.command("show")
def dlq_show(topic: Topic, offset: Offset, bootstrap: Bootstrap = DEFAULT_BOOTSTRAP, partition: Partition = 0,
             as_json: AsJson = False) -> None:
    """One dead letter: its error, where it came from, its payload (personal values hidden), its replays."""
    try:
        found = _run(bootstrap, lambda: deadletters.show(bootstrap, topic, offset, partition=partition))
    except deadletters.DeadLetterError as exc:
        raise _refused(exc, as_json) from None
    if as_json:
        render.print_json(out, found.as_dict())
    else:
        out.print(render.dead_letter_panel(found))


@dlq_app.command("replay")
def dlq_replay(
    topic: Topic,
    offset: Offset,
    bootstrap: Bootstrap = DEFAULT_BOOTSTRAP,
    partition: Partition = 0,
    patch: Annotated[str | None, typer.Option("--patch", help="Fields to correct, as a JSON merge patch: "
                                              "'{\"category\": \"other\"}' (null removes a field).")] = None,
    payload_file: Annotated[Path | None, typer.Option("--payload-file", help="A whole corrected payload (JSON).",
                                                      exists=True, dir_okay=False)] = None,
    by: Annotated[str | None, typer.Option("--as", help="Who replays (default: your OS user).")] = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    force: Annotated[bool, typer.Option("--force", help="Replay even if it was replayed before, or as it is "
                                        "although it does not validate.")] = False,
    as_json: AsJson = False,
) -> None:
    """Send a dead letter back to its original topic (ส่งซ้ำ), as it was or corrected; recorded in the audit."""
    if patch and payload_file:
        raise typer.BadParameter("give --patch or --payload-file, not both")
    try:
        patch_body = json.loads(patch) if patch else None
    except json.JSONDecodeError as exc:
        raise typer.BadParameter(f"--patch is not JSON: {exc}") from None
    if patch_body is not None and not isinstance(patch_body, dict):
        raise typer.BadParameter("--patch must be a JSON object")
    who = by or getpass.getuser()
    if not yes:
        what = "with a corrected payload" if (patch or payload_file) else "as it is"
        target = deadletters.dlq_topic_of(topic)
        if not typer.confirm(f"ส่งซ้ำ · replay {target}:{partition}:{offset} {what}, as {who}?", err=True):
            raise typer.Exit(1)
    try:
        audit = _run(bootstrap, lambda: deadletters.replay(
            bootstrap, topic, offset, by=who, partition=partition, patch=patch_body,
            payload=payload_file.read_bytes() if payload_file else None, force=force, source=SOURCE))
    except deadletters.DeadLetterError as exc:
        raise _refused(exc, as_json) from None
    if as_json:
        render.print_json(out, json.loads(audit.model_dump_json()))
    else:
        out.print(render.replay_text(audit))
