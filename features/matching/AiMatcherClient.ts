import { Clock, Config, Data, Deferred, Duration, Effect, Exit, Option, Redacted, Schedule, Schema } from "effect"
import { BreakerOpen, makeCircuitBreaker } from "./CircuitBreaker.ts"
import { AuditLog } from "@scopeline/events"
import { type MatchItem, MatchResponse } from "./MatcherContract.ts"

const decodeResponse = Schema.decodeUnknown(MatchResponse)

export interface MatchAnswer {
  readonly key: string
  readonly factorRef: string | null
  readonly confidence: number
  readonly reason: string | null
  /** The matcher's top factors, best first (at most 5; the chosen one first); `[]` if it sent none. */
  readonly candidates: ReadonlyArray<{ readonly factorRef: string; readonly confidence: number }>
}

export interface MatchManyOptions {
  /**
   * Ask the matcher again ("re-match"): skip the answers retained from the last 60 s and do not join
   * a request already in flight for these keys, which may predate the reason for asking again.
   */
  readonly fresh?: boolean
}

/**
 * The matcher could not give an answer: down, failing, timing out after every retry, or the breaker
 * is open. Crosses the queue boundary (the match job fails with it), hence a Schema error.
 */
export class MatcherUnavailable extends Schema.TaggedError<MatcherUnavailable>()("MatcherUnavailable", {
  message: Schema.String,
  breakerOpen: Schema.Boolean,
}) {}

// One attempt's failures. Only some are worth retrying; only outages count against the breaker.
class MatcherHttpError extends Data.TaggedError("MatcherHttpError")<{
  readonly status: number
  readonly retryAfter: Option.Option<Duration.Duration>
  readonly body: string
}> {}
class MatcherTimeout extends Data.TaggedError("MatcherTimeout")<{ readonly afterMs: number }> {}
class MatcherConnectionError extends Data.TaggedError("MatcherConnectionError")<{ readonly cause: unknown }> {}
class MatcherBadResponse extends Data.TaggedError("MatcherBadResponse")<{ readonly detail: string }> {}

type AttemptError = MatcherHttpError | MatcherTimeout | MatcherConnectionError | MatcherBadResponse
type CallError = AttemptError | BreakerOpen

const isOutage = (error: AttemptError): boolean =>
  error._tag === "MatcherTimeout" ||
  error._tag === "MatcherConnectionError" ||
  (error._tag === "MatcherHttpError" && error.status >= 500)

const isRetryable = (error: CallError): boolean =>
  error._tag !== "BreakerOpen" &&
  error._tag !== "MatcherBadResponse" &&
  (isOutage(error) || (error._tag === "MatcherHttpError" && error.status === 429))

/** `Retry-After` in seconds or as an HTTP date. */
const parseRetryAfter = (header: string | null): Option.Option<Duration.Duration> => {
  if (header === null) return Option.none()
  const seconds = Number(header)
  if (Number.isFinite(seconds) && seconds >= 0) return Option.some(Duration.seconds(seconds))
  const at = Date.parse(header)
  return Number.isNaN(at) ? Option.none() : Option.some(Duration.millis(Math.max(0, at - Date.now())))
}

/**
 * Exponential backoff with jitter, at most `maxRetries` retries, only while the error is retryable,
 * and never sooner than the matcher's Retry-After asks, up to `longest` (MATCHER_RETRY_MAX_MS): a
 * Retry-After beyond it is treated as it, since a job waiting minutes inside one call helps nobody
 * and the queue's own backoff takes over instead.
 */
const matcherRetrySchedule = (maxRetries: number, base: Duration.Duration, longest: Duration.Duration) =>
  Schedule.exponential(base, 2).pipe(
    Schedule.jittered,
    Schedule.intersect(Schedule.recurs(maxRetries)),
    Schedule.intersect(Schedule.identity<CallError>()),
    Schedule.modifyDelay(([, error], delay) => {
      const asked = error._tag === "MatcherHttpError" ? Option.getOrElse(error.retryAfter, () => Duration.zero) : Duration.zero
      return Duration.min(Duration.max(delay, asked), longest)
    }),
    Schedule.whileInput(isRetryable),
  )

