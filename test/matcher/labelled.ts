import type { Ranker } from "@scopeline/matcher/ranking/Ranker"
import { Schema } from "effect"
import { readFileSync } from "node:fs"

/** One activity as a user would upload it, with the factor an expert carbon accountant would pick. */
export const LabelledActivity = Schema.Struct({
  key: Schema.String,
  description: Schema.String,
  unit: Schema.String,
  geography: Schema.optional(Schema.String),
  /** null: the catalogue covers nothing the line names, so the right answer is "no match". */
  expected: Schema.NullOr(Schema.String),
  /** Other refs that would also be defensible (equally valid average rows, same-value variants). */
  acceptable: Schema.optional(Schema.Array(Schema.String)),
  note: Schema.optional(Schema.String),
})
export type LabelledActivity = typeof LabelledActivity.Type

/** A labelled set stored beside this file (`labelled-activities.json`, `held-out-activities.json`, …). */
export const readLabelledSet = (file: string): ReadonlyArray<LabelledActivity> =>
  Schema.decodeUnknownSync(Schema.Array(LabelledActivity))(JSON.parse(readFileSync(new URL(`./${file}`, import.meta.url), "utf8")))

export const labelledActivities = () => readLabelledSet("labelled-activities.json")

/** Every labelled set, oldest first, with how it may be used. */
export const LABELLED_SETS = [
  { name: "tuning", file: "labelled-activities.json", role: "tuning" },
  { name: "held-out", file: "held-out-activities.json", role: "blind, since tuned on" },
  { name: "blind-2", file: "blind-2-activities.json", role: "blind for the ranking, used to calibrate confidence" },
  { name: "dev-3", file: "dev-3-activities.json", role: "development (tuning)" },
  { name: "blind-3", file: "blind-3-activities.json", role: "blind, frozen, never tuned on" },
] as const

const Answer = Schema.Struct({
  results: Schema.Array(
    Schema.Struct({
      key: Schema.String,
      factor_id: Schema.NullOr(Schema.String),
      confidence: Schema.Number,
      reason: Schema.optional(Schema.String),
    }),
  ),
})
type Answer = (typeof Answer.Type)["results"][number]

export const THRESHOLDS = [0.8, 0.9] as const
const BINS = 10

export interface ThresholdFigures {
  readonly threshold: number
  /** Answers at or above the threshold. */
  readonly answered: number
  readonly right: number
  /** right / answered; 1 when nothing was answered (no confident mistake was made). */
  readonly precision: number
  /** answered / lines of the set. */
  readonly coverage: number
}

export interface ReliabilityBin {
  readonly from: number
  readonly to: number
  readonly count: number
  readonly meanConfidence: number
  readonly accuracy: number
}

export interface SetFigures {
  readonly name: string
  readonly lines: number
  readonly top1: number
  /** Share of lines with an expected factor whose factor is among the ranker's first five candidates. */
  readonly top5: number
  readonly thresholds: ReadonlyArray<ThresholdFigures>
  /** Expected calibration error over the answers that name a factor (10 equal-width bins). */
  readonly ece: number
  readonly reliability: ReadonlyArray<ReliabilityBin>
  readonly misses: ReadonlyArray<{ readonly activity: LabelledActivity; readonly answer: Answer | undefined }>
  /** Wrong answers given at confidence ≥ the lowest threshold: the ones the review gate would let through. */
  readonly confidentMistakes: ReadonlyArray<{ readonly activity: LabelledActivity; readonly answer: Answer }>
}

const isRight = (activity: LabelledActivity, factorId: string | null | undefined) =>
  activity.expected === null
    ? factorId === null
    : factorId != null && (factorId === activity.expected || (activity.acceptable ?? []).includes(factorId))

const percent = (x: number) => `${(100 * x).toFixed(1)}%`

/**
 * Sends a whole set to the matcher in one request (through its HTTP contract) and scores it: top-1 (a
 * hit is the expected ref or one listed as acceptable, or no factor when none is expected), top-5 from
 * the ranker's candidates, precision and coverage at each confidence threshold, and the calibration
 * error with its reliability bins.
 */
