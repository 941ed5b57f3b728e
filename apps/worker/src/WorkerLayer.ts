import { AppConfig } from "@scopeline/config/AppConfig"
import { ActivitiesRepo } from "@scopeline/db/ActivitiesRepo"
import { MigratedDatabaseLive } from "@scopeline/db/Database"
import { UploadsRepo } from "@scopeline/db/UploadsRepo"
import { MatchUpload } from "@scopeline/pipeline/match/MatchUpload"
import { ParseUpload } from "@scopeline/pipeline/parse/ParseUpload"
import { Uploads } from "@scopeline/pipeline/upload/Uploads"
import { runRelay } from "@scopeline/queue/Outbox"
import { QueueLive } from "@scopeline/queue/QueueLive"
import { BlobStoreLive } from "@scopeline/storage/BlobStoreLive"
import { Effect, Layer } from "effect"
import { MatchWorkerLive } from "./matchWorker.ts"
import { ParseWorkerLive } from "./parseWorker.ts"

/** Moves committed outbox messages to the queue (see packages/queue/src/Outbox.ts). */
const OutboxRelayLive = Layer.scopedDiscard(Effect.forkScoped(runRelay))

/** Storage, queue and database, chosen by configuration (embedded defaults or AWS). */
export const InfrastructureLive = Layer.mergeAll(BlobStoreLive, QueueLive).pipe(
  Layer.provideMerge(MigratedDatabaseLive),
  Layer.provideMerge(AppConfig.Default),
)

export const PipelineServicesLive = Layer.mergeAll(ParseUpload.Default, MatchUpload.Default, Uploads.Default, UploadsRepo.Default, ActivitiesRepo.Default).pipe(
  Layer.provideMerge(InfrastructureLive),
)

/** Every worker loop of the pipeline, in one process. */
export const WorkerLive = Layer.mergeAll(OutboxRelayLive, ParseWorkerLive, MatchWorkerLive).pipe(Layer.provide(PipelineServicesLive))
