import { countryByName, resolveCountry } from "@scopeline/domain/countries"
import type { CatalogueFactor } from "@scopeline/domain/EmissionFactor"
import { normaliseUnitText, parseUnit, type Unit } from "@scopeline/domain/units/Units"
import { Option } from "effect"
import { expandQuery, hasPhrase, synonymsOf, tokenise } from "./text.ts"

export interface MatchQuery {
  readonly description: string
  readonly unit: string
  readonly geography?: string | undefined
}

export type MatchOutcome =
  | { readonly _tag: "Matched"; readonly factor: CatalogueFactor; readonly confidence: number; readonly reason: string }
  | { readonly _tag: "NoMatch"; readonly reason: string }

interface IndexedFactor {
  readonly factor: CatalogueFactor
  readonly unit: Unit
  readonly terms: ReadonlySet<string>
  readonly nameLower: string
  /** Factors that only make sense in their own country: grid electricity and hotel stays. */
  readonly geoSpecific: boolean
}

/**
 * Words that describe the unmarked, average case. A factor is not penalised for them when the
 * activity does not mention them, so "diesel car" lands on "Average car: Unknown"-style defaults
 * rather than on whichever exotic variant happens to have the shortest name.
 */
const DEFAULT_WORDS = new Set([
  "average", "unknown", "all", "laden", "generated", "kwh", "passenger", "class", "only", "product", "kyoto",
  "emission", "hgvs", "mineral", "biofuel", "blend",
])
// Bare numbers in factor names are size bands ("up to 3.5 tonnes"): matchable, but no evidence against a factor.
const isNumber = (term: string) => /^\d+$/.test(term)

// How much an unexplained factor word costs relative to an explained query word.
const UNMATCHED_WEIGHT = 0.35
// Below this share of the description's catalogue words explained, the best factor is a guess.
const MIN_COVERAGE = 0.3

const UK_PLACES = ["uk", "united kingdom", "britain", "england", "scotland", "wales", "london", "heathrow", "gatwick", "manchester", "edinburgh", "glasgow", "birmingham"]
const HAUL_WORDS = ["domestic", "short haul", "long haul"]

interface Preference {
  readonly name: RegExp
  readonly bonus: number
  /** The preference is a default: it stands aside when the activity says otherwise. */
  readonly unless?: ReadonlyArray<string>
}

/** Plausible defaults an accountant reaches for when the activity does not say. */
const PREFERENCES: ReadonlyArray<Preference> = [
  { name: /\bWith RF\b/, bonus: 0.6, unless: ["without rf", "excluding rf", "no rf", "without radiative forcing"] },
  { name: /\bNational rail\b/, bonus: 1.5, unless: ["international", "eurostar"] },
  { name: /\bRegular taxi\b/, bonus: 0.5, unless: ["black cab"] },
  { name: /\bAverage local bus\b/, bonus: 0.5 },
  { name: /\bAverage laden\b/, bonus: 0.5 },
  { name: /\bEmissions including only\b/, bonus: 0.3 },
  { name: /: Natural gas$/, bonus: 0.3 },
]

const BIODIESEL_BLEND_COUNTRIES = new Set([
  "GB", "AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE", "IT", "LV", "LT",
  "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE",
])

const countryInText = (tokens: ReadonlyArray<string>): string | undefined => {
  for (let size = 3; size >= 1; size--) {
    for (let i = 0; i + size <= tokens.length; i++) {
      const country = countryByName(tokens.slice(i, i + size).join(" "))
      if (country) return country.iso2
    }
  }
  return undefined
}

/** Share of the description's catalogue words the factor explains, directly or through a synonym. */
const explainedShare = (
  words: ReadonlyArray<string>,
  factorTerms: ReadonlySet<string>,
): number => {
  const explained = words.filter((word) => factorTerms.has(word) || synonymsOf(word).some((t) => factorTerms.has(t)))
  return explained.length / words.length
}

