-- Runs right after deploy/postgres/init.sql at the cluster's bootstrap. init.sql gives every service role its own
-- name as password (dev only); here those passwords go, and CloudNativePG sets the real ones from the Secrets named
-- in the Cluster's spec.managed.roles as soon as the primary is up.
DO $$
DECLARE
    svc text;
BEGIN
    -- The service roles: each owns the schema named after it (init.sql).
    FOR svc IN SELECT r.rolname FROM pg_roles r JOIN pg_namespace n ON n.nspname = r.rolname AND n.nspowner = r.oid
    LOOP
        EXECUTE format('ALTER ROLE %I PASSWORD NULL', svc);
    END LOOP;
END
$$;
