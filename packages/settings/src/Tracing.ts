import { FetchHttpClient } from "@effect/platform"
import * as OtlpSerialization from "@effect/opentelemetry/OtlpSerialization"
import * as OtlpTracer from "@effect/opentelemetry/OtlpTracer"
import { Config, Duration, Effect, Layer, Option } from "effect"

/**
 * Exports every span (the `Effect.fn` and `withSpan` names) over OTLP/HTTP to
 * OTEL_EXPORTER_OTLP_ENDPOINT's `/v1/traces`, as the OpenTelemetry specification defines that
 * variable; unset, spans stay in the process (their ids still reach the logs, see Logging.ts).
 * Effect's own OTLP exporter, not the OpenTelemetry SDK: it needs nothing but an HTTP client.
 */
export const TracingLive = (defaultServiceName: string) =>
  Layer.unwrapEffect(
    Effect.gen(function* () {
      const endpoint = yield* Config.option(Config.url("OTEL_EXPORTER_OTLP_ENDPOINT"))
      if (Option.isNone(endpoint)) return Layer.empty
      const serviceName = yield* Config.string("OTEL_SERVICE_NAME").pipe(Config.withDefault(defaultServiceName))
      return OtlpTracer.layer({
        url: new URL("v1/traces", endpoint.value.href.endsWith("/") ? endpoint.value : `${endpoint.value.href}/`).href,
        resource: { serviceName },
        // Short enough that a trace shows up while someone is still looking at the upload.
        exportInterval: Duration.seconds(2),
      }).pipe(Layer.provide(OtlpSerialization.layerJson), Layer.provide(FetchHttpClient.layer))
    }),
  )