export class Ranker {
  private readonly factors: ReadonlyArray<IndexedFactor>
  private readonly idf: ReadonlyMap<string, number>

  constructor(catalogue: ReadonlyArray<CatalogueFactor>) {
    const indexed: Array<IndexedFactor> = []
    for (const factor of catalogue) {
      const unit = parseUnit(factor.unit)
      if (Option.isNone(unit)) continue
      indexed.push({
        factor,
        unit: unit.value,
        terms: new Set(tokenise(factor.name)),
        nameLower: factor.name.toLowerCase(),
        geoSpecific:
          factor.source === "Ember" ||
          factor.activityType === "Hotel stay" ||
          factor.activityType === "Transmission and distribution" ||
          factor.activityType === "WTT- UK electricity" ||
          factor.activityType === "Managed assets- electricity" ||
          factor.activityType.startsWith("UK electricity"),
      })
    }
    const df = new Map<string, number>()
    for (const f of indexed) for (const term of f.terms) df.set(term, (df.get(term) ?? 0) + 1)
    const n = indexed.length
    this.idf = new Map([...df].map(([term, count]) => [term, Math.log(1 + n / count)]))
    this.factors = indexed
  }

  get size(): number {
    return this.factors.length
  }

  match(query: MatchQuery): MatchOutcome {
    const unit = parseUnit(query.unit)
    if (Option.isNone(unit)) return { _tag: "NoMatch", reason: `unknown unit "${query.unit}"` }
    const candidates = this.factors.filter((f) => f.unit.dimension === unit.value.dimension)
    if (candidates.length === 0) {
      return { _tag: "NoMatch", reason: `no factor in the catalogue is measured in ${unit.value.dimension} (${query.unit})` }
    }
    const tokens = tokenise(query.description)
    const terms = expandQuery(tokens)
    // Words the catalogue never uses (place names, "outlet", "Tampines") are neither evidence nor noise.
    const explainable = [...new Set(tokens.filter((t) => this.idf.has(t) || synonymsOf(t).length > 0))]
    if (explainable.length === 0) return { _tag: "NoMatch", reason: `nothing in "${query.description}" matches the catalogue` }

    // An unrecognised geography is kept as typed: it then matches no country-specific factor, which
    // is a clearer answer than silently falling back to the UK grid.
    const givenGeography = query.geography?.trim()
    const geography = givenGeography
      ? (resolveCountry(givenGeography)?.iso2 ?? givenGeography.toUpperCase())
      : countryInText(tokens)
    const context = {
      tokens,
      geography,
      unitText: normaliseUnitText(query.unit),
      mentionsUk: UK_PLACES.some((p) => hasPhrase(tokens, p)),
      mentionsHaul: HAUL_WORDS.some((p) => hasPhrase(tokens, p)),
      wantsWtt: hasPhrase(tokens, "wtt") || hasPhrase(tokens, "well to tank") || hasPhrase(tokens, "upstream"),
    }

    let best: { factor: IndexedFactor; score: number; matched: number } | undefined
    let second = Number.NEGATIVE_INFINITY
    // The text's best country-specific factor when it is for another country: explains a null answer.
    let otherCountry: { readonly matched: number } | undefined
    for (const candidate of candidates) {
      let matched = 0
      for (const [term, weight] of terms) if (candidate.terms.has(term)) matched += weight * (this.idf.get(term) ?? 0)
      if (matched === 0) continue
      let unmatched = 0
      for (const term of candidate.terms) {
        if (!terms.has(term) && !DEFAULT_WORDS.has(term) && !isNumber(term)) unmatched += this.idf.get(term) ?? 0
      }
      const score = matched - UNMATCHED_WEIGHT * unmatched + this.adjust(candidate, context)
      if (candidate.geoSpecific && geography !== undefined && candidate.factor.geography !== geography) {
        if (!otherCountry || matched > otherCountry.matched) otherCountry = { matched }
      }
      if (!best || score > best.score) {
        if (best) second = Math.max(second, best.score)
        best = { factor: candidate, score, matched }
      } else {
        second = Math.max(second, score)
      }
    }
    if (!best) return { _tag: "NoMatch", reason: `no ${unit.value.dimension} factor matches "${query.description}"` }

    // Coverage counts words, not idf mass: one rare stray word ("office") must not outweigh "electricity".
    const coverage = explainedShare(explainable, best.factor.terms)
    const wrongCountry = best.factor.geoSpecific && geography !== undefined && best.factor.factor.geography !== geography
    if (wrongCountry || ((coverage < MIN_COVERAGE || best.score <= 0) && otherCountry && otherCountry.matched >= best.matched)) {
      return { _tag: "NoMatch", reason: `the catalogue has no factor for "${query.description}" in geography ${geography}` }
    }
    if (coverage < MIN_COVERAGE || best.score <= 0) {
      return {
        _tag: "NoMatch",
        reason: `best candidate "${best.factor.factor.name}" explains too little of "${query.description}"`,
      }
    }
    const margin = Number.isFinite(second) ? Math.min(1, Math.max(0, best.score - second) / 2) : 1
    const confidence = Math.round(Math.min(0.99, 0.3 + 0.5 * coverage + 0.2 * margin) * 1000) / 1000
    return {
      _tag: "Matched",
      factor: best.factor.factor,
      confidence,
      reason: `matched "${best.factor.factor.name}" (${best.factor.factor.unit}) for ${Math.round(coverage * 100)}% of the description`,
    }
  }

