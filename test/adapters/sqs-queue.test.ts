import { Queue, type QueueName } from "@scopeline/queue/Queue"
import { SqsQueueLive } from "@scopeline/queue/SqsQueue"
import { afterAll, beforeAll, beforeEach, describe, expect, test } from "bun:test"
import { Effect, Layer, ManagedRuntime } from "effect"
import { startFauxqs, type FauxqsServer } from "fauxqs"
import fc from "fast-check"
import { configLayer } from "../support/config.ts"

// The queues are created here the way the infra creates them: each work queue redrives to its DLQ
// after MAX_RECEIVES deliveries.
const MAX_RECEIVES = 2
let server: FauxqsServer
let runtime: ManagedRuntime.ManagedRuntime<Queue, unknown>

const withQueue = <A, E>(f: (queue: Queue["Type"]) => Effect.Effect<A, E>) =>
  runtime.runPromise(Effect.flatMap(Queue, f))

const receiveOne = (queue: QueueName, visibilityTimeoutSeconds = 30, waitSeconds = 0) =>
  withQueue((q) => q.receive(queue, { maxMessages: 1, waitSeconds, visibilityTimeoutSeconds }))

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

const message = () => JSON.stringify({ uploadId: crypto.randomUUID() })

beforeAll(async () => {
  server = await startFauxqs({ port: 0, logger: false })
  const settings: Record<string, string> = {
    AWS_REGION: "us-east-1",
    SQS_ENDPOINT: server.address,
    AWS_ACCESS_KEY_ID: "test",
    AWS_SECRET_ACCESS_KEY: "test",
  }
  for (const name of ["parse", "match"] as const) {
    const dlq = server.createQueue(`scopeline-${name}-dlq`)
    const work = server.createQueue(`scopeline-${name}`, {
      attributes: {
        RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlq.queueArn, maxReceiveCount: String(MAX_RECEIVES) }),
      },
    })
    settings[`SQS_${name.toUpperCase()}_QUEUE_URL`] = work.queueUrl
    settings[`SQS_${name.toUpperCase()}_DLQ_URL`] = dlq.queueUrl
  }
  runtime = ManagedRuntime.make(SqsQueueLive.pipe(Layer.provide(configLayer(settings))))
})
beforeEach(() => server.reset())
afterAll(async () => {
  await runtime?.dispose()
  await server?.stop()
})

