import { countryByIso2 } from "@scopeline/catalogue"
import { Schema } from "effect"

export const SiteId = Schema.UUID.pipe(Schema.brand("SiteId"))
export type SiteId = typeof SiteId.Type

export const LimitPeriod = Schema.Literal("month", "year")
export type LimitPeriod = typeof LimitPeriod.Type

/** Letters, digits, `-`, `_` and `.`, as a spreadsheet cell or a device's configuration writes it. */
export const SiteCode = Schema.String.pipe(
  Schema.pattern(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, {
    message: () => "must be 1 to 64 letters, digits, '-', '_' or '.', starting with a letter or digit",
  }),
)

const Name = Schema.String.pipe(Schema.trimmed({ message: () => "must not start or end with spaces" }), Schema.minLength(1), Schema.maxLength(200))

/** ISO 3166-1 alpha-2 in Latin letters of either case, spaces around it ignored; stored as the catalogue writes it ("GB"). */
export const Country = Schema.String.pipe(
  Schema.filter((code) => (/^\s*[A-Za-z]{2}\s*$/.test(code) && countryByIso2(code) !== undefined) || "must be an ISO 3166-1 alpha-2 country code (e.g. GB, SG)"),
  Schema.transform(Schema.String, { strict: true, decode: (code) => countryByIso2(code)!.iso2, encode: (code) => code }),
)

/** A limit in kg CO2e: a positive, finite JSON number; `null` (on PATCH) removes it. */
export const EmissionLimit = Schema.Number.pipe(
  Schema.finite({ message: () => "must be a finite number" }),
  Schema.positive({ message: () => "must be more than 0" }),
  // A limit under a gram would make any reading an overflow of percentages (Infinity, shown as null).
  Schema.greaterThanOrEqualTo(0.001, { message: () => "must be at least 0.001 kg CO2e (1 g)" }),
  Schema.lessThanOrEqualTo(1e15, { message: () => "must be at most 1e15 kg CO2e" }),
)

/** Body of POST /v1/sites. */
export const SiteRequest = Schema.Struct({
  code: SiteCode,
  name: Name,
  country: Country,
  emission_limit_kg_co2e: Schema.optional(Schema.NullOr(EmissionLimit)),
  limit_period: LimitPeriod,
})
export type SiteRequest = typeof SiteRequest.Type

/** Body of PATCH /v1/sites/:id: any of the fields, at least one. */
export const SiteChange = Schema.Struct({
  code: Schema.optional(SiteCode),
  name: Schema.optional(Name),
  country: Schema.optional(Country),
  emission_limit_kg_co2e: Schema.optional(Schema.NullOr(EmissionLimit)),
  limit_period: Schema.optional(LimitPeriod),
}).pipe(Schema.filter((change) => Object.values(change).some((value) => value !== undefined), { message: () => "give at least one field to change" }))
export type SiteChange = typeof SiteChange.Type

/** A site as stored. Amounts are exact decimals (strings) read from NUMERIC columns. */
export class Site extends Schema.Class<Site>("Site")({
  id: SiteId,
  code: Schema.String,
  name: Schema.String,
  country: Schema.String,
  emissionLimitKgCo2e: Schema.NullOr(Schema.String),
  limitPeriod: LimitPeriod,
  createdAt: Schema.DateFromSelf,
  updatedAt: Schema.DateFromSelf,
}) {}

/** The period a moment falls in, in UTC: `2026-12` for a month, `2026` for a year. */
export const periodOf = (at: Date, period: LimitPeriod): string =>
  period === "month" ? at.toISOString().slice(0, 7) : at.toISOString().slice(0, 4)

/** First day and the day after the last of a period key (`2026-12`, `2026`), as YYYY-MM-DD. */
export const periodBounds = (period: string): { readonly from: string; readonly until: string } => {
  const [year, month] = period.split("-").map(Number) as [number, number | undefined]
  if (month === undefined) return { from: `${year}-01-01`, until: `${year + 1}-01-01` }
  const next = month === 12 ? `${year + 1}-01-01` : `${year}-${String(month + 1).padStart(2, "0")}-01`
  return { from: `${year}-${String(month).padStart(2, "0")}-01`, until: next }
}

/** The thresholds that raise an alert, in percent of the limit. */
export const THRESHOLDS = [80, 100] as const
export type Threshold = (typeof THRESHOLDS)[number]

/** Wire shapes (snake_case), shared by the API and its OpenAPI document. */
export const GasTotalJson = Schema.Struct({ gas: Schema.String, kg: Schema.Number, kg_co2e: Schema.Number, measurements: Schema.Number })

export const SiteTotalsJson = Schema.Struct({
  period: Schema.String,
  from: Schema.String,
  to: Schema.String,
  unit: Schema.Literal("kg CO2e"),
  total_kg_co2e: Schema.Number,
  measurements_kg_co2e: Schema.Number,
  activities_kg_co2e: Schema.Number,
  activities: Schema.Number,
  by_gas: Schema.Array(GasTotalJson),
  limit_kg_co2e: Schema.NullOr(Schema.Number),
  /** Total as a percentage of the limit, null without a limit. */
  percent_of_limit: Schema.NullOr(Schema.Number),
  status: Schema.Literal("no_limit", "within", "warning", "exceeded"),
}).annotations({ identifier: "SiteTotals" })

export const AlertJson = Schema.Struct({
  id: Schema.String,
  type: Schema.Literal("site.limit_warning", "site.limit_exceeded"),
  period: Schema.String,
  threshold: Schema.Number,
  total_kg_co2e: Schema.Number,
  limit_kg_co2e: Schema.Number,
  created_at: Schema.String,
}).annotations({ identifier: "SiteAlert" })

export const SiteJson = Schema.Struct({
  id: Schema.String,
  url: Schema.String,
  code: Schema.String,
  name: Schema.String,
  country: Schema.String,
  emission_limit_kg_co2e: Schema.NullOr(Schema.Number),
  limit_period: LimitPeriod,
  current_period: SiteTotalsJson,
  created_at: Schema.String,
  updated_at: Schema.String,
}).annotations({ identifier: "Site" })
