import { Effect, Option, Tracer } from "effect"

/**
 * The trace context of a queue message: the W3C `traceparent` of the span that sent it, carried as a
 * field of the message's JSON body. In the body, not in a column or an SQS attribute, because the body
 * is what every path keeps: the outbox row, the PostgreSQL and SQS queues, a dead letter and its
 * replay. The consumers' Schemas ignore fields they do not declare, so no message type changes.
 */
export const TRACEPARENT_FIELD = "traceparent"

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value)

const parsed = (body: string): Record<string, unknown> | undefined => {
  try {
    const value: unknown = JSON.parse(body)
    return isObject(value) ? value : undefined
  } catch {
    return undefined
  }
}

/**
 * `body` with the current span's trace context, unless it has one already: a message relayed from
 * the outbox keeps the context of the request that wrote it, not the relay's. A body that is not a
 * JSON object, or a send outside any span, is left as it is.
 */
export const withTraceContext = (body: string): Effect.Effect<string> =>
  Effect.map(Effect.option(Effect.currentParentSpan), (span) => {
    if (Option.isNone(span)) return body
    const message = parsed(body)
    if (message === undefined || TRACEPARENT_FIELD in message) return body
    const { traceId, spanId, sampled } = span.value
    return JSON.stringify({ ...message, [TRACEPARENT_FIELD]: `00-${traceId}-${spanId}-${sampled ? "01" : "00"}` })
  })

/** The span that sent the message, as the parent of the span that handles it; none for a foreign body. */
export const traceContextOf = (body: string): Option.Option<Tracer.ExternalSpan> => {
  const traceparent = parsed(body)?.[TRACEPARENT_FIELD]
  const match = typeof traceparent === "string" ? TRACEPARENT.exec(traceparent) : null
  if (match === null) return Option.none()
  return Option.some(Tracer.externalSpan({ traceId: match[1]!, spanId: match[2]!, sampled: (Number.parseInt(match[3]!, 16) & 1) === 1 }))
}
