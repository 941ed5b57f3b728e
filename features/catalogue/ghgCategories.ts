/**
 * GHG Protocol scope 3 categories (Corporate Value Chain (Scope 3) Standard, table 5.3) and how a
 * DESNZ factor gets one. The mapping is documented in docs/inventory.md; a change here reaches stored
 * factors at the next catalogue load (the loader upserts the category like any published value).
 */
export const SCOPE3_CATEGORIES: Readonly<Record<number, string>> = {
  1: "Purchased goods and services",
  2: "Capital goods",
  3: "Fuel- and energy-related activities",
  4: "Upstream transportation and distribution",
  5: "Waste generated in operations",
  6: "Business travel",
  7: "Employee commuting",
  8: "Upstream leased assets",
  9: "Downstream transportation and distribution",
  10: "Processing of sold products",
  11: "Use of sold products",
  12: "End-of-life treatment of sold products",
  13: "Downstream leased assets",
  14: "Franchises",
  15: "Investments",
}

export const scope3CategoryName = (category: number): string => SCOPE3_CATEGORIES[category] ?? `Category ${category}`

/**
 * DESNZ `Level 1` → category, for Scope 3 rows. Well-to-tank and transmission & distribution are the
 * upstream part of fuels and electricity (3) whatever they fuel: the GHG Protocol lets business
 * travel (6) include its WTT, which an activity's `category` column can ask for. Freight defaults to
 * the goods a company buys the transport of (4); "downstream transportation" in the activity refines
 * it to 9. Managed assets are assets the company leases and operates outside its scope 1 and 2 (8).
 */
const DESNZ_LEVEL1: ReadonlyArray<readonly [RegExp, number]> = [
  [/^WTT\b/i, 3],
  [/^Transmission and distribution$/i, 3],
  [/T&D/i, 3],
  [/^Business travel/i, 6],
  [/^Hotel stay$/i, 6],
  [/^Freighting goods$/i, 4],
  [/^Waste disposal$/i, 5],
  [/^Water treatment$/i, 5],
  [/^Material use$/i, 1],
  [/^Water supply$/i, 1],
  [/^Homeworking$/i, 7],
  [/^Managed assets/i, 8],
]

/** The category of a Scope 3 DESNZ factor from its levels; null for Scope 1 and 2 and for unknown levels. */
export const desnzScope3Category = (scope: string | null, level1: string): number | null => {
  if (scope?.trim() !== "Scope 3") return null
  for (const [pattern, category] of DESNZ_LEVEL1) if (pattern.test(level1.trim())) return category
  return null
}

/**
 * What an activity's own `category` column may say to refine a scope 3 factor's category: the
 * category's number ("6", "3.6", "cat 6", "category 6", "s3-6") or its name ("business travel",
 * "downstream transportation and distribution"), case and punctuation aside. Everyday words such as
 * "travel" or "waste" are not aliases: they say what the activity is, not which category it reports
 * under, and the factor already knows that.
 */
export const normaliseCategoryText = (text: string): string =>
  text
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, " ")
    .trim()

const NUMBER_FORMS = /^(?:(?:scope )?3 |s3 |scope 3 category |category |cat |c)?(\d{1,2})$/

const NAME_ALIASES: ReadonlyArray<readonly [string, number]> = [
  ...Object.entries(SCOPE3_CATEGORIES).map(([n, name]) => [normaliseCategoryText(name), Number(n)] as const),
  ["purchased goods", 1],
  ["fuel and energy related activities", 3],
  ["upstream transportation", 4],
  ["upstream transport", 4],
  ["downstream transportation", 9],
  ["downstream transport", 9],
  ["end of life treatment", 12],
]

/** The category an activity's `category` text names, if it names one (see above). */
export const refinedScope3Category = (text: string | null): number | null => {
  if (text === null) return null
  const normalised = normaliseCategoryText(text)
  const number = NUMBER_FORMS.exec(normalised)
  if (number) {
    const n = Number(number[1])
    return n >= 1 && n <= 15 ? n : null
  }
  for (const [alias, category] of NAME_ALIASES) if (normalised === alias) return category
  return null
}

/**
 * Every normalised alias with its category, for SQL to join an activity's category text against
 * (numbers 1–15 in each accepted form included): the inventory applies refinements set-based.
 */
export const scope3CategoryAliases = (): ReadonlyArray<readonly [string, number]> => {
  const aliases: Array<readonly [string, number]> = [...NAME_ALIASES]
  for (let n = 1; n <= 15; n++) {
    for (const form of ["", "3 ", "scope 3 ", "s3 ", "scope 3 category ", "category ", "cat ", "c"]) aliases.push([`${form}${n}`, n])
  }
  return aliases
}
