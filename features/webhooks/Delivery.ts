import { SqlClient } from "@effect/sql"
import { AuditLog } from "@scopeline/events"
import { withCorrelation } from "@scopeline/settings/Correlation"
import { Config, Duration, Effect, Schedule } from "effect"
import { createHmac } from "node:crypto"
import { checkTarget } from "./TargetPolicy.ts"

/** How deliveries are sent: every value a setting, so tests and tenants can tune them. */
export const DeliveryConfig = Config.all({
  timeoutMs: Config.integer("WEBHOOK_TIMEOUT_MS").pipe(Config.withDefault(30_000)),
  retryBaseMs: Config.integer("WEBHOOK_RETRY_BASE_MS").pipe(Config.withDefault(1_000)),
  maxRetries: Config.integer("WEBHOOK_MAX_RETRIES").pipe(Config.withDefault(5)),
  perMinute: Config.integer("WEBHOOK_RATE_PER_MINUTE").pipe(Config.withDefault(10)),
})
export type DeliveryConfig = Config.Config.Success<typeof DeliveryConfig>

/**
 * The signature a receiver checks: HMAC-SHA-256, with the webhook's secret, of `<timestamp>.<body>`,
 * where the timestamp is the `X-Scopeline-Timestamp` header (Unix seconds of this attempt). Signing
 * the timestamp with the body is what makes it a defence against replay: a receiver refuses a
 * timestamp older than a few minutes, and an attacker cannot change it without the secret.
 */
export const signatureOf = (secret: string, timestamp: number, body: string) =>
  `sha256=${createHmac("sha256", secret).update(`${timestamp}.${body}`).digest("hex")}`

/** The wait before retry `n` (1-based): base, 2×base, 4×base… (1, 2, 4, 8, 16 s by default). */
export const backoffFor = (retry: number, baseMs: number) => baseMs * 2 ** Math.max(0, retry - 1)

interface Claimed {
  readonly id: string
  readonly webhookId: string
  readonly url: string
  readonly secret: string
  readonly eventType: string
  readonly body: string
  readonly attempts: number
  readonly correlationId: string | null
}

/**
 * One round: claims due deliveries (a lease: their next attempt moves past the timeout, so a worker
 * that dies mid-send leaves them due again), sends each, and records the outcome. A webhook over its
 * rate waits for the minute to pass; one whose last retry failed is dead, for an operator to replay.
 */
