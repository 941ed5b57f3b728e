import { Config, Context, Effect, FiberRef, FiberRefs, HashMap, Layer, Logger, LogLevel, Option, Tracer } from "effect"

/**
 * The trace and span ids of the span a log line was written in, as annotations: a line found in
 * the logs leads to its trace (and the trace's spans to their lines), whichever process wrote it.
 */
const withTraceIds = <M>(options: Logger.Logger.Options<M>): Logger.Logger.Options<M> => {
  const span = Context.getOption(FiberRefs.getOrDefault(options.context, FiberRef.currentContext), Tracer.ParentSpan)
  if (Option.isNone(span)) return options
  return {
    ...options,
    annotations: HashMap.set(HashMap.set(options.annotations, "traceId", span.value.traceId), "spanId", span.value.spanId),
  }
}

/** JSON lines, each with the trace id of the request or job it belongs to. */
export const TracedJsonLogger = Logger.replace(
  Logger.defaultLogger,
  Logger.withConsoleLog(Logger.mapInputOptions(Logger.jsonLogger, withTraceIds)),
)

/**
 * Structured JSON logs at the level named by LOG_LEVEL (default Info). Every log line carries the
 * annotations of the fiber that wrote it, which is how a correlation id follows a request, and the
 * trace id of its span.
 */
export const LoggingLive = Layer.unwrapEffect(
  Effect.gen(function* () {
    const level = yield* Config.logLevel("LOG_LEVEL").pipe(Config.withDefault(LogLevel.Info))
    return Layer.merge(TracedJsonLogger, Logger.minimumLogLevel(level))
  }),
)
