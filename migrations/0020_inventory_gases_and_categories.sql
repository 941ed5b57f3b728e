-- The inventory: what each factor says about greenhouse gases and GHG Protocol categories,
-- and each priced activity's emissions split by gas.

-- Per-gas parts of a total factor, as the publication gives them (DESNZ "kg CO2e of CO2 per unit", …);
-- NULL where the source publishes only the total (Ember grid intensities, refrigerants). The part of
-- the total they do not cover (HFCs, rounding in the publication) is the activity's `other`.
-- `gwp_set` names the global-warming potentials behind the CO2e figures, part of the provenance:
-- CO2e from one publication is not comparable with another's without it.
ALTER TABLE emission_factors
    ADD COLUMN co2_factor NUMERIC,
    ADD COLUMN ch4_factor NUMERIC,
    ADD COLUMN n2o_factor NUMERIC,
    ADD COLUMN gwp_set TEXT,
    -- The GHG Protocol scope as a number, derived from the published text so the two never disagree.
    ADD COLUMN ghg_scope SMALLINT GENERATED ALWAYS AS (
        CASE scope WHEN 'Scope 1' THEN 1 WHEN 'Scope 2' THEN 2 WHEN 'Scope 3' THEN 3 END) STORED,
    -- Scope 3 only: the category 1–15 by the mapping in features/catalogue/ghgCategories.ts.
    ADD COLUMN scope3_category SMALLINT CHECK (scope3_category BETWEEN 1 AND 15);

ALTER TABLE emission_factors
    ADD CONSTRAINT emission_factors_scope3_category_scope CHECK (scope3_category IS NULL OR ghg_scope = 3);

-- Emissions per gas, written by the same statement that prices the activity. `emissions_other` is the
-- remainder and generated, so the four parts add up to `emissions` exactly by construction, whatever
-- wrote the row; activities priced before this migration have all of theirs in `other`.
ALTER TABLE activities
    ADD COLUMN emissions_co2 NUMERIC,
    ADD COLUMN emissions_ch4 NUMERIC,
    ADD COLUMN emissions_n2o NUMERIC,
    ADD COLUMN emissions_other NUMERIC GENERATED ALWAYS AS (
        emissions - coalesce(emissions_co2, 0) - coalesce(emissions_ch4, 0) - coalesce(emissions_n2o, 0)) STORED,
    ADD CONSTRAINT activities_gas_parts_need_emissions CHECK (
        emissions IS NOT NULL OR (emissions_co2 IS NULL AND emissions_ch4 IS NULL AND emissions_n2o IS NULL));

-- The inventory reads calculated activities by date; undated ones are few and read in the same scan.
CREATE INDEX activities_calculated_date_idx ON activities (activity_date) WHERE status = 'calculated';
