"""How the `hotline` commands look in a terminal: colours per event type, Thai labels with English beside them."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from hotline_common import labels
from hotline_common.case_history import CaseHistory
from hotline_common.deadletters import DeadLetter, DeadLetterQueue
from hotline_common.events.ops import DeadLetterReplayed
from hotline_common.lag import PartitionLag
from hotline_common.stream import EventView
from hotline_common.thai_time import BANGKOK, BE_OFFSET
from hotline_common.topicinfo import TopicInfo

# event type → (Thai, English, style)
EVENT_STYLE: dict[str, tuple[str, str, str]] = {
    "case.reported": (*labels.CASE_EVENT["reported"], "bold cyan"),
    "case.routed": (*labels.CASE_EVENT["routed"], "green"),
    "case.unroutable": (*labels.CASE_EVENT["unroutable"], "bold red"),
    "case.urgency_raised": (*labels.CASE_EVENT["urgency_raised"], "bold magenta"),
    "case.declined": (*labels.CASE_EVENT["declined"], "yellow"),
    "case.escalated": (*labels.CASE_EVENT["escalated"], "bold yellow"),
    "case.acknowledged": (*labels.CASE_EVENT["acknowledged"], "bold green"),
    "case.resolved": (*labels.CASE_EVENT["resolved"], "blue"),
    "alert.sent": (*labels.CASE_EVENT["alert_sent"], "bright_green"),
    "alert.failed": (*labels.CASE_EVENT["alert_failed"], "red"),
    "ops.audit": ("บันทึกการดูแลระบบ", "ops audit", "bright_magenta"),
    "ops.alarm": ("แจ้งเตือนระบบขัดข้อง", "watchdog alarm", "bold white on dark_orange"),
    "ops.heartbeat": ("สัญญาณชีพ", "heartbeat", "dim"),
}
PRIORITY_STYLE = {"P1": "bold white on red", "P2": "bold red", "P3": "yellow", "P4": "dim"}
DEAD_LETTER_STYLE = "bold white on dark_red"
QUIET_DETAILS = frozenset({"tambon_code", "reported_event_id", "routed_event_id", "alert_id", "responder_id",
                           "replayed_event_id"})


def event_label(view: EventView) -> Text:
    th, en, style = EVENT_STYLE.get(view.event_type, (view.event_type, view.event_type, "white"))
    if view.dead_letter:
        return Text(f"☠ {th} · {en} (dlq)", style=DEAD_LETTER_STYLE)
    return Text(f"{th} · {en}", style=style)


def clock(view: EventView) -> str:
    return f"{view.occurred_at.astimezone(BANGKOK):%H:%M:%S}"


def when_th(view: EventView) -> str:
    local = view.occurred_at.astimezone(BANGKOK)
    return f"{local:%d/%m}/{local.year + BE_OFFSET} {local:%H:%M:%S}"


def summary(view: EventView) -> Text:
    """The view's safe fields in a short line."""
    out = Text()
    if view.priority:
        out.append(f" {view.priority} ", style=PRIORITY_STYLE.get(view.priority, ""))
        out.append(" ")
    parts: list[str] = []
    if view.channel:
        parts.append(view.channel)
    if view.category:
        parts.append(view.category)
    if view.province:
        parts.append(f"จ.{view.province}")
    if view.center_id:
        parts.append(f"center={view.center_id[:8]}")
    for name, value in view.details.items():
        # Ids that only matter to machines, flags that are off, and the urgency already shown as the priority.
        if name in QUIET_DETAILS or (value is False and name != "ready") or (
                name == "urgency" and value == view.priority):
            continue
        parts.append(f"{name}={','.join(map(str, value)) if isinstance(value, list) else value}")
    if view.problem:
        parts.append(f"⚠ {view.problem}")
    out.append("  ".join(parts))
    return out


def event_line(view: EventView) -> Text:
    line = Text(f"{clock(view)}  ", style="dim")
    line.append_text(event_label(view))
    line.append(f"  {view.case_number or '-'}  ", style="bold")
    line.append_text(summary(view))
    return line


def history_table(history: CaseHistory) -> Panel:
    table = Table(expand=True, show_lines=False)
    table.add_column("เวลา · time (ICT)", no_wrap=True)
    table.add_column("เหตุการณ์ · event", no_wrap=True)
    table.add_column("สรุป · summary")
    table.add_column("topic@partition:offset", style="dim", no_wrap=True)
    for view in history.events:
        table.add_row(when_th(view), event_label(view), summary(view),
                      f"{view.topic}@{view.partition}:{view.offset}")
    title = f"เรื่อง · case {history.case_number or '?'}  ({history.case_id})"
    return Panel(table, title=escape(title), subtitle=f"{len(history.events)} events")


