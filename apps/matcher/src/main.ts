import { launch } from "@scopeline/settings/launch"
import { LoggingLive } from "@scopeline/settings/Logging"
import { Config, Effect, Layer, Schema } from "effect"
import { startMatcher } from "./server.ts"

const Probability = Schema.NumberFromString.pipe(Schema.between(0, 1))

const MatcherConfig = Config.all({
  port: Config.integer("MATCHER_PORT").pipe(Config.withDefault(3100)),
  latencyMs: Config.integer("MATCHER_LATENCY_MS").pipe(Config.withDefault(0)),
  concurrency: Config.integer("MATCHER_CONCURRENCY").pipe(Config.withDefault(10)),
  faultRate: Schema.Config("MATCHER_FAULT_RATE", Probability).pipe(Config.withDefault(0)),
  rateLimitRate: Schema.Config("MATCHER_RATE_LIMIT_RATE", Probability).pipe(Config.withDefault(0)),
  timeoutRate: Schema.Config("MATCHER_TIMEOUT_RATE", Probability).pipe(Config.withDefault(0)),
})

/** The reference matcher, stopped when the layer's scope closes (Ctrl-C, SIGTERM, or its launcher dying). */
const MatcherLive = Layer.scopedDiscard(
  Effect.gen(function* () {
    const config = yield* MatcherConfig
    const matcher = yield* Effect.acquireRelease(
      Effect.promise(() => startMatcher({ hostname: "0.0.0.0", ...config })),
      (running) => Effect.promise(() => running.stop()),
    )
    yield* Effect.logInfo("matcher listening").pipe(Effect.annotateLogs({ ...config, port: matcher.port }))
  }),
)

launch(MatcherLive.pipe(Layer.provide(LoggingLive)))
