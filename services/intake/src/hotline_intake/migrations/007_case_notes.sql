-- What is added to a case after the report: an operator's note, a later LINE message from the person, center
-- staff's words after a walk-in visit. The text is the person's story, so it is sealed like the description.
CREATE TABLE case_notes (
    note_id    bigserial PRIMARY KEY,
    case_id    uuid NOT NULL REFERENCES cases ON DELETE CASCADE,
    source     text NOT NULL CHECK (source IN ('operator', 'line', 'walk_in', 'supervisor')),
    author     text NOT NULL,
    body_enc   bytea NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX case_notes_case ON case_notes (case_id, note_id);
