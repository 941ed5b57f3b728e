import { Clock, Config, Data, Deferred, Duration, Effect, Option, Redacted, Schedule, Schema } from "effect"
import { BreakerOpen, makeCircuitBreaker } from "./CircuitBreaker.ts"
import { type MatchItem, MatchResponse } from "./MatcherContract.ts"

const decodeResponse = Schema.decodeUnknown(MatchResponse)

export interface MatchAnswer {
  readonly key: string
  readonly factorRef: string | null
  readonly confidence: number
  readonly reason: string | null
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

// A Retry-After beyond this is treated as this: a job waiting minutes inside one call helps nobody;
// the queue's own backoff takes over instead.
const MAX_BACKOFF = Duration.seconds(30)

/**
 * Exponential backoff with jitter, at most `maxRetries` retries, only while the error is retryable,
 * and never sooner than the matcher's Retry-After asks.
 */
const matcherRetrySchedule = (maxRetries: number, base: Duration.Duration) =>
  Schedule.exponential(base, 2).pipe(
    Schedule.jittered,
    Schedule.intersect(Schedule.recurs(maxRetries)),
    Schedule.intersect(Schedule.identity<CallError>()),
    Schedule.modifyDelay(([, error], delay) => {
      const asked = error._tag === "MatcherHttpError" ? Option.getOrElse(error.retryAfter, () => Duration.zero) : Duration.zero
      return Duration.min(Duration.max(delay, asked), MAX_BACKOFF)
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
 * The AI matcher, as the rest of the pipeline sees it: `match(item)` answers one match key.
 *
 * - Coalescing: one request per key across everything in flight in this process; a second caller
 *   for the same key awaits the first caller's answer.
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
    const threshold = yield* Config.integer("MATCHER_BREAKER_THRESHOLD").pipe(Config.withDefault(5))
    const cooldownMs = yield* Config.integer("MATCHER_BREAKER_COOLDOWN_MS").pipe(Config.withDefault(30_000))

    const endpoint = `${baseUrl.replace(/\/$/, "")}/v1/match`
    const headers: Record<string, string> = { "content-type": "application/json", accept: "application/json" }
    if (Option.isSome(apiKey)) headers.authorization = `Bearer ${Redacted.value(apiKey.value)}`

    const limiter = yield* Effect.makeSemaphore(concurrency)
    const breaker = yield* makeCircuitBreaker<AttemptError>({ threshold, cooldownMs }, isOutage)
    const retrySchedule = matcherRetrySchedule(maxRetries, Duration.millis(retryBaseMs))
    const scope = yield* Effect.scope
    const inFlight = new Map<string, Deferred.Deferred<MatchAnswer, MatcherUnavailable>>()

    const post = (item: MatchItem) =>
      Effect.gen(function* () {
        const response = yield* Effect.tryPromise({
          try: (signal) => fetch(endpoint, { method: "POST", headers, body: JSON.stringify({ items: [item] }), signal }),
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
        const result = decoded.results.find((r) => r.key === item.key)
        if (!result) return yield* new MatcherBadResponse({ detail: `no result for key "${item.key}"` })
        return {
          key: item.key,
          factorRef: result.factor_id,
          confidence: result.confidence,
          reason: result.reason ?? null,
        } satisfies MatchAnswer
      })

    // The permit covers exactly the request on the wire: backoff waits hold no permit, so retries
    // never starve fresh keys, and the timeout never counts time spent queueing for a permit.
    const attempt = (item: MatchItem) =>
      breaker.guard(
        limiter.withPermits(1)(
          post(item).pipe(
            Effect.timeoutFail({ duration: Duration.millis(timeoutMs), onTimeout: () => new MatcherTimeout({ afterMs: timeoutMs }) }),
          ),
        ),
      )

    const call = (item: MatchItem) =>
      attempt(item).pipe(
        Effect.retry(retrySchedule),
        Effect.mapError(
          (error) =>
            new MatcherUnavailable({
              message: `The AI matcher could not be reached: ${describe(error)}`,
              breakerOpen: error._tag === "BreakerOpen",
            }),
        ),
        Effect.withSpan("AiMatcherClient.call", { attributes: { key: item.key } }),
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

    const answer = (item: MatchItem) =>
      Effect.gen(function* () {
        const now = yield* Clock.currentTimeMillis
        const mine = yield* Deferred.make<MatchAnswer, MatcherUnavailable>()
        // Check-and-claim in one synchronous step: no other fiber can claim the key in between.
        const shared = yield* Effect.sync(() => {
          const known = recent(item.key, now)
          if (known) return Effect.succeed(known)
          const existing = inFlight.get(item.key)
          if (existing) return Deferred.await(existing)
          inFlight.set(item.key, mine)
          return undefined
        })
        if (shared !== undefined) return yield* shared
        // The call runs in the service's scope, not the caller's: if the first caller is interrupted
        // the others still get their answer.
        yield* call(item).pipe(
          Effect.exit,
          Effect.tap((exit) => Deferred.done(mine, exit)),
          Effect.flatMap((exit) =>
            Effect.flatMap(Clock.currentTimeMillis, (settledAt) =>
              Effect.sync(() => {
                if (exit._tag === "Success") retain(exit.value, settledAt)
                forget(item.key, mine)
              }),
            ),
          ),
          Effect.onInterrupt(() => Deferred.interrupt(mine).pipe(Effect.zipRight(Effect.sync(() => forget(item.key, mine))))),
          Effect.forkIn(scope),
        )
        return yield* Deferred.await(mine)
      })

    const match = Effect.fn("AiMatcherClient.match")(function* (item: MatchItem) {
      pending += 1
      pendingMax = Math.max(pendingMax, pending)
      return yield* answer(item).pipe(Effect.ensuring(Effect.sync(() => void (pending -= 1))))
    })

    const forget = (key: string, deferred: Deferred.Deferred<MatchAnswer, MatcherUnavailable>) => {
      if (inFlight.get(key) === deferred) inFlight.delete(key)
    }

    return {
      match,
      /** How many requests may be on the wire at once (MATCHER_CONCURRENCY): callers size their work by it. */
      concurrency,
      /** The breaker's state, for the ops page and tests. */
      breakerState: breaker.state,
      /** Callers awaiting an answer now and at most so far, for tests and diagnostics. */
      pending: Effect.sync(() => ({ now: pending, max: pendingMax })),
    }
  }),
}) {}
