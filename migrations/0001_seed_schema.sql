-- The seed's data schema: roles, users, emission factors, uploads and activities.
-- Later migrations evolve it; this file never changes once applied (its checksum is recorded).
CREATE EXTENSION IF NOT EXISTS pgcrypto;

CREATE TYPE role AS ENUM ('admin', 'accountant', 'viewer');

CREATE TABLE users (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    cognito_sub UUID UNIQUE,                        -- set in AWS mode, from Cognito's `sub` claim
    email TEXT UNIQUE NOT NULL CHECK (email ~* '^[^@]+@[^@]+\.[^@]+$'),
    first_name TEXT,
    last_name TEXT,
    role role NOT NULL DEFAULT 'viewer',
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE emission_factors (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    name TEXT NOT NULL,
    activity_type TEXT NOT NULL,
    unit TEXT NOT NULL,
    factor_value NUMERIC NOT NULL,
    factor_unit TEXT NOT NULL,
    source TEXT,
    year INTEGER,
    geography TEXT,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TYPE upload_status AS ENUM ('pending_upload', 'uploaded', 'parsing', 'parsed', 'failed');

CREATE TABLE uploads (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    accountant UUID NOT NULL REFERENCES users(id),
    s3_object_url TEXT NOT NULL UNIQUE,
    status upload_status NOT NULL DEFAULT 'pending_upload',
    failure_reason TEXT,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TYPE activity_status AS ENUM ('ingested', 'matching', 'calculated', 'failed');

CREATE TABLE activities (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    upload_id UUID NOT NULL REFERENCES uploads(id),
    row_number INTEGER,
    raw_description TEXT NOT NULL,
    raw_volume NUMERIC,
    raw_unit TEXT,
    status activity_status NOT NULL DEFAULT 'ingested',
    matched_factor_id UUID REFERENCES emission_factors(id),
    factor_confidence NUMERIC,
    emissions NUMERIC,
    emissions_unit TEXT,
    failure_reason TEXT,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE INDEX activities_upload_idx ON activities (upload_id);