const describe = (error: CallError): string => {
  switch (error._tag) {
    case "MatcherHttpError":
      return `HTTP ${error.status}${error.body ? `: ${error.body.slice(0, 200)}` : ""}`
    case "MatcherTimeout":
      return `no answer within ${error.afterMs} ms`
    case "MatcherConnectionError":
      return `connection failed (${error.cause instanceof Error ? error.cause.message : String(error.cause)})`
    case "MatcherBadResponse":
      return `unexpected answer: ${error.detail}`
    case "BreakerOpen":
      return error.message
  }
}

// How long a settled answer keeps coalescing callers: covers the moment between the answer and its
// match cache row being written, when another upload's cache lookup could still miss it. Held in a
// plain map with a size cap (oldest first out), never as a fiber per answer: an upload can have
// 100,000 distinct keys answered within that window.
const ANSWER_RETENTION_MS = 60_000
const MAX_RETAINED_ANSWERS = 10_000

/**
 * The AI matcher, as the rest of the pipeline sees it: `match(item)` answers one match key,
 * `matchMany(items)` up to MATCHER_BATCH_SIZE of them in one request.
 *
 * - Coalescing: one call per key across everything in flight in this process; a second caller
 *   for the same key awaits the first caller's answer. A batch asks only for the keys no one else
 *   is already asking for.
 * - One limiter for the process: at most MATCHER_CONCURRENCY requests in flight, however many jobs
 *   and keys ask at once.
 * - Each attempt times out after MATCHER_TIMEOUT_MS; 429, 5xx, timeouts and connection errors are
 *   retried with jittered exponential backoff (honouring Retry-After) up to MATCHER_MAX_RETRIES.
 * - A circuit breaker opens after MATCHER_BREAKER_THRESHOLD consecutive outages and fails fast
 *   until a trial call after MATCHER_BREAKER_COOLDOWN_MS succeeds.
 */
