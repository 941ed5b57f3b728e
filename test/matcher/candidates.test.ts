import { readCatalogue } from "@scopeline/catalogue/readCatalogue"
import type { CatalogueFactor } from "@scopeline/catalogue/EmissionFactor"
import { MatchResponse } from "@scopeline/matching"
import { startMatcher, type RunningMatcher } from "@scopeline/matcher/server"
import { Ranker } from "@scopeline/matcher/ranking/Ranker"
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { Effect, Schema } from "effect"
import { LABELLED_SETS, readLabelledSet } from "./labelled.ts"

let catalogue: ReadonlyArray<CatalogueFactor>
let matcher: RunningMatcher
beforeAll(async () => {
  catalogue = await Effect.runPromise(readCatalogue())
  matcher = await startMatcher({ port: 0, catalogue })
})
afterAll(async () => {
  await matcher.stop()
})

// Every labelled line (the frozen blind set included: only the shape of the answer is checked, never
// whether it is right), plus lines that answer null in different ways.
const ITEMS = [
  ...LABELLED_SETS.flatMap((set) => readLabelledSet(set.file)).map((a, i) => ({
    key: `${i}:${a.key}`,
    description: a.description,
    unit: a.unit,
    ...(a.geography ? { geography: a.geography } : {}),
  })),
  { key: "no-country", description: "Electricity", unit: "kWh" },
  { key: "nonsense", description: "qwerty zxcv", unit: "kg" },
  { key: "bad-unit", description: "Electricity", unit: "furlongs" },
]

const ask = async (items: ReadonlyArray<Record<string, string>>) => {
  const response = await fetch(`${matcher.url}/v1/match`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ items }),
  })
  expect(response.status).toBe(200)
  const raw = (await response.json()) as { results: ReadonlyArray<Record<string, unknown>> }
  // Sent on the wire, not filled in by the decoder's default.
  for (const result of raw.results) expect(Array.isArray(result.candidates)).toBe(true)
  return Schema.decodeUnknownSync(MatchResponse)(raw).results
}

describe("candidates in the reference matcher's answers", () => {
  test("a chosen factor is the first of at most 5 candidates, with its own confidence; the others are strictly lower, best first", async () => {
    const results = await ask(ITEMS)
    const matched = results.filter((r) => r.factor_id !== null)
    expect(matched.length).toBeGreaterThan(100)
    for (const result of matched) {
      const [first, ...others] = result.candidates
      expect(result.candidates.length).toBeLessThanOrEqual(5)
      expect(first).toEqual({ factor_id: result.factor_id!, confidence: result.confidence })
      let previous = result.confidence
      for (const other of others) {
        expect(other.factor_id).not.toBe(result.factor_id)
        expect(other.confidence).toBeLessThan(result.confidence)
        expect(other.confidence).toBeLessThanOrEqual(previous)
        expect(other.confidence).toBeGreaterThanOrEqual(0)
        previous = other.confidence
      }
    }
    // Not vacuous: many answers offer alternatives, some of them full lists.
    expect(matched.filter((r) => r.candidates.length > 1).length).toBeGreaterThan(50)
    expect(matched.some((r) => r.candidates.length === 5)).toBe(true)
  })

  test("candidates come in the ranker's score order, and only factors the ranker scored are offered", async () => {
    const ranker = new Ranker(catalogue)
    const results = await ask(ITEMS)
    for (const [i, result] of results.entries()) {
      const item = ITEMS[i]!
      const ranked = ranker.match({ description: item.description, unit: item.unit, geography: item.geography }, 5).candidates ?? []
      const ids = result.candidates.map((c) => c.factor_id)
      expect(ids).toEqual(ranked.slice(0, ids.length))
    }
  })

  test("a no-match still offers its nearest factors, at 0.3 or less, and none when nothing was scored", async () => {
    const results = new Map((await ask(ITEMS)).map((r) => [r.key, r]))
    const noCountry = results.get("no-country")!
    expect(noCountry.factor_id).toBeNull()
    expect(noCountry.candidates.length).toBeGreaterThan(0)
    expect(noCountry.candidates[0]!.factor_id).toMatch(/^DESNZ:2023:/)
    for (const result of results.values()) {
      if (result.factor_id !== null) continue
      expect(result.candidates.length).toBeLessThanOrEqual(5)
      let previous = 0.3
      for (const candidate of result.candidates) {
        expect(candidate.confidence).toBeLessThanOrEqual(previous)
        previous = candidate.confidence
      }
    }
    expect(results.get("nonsense")!.candidates).toEqual([])
    expect(results.get("bad-unit")!.candidates).toEqual([])
  })
})
