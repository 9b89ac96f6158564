-- The whole directory: every entity is its published record (doc) plus the columns lists filter on, and a
-- version for optimistic concurrency (the ETag). Pre-release: the 001 tables held only seeded demo data.
DROP TABLE IF EXISTS accounts, responders, centers CASCADE;

CREATE TABLE centers (
    center_id     uuid PRIMARY KEY,
    version       integer NOT NULL DEFAULT 1,
    doc           jsonb NOT NULL,
    name_th       text NOT NULL,
    tambon_code   char(6) NOT NULL,
    amphoe_code   char(4) NOT NULL,
    province_code char(2) NOT NULL,
    host_type     text NOT NULL,
    status        text NOT NULL CHECK (status IN ('active', 'suspended', 'closed')),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    updated_by    text NOT NULL
);
CREATE INDEX centers_tambon ON centers (tambon_code);
CREATE INDEX centers_province ON centers (province_code, status);

CREATE TABLE center_status_history (
    id          bigserial PRIMARY KEY,
    center_id   uuid NOT NULL,
    status      text NOT NULL,
    reason      text NOT NULL DEFAULT '',
    changed_by  text NOT NULL,
    changed_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX center_status_history_center ON center_status_history (center_id, id);

CREATE TABLE agencies (
    agency_id     uuid PRIMARY KEY,
    version       integer NOT NULL DEFAULT 1,
    doc           jsonb NOT NULL,
    name_th       text NOT NULL,
    agency_type   text NOT NULL,
    province_code char(2) NOT NULL,
    status        text NOT NULL,
    updated_at    timestamptz NOT NULL DEFAULT now(),
    updated_by    text NOT NULL
);
CREATE INDEX agencies_province ON agencies (province_code, agency_type);

CREATE TABLE responders (
    responder_id uuid PRIMARY KEY,
    version      integer NOT NULL DEFAULT 1,
    doc          jsonb NOT NULL,
    display_name text NOT NULL,
    kind         text NOT NULL,
    active       boolean NOT NULL,
    center_ids   uuid[] NOT NULL,
    agency_ids   uuid[] NOT NULL,
    updated_at   timestamptz NOT NULL DEFAULT now(),
    updated_by   text NOT NULL
);
CREATE INDEX responders_centers ON responders USING gin (center_ids);
CREATE INDEX responders_agencies ON responders USING gin (agency_ids);

-- One responder per phone number: an SMS or a call-back must reach the person the directory names.
CREATE TABLE responder_phones (
    phone        text PRIMARY KEY,
    responder_id uuid NOT NULL REFERENCES responders ON DELETE CASCADE
);

CREATE TABLE rotas (
    rota_id    uuid PRIMARY KEY,
    version    integer NOT NULL DEFAULT 1,
    doc        jsonb NOT NULL,
    name       text NOT NULL,
    unit_kind  text NOT NULL,
    unit_id    uuid NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    updated_by text NOT NULL
);
CREATE INDEX rotas_unit ON rotas (unit_id);

-- Who changed what: every write of the directory, with the record before and after.
CREATE TABLE audit_log (
    id          bigserial PRIMARY KEY,
    at          timestamptz NOT NULL DEFAULT now(),
    actor       text NOT NULL,
    action      text NOT NULL,
    entity_kind text NOT NULL,
    entity_id   uuid NOT NULL,
    before      jsonb,
    after       jsonb
);
CREATE INDEX audit_log_entity ON audit_log (entity_id, id);

CREATE TABLE accounts (
    username      text PRIMARY KEY,
    password_hash text NOT NULL,
    role          text NOT NULL,
    center_id     uuid,
    agency_id     uuid,
    created_at    timestamptz NOT NULL DEFAULT now()
);
