-- What the ops console keeps of each case: only safe fields (no names, phones, descriptions, addresses), enough
-- for the open P1/P2 cases not yet acknowledged and for today's cases by province. Filled from the case topics by
-- the durable consumer group `hotline-ops`; every handler is order-independent, so topics read at different
-- speeds still converge.
CREATE TABLE cases (
    case_id          uuid PRIMARY KEY,
    case_number      text NOT NULL,
    reported_at      timestamptz,          -- occurred_at of hotline.case.reported.v1
    channel          text,
    category         text,
    reported_urgency text,                 -- the operator's, until routing assesses it
    priority         text,                 -- routing's, raised by an urgency raised later; never lowered
    province_code    text,
    tambon_code      text,
    routing_attempt  int,                  -- of the current routing (attempt of CaseRouted)
    routed_at        timestamptz,          -- of the current routing to a unit (not a re-prioritisation)
    ack_deadline     timestamptz,
    center_name_th   text,
    agency_name_th   text,
    acknowledged_at  timestamptz,
    declined_at      timestamptz,
    escalation_level int,
    unroutable_at    timestamptz,
    resolved_at      timestamptz,
    updated_at       timestamptz NOT NULL DEFAULT now()
);

-- The urgent list: open, not acknowledged, by deadline.
CREATE INDEX cases_waiting ON cases (ack_deadline) WHERE resolved_at IS NULL AND acknowledged_at IS NULL;
-- Today's map.
CREATE INDEX cases_reported_at ON cases (reported_at);
