-- Notify's view of each case it alerts about: which routing is current, where the escalation stands, and what the
-- responders did. One row per case; a new routing (decline, re-route) replaces the current one.
CREATE TABLE cases (
    case_id          uuid PRIMARY KEY,
    case_number      text NOT NULL,
    routed_event_id  uuid NOT NULL,          -- the current routing
    routed_at        timestamptz NOT NULL,
    attempt          int NOT NULL,
    category         text NOT NULL,
    priority         text NOT NULL,
    tambon_code      text NOT NULL,
    center_id        uuid,                   -- NULL: the provincial One Home team (the agency) has the case
    agency_id        uuid,
    unit_name_th     text,
    ack_deadline     timestamptz,            -- scaled by NOTIFY_CLOCK_SCALE
    policy           jsonb NOT NULL,         -- the escalation levels, as at the routing
    step             int NOT NULL DEFAULT 0, -- escalation steps taken (0: the first alert only)
    level            int NOT NULL DEFAULT 1,
    status           text NOT NULL DEFAULT 'alerting'
                     CHECK (status IN ('alerting', 'acknowledged', 'resolved', 'declined', 'unacknowledged')),
    acknowledged_by  uuid,
    acknowledged_at  timestamptz,
    visit_deadline   timestamptz,
    resolved_by      uuid,
    resolved_at      timestamptz,
    outcome          text,
    updated_at       timestamptz NOT NULL DEFAULT now()
);

-- Alerts: one per responder per routing per escalation step; the channel falls back in the responder's order.
ALTER TABLE alerts ALTER COLUMN center_id DROP NOT NULL;
ALTER TABLE alerts ADD COLUMN step int NOT NULL DEFAULT 0;
ALTER TABLE alerts ADD COLUMN level int NOT NULL DEFAULT 1;
ALTER TABLE alerts ADD COLUMN kind text NOT NULL DEFAULT 'new';
ALTER TABLE alerts ADD COLUMN channels jsonb NOT NULL DEFAULT '[]';  -- the responder's channels, in order
ALTER TABLE alerts ADD COLUMN channel_index int NOT NULL DEFAULT 0;
ALTER TABLE alerts ADD COLUMN channel_attempts int NOT NULL DEFAULT 0;
ALTER TABLE alerts DROP CONSTRAINT alerts_status_check;
ALTER TABLE alerts ADD CONSTRAINT alerts_status_check CHECK (status IN ('pending', 'sent', 'failed', 'cancelled'));
ALTER TABLE alerts DROP CONSTRAINT alerts_routed_event_id_responder_id_key;
ALTER TABLE alerts ADD CONSTRAINT alerts_once UNIQUE (routed_event_id, responder_id, step, kind);
CREATE INDEX alerts_responder_due ON alerts (responder_id, next_attempt_at) WHERE status = 'pending';

ALTER TABLE attempts ADD COLUMN delivery_id uuid;
ALTER TABLE attempts ADD COLUMN address_hint text;  -- e.g. "sms …5678": enough to debug, not a directory copy

-- Durable timers: escalation steps and visit reminders. A timer fires once (claimed with SKIP LOCKED, its effects
-- written in the same transaction), survives restarts, and is cancelled by an acknowledgement or a new routing.
CREATE TABLE timers (
    timer_id        bigserial PRIMARY KEY,
    case_id         uuid NOT NULL REFERENCES cases ON DELETE CASCADE,
    routed_event_id uuid NOT NULL,
    kind            text NOT NULL CHECK (kind IN ('escalate', 'visit_reminder')),
    step            int NOT NULL,
    fire_at         timestamptz NOT NULL,
    state           text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'fired', 'cancelled', 'failed')),
    fired_at        timestamptz,
    fired_by        text,                    -- which notify instance
    error           text,                    -- a timer set aside by a bug (state 'failed')
    UNIQUE (routed_event_id, kind, step)
);
CREATE INDEX timers_due ON timers (fire_at) WHERE state = 'pending';

-- What responders did, from which surface: the audit trail of acknowledgements, declines and resolutions.
CREATE TABLE actions (
    id           bigserial PRIMARY KEY,
    case_id      uuid NOT NULL,
    responder_id uuid NOT NULL,
    action       text NOT NULL CHECK (action IN ('acknowledge', 'decline', 'resolve', 'view')),
    via          text NOT NULL,
    detail       text NOT NULL DEFAULT '',
    at           timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX actions_case ON actions (case_id);