  private adjust(
    candidate: IndexedFactor,
    context: {
      readonly tokens: ReadonlyArray<string>
      readonly geography: string | undefined
      readonly unitText: string
      readonly mentionsUk: boolean
      readonly mentionsHaul: boolean
      readonly wantsWtt: boolean
    },
  ): number {
    const { factor } = candidate
    let adjustment = 0
    if (!factor.isPrimary && !context.wantsWtt) adjustment -= 3
    if (candidate.geoSpecific) {
      if (context.geography !== undefined) adjustment += factor.geography === context.geography ? 4 : -6
      else if (factor.geography !== "GB") adjustment -= 2
      // For the UK the government's own factor is the reference, ahead of Ember's estimate.
      if (factor.source === "Ember" && factor.geography === "GB") adjustment -= 1
    }
    // "to/from UK" flight factors only apply to journeys touching the UK.
    if (candidate.nameLower.includes("to/from uk")) {
      if (!(context.geography === "GB" || context.mentionsUk || context.mentionsHaul)) adjustment -= 2.5
    } else if (candidate.nameLower.includes("to/from non-uk")) {
      if (context.geography === "GB" || context.mentionsUk) adjustment -= 2.5
    }
    // Unit spelled exactly as the factor publishes it; plain kWh of fuel is billed on gross CV.
    const factorUnit = normaliseUnitText(factor.unit)
    if (factorUnit === context.unitText) adjustment += 0.5
    else if (candidate.unit.dimension === "energy" && factorUnit === "kwhgrosscv" && !context.unitText.includes("net")) {
      adjustment += 0.3
    }
    // Road diesel is a biodiesel blend (B7) in the UK and the EU but mostly mineral elsewhere;
    // petrol is an ethanol blend (E10) in most markets, so its blend factor is the default everywhere.
    const dieselIsBlended = context.geography === undefined || BIODIESEL_BLEND_COUNTRIES.has(context.geography)
    if (candidate.nameLower.endsWith("diesel (average biofuel blend)") && dieselIsBlended) adjustment += 0.8
    if (candidate.nameLower.endsWith("diesel (100% mineral diesel)") && !dieselIsBlended) adjustment += 0.8
    if (candidate.nameLower.endsWith("petrol (average biofuel blend)")) adjustment += 0.8
    for (const preference of PREFERENCES) {
      if (preference.name.test(factor.name) && !(preference.unless ?? []).some((p) => hasPhrase(context.tokens, p))) {
        adjustment += preference.bonus
      }
    }
    return adjustment
  }
}
