-- Sites and measured emissions. A site has an optional emission limit per month or year;
-- devices send measurements for it, and activity files name it in their `site` column.
CREATE TABLE sites (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    code TEXT NOT NULL CHECK (code ~ '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$'),
    name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    country TEXT NOT NULL CHECK (country ~ '^[A-Z]{2}$'),
    emission_limit_kg_co2e NUMERIC CHECK (emission_limit_kg_co2e > 0),
    limit_period TEXT NOT NULL CHECK (limit_period IN ('month', 'year')),
    created_by UUID REFERENCES users(id),
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- A file says "ldn-1" as often as "LDN-1": codes are unique whatever their case, and matched so.
CREATE UNIQUE INDEX sites_code_key ON sites (lower(code));

-- One row per reading. The unique key is what makes a retried or overlapping batch harmless:
-- a reading already stored is a duplicate, never a second count. NULLS NOT DISTINCT: a reading
-- without a device id is still one reading per (site, gas, timestamp).
CREATE TABLE measurements (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    site_id UUID NOT NULL REFERENCES sites(id),
    device_id TEXT,
    gas TEXT NOT NULL,
    measured_at TIMESTAMPTZ NOT NULL,
    quantity NUMERIC NOT NULL CHECK (quantity >= 0),
    unit TEXT NOT NULL CHECK (unit IN ('g', 'kg', 't')),
    method TEXT,
    -- The GWP applied and the factor it came from, so a total can be traced to its publication.
    gwp NUMERIC NOT NULL,
    gwp_ref TEXT NOT NULL,
    kg NUMERIC NOT NULL,
    kg_co2e NUMERIC NOT NULL,
    recorded_by TEXT NOT NULL,
    recorded_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT measurements_once UNIQUE NULLS NOT DISTINCT (site_id, device_id, gas, measured_at)
);

-- The site page's daily chart reads a site's readings by time.
CREATE INDEX measurements_site_time_idx ON measurements (site_id, measured_at);

-- Running totals, updated in the transaction that stores the readings. Kept per calendar month
-- (UTC) and gas: a year's total is the sum of its months, so changing a site's limit period needs
-- no rebuild.
CREATE TABLE site_month_totals (
    site_id UUID NOT NULL REFERENCES sites(id),
    month DATE NOT NULL CHECK (extract(day FROM month) = 1),
    gas TEXT NOT NULL,
    kg NUMERIC NOT NULL DEFAULT 0,
    kg_co2e NUMERIC NOT NULL DEFAULT 0,
    measurements BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (site_id, month, gas)
);

-- One alert per site, period and threshold, ever: the unique key is what stops a retry, a replay or
-- a concurrent batch from raising a second one.
CREATE TABLE site_alerts (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    site_id UUID NOT NULL REFERENCES sites(id),
    period TEXT NOT NULL,
    threshold INTEGER NOT NULL CHECK (threshold IN (80, 100)),
    total_kg_co2e NUMERIC NOT NULL,
    limit_kg_co2e NUMERIC NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT site_alerts_once UNIQUE (site_id, period, threshold)
);

-- An activity file's `site` column: the site the activity belongs to (by id, so renaming a code
-- keeps the link).
ALTER TABLE activities ADD COLUMN site_id UUID REFERENCES sites(id);
CREATE INDEX activities_site_idx ON activities (site_id, activity_date) WHERE site_id IS NOT NULL;

-- The match job checks the limits of the sites an upload names after each write: for an upload that
-- names none, this index has no entry and the check costs one probe.
CREATE INDEX activities_site_upload_idx ON activities (upload_id) WHERE site_id IS NOT NULL;
