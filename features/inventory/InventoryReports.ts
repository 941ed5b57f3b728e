import { Effect, Option } from "effect"
import { buildReport, InventoryRequest } from "./Inventory.ts"
import { InventoryRepo } from "./InventoryRepo.ts"

/** The `months` calendar months ending with the month of the YYYY-MM-DD date: first day to last day. */
export const trailingMonths = (latest: string, months: number): { readonly from: string; readonly to: string } => {
  const [year, month] = latest.split("-").map(Number) as [number, number]
  const start = new Date(Date.UTC(year, month - months, 1))
  const end = new Date(Date.UTC(year, month, 0))
  return { from: start.toISOString().slice(0, 10), to: end.toISOString().slice(0, 10) }
}

/** The inventory report: the exact sums and the coverage counts, apportioned to grams. */
export class InventoryReports extends Effect.Service<InventoryReports>()("scopeline/InventoryReports", {
  effect: Effect.gen(function* () {
    const repo = yield* InventoryRepo
    return {
      report: Effect.fn("InventoryReports.report")(function* (request: InventoryRequest) {
        const [cells, counts] = yield* Effect.all([repo.sums(request), repo.counts(request)], { concurrency: 2 })
        return buildReport(request, cells, counts)
      }),
      /** The latest 12 months that have calculated activities; none when nothing is calculated yet. */
      defaultPeriod: Effect.fn("InventoryReports.defaultPeriod")(function* () {
        const latest = yield* repo.latestDate()
        return Option.map(latest, (date) => trailingMonths(date, 12))
      }),
    }
  }),
  dependencies: [InventoryRepo.Default],
}) {}
