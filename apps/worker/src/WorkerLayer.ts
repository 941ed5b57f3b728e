import { AppConfig } from "@scopeline/settings/AppConfig"
import { TracingLive } from "@scopeline/settings/Tracing"
import { ActivitiesRepo } from "@scopeline/uploads"
import { MigratedDatabaseLive } from "@scopeline/sql/Database"
import { UploadsRepo } from "@scopeline/uploads"
import { MatchUpload } from "@scopeline/matching"
import { ParseUpload } from "@scopeline/uploads"
import { Uploads } from "@scopeline/uploads"
import { runRelay } from "@scopeline/queue/Outbox"
import { QueueLive } from "@scopeline/queue/QueueLive"
import { BlobStoreLive } from "@scopeline/storage/BlobStoreLive"
import { Config, Effect, Layer } from "effect"
import { AuditLog, recordRelease, runAuditRetention } from "@scopeline/events"
import { ServiceName } from "@scopeline/settings/Correlation"
import { runWebhookDelivery, Webhooks } from "@scopeline/webhooks"
import { MatchWorkerLive } from "@scopeline/matching"
import { ParseWorkerLive } from "@scopeline/uploads"
import { ExportWorkerLive, RunExport } from "@scopeline/inventory"
import { SiteLimits } from "@scopeline/sites"
import { runRecalculations } from "@scopeline/recalculations"

/** Moves committed outbox messages to the queue (see packages/queue/src/Outbox.ts). */
const OutboxRelayLive = Layer.scopedDiscard(Effect.forkScoped(runRelay))

/** Storage, queue and database, chosen by configuration (embedded defaults or AWS). */
export const InfrastructureLive = Layer.mergeAll(BlobStoreLive, QueueLive).pipe(
  Layer.provideMerge(MigratedDatabaseLive),
  Layer.provideMerge(AppConfig.Default),
)

export const PipelineServicesLive = Layer.mergeAll(
  ParseUpload.Default,
  MatchUpload.Default,
  Uploads.Default,
  UploadsRepo.Default,
  ActivitiesRepo.Default,
  RunExport.Default,
).pipe(
  // The match job checks site limits in its transactions (features/sites).
  Layer.provideMerge(SiteLimits.Default),
  Layer.provideMerge(Webhooks.Default),
  Layer.provideMerge(AuditLog.Default),
  Layer.provideMerge(InfrastructureLive),
  // Every audit event this process writes names it.
  Layer.provideMerge(Layer.succeed(ServiceName, "worker")),
)

/**
 * Audit log upkeep (a first start with a new version is a release; old events expire hourly) and
 * the webhook sender.
 */
const AuditUpkeepLive = Layer.scopedDiscard(
  Effect.gen(function* () {
    yield* recordRelease()
    yield* Effect.forkScoped(runAuditRetention)
    // Webhook deliveries are rows in PostgreSQL; every worker may send them (claims are leased).
    yield* Effect.forkScoped(runWebhookDelivery)
    // Recalculations are rows too; claims are FOR UPDATE SKIP LOCKED, so every worker may run them.
    yield* Effect.forkScoped(runRecalculations)
  }),
)

/**
 * The queues this process consumes: WORKER_QUEUES=parse,match (default: both, one process). In AWS
 * parsing scales out while matching runs as ONE process, because the matcher's concurrency limiter
 * and the coalescing of identical requests live in that process: one process keeps the matcher's
 * cap (and one call per key) true globally.
 */
const QueueLoopsLive = Layer.unwrapEffect(
  Config.array(Config.literal("parse", "match", "export")(), "WORKER_QUEUES").pipe(
    Config.withDefault(["parse", "match", "export"] as const),
    Effect.map((queues) =>
      Layer.mergeAll(
        queues.includes("parse") ? ParseWorkerLive : Layer.empty,
        queues.includes("match") ? MatchWorkerLive : Layer.empty,
        queues.includes("export") ? ExportWorkerLive : Layer.empty,
      ),
    ),
  ),
)

/** The worker: the outbox relay (safe to run in every process) and the configured queue consumers. */
export const WorkerLive = Layer.mergeAll(OutboxRelayLive, QueueLoopsLive, AuditUpkeepLive).pipe(
  Layer.provide(PipelineServicesLive),
  // Outermost, so every consumer and the relay are forked with the exporting tracer.
  Layer.provide(TracingLive("scopeline-worker")),
)
