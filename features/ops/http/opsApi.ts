import { AuditLog } from "@scopeline/events"
import { SqlClient } from "@effect/sql"
import { guard } from "@scopeline/accounts"
import { DeadLetterNotFound, QueueNotFound } from "../errors.ts"
import { type ApiError, BadRequest } from "@scopeline/ui/ApiError"
import type { Principal } from "@scopeline/accounts"
import { type DeadLetter, Queue, type QueueName } from "@scopeline/queue/Queue"
import { Effect, Option, Schema } from "effect"
import { Elysia } from "elysia"
import { decodeInput, queryParams } from "@scopeline/ui/decode"
import { json, type Responder } from "@scopeline/ui/respond"
import { documented } from "@scopeline/ui/RouteDoc"
import type { OpsServices } from "./services.ts"

export const QUEUES: ReadonlyArray<QueueName> = ["parse", "match", "export"]
const QueueNameSchema = Schema.Literal("parse", "match", "export")

const isQueueName = (name: string): name is QueueName => (QUEUES as ReadonlyArray<string>).includes(name)

// A queue that cannot be reached is an outage, not something the caller can fix: a defect (500,
// logged with the correlation id) is the honest answer.
export const deadLettersOf = (queue: Queue["Type"]) =>
  Effect.forEach(QUEUES, (name) => queue.deadLetters(name), { concurrency: "unbounded" }).pipe(
    Effect.map((lists) => lists.flat().sort((a, b) => b.deadAt.getTime() - a.deadAt.getTime())),
    Effect.orDie,
  )

export const queueDepths = (queue: Queue["Type"]) =>
  Effect.forEach(
    QUEUES,
    (name) =>
      queue.depth(name).pipe(Effect.map((depth) => ({ name, ...depth }))),
    { concurrency: "unbounded" },
  ).pipe(Effect.orDie)

/** What a queued job names: any of the product's jobs (parse, match, export), read leniently. */
const decodeJobBody = Schema.decodeUnknownOption(
  Schema.parseJson(
    Schema.Struct({
      uploadId: Schema.optional(Schema.UUID),
      exportId: Schema.optional(Schema.UUID),
      correlationId: Schema.optional(Schema.String.pipe(Schema.maxLength(200))),
    }),
  ),
)

/**
 * Replays one dead letter. Without a queue name the id is tried on each queue: ids are unique per
 * store, so at most one queue can hold it.
 */
export const replayDeadLetter = (queueName: QueueName | undefined, id: string, by: Principal) =>
  Effect.gen(function* () {
    const queue = yield* Queue
    const sql = yield* SqlClient.SqlClient
    const audit = yield* AuditLog
    for (const name of queueName ? [queueName] : QUEUES) {
      // With the PostgreSQL queue the replay and its event commit together; SQS is outside the
      // database, so there the event is written right after SQS took the message back.
      const replayed = yield* sql
        .withTransaction(
          Effect.gen(function* () {
            const body = yield* queue.replay(name, id)
            if (body === undefined) return false
            // The job's own subject and correlation, so the replay is read with the upload's (or
            // export's) history; a body that names none is recorded as the dead letter it was.
            const job = Option.getOrUndefined(decodeJobBody(body))
            const subject = job?.uploadId ?? job?.exportId
            yield* audit.record({
              category: "system",
              action: "dead_letter_replayed",
              actor: { userId: by.userId, role: by.role },
              object: subject === undefined ? { type: "dead_letter", id } : { type: job?.uploadId === undefined ? "export" : "upload", id: subject.toLowerCase() },
              details: { queue: name, dead_letter_id: id, ...(job?.correlationId === undefined ? {} : { job_correlation_id: job.correlationId }) },
            })
            return true
          }),
        )
        .pipe(Effect.orDie)
      if (replayed) {
        yield* Effect.logInfo("dead letter replayed").pipe(Effect.annotateLogs({ queue: name, deadLetterId: id, replayedBy: by.userId }))
        return name
      }
    }
    return yield* new DeadLetterNotFound({ message: "There is no dead letter with this id (it may have been replayed already)." })
  })

export const deadLetterJson = (letter: DeadLetter) => ({
  id: letter.id,
  queue: letter.queue,
  body: letter.body,
  receive_count: letter.receiveCount,
  last_error: letter.lastError,
  dead_at: letter.deadAt.toISOString(),
  replay_url: `/v1/admin/dead-letters/${letter.queue}/${encodeURIComponent(letter.id)}/replay`,
})

const ReplayQuery = Schema.Struct({ queue: Schema.optional(QueueNameSchema) })

