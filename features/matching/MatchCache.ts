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

/**
 * The matcher's candidates that the catalogue holds, best first, with their factors: the review page
 * offers only factors it can apply, so a ref the catalogue does not know is dropped.
 */
export const knownCandidates = <F extends { readonly id: string }>(
  candidates: ReadonlyArray<{ readonly factorRef: string; readonly confidence: number }>,
  byRef: ReadonlyMap<string, F>,
): ReadonlyArray<{ readonly factor: F; readonly confidence: number }> =>
  candidates.flatMap((c) => {
    const factor = byRef.get(c.factorRef)
    return factor === undefined ? [] : [{ factor, confidence: c.confidence }]
  })

/** As the cache keeps them: factor ids. */
export const candidateIds = (candidates: ReadonlyArray<{ readonly factor: { readonly id: string }; readonly confidence: number }>): ReadonlyArray<Candidate> =>
  candidates.map((c) => ({ factor_id: c.factor.id, confidence: c.confidence }))

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
