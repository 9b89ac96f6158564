-- A responder's account names their directory record: acting on an alert by API, or opening a caller's details,
-- is done as that responder, whatever the login name.
ALTER TABLE accounts ADD COLUMN responder_id uuid REFERENCES responders (responder_id) ON DELETE SET NULL;
