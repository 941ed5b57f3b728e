import { Schema } from "effect"
import { readFileSync } from "node:fs"

/** One activity as a user would upload it, with the factor an expert carbon accountant would pick. */
export const LabelledActivity = Schema.Struct({
  key: Schema.String,
  description: Schema.String,
  unit: Schema.String,
  geography: Schema.optional(Schema.String),
  expected: Schema.String,
  note: Schema.optional(Schema.String),
})
export type LabelledActivity = typeof LabelledActivity.Type

export const labelledActivities = (): ReadonlyArray<LabelledActivity> =>
  Schema.decodeUnknownSync(Schema.Array(LabelledActivity))(
    JSON.parse(readFileSync(new URL("./labelled-activities.json", import.meta.url), "utf8")),
  )
