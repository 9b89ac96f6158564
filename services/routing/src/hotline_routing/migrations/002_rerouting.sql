-- What re-routing needs: the report (without its description) and its assessed priority, and one decision per
-- attempt (the centers already tried are those of the earlier attempts).
CREATE TABLE cases (
    case_id          uuid PRIMARY KEY,
    case_number      text NOT NULL,
    report           jsonb NOT NULL,
    priority         text,
    priority_reasons jsonb NOT NULL DEFAULT '[]',
    created_at       timestamptz NOT NULL DEFAULT now()
);

ALTER TABLE decisions DROP CONSTRAINT decisions_pkey;
ALTER TABLE decisions ADD COLUMN attempt integer NOT NULL DEFAULT 1;
ALTER TABLE decisions ADD COLUMN trigger_event_id uuid;
ALTER TABLE decisions ADD PRIMARY KEY (case_id, attempt);
