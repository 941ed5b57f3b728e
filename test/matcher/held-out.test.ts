import { expect, test } from "bun:test"
import { useMatcher, precisionAt } from "./evaluation.ts"
import { readLabelledSet } from "./labelled.ts"

/**
 * Held-out evaluation of the reference matcher.
 *
 * `labelled-activities.json` is the set the matcher was tuned against, so its score there says
 * little about new input. `held-out-activities.json` was written blind: phrased the way
 * accountants type spreadsheet rows (abbreviations, supplier names, airport codes, unit spellings),
 * labelled from the DESNZ/Ember files alone, without reading the ranking code and before the
 * matcher was ever run on it. The matcher's generalisation work then fixed its misses class by
 * class, so it is partly a tuning set now; test/matcher/blind-3.test.ts holds the independent figure.
 */

const matcher = useMatcher()

/** Written blind: the first run scored 37/59 (62.7%), 59/59 after the work that tuned on it. The floor guards regressions. */
const FLOOR = 0.95

test("held-out accuracy: a blind set since used to tune the matcher (see blind-3 for the independent figure)", async () => {
  const heldOut = readLabelledSet("held-out-activities.json")
  expect(heldOut.length).toBeGreaterThanOrEqual(40)
  expect(new Set(heldOut.map((a) => a.key)).size).toBe(heldOut.length)
  const figures = await matcher.score("held-out-activities.json", "held-out")
  expect(figures.top1).toBeGreaterThanOrEqual(FLOOR)
  expect(precisionAt(figures, 0.8)).toBeGreaterThanOrEqual(0.97)
})
