import type { Principal } from "@scopeline/accounts"
import { CurrentCorrelationId } from "@scopeline/settings/Correlation"
import { BlobStore } from "@scopeline/storage/BlobStore"
import { AuditLog } from "@scopeline/events"
import { Config, Effect, FiberRef, Option, Schema } from "effect"
import { DOWNLOAD_URL_SECONDS, ExportId, type ExportRequestBody, type ExportRow, exportFilename } from "./Export.ts"
import { ExportNotFound, ExportNotReady, ExportsUnavailable } from "./errors.ts"
import { ExportsRepo } from "./ExportsRepo.ts"

const RECENT_EXPORTS = 20

/**
 * Export requests and their state, per person: an export is visible to whoever asked for it (another
 * person's id is a 404, as if it did not exist). The download is a signed, short-lived URL minted
 * each time it is asked for, so a link that leaks stops working within minutes.
 */
export class Exports extends Effect.Service<Exports>()("scopeline/Exports", {
  effect: Effect.gen(function* () {
    const repo = yield* ExportsRepo
    const store = yield* BlobStore
    const audit = yield* AuditLog
    // The AWS stack has no export queue yet: refusing the request beats a job no worker will ever take.
    const queue = yield* Config.literal("postgres", "sqs")("QUEUE").pipe(Config.withDefault("postgres" as const))
    // With SQS, exports need the stack's export queue; a stack from before exports has none.
    const exportQueue = yield* Config.option(Config.nonEmptyString("SQS_EXPORT_QUEUE_URL"))

    const notFound = () => new ExportNotFound({ message: "There is no export with this id." })

    const own = Effect.fn("Exports.own")(function* (principal: Principal, id: string) {
      const exportId = yield* Schema.decodeUnknown(ExportId)(id).pipe(Effect.mapError(notFound))
      const found = yield* repo.findById(exportId)
      if (Option.isNone(found) || found.value.requestedBy !== principal.userId) return yield* notFound()
      return found.value
    })

    return {
      request: Effect.fn("Exports.request")(function* (principal: Principal, body: ExportRequestBody) {
        if (queue === "sqs" && Option.isNone(exportQueue)) {
          return yield* new ExportsUnavailable({ message: "Exports are not available in this deployment: its stack has no export queue (run pulumi up)." })
        }
        const correlationId = Option.getOrElse(yield* FiberRef.get(CurrentCorrelationId), () => crypto.randomUUID())
        return yield* repo.create(principal.userId, body, correlationId)
      }),
      get: own,
      recent: Effect.fn("Exports.recent")(function* (principal: Principal) {
        return yield* repo.recent(principal.userId, RECENT_EXPORTS)
      }),
      /**
       * A fresh signed URL for a ready export, handed to `by`: recorded as `export_downloaded` (the
       * file itself is served by the store, which cannot say who fetched it).
       */
      downloadUrl: Effect.fn("Exports.downloadUrl")(function* (row: ExportRow, by: Principal, via: "api" | "page") {
        if (row.status !== "ready" || row.blobKey === null) {
          return yield* new ExportNotReady({ message: `The export is ${row.status}, not ready to download.` })
        }
        const url = yield* store
          .createDownloadUrl(row.blobKey, { expiresInSeconds: DOWNLOAD_URL_SECONDS, filename: exportFilename(row) })
          .pipe(Effect.orDie)
        yield* audit.record({
          category: "business",
          action: "export_downloaded",
          actor: { userId: by.userId, role: by.role },
          object: { type: "export", id: row.id },
          details: { via, format: row.format, kind: row.kind },
        })
        return url
      }),
    }
  }),
  dependencies: [ExportsRepo.Default],
}) {}
