import { LoggingLive } from "@scopeline/settings/Logging"
import { WorkerLive } from "@scopeline/worker/WorkerLayer"
import { Effect, Exit, Layer, Scope } from "effect"
import { configLayer } from "./config.ts"

export interface TestWorker {
  readonly stop: () => Promise<void>
}

/** The real worker (outbox relay + queue consumers) with the same settings as a test server. */
export const startWorker = async (settings: Record<string, string>): Promise<TestWorker> => {
  const scope = Effect.runSync(Scope.make())
  await Effect.runPromise(
    Layer.buildWithScope(WorkerLive.pipe(Layer.provide(LoggingLive), Layer.provide(configLayer(settings))), scope),
  )
  return { stop: () => Effect.runPromise(Scope.close(scope, Exit.void)) }
}