export class AiMatcherClient extends Effect.Service<AiMatcherClient>()("scopeline/AiMatcherClient", {
  scoped: Effect.gen(function* () {
    const baseUrl = yield* Config.string("MATCHER_URL").pipe(Config.withDefault("http://127.0.0.1:3100"))
    const apiKey = yield* Config.option(Config.redacted("MATCHER_API_KEY"))
    const concurrency = yield* Config.integer("MATCHER_CONCURRENCY").pipe(Config.withDefault(10))
    const timeoutMs = yield* Config.integer("MATCHER_TIMEOUT_MS").pipe(Config.withDefault(10_000))
    const maxRetries = yield* Config.integer("MATCHER_MAX_RETRIES").pipe(Config.withDefault(5))
    const retryBaseMs = yield* Config.integer("MATCHER_RETRY_BASE_MS").pipe(Config.withDefault(250))
    const retryMaxMs = yield* Config.integer("MATCHER_RETRY_MAX_MS").pipe(
      Config.withDefault(30_000),
      Config.validate({ message: "MATCHER_RETRY_MAX_MS must be 0 or more (milliseconds)", validation: (n) => n >= 0 }),
    )
    const threshold = yield* Config.integer("MATCHER_BREAKER_THRESHOLD").pipe(Config.withDefault(5))
    const cooldownMs = yield* Config.integer("MATCHER_BREAKER_COOLDOWN_MS").pipe(Config.withDefault(30_000))
    // Default 1: an unknown matcher may price each item (latency per item), where batching only
    // makes each request slower; the reference matcher's latency is per request.
    const batchSize = yield* Config.integer("MATCHER_BATCH_SIZE").pipe(
      Config.withDefault(1),
      Config.validate({ message: "MATCHER_BATCH_SIZE must be 1 to 1000 (the contract's maxItems)", validation: (n) => n >= 1 && n <= 1000 }),
    )

    const endpoint = `${baseUrl.replace(/\/$/, "")}/v1/match`
    const headers: Record<string, string> = { "content-type": "application/json", accept: "application/json" }
    if (Option.isSome(apiKey)) headers.authorization = `Bearer ${Redacted.value(apiKey.value)}`

    const limiter = yield* Effect.makeSemaphore(concurrency)
    // Opening and closing are system events in the audit log (where the process has one).
    const audit = yield* Effect.serviceOption(AuditLog)
    const onChange = (change: "opened" | "closed") =>
      Option.match(audit, {
        onNone: () => Effect.void,
        onSome: (log) =>
          log.recordRefusal({
            category: "system",
            action: change === "opened" ? "matcher_circuit_opened" : "matcher_circuit_closed",
            actor: { service: "match-worker" },
            object: { type: "dependency", id: "ai-matcher" },
            outcome: { status: change === "opened" ? "failure" : "success" },
            details: { threshold, cooldown_ms: cooldownMs },
          }),
      })
    const breaker = yield* makeCircuitBreaker<AttemptError>({ threshold, cooldownMs, onChange }, isOutage)
    const retrySchedule = matcherRetrySchedule(maxRetries, Duration.millis(retryBaseMs), Duration.millis(retryMaxMs))
    const scope = yield* Effect.scope
    const inFlight = new Map<string, Deferred.Deferred<MatchAnswer, MatcherUnavailable>>()

    const post = (items: ReadonlyArray<MatchItem>) =>
      Effect.gen(function* () {
        const response = yield* Effect.tryPromise({
          try: (signal) => fetch(endpoint, { method: "POST", headers, body: JSON.stringify({ items }), signal }),
          catch: (cause) => new MatcherConnectionError({ cause }),
        })
        if (response.status !== 200) {
          const body = yield* Effect.promise(() => response.text().catch(() => ""))
          return yield* new MatcherHttpError({
            status: response.status,
            retryAfter: parseRetryAfter(response.headers.get("retry-after")),
            body,
          })
        }
        const json = yield* Effect.tryPromise({
          try: () => response.json() as Promise<unknown>,
          catch: (cause) => new MatcherConnectionError({ cause }),
        })
        const decoded = yield* decodeResponse(json).pipe(
          Effect.mapError((error) => new MatcherBadResponse({ detail: error.message.slice(0, 300) })),
        )
        const byKey = new Map(decoded.results.map((r) => [r.key, r]))
        const answers: Array<MatchAnswer> = []
        for (const item of items) {
          const result = byKey.get(item.key)
          // The whole request fails: a matcher that drops keys is broken, and retrying would not help.
          if (!result) return yield* new MatcherBadResponse({ detail: `no result for key "${item.key}"` })
          answers.push({
            key: item.key,
            factorRef: result.factor_id,
            confidence: result.confidence,
            reason: result.reason ?? null,
            candidates: result.candidates.map((c) => ({ factorRef: c.factor_id, confidence: c.confidence })),
          })
        }
        return answers
      })

    // The permit covers exactly the request on the wire: backoff waits hold no permit, so retries
    // never starve fresh keys, and the timeout never counts time spent queueing for a permit.
    const attempt = (items: ReadonlyArray<MatchItem>) =>
      breaker.guard(
        limiter.withPermits(1)(
          post(items).pipe(
            Effect.timeoutFail({ duration: Duration.millis(timeoutMs), onTimeout: () => new MatcherTimeout({ afterMs: timeoutMs }) }),
          ),
        ),
      )

    const call = (items: ReadonlyArray<MatchItem>) =>
      attempt(items).pipe(
        Effect.retry(retrySchedule),
        Effect.mapError(
          (error) =>
            new MatcherUnavailable({
              message: `The AI matcher could not be reached: ${describe(error)}`,
              breakerOpen: error._tag === "BreakerOpen",
            }),
        ),
        Effect.withSpan("AiMatcherClient.call", { attributes: { keys: items.length, key: items[0]?.key } }),
      )

    const retained = new Map<string, { readonly answer: MatchAnswer; readonly at: number }>()
    const retain = (answer: MatchAnswer, now: number) => {
      retained.delete(answer.key)
      retained.set(answer.key, { answer, at: now })
      // Insertion order is age order, so the expired and the surplus are always at the front.
      for (const [key, entry] of retained) {
        if (retained.size <= MAX_RETAINED_ANSWERS && now - entry.at < ANSWER_RETENTION_MS) break
        retained.delete(key)
      }
    }
    const recent = (key: string, now: number): MatchAnswer | undefined => {
      const entry = retained.get(key)
      return entry !== undefined && now - entry.at < ANSWER_RETENTION_MS ? entry.answer : undefined
    }

    // Callers waiting for an answer right now, and the most ever: the pipeline bounds how many keys
    // it asks at once, and a test holds it to that bound.
    let pending = 0
    let pendingMax = 0

    const answerMany = (items: ReadonlyArray<MatchItem>, options: MatchManyOptions = {}) =>
      Effect.gen(function* () {
        const now = yield* Clock.currentTimeMillis
        const made = yield* Effect.forEach(items, () => Deferred.make<MatchAnswer, MatcherUnavailable>())
        const claimed: Array<{ readonly item: MatchItem; readonly deferred: Deferred.Deferred<MatchAnswer, MatcherUnavailable> }> = []
        const claimedHere = new Map<string, Deferred.Deferred<MatchAnswer, MatcherUnavailable>>()
        // Check-and-claim in one synchronous step: no other fiber can claim a key in between. A key
        // twice in one batch finds its own claim and waits on it. A fresh claim supersedes a request
        // in flight: callers from now on join the fresh one, and the older answer is not retained.
        const waits = yield* Effect.sync(() =>
          items.map((item, i): Effect.Effect<MatchAnswer, MatcherUnavailable> => {
            const known = options.fresh ? undefined : recent(item.key, now)
            if (known) return Effect.succeed(known)
            const existing = options.fresh ? claimedHere.get(item.key) : inFlight.get(item.key)
            if (existing) return Deferred.await(existing)
            const deferred = made[i]!
            inFlight.set(item.key, deferred)
            claimedHere.set(item.key, deferred)
            claimed.push({ item, deferred })
            return Deferred.await(deferred)
          }),
        )
        // The call runs in the service's scope, not the caller's: if the first caller is interrupted
        // the others still get their answer.
        if (claimed.length > 0) {
          yield* call(claimed.map(({ item }) => item)).pipe(
            Effect.exit,
            Effect.flatMap((exit) =>
              Effect.flatMap(Clock.currentTimeMillis, (settledAt) =>
                Effect.forEach(
                  claimed,
                  ({ item, deferred }, i) => {
                    const one = Exit.map(exit, (answers) => answers[i]!)
                    return Deferred.done(deferred, one).pipe(
                      Effect.zipRight(
                        Effect.sync(() => {
                          // A superseded claim's answer is older than the fresh one that replaced it.
                          if (one._tag === "Success" && inFlight.get(item.key) === deferred) retain(one.value, settledAt)
                          forget(item.key, deferred)
                        }),
                      ),
                    )
                  },
                  { discard: true },
                ),
              ),
            ),
            Effect.onInterrupt(() =>
              Effect.forEach(
                claimed,
                ({ item, deferred }) => Deferred.interrupt(deferred).pipe(Effect.zipRight(Effect.sync(() => forget(item.key, deferred)))),
                { discard: true },
              ),
            ),
            Effect.forkIn(scope),
          )
        }
        return yield* Effect.forEach(waits, Effect.either)
      })

    const track = <A, E>(keys: number, effect: Effect.Effect<A, E>) =>
      Effect.suspend(() => {
        pending += keys
        pendingMax = Math.max(pendingMax, pending)
        return effect.pipe(Effect.ensuring(Effect.sync(() => void (pending -= keys))))
      })

    const match = Effect.fn("AiMatcherClient.match")(function* (item: MatchItem) {
      const [answer] = yield* track(1, answerMany([item]))
      return yield* answer!
    })

    /**
     * One request for the keys of `items` nobody is asking for yet (callers keep them to
     * MATCHER_BATCH_SIZE), each key's answer or outage in the order given; never fails as a whole.
     * With `fresh: true` every key is asked again (see MatchManyOptions).
     */
    const matchMany = Effect.fn("AiMatcherClient.matchMany")(function* (
      items: ReadonlyArray<MatchItem>,
      options?: MatchManyOptions,
    ) {
      return yield* track(items.length, answerMany(items, options))
    })

    const forget = (key: string, deferred: Deferred.Deferred<MatchAnswer, MatcherUnavailable>) => {
      if (inFlight.get(key) === deferred) inFlight.delete(key)
    }

    return {
      match,
      matchMany,
      /** How many requests may be on the wire at once (MATCHER_CONCURRENCY): callers size their work by it. */
      concurrency,
      /** Distinct keys per request (MATCHER_BATCH_SIZE). */
      batchSize,
      /** The breaker's state, for the ops page and tests. */
      breakerState: breaker.state,
      /** Callers awaiting an answer now and at most so far, for tests and diagnostics. */
      pending: Effect.sync(() => ({ now: pending, max: pendingMax })),
    }
  }),
}) {}
