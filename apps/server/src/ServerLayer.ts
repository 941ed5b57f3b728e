import { Authentication } from "@scopeline/auth/Authentication"
import { AppConfig } from "@scopeline/config/AppConfig"
import { DatabaseLive } from "@scopeline/db/Database"
import { migrate } from "@scopeline/db/Migrator"
import { UsersRepo } from "@scopeline/db/UsersRepo"
import { Effect, Layer } from "effect"
import { makeApp } from "./app.ts"
import { makeResponder } from "./http/respond.ts"
import type { ServerServices } from "./ServerServices.ts"

/** The database, migrated before anything uses it. */
export const MigratedDatabaseLive = Layer.effectDiscard(migrate()).pipe(Layer.provideMerge(DatabaseLive))

/** Every service a request handler may use (see ServerServices). */
export const ServerServicesLive = Layer.mergeAll(Authentication.Default, UsersRepo.Default).pipe(
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
      const app = makeApp(makeResponder(runtime))
      const port = options.port ?? config.port
      yield* Effect.acquireRelease(
        Effect.sync(() => app.listen({ port, hostname: "0.0.0.0" })),
        (listening) => Effect.promise(() => listening.stop(true)),
      )
      const bound = app.server?.port ?? port
      const info = { url: `http://127.0.0.1:${bound}`, port: bound }
      yield* Effect.logInfo("server listening").pipe(Effect.annotateLogs(info))
      options.onListen?.(info)
    }),
  )