export const evaluateSet = async (
  matcherUrl: string,
  ranker: Ranker,
  set: ReadonlyArray<LabelledActivity>,
  name: string,
): Promise<SetFigures> => {
  const response = await fetch(`${matcherUrl}/v1/match`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ items: set.map(({ key, description, unit, geography }) => ({ key, description, unit, geography })) }),
  })
  if (response.status !== 200) throw new Error(`the matcher answered ${response.status}`)
  const { results } = Schema.decodeUnknownSync(Answer)(await response.json())
  const byKey = new Map(results.map((r) => [r.key, r]))

  const misses = set.filter((a) => !isRight(a, byKey.get(a.key)?.factor_id)).map((activity) => ({ activity, answer: byKey.get(activity.key) }))
  const withFactor = set.filter((a) => a.expected !== null)
  const inTop5 = withFactor.filter((a) => {
    const candidates = ranker.match({ description: a.description, unit: a.unit, geography: a.geography }, 5).candidates ?? []
    return candidates.some((ref) => ref === a.expected || (a.acceptable ?? []).includes(ref))
  })

  const answers = set.flatMap((activity) => {
    const answer = byKey.get(activity.key)
    return answer && answer.factor_id !== null ? [{ activity, answer, right: isRight(activity, answer.factor_id) }] : []
  })
  const thresholds = THRESHOLDS.map((threshold): ThresholdFigures => {
    const confident = answers.filter((a) => a.answer.confidence >= threshold)
    const right = confident.filter((a) => a.right).length
    return {
      threshold,
      answered: confident.length,
      right,
      precision: confident.length === 0 ? 1 : right / confident.length,
      coverage: confident.length / set.length,
    }
  })
  const reliability = Array.from({ length: BINS }, (_, i): ReliabilityBin => {
    const from = i / BINS
    const to = (i + 1) / BINS
    const inBin = answers.filter((a) => a.answer.confidence >= from && (i === BINS - 1 ? a.answer.confidence <= to : a.answer.confidence < to))
    const count = inBin.length
    return {
      from,
      to,
      count,
      meanConfidence: count === 0 ? 0 : inBin.reduce((s, a) => s + a.answer.confidence, 0) / count,
      accuracy: count === 0 ? 0 : inBin.filter((a) => a.right).length / count,
    }
  })
  const ece = answers.length === 0 ? 0 : reliability.reduce((s, b) => s + (b.count / answers.length) * Math.abs(b.accuracy - b.meanConfidence), 0)
  const confidentMistakes = answers.filter((a) => !a.right && a.answer.confidence >= THRESHOLDS[0]).map(({ activity, answer }) => ({ activity, answer }))

  return {
    name,
    lines: set.length,
    top1: (set.length - misses.length) / set.length,
    top5: withFactor.length === 0 ? 1 : inTop5.length / withFactor.length,
    thresholds,
    ece,
    reliability,
    misses,
    confidentMistakes,
  }
}

/** One line per set: the figures every run prints. */
export const figuresLine = (f: SetFigures) =>
  `matcher ${f.name}: top-1 ${percent(f.top1)} (${Math.round(f.top1 * f.lines)}/${f.lines}), top-5 ${percent(f.top5)}, ` +
  f.thresholds
    .map((t) => `≥${t.threshold}: precision ${percent(t.precision)} (${t.right}/${t.answered}) coverage ${percent(t.coverage)}`)
    .join(", ") +
  `, ECE ${f.ece.toFixed(3)}`

const describeMiss = (activity: LabelledActivity, answer: Answer | undefined) => {
  const also = activity.acceptable?.length ? ` (or ${activity.acceptable.join(", ")})` : ""
  return (
    `"${activity.description}" [${activity.unit}${activity.geography ? `, ${activity.geography}` : ""}] ` +
    `want ${activity.expected ?? "no factor"}${also}, got ${answer?.factor_id ?? null} @${answer?.confidence ?? 0} (${answer?.reason ?? "no reason"})`
  )
}

/** Prints the figures line, then every miss and every confident mistake. */
export const printFigures = (f: SetFigures) => {
  for (const { activity, answer } of f.misses) console.log(`  miss ${activity.key} ${describeMiss(activity, answer)}`)
  console.log(figuresLine(f))
}

/** The reliability table as markdown, for docs/matching.md. */
export const reliabilityTable = (f: SetFigures) =>
  [
    `| confidence | answers | mean confidence | right |`,
    `| --- | --- | --- | --- |`,
    ...f.reliability
      .filter((b) => b.count > 0)
      .map((b) => `| ${b.from.toFixed(1)}–${b.to.toFixed(1)} | ${b.count} | ${b.meanConfidence.toFixed(3)} | ${percent(b.accuracy)} |`),
  ].join("\n")
