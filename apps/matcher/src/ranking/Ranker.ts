import { countryByName, resolveCountry } from "@scopeline/catalogue"
import type { CatalogueFactor } from "@scopeline/catalogue"
import { normaliseUnitText, parseUnit, type Unit } from "@scopeline/catalogue"
import { Option } from "effect"
import { airportsIn, citiesIn, haulBand, plainWords, type HaulBand, type Place } from "./places.ts"
import { BUSINESS_TRAVEL_PHRASES, expandQuery, hasPhrase, synonymsOf, tokenise } from "./text.ts"

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
  /** How often each term occurs in the name: "Paper and board: paper" is more about paper than board. */
  readonly counts: ReadonlyMap<string, number>
  readonly nameLower: string
  /** For waste factors, the disposal route the name ends with. */
  readonly route: WasteRoute | undefined
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

/** A country named in the text, else the country of a well-known city named in it. */
const countryInText = (
  words: ReadonlyArray<string>,
  cities: ReadonlyArray<{ readonly iso2: string; readonly name: string; readonly at: number }>,
): string | undefined => {
  // A longer city name wins over a country name inside it ("New South Wales" is not Wales).
  const inCity = (i: number, size: number) =>
    cities.some((c) => c.name.split(" ").length > size && i >= c.at && i + size <= c.at + c.name.split(" ").length)
  for (let size = 4; size >= 1; size--) {
    for (let i = 0; i + size <= words.length; i++) {
      if (inCity(i, size)) continue
      const country = countryByName(words.slice(i, i + size).join(" "))
      if (country) return country.iso2
    }
  }
  return cities[0]?.iso2
}

type WasteRoute = "closed loop" | "open loop" | "landfill" | "combustion" | "composting" | "anaerobic digestion"
const WASTE_ROUTES: ReadonlyArray<WasteRoute> = ["closed loop", "open loop", "landfill", "combustion", "composting", "anaerobic digestion"]
type AskedRoute = "recycling" | "landfill" | "combustion" | "composting" | "anaerobic digestion"

/** The disposal route the activity names, if any. Recycling is either loop: the material decides. */
const ROUTE_WORDS: ReadonlyArray<readonly [AskedRoute, ReadonlyArray<string>]> = [
  ["anaerobic digestion", ["anaerobic digestion", "ad plant", "ad facility", "biodigester", "digestion", "digester"]],
  ["composting", ["compost", "composted", "composting", "in vessel", "windrow"]],
  ["combustion", ["incineration", "incinerated", "incinerator", "energy from waste", "efw", "energy recovery", "burned", "burnt", "combustion", "rdf", "refuse derived fuel"]],
  ["landfill", ["landfill", "landfilled", "landfilling", "tip", "tipped"]],
  ["recycling", ["recycling", "recycled", "recycle", "recycler", "recyclers", "recyclable", "recyclables", "reprocessing", "reprocessor", "reprocessed", "mrf", "closed loop", "open loop", "baling", "baled", "reuse", "reused"]],
]

const askedRoute = (tokens: ReadonlyArray<string>): AskedRoute | undefined => {
  const found = ROUTE_WORDS.filter(([, phrases]) => phrases.some((p) => hasPhrase(tokens, p))).map(([route]) => route)
  return found.length === 1 ? found[0] : undefined
}

/** Words that name a way of travelling or shipping other than flying. */
const NON_AIR_MODES = [
  "train", "rail", "railway", "eurostar", "tram", "metro", "underground", "tube", "ferry", "ship", "sea", "ocean",
  "vessel", "container", "boat", "taxi", "cab", "uber", "bus", "coach", "car", "van", "hgv", "lorry", "truck", "road",
  "drive", "driving", "mileage", "motorbike", "bike", "walk",
]

/** Flight factor names by DESNZ haul band. */
const BAND_NAMES: Readonly<Record<HaulBand, string>> = {
  domestic: "domestic, to/from uk",
  short: "short-haul, to/from uk",
  long: "long-haul, to/from uk",
  international: "international, to/from non-uk",
}
const BAND_TERMS: Readonly<Record<HaulBand, ReadonlyArray<string>>> = {
  domestic: ["domestic"],
  short: ["short", "haul"],
  long: ["long", "haul"],
  international: ["international", "non"],
}

