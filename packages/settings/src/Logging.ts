import { Config, Effect, Layer, Logger, LogLevel } from "effect"

/**
 * Structured JSON logs at the level named by LOG_LEVEL (default Info). Every log line carries the
 * annotations of the fiber that wrote it, which is how a correlation id follows a request.
 */
export const LoggingLive = Layer.unwrapEffect(
  Effect.gen(function* () {
    const level = yield* Config.logLevel("LOG_LEVEL").pipe(Config.withDefault(LogLevel.Info))
    return Layer.merge(Logger.json, Logger.minimumLogLevel(level))
  }),
)