const DeadLetterJson = Schema.Struct({
  id: Schema.String,
  queue: QueueNameSchema,
  body: Schema.Unknown.annotations({ description: "the message as it was sent" }),
  receive_count: Schema.Number,
  last_error: Schema.NullOr(Schema.String),
  dead_at: Schema.String,
  replay_url: Schema.String,
}).annotations({ identifier: "DeadLetter" })
const Replayed = Schema.Struct({ replayed: Schema.Struct({ id: Schema.String, queue: QueueNameSchema }) })

/** The OpenAPI entries of the routes below, one per route, attached to it as its `detail`. */
export const opsApiDocs = {
  deadLetters: documented({
    summary: "The dead letters of the parse and match queues, newest first",
    tag: "operations",
    access: "operate",
    responses: { 200: { description: "Every dead letter.", schema: Schema.Struct({ dead_letters: Schema.Array(DeadLetterJson) }) } },
  }),
  queues: documented({
    summary: "Queue depths: visible, in flight, dead",
    tag: "operations",
    access: "operate",
    responses: {
      200: {
        description: "One line per queue.",
        schema: Schema.Struct({
          queues: Schema.Array(
            Schema.Struct({ name: QueueNameSchema, visible: Schema.Number, in_flight: Schema.Number, dead_letters: Schema.Number }),
          ),
        }),
      },
    },
  }),
  replay: documented({
    summary: "Replay one dead letter of a named queue",
    tag: "operations",
    access: "operate",
    changes: true,
    params: Schema.Struct({ segment: QueueNameSchema, id: Schema.String }),
    responses: { 200: { description: "The message is back on its queue.", schema: Replayed } },
    errors: [404],
  }),
  replayById: documented({
    summary: "Replay one dead letter by its id alone (or `?queue=`)",
    tag: "operations",
    access: "operate",
    changes: true,
    params: Schema.Struct({ segment: Schema.String.annotations({ description: "the dead letter's id" }) }),
    query: ReplayQuery,
    responses: { 200: { description: "The message is back on its queue.", schema: Replayed } },
    errors: [404],
  }),
}

/** Operations: queue depths and the dead letters of the parse and match queues, with replay. */
export const opsApi = (respond: Responder<OpsServices>) => {
  // The queue is resolved after the permission check, so callers without access learn nothing from it.
  const replay = (request: Request, queueName: Effect.Effect<QueueName | undefined, ApiError>, id: string) =>
    Effect.gen(function* () {
      const principal = yield* guard(request, "operate", "change")
      const replayedTo = yield* replayDeadLetter(yield* queueName, id, principal)
      return json({ replayed: { id, queue: replayedTo } })
    })
  return new Elysia({ name: "api.ops", prefix: "/v1/admin" })
    .get("/dead-letters", ({ request }) =>
      respond.api(
        request,
        Effect.gen(function* () {
          const principal = yield* guard(request, "operate")
          const letters = yield* deadLettersOf(yield* Queue)
          return json({ dead_letters: letters.map(deadLetterJson) })
        }),
      ),
      { detail: opsApiDocs.deadLetters },
    )
    .get("/queues", ({ request }) =>
      respond.api(
        request,
        Effect.gen(function* () {
          const principal = yield* guard(request, "operate")
          const depths = yield* queueDepths(yield* Queue)
          return json({
            queues: depths.map((q) => ({ name: q.name, visible: q.visible, in_flight: q.inFlight, dead_letters: q.deadLetters })),
          })
        }),
      ),
      { detail: opsApiDocs.queues },
    )
    // The router needs one parameter name per path position: the segment after /dead-letters/ is
    // the queue in the full form and the id in the alias, hence its neutral name.
    .post(
      "/dead-letters/:segment/:id/replay",
      ({ request, params }) =>
        respond.api(
          request,
          replay(
            request,
            isQueueName(params.segment)
              ? Effect.succeed(params.segment)
              : Effect.fail(new QueueNotFound({ message: `There is no queue named "${params.segment}".` })),
            params.id,
          ),
        ),
      { parse: "none", detail: opsApiDocs.replay },
    )
    .post(
      "/dead-letters/:segment/replay",
      ({ request, params }) =>
        respond.api(
          request,
          replay(
            request,
            decodeInput(ReplayQuery, "query")(queryParams(request)).pipe(
              Effect.map((query) => query.queue),
              Effect.mapError((error) => new BadRequest({ message: 'The queue must be "parse" or "match".', details: error.details })),
            ),
            params.segment,
          ),
        ),
      { parse: "none", detail: opsApiDocs.replayById },
    )
}
