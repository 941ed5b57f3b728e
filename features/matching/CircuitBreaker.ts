import { Cause, Clock, Data, Effect, Exit, Option, Ref } from "effect"

export type BreakerState =
  | { readonly _tag: "Closed"; readonly consecutiveFailures: number }
  | { readonly _tag: "Open"; readonly until: number }
  /** One trial call is running; everything else still fails fast until it settles. */
  | { readonly _tag: "HalfOpen" }

export class BreakerOpen extends Data.TaggedError("BreakerOpen")<{ readonly retryInMs: number }> {
  override get message(): string {
    return `circuit breaker open; next trial in ${Math.max(0, Math.ceil(this.retryInMs))} ms`
  }
}

export interface BreakerOptions {
  /** Consecutive failures that open the breaker. */
  readonly threshold: number
  /** How long it stays open before one trial call is let through. */
  readonly cooldownMs: number
  /** Told when the breaker opens from closed, and when it closes again (not of each failed trial). */
  readonly onChange?: (change: "opened" | "closed") => Effect.Effect<void>
}

/**
 * A circuit breaker for one dependency. `isFailure` decides which errors count: an overloaded
 * service answering 429 is up, so only outages (5xx, timeouts, refused connections) should open it.
 */
export const makeCircuitBreaker = <E>(options: BreakerOptions, isFailure: (error: E) => boolean) =>
  Effect.gen(function* () {
    const state = yield* Ref.make<BreakerState>({ _tag: "Closed", consecutiveFailures: 0 })

    const admit = Effect.gen(function* () {
      const now = yield* Clock.currentTimeMillis
      return yield* Ref.modify(state, (s): [number | null, BreakerState] => {
        if (s._tag === "Closed") return [null, s]
        if (s._tag === "Open" && now >= s.until) return [null, { _tag: "HalfOpen" }]
        return [s._tag === "Open" ? s.until - now : options.cooldownMs, s]
      })
    })

    const record = (exit: Exit.Exit<unknown, E>) =>
      Effect.gen(function* () {
        const now = yield* Clock.currentTimeMillis
        const counts = Exit.isFailure(exit) && Option.exists(Cause.failureOption(exit.cause), isFailure)
        const [before, after] = yield* Ref.modify(state, (s): [[BreakerState, BreakerState], BreakerState] => {
          const next = transition(s)
          return [[s, next], next]
        })
        if (options.onChange) {
          if (before._tag === "Closed" && after._tag === "Open") yield* options.onChange("opened")
          if (before._tag !== "Closed" && after._tag === "Closed") yield* options.onChange("closed")
        }
        function transition(s: BreakerState): BreakerState {
          if (Exit.isSuccess(exit)) return { _tag: "Closed", consecutiveFailures: 0 }
          if (counts) {
            if (s._tag === "HalfOpen") return { _tag: "Open", until: now + options.cooldownMs }
            if (s._tag === "Closed") {
              const consecutiveFailures = s.consecutiveFailures + 1
              return consecutiveFailures >= options.threshold
                ? { _tag: "Open", until: now + options.cooldownMs }
                : { _tag: "Closed", consecutiveFailures }
            }
            return s
          }
          // A trial that proved nothing (429, interrupted): let the next call be the trial at once.
          return Exit.isFailure(exit) && s._tag === "HalfOpen" ? { _tag: "Open", until: now } : s
        }
      })

    const guard = <A, E2 extends E, R>(effect: Effect.Effect<A, E2, R>): Effect.Effect<A, E2 | BreakerOpen, R> =>
      Effect.flatMap(
        admit,
        (retryInMs): Effect.Effect<A, E2 | BreakerOpen, R> =>
          retryInMs === null ? Effect.onExit(effect, record) : Effect.fail(new BreakerOpen({ retryInMs })),
      )

    return { guard, state: Ref.get(state) }
  })
