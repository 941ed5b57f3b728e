import { expect, test } from "bun:test"
import { useMatcher, precisionAt } from "./evaluation.ts"
import { labelledActivities } from "./labelled.ts"

const matcher = useMatcher()

test("picks the factor an expert would for at least 90% of the labelled activities, and is right whenever it is confident", async () => {
  expect(labelledActivities().length).toBeGreaterThanOrEqual(60)
  const figures = await matcher.score("labelled-activities.json", "tuning")
  expect(figures.top1).toBeGreaterThanOrEqual(0.9)
  expect(precisionAt(figures, 0.8)).toBeGreaterThanOrEqual(0.97)
})
