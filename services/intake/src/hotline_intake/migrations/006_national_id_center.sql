-- A national ID number given for the person (validated, check digit included), sealed like the caller's data.
ALTER TABLE cases ADD COLUMN national_id_enc bytea;
-- Which tambon center a case belongs to, for center staff who see only their own: the center whose staff
-- registered it (a walk-in) and the center routing last chose.
ALTER TABLE cases ADD COLUMN reported_center_id uuid;
ALTER TABLE cases ADD COLUMN center_id uuid;
CREATE INDEX cases_reported_center ON cases (reported_center_id) WHERE reported_center_id IS NOT NULL;
CREATE INDEX cases_center ON cases (center_id) WHERE center_id IS NOT NULL;
