import { countryByIso3, countryByName } from "./countries.ts"
import { CatalogueFactor, DecimalFromCsv, type DecimalString, factorRef } from "./EmissionFactor.ts"
import { desnzScope3Category } from "./ghgCategories.ts"
import { parseUnit } from "./units/Units.ts"
import { parse } from "csv-parse"
import { Chunk, Data, Effect, Option, ParseResult, Schema, Stream } from "effect"
import { createReadStream } from "node:fs"
import { basename, join } from "node:path"
import { fileURLToPath } from "node:url"

export class CatalogueError extends Data.TaggedError("CatalogueError")<{
  readonly file: string
  readonly line?: number
  readonly message: string
}> {}

export const FACTORS_DIR = fileURLToPath(new URL("../../data/factors", import.meta.url))
export const DESNZ_FILE = "desnz_ghg_conversion_factors_2023_flat.csv"
export const EMBER_FILE = "ember_country_grid_intensity_co2js.csv"

/**
 * The flat file names its year in the value column's header ("GHG Conversion Factor 2023"): the year is
 * read from there, so another year's file is another factor set, never a relabelled copy of 2023.
 */
const DESNZ_VALUE_HEADER = /^GHG Conversion Factor (\d{4})$/
const DESNZ_VALUE = "GHG Conversion Factor"
// The 2023 file as shipped in data/factors; another year's publication is named by its year.
const DESNZ_PUBLICATIONS: Readonly<Record<number, string>> = {
  2023: "UK Government GHG Conversion Factors for Company Reporting 2023, flat file v1.1 (DESNZ), sheet Factors by Category",
}
const desnzPublication = (year: number) =>
  DESNZ_PUBLICATIONS[year] ?? `UK Government GHG Conversion Factors for Company Reporting ${year}, flat file (DESNZ), sheet Factors by Category`
const DESNZ_ATTRIBUTION = "Contains public sector information licensed under the Open Government Licence v3.0."
const EMBER_PUBLICATION = "Ember — Yearly electricity data, via the Green Web Foundation co2.js grid intensity dataset"
const EMBER_ATTRIBUTION = "Ember — Yearly electricity data (CC BY-SA 4.0)"
// Only totals are catalogue factors; the per-gas rows ("kg CO2e of CO2 per unit") break the same
// activity down and would double count if matched. They are kept as the total's parts instead.
const TOTAL_GHG_UNIT = "kg CO2e"
const GAS_GHG_UNITS = { "kg CO2e of CO2 per unit": "co2Factor", "kg CO2e of CH4 per unit": "ch4Factor", "kg CO2e of N2O per unit": "n2oFactor" } as const
type GasField = (typeof GAS_GHG_UNITS)[keyof typeof GAS_GHG_UNITS]
// The 2023 methodology paper: GWP100 values from the IPCC Fifth Assessment Report, without climate-carbon
// feedbacks (the refrigerant rows confirm it: HFC-134a is 1300, AR5's value; AR4 has 1430, AR6 1530).
export const DESNZ_GWP_SET = "IPCC AR5 GWP100 (without climate-carbon feedbacks)"
// Checked for 2023 only; another year's methodology paper may name other GWPs, so it is not assumed.
const desnzGwpSet = (year: number) =>
  year === 2023 ? DESNZ_GWP_SET : `as stated in the DESNZ ${year} methodology paper (not checked by Scopeline)`
// Ember publishes CO2e intensities only and names no GWP set per value.
export const EMBER_GWP_SET = "not stated by the publication (CO2e only)"

const DesnzRow = Schema.Struct({
  ID: Schema.NonEmptyTrimmedString,
  Scope: Schema.String,
  "Level 1": Schema.String,
  "Level 2": Schema.String,
  "Level 3": Schema.String,
  "Level 4": Schema.String,
  "Column Text": Schema.String,
  UOM: Schema.String,
  "GHG/Unit": Schema.String,
  [DESNZ_VALUE]: Schema.String,
})
type DesnzRow = typeof DesnzRow.Type

