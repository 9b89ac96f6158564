-- One alert = one responder to reach about one routing of a case. The unique key makes a redelivered
-- routing event harmless: it cannot create a second alert for the same responder and routing.
CREATE TABLE alerts (
    alert_id        uuid PRIMARY KEY,
    case_id         uuid NOT NULL,
    case_number     text NOT NULL,
    routed_event_id uuid NOT NULL,
    responder_id    uuid NOT NULL,
    center_id       uuid NOT NULL,
    channel         text NOT NULL,
    address         text NOT NULL,
    secret_ref      text,
    payload         jsonb NOT NULL,
    status          text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed')),
    attempts        int NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    lease_until     timestamptz,
    last_error      text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    sent_at         timestamptz,
    UNIQUE (routed_event_id, responder_id)
);
CREATE INDEX alerts_due ON alerts (next_attempt_at) WHERE status = 'pending';
CREATE INDEX alerts_case ON alerts (case_id);

-- Every delivery attempt: when, how, what came back.
CREATE TABLE attempts (
    id          bigserial PRIMARY KEY,
    alert_id    uuid NOT NULL REFERENCES alerts ON DELETE CASCADE,
    at          timestamptz NOT NULL DEFAULT now(),
    channel     text NOT NULL,
    outcome     text NOT NULL,
    http_status int,
    error       text,
    duration_ms double precision NOT NULL
);
CREATE INDEX attempts_alert ON attempts (alert_id);

-- The demo responders' webhook lands here in local mode (DEMO_ALERT_WEBHOOK_URL's default).
CREATE TABLE demo_inbox (
    delivery_id  text PRIMARY KEY,
    received_at  timestamptz NOT NULL DEFAULT now(),
    signature_ok boolean NOT NULL,
    body         jsonb NOT NULL
);
