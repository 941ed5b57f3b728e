import { SqlClient } from "@effect/sql"
import { FactorsRepo, type UpsertCounts } from "./FactorsRepo.ts"
import { Effect } from "effect"
import { basename } from "node:path"
import { CatalogueError, readCatalogue, readFactorFile, type CatalogueFiles } from "./readCatalogue.ts"
import type { CatalogueFactor } from "./EmissionFactor.ts"

export interface CatalogueLoadReport extends UpsertCounts {
  readonly read: number
  readonly bySource: Readonly<Record<string, number>>
  /** The factor sets the files hold ("DESNZ:2023", "Ember:2024"…). */
  readonly sets: ReadonlyArray<string>
}

const reportOf = (factors: ReadonlyArray<CatalogueFactor>, counts: UpsertCounts): CatalogueLoadReport => {
  const bySource: Record<string, number> = {}
  for (const factor of factors) bySource[factor.source] = (bySource[factor.source] ?? 0) + 1
  const sets = [...new Set(factors.map((factor) => `${factor.source}:${factor.year}`))].sort()
  return { read: factors.length, bySource, sets, ...counts }
}

/**
 * Reads the published factor files and upserts them into `emission_factors`. Repeatable: a second
 * run with unchanged files reports every factor as unchanged and keeps their ids, so it is safe at
 * every start-up and after a new publication is dropped into data/factors.
 */
export const loadCatalogue = Effect.fn("loadCatalogue")(function* (files: CatalogueFiles = {}) {
  const repo = yield* FactorsRepo
  const factors = yield* readCatalogue(files)
  const counts = yield* repo.upsertMany(factors)
  const report = reportOf(factors, counts)
  yield* Effect.logInfo("factor catalogue loaded").pipe(Effect.annotateLogs({ ...report }))
  return report
})

/**
 * Loads one more factor file beside the catalogue (another year's DESNZ flat file): its rows form the
 * set of the year its header names, next to the sets already there. A set is never overwritten by
 * another file: if any set of the file already holds rows read from a file of another name, nothing is
 * loaded. The same file again is a no-op (every factor unchanged).
 */
export const loadFactorFile = Effect.fn("loadFactorFile")(function* (path: string) {
  const repo = yield* FactorsRepo
  const sql = yield* SqlClient.SqlClient
  const file = basename(path)
  const factors = yield* readFactorFile(path)
  if (factors.length === 0) return yield* new CatalogueError({ file, message: "the file holds no factor" })
  const counts = yield* Effect.gen(function* () {
    const sets = [...new Set(factors.map((factor) => `${factor.source}:${factor.year}`))]
    const clashes = yield* repo.setsFromOtherFiles(sets, file)
    if (clashes.length > 0) {
      const named = clashes.map((clash) => `${clash.factorSet} (from ${clash.sourceFile})`).join(", ")
      return yield* new CatalogueError({
        file,
        message: `${named} is already in the catalogue from another file; a factor set is never overwritten by another file`,
      })
    }
    return yield* repo.upsertMany(factors)
  }).pipe(sql.withTransaction, Effect.catchTag("SqlError", Effect.die))
  const report = reportOf(factors, counts)
  yield* Effect.logInfo("factor file loaded").pipe(Effect.annotateLogs({ file, ...report }))
  return report
})
