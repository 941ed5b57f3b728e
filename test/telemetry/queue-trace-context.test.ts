import { PgQueueLive } from "@scopeline/queue/PgQueue"
import { Queue } from "@scopeline/queue/Queue"
import { SqsQueueLive } from "@scopeline/queue/SqsQueue"
import { traceContextOf } from "@scopeline/queue/TraceContext"
import { migrate } from "@scopeline/sql/Migrator"
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { Effect, Layer, Logger, LogLevel, ManagedRuntime, Option } from "effect"
import { startFauxqs, type FauxqsServer } from "fauxqs"
import { configLayer } from "../support/config.ts"
import { testDatabase } from "../support/postgres.ts"
import { sqlLayer } from "../support/seed.ts"

let fauxqs: FauxqsServer
const runtimes = new Map<"PgQueue" | "SqsQueue", ManagedRuntime.ManagedRuntime<Queue, unknown>>()

beforeAll(async () => {
  const db = sqlLayer(await testDatabase())
  await Effect.runPromise(migrate().pipe(Effect.provide(db), Logger.withMinimumLogLevel(LogLevel.Warning)))
  runtimes.set("PgQueue", ManagedRuntime.make(PgQueueLive.pipe(Layer.provide(db), Layer.provide(configLayer({ QUEUE_MAX_RECEIVES: "2" })))))
  fauxqs = await startFauxqs({ port: 0, logger: false })
  const settings: Record<string, string> = { AWS_REGION: "us-east-1", SQS_ENDPOINT: fauxqs.address, AWS_ACCESS_KEY_ID: "test", AWS_SECRET_ACCESS_KEY: "test" }
  for (const name of ["parse", "match"] as const) {
    settings[`SQS_${name.toUpperCase()}_QUEUE_URL`] = fauxqs.createQueue(`trace-${name}`).queueUrl
    settings[`SQS_${name.toUpperCase()}_DLQ_URL`] = fauxqs.createQueue(`trace-${name}-dlq`).queueUrl
  }
  runtimes.set("SqsQueue", ManagedRuntime.make(SqsQueueLive.pipe(Layer.provide(configLayer(settings)))))
}, 60_000)
afterAll(async () => {
  await Promise.all([...runtimes.values()].map((runtime) => runtime.dispose()))
  await fauxqs?.stop()
})

/** Sends `body` (inside a span when asked), receives it back and acks it. */
const roundTrip = (implementation: "PgQueue" | "SqsQueue", body: string, inSpan: boolean) =>
  runtimes.get(implementation)!.runPromise(
    Effect.gen(function* () {
      const queue = yield* Queue
      const send = queue.send("match", body)
      const traceId = inSpan
        ? yield* Effect.withSpan(Effect.zipRight(send, Effect.map(Effect.currentSpan, (span) => span.traceId)), "producer")
        : yield* Effect.as(send, undefined)
      const [received] = yield* queue.receive("match", { maxMessages: 1, waitSeconds: 1, visibilityTimeoutSeconds: 30 })
      yield* queue.ack("match", received!.receipt)
      return { traceId, body: received!.body }
    }),
  )

for (const implementation of ["PgQueue", "SqsQueue"] as const) {
  describe(`${implementation} carries the trace context in the message`, () => {
    test("a message sent inside a span names that span's trace, and keeps its own fields", async () => {
      const { traceId, body } = await roundTrip(implementation, JSON.stringify({ _tag: "MatchJob", uploadId: "u1" }), true)
      const context = traceContextOf(body)
      expect(Option.map(context, (span) => span.traceId)).toEqual(Option.some(traceId!))
      expect(JSON.parse(body)).toMatchObject({ _tag: "MatchJob", uploadId: "u1" })
    })

    test("a message relayed from the outbox keeps the context it was written with", async () => {
      const original = JSON.stringify({ uploadId: "u2", traceparent: `00-${"a".repeat(32)}-${"b".repeat(16)}-01` })
      const { body } = await roundTrip(implementation, original, true)
      expect(body).toBe(original)
    })

    test("a body that is not a JSON object is sent unchanged", async () => {
      expect((await roundTrip(implementation, "not json", true)).body).toBe("not json")
      expect((await roundTrip(implementation, "[1]", false)).body).toBe("[1]")
    })
  })
}
