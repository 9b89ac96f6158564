-- The sub-district a report is in, as duplicate detection places it: the one given, or the one nearest a position
-- (a LINE location). Indexed with the time so a new report's look for the same incident reads only its own
-- sub-district's last hours, not every recent case in the country (it is in the report's transaction).
ALTER TABLE cases ADD COLUMN place_code char(6);
UPDATE cases SET place_code = tambon_code WHERE place_code IS NULL;
CREATE INDEX cases_place_recent ON cases (place_code, created_at DESC) WHERE place_code IS NOT NULL;
CREATE INDEX cases_position_recent ON cases (created_at DESC, lat, lon) WHERE lat IS NOT NULL;