describe("SqsQueue against an SQS protocol server", () => {
  test("delivers a sent message once with receiveCount 1, and an acked message never comes back", async () => {
    const body = message()
    await withQueue((q) => q.send("parse", body))
    const [received, ...rest] = await receiveOne("parse", 1)
    expect(rest).toEqual([])
    expect(received).toMatchObject({ body, receiveCount: 1 })
    expect(received!.id).toBeString()
    expect(received!.receipt).toBeString()
    await withQueue((q) => q.ack("parse", received!.receipt))
    await sleep(1_200)
    expect(await receiveOne("parse")).toEqual([])
  })

  test("keeps the queues apart: a parse message is not received from match", async () => {
    await withQueue((q) => q.send("parse", message()))
    expect(await receiveOne("match")).toEqual([])
    expect(await receiveOne("parse")).toHaveLength(1)
  })

  test("a received message that is not acked comes back after the visibility timeout with receiveCount 2", async () => {
    const body = message()
    await withQueue((q) => q.send("parse", body))
    expect(await receiveOne("parse", 1)).toMatchObject([{ body, receiveCount: 1 }])
    expect(await receiveOne("parse", 1)).toEqual([])
    await sleep(1_200)
    expect(await receiveOne("parse", 30)).toMatchObject([{ body, receiveCount: 2 }])
  })

  test("extendVisibility keeps a message hidden past its original timeout", async () => {
    await withQueue((q) => q.send("match", message()))
    const [received] = await receiveOne("match", 1)
    await withQueue((q) => q.extendVisibility("match", received!.receipt, 5))
    await sleep(1_300)
    expect(await receiveOne("match")).toEqual([])
  })

  test("fail schedules the retry: the message returns after retryInSeconds, not after its visibility timeout", async () => {
    const now = message()
    const later = message()
    await withQueue((q) => q.send("parse", now))
    const [first] = await receiveOne("parse", 30)
    await withQueue((q) => q.fail("parse", first!.receipt, "matcher timed out", 0))
    expect(await receiveOne("parse", 30)).toMatchObject([{ body: now, receiveCount: 2 }])

    await withQueue((q) => q.send("match", later))
    const [second] = await receiveOne("match", 1)
    await withQueue((q) => q.fail("match", second!.receipt, "matcher timed out", 5))
    await sleep(1_300)
    expect(await receiveOne("match")).toEqual([])
  })

  test("depth counts visible and in-flight messages", async () => {
    await withQueue((q) => Effect.forEach([1, 2, 3], () => q.send("parse", message())))
    expect(await withQueue((q) => q.depth("parse"))).toEqual({ visible: 3, inFlight: 0, deadLetters: 0 })
    await receiveOne("parse", 30)
    expect(await withQueue((q) => q.depth("parse"))).toEqual({ visible: 2, inFlight: 1, deadLetters: 0 })
    expect(await withQueue((q) => q.depth("match"))).toEqual({ visible: 0, inFlight: 0, deadLetters: 0 })
  })

  test("long polling returns as soon as a message is sent, not at the end of the wait", async () => {
    const body = message()
    const started = performance.now()
    const polling = receiveOne("match", 30, 5)
    await sleep(300)
    await withQueue((q) => q.send("match", body))
    const received = await polling
    const elapsed = performance.now() - started
    expect(received).toMatchObject([{ body }])
    expect(elapsed).toBeLessThan(2_000)
  })

  test("after maxReceiveCount deliveries the message is dead-lettered, listed, and replay makes it receivable again", async () => {
    const body = message()
    await withQueue((q) => q.send("parse", body))
    for (let delivery = 1; delivery <= MAX_RECEIVES; delivery++) {
      expect(await receiveOne("parse", 1)).toMatchObject([{ body, receiveCount: delivery }])
      await sleep(1_100)
    }
    // The next receive is the one SQS redrives instead of delivering.
    expect(await receiveOne("parse", 1)).toEqual([])

    const dead = await withQueue((q) => q.deadLetters("parse"))
    expect(dead).toHaveLength(1)
    expect(dead[0]).toMatchObject({ queue: "parse", body, lastError: null })
    expect(dead[0]!.receiveCount).toBeGreaterThanOrEqual(MAX_RECEIVES)
    expect(dead[0]!.deadAt).toBeInstanceOf(Date)
    expect(await withQueue((q) => q.deadLetters("match"))).toEqual([])

    // Counting reads the DLQ's attributes and receives nothing: only the listing's own peek (one
    // receive) shows in the dead letter's receive count, however often the depth was read.
    for (let i = 0; i < 3; i++) expect((await withQueue((q) => q.depth("parse"))).deadLetters).toBe(1)
    expect((await withQueue((q) => q.deadLetters("parse")))[0]!.receiveCount).toBe(dead[0]!.receiveCount + 1)

    // Listing is a peek: the dead letter is still there, visible, for a second listing and the replay.
    expect((await withQueue((q) => q.deadLetters("parse"))).map((d) => d.id)).toEqual([dead[0]!.id])

    expect(await withQueue((q) => q.replay("parse", dead[0]!.id))).toBe(body)
    expect(await withQueue((q) => q.deadLetters("parse"))).toEqual([])
    expect(await receiveOne("parse", 30)).toMatchObject([{ body, receiveCount: 1 }])
  })

  test("replay of an unknown dead letter finds nothing and leaves the other dead letters in place", async () => {
    const body = message()
    await withQueue((q) => q.send("match", body))
    for (let delivery = 0; delivery <= MAX_RECEIVES; delivery++) {
      await receiveOne("match", 1)
      await sleep(1_100)
    }
    expect(await withQueue((q) => q.deadLetters("match"))).toHaveLength(1)
    expect(await withQueue((q) => q.replay("match", crypto.randomUUID()))).toBeUndefined()
    expect(await withQueue((q) => q.deadLetters("match"))).toMatchObject([{ body }])
  })

  test("lists every dead letter, not just one receive batch", async () => {
    const bodies = Array.from({ length: 15 }, message)
    await withQueue((q) => Effect.forEach(bodies, (b) => q.send("match", b)))
    for (let delivery = 0; delivery <= MAX_RECEIVES; delivery++) {
      await withQueue((q) =>
        Effect.repeat(q.receive("match", { maxMessages: 10, waitSeconds: 0, visibilityTimeoutSeconds: 1 }), {
          until: (batch) => batch.length === 0,
        }),
      )
      await sleep(1_100)
    }
    const dead = await withQueue((q) => q.deadLetters("match"))
    expect(dead.map((d) => d.body).sort()).toEqual([...bodies].sort())
  })

  test("an SDK failure is a typed QueueError naming the operation and queue, not a defect", async () => {
    const broken = ManagedRuntime.make(
      SqsQueueLive.pipe(
        Layer.provide(
          configLayer({
            AWS_REGION: "us-east-1",
            SQS_ENDPOINT: server.address,
            AWS_ACCESS_KEY_ID: "test",
            AWS_SECRET_ACCESS_KEY: "test",
            SQS_PARSE_QUEUE_URL: `${server.address}/000000000000/does-not-exist`,
            SQS_PARSE_DLQ_URL: `${server.address}/000000000000/does-not-exist-dlq`,
            SQS_MATCH_QUEUE_URL: `${server.address}/000000000000/does-not-exist`,
            SQS_MATCH_DLQ_URL: `${server.address}/000000000000/does-not-exist-dlq`,
          }),
        ),
      ),
    )
    try {
      const error = await broken.runPromise(Effect.flatMap(Queue, (q) => Effect.flip(q.send("parse", "{}"))))
      expect(error).toMatchObject({ _tag: "QueueError", operation: "send", queue: "parse" })
    } finally {
      await broken.dispose()
    }
  })
})

