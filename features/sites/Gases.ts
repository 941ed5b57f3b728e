import { SqlClient, SqlSchema } from "@effect/sql"
import { Duration, Effect, Schema } from "effect"

/** The GWP of one gas: kg CO2e per kg, and the catalogue factor it was read from. */
export interface Gwp {
  readonly gas: string
  readonly gwp: string
  readonly ref: string
}

/** The three gases a sensor usually reports, by the short names devices send. */
export const GAS_ALIASES: Readonly<Record<string, string>> = { CO2: "Carbon dioxide", CH4: "Methane", N2O: "Nitrous oxide" }

const Row = Schema.Struct({ gas: Schema.String, gwp: Schema.String, ref: Schema.String })

/**
 * Upper-case without spaces or hyphens: "hfc-134a", "HFC 134a", "HFC134A" and "R-404A"/"R404A" name one
 * gas each (no two DESNZ refrigerants differ by a space or hyphen alone).
 */
const keyOf = (name: string) => name.toUpperCase().replace(/[\s-]+/g, "")

/**
 * GWPs from the factor set in use: the catalogue's DESNZ "Refrigerant & other" rows (kg of gas →
 * kg CO2e, "Total emissions including non-Kyoto products"), the newest year loaded. CO2, CH4 and N2O
 * are in the same table (1, 28, 265 in 2023: AR5, as DESNZ publishes them). Read from the database,
 * not the file, so measurements use exactly the publication activities are priced with; cached for a
 * minute because the catalogue changes only when a server starts.
 */
export class Gases extends Effect.Service<Gases>()("scopeline/Gases", {
  scoped: Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const load = SqlSchema.findAll({
      Request: Schema.Void,
      Result: Row,
      execute: () => sql`
        SELECT DISTINCT ON (category_path[3]) category_path[3] AS gas, factor_value::text AS gwp, ref
        FROM emission_factors
        WHERE source = 'DESNZ' AND category_path[1] = 'Refrigerant & other' AND unit = 'kg'
          AND name LIKE '%Total emissions including non-Kyoto products' AND category_path[3] IS NOT NULL
        ORDER BY category_path[3], year DESC`,
    })(undefined).pipe(
      Effect.orDie,
      Effect.map((rows) => {
        const byKey = new Map<string, Gwp>()
        for (const row of rows) byKey.set(keyOf(row.gas), row)
        for (const [alias, name] of Object.entries(GAS_ALIASES)) {
          const gwp = byKey.get(keyOf(name))
          if (gwp !== undefined) byKey.set(alias, gwp)
        }
        return byKey
      }),
    )
    const [cached] = yield* Effect.cachedInvalidateWithTTL(load, Duration.minutes(1))

    /** The GWP of `gas` (a short name or the DESNZ name, in any case), or undefined for a gas the factor set does not know. */
    const lookup = Effect.fn("Gases.lookup")(function* (gas: string) {
      return (yield* cached).get(keyOf(gas))
    })

    /** The whole table, for a caller that looks up many gases at once (one batch). */
    const table = Effect.map(cached, (byKey) => (gas: string) => byKey.get(keyOf(gas)))
    return { lookup, table }
  }),
}) {}

export const gasKey = keyOf
