-- The operator console: consent to share, linked cases, the live timeline, case search.

-- The caller agreed that the center may share what they said (with the agencies it refers the case to).
ALTER TABLE cases ADD COLUMN consent_to_share boolean NOT NULL DEFAULT false;

-- Cases that belong together: `same_caller` (linked when the later case is reported: the same keyed phone hash),
-- `possible_duplicate` (the same incident through another channel: suggested, never merged silently). One row per
-- pair, from the newer case to the older one; the case view reads both directions.
CREATE TABLE case_links (
    case_id    uuid NOT NULL REFERENCES cases ON DELETE CASCADE,
    related_id uuid NOT NULL REFERENCES cases ON DELETE CASCADE,
    kind       text NOT NULL CHECK (kind IN ('same_caller', 'possible_duplicate')),
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (case_id, related_id, kind),
    CHECK (case_id <> related_id)
);
CREATE INDEX case_links_related ON case_links (related_id);

-- The order entries were recorded in, which `occurred_at` is not (routed and alert_sent come from different topics).
-- A case's timeline writers hold the case row (FOR UPDATE), so within one case this is also the commit order: a
-- live stream resumes after the last `seq` its client saw (Last-Event-ID) and misses nothing.
ALTER TABLE case_events ADD COLUMN seq bigint GENERATED ALWAYS AS IDENTITY;
CREATE INDEX case_events_case_seq ON case_events (case_id, seq);

-- Every new timeline entry is announced (at commit) to intake's processes, which push it to the consoles following
-- that case (hotline_intake.live): whichever replica a console is connected to. The payload names ids only. Not
-- for `reported`: nobody follows a case before it exists, and NOTIFY serialises committing transactions, which
-- the report's hot path does not need.
CREATE FUNCTION case_event_recorded() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('intake_case_events', NEW.case_id::text || ':' || NEW.event_id::text);
    RETURN NULL;
END
$$;
CREATE TRIGGER case_events_announce AFTER INSERT ON case_events
    FOR EACH ROW WHEN (NEW.type <> 'reported') EXECUTE FUNCTION case_event_recorded();

-- Case search, newest first: by day, sub-district or status (the phone has `cases_phone`, the centers theirs).
CREATE INDEX cases_newest ON cases (created_at DESC, case_id DESC);
CREATE INDEX cases_tambon_newest ON cases (tambon_code, created_at DESC);
CREATE INDEX cases_status_newest ON cases (status, created_at DESC);
