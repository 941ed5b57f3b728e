-- Every stored emission is at most 10^15 kg CO2e per activity (MAX_ACTIVITY_EMISSIONS_KG in
-- features/catalogue/units/QuantityRange.ts; this file keeps its own copy because an applied migration
-- never changes). One larger value, such as 1e308 litres priced before the range existed, overflowed
-- the tenant's totals to Infinity, which JSON writes as null. Such activities are failed the way the
-- match job now fails them, so the totals are right again; the constraint then makes a future pricing
-- that skipped the check fail loudly instead of storing the number. NUMERIC's 'NaN' and 'Infinity' compare
-- greater than any number, so they are refused too.
-- Quantities get no constraint: rows stored before the range keep the value their file had, and the
-- parser is the gate for new ones.
UPDATE activities
SET status = 'failed', failure_kind = 'invalid',
    failure_reason = 'The calculated emissions exceed 1e15 kg CO2e, the most one activity may have (twenty times the world''s yearly emissions): check the quantity and its unit.',
    emissions = NULL, emissions_unit = NULL, matched_factor_id = NULL, factor_confidence = NULL, match_source = NULL,
    updated_at = now()
WHERE abs(emissions) > 1e15;

ALTER TABLE activities
    ADD CONSTRAINT activities_emissions_range CHECK (emissions IS NULL OR abs(emissions) <= 1e15);
