import { migrate } from "@scopeline/sql/Migrator"
import { PgQueueLive } from "@scopeline/queue/PgQueue"
import { Queue } from "@scopeline/queue/Queue"
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { Effect, Layer, Logger, LogLevel, ManagedRuntime } from "effect"
import fc from "fast-check"
import { configLayer } from "../support/config.ts"
import { testDatabase } from "../support/postgres.ts"
import { sqlLayer } from "../support/seed.ts"

/** The embedded queue keeps SQS's semantics: the same promises the SQS adapter's tests check. */
let runtime: ManagedRuntime.ManagedRuntime<Queue, unknown>
const run = <A, E>(effect: Effect.Effect<A, E, Queue>) => runtime.runPromise(effect)
const q = (f: (queue: Queue["Type"]) => Effect.Effect<unknown, unknown>) => run(Effect.flatMap(Queue, f))

beforeAll(async () => {
  const databaseUrl = await testDatabase()
  const db = sqlLayer(databaseUrl)
  await Effect.runPromise(migrate().pipe(Effect.provide(db), Logger.withMinimumLogLevel(LogLevel.Warning)))
  runtime = ManagedRuntime.make(
    PgQueueLive.pipe(Layer.provide(db), Layer.provide(configLayer({ QUEUE_MAX_RECEIVES: "2" }))),
  )
})
afterAll(() => runtime.dispose())

const receive = (visibility = 1, wait = 0) =>
  run(Effect.flatMap(Queue, (queue) => queue.receive("parse", { maxMessages: 10, waitSeconds: wait, visibilityTimeoutSeconds: visibility })))

const drain = async () => {
  for (let batch = await receive(30); batch.length > 0; batch = await receive(30)) {
    for (const message of batch) await q((queue) => queue.ack("parse", message.receipt))
  }
}

describe("PostgreSQL queue", () => {
  test("a received message is invisible until acked or timed out, then comes back with receiveCount 2", async () => {
    await q((queue) => queue.send("parse", "one"))
    const [first] = await receive(1)
    expect(first).toMatchObject({ body: "one", receiveCount: 1 })
    expect(await receive(1)).toHaveLength(0)
    await Bun.sleep(1100)
    const [again] = await receive(30)
    expect(again).toMatchObject({ body: "one", receiveCount: 2 })
    // The first delivery's receipt no longer names the message: a late ack must not delete it.
    await q((queue) => queue.ack("parse", first!.receipt))
    expect((await run(Effect.flatMap(Queue, (queue) => queue.depth("parse")))).inFlight).toBe(1)
    await q((queue) => queue.ack("parse", again!.receipt))
    expect(await run(Effect.flatMap(Queue, (queue) => queue.depth("parse")))).toEqual({ visible: 0, inFlight: 0, deadLetters: 0 })
  })

  test("extendVisibility keeps a message hidden; fail brings it back after the backoff with the error kept", async () => {
    await q((queue) => queue.send("parse", "long job"))
    const [message] = await receive(1)
    await q((queue) => queue.extendVisibility("parse", message!.receipt, 5))
    await Bun.sleep(1200)
    expect(await receive(1)).toHaveLength(0)
    await q((queue) => queue.fail("parse", message!.receipt, "boom", 0))
    const [retried] = await receive(30)
    expect(retried).toMatchObject({ body: "long job", receiveCount: 2 })
    // Its receives are used up (QUEUE_MAX_RECEIVES=2): the next failure sends it to the dead letters.
    await q((queue) => queue.fail("parse", retried!.receipt, "boom again", 0))
    expect(await receive(30)).toHaveLength(0)
    const dead = (await run(Effect.flatMap(Queue, (queue) => queue.deadLetters("parse")))) as ReadonlyArray<{ id: string; body: string; lastError: string | null; receiveCount: number }>
    expect(dead[0]).toMatchObject({ body: "long job", lastError: "boom again", receiveCount: 2 })
    expect(await run(Effect.flatMap(Queue, (queue) => queue.replay("parse", dead[0]!.id)))).toBe("long job")
    expect(await run(Effect.flatMap(Queue, (queue) => queue.replay("parse", dead[0]!.id)))).toBeUndefined()
    const [replayed] = await receive(30)
    expect(replayed).toMatchObject({ body: "long job", receiveCount: 1 })
    await q((queue) => queue.ack("parse", replayed!.receipt))
  })

  test("a waiting receive wakes as soon as a message is sent", async () => {
    const started = Date.now()
    const waiting = receive(30, 10)
    await Bun.sleep(200)
    await q((queue) => queue.send("parse", "wake up"))
    const [message] = await waiting
    expect(message?.body).toBe("wake up")
    expect(Date.now() - started).toBeLessThan(2000)
    await q((queue) => queue.ack("parse", message!.receipt))
  })

  test("concurrent consumers never receive the same message twice within its visibility timeout", async () => {
    await Promise.all(Array.from({ length: 50 }, (_, i) => q((queue) => queue.send("parse", `m${i}`))))
    const batches = await Promise.all(Array.from({ length: 8 }, () => receive(30)))
    const bodies = batches.flat().map((m) => m.body)
    expect(new Set(bodies).size).toBe(bodies.length)
    for (const m of batches.flat()) await q((queue) => queue.ack("parse", m.receipt))
    await drain()
  })

  test("any sequence of sends, receives and acks matches an in-memory model (fast-check)", async () => {
    await drain()
    await fc.assert(
      fc.asyncProperty(fc.array(fc.constantFrom("send", "receive", "ack"), { minLength: 1, maxLength: 12 }), async (ops) => {
        const model: Array<string> = []
        const held: Array<{ receipt: string; body: string }> = []
        let n = 0
        for (const op of ops) {
          if (op === "send") {
            const body = `p${n++}`
            model.push(body)
            await q((queue) => queue.send("parse", body))
          } else if (op === "receive") {
            const got = await receive(30)
            const expected = model.splice(0, Math.min(10, model.length))
            if (JSON.stringify(got.map((m) => m.body)) !== JSON.stringify(expected)) return false
            held.push(...got.map((m) => ({ receipt: m.receipt, body: m.body })))
          } else if (held.length > 0) {
            await q((queue) => queue.ack("parse", held.shift()!.receipt))
          }
        }
        const depth = (await run(Effect.flatMap(Queue, (queue) => queue.depth("parse")))) as { visible: number; inFlight: number }
        const ok = depth.visible === model.length && depth.inFlight === held.length
        for (const m of held) await q((queue) => queue.ack("parse", m.receipt))
        await drain()
        return ok
      }),
      { numRuns: 100 },
    )
  }, 120_000)
})
