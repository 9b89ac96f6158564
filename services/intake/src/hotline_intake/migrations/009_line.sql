-- The public's LINE official account. Every webhook event is kept here before LINE gets its 200, so nothing a person
-- sends is lost; the LINE webhookEventId makes LINE's redeliveries harmless. The event (it holds the person's LINE
-- user id and words) is sealed, and emptied once handled; the row stays for deduplication and the per-user rate.
CREATE TABLE line_inbox (
    event_id     text PRIMARY KEY,           -- LINE's webhookEventId (a ULID)
    seq          bigserial NOT NULL,         -- arrival order, after the event's own timestamp
    user_key     bytea NOT NULL,             -- keyed hash of the LINE user id (vault.lookup_hash)
    occurred_at  timestamptz NOT NULL,       -- the event's timestamp at LINE
    received_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    redelivery   boolean NOT NULL DEFAULT false,
    event_enc    bytea,                      -- the event's JSON, sealed; NULL once handled
    attempts     int NOT NULL DEFAULT 0,
    last_error   text,
    processed_at timestamptz
);
CREATE INDEX line_inbox_waiting ON line_inbox (user_key, occurred_at, seq) WHERE processed_at IS NULL;
CREATE INDEX line_inbox_handled ON line_inbox (user_key, processed_at) WHERE processed_at IS NOT NULL;

-- One conversation per LINE user: the draft report (the person's words, so sealed as a whole) and the open case
-- their later messages are added to. The sealed user id is the callback reference (pushes go to it).
CREATE TABLE line_conversations (
    user_key    bytea PRIMARY KEY,
    user_id_enc bytea NOT NULL,
    state_enc   bytea NOT NULL,
    case_id     uuid,
    updated_at  timestamptz NOT NULL DEFAULT now()
);

-- What the bot owes each user, in order: sent by reply token while it is fresh, else pushed with the row id as
-- X-Line-Retry-Key (a retry after a lost answer is not delivered twice). Deleted once LINE accepts it.
CREATE TABLE line_replies (
    reply_id         uuid PRIMARY KEY,
    seq              bigserial NOT NULL,
    user_key         bytea NOT NULL,
    reply_token      text,
    token_expires_at timestamptz,
    messages_enc     bytea NOT NULL,
    attempts         int NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz NOT NULL DEFAULT now(),
    last_error       text,
    failed_at        timestamptz             -- LINE refused it for good (logged; kept for the ops team)
);
CREATE INDEX line_replies_due ON line_replies (user_key, seq) WHERE failed_at IS NULL;
