import { startMatcher, type RunningMatcher } from "@scopeline/matcher/server"
import { afterAll, beforeAll, expect, test } from "bun:test"
import { readLabelledSet, scoreMatcher } from "./labelled.ts"

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
  const blind = readLabelledSet("blind-2-activities.json")
  expect(blind.length).toBeGreaterThanOrEqual(50)
  expect(new Set(blind.map((a) => a.key)).size).toBe(blind.length)
  expect(await scoreMatcher(matcher.url, blind, "blind-2 ")).toBeGreaterThanOrEqual(FLOOR)
})
