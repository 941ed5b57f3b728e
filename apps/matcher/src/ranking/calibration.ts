/**
 * Confidence: the probability that a match is the factor an expert would pick, from how the ranking
 * went. The review gate trusts a match at or above its threshold (0.8), so the number must mean what
 * it says, and a confident mistake costs more than a match sent to review.
 *
 * Two tiers. A match with a sign of doubt (a word the matcher does not understand, a disposal route
 * or material it had to guess, a runner-up with another value close behind) is capped below the
 * review threshold whatever its score: on text the matcher was never tuned on, these were where the
 * confident mistakes were. Within each tier a logistic model of the ranking's features gives the
 * probability. Both are fitted by test/matcher/calibrate.ts on the labelled sets except the frozen
 * blind set; test/matcher prints the reliability of every set.
 */

export interface ConfidenceFeatures {
  /** Share of the description's catalogue words the factor explains. */
  readonly coverage: number
  /** Score lead over the runner-up. */
  readonly gap: number
  /** Score lead over the best factor with a different value (same-valued variants are no risk). */
  readonly rivalGap: number
  /** Share of the factor name's idf mass the description matches. */
  readonly nameCoverage: number
  /** Words of the description the matcher does not understand (not places, codes or ledger wording). */
  readonly unknownWords: number
  /** A waste factor whose disposal route the description does not name. */
  readonly guessedRoute: boolean
  /** A material or waste factor for a material the description does not name. */
  readonly guessedMaterial: boolean
  /** The stated size fits more than one band of the chosen vehicle or ship type. */
  readonly sizeAmbiguous: boolean
}

const GAP_CAP = 4
const UNKNOWN_CAP = 3
/** A rival with another value this close behind could as well have won. */
const CLOSE_RIVAL = 0.5
/** Doubtful matches stay below the review gate's 0.8. */
export const DOUBT_CAP = 0.75
const MAX_CONFIDENCE = 0.99

/** Why a match is doubtful, in words for its reason; empty when it is not. */
export const doubtsOf = (f: ConfidenceFeatures): ReadonlyArray<string> => [
  ...(f.unknownWords > 0 ? [`${f.unknownWords} word${f.unknownWords > 1 ? "s" : ""} not understood`] : []),
  ...(f.guessedRoute ? ["disposal route not named"] : []),
  ...(f.guessedMaterial ? ["material not named"] : []),
  ...(f.rivalGap < CLOSE_RIVAL ? ["a factor with another value scored almost as well"] : []),
  ...(f.sizeAmbiguous ? ["the size fits more than one band"] : []),
]

export const CALIBRATION_FEATURES = ["coverage", "gap", "rivalGap", "unknownWords", "guessedRoute", "guessedMaterial"] as const
type Coefficients = Readonly<Record<"intercept" | (typeof CALIBRATION_FEATURES)[number], number>>

/** The features as the models see them: gaps and unknown words clipped, flags as 0/1. */
export const featureVector = (f: ConfidenceFeatures): ReadonlyArray<number> => [
  f.coverage,
  Math.min(GAP_CAP, Math.max(0, f.gap)),
  Math.min(GAP_CAP, Math.max(0, f.rivalGap)),
  Math.min(UNKNOWN_CAP, f.unknownWords),
  f.guessedRoute ? 1 : 0,
  f.guessedMaterial ? 1 : 0,
]

// Fitted by `bun test/matcher/calibrate.ts`; paste its output here.
// clean: 245 answers, 1 wrong; doubtful: 63 answers, 11 wrong (tuning, held-out, blind-2, dev-3)
export const CLEAN: Coefficients = {
  intercept: 4.532, coverage: 0.065, gap: 0.000, rivalGap: 0.000, unknownWords: 0.000, guessedRoute: 0.000, guessedMaterial: 0.000,
}
export const DOUBTFUL: Coefficients = {
  intercept: -0.326, coverage: 0.185, gap: 0.168, rivalGap: 0.616, unknownWords: 0.000, guessedRoute: -0.779, guessedMaterial: -1.115,
}

export const probability = (coefficients: Coefficients, x: ReadonlyArray<number>): number => {
  const z = CALIBRATION_FEATURES.reduce((sum, name, i) => sum + coefficients[name] * x[i]!, coefficients.intercept)
  return 1 / (1 + Math.exp(-z))
}

export const confidenceOf = (f: ConfidenceFeatures): number => {
  const x = featureVector(f)
  const p = doubtsOf(f).length > 0 ? Math.min(DOUBT_CAP, probability(DOUBTFUL, x)) : Math.min(MAX_CONFIDENCE, probability(CLEAN, x))
  return Math.round(p * 1000) / 1000
}