describe("SqsQueue as a model", () => {
  // Operations with an in-memory model of the queue: messages stay until acked. Visibility is never
  // allowed to lapse (30 s), so the model is exact; timing behaviour is covered above.
  // The queues the stack deploys (the export queue is not one yet: SqsQueue treats it as absent).
  type DeployedQueue = Exclude<QueueName, "export">
  type Op = { readonly kind: "send"; readonly queue: DeployedQueue } | { readonly kind: "receive"; readonly queue: DeployedQueue; readonly max: number } | { readonly kind: "ack"; readonly queue: DeployedQueue; readonly pick: number }
  const queueArb = fc.constantFrom<DeployedQueue>("parse", "match")
  const opArb: fc.Arbitrary<Op> = fc.oneof(
    fc.record({ kind: fc.constant("send" as const), queue: queueArb }),
    fc.record({ kind: fc.constant("receive" as const), queue: queueArb, max: fc.integer({ min: 1, max: 3 }) }),
    fc.record({ kind: fc.constant("ack" as const), queue: queueArb, pick: fc.nat() }),
  )

  test("send / receive / ack sequences match a model: nothing lost, nothing delivered twice, depth exact", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { maxLength: 8 }), async (ops) => {
        server.reset()
        const model = {
          parse: { visible: [] as Array<string>, inFlight: new Map<string, string>() },
          match: { visible: [] as Array<string>, inFlight: new Map<string, string>() },
        }
        for (const op of ops) {
          const state = model[op.queue]
          if (op.kind === "send") {
            const body = message()
            await withQueue((q) => q.send(op.queue, body))
            state.visible.push(body)
          } else if (op.kind === "receive") {
            const got = await withQueue((q) =>
              q.receive(op.queue, { maxMessages: op.max, waitSeconds: 0, visibilityTimeoutSeconds: 30 }),
            )
            expect(got.length).toBe(Math.min(op.max, state.visible.length))
            for (const m of got) {
              expect(m.receiveCount).toBe(1)
              const index = state.visible.indexOf(m.body)
              expect(index).toBeGreaterThanOrEqual(0)
              state.visible.splice(index, 1)
              state.inFlight.set(m.receipt, m.body)
            }
          } else {
            const receipts = [...state.inFlight.keys()]
            if (receipts.length === 0) continue
            const receipt = receipts[op.pick % receipts.length]!
            await withQueue((q) => q.ack(op.queue, receipt))
            state.inFlight.delete(receipt)
          }
        }
        for (const name of ["parse", "match"] as const) {
          expect(await withQueue((q) => q.depth(name))).toEqual({
            visible: model[name].visible.length,
            inFlight: model[name].inFlight.size,
            deadLetters: 0,
          })
        }
      }),
      { numRuns: 100 },
    )
  })
})
