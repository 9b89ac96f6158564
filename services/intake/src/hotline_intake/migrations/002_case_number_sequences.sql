-- Case numbers come from one sequence per Buddhist-era year (case_number_2569, ...), created on demand:
-- the counter table serialised every report behind one row lock. Existing years continue where they were.
DO $$
DECLARE
    r record;
BEGIN
    FOR r IN SELECT year_be, last FROM case_number_counters LOOP
        EXECUTE format('CREATE SEQUENCE IF NOT EXISTS %I', 'case_number_' || r.year_be);
        PERFORM setval(format('%I', 'case_number_' || r.year_be)::regclass, r.last);
    END LOOP;
END
$$;
DROP TABLE case_number_counters;
