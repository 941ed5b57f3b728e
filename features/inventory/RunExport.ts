import { EXPORT_MAX_RECEIVES } from "@scopeline/settings/QueueSettings"
import { withCorrelation } from "@scopeline/settings/Correlation"
import { Cause, Duration, Effect, Option, Stream } from "effect"
import { type ExportJob, ExportId, type ExportRow } from "./Export.ts"
import { ACTIVITY_COLUMNS, activityCells, extraHeader, INVENTORY_COLUMNS, inventoryCells } from "./exportColumns.ts"
import { ExportsRepo } from "./ExportsRepo.ts"
import { writeExportFile } from "./ExportWriter.ts"
import { InventoryRequest } from "./Inventory.ts"
import { InventoryReports } from "./InventoryReports.ts"

/** Progress reaches the database at most this often: enough for a progress bar, not a write per page. */
const PROGRESS_EVERY = Duration.millis(500)

const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error))

/** Where an export's file lives in the blob store: one key per export, so a retry overwrites its own file. */
export const exportKey = (row: ExportRow) => `exports/${row.id}.${row.format}`

/**
 * The export job: counts the rows, streams them keyset page by page through the CSV or XLSX writer
 * into the blob store, and marks the export ready. Idempotent: a finished export is left alone, and a
 * retried one starts again from the first row into the same key. On its last delivery a failure is
 * recorded on the export (what the person sees) before the message goes to the dead letters.
 */
export class RunExport extends Effect.Service<RunExport>()("scopeline/RunExport", {
  effect: Effect.gen(function* () {
    const repo = yield* ExportsRepo
    const reports = yield* InventoryReports

    const produce = (row: ExportRow) =>
      Effect.gen(function* () {
        const filters = row.filters
        if (row.kind === "inventory") {
          const report = yield* reports.report(
            InventoryRequest.make({ from: filters.from ?? null, to: filters.to ?? null, uploadId: filters.upload_id ?? null, site: null }),
          )
          const cells = inventoryCells(report)
          return { total: cells.length, header: [...INVENTORY_COLUMNS], rows: Stream.fromIterable(cells), sheet: "Inventory" }
        }
        const [total, extraKeys] = yield* Effect.all([repo.countActivities(filters), repo.extraColumns(filters)], { concurrency: 2 })
        return {
          total,
          header: [...ACTIVITY_COLUMNS, ...extraKeys.map(extraHeader)],
          rows: repo.streamActivities(filters).pipe(Stream.map((activity) => activityCells(activity, extraKeys))),
          sheet: "Activities",
        }
      })

    const run = Effect.fn("RunExport.run")(function* (job: ExportJob, delivery: { readonly receiveCount: number }) {
      const found = yield* repo.findById(ExportId.make(job.exportId))
      if (Option.isNone(found) || found.value.status === "ready") return
      const row = found.value
      const attempt = Effect.gen(function* () {
        const plan = yield* produce(row)
        if (!(yield* repo.start(row.id, plan.total))) return
        let lastReport = 0
        const file = yield* writeExportFile({
          key: exportKey(row),
          format: row.format,
          sheetName: plan.sheet,
          header: plan.header,
          rows: plan.rows,
          onPage: (written) =>
            Date.now() - lastReport < Duration.toMillis(PROGRESS_EVERY)
              ? Effect.void
              : Effect.zipRight(Effect.sync(() => (lastReport = Date.now())), repo.progress(row.id, written)),
        })
        yield* repo.finish(row.id, exportKey(row), file.rows, file.sizeBytes)
        yield* Effect.logInfo("export written").pipe(Effect.annotateLogs({ exportId: row.id, rows: file.rows, bytes: file.sizeBytes }))
      })
      yield* attempt.pipe(
        Effect.tapErrorCause((cause) =>
          delivery.receiveCount >= EXPORT_MAX_RECEIVES
            ? repo.fail(
                row.id,
                "The file could not be written to storage after three attempts. Try again later; operations can replay the job.",
                messageOf(Cause.squash(cause)),
              )
            : Effect.logWarning("export attempt failed; it will be retried").pipe(Effect.annotateLogs({ cause: Cause.pretty(cause).slice(0, 2000) })),
        ),
      )
    }, (effect, job) => withCorrelation(job.correlationId)(effect))

    return { run }
  }),
  dependencies: [ExportsRepo.Default, InventoryReports.Default],
}) {}
