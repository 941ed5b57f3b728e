import { type Candidate, MatchRepo } from "./MatchRepo.ts"
import { Effect } from "effect"
import type { MatchKeyParts } from "./matchKey.ts"

/** What the cache knows about a key: a factor (or a deliberate "no factor" from a manual override). */
export interface CachedMatch {
  readonly key: string
  readonly factorId: string | null
  readonly factorUnit: string | null
  readonly factorName: string | null
  readonly confidence: string | null
  readonly source: "ai" | "manual"
}

/** An answer of the AI matcher for one key, to be remembered. */
export interface AiAnswer {
  readonly parts: MatchKeyParts
  readonly factorId: string
  readonly confidence: number
  readonly candidates: ReadonlyArray<Candidate>
}

/**
 * The match cache: one row per match key, consulted before the AI matcher. Lookups take every key of
 * an upload at once (one query however large the upload); AI answers are recorded so the next upload
 * with the same key needs no call, while manual overrides always win over AI answers.
 */
export class MatchCache extends Effect.Service<MatchCache>()("scopeline/MatchCache", {
  effect: Effect.gen(function* () {
    const repo = yield* MatchRepo

    const lookup = Effect.fn("MatchCache.lookup")(function* (keys: ReadonlyArray<string>) {
      const rows = yield* repo.lookupCache(keys)
      return new Map(rows.map((row): [string, CachedMatch] => [row.key, row]))
    })

    const recordAiAnswers = Effect.fn("MatchCache.recordAiAnswers")(function* (answers: ReadonlyArray<AiAnswer>) {
      yield* repo.writeCache(
        answers.map(({ parts, factorId, confidence, candidates }) => ({
          key: parts.key,
          descriptionNormalised: parts.description,
          unit: parts.unit.symbol,
          geography: parts.geography,
          factorId,
          confidence,
          candidates,
        })),
      )
    })

    return { lookup, recordAiAnswers }
  }),
  dependencies: [MatchRepo.Default],
}) {}
