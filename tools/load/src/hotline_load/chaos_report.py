"""How `hotline-chaos` judges a scenario and reports the suite: one verdict per scenario from the load generator's
window summary (hotline_load.run.analyse), and one table for all of them.

Definitions (the same in every scenario):
- refused: offers the platform did not take (an HTTP error, a refused connection while intake was down, 503 while
  PostgreSQL was): the caller knows and tries again; not lost.
- lost: a case intake accepted (201, or a LINE conversation whose case number the bot told) that never reached the
  responders' webhook, plus LINE conversations intake kept (200) but never answered with a case number.
- redelivered: the same alert received again under the same delivery id (`X-Hotline-Delivery`, the webhook
  contract's idempotency key), e.g. resent after a timeout the receiver had in fact processed: a receiver that
  honours the contract drops it, so the responder does not see it twice.
- duplicates: an alert (its `alert_id`) received under two or more delivery ids: the responder sees it twice even
  though the receiver honours the contract. A scenario passes with no case lost and no duplicate.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from hotline_load.kit import fmt


def verdict(summary: Mapping[str, Any], facts: Mapping[str, Any], error: str | None = None) -> dict[str, Any]:
    """One scenario's figures from its window summary; `error`: the fault could not be injected or undone."""
    unanswered = int(summary["not_accepted"])
    lost = int(summary["lost"]) + unanswered
    duplicates = int(summary["alerts_seen_twice"])
    return {
        "name": summary["name"], "offered": summary["offered"], "accepted": summary["accepted"],
        "refused": summary["errors"], "refused_by": summary["error_statuses"], "alerted": summary["delivered"],
        "lost": lost, "lost_unalerted": summary["lost"], "lost_unanswered_line": unanswered,
        "lost_case_numbers": summary["lost_case_numbers"], "duplicates": duplicates,
        "redelivered_same_id": summary["duplicate_deliveries"], "p99_ms": summary["e2e_ms"]["p99"],
        "max_ms": summary["e2e_ms"]["max"], "drain_s": summary["drain_s"], "max_lag": summary["max_lag"],
        "facts": dict(facts), "error": error, "ok": lost == 0 and duplicates == 0 and error is None,
    }


def describe_facts(facts: Mapping[str, Any]) -> str:
    """The fault-specific figures, short: `restart 6.2 s, silence 9.1 s`."""
    parts = []
    for key, value in facts.items():
        label = (key[:-2] if key.endswith("_s") else key).replace("_", " ")
        if key.endswith("_s") and isinstance(value, (int, float)):
            parts.append(f"{label} {value:.1f} s")
        elif isinstance(value, (list, tuple)):
            parts.append(f"{label} {','.join(map(str, value))}")
        elif isinstance(value, Mapping):
            parts.append(f"{label} " + ", ".join(f"{k} ×{n}" for k, n in value.items()))
        else:
            parts.append(f"{label} {value}")
    return ", ".join(parts)


def line(v: Mapping[str, Any]) -> str:
    """One scenario, as the log prints it when it ends."""
    text = (f"{v['name']}: offered {v['offered']}, accepted {v['accepted']}, refused {v['refused']}, alerted "
            f"{v['alerted']}, lost {v['lost']}, duplicates {v['duplicates']} (redelivered with the same id "
            f"{v['redelivered_same_id']}), accept → alert p99 {fmt(v['p99_ms'], 0)} ms, max {fmt(v['max_ms'], 0)} ms")
    if v["facts"]:
        text += f"; {describe_facts(v['facts'])}"
    if v["error"]:
        text += f"; ERROR {v['error']}"
    return text


COLUMNS = ("scenario", "offered", "accepted", "refused", "alerted", "lost", "dup", "redeliv.", "p99 ms", "max ms",
           "verdict", "fault")


def table(verdicts: Sequence[Mapping[str, Any]]) -> str:
    """The suite's summary: one row per scenario; `redeliv.` are same-id repeats a receiver drops (not failures)."""
    rows = [COLUMNS]
    for v in verdicts:
        rows.append((v["name"], str(v["offered"]), str(v["accepted"]), str(v["refused"]), str(v["alerted"]),
                     str(v["lost"]), str(v["duplicates"]), str(v["redelivered_same_id"]), fmt(v["p99_ms"], 0),
                     fmt(v["max_ms"], 0), "ok" if v["ok"] else ("ERROR" if v["error"] else "FAIL"),
                     describe_facts(v["facts"])))
    widths = [max(len(r[i]) for r in rows) for i in range(len(COLUMNS) - 1)]
    rule = "  ".join("-" * w for w in widths) + "  " + "-" * 5
    out = [rule]
    for i, r in enumerate(rows):
        cells = [c.ljust(w) if j == 0 else c.rjust(w) for j, (c, w) in enumerate(zip(r[:-1], widths, strict=True))]
        out.append("  ".join(cells) + "  " + r[-1])
        if i == 0:
            out.append(rule)
    out.append(rule)
    failed = [v["name"] for v in verdicts if not v["ok"]]
    out.append(f"{len(verdicts) - len(failed)} of {len(verdicts)} scenarios lost no case and doubled no alert"
               + (f"; failed: {', '.join(failed)}" if failed else ""))
    return "\n".join(out)