/**
 * Who runs the vehicle decides the scope: mileage paid through expenses is Scope 3 business travel,
 * a courier's or haulier's van is Scope 3 freighting goods, and only the company's own fleet is Scope 1.
 */
interface ScopeHint {
  readonly phrases: ReadonlyArray<string>
  readonly unless: ReadonlyArray<string>
  readonly prefer: string
  readonly avoid: ReadonlyArray<string>
}
const OWN_FLEET = ["company car", "company cars", "company van", "company vans", "company vehicle", "company vehicles", "fleet car", "fleet van", "pool car", "own fleet", "company owned", "leased fleet"]
const SCOPE_HINTS: ReadonlyArray<ScopeHint> = [
  {
    phrases: [...BUSINESS_TRAVEL_PHRASES, "staff", "employee", "employees", "colleague", "colleagues"],
    unless: OWN_FLEET,
    prefer: "Business travel- land",
    avoid: ["Passenger vehicles", "Delivery vehicles", "Managed assets- vehicles"],
  },
  {
    phrases: [
      "courier", "couriers", "haulier", "hauliers", "haulage contractor", "carrier", "carriers", "3pl", "third party",
      "subcontracted", "subcontractor", "outsourced", "freight forwarder", "forwarder", "parcel", "parcels",
      "delivery service", "dpd", "dhl", "fedex", "tnt", "royal mail", "parcelforce", "evri", "hermes", "yodel",
      "dx", "amazon logistics", "xpo", "kuehne nagel", "db schenker", "palletways", "pall ex", "palletline",
      "tuffnells", "ups courier", "ups parcel", "ups delivery", "gxo", "wincanton", "eddie stobart", "stobart",
    ],
    unless: OWN_FLEET,
    prefer: "Freighting goods",
    avoid: ["Delivery vehicles", "Passenger vehicles", "Managed assets- vehicles"],
  },
]

/** Share of the description's catalogue words the factor explains, directly or through a synonym. */
const explainedShare = (
  words: ReadonlyArray<string>,
  factorTerms: ReadonlySet<string>,
): number => {
  const explained = words.filter((word) => factorTerms.has(word) || synonymsOf(word).some((t) => factorTerms.has(t)))
  return explained.length / words.length
}

const LONDON: Place = { iso2: "GB", lat: 51.5, lon: -0.13 }

const isGridElectricity = (factor: CatalogueFactor) =>
  (factor.source === "Ember" && factor.activityType === "Electricity") || factor.activityType === "UK electricity"

export class Ranker {
  private readonly factors: ReadonlyArray<IndexedFactor>
  private readonly idf: ReadonlyMap<string, number>