const EmberRow = Schema.Struct({
  key: Schema.NonEmptyTrimmedString,
  country_code_iso3: Schema.String,
  country_or_region: Schema.String,
  year: Schema.NumberFromString.pipe(Schema.int()),
  kgco2e_per_kwh: DecimalFromCsv,
})

/**
 * Rows of a CSV file as records keyed by header, streamed through csv-parse's Node stream API (flat
 * memory). `columns` may rename the header's names (and read what they say) before rows are keyed.
 */
const csvRecords = (
  path: string,
  columns: (header: Array<string>) => Array<string> = (header) => header,
): Stream.Stream<{ readonly line: number; readonly record: unknown }, CatalogueError> =>
  Stream.suspend(() => {
    const parser = createReadStream(path).pipe(parse({ columns, bom: true, skip_empty_lines: true, info: true }))
    return Stream.fromAsyncIterable(
      parser as AsyncIterable<{ readonly record: unknown; readonly info: { readonly lines: number } }>,
      (error) => new CatalogueError({ file: basename(path), message: String(error) }),
    ).pipe(Stream.map(({ record, info }) => ({ record, line: info.lines })))
  })

const decodeRow =
  <A, I>(schema: Schema.Schema<A, I>, file: string) =>
  ({ line, record }: { readonly line: number; readonly record: unknown }) =>
    Schema.decodeUnknown(schema)(record).pipe(
      Effect.mapError(
        (error) => new CatalogueError({ file, line, message: ParseResult.TreeFormatter.formatErrorSync(error) }),
      ),
    )

const nonEmpty = (values: ReadonlyArray<string>) => values.map((v) => v.trim()).filter((v) => v.length > 0)

/** DESNZ repeats a level in the next one ("Hotel stay > Hotel stay"); the name reads better without. */
const withoutRepeats = (values: ReadonlyArray<string>) => values.filter((v, i) => i === 0 || v !== values[i - 1])

/** Hotel stays are per country, named in words in Level 3 ("UK (London)", "Korea"). */
const hotelGeography = (row: DesnzRow): string => {
  for (const text of [row["Level 3"], row["Level 4"]]) {
    const country = countryByName(text)
    if (country) return country.iso2
  }
  return "GB"
}

const desnzFactor = (row: DesnzRow, year: number, file: string, line: number): Effect.Effect<Option.Option<CatalogueFactor>, CatalogueError> =>
  Effect.gen(function* () {
    const rawValue = row[DESNZ_VALUE].trim()
    if (row["GHG/Unit"].trim() !== TOTAL_GHG_UNIT || rawValue === "") return Option.none()
    const unit = parseUnit(row.UOM)
    if (Option.isNone(unit)) return yield* new CatalogueError({ file, line, message: `unknown unit "${row.UOM}"` })
    const factorValue = yield* decodeRow(DecimalFromCsv, file)({ line, record: rawValue })
    const levels = nonEmpty([row["Level 1"], row["Level 2"], row["Level 3"], row["Level 4"]])
    const columnText = row["Column Text"].trim()
    const name = [...withoutRepeats(levels), ...(columnText ? [columnText] : [])].join(": ")
    const level1 = row["Level 1"].trim()
    return Option.some(
      CatalogueFactor.make({
        ref: factorRef("DESNZ", year, row.ID),
        source: "DESNZ",
        sourceId: row.ID,
        year,
        name,
        activityType: level1,
        categoryPath: levels,
        scope: row.Scope.trim() || null,
        unit: row.UOM.trim(),
        dimension: unit.value.dimension,
        factorValue,
        factorUnit: TOTAL_GHG_UNIT,
        ghgUnit: TOTAL_GHG_UNIT,
        geography: level1 === "Hotel stay" ? hotelGeography(row) : "GB",
        isPrimary: !levels.some((level) => /\bWTT\b/.test(level)),
        licence: "OGL-UK-3.0",
        attribution: DESNZ_ATTRIBUTION,
        publication: desnzPublication(year),
        sourceFile: file,
        gwpSet: desnzGwpSet(year),
        scope3Category: desnzScope3Category(row.Scope, level1),
      }),
    )
  })

