import { startMatcher, type RunningMatcher } from "@scopeline/matcher/server"
import { afterAll, beforeAll, expect, test } from "bun:test"
import { labelledActivities } from "./labelled.ts"

let matcher: RunningMatcher
beforeAll(async () => {
  matcher = await startMatcher({ port: 0 })
})
afterAll(() => matcher.stop())

interface Answer {
  readonly results: ReadonlyArray<{ key: string; factor_id: string | null; confidence: number; reason?: string }>
}

test("picks the factor an expert would for at least 90% of the labelled activities", async () => {
  const labelled = labelledActivities()
  expect(labelled.length).toBeGreaterThanOrEqual(60)
  const response = await fetch(`${matcher.url}/v1/match`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      items: labelled.map(({ key, description, unit, geography }) => ({ key, description, unit, geography })),
    }),
  })
  expect(response.status).toBe(200)
  const { results } = (await response.json()) as Answer
  const byKey = new Map(results.map((r) => [r.key, r]))
  const misses = labelled.filter((activity) => byKey.get(activity.key)?.factor_id !== activity.expected)
  for (const miss of misses) {
    const got = byKey.get(miss.key)
    console.log(`  miss ${miss.key} "${miss.description}" [${miss.unit}] want ${miss.expected}, got ${got?.factor_id} (${got?.reason})`)
  }
  const hits = labelled.length - misses.length
  console.log(`matcher top-1 accuracy: ${hits}/${labelled.length} (${((100 * hits) / labelled.length).toFixed(1)}%)`)
  expect(hits / labelled.length).toBeGreaterThanOrEqual(0.9)
})
