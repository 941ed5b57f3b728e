/**
 * Fits the matcher's confidence (apps/matcher/src/ranking/calibration.ts) on the labelled sets it
 * may learn from, and prints the coefficients to paste there:
 *
 *   bun test/matcher/calibrate.ts
 *
 * The frozen blind set (blind-3) is never read here: it measures the calibration, it does not make it.
 * One logistic regression per tier (clean, doubtful), by gradient descent with a small L2 penalty.
 * The sets the ranking was tuned on are right far more often than new text is (docs/matching.md),
 * so their answers weigh less than blind-2's, the one set whose error rate looks like new input's.
 */
import { readCatalogue } from "@scopeline/catalogue/readCatalogue"
import { CALIBRATION_FEATURES, doubtsOf, featureVector, probability } from "@scopeline/matcher/ranking/calibration"
import { Ranker } from "@scopeline/matcher/ranking/Ranker"
import { Effect } from "effect"
import { LABELLED_SETS, readLabelledSet } from "./labelled.ts"

const FIT_ON = LABELLED_SETS.filter((set) => set.name !== "blind-3")
const WEIGHT: Readonly<Record<string, number>> = { "blind-2": 1 }
const TUNED_WEIGHT = 0.3
const L2 = 0.02
const STEPS = 30_000
const RATE = 0.3

interface Row {
  readonly x: ReadonlyArray<number>
  readonly y: number
  readonly weight: number
  readonly doubtful: boolean
}

const ranker = new Ranker(await Effect.runPromise(readCatalogue()))
const rows: Array<Row> = []
for (const set of FIT_ON) {
  for (const a of readLabelledSet(set.file)) {
    const outcome = ranker.match({ description: a.description, unit: a.unit, geography: a.geography })
    if (outcome._tag !== "Matched") continue
    const right = outcome.factor.ref === a.expected || (a.acceptable ?? []).includes(outcome.factor.ref)
    rows.push({
      x: featureVector(outcome.features),
      y: right ? 1 : 0,
      weight: WEIGHT[set.name] ?? TUNED_WEIGHT,
      doubtful: doubtsOf(outcome.features).length > 0,
    })
  }
}

const fit = (tier: ReadonlyArray<Row>, features: ReadonlyArray<number>) => {
  const names = ["intercept", ...CALIBRATION_FEATURES] as const
  const w = new Array<number>(names.length).fill(0)
  const coefficients = () => Object.fromEntries(names.map((n, i) => [n, w[i]!])) as Record<(typeof names)[number], number>
  const total = tier.reduce((s, r) => s + r.weight, 0)
  for (let step = 0; step < STEPS; step++) {
    const grad = new Array<number>(w.length).fill(0)
    for (const row of tier) {
      const error = (probability(coefficients(), row.x) - row.y) * row.weight
      grad[0]! += error
      row.x.forEach((v, i) => (grad[i + 1]! += features.includes(i) ? error * v : 0))
    }
    for (let i = 0; i < w.length; i++) w[i]! -= RATE * (grad[i]! / total + (i === 0 ? 0 : L2 * w[i]!))
  }
  return { coefficients: coefficients(), rows: tier.length, wrong: tier.filter((r) => r.y === 0).length }
}

// The clean tier has too few mistakes to learn more than a level from: its model reads coverage only.
const clean = fit(rows.filter((r) => !r.doubtful), [0])
// Every doubtful match already sits below the gate; the flags, not the count of odd words, rank them.
const doubtful = fit(rows.filter((r) => r.doubtful), [0, 1, 2, 4, 5])
const literal = (c: Record<string, number>) =>
  `{\n  ${Object.entries(c).map(([k, v]) => `${k}: ${v.toFixed(3)}`).join(", ")},\n}`
console.log(`// clean: ${clean.rows} answers, ${clean.wrong} wrong; doubtful: ${doubtful.rows} answers, ${doubtful.wrong} wrong (${FIT_ON.map((s) => s.name).join(", ")})`)
console.log(`export const CLEAN: Coefficients = ${literal(clean.coefficients)}`)
console.log(`export const DOUBTFUL: Coefficients = ${literal(doubtful.coefficients)}`)