/**
 * A per-gas row's part, keyed by the total's row id: DESNZ numbers a total `…_1` and its CO2, CH4 and
 * N2O rows `…_2`, `…_3`, `…_4` (checked on the 2023 file: every per-gas row has its total so).
 */
const gasPart = (row: DesnzRow, file: string, line: number) =>
  Effect.gen(function* () {
    const field = GAS_GHG_UNITS[row["GHG/Unit"].trim() as keyof typeof GAS_GHG_UNITS]
    const rawValue = row[DESNZ_VALUE].trim()
    const base = /^(.+)_[234]$/.exec(row.ID)
    if (field === undefined || rawValue === "" || !base) return Option.none()
    const value = yield* decodeRow(DecimalFromCsv, file)({ line, record: rawValue })
    return Option.some({ totalId: `${base[1]}_1`, field, value })
  })

/** What a DESNZ header says: the one "GHG Conversion Factor YYYY" column gives the set's year. */
const desnzHeader = (header: ReadonlyArray<string>): { readonly year: number } | { readonly problem: string } => {
  const years = header.flatMap((name) => {
    const match = DESNZ_VALUE_HEADER.exec(name.trim())
    return match ? [Number(match[1])] : []
  })
  if (years.length === 0) return { problem: 'the header has no "GHG Conversion Factor YYYY" column: not a DESNZ flat file' }
  if (years.length > 1) return { problem: `the header has ${years.length} "GHG Conversion Factor YYYY" columns; a flat file has one` }
  const year = years[0]!
  if (year < 1990 || year > 2100) return { problem: `the header names the year ${year}` }
  return { year }
}

/**
 * A DESNZ flat file (the 2023 one in data/factors by default, or another year's): one factor per
 * `kg CO2e` total row that has a value, with the CO2, CH4 and N2O parts the file publishes for it,
 * all of the year its header names. The parts follow their total in the file, but nothing promises
 * that, so the file is read whole (≈8,000 rows) before factors are emitted.
 */
export const readDesnz = (path: string = join(FACTORS_DIR, DESNZ_FILE)): Stream.Stream<CatalogueFactor, CatalogueError> =>
  Stream.suspend(() => {
    const file = basename(path)
    const parts = new Map<string, Partial<Record<GasField, DecimalString>>>()
    let header: ReturnType<typeof desnzHeader> = { problem: "the file is empty" }
    const columns = (names: Array<string>) => {
      header = desnzHeader(names)
      return names.map((name) => (DESNZ_VALUE_HEADER.test(name.trim()) ? DESNZ_VALUE : name))
    }
    const yearOf = (): Effect.Effect<number, CatalogueError> => {
      const read = header
      return "year" in read ? Effect.succeed(read.year) : Effect.fail(new CatalogueError({ file, line: 1, message: read.problem }))
    }
    return csvRecords(path, columns).pipe(
      Stream.mapEffect((input) =>
        yearOf().pipe(
          Effect.flatMap((year) =>
            decodeRow(DesnzRow, file)(input).pipe(
              Effect.tap((row) =>
                gasPart(row, file, input.line).pipe(
                  Effect.map(Option.map(({ totalId, field, value }) => parts.set(totalId, { ...parts.get(totalId), [field]: value }))),
                ),
              ),
              Effect.flatMap((row) => desnzFactor(row, year, file, input.line)),
            ),
          ),
        ),
      ),
      Stream.filterMap((factor) => factor),
      Stream.runCollect,
      // An empty file, or a header without rows that is not DESNZ's, fails too.
      Effect.tap(yearOf),
      Effect.map((factors) =>
        Chunk.map(factors, (factor) => {
          const gases = parts.get(factor.sourceId)
          return gases === undefined
            ? factor
            : CatalogueFactor.make({
                ...factor,
                co2Factor: gases.co2Factor ?? null,
                ch4Factor: gases.ch4Factor ?? null,
                n2oFactor: gases.n2oFactor ?? null,
              })
        }),
      ),
      Stream.fromIterableEffect,
    )
  })

