import { startMatcher, type RunningMatcher } from "@scopeline/matcher/server"
import { afterAll, beforeAll, expect, test } from "bun:test"
import { labelledActivities, scoreMatcher } from "./labelled.ts"

let matcher: RunningMatcher
beforeAll(async () => {
  matcher = await startMatcher({ port: 0 })
})
afterAll(() => matcher.stop())

test("picks the factor an expert would for at least 90% of the labelled activities", async () => {
  const labelled = labelledActivities()
  expect(labelled.length).toBeGreaterThanOrEqual(60)
  expect(await scoreMatcher(matcher.url, labelled, "")).toBeGreaterThanOrEqual(0.9)
})
