import { Effect, Layer, Logger, LogLevel } from "effect"

/** Runs an effect against a layer for one test (bun:test has no @effect/vitest). */
export const runWith =
  <R, E>(layer: Layer.Layer<R, E>) =>
  <A, E2>(effect: Effect.Effect<A, E2, R>): Promise<A> =>
    Effect.runPromise(Effect.provide(effect, layer).pipe(Effect.scoped, Logger.withMinimumLogLevel(LogLevel.Warning)))
