import { Config, Effect, Schema } from "effect"

/** Where a calculated activity stands with people: flagged, let through by the gate, or decided by someone. */
export type ReviewStatus = "needs_review" | "auto_accepted" | "reviewed"
export const REVIEW_STATUSES: ReadonlyArray<ReviewStatus> = ["needs_review", "auto_accepted", "reviewed"]
export const ReviewStatusSchema = Schema.Literal(...REVIEW_STATUSES)

/**
 * The confidence gate (REVIEW_BELOW, default 0.8): an automatic match below it is still calculated, so
 * the inventory is complete, but it waits in the review queue until a person accepts or corrects it.
 */
export class ReviewGate extends Effect.Service<ReviewGate>()("scopeline/ReviewGate", {
  effect: Effect.gen(function* () {
    const below = yield* Config.number("REVIEW_BELOW").pipe(
      Config.withDefault(0.8),
      Config.validate({ message: "REVIEW_BELOW must be a number from 0 to 1", validation: (n) => n >= 0 && n <= 1 }),
    )
    /** The status of a match: a manual decision is reviewed whatever its confidence. */
    const statusOf = (match: { readonly source: "ai" | "manual"; readonly confidence: number | null }): ReviewStatus =>
      match.source === "manual" ? "reviewed" : (match.confidence ?? 0) < below ? "needs_review" : "auto_accepted"
    return { below, statusOf }
  }),
}) {}
