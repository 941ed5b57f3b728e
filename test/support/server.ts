import { LoggingLive } from "@scopeline/settings/Logging"
import { serve, ServerServicesLive, type HttpServerInfo } from "@scopeline/server/ServerLayer"
import { Deferred, Effect, Exit, Layer, Scope } from "effect"
import { configLayer, testSettings } from "./config.ts"
import { testDatabase } from "./postgres.ts"

export interface TestServer extends HttpServerInfo {
  readonly databaseUrl: string
  readonly settings: Record<string, string>
  readonly stop: () => Promise<void>
}

/**
 * The real server on a random port with exactly `settings` (nothing added): the AWS-mode test uses
 * it to prove that mode needs none of the embedded defaults.
 */
export const startServerWith = async (settings: Record<string, string>): Promise<TestServer> => {
  const scope = Effect.runSync(Scope.make())
  const info = await Effect.runPromise(
    Effect.gen(function* () {
      const listening = yield* Deferred.make<HttpServerInfo>()
      yield* Layer.buildWithScope(
        serve({ port: 0, onListen: (address) => Deferred.unsafeDone(listening, Exit.succeed(address)) }).pipe(
          Layer.provide(ServerServicesLive),
          Layer.provide(LoggingLive),
          Layer.provide(configLayer(settings)),
        ),
        scope,
      )
      return yield* Deferred.await(listening)
    }),
  )
  return { ...info, databaseUrl: settings.DATABASE_URL ?? "", settings, stop: () => Effect.runPromise(Scope.close(scope, Exit.void)) }
}

/** The real server on a random port, against its own fresh database (migrated at start). */
export const startServer = async (overrides: Record<string, string> = {}): Promise<TestServer> => {
  const databaseUrl = overrides.DATABASE_URL ?? (await testDatabase())
  return startServerWith(testSettings({ DATABASE_URL: databaseUrl, ...overrides }))
}
