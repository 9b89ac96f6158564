"""Every Prometheus metric of the platform, declared once (the default registry), served at each service's /metrics.

Names are `hotline_*`; the dashboards and alert rules in deploy/ are built on exactly these (a unit test checks).
Label values are bounded and never personal: channels, categories, province codes, priorities, outcomes, topic
names, consumer groups. Never a case id, a number, a name, a phone or any words of a description.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

from hotline_common.events import CaseReported

# --- routing --------------------------------------------------------------------------------------------------
CASES = Counter(
    "hotline_cases", "Cases routing decided for the first time, by channel, category, province (2-digit DOPA code "
    "of the located sub-district, or 'unknown') and priority ('none' when unroutable).",
    ["channel", "category", "province", "priority"])
ROUTING_DECISIONS = Counter(
    "hotline_routing_decisions", "Routing decisions: outcome (routed, unroutable, reprioritised), rule (the center "
    "rule, or the unroutable reason code) and what asked for it (reported, declined, escalated, urgency_raised).",
    ["outcome", "rule", "trigger"])
ROUTING_DECISION_SECONDS = Histogram(
    "hotline_routing_decision_seconds", "Time to decide where a case goes (locate, choose center and agency, "
    "assess priority), without the database and Kafka.",
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5))

# --- notify ---------------------------------------------------------------------------------------------------
ALERTS = Counter(
    "hotline_alerts", "Alert delivery attempts by channel and outcome: delivered, retried (same channel later), "
    "fallback (to the responder's next channel), failed (every channel failed), cancelled (acknowledged while in "
    "flight), nobody (no one to alert; channel 'none').",
    ["channel", "outcome"])
ALERT_DELIVERY_SECONDS = Histogram(
    "hotline_alert_delivery_seconds", "Time of one delivery on a channel (one message, which may carry several "
    "alerts), whatever its result.",
    ["channel"], buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0))
ACKNOWLEDGEMENT_SECONDS = Histogram(
    "hotline_acknowledgement_seconds", "From the unit's routing of a case (its first alert) to a responder's "
    "acknowledgement, by priority.",
    ["priority"], buckets=(30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14400, 43200, 86400, 259200))
SLA_BREACHES = Counter(
    "hotline_sla_breaches", "Deadlines notify saw pass: kind acknowledgement (nobody acknowledged by the routing's "
    "deadline), unacknowledged (the escalation policy ran out), visit (not resolved by the visit deadline); by "
    "priority and province.",
    ["priority", "kind", "province"])

# --- every service --------------------------------------------------------------------------------------------
OUTBOX_BACKLOG = Gauge(
    "hotline_outbox_backlog", "Rows waiting in the service's outbox table (events not yet acknowledged by Kafka).",
    ["service"])
OUTBOX_OLDEST_SECONDS = Gauge(
    "hotline_outbox_oldest_seconds", "Age of the oldest row waiting in the service's outbox (0 when empty).",
    ["service"])
OUTBOX_PUBLISHED = Counter(
    "hotline_outbox_published", "Events the outbox relay published (acknowledged by Kafka), by service and topic.",
    ["service", "topic"])
CONSUMER_LAG = Gauge(
    "hotline_consumer_lag", "Records a consumer group has yet to process on a partition (end offset minus "
    "committed offset), read from the broker by the service that owns the group.",
    ["group", "topic", "partition"])
DEAD_LETTERS = Counter(
    "hotline_dead_letters", "Records sent to `<topic>.dlq`, by original topic and error type.",
    ["topic", "error"])

UNKNOWN = "unknown"
NONE = "none"


def province_of(tambon_code: str | None) -> str:
    """The province part of a 6-digit DOPA sub-district code: a label with 77 values, not a place."""
    return tambon_code[:2] if tambon_code and len(tambon_code) == 6 and tambon_code.isdigit() else UNKNOWN


def count_case(case: CaseReported, *, province: str, priority: str | None) -> None:
    CASES.labels(channel=case.channel.value, category=case.category.value, province=province,
                 priority=priority or NONE).inc()