export const deliverDue = Effect.fn("Webhooks.deliverDue")(function* (config: DeliveryConfig) {
  const sql = yield* SqlClient.SqlClient
  const audit = yield* AuditLog
  const claimed = yield* sql.withTransaction(
    Effect.gen(function* () {
      const due = yield* sql<Claimed>`
        SELECT d.id, d.webhook_id, w.url, w.secret, d.event_type, d.body, d.attempts, d.correlation_id
        FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id
        WHERE d.status = 'queued' AND d.next_attempt_at <= now()
        ORDER BY d.next_attempt_at LIMIT 20 FOR UPDATE OF d SKIP LOCKED`
      const sending: Array<Claimed> = []
      for (const delivery of due) {
        // The rate limit, per webhook, counted in the database so every worker shares it (this
        // round's own attempts, inserted below, are counted too: same transaction).
        const [recent] = yield* sql<{ count: number; oldest: Date | null }>`
          SELECT count(*)::int AS count, min(attempted_at) AS oldest FROM webhook_attempts
          WHERE webhook_id = ${delivery.webhookId} AND attempted_at > now() - interval '1 minute'`
        if ((recent?.count ?? 0) >= config.perMinute) {
          yield* sql`UPDATE webhook_deliveries SET next_attempt_at = ${recent?.oldest ?? new Date()}::timestamptz + interval '1 minute' WHERE id = ${delivery.id}`
          continue
        }
        yield* sql`INSERT INTO webhook_attempts (webhook_id) VALUES (${delivery.webhookId})`
        yield* sql`UPDATE webhook_deliveries SET next_attempt_at = now() + make_interval(secs => ${config.timeoutMs / 1000 + 30}) WHERE id = ${delivery.id}`
        sending.push(delivery)
      }
      return sending
    }),
  )
  yield* Effect.forEach(claimed, (delivery) => send(delivery, config).pipe(withCorrelation(delivery.correlationId ?? delivery.id)), {
    concurrency: 10,
    discard: true,
  })

  function send(delivery: Claimed, settings: DeliveryConfig) {
    return Effect.gen(function* () {
      const attempt = delivery.attempts + 1
      const target = yield* checkTarget(delivery.url).pipe(Effect.either)
      const outcome =
        target._tag === "Left"
          ? { ok: false as const, status: null, error: target.left.message, permanent: true }
          : yield* post(delivery, settings.timeoutMs)
      if (outcome.ok) {
        yield* sql`UPDATE webhook_deliveries SET status = 'delivered', attempts = ${attempt}, last_status = ${outcome.status},
          last_error = NULL, delivered_at = now() WHERE id = ${delivery.id}`
        return
      }
      const dead = outcome.permanent || attempt > settings.maxRetries
      yield* sql.withTransaction(
        Effect.gen(function* () {
          yield* sql`UPDATE webhook_deliveries SET attempts = ${attempt}, last_status = ${outcome.status}, last_error = ${outcome.error.slice(0, 500)},
            status = ${dead ? "dead" : "queued"},
            next_attempt_at = now() + make_interval(secs => ${backoffFor(attempt, settings.retryBaseMs) / 1000})
            WHERE id = ${delivery.id}`
          if (dead) {
            yield* audit.record({
              category: "system",
              action: "webhook_dead_lettered",
              actor: { service: "webhook-sender" },
              object: { type: "webhook_delivery", id: delivery.id },
              outcome: { status: "failure", errorCode: outcome.status === null ? "unreachable" : `http_${outcome.status}`, message: outcome.error.slice(0, 200) },
              details: { webhook_id: delivery.webhookId, event_type: delivery.eventType, attempts: attempt },
            })
          }
        }),
      )
    })
  }

  function post(delivery: Claimed, timeoutMs: number) {
    const timestamp = Math.floor(Date.now() / 1000)
    return Effect.tryPromise({
      try: (signal) =>
        fetch(delivery.url, {
          method: "POST",
          redirect: "manual",
          signal: AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]),
          headers: {
            "content-type": "application/json",
            "user-agent": "Scopeline-Webhooks/1",
            "x-scopeline-event": delivery.eventType,
            "x-scopeline-delivery": delivery.id,
            "x-scopeline-timestamp": String(timestamp),
            "x-scopeline-signature": signatureOf(delivery.secret, timestamp, delivery.body),
          },
          body: delivery.body,
        }).then(async (response) => {
          await response.body?.cancel().catch(() => undefined)
          return response.status
        }),
      catch: (error) => failureOf(error, timeoutMs),
    }).pipe(
      Effect.map((status) =>
        status >= 200 && status < 300
          ? { ok: true as const, status }
          : { ok: false as const, status, error: `the receiver answered HTTP ${status}`, permanent: false },
      ),
      Effect.catchAll((error) => Effect.succeed({ ok: false as const, status: null, error, permanent: false })),
    )
  }
})

// What the runtime's network errors mean, for the admin who reads a delivery's last error.
const NETWORK_FAILURES: Readonly<Record<string, string>> = {
  ECONNREFUSED: "the receiver refused the connection (nothing listens at that address and port)",
  ECONNRESET: "the receiver closed the connection before answering",
  ENOTFOUND: "the receiver's host name does not resolve",
  EAI_AGAIN: "the receiver's host name could not be resolved just now",
  EHOSTUNREACH: "the receiver's host cannot be reached",
  ENETUNREACH: "the receiver's network cannot be reached",
  CERT_HAS_EXPIRED: "the receiver's TLS certificate has expired",
  DEPTH_ZERO_SELF_SIGNED_CERT: "the receiver's TLS certificate is self-signed",
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: "the receiver's TLS certificate could not be verified",
  ERR_TLS_CERT_ALTNAME_INVALID: "the receiver's TLS certificate is for another host name",
}

/** Why a POST got no answer, in a sentence: the error's code when the runtime gives one, never its own wording. */
const failureOf = (error: unknown, timeoutMs: number): string => {
  const name = error instanceof Error ? error.name : ""
  if (name === "TimeoutError" || name === "AbortError") return `could not deliver: no answer within ${timeoutMs / 1000} s`
  const code = typeof error === "object" && error !== null && "code" in error && typeof error.code === "string" ? error.code : undefined
  const known = code === undefined ? undefined : NETWORK_FAILURES[code]
  if (known !== undefined) return `could not deliver: ${known}`
  return code === undefined ? "could not deliver: the connection failed" : `could not deliver: the connection failed (${code})`
}

/**
 * The sender, for the life of a worker: a round every 250 ms. (Polling rather than LISTEN: the
 * worker's one LISTEN connection belongs to the outbox relay, and a quarter second is soon enough.)
 */
export const runWebhookDelivery = Effect.gen(function* () {
  const config = yield* DeliveryConfig.pipe(Effect.orDie)
  const round = deliverDue(config).pipe(Effect.catchAllCause((cause) => Effect.logWarning("webhook delivery round failed; will retry", cause)))
  yield* round.pipe(Effect.repeat(Schedule.spaced(Duration.millis(250))))
}).pipe(Effect.withSpan("Webhooks.runDelivery"))
