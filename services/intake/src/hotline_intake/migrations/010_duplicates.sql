-- A possible duplicate incident is only a suggestion until an operator decides: how likely it looked (score),
-- then what they decided, who and when. Nothing is merged: a decided "same incident" links the two cases for
-- everyone who opens either; "different" stops suggesting it.
ALTER TABLE case_links ADD COLUMN score real;
ALTER TABLE case_links ADD COLUMN decision text CHECK (decision IN ('same_incident', 'different'));
ALTER TABLE case_links ADD COLUMN decided_by text;
ALTER TABLE case_links ADD COLUMN decided_at timestamptz;
