import { FactorsRepo, type UpsertCounts } from "./FactorsRepo.ts"
import { Effect } from "effect"
import { readCatalogue, type CatalogueFiles } from "./readCatalogue.ts"

export interface CatalogueLoadReport extends UpsertCounts {
  readonly read: number
  readonly bySource: Readonly<Record<string, number>>
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
  const bySource: Record<string, number> = {}
  for (const factor of factors) bySource[factor.source] = (bySource[factor.source] ?? 0) + 1
  const report: CatalogueLoadReport = { read: factors.length, bySource, ...counts }
  yield* Effect.logInfo("factor catalogue loaded").pipe(Effect.annotateLogs({ ...report }))
  return report
})
