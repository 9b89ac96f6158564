-- The national directory: centers, responders and the accounts that sign in.
CREATE TABLE centers (
    center_id     uuid PRIMARY KEY,
    name_th       text NOT NULL,
    name_en       text NOT NULL,
    tambon_code   char(6) NOT NULL,
    amphoe_code   char(4) NOT NULL,
    province_code char(2) NOT NULL,
    lat           double precision NOT NULL,
    lon           double precision NOT NULL,
    host_type     text NOT NULL DEFAULT 'sao',
    status        text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended', 'closed')),
    updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX centers_tambon ON centers (tambon_code);

CREATE TABLE responders (
    responder_id uuid PRIMARY KEY,
    display_name text NOT NULL,
    kind         text NOT NULL,
    center_ids   uuid[] NOT NULL,
    channels     jsonb NOT NULL,
    active       boolean NOT NULL DEFAULT true,
    updated_at   timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE accounts (
    username      text PRIMARY KEY,
    password_hash text NOT NULL,
    role          text NOT NULL,
    center_id     uuid REFERENCES centers,
    created_at    timestamptz NOT NULL DEFAULT now()
);
