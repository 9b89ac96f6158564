-- Every time a caller's details (name, phone, their own words) are opened: who, as what, why, when.
-- Never the details themselves. Kept with the case so an inquiry can answer "who saw this caller's number?".
CREATE TABLE contact_access (
    access_id   bigserial PRIMARY KEY,
    case_id     uuid NOT NULL REFERENCES cases ON DELETE CASCADE,
    subject     text NOT NULL,
    role        text NOT NULL,
    purpose     text NOT NULL,
    accessed_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX contact_access_case ON contact_access (case_id, accessed_at);
