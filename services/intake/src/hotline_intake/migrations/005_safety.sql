-- How the person may be contacted safely (do not call back, safe hours, LINE only, a woman officer, silent SOS):
-- it travels with the case to every responder. Not personal data (it names no one), so not sealed.
ALTER TABLE cases ADD COLUMN safety jsonb NOT NULL DEFAULT '{}';
