import { MatchJob } from "@scopeline/uploads"
import { MatchUpload } from "./MatchUpload.ts"
import { consume } from "@scopeline/queue/Consumer"
import { Config, Effect, Layer } from "effect"

/**
 * Consumes the match queue. The delivery's receive count goes to the job so that, on the last
 * delivery before the dead-letter queue, activities waiting on an unreachable matcher get a reason.
 */
export const MatchWorkerLive = Layer.scopedDiscard(
  Effect.gen(function* () {
    const concurrency = yield* Config.integer("MATCH_CONCURRENCY").pipe(Config.withDefault(4))
    const match = yield* MatchUpload
    yield* consume(
      "match",
      MatchJob,
      (job, delivery) => match.run(job, { receiveCount: delivery.receiveCount }),
      // Matching a large upload waits on many matcher calls; the heartbeat keeps extending this.
      { concurrency, visibilityTimeoutSeconds: 120 },
    ).pipe(Effect.forkScoped)
    yield* Effect.logInfo("match worker started").pipe(Effect.annotateLogs({ concurrency }))
  }),
)
