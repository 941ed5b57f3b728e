import { ApiKeys, AuthenticationLive, Invitations, Profile, Team, UsersRepo } from "@scopeline/accounts"
import { AuditLog, AuditRepo, recordRelease } from "@scopeline/events"
import { Webhooks } from "@scopeline/webhooks"
import { ActivitiesQuery, EmissionsRepo } from "@scopeline/activities"
import { FactorsRepo, loadCatalogue, loadFactorFile } from "@scopeline/catalogue"
import { Exports, InventoryReports } from "@scopeline/inventory"
import { Recalculations } from "@scopeline/recalculations"
import { Measurements, SiteLimits, Sites, SitesRepo } from "@scopeline/sites"
import { Review } from "@scopeline/matching"
import { QueueLive } from "@scopeline/queue/QueueLive"
import { AppConfig } from "@scopeline/settings/AppConfig"
import { TracingLive } from "@scopeline/settings/Tracing"
import { MigratedDatabaseLive } from "@scopeline/sql/Database"
import { BlobStoreLive } from "@scopeline/storage/BlobStoreLive"
import { makeResponder } from "@scopeline/ui/respond"
import { ActivitiesRepo, UploadProgress, Uploads, UploadsRepo } from "@scopeline/uploads"
import { Cause, Config, Effect, Layer, Runtime } from "effect"
import { makeApp, makeFetch } from "./app.ts"
import type { ServerServices } from "./ServerServices.ts"
/**
 * The published factor catalogue (data/factors), upserted at start-up: repeatable, and a new
 * publication dropped into data/factors is live after a restart. LOAD_CATALOGUE=false skips it.
 */
const CatalogueLive = Layer.effectDiscard(
  Effect.gen(function* () {
    const load = yield* Config.boolean("LOAD_CATALOGUE").pipe(Config.withDefault(true))
    if (load) yield* loadCatalogue().pipe(Effect.orDie)
    // Another year's publication, loaded beside data/factors (docs/recalculation.md).
    const extra = yield* Config.array(Config.string(), "CATALOGUE_FILES").pipe(Config.withDefault([]))
    if (load) yield* Effect.forEach(extra.map((file) => file.trim()).filter((file) => file !== ""), (file) => loadFactorFile(file).pipe(Effect.orDie))
  }),
).pipe(Layer.provide(FactorsRepo.Default))

/** Every service a request handler may use (see ServerServices). */
export const ServerServicesLive = Layer.mergeAll(
  AuthenticationLive,
  UsersRepo.Default,
  UploadsRepo.Default,
  ActivitiesRepo.Default,
  FactorsRepo.Default,
  Uploads.Default,
  ActivitiesQuery.Default,
  EmissionsRepo.Default,
  UploadProgress.Default,
  InventoryReports.Default,
  Exports.Default,
  CatalogueLive,
  Team.Default,
  Invitations.Default,
  Profile.Default,
  ApiKeys.Default,
  Sites.Default,
  SitesRepo.Default,
  SiteLimits.Default,
  Measurements.Default,
  Recalculations.Default,
  // Decisions and re-matches (features/matching): a re-match asks the matcher from this process.
  Review.Default.pipe(Layer.provide(SiteLimits.Default)),
  // A version this log has not seen is a release: recorded once, at start-up.
  Layer.effectDiscard(recordRelease()),
).pipe(
  // Webhook deliveries are written in the transaction of the change they announce, by many features.
  Layer.provideMerge(Webhooks.Default),
  Layer.provideMerge(Layer.merge(AuditLog.Default, AuditRepo.Default)),
  Layer.provideMerge(Layer.mergeAll(BlobStoreLive, QueueLive)),
  Layer.provideMerge(MigratedDatabaseLive),
  Layer.provideMerge(AppConfig.Default),
)

export interface HttpServerInfo {
  readonly url: string
  readonly port: number
}

/**
 * Serves the app with one runtime for every request; the server stops when the layer's scope closes.
 * `onListen` receives the bound address (tests ask for port 0).
 */
export const serve = (options: { readonly port?: number; readonly onListen?: (info: HttpServerInfo) => void } = {}) =>
  Layer.scopedDiscard(
    Effect.gen(function* () {
      const config = yield* AppConfig
      const runtime = yield* Effect.runtime<ServerServices>()
      // Behind a load balancer the client's address is in X-Forwarded-For; believed only when said so.
      const trustProxy = yield* Config.boolean("TRUSTED_PROXY").pipe(Config.withDefault(false))
      const app = makeApp(makeResponder(runtime))
      const port = options.port ?? config.port
      // Bun.serve with our own fetch (not app.listen) so every request and response passes makeFetch.
      const listening = yield* Effect.acquireRelease(
        Effect.sync(() =>
          Bun.serve({
            port,
            hostname: "0.0.0.0",
            // Out of reach on purpose: Bun's own 413 has no body. Our limits answer in JSON instead:
            // makeFetch and jsonBody/formBody (1 MiB), the blob endpoint (the signed upload's size).
            maxRequestBodySize: Number.MAX_SAFE_INTEGER,
            // Elysia's own default; an upload's live progress holds a request open between updates.
            idleTimeout: 30,
            // Bun's development mode answers an uncaught error with a page showing the stack trace.
            development: false,
            fetch: makeFetch(app, {
              trustProxy,
              logDefect: (error) => Runtime.runFork(runtime)(Effect.logError("unhandled error in the fetch handler", Cause.die(error))),
            }),
          }),
        ),
        (server) => Effect.promise(() => server.stop(true)),
      )
      const bound = listening.port ?? port
      const info = { url: `http://127.0.0.1:${bound}`, port: bound }
      yield* Effect.logInfo("server listening").pipe(Effect.annotateLogs(info))
      options.onListen?.(info)
    }),
    // Provided here, around the runtime every request runs in, so each request's spans are exported.
  ).pipe(Layer.provide(TracingLive("scopeline-server")))
