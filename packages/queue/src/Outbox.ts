import { SqlClient } from "@effect/sql"
import { PgClient } from "@effect/sql-pg"
import { Duration, Effect, Schedule, Stream } from "effect"
import { Queue, type QueueName } from "./Queue.ts"
import { withTraceContext } from "./TraceContext.ts"

export const OUTBOX_CHANNEL = "scopeline_outbox"

/**
 * Writes a message into the outbox. Call it inside the transaction that makes the state change the
 * message announces: both commit or neither does (no dual write).
 */
export const enqueueInTransaction = (queue: QueueName, body: string) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    // Stamped here, in the producer's span: the relay that sends it later belongs to no request.
    const traced = yield* withTraceContext(body)
    yield* sql`INSERT INTO outbox (queue, body) VALUES (${queue}, ${traced})`
    yield* sql`SELECT pg_notify(${OUTBOX_CHANNEL}, ${queue})`
  })

/**
 * Moves outbox rows to the queue, oldest first. Each row is locked, sent and deleted in one
 * transaction: with the PostgreSQL queue the send joins that transaction (exactly once); with SQS a
 * crash between send and commit re-sends, which the idempotent consumers absorb.
 */
export const relayOnce = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  const queue = yield* Queue
  return yield* sql.withTransaction(
    Effect.gen(function* () {
      const rows = yield* sql<{ id: string; queue: QueueName; body: string }>`
        SELECT id::text AS id, queue, body FROM outbox ORDER BY id LIMIT 100 FOR UPDATE SKIP LOCKED`
      for (const row of rows) yield* queue.send(row.queue, row.body)
      if (rows.length > 0) yield* sql`DELETE FROM outbox WHERE id IN ${sql.in(rows.map((r) => r.id))}`
      return rows.length
    }),
  )
}).pipe(Effect.withSpan("Outbox.relayOnce"))

/** Runs the relay forever: woken by NOTIFY on each enqueue, with a slow poll as a safety net. */
export const runRelay = Effect.gen(function* () {
  const pg = yield* PgClient.PgClient
  const drain: Effect.Effect<void, never, SqlClient.SqlClient | Queue> = relayOnce.pipe(
    // A pass that hangs (an unanswered send) is abandoned and its rows unlocked for the next pass.
    Effect.timeoutFail({ duration: Duration.seconds(60), onTimeout: () => "outbox relay pass timed out" }),
    Effect.flatMap((moved) => (moved === 100 ? drain : Effect.void)),
    Effect.catchAllCause((cause) => Effect.logError("outbox relay failed; will retry", cause)),
  )
  const wakeups = pg.listen(OUTBOX_CHANNEL).pipe(
    Stream.retry(Schedule.spaced(Duration.seconds(1))),
    Stream.catchAll(() => Stream.empty),
    Stream.map(() => "notify" as const),
  )
  const ticks = Stream.tick(Duration.seconds(2)).pipe(Stream.map(() => "tick" as const))
  yield* Stream.merge(wakeups, ticks).pipe(
    Stream.debounce(Duration.millis(5)),
    Stream.runForEach(() => drain),
  )
}).pipe(Effect.withSpan("Outbox.runRelay"))
