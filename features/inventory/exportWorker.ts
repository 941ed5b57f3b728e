import { consume } from "@scopeline/queue/Consumer"
import { Effect, Layer } from "effect"
import { ExportJob } from "./Export.ts"
import { RunExport } from "./RunExport.ts"

/** Consumes the export queue: each message writes one export's file (RunExport). */
export const ExportWorkerLive = Layer.scopedDiscard(
  Effect.gen(function* () {
    // One export at a time per worker: each is one long sequential scan, and two would only share the disk.
    const concurrency = 1
    const exports = yield* RunExport
    yield* consume("export", ExportJob, (job, delivery) => exports.run(job, delivery), {
      concurrency,
      // Heartbeats extend it while the export runs; a crashed worker's export is retried after this.
      visibilityTimeoutSeconds: 60,
      // A fixed delay between the three attempts: the usual cause is a store that is briefly unavailable.
      retryDelaySeconds: () => 10,
    }).pipe(Effect.forkScoped)
    yield* Effect.logInfo("export worker started").pipe(Effect.annotateLogs({ concurrency }))
  }),
)
