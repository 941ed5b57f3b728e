import { Schema } from "effect"
import { readFileSync } from "node:fs"

/** One activity as a user would upload it, with the factor an expert carbon accountant would pick. */
export const LabelledActivity = Schema.Struct({
  key: Schema.String,
  description: Schema.String,
  unit: Schema.String,
  geography: Schema.optional(Schema.String),
  expected: Schema.String,
  /** Other refs that would also be defensible (equally valid average rows, same-value variants). */
  acceptable: Schema.optional(Schema.Array(Schema.String)),
  note: Schema.optional(Schema.String),
})
export type LabelledActivity = typeof LabelledActivity.Type

/** A labelled set stored beside this file (`labelled-activities.json`, `held-out-activities.json`, …). */
export const readLabelledSet = (file: string): ReadonlyArray<LabelledActivity> =>
  Schema.decodeUnknownSync(Schema.Array(LabelledActivity))(JSON.parse(readFileSync(new URL(`./${file}`, import.meta.url), "utf8")))

export const labelledActivities = () => readLabelledSet("labelled-activities.json")

const Answer = Schema.Struct({
  results: Schema.Array(
    Schema.Struct({ key: Schema.String, factor_id: Schema.NullOr(Schema.String), reason: Schema.optional(Schema.String) }),
  ),
})

/**
 * Sends a whole set to the matcher in one request (through its HTTP contract) and scores top-1: a hit
 * is the expected ref or one listed as acceptable. Prints every miss and the line
 * `matcher <name> top-1 accuracy: N/M (P%)`; returns the accuracy (0–1).
 */
export const scoreMatcher = async (matcherUrl: string, set: ReadonlyArray<LabelledActivity>, name: string) => {
  const response = await fetch(`${matcherUrl}/v1/match`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ items: set.map(({ key, description, unit, geography }) => ({ key, description, unit, geography })) }),
  })
  if (response.status !== 200) throw new Error(`the matcher answered ${response.status}`)
  const { results } = Schema.decodeUnknownSync(Answer)(await response.json())
  const byKey = new Map(results.map((r) => [r.key, r]))
  const isHit = (activity: LabelledActivity) => {
    const got = byKey.get(activity.key)?.factor_id
    return got != null && (got === activity.expected || (activity.acceptable ?? []).includes(got))
  }
  const misses = set.filter((activity) => !isHit(activity))
  for (const miss of misses) {
    const got = byKey.get(miss.key)
    const also = miss.acceptable?.length ? ` (or ${miss.acceptable.join(", ")})` : ""
    console.log(
      `  miss ${miss.key} "${miss.description}" [${miss.unit}${miss.geography ? `, ${miss.geography}` : ""}] ` +
        `want ${miss.expected}${also}, got ${got?.factor_id ?? null} (${got?.reason ?? "no reason"})`,
    )
  }
  const hits = set.length - misses.length
  console.log(`matcher ${name}top-1 accuracy: ${hits}/${set.length} (${((100 * hits) / set.length).toFixed(1)}%)`)
  return hits / set.length
}
