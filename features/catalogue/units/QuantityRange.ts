/**
 * The range every activity quantity and every calculated emission must lie in. A number outside it is
 * a typo, a unit slip or a spreadsheet artefact (1e308 is what some tools write for "infinity"), never
 * a measurement, and it does harm downstream: multiplied by a factor it overflows a double to Infinity,
 * which JSON writes as `null` and which then takes a whole tenant's totals with it; a value below the
 * double's range reads back as 0 although the file said otherwise. So such a row is refused with this
 * range in the message, like any other row error, instead of being stored.
 *
 * Quantities are in the row's own unit, whatever it is: the bounds are far outside any real activity
 * in every unit of the registry, so no per-unit table is needed.
 */

/**
 * The largest quantity is 10^12 of its unit. A trillion kWh is a thirtieth of the world's yearly
 * electricity; a trillion tonne.km, a hundredth of its yearly freight. Larger is a mistake in any unit.
 */
export const MAX_QUANTITY_EXPONENT = 12

/**
 * The smallest quantity other than 0 is 10^-9 of its unit (a microgram in kg, a millionth of a
 * millilitre in L). Smaller values are refused rather than rounded: 1e-400 would be stored, but read
 * back through a double it is 0, so the activity would silently say something the file did not.
 */
export const MIN_QUANTITY_EXPONENT = -9

/**
 * At most 30 significant digits: more than any meter or spreadsheet records (a double holds 17), and
 * the bound that keeps the stored decimal short (PostgreSQL refuses a NUMERIC with more than 16,383
 * digits after the point, which would fail the whole parse instead of naming the row).
 */
export const MAX_QUANTITY_DIGITS = 30

/**
 * The most one activity may emit: 10^15 kg CO2e (1,000 Gt, twenty times the world's yearly
 * emissions). Bounded on its own because quantity × unit ratio × factor can pass it while the quantity
 * is in range (10^12 GWh is 10^18 kWh). With every activity under it, any sum of activities a tenant
 * can hold stays far below a double's limit (~1.8e308), so no total can overflow.
 */
export const MAX_ACTIVITY_EMISSIONS_EXPONENT = 15

/** 10^n as a plain decimal string, exact for NUMERIC (no binary rounding on the way to SQL). */
const powerOfTen = (n: number) => (n >= 0 ? `1${"0".repeat(n)}` : `0.${"0".repeat(-n - 1)}1`)

export const MAX_QUANTITY = powerOfTen(MAX_QUANTITY_EXPONENT)
export const MIN_QUANTITY = powerOfTen(MIN_QUANTITY_EXPONENT)
export const MAX_ACTIVITY_EMISSIONS_KG = powerOfTen(MAX_ACTIVITY_EMISSIONS_EXPONENT)

/** The allowed range as row error messages and the docs state it. */
export const QUANTITY_RANGE_TEXT =
  `a quantity must be 0 or between 1e${MIN_QUANTITY_EXPONENT} and 1e${MAX_QUANTITY_EXPONENT} ` +
  `(${MIN_QUANTITY} to ${MAX_QUANTITY.replace(/\B(?=(\d{3})+$)/g, ",")}) in its unit`

export const EMISSIONS_LIMIT_TEXT = `1e${MAX_ACTIVITY_EMISSIONS_EXPONENT} kg CO2e`
