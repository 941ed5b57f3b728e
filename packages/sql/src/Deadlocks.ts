import { Cause, Chunk, Effect, Schedule } from "effect"

/** Whether `error` is PostgreSQL aborting a deadlock's victim (SQLSTATE 40P01), as @effect/sql reports it. */
export const isDeadlock = (error: unknown): boolean => {
  if (typeof error !== "object" || error === null || !("_tag" in error) || error._tag !== "SqlError" || !("cause" in error)) return false
  const cause = error.cause
  return typeof cause === "object" && cause !== null && "code" in cause && cause.code === "40P01"
}

const causeIsDeadlock = <E>(cause: Cause.Cause<E>) =>
  Chunk.some(Cause.failures(cause), isDeadlock) || Chunk.some(Cause.defects(cause), isDeadlock)

/**
 * A whole transaction, run again (up to three times, after about 20, 40 and 80 ms) when PostgreSQL picked
 * it as a deadlock's victim. Statements that change activities also update the rows the database
 * keeps for the inventory and the review queue (migrations 0052 and 0053): a match job's batch and a
 * decision on a key in several uploads can then lock the same rows in opposite orders, and
 * PostgreSQL breaks the cycle by aborting one of them. Nothing of an aborted transaction is kept, so
 * running it again is safe; the other one has already gone on. Found as a failure or as a defect,
 * since repositories turn unexpected SQL errors into defects.
 */
export const retryDeadlocks = <A, E, R>(transaction: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  transaction.pipe(
    Effect.sandbox,
    // Jittered, so two transactions that crossed once do not cross again in step.
    Effect.retry({ while: causeIsDeadlock, schedule: Schedule.intersect(Schedule.jittered(Schedule.exponential("20 millis")), Schedule.recurs(3)) }),
    Effect.unsandbox,
  )