/**
 * Ember grid intensities: one Scope 2 electricity factor per country. Aggregate regions ("EU",
 * "ASEAN", "World") have no ISO3 code and are skipped: activities carry a country, and a regional
 * average silently standing in for a country's grid would be a worse answer than "no match".
 */
export const readEmber = (path: string = join(FACTORS_DIR, EMBER_FILE)): Stream.Stream<CatalogueFactor, CatalogueError> => {
  const file = basename(path)
  return csvRecords(path).pipe(
    Stream.mapEffect((input) =>
      decodeRow(EmberRow, file)(input).pipe(
        Effect.flatMap((row) => {
          const iso3 = row.country_code_iso3.trim()
          if (iso3 === "") return Effect.succeed(Option.none<CatalogueFactor>())
          const country = countryByIso3(iso3)
          if (!country) {
            return Effect.fail(new CatalogueError({ file, line: input.line, message: `no ISO 3166 alpha-2 code for "${iso3}"` }))
          }
          const place = row.country_or_region.trim()
          return Effect.succeed(
            Option.some(
              CatalogueFactor.make({
                ref: factorRef("Ember", row.year, row.key),
                source: "Ember",
                sourceId: row.key,
                year: row.year,
                name: `Electricity: grid average, ${place} (Ember ${row.year})`,
                activityType: "Electricity",
                categoryPath: ["Electricity", "Grid average", place],
                scope: "Scope 2",
                unit: "kWh",
                dimension: "energy",
                factorValue: row.kgco2e_per_kwh,
                factorUnit: TOTAL_GHG_UNIT,
                ghgUnit: TOTAL_GHG_UNIT,
                geography: country.iso2,
                isPrimary: true,
                licence: "CC-BY-SA-4.0",
                attribution: EMBER_ATTRIBUTION,
                publication: EMBER_PUBLICATION,
                sourceFile: file,
                gwpSet: EMBER_GWP_SET,
              }),
            ),
          )
        }),
      ),
    ),
    Stream.filterMap((factor) => factor),
  )
}

export interface CatalogueFiles {
  readonly desnz?: string
  readonly ember?: string
}

/** Both sources, DESNZ first. Small enough (≈2,800 factors) to hold in memory once read. */
export const readCatalogue = (files: CatalogueFiles = {}): Effect.Effect<ReadonlyArray<CatalogueFactor>, CatalogueError> =>
  Stream.concat(readDesnz(files.desnz), readEmber(files.ember)).pipe(
    Stream.runCollect,
    Effect.map(Chunk.toReadonlyArray),
    Effect.withSpan("readCatalogue"),
  )

/** The first line of a file, without a byte-order mark: enough to tell which publication it is. */
const firstLine = (path: string) =>
  Effect.tryPromise({
    try: async () => (await Bun.file(path).slice(0, 64 * 1024).text()).replace(/^\uFEFF/, "").split(/\r?\n/, 1)[0] ?? "",
    catch: (error) => new CatalogueError({ file: basename(path), message: `cannot read the file: ${String(error)}` }),
  })

/**
 * One published factor file, whichever it is: a DESNZ flat file of any year (its header names the
 * year) or an Ember grid intensity file. What an operator loads beside data/factors (`bun run
 * catalogue:load <file>`, CATALOGUE_FILES).
 */
export const readFactorFile = (path: string): Effect.Effect<ReadonlyArray<CatalogueFactor>, CatalogueError> =>
  Effect.gen(function* () {
    const header = yield* firstLine(path)
    const stream = /GHG Conversion Factor \d{4}/.test(header)
      ? readDesnz(path)
      : /\bkgco2e_per_kwh\b/.test(header)
        ? readEmber(path)
        : undefined
    if (stream === undefined) {
      return yield* new CatalogueError({
        file: basename(path),
        line: 1,
        message: 'not a factor file Scopeline reads: a DESNZ flat file has a "GHG Conversion Factor YYYY" column, an Ember file "kgco2e_per_kwh"',
      })
    }
    return Chunk.toReadonlyArray(yield* Stream.runCollect(stream))
  }).pipe(Effect.withSpan("readFactorFile", { attributes: { file: basename(path) } }))
