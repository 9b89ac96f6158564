"""What happens to a case in notify, each step one transaction: a routing starts alerting, a timer escalates or
reminds, a responder acknowledges, declines or resolves. Events go out through the outbox in the same transaction,
so a step is done whole or not at all — a crash mid-step leaves it to be done again, never half or twice."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import asyncpg

from hotline_common import outbox, topics
from hotline_common.events import (
    ActionVia,
    AlertFailed,
    CaseAcknowledged,
    CaseDeclined,
    CaseEscalated,
    CaseResolved,
    CaseRouted,
    Priority,
    ResolveOutcome,
    ResponderRecord,
)
from hotline_common.events.base import utcnow
from hotline_common.events.rota import EscalationTarget
from hotline_common.metrics import ACKNOWLEDGEMENT_SECONDS, ALERTS, SLA_BREACHES, province_of
from hotline_gazetteer import gazetteer
from hotline_notify import escalation, repository
from hotline_notify.alerts import alert_id_for
from hotline_notify.channels.base import AlertKind
from hotline_notify.config import NotifySettings
from hotline_notify.oncall import Directory

log = logging.getLogger("hotline.notify.workflow")


class ActionRefused(Exception):
    """An action that cannot be taken now, with a reason in Thai and English for the responder."""

    def __init__(self, code: str, th: str, en: str) -> None:
        super().__init__(en)
        self.code, self.th, self.en = code, th, en


@dataclass(frozen=True)
class Outcome:
    done: bool  # False: it had been done already (an idempotent repeat), nothing new happened
    status: str  # the case's status after it


@dataclass
class Workflow:
    settings: NotifySettings
    directory: Directory
    source: str  # CloudEvents source of notify's events
    instance: str  # names this process in timers.fired_by

    # ---- a routing ----------------------------------------------------------------------------------------------

    async def start(self, conn: asyncpg.Connection, routed: CaseRouted) -> datetime | None:
        """Alert the first level of the unit's policy and set the acknowledgement deadline's timer (returned: when
        the timer set falls due). A newer routing of the same case (a decline, a re-route) first stops everything
        the older one still had pending; a re-prioritisation of the same unit's routing is `_reprioritise`."""
        case = await repository.get_case(conn, routed.case_id, lock=True)
        if case is not None and (case["attempt"] > routed.attempt or case["status"] == "resolved"):
            log.info("case %s: routing attempt %d ignored (case at attempt %d, %s)", routed.case_id,
                     routed.attempt, case["attempt"], case["status"])
            return None
        if case is not None and routed.reprioritised_from is not None and _same_unit(case, routed):
            return await self._reprioritise(conn, case, routed)
        # A re-prioritisation of a unit the case has left meanwhile (or never reached notify) is a routing there.
        return await self._route(conn, case, routed, kind="new", routed_at=routed.occurred_at)

    async def _route(self, conn: asyncpg.Connection, case: asyncpg.Record | None, routed: CaseRouted, *,
                     kind: AlertKind, routed_at: datetime) -> datetime | None:
        if case is not None:
            await repository.cancel_pending(conn, routed.case_id)
            await repository.cancel_timers(conn, routed.case_id)
        unit = routed.center_id or routed.agency_id
        policy = (self.directory.policy(unit) if unit else []) or escalation.default_policy(
            self.settings.default_escalation_minutes)
        now = utcnow()
        deadline = escalation.first_escalation_at(routed.occurred_at, routed.ack_deadline, self.settings.clock_scale)
        await repository.start_routing(
            conn, case_id=routed.case_id, case_number=routed.case_number, routed_event_id=routed.event_id,
            routed_at=routed_at, attempt=routed.attempt, category=routed.category.value,
            priority=routed.priority.value, tambon_code=routed.tambon_code, center_id=routed.center_id,
            agency_id=routed.agency_id, unit_name_th=routed.center_name_th or routed.agency_name_th,
            ack_deadline=deadline, policy=escalation.to_json(policy), safety=routed.safety.model_dump(mode="json"))
        first = escalation.steps(policy)[0]
        people = self.directory.targets(first.targets, unit, now)
        started = await repository.get_case(conn, routed.case_id)
        assert started is not None
        await self._alert(conn, started, people, step=0, level=1, kind=kind)
        if not people:
            await self._nobody(conn, started, unit, "nobody is on call for this unit")
        if deadline is None:
            return None
        # Nobody to alert: escalate at once rather than wait for a deadline nobody can meet.
        fire_at = deadline if people else now
        await repository.schedule_timer(conn, case_id=routed.case_id, routed_event_id=routed.event_id,
                                        kind="escalate", step=1, fire_at=fire_at)
        return fire_at

    async def _reprioritise(self, conn: asyncpg.Connection, case: asyncpg.Record,
                            routed: CaseRouted) -> datetime | None:
        """The case became more urgent where it is. Nobody has it yet: alert the unit again from the first level,
        as "urgent", towards the new (earlier) deadline. Somebody has it: they keep it, are told, and their visit
        deadline shortens. Declined (being re-routed: the next routing carries the new priority) or resolved:
        nothing to do."""
        if case["attempt"] >= routed.attempt or case["status"] in ("declined", "resolved"):
            log.info("case %s: re-prioritisation attempt %d to %s ignored (case at attempt %d, %s)",
                     case["case_number"], routed.attempt, routed.priority, case["attempt"], case["status"])
            return None
        if case["status"] == "acknowledged":
            return await self._reprioritise_acknowledged(conn, case, routed)
        # The unit has had the case since its routing: time to acknowledge still counts from then.
        return await self._route(conn, case, routed, kind="urgent", routed_at=case["routed_at"])

    async def _reprioritise_acknowledged(self, conn: asyncpg.Connection, case: asyncpg.Record,
                                         routed: CaseRouted) -> datetime | None:
        now = utcnow()
        window = self.settings.visit_window(routed.priority)
        visit = min((d for d in (case["visit_deadline"], now + window if window is not None else None)
                     if d is not None), default=None)
        await repository.reprioritise_acknowledged(
            conn, case["case_id"], routed_event_id=routed.event_id, attempt=routed.attempt,
            priority=routed.priority.value, visit_deadline=visit,
            ack_deadline=escalation.first_escalation_at(routed.occurred_at, routed.ack_deadline,
                                                        self.settings.clock_scale))
        # The reminders of the old visit deadline go; the new one's are keyed by the new routing.
        await repository.cancel_timers(conn, case["case_id"], kind="visit_reminder")
        if visit is not None:
            await repository.schedule_timer(conn, case_id=case["case_id"], routed_event_id=routed.event_id,
                                            kind="visit_reminder", step=1, fire_at=visit)
        raised = await repository.get_case(conn, case["case_id"])
        assert raised is not None
        people = self._acknowledger(raised)
        await self._alert(conn, raised, people, step=0, level=raised["level"], kind="urgent")
        if not people:
            await self._nobody(conn, raised, _unit(raised),
                               "the responder who acknowledged cannot be reached to tell them it is more urgent")
        return visit

    # ---- timers -------------------------------------------------------------------------------------------------

    async def fire(self, conn: asyncpg.Connection, timer: asyncpg.Record) -> None:
        case = await repository.get_case(conn, timer["case_id"], lock=True)
        if case is None or case["routed_event_id"] != timer["routed_event_id"]:
            return  # the case moved on (a newer routing); its own timers carry on
        if timer["kind"] == "escalate" and case["status"] == "alerting":
            await self._escalate(conn, case, timer["step"])
        elif timer["kind"] == "visit_reminder" and case["status"] == "acknowledged":
            await self._remind(conn, case, timer["step"])

    async def _escalate(self, conn: asyncpg.Connection, case: asyncpg.Record, number: int) -> None:
        policy = escalation.from_json(case["policy"])
        unit = _unit(case)
        current = escalation.step(policy, number)
        deadline: datetime | None = case["ack_deadline"]
        # Step 1 falls due at the deadline; it fires before it only when nobody was on call to alert (counted as
        # alerts with outcome "nobody" instead).
        if number == 1 and deadline is not None and deadline <= utcnow():
            _breach(case, "acknowledgement")
        if current is None:
            _breach(case, "unacknowledged")
            await repository.set_step(conn, case["case_id"], step=number, level=case["level"],
                                      status="unacknowledged")
            await self._publish_escalated(conn, case, level=case["level"], step=number, targets=[], alerted=0,
                                          reroute=False, final=True,
                                          reason="escalation policy exhausted: nobody acknowledged")
            log.error("case %s: escalation policy exhausted, nobody acknowledged", case["case_number"])
            return
        now = utcnow()
        people = self.directory.targets(current.targets, unit, now)
        kind: AlertKind = "realert" if current.realert else "escalated"
        await self._alert(conn, case, people, step=number, level=current.level, kind=kind)
        await repository.set_step(conn, case["case_id"], step=number, level=current.level, status="alerting")
        await self._publish_escalated(
            conn, case, level=current.level, step=number, targets=current.targets, alerted=len(people),
            reroute=current.reroute, final=False,
            reason=("re-alert: not acknowledged in time" if current.realert
                    else f"escalated to level {current.level}: not acknowledged in time"))
        if not people:
            await self._nobody(conn, case, unit, f"nobody to alert at escalation level {current.level}")
        due = escalation.next_at(policy, number, now, self.settings.clock_scale) if people else now
        await repository.schedule_timer(conn, case_id=case["case_id"], routed_event_id=case["routed_event_id"],
                                        kind="escalate", step=number + 1, fire_at=due or now)

    async def _remind(self, conn: asyncpg.Connection, case: asyncpg.Record, number: int) -> None:
        """Step 1 reminds the responder who acknowledged; step 2, later, their supervisors (the policy's second
        level, or the hotline supervisors)."""
        now = utcnow()
        unit = _unit(case)
        if number == 1:
            _breach(case, "visit")
            people = self._acknowledger(case)
            await self._alert(conn, case, people, step=1, level=case["level"], kind="visit_reminder")
            await repository.schedule_timer(
                conn, case_id=case["case_id"], routed_event_id=case["routed_event_id"], kind="visit_reminder",
                step=2, fire_at=now + self.settings.scaled(timedelta(minutes=self.settings.reminder_minutes)))
            return
        policy = escalation.from_json(case["policy"])
        targets = policy[1].targets if len(policy) > 1 else [EscalationTarget(kind="hotline_supervisor")]
        people = self.directory.targets(targets, unit, now)
        # Level 2 whoever acknowledged: the receivers see that it is the supervisors' turn.
        await self._alert(conn, case, people, step=2, level=2, kind="visit_reminder")

    # ---- responders' actions -------------------------------------------------------------------------------------

    async def acknowledge(self, conn: asyncpg.Connection, case_id: uuid.UUID, *, responder_id: uuid.UUID,
                          via: ActionVia, routed_event_id: uuid.UUID | None = None) -> Outcome:
        case = await self._current(conn, case_id, routed_event_id)
        if case["status"] in ("acknowledged", "resolved"):
            if case["acknowledged_by"] == responder_id:
                return Outcome(done=False, status=case["status"])
            who = self.directory.responder(case["acknowledged_by"])
            name = who.display_name if who else "another responder"
            raise ActionRefused("already_acknowledged", f"มีผู้รับเรื่องแล้ว: {name}",
                                f"already acknowledged by {name}")
        if case["status"] == "declined":
            raise ActionRefused("declined", "เรื่องนี้ถูกปฏิเสธและส่งต่อแล้ว", "declined; it is being re-routed")
        await repository.cancel_pending(conn, case_id)
        await repository.cancel_timers(conn, case_id)
        window = self.settings.visit_window(Priority(case["priority"]))
        now = utcnow()
        visit = now + window if window is not None else None
        at = await repository.set_acknowledged(conn, case_id, responder_id=responder_id, visit_deadline=visit)
        if visit is not None:
            await repository.schedule_timer(conn, case_id=case_id, routed_event_id=case["routed_event_id"],
                                            kind="visit_reminder", step=1, fire_at=visit)
        await repository.record_action(conn, case_id=case_id, responder_id=responder_id, action="acknowledge",
                                       via=via)
        seconds = max(0.0, (at - case["routed_at"]).total_seconds())
        await outbox.enqueue(conn, topics.CASE_ACKNOWLEDGED, CaseAcknowledged(
            case_id=case_id, case_number=case["case_number"], responder_id=responder_id, center_id=case["center_id"],
            agency_id=case["agency_id"], routed_event_id=case["routed_event_id"], via=via, level=case["level"],
            seconds_to_acknowledge=seconds, visit_deadline=visit), source=self.source)
        # Observed before the caller commits: only a failed commit (then retried by the responder) counts twice.
        ACKNOWLEDGEMENT_SECONDS.labels(priority=case["priority"]).observe(seconds)
        return Outcome(done=True, status="acknowledged")

    async def decline(self, conn: asyncpg.Connection, case_id: uuid.UUID, *, responder_id: uuid.UUID,
                      reason: str, via: ActionVia, routed_event_id: uuid.UUID | None = None) -> Outcome:
        case = await self._current(conn, case_id, routed_event_id)
        if case["status"] == "declined":
            return Outcome(done=False, status="declined")
        if case["status"] == "resolved":
            raise ActionRefused("resolved", "เรื่องนี้ปิดแล้ว", "the case is resolved")
        if case["center_id"] is None:
            raise ActionRefused("one_home", "ทีม One Home รับเรื่องนี้ ไม่สามารถส่งต่อศูนย์อื่นได้ โปรดติดต่อผู้ควบคุม 1300",
                                "the provincial One Home team has this case: call the 1300 supervisor to hand it on")
        await repository.cancel_pending(conn, case_id)
        await repository.cancel_timers(conn, case_id)
        await repository.set_declined(conn, case_id)
        await repository.record_action(conn, case_id=case_id, responder_id=responder_id, action="decline", via=via,
                                       detail=reason)
        await outbox.enqueue(conn, topics.CASE_DECLINED, CaseDeclined(
            case_id=case_id, case_number=case["case_number"], center_id=case["center_id"], responder_id=responder_id,
            reason=reason, via=via), source=self.source)
        return Outcome(done=True, status="declined")

    async def resolve(self, conn: asyncpg.Connection, case_id: uuid.UUID, *, responder_id: uuid.UUID,
                      outcome: ResolveOutcome, via: ActionVia, routed_event_id: uuid.UUID | None = None) -> Outcome:
        case = await self._current(conn, case_id, routed_event_id)
        if case["status"] == "resolved":
            return Outcome(done=False, status="resolved")
        if case["status"] != "acknowledged":
            raise ActionRefused("not_acknowledged", "โปรดกดรับเรื่องก่อนปิดเรื่อง", "acknowledge the case before "
                                "resolving it")
        await repository.cancel_pending(conn, case_id)
        await repository.cancel_timers(conn, case_id)
        await repository.set_resolved(conn, case_id, responder_id=responder_id, outcome=outcome.value)
        await repository.record_action(conn, case_id=case_id, responder_id=responder_id, action="resolve", via=via,
                                       detail=outcome.value)
        await outbox.enqueue(conn, topics.CASE_RESOLVED, CaseResolved(
            case_id=case_id, case_number=case["case_number"], responder_id=responder_id, center_id=case["center_id"],
            outcome=outcome, via=via), source=self.source)
        return Outcome(done=True, status="resolved")

    async def _current(self, conn: asyncpg.Connection, case_id: uuid.UUID,
                       routed_event_id: uuid.UUID | None) -> asyncpg.Record:
        """The case, locked, if an action from an alert of `routed_event_id` may act on it (None: not from an
        alert, e.g. the API)."""
        case = await repository.get_case(conn, case_id, lock=True)
        if case is None:
            raise ActionRefused("unknown_case", "ไม่พบเรื่องนี้", "no such case")
        if routed_event_id is not None and case["routed_event_id"] != routed_event_id:
            unit = await repository.unit_alerted(conn, case_id, routed_event_id)
            if not alert_still_current(case, routed_event_id, unit):
                raise ActionRefused("moved", "เรื่องนี้ถูกส่งต่อไปยังศูนย์อื่นแล้ว",
                                    "the case has moved to another center")
        return case

    # ---- shared ---------------------------------------------------------------------------------------------------

    def _acknowledger(self, case: asyncpg.Record) -> list[ResponderRecord]:
        """The responder who acknowledged the case, if they can still be reached."""
        me = self.directory.responder(case["acknowledged_by"])
        return [me] if me is not None and me.active and me.channels else []

    async def _alert(self, conn: asyncpg.Connection, case: asyncpg.Record, people: list[ResponderRecord], *,
                     step: int, level: int, kind: AlertKind) -> int:
        created = 0
        for person in people:
            created += await repository.insert_alert(
                conn, alert_id=alert_id_for(case["routed_event_id"], person.responder_id, step, kind),
                case_id=case["case_id"], case_number=case["case_number"], routed_event_id=case["routed_event_id"],
                responder_id=person.responder_id, center_id=_unit(case), step=step,
                level=level, kind=kind, channels=[c.model_dump(mode="json") for c in person.channels],
                payload=self._payload(case))
        return created

    def _payload(self, case: asyncpg.Record) -> dict[str, Any]:
        """What every alert about the case says: no caller data, no description."""
        tambon = gazetteer().tambon(case["tambon_code"])
        deadline: datetime | None = case["ack_deadline"]
        visit: datetime | None = case["visit_deadline"]
        return {"case_id": str(case["case_id"]), "case_number": case["case_number"], "priority": case["priority"],
                "category": case["category"], "tambon_code": case["tambon_code"],
                "place_th": tambon.path_th() if tambon else case["tambon_code"],
                "lat": tambon.lat if tambon else None, "lon": tambon.lon if tambon else None,
                "unit_name_th": case["unit_name_th"],
                "ack_deadline": deadline.isoformat() if deadline else None, "safety": case["safety"],
                "visit_deadline": visit.isoformat() if visit else None}

    async def _nobody(self, conn: asyncpg.Connection, case: asyncpg.Record, unit: uuid.UUID | None,
                      why: str) -> None:
        ALERTS.labels(channel="none", outcome="nobody").inc()
        await outbox.enqueue(conn, topics.ALERT_FAILED, AlertFailed(
            alert_id=alert_id_for(case["routed_event_id"], unit or case["case_id"], case["step"], "nobody"),
            case_id=case["case_id"], case_number=case["case_number"], center_id=unit, attempts=0, last_error=why),
            source=self.source)

    async def _publish_escalated(self, conn: asyncpg.Connection, case: asyncpg.Record, *, level: int, step: int,
                                 targets: list[EscalationTarget], alerted: int, reroute: bool, final: bool,
                                 reason: str) -> None:
        await outbox.enqueue(conn, topics.CASE_ESCALATED, CaseEscalated(
            case_id=case["case_id"], case_number=case["case_number"], level=level, step=step,
            center_id=case["center_id"], reroute=reroute and case["center_id"] is not None, reason=reason,
            targets=[t.kind for t in targets], alerted=alerted, final=final), source=self.source)


def _breach(case: asyncpg.Record, kind: str) -> None:
    SLA_BREACHES.labels(priority=case["priority"], kind=kind, province=province_of(case["tambon_code"])).inc()


def _unit(case: asyncpg.Record) -> uuid.UUID | None:
    """The unit that has the case: its center, or the agency for a One Home routing (as alerts.center_id)."""
    unit: uuid.UUID | None = case["center_id"] or case["agency_id"]
    return unit


def _same_unit(case: asyncpg.Record, routed: CaseRouted) -> bool:
    center: uuid.UUID | None = case["center_id"]
    agency: uuid.UUID | None = case["agency_id"]
    return center == routed.center_id and agency == routed.agency_id


def alert_still_current(case: asyncpg.Record, routed_event_id: uuid.UUID, unit: uuid.UUID | None) -> bool:
    """May an alert of routing `routed_event_id` sent to `unit` still act on the case? Yes for the case's current
    routing, and for an earlier one of the unit that has the case now (a re-prioritisation keeps the unit, so its
    first alert still works). No once the case has moved to another unit (a decline, a re-route)."""
    current: uuid.UUID = case["routed_event_id"]
    return current == routed_event_id or (unit is not None and unit == _unit(case))
