import { AiMatcherClient, type MatchManyOptions } from "@scopeline/matching/AiMatcherClient"
import type { MatchItem } from "@scopeline/matching"
import type { RunningMatcher } from "@scopeline/matcher/server"
import type { Server } from "bun"
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { Effect, Either, Layer, ManagedRuntime } from "effect"
import { configLayer } from "../support/config.ts"
import { startTestMatcher } from "./support.ts"

/**
 * A matcher double over real HTTP: counts the requests per key and answers each with a factor named
 * after the call's number, so a test can tell a new answer from a retained one. `legacy` answers
 * without `candidates`, as a matcher that predates the field does.
 */
const startDouble = (options: { readonly legacy?: boolean; readonly latencyMs?: (call: number) => number } = {}) => {
  const calls = new Map<string, number>()
  let total = 0
  const server: Server<unknown> = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    fetch: async (request) => {
      const { items } = (await request.json()) as { items: ReadonlyArray<{ key: string }> }
      const n = ++total
      for (const item of items) calls.set(item.key, (calls.get(item.key) ?? 0) + 1)
      const latency = options.latencyMs?.(n) ?? 0
      if (latency > 0) await Bun.sleep(latency)
      return Response.json({
        results: items.map((item) => ({
          key: item.key,
          factor_id: `DESNZ:2023:call-${n}`,
          confidence: 0.9,
          ...(options.legacy ? {} : { candidates: [{ factor_id: `DESNZ:2023:call-${n}`, confidence: 0.9 }, { factor_id: "DESNZ:2023:other", confidence: 0.4 }] }),
        })),
      })
    },
  })
  return { url: `http://127.0.0.1:${server.port}`, calls: (key: string) => calls.get(key) ?? 0, stop: () => server.stop(true) }
}

const clientFor = (url: string) =>
  ManagedRuntime.make(AiMatcherClient.Default.pipe(Layer.provide(configLayer({ MATCHER_URL: url, MATCHER_MAX_RETRIES: "0" }))))

type ClientRuntime = ReturnType<typeof clientFor>
const ask = (runtime: ClientRuntime, items: ReadonlyArray<MatchItem>, options?: MatchManyOptions) =>
  runtime.runPromise(
    Effect.flatMap(AiMatcherClient, (client) => client.matchMany(items, options)).pipe(
      Effect.map((answers) => answers.map((a) => Either.getOrThrow(a))),
    ),
  )

const open: Array<{ stop: () => unknown }> = []
let reference: RunningMatcher
beforeAll(async () => {
  reference = await startTestMatcher()
}, 60_000)
afterAll(async () => {
  await Promise.all([reference.stop(), ...open.map((o) => o.stop())])
})

const ITEM: MatchItem = { key: "diesel for generators|L", description: "Diesel for generators", unit: "litres" }

describe("candidates in the client's answers", () => {
  test("an answer carries the matcher's candidates, the chosen factor first with its confidence", async () => {
    const runtime = clientFor(reference.url)
    open.push({ stop: () => runtime.dispose() })
    const [answer] = await ask(runtime, [ITEM])
    expect(answer!.factorRef).toMatch(/^DESNZ:2023:/)
    expect(answer!.candidates.length).toBeGreaterThan(1)
    expect(answer!.candidates.length).toBeLessThanOrEqual(5)
    expect(answer!.candidates[0]).toEqual({ factorRef: answer!.factorRef!, confidence: answer!.confidence })
    for (const other of answer!.candidates.slice(1)) expect(other.confidence).toBeLessThan(answer!.confidence)
  })

  test("a matcher that sends no candidates still answers, with an empty list", async () => {
    const double = startDouble({ legacy: true })
    open.push(double)
    const runtime = clientFor(double.url)
    open.push({ stop: () => runtime.dispose() })
    const [answer] = await ask(runtime, [ITEM])
    expect(answer).toEqual({ key: ITEM.key, factorRef: "DESNZ:2023:call-1", confidence: 0.9, reason: null, candidates: [] })
  })
})

describe("asking again with fresh: true", () => {
  test("a key answered moments ago is answered from memory, but fresh: true calls the matcher again and keeps the new answer", async () => {
    const double = startDouble()
    open.push(double)
    const runtime = clientFor(double.url)
    open.push({ stop: () => runtime.dispose() })

    const [first] = await ask(runtime, [ITEM])
    const [again] = await ask(runtime, [ITEM])
    expect(double.calls(ITEM.key)).toBe(1)
    expect(again).toEqual(first!)

    const [fresh] = await ask(runtime, [ITEM], { fresh: true })
    expect(double.calls(ITEM.key)).toBe(2)
    expect(fresh!.factorRef).toBe("DESNZ:2023:call-2")
    expect(fresh!.candidates[0]).toEqual({ factorRef: "DESNZ:2023:call-2", confidence: 0.9 })

    // The fresh answer replaced the retained one.
    const [after] = await ask(runtime, [ITEM])
    expect(double.calls(ITEM.key)).toBe(2)
    expect(after!.factorRef).toBe("DESNZ:2023:call-2")
  })

  test("fresh: true does not join a request already in flight for the key, and its answer is retained even when the older one lands later", async () => {
    // The earlier request is slow and settles after the fresh one.
    const double = startDouble({ latencyMs: (call) => (call === 1 ? 500 : 50) })
    open.push(double)
    const runtime = clientFor(double.url)
    open.push({ stop: () => runtime.dispose() })

    const earlier = ask(runtime, [ITEM])
    await Bun.sleep(100)
    const fresh = ask(runtime, [ITEM], { fresh: true })
    const [[earlierAnswer], [freshAnswer]] = await Promise.all([earlier, fresh])
    expect(double.calls(ITEM.key)).toBe(2)
    expect(earlierAnswer!.factorRef).toBe("DESNZ:2023:call-1")
    expect(freshAnswer!.factorRef).toBe("DESNZ:2023:call-2")

    const [after] = await ask(runtime, [ITEM])
    expect(double.calls(ITEM.key)).toBe(2)
    expect(after!.factorRef).toBe("DESNZ:2023:call-2")
  })

  test("without fresh, a second caller joins the request in flight: one call for both", async () => {
    const double = startDouble({ latencyMs: () => 300 })
    open.push(double)
    const runtime = clientFor(double.url)
    open.push({ stop: () => runtime.dispose() })

    const [[a], [b]] = await Promise.all([ask(runtime, [ITEM]), Bun.sleep(100).then(() => ask(runtime, [ITEM]))])
    expect(double.calls(ITEM.key)).toBe(1)
    expect(b).toEqual(a!)
  })
})
