import { guard } from "@scopeline/accounts"
import { DeadLetterNotFound, QueueNotFound } from "../errors.ts"
import { type ApiError, BadRequest } from "@scopeline/ui/ApiError"
import type { Principal } from "@scopeline/accounts"
import { type DeadLetter, Queue, type QueueName } from "@scopeline/queue/Queue"
import { Effect, Schema } from "effect"
import { Elysia } from "elysia"
import { decodeInput, queryParams } from "@scopeline/ui/decode"
import { json, type Responder } from "@scopeline/ui/respond"
import type { OpsServices } from "./services.ts"

export const QUEUES: ReadonlyArray<QueueName> = ["parse", "match"]
const QueueNameSchema = Schema.Literal("parse", "match")

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

/**
 * Replays one dead letter. Without a queue name the id is tried on each queue: ids are unique per
 * store, so at most one queue can hold it.
 */
export const replayDeadLetter = (queueName: QueueName | undefined, id: string, by: Principal) =>
  Effect.gen(function* () {
    const queue = yield* Queue
    for (const name of queueName ? [queueName] : QUEUES) {
      if (yield* queue.replay(name, id).pipe(Effect.orDie)) {
        // The runbook calls replay from the app "audited": this line is that audit trail.
        yield* Effect.logInfo("dead letter replayed").pipe(
          Effect.annotateLogs({ queue: name, deadLetterId: id, replayedBy: by.userId }),
        )
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
      { parse: "none" },
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
      { parse: "none" },
    )
}