def lag_table(rows: Sequence[PartitionLag]) -> Table:
    table = Table(title="ค้างอ่าน · consumer lag")
    for name, justify in (("group", "left"), ("topic", "left"), ("partition", "right"), ("committed", "right"),
                          ("end", "right"), ("lag", "right")):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    for row in rows:
        table.add_row(row.group, row.topic, str(row.partition), "-" if row.committed is None else str(row.committed),
                      str(row.end), Text(str(row.lag), style="bold red" if row.lag else "green"))
    return table


def lag_totals(rows: Sequence[PartitionLag]) -> dict[str, int]:
    totals: dict[str, int] = {}
    for row in rows:
        totals[row.group] = totals.get(row.group, 0) + row.lag
    return totals


def retention(ms: int | None) -> str:
    if ms is None:
        return "ตลอดไป · forever"
    days, rest = divmod(ms, 24 * 3600 * 1000)
    return f"{days} d" if not rest else f"{ms / 3_600_000:.1f} h"


def topics_table(infos: Sequence[TopicInfo]) -> Table:
    table = Table(title="หัวข้อ · topics")
    for name, justify in (("topic", "left"), ("partitions", "right"), ("replicas", "right"),
                          ("retention", "right"), ("compacted", "center"), ("records", "right")):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    for t in infos:
        style = "red" if t.dead_letter and t.records else ("dim" if not t.catalogued and not t.dead_letter else "")
        table.add_row(Text(t.name, style=style), str(t.partitions), str(t.replication), retention(t.retention_ms),
                      "✓" if t.compacted else "", str(t.records))
    return table


def queues_table(queues: Sequence[DeadLetterQueue]) -> Table:
    table = Table(title="คิวข้อความที่ประมวลผลไม่ได้ · dead-letter queues")
    for name, justify in (("dlq topic", "left"), ("records", "right"), ("replayed", "right"),
                          ("pending", "right")):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    for q in queues:
        table.add_row(q.topic, str(q.count), str(q.replayed),
                      Text(str(q.pending), style="bold red" if q.pending else "green"))
    return table


def first_line(text: str, width: int = 80) -> str:
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line if len(line) <= width else line[: width - 1] + "…"


def dead_letters_table(topic: str, items: Sequence[DeadLetter]) -> Table:
    table = Table(title=f"{topic}")
    for name in ("offset", "เวลา · time (ICT)", "error", "reason", "case", "from", "replayed"):
        table.add_column(name)
    for d in items:
        local = d.timestamp.astimezone(BANGKOK)
        origin = f"{d.source_topic}" + (f"@{d.source_partition}:{d.source_offset}" if d.source_offset is not None
                                        else "")
        table.add_row(f"{d.partition}:{d.offset}", f"{local:%d/%m} {local:%H:%M:%S}", Text(d.error, style="red"),
                      first_line(d.reason), d.event.case_number or "-", origin,
                      Text("✓ " + d.replays[-1].replayed_by, style="green") if d.replays else "")
    return table


def dead_letter_panel(d: DeadLetter) -> Panel:
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold")
    grid.add_column()
    local = d.timestamp.astimezone(BANGKOK)
    rows: list[tuple[str, Any]] = [
        ("ที่อยู่ · ref", d.ref),
        ("เวลา · time", f"{local:%d/%m}/{local.year + BE_OFFSET} {local:%H:%M:%S} น."),
        ("จาก · from", f"{d.source_topic}" + (f" partition {d.source_partition} offset {d.source_offset}"
                                               if d.source_offset is not None else " (given up by its service)")),
        ("ข้อผิดพลาด · error", Text(d.error, style="bold red")),
        ("ลองแล้ว · attempts", str(d.attempts) if d.attempts is not None else "-"),
        ("เรื่อง · case", f"{d.event.case_number or '-'} ({d.event.case_id or '-'})"),
        ("เหตุการณ์ · event", f"{d.event.event_type}  id {d.event.event_id or '-'}"),
        ("key", d.key or "-"),
    ]
    for label, value in rows:
        grid.add_row(label, value)
    grid.add_row("สาเหตุ · reason", Text(d.reason))
    grid.add_row("เนื้อหา · payload", Text(json.dumps(d.payload, ensure_ascii=False, indent=2)))
    for r in d.replays:
        grid.add_row("ส่งซ้ำแล้ว · replayed", replay_text(r))
    return Panel(grid, title="dead letter", border_style="red")


def replay_text(r: DeadLetterReplayed) -> Text:
    local = r.occurred_at.astimezone(BANGKOK)
    return Text(f"{local:%d/%m}/{local.year + BE_OFFSET} {local:%H:%M:%S} by {r.replayed_by} → {r.target_topic}"
                f"@{r.target_partition}:{r.target_offset}" + (" (edited)" if r.edited else "")
                + (" (forced)" if r.forced else ""), style="green")


def print_json(console: Console, data: Any) -> None:
    """One JSON document on stdout, never wrapped or highlighted (for scripts)."""
    console.file.write(json.dumps(data, ensure_ascii=False, default=str) + "\n")
    console.file.flush()