  constructor(catalogue: ReadonlyArray<CatalogueFactor>) {
    const indexed: Array<IndexedFactor> = []
    for (const factor of catalogue) {
      const unit = parseUnit(factor.unit)
      if (Option.isNone(unit)) continue
      const nameTokens = tokenise(factor.name)
      const counts = new Map<string, number>()
      for (const t of nameTokens) counts.set(t, (counts.get(t) ?? 0) + 1)
      const nameLower = factor.name.toLowerCase()
      indexed.push({
        factor,
        unit: unit.value,
        terms: new Set(nameTokens),
        counts,
        nameLower,
        route: factor.activityType === "Waste disposal"
          ? WASTE_ROUTES.find((r) => nameLower.endsWith(r.replace(" ", "-")) || nameLower.endsWith(r))
          : undefined,
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
    const words = plainWords(query.description)
    const cities = citiesIn(words)
    const tokens = tokenise(query.description)
    // An unrecognised geography is kept as typed: it then matches no country-specific factor, which
    // is a clearer answer than silently falling back to the UK grid.
    const givenGeography = query.geography?.trim()
    const geography = givenGeography
      ? (resolveCountry(givenGeography)?.iso2 ?? givenGeography.toUpperCase())
      : countryInText(words, cities)
    const flight = this.flightOf(query.description, tokens, cities, givenGeography ? geography : undefined)
    // Airport codes with no other mode named make the line a flight ("LHR-DXB return, economy").
    if (flight?.implied) tokens.push("flight")
    const terms = expandQuery(tokens)
    if (flight?.band) for (const term of BAND_TERMS[flight.band]) terms.set(term, Math.max(terms.get(term) ?? 0, 1))
    // Words the catalogue never uses (place names, "outlet", "Tampines") are neither evidence nor noise.
    const explainable = [...new Set(tokens.filter((t) => this.idf.has(t) || synonymsOf(t).length > 0))]
    if (explainable.length === 0) return { _tag: "NoMatch", reason: `nothing in "${query.description}" matches the catalogue` }

    const scopeHints = SCOPE_HINTS.filter(
      (hint) => hint.phrases.some((p) => hasPhrase(tokens, p)) && !hint.unless.some((p) => hasPhrase(tokens, p)),
    )
    const context = {
      tokens,
      geography,
      band: flight?.band,
      route: askedRoute(tokens),
      scopeHints,
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
      for (const [term, weight] of terms) {
        const count = candidate.counts.get(term)
        if (count) matched += weight * (this.idf.get(term) ?? 0) * (1 + 0.1 * (count - 1))
      }
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

    // Grid electricity depends entirely on the country: with none given or named, a UK guess could
    // be off by an order of magnitude, so say so instead.
    if (geography === undefined && isGridElectricity(best.factor.factor)) {
      return { _tag: "NoMatch", reason: "no country given for grid electricity" }
    }
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

  /**
   * The flight's DESNZ haul band from the airports (IATA codes) or cities at its two ends, and whether
   * the line is a flight only because it names a route between airports.
   */
  private flightOf(
    description: string,
    tokens: ReadonlyArray<string>,
    cities: ReadonlyArray<Place>,
    home: string | undefined,
  ): { readonly band: HaulBand | undefined; readonly implied: boolean } | undefined {
    const otherMode = NON_AIR_MODES.some((m) => hasPhrase(tokens, m))
    const saysAir = expandQuery(tokens).has("flight")
    if (otherMode && !saysAir) return undefined
    const explicitBand = ["domestic", "short haul", "long haul", "international", "internal"].some((p) => hasPhrase(tokens, p))
    const airports = airportsIn(description)
    const implied = !saysAir && airports.length >= 2
    if (!saysAir && !implied) return undefined
    if (explicitBand) return { band: undefined, implied }
    const ends: ReadonlyArray<Place> = airports.length >= 2 ? airports : cities.length >= 2 ? cities : [...airports, ...cities]
    const [from, to] = [ends[0], ends[ends.length - 1]]
    if (from && to && from !== to) return { band: haulBand(from, to), implied }
    // One end named ("flight to Dubai"): the other is taken to be home, when home is the UK.
    if (from && home === "GB") return { band: haulBand(LONDON, from), implied }
    if (from && home !== undefined && from.iso2 !== "GB") return { band: "international", implied }
    return implied ? { band: undefined, implied } : undefined
  }

  private adjust(
    candidate: IndexedFactor,
    context: {
      readonly tokens: ReadonlyArray<string>
      readonly geography: string | undefined
      readonly band: HaulBand | undefined
      readonly route: AskedRoute | undefined
      readonly scopeHints: ReadonlyArray<ScopeHint>
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
    const band = context.band
    const isFlight = candidate.nameLower.includes("to/from uk") || candidate.nameLower.includes("to/from non-uk")
    if (band !== undefined && isFlight) {
      // The route's ends decide the band, whatever the reporting geography.
      adjustment += candidate.nameLower.includes(BAND_NAMES[band]) ? 2 : -3
    } else if (candidate.nameLower.includes("to/from uk")) {
      // "to/from UK" flight factors only apply to journeys touching the UK.
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
    // A named disposal route rules out the others: "to recycler" is never landfill.
    if (context.route !== undefined && candidate.route !== undefined) {
      if (context.route === "recycling") {
        adjustment += candidate.route === "closed loop" ? 1.5 : candidate.route === "open loop" ? 1.3 : -4
      } else adjustment += candidate.route === context.route ? 1 : -4
    }
    for (const hint of context.scopeHints) {
      if (factor.activityType === hint.prefer) adjustment += 2
      else if (hint.avoid.includes(factor.activityType)) adjustment -= 2
    }
    for (const preference of PREFERENCES) {
      if (preference.name.test(factor.name) && !(preference.unless ?? []).some((p) => hasPhrase(context.tokens, p))) {
        adjustment += preference.bonus
      }
    }
    return adjustment
  }
}
