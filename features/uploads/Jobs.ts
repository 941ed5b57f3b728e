import { Schema } from "effect"

/** Queue message bodies: decoded with these Schemas on receipt, so a malformed message is rejected, not guessed at. */
export class ParseJob extends Schema.Class<ParseJob>("ParseJob")({
  _tag: Schema.tag("ParseJob"),
  uploadId: Schema.UUID,
  correlationId: Schema.String,
}) {}

export class MatchJob extends Schema.Class<MatchJob>("MatchJob")({
  _tag: Schema.tag("MatchJob"),
  uploadId: Schema.UUID,
  correlationId: Schema.String,
}) {}

export const encodeJob = (job: ParseJob | MatchJob): string =>
  JSON.stringify(job instanceof ParseJob ? Schema.encodeSync(ParseJob)(job) : Schema.encodeSync(MatchJob)(job))
