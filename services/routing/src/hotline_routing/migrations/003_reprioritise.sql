-- The routing each decision published: raising an open case's urgency re-publishes its current routing with the
-- new priority and deadline (same center, same agency) instead of deciding it again.
ALTER TABLE decisions ADD COLUMN routed jsonb;
