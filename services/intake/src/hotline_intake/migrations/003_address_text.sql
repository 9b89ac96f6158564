-- A free-text address (a LINE message, a walk-in's words): it can name a house, so it is sealed like the caller's data.
ALTER TABLE cases ADD COLUMN address_enc bytea;
ALTER TABLE cases ADD COLUMN needs_place boolean NOT NULL DEFAULT false;
