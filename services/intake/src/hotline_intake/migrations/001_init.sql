-- Cases as intake took them. Personal data (caller name, phone, the free-text description) is encrypted
-- (Fernet); the phone also has a keyed hash so a repeat caller can be found without decrypting anything.
CREATE TABLE cases (
    case_id          uuid PRIMARY KEY,
    case_number      text NOT NULL UNIQUE,
    channel          text NOT NULL,
    category         text NOT NULL,
    target_group     text NOT NULL,
    urgency          text,
    tambon_code      char(6),
    lat              double precision,
    lon              double precision,
    description_enc  bytea NOT NULL,
    caller_name_enc  bytea,
    caller_phone_enc bytea,
    caller_phone_key bytea,
    status           text NOT NULL,
    reported_by      text NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX cases_phone ON cases (caller_phone_key) WHERE caller_phone_key IS NOT NULL;

-- Case numbers are per Buddhist-era year: 1300-2569-000001.
CREATE TABLE case_number_counters (
    year_be int PRIMARY KEY,
    last    int NOT NULL
);

-- The case's timeline: one row per event about it; the event id makes re-delivery harmless.
CREATE TABLE case_events (
    event_id    uuid PRIMARY KEY,
    case_id     uuid NOT NULL REFERENCES cases ON DELETE CASCADE,
    type        text NOT NULL,
    occurred_at timestamptz NOT NULL,
    detail      jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX case_events_case ON case_events (case_id, occurred_at);
