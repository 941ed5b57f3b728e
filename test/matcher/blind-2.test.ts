import { startMatcher, type RunningMatcher } from "@scopeline/matcher/server"
import { afterAll, beforeAll, expect, test } from "bun:test"
import { Schema } from "effect"
import { readFileSync } from "node:fs"

/**
 * Second blind evaluation of the reference matcher.
 *
 * `blind-2-activities.json` was written without reading the matcher code and before the matcher was
 * ever run on it, while the matcher was being improved, so that it measures that work honestly. The
 * activities are phrased the way accountants type spreadsheet rows for a retailer, a software firm,
 * a logistics company, a manufacturer and a hospital (abbreviations, supplier names, site codes,
 * airport codes, explicit US/UK gallons), and each was labelled from the DESNZ 2023 / Ember files
 * alone (primary `kg CO2e` totals, average/unknown variants when unspecified, DESNZ UK grid for GB and
 * Ember for other countries, flights with RF). Descriptions differ from both the tuning set
 * (`labelled-activities.json`) and the first held-out set (`held-out-activities.json`).
 *
 * It must NOT be tuned against: a miss here is a finding to report, not something to patch the
 * matcher (or the labels) for; doing so turns it into another training set.
 */
const BlindActivity = Schema.Struct({
  key: Schema.String,
  description: Schema.String,
  unit: Schema.String,
  geography: Schema.optional(Schema.String),
  /** The factor an expert carbon accountant would pick. */
  expected: Schema.String,
  /** Other refs that would also be defensible (equally valid average rows, same-value variants). */
  acceptable: Schema.optional(Schema.Array(Schema.String)),
  note: Schema.optional(Schema.String),
})
type BlindActivity = typeof BlindActivity.Type

const blindActivities = (): ReadonlyArray<BlindActivity> =>
  Schema.decodeUnknownSync(Schema.Array(BlindActivity))(
    JSON.parse(readFileSync(new URL("./blind-2-activities.json", import.meta.url), "utf8")),
  )

interface Answer {
  readonly results: ReadonlyArray<{ key: string; factor_id: string | null; confidence: number; reason?: string }>
}

let matcher: RunningMatcher
beforeAll(async () => {
  matcher = await startMatcher({ port: 0 })
})
afterAll(() => matcher.stop())

/**
 * Written blind and frozen before the matcher's generalisation work: 45/89 (50.6%) before it,
 * 67/89 (75.3%) after. The floor is the latter rounded down to a multiple of 5; it guards against
 * regressions and is not a target. Do not tune the matcher against this set's misses.
 */
const FLOOR = 0.75

test("blind-2 accuracy: activities the matcher was never tuned against", async () => {
  const blind = blindActivities()
  expect(blind.length).toBeGreaterThanOrEqual(50)
  expect(new Set(blind.map((a) => a.key)).size).toBe(blind.length)

  const response = await fetch(`${matcher.url}/v1/match`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      items: blind.map(({ key, description, unit, geography }) => ({ key, description, unit, geography })),
    }),
  })
  expect(response.status).toBe(200)
  const { results } = (await response.json()) as Answer
  const byKey = new Map(results.map((r) => [r.key, r]))

  const isHit = (activity: BlindActivity) => {
    const got = byKey.get(activity.key)?.factor_id
    return got != null && (got === activity.expected || (activity.acceptable ?? []).includes(got))
  }
  const misses = blind.filter((activity) => !isHit(activity))
  for (const miss of misses) {
    const got = byKey.get(miss.key)
    const also = miss.acceptable?.length ? ` (or ${miss.acceptable.join(", ")})` : ""
    console.log(
      `  miss ${miss.key} "${miss.description}" [${miss.unit}${miss.geography ? `, ${miss.geography}` : ""}] ` +
        `want ${miss.expected}${also}, got ${got?.factor_id ?? null} (${got?.reason ?? "no reason"})`,
    )
  }
  const hits = blind.length - misses.length
  const accuracy = hits / blind.length
  console.log(`matcher blind-2 top-1 accuracy: ${hits}/${blind.length} (${(100 * accuracy).toFixed(1)}%)`)
  expect(accuracy).toBeGreaterThanOrEqual(FLOOR)
})
