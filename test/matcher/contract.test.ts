import { readCatalogue } from "@scopeline/catalogue/readCatalogue"
import type { CatalogueFactor } from "@scopeline/catalogue/EmissionFactor"
import { MatchResponse } from "@scopeline/matching"
import { startMatcher, type MatcherOptions, type RunningMatcher } from "@scopeline/matcher/server"
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { Effect, Schema } from "effect"

let catalogue: ReadonlyArray<CatalogueFactor>
const running: Array<RunningMatcher> = []

beforeAll(async () => {
  catalogue = await Effect.runPromise(readCatalogue())
})
afterAll(async () => {
  await Promise.all(running.map((m) => m.stop()))
})

const start = async (options: MatcherOptions = {}) => {
  const matcher = await startMatcher({ port: 0, catalogue, ...options })
  running.push(matcher)
  return matcher
}

const match = (matcher: RunningMatcher, items: ReadonlyArray<Record<string, string>>) =>
  fetch(`${matcher.url}/v1/match`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ items }),
  })

const ELECTRICITY_SG = { key: "k1", description: "Store electricity", unit: "kWh", geography: "SG" }

describe("POST /v1/match", () => {
  test("answers one result per item in the contract's shape, naming factors by their stable ref", async () => {
    const matcher = await start()
    const response = await match(matcher, [
      ELECTRICITY_SG,
      { key: "k2", description: "Diesel for generators", unit: "litres" },
    ])
    expect(response.status).toBe(200)
    expect(response.headers.get("content-type")).toContain("application/json")
    const body = Schema.decodeUnknownSync(MatchResponse)(await response.json())
    expect(body.results.map((r) => r.key)).toEqual(["k1", "k2"])
    expect(body.results[0]!.factor_id).toBe("Ember:2024:SGP")
    expect(body.results[1]!.factor_id).toMatch(/^DESNZ:2023:\S+$/)
    for (const result of body.results) {
      expect(result.confidence).toBeGreaterThan(0)
      expect(result.confidence).toBeLessThanOrEqual(1)
    }
  })

  test("an unknown unit gives factor_id null with a reason", async () => {
    const matcher = await start()
    const response = await match(matcher, [{ key: "u", description: "Electricity", unit: "furlongs" }])
    expect(response.status).toBe(200)
    const [result] = Schema.decodeUnknownSync(MatchResponse)(await response.json()).results
    expect(result).toMatchObject({ key: "u", factor_id: null, confidence: 0 })
    expect(result!.reason).toContain("furlongs")
  })

  test("a description nothing in the catalogue resembles gives factor_id null with a reason", async () => {
    const matcher = await start()
    const response = await match(matcher, [{ key: "x", description: "qwerty zxcv", unit: "kg" }])
    const [result] = Schema.decodeUnknownSync(MatchResponse)(await response.json()).results
    expect(result!.factor_id).toBeNull()
    expect(result!.reason?.length).toBeGreaterThan(0)
  })

  test("never answers with a factor whose unit cannot take the activity's quantity", async () => {
    const matcher = await start()
    const response = await match(matcher, [{ key: "v", description: "Electricity", unit: "litres" }])
    const [result] = Schema.decodeUnknownSync(MatchResponse)(await response.json()).results
    expect(result!.factor_id).toBeNull()
  })

  test("rejects a malformed body with 400", async () => {
    const matcher = await start()
    const notJson = await fetch(`${matcher.url}/v1/match`, { method: "POST", body: "{nope" })
    expect(notJson.status).toBe(400)
    const missingUnit = await match(matcher, [{ key: "k", description: "Electricity" }])
    expect(missingUnit.status).toBe(400)
    expect(((await missingUnit.json()) as { error: { message: string } }).error.message).toContain("unit")
  })

  test("answers 429 with Retry-After to requests beyond the concurrency cap, and never exceeds it", async () => {
    const matcher = await start({ concurrency: 3, latencyMs: 300 })
    const responses = await Promise.all(Array.from({ length: 8 }, () => match(matcher, [ELECTRICITY_SG])))
    const statuses = responses.map((r) => r.status)
    expect(statuses.filter((s) => s === 200).length).toBe(3)
    expect(statuses.filter((s) => s === 429).length).toBe(5)
    for (const response of responses.filter((r) => r.status === 429)) {
      expect(Number(response.headers.get("retry-after"))).toBeGreaterThan(0)
    }
    const stats = (await (await fetch(`${matcher.url}/stats`)).json()) as { requests: number; inFlightMax: number; itemsMatched: number }
    expect(stats).toEqual({ requests: 8, inFlightMax: 3, itemsMatched: 3 })
  })

  test("fault injection produces 5xx", async () => {
    const matcher = await start({ faultRate: 1 })
    const response = await match(matcher, [ELECTRICITY_SG])
    expect(response.status).toBeGreaterThanOrEqual(500)
    expect(response.status).toBeLessThan(600)
  })

  test("spurious rate limiting answers 429 with Retry-After even under the cap", async () => {
    const matcher = await start({ rateLimitRate: 1 })
    const response = await match(matcher, [ELECTRICITY_SG])
    expect(response.status).toBe(429)
    expect(response.headers.get("retry-after")).toBe("1")
  })

  test("an injected timeout hangs the request past a client's deadline", async () => {
    const matcher = await start({ timeoutRate: 1, hangMs: 2_000 })
    const started = performance.now()
    const outcome = await fetch(`${matcher.url}/v1/match`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ items: [ELECTRICITY_SG] }),
      signal: AbortSignal.timeout(200),
    }).then(
      () => "answered",
      () => "timed out",
    )
    expect(outcome).toBe("timed out")
    expect(performance.now() - started).toBeLessThan(1_500)
  })
})

describe("operations endpoints", () => {
  test("healthz answers and stats count requests until reset", async () => {
    const matcher = await start()
    expect((await fetch(`${matcher.url}/healthz`)).status).toBe(200)
    await match(matcher, [ELECTRICITY_SG, { ...ELECTRICITY_SG, key: "k2" }])
    const before = (await (await fetch(`${matcher.url}/stats`)).json()) as Record<string, number>
    expect(before).toEqual({ requests: 1, inFlightMax: 1, itemsMatched: 2 })
    expect((await fetch(`${matcher.url}/stats/reset`, { method: "POST" })).status).toBe(200)
    expect(await (await fetch(`${matcher.url}/stats`)).json()).toEqual({ requests: 0, inFlightMax: 0, itemsMatched: 0 })
    expect(matcher.stats()).toEqual({ requests: 0, inFlightMax: 0, itemsMatched: 0 })
  })
})
