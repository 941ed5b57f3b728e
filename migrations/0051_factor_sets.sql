-- Factor sets and restatement: the catalogue holds each source's publications side by side (DESNZ 2023,
-- DESNZ 2024, …), and a recalculation moves an inventory's activities from one set to another.

-- A set is a source and a year ('DESNZ:2023', 'Ember:2024'): generated, so a factor belongs to exactly
-- one set and an activity's set is its factor's. Loading another year adds rows (the key is
-- (source, source_id, year)), never changes another year's.
ALTER TABLE emission_factors
    ADD COLUMN factor_set TEXT GENERATED ALWAYS AS (source || ':' || year::text) STORED;
CREATE INDEX emission_factors_factor_set_idx ON emission_factors (factor_set);
-- Which rows are current (no newer edition of the source replaces them): the search looks for newer
-- rows of the same source, by year. A row's counterpart in another set is found by the unique key.
CREATE INDEX emission_factors_source_year_idx ON emission_factors (source, year);

-- A restatement asked for: queued by the API, claimed by a worker (FOR UPDATE SKIP LOCKED), run in one
-- transaction. `lease` names the claim: a worker that died leaves the row claimable once `lease_until`
-- has passed, and a claim that was taken over can no longer finish (its final update names its lease).
-- `result` is the restatement (counts, totals before and after by scope and category) as the API shows it.
CREATE TABLE recalculations (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    factor_set TEXT NOT NULL,
    upload_id UUID REFERENCES uploads(id),
    preview BOOLEAN NOT NULL DEFAULT false,
    status TEXT NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'running', 'done', 'failed')),
    phase TEXT NOT NULL DEFAULT 'queued' CHECK (phase IN ('queued', 'planning', 'writing', 'done', 'failed')),
    requested_by UUID REFERENCES users(id),
    requested_role TEXT,
    correlation_id TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    lease UUID,
    lease_until TIMESTAMPTZ,
    activities_in_scope INTEGER,
    result JSONB,
    error TEXT,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    started_at TIMESTAMPTZ,
    finished_at TIMESTAMPTZ,
    CONSTRAINT recalculations_done_has_result CHECK (status <> 'done' OR result IS NOT NULL)
);
CREATE INDEX recalculations_claim_idx ON recalculations (created_at) WHERE status IN ('queued', 'running');
CREATE INDEX recalculations_list_idx ON recalculations (created_at DESC, id DESC);

-- The activities a recalculation could not move, and why: listed for a person, never guessed.
--   not_in_set    the target set has no row with the factor's source id
--   unit_changed  the target row is per another unit, so the quantity cannot be priced on it as it was
--   unit_unknown  the activity's or the row's unit is not in the unit registry
--   too_large     the restated emissions would pass the most one activity may have
CREATE TABLE recalculation_unmapped (
    recalculation_id UUID NOT NULL REFERENCES recalculations(id) ON DELETE CASCADE,
    activity_id UUID NOT NULL REFERENCES activities(id) ON DELETE CASCADE,
    factor_id UUID NOT NULL REFERENCES emission_factors(id),
    reason TEXT NOT NULL CHECK (reason IN ('not_in_set', 'unit_changed', 'unit_unknown', 'too_large')),
    message TEXT NOT NULL,
    PRIMARY KEY (recalculation_id, activity_id)
);

-- A history row of a restatement names it, and only those rows do.
ALTER TABLE activity_history
    ADD CONSTRAINT activity_history_recalculation_fk FOREIGN KEY (recalculation_id) REFERENCES recalculations(id),
    ADD CONSTRAINT activity_history_recalculation_named CHECK ((source = 'recalculation') = (recalculation_id IS NOT NULL));
CREATE INDEX activity_history_recalculation_idx ON activity_history (recalculation_id) WHERE recalculation_id IS NOT NULL;
