-- Roles and schemas for the Hotline services. Run connected to database `hotline`.
-- Idempotent: applied on every `hotline-dev` start, and by the official postgres
-- image from /docker-entrypoint-initdb.d on first boot.
--
-- DEV ONLY: every service role's password equals its name (intake/intake, ...).
-- Real deployments create these roles with secrets from their secret store.
--
-- Each service owns exactly one schema named after it; nobody else gets USAGE on it,
-- so a service can neither read nor write another service's tables.

DO $$
DECLARE
    svc text;
BEGIN
    FOREACH svc IN ARRAY ARRAY['intake', 'routing', 'notify', 'registry', 'ops'] LOOP
        IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = svc) THEN
            EXECUTE format('CREATE ROLE %I LOGIN PASSWORD %L', svc, svc);
        ELSE
            EXECUTE format('ALTER ROLE %I LOGIN PASSWORD %L', svc, svc);
        END IF;

        EXECUTE format('CREATE SCHEMA IF NOT EXISTS %I AUTHORIZATION %I', svc, svc);
        EXECUTE format('ALTER SCHEMA %I OWNER TO %I', svc, svc);
        EXECUTE format('REVOKE ALL ON SCHEMA %I FROM PUBLIC', svc);
        -- Unqualified table names resolve to the service's own schema.
        EXECUTE format('ALTER ROLE %I SET search_path = %I', svc, svc);
        EXECUTE format('GRANT CONNECT, TEMPORARY ON DATABASE %I TO %I', current_database(), svc);
    END LOOP;
END
$$;

-- Hygiene: nothing lands in (or is read from) `public` by accident.
REVOKE ALL ON SCHEMA public FROM PUBLIC;
