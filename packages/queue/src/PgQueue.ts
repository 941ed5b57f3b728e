import { SqlClient } from "@effect/sql"
import { PgClient } from "@effect/sql-pg"
import { QueueSettings } from "@scopeline/settings/QueueSettings"
import { Duration, Effect, Layer, PubSub, Schedule, Stream } from "effect"
import { type DeadLetter, Queue, QueueError, type QueueName, type ReceivedMessage } from "./Queue.ts"
import { withTraceContext } from "./TraceContext.ts"

/** NOTIFY channel: a send wakes waiting consumers at once instead of at their next poll. */
export const QUEUE_CHANNEL = "scopeline_queue"

// A lost notification (listener reconnecting) costs at most this much latency.
const FALLBACK_POLL = Duration.millis(500)

interface Row {
  readonly id: string
  readonly body: string
  readonly receiveCount: number
  readonly lease: string
}

/**
 * The embedded mode's queue: rows in `queue_messages`, claimed with `FOR UPDATE SKIP LOCKED` so
 * any number of workers share a queue without double delivery inside the visibility timeout.
 */
export const PgQueueLive = Layer.scoped(
  Queue,
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const pg = yield* PgClient.PgClient
    const { maxReceivesOf } = yield* QueueSettings
    const wakeups = yield* PubSub.sliding<string>(64)
    yield* pg.listen(QUEUE_CHANNEL).pipe(
      Stream.runForEach((queue) => PubSub.publish(wakeups, queue)),
      // The listener's connection can drop; consumers keep polling meanwhile, so just reconnect.
      Effect.tapError((error) => Effect.logWarning("queue listener lost; reconnecting", error)),
      Effect.retry(Schedule.spaced(Duration.seconds(1))),
      Effect.forkScoped,
    )

    const wrap =
      (operation: string, queue: QueueName) =>
      <A, E, R>(effect: Effect.Effect<A, E, R>) =>
        effect.pipe(Effect.mapError((cause) => new QueueError({ operation, queue, cause })))

    const sendTraced = Effect.fn("PgQueue.send")(function* (queue: QueueName, body: string) {
      yield* sql`INSERT INTO queue_messages (queue, body) VALUES (${queue}, ${body})`.pipe(wrap("send", queue))
      // Delivered at commit when the caller is inside a transaction (the outbox relay is).
      yield* sql`SELECT pg_notify(${QUEUE_CHANNEL}, ${queue})`.pipe(wrap("send", queue))
    })
    // The context is the caller's span, taken before the send's own span opens.
    const send = (queue: QueueName, body: string) => Effect.flatMap(withTraceContext(body), (traced) => sendTraced(queue, traced))

    const claim = (queue: QueueName, max: number, visibilitySeconds: number) =>
      sql.withTransaction(
        Effect.gen(function* () {
          // As SQS does: a message whose receives are used up moves to the dead letters the next
          // time it would have been delivered.
          yield* sql`
            WITH dead AS (
              DELETE FROM queue_messages
              WHERE id IN (
                SELECT id FROM queue_messages
                WHERE queue = ${queue} AND visible_at <= now() AND receive_count >= ${maxReceivesOf(queue)}
                FOR UPDATE SKIP LOCKED)
              RETURNING queue, body, receive_count, last_error, created_at)
            INSERT INTO dead_letters (queue, body, receive_count, last_error, first_enqueued_at)
            SELECT queue, body, receive_count, last_error, created_at FROM dead`
          return yield* sql<Row>`
            UPDATE queue_messages m
            SET receive_count = m.receive_count + 1,
                visible_at = now() + make_interval(secs => ${visibilitySeconds}),
                lease = gen_random_uuid()
            FROM (
              SELECT id FROM queue_messages
              WHERE queue = ${queue} AND visible_at <= now() AND receive_count < ${maxReceivesOf(queue)}
              ORDER BY id
              LIMIT ${max}
              FOR UPDATE SKIP LOCKED) picked
            WHERE m.id = picked.id
            RETURNING m.id::text AS id, m.body, m.receive_count, m.lease::text AS lease`
        }),
      )

    const receive = Effect.fn("PgQueue.receive")(function* (
      queue: QueueName,
      options: { maxMessages: number; waitSeconds: number; visibilityTimeoutSeconds: number },
    ) {
      const deadline = Date.now() + options.waitSeconds * 1000
      const subscription = yield* PubSub.subscribe(wakeups)
      while (true) {
        const rows = yield* claim(queue, options.maxMessages, options.visibilityTimeoutSeconds).pipe(wrap("receive", queue))
        const remaining = deadline - Date.now()
        if (rows.length > 0 || remaining <= 0) {
          return rows.map(
            (row): ReceivedMessage => ({
              id: row.id,
              // The lease names this delivery: an ack from an earlier, timed-out delivery is ignored.
              receipt: `${row.id}:${row.lease}`,
              body: row.body,
              receiveCount: row.receiveCount,
            }),
          )
        }
        yield* subscription.take.pipe(
          Effect.repeat({ until: (name) => name === queue }),
          Effect.timeout(Duration.min(Duration.millis(remaining), FALLBACK_POLL)),
          Effect.ignore,
        )
      }
    }, Effect.scoped)

    const parseReceipt = (receipt: string) => {
      const [id, lease] = receipt.split(":")
      return { id: id ?? "", lease: lease ?? "" }
    }

    const ack = Effect.fn("PgQueue.ack")(function* (queue: QueueName, receipt: string) {
      const { id, lease } = parseReceipt(receipt)
      yield* sql`DELETE FROM queue_messages WHERE id = ${id} AND lease = ${lease}::uuid`.pipe(wrap("ack", queue))
    })

    const extendVisibility = Effect.fn("PgQueue.extendVisibility")(function* (
      queue: QueueName,
      receipt: string,
      seconds: number,
    ) {
      const { id, lease } = parseReceipt(receipt)
      yield* sql`
        UPDATE queue_messages SET visible_at = now() + make_interval(secs => ${seconds})
        WHERE id = ${id} AND lease = ${lease}::uuid`.pipe(wrap("extendVisibility", queue))
    })

    const fail = Effect.fn("PgQueue.fail")(function* (queue: QueueName, receipt: string, error: string, retryInSeconds: number) {
      const { id, lease } = parseReceipt(receipt)
      yield* sql`
        UPDATE queue_messages
        SET visible_at = now() + make_interval(secs => ${retryInSeconds}), last_error = ${error.slice(0, 2000)}
        WHERE id = ${id} AND lease = ${lease}::uuid`.pipe(wrap("fail", queue))
    })

    const depth = Effect.fn("PgQueue.depth")(function* (queue: QueueName) {
      const [row] = yield* sql<{ visible: number; inFlight: number; deadLetters: number }>`
        SELECT count(*) FILTER (WHERE visible_at <= now())::int AS visible,
               count(*) FILTER (WHERE visible_at > now())::int AS in_flight,
               (SELECT count(*)::int FROM dead_letters WHERE queue = ${queue}) AS dead_letters
        FROM queue_messages WHERE queue = ${queue}`.pipe(wrap("depth", queue))
      return row ?? { visible: 0, inFlight: 0, deadLetters: 0 }
    })

    const deadLetters = Effect.fn("PgQueue.deadLetters")(function* (queue: QueueName) {
      const rows = yield* sql<{
        id: string
        queue: QueueName
        body: string
        receiveCount: number
        lastError: string | null
        deadAt: Date
      }>`SELECT id::text AS id, queue, body, receive_count, last_error, dead_at
         FROM dead_letters WHERE queue = ${queue} ORDER BY dead_at DESC, id DESC LIMIT 500`.pipe(wrap("deadLetters", queue))
      return rows.map((row): DeadLetter => ({ ...row }))
    })

    const replay = Effect.fn("PgQueue.replay")(function* (queue: QueueName, deadLetterId: string) {
      // Ids are bigints: 19 digits or more may not fit, and are no id we ever gave out.
      if (!/^\d{1,18}$/.test(deadLetterId)) return undefined
      const moved = yield* sql.withTransaction(
        Effect.gen(function* () {
          const rows = yield* sql<{ body: string }>`
            WITH gone AS (DELETE FROM dead_letters WHERE id = ${deadLetterId} AND queue = ${queue} RETURNING queue, body)
            INSERT INTO queue_messages (queue, body) SELECT queue, body FROM gone RETURNING body`
          if (rows.length > 0) yield* sql`SELECT pg_notify(${QUEUE_CHANNEL}, ${queue})`
          return rows[0]?.body
        }),
      ).pipe(wrap("replay", queue))
      return moved
    })

    return Queue.of({ send, receive, ack, extendVisibility, fail, depth, deadLetters, replay })
  }),
).pipe(Layer.provide(QueueSettings.Default))
