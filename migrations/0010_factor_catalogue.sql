-- The emission factor catalogue: public factors (DESNZ 2023, Ember grid intensities) with the
-- provenance an auditor needs to trace a factor back to its publication row, a text search index
-- for GET /v1/emission-factors?q=, and the match cache the matching pipeline fills.

-- Rows that predate the catalogue (hand-entered in the seed) keep working: they get their own id
-- as source id and the 'manual' source, so the new NOT NULL and unique constraints hold.
ALTER TABLE emission_factors
    ADD COLUMN source_id TEXT,
    ADD COLUMN category_path TEXT[] NOT NULL DEFAULT '{}',
    ADD COLUMN scope TEXT,
    ADD COLUMN licence TEXT,
    ADD COLUMN attribution TEXT,
    ADD COLUMN publication TEXT,
    ADD COLUMN source_file TEXT,
    ADD COLUMN ghg_unit TEXT NOT NULL DEFAULT 'kg CO2e',
    ADD COLUMN is_primary BOOLEAN NOT NULL DEFAULT true,
    ADD COLUMN dimension TEXT;

UPDATE emission_factors SET source = coalesce(source, 'manual'), source_id = coalesce(source_id, id::text),
    year = coalesce(year, extract(year FROM created_at)::int);

ALTER TABLE emission_factors
    ALTER COLUMN source SET NOT NULL,
    ALTER COLUMN source_id SET NOT NULL,
    ALTER COLUMN year SET NOT NULL,
    ADD CONSTRAINT emission_factors_source_row_key UNIQUE (source, source_id, year),
    ADD CONSTRAINT emission_factors_dimension_check CHECK (dimension IS NULL OR dimension IN (
        'energy', 'volume', 'mass', 'distance', 'passenger_distance', 'freight',
        'time_nights', 'labour_hours', 'area', 'count'));

-- The stable external reference (`DESNZ:2023:1_100_1000_15_1`) the matcher answers with and
-- exports cite; generated so it can never disagree with the columns it is made of.
ALTER TABLE emission_factors
    ADD COLUMN ref TEXT GENERATED ALWAYS AS (source || ':' || year::text || ':' || source_id) STORED;
CREATE UNIQUE INDEX emission_factors_ref_idx ON emission_factors (ref);

-- array_to_string is only STABLE, so the search document is a generated column built from an
-- IMMUTABLE wrapper; the GIN index then serves `search_document @@ websearch_to_tsquery(...)`.
CREATE FUNCTION emission_factor_search_document(name TEXT, category_path TEXT[]) RETURNS tsvector
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN setweight(to_tsvector('english'::regconfig, coalesce(name, '')), 'A')
        || setweight(to_tsvector('english'::regconfig, coalesce(array_to_string(category_path, ' '), '')), 'B');

ALTER TABLE emission_factors
    ADD COLUMN search_document tsvector
        GENERATED ALWAYS AS (emission_factor_search_document(name, category_path)) STORED;
CREATE INDEX emission_factors_search_idx ON emission_factors USING GIN (search_document);
CREATE INDEX emission_factors_filter_idx ON emission_factors (geography, unit);

-- One row per match key (normalised description + canonical unit + geography): the cache the
-- match pipeline consults before calling the AI matcher, and where manual overrides live.
CREATE TABLE match_cache (
    key TEXT PRIMARY KEY,
    description_normalised TEXT NOT NULL,
    unit TEXT NOT NULL,
    geography TEXT,
    factor_id UUID REFERENCES emission_factors(id),
    confidence NUMERIC CHECK (confidence IS NULL OR (confidence >= 0 AND confidence <= 1)),
    source TEXT NOT NULL CHECK (source IN ('ai', 'manual')),
    hits BIGINT NOT NULL DEFAULT 0,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX match_cache_factor_idx ON match_cache (factor_id);
