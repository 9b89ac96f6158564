"""The topic catalogue: every topic's name, event model, partitions, retention and compaction, declared once."""

from __future__ import annotations

from dataclasses import dataclass

from hotline_common.events import (
    AgencyRecord,
    AlertFailed,
    AlertSent,
    CaseAcknowledged,
    CaseDeclined,
    CaseEscalated,
    CaseReported,
    CaseResolved,
    CaseRouted,
    CaseUnroutable,
    CaseUrgencyRaised,
    CenterRecord,
    DeadLetterReplayed,
    Event,
    ResponderRecord,
    RotaRecord,
    ServiceHeartbeat,
    WatchdogAlarm,
)

DAY_MS = 24 * 3600 * 1000


@dataclass(frozen=True)
class TopicSpec:
    name: str
    model: type[Event]
    retention_ms: int = 30 * DAY_MS
    compacted: bool = False
    # None: the settings' partition count. Registry topics are small and read whole by every consumer.
    partitions: int | None = None

    @property
    def dlq(self) -> str:
        """The dead-letter topic that takes this topic's poison records."""
        return f"{self.name}.dlq"

    def configs(self) -> dict[str, str]:
        if self.compacted:
            # Compacted state never expires; tombstones linger a day so slow readers see deletions.
            return {"cleanup.policy": "compact", "retention.ms": "-1", "delete.retention.ms": str(DAY_MS)}
        return {"cleanup.policy": "delete", "retention.ms": str(self.retention_ms)}


CASE_REPORTED = TopicSpec("hotline.case.reported.v1", CaseReported)
CASE_ROUTED = TopicSpec("hotline.case.routed.v1", CaseRouted)
CASE_UNROUTABLE = TopicSpec("hotline.case.unroutable.v1", CaseUnroutable)
CASE_URGENCY_RAISED = TopicSpec("hotline.case.urgency_raised.v1", CaseUrgencyRaised)
CASE_DECLINED = TopicSpec("hotline.case.declined.v1", CaseDeclined)
CASE_ESCALATED = TopicSpec("hotline.case.escalated.v1", CaseEscalated)
CASE_ACKNOWLEDGED = TopicSpec("hotline.case.acknowledged.v1", CaseAcknowledged)
CASE_RESOLVED = TopicSpec("hotline.case.resolved.v1", CaseResolved)
ALERT_SENT = TopicSpec("hotline.alert.sent.v1", AlertSent)
ALERT_FAILED = TopicSpec("hotline.alert.failed.v1", AlertFailed)
REGISTRY_CENTER = TopicSpec("registry.center.v1", CenterRecord, compacted=True, partitions=1)
REGISTRY_AGENCY = TopicSpec("registry.agency.v1", AgencyRecord, compacted=True, partitions=1)
REGISTRY_RESPONDER = TopicSpec("registry.responder.v1", ResponderRecord, compacted=True, partitions=1)
REGISTRY_ROTA = TopicSpec("registry.rota.v1", RotaRecord, compacted=True, partitions=1)
# What the ops team did (replays of dead letters): one partition, kept longer than any dead letter it refers to.
OPS_AUDIT = TopicSpec("hotline.ops.audit.v1", DeadLetterReplayed, retention_ms=400 * DAY_MS, partitions=1)
# Every instance's heartbeat: only the last minutes matter; one partition keeps them in the order they were sent.
OPS_HEARTBEAT = TopicSpec("hotline.ops.heartbeat.v1", ServiceHeartbeat, retention_ms=DAY_MS, partitions=1)
# The watchdog's pages to the ops on-call (raised, repeated, cleared): the ops console's history of outages.
OPS_ALARM = TopicSpec("hotline.ops.alarm.v1", WatchdogAlarm, retention_ms=90 * DAY_MS, partitions=1)

CATALOGUE: tuple[TopicSpec, ...] = (
    CASE_REPORTED,
    CASE_ROUTED,
    CASE_UNROUTABLE,
    CASE_URGENCY_RAISED,
    CASE_DECLINED,
    CASE_ESCALATED,
    CASE_ACKNOWLEDGED,
    CASE_RESOLVED,
    ALERT_SENT,
    ALERT_FAILED,
    REGISTRY_CENTER,
    REGISTRY_AGENCY,
    REGISTRY_RESPONDER,
    REGISTRY_ROTA,
    OPS_AUDIT,
    OPS_HEARTBEAT,
    OPS_ALARM,
)

BY_NAME: dict[str, TopicSpec] = {spec.name: spec for spec in CATALOGUE}
DLQ_RETENTION_MS = 90 * DAY_MS
