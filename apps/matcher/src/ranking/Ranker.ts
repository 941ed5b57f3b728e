import { countryByName, resolveCountry } from "@scopeline/catalogue"
import type { CatalogueFactor } from "@scopeline/catalogue"
import { normaliseUnitText, parseUnit, type Unit } from "@scopeline/catalogue"
import { Option } from "effect"
import { FLIGHT_NUMBER, VEHICLE_MAKES } from "./brands.ts"
import { airportsIn, citiesIn, haulBand, plainWords, type HaulBand, type Place } from "./places.ts"
import { confidenceOf, doubtsOf, type ConfidenceFeatures } from "./calibration.ts"
import { bandFit, factorBand, querySize, withoutSizes, type Interval, type Measure } from "./sizes.ts"
import { BUSINESS_TRAVEL_PHRASES, expandQuery, hasPhrase, tokenise, triggeredSynonyms, VOCABULARY } from "./text.ts"

export interface MatchQuery {
  readonly description: string
  readonly unit: string
  readonly geography?: string | undefined
}

export type MatchOutcome =
  | {
    readonly _tag: "Matched"
    readonly factor: CatalogueFactor
    readonly confidence: number
    readonly reason: string
    readonly features: ConfidenceFeatures
    readonly candidates?: ReadonlyArray<string>
    readonly ranked?: ReadonlyArray<RankedCandidate>
  }
  | {
    readonly _tag: "NoMatch"
    readonly reason: string
    readonly candidates?: ReadonlyArray<string>
    readonly ranked?: ReadonlyArray<RankedCandidate>
  }

/** A factor offered alongside the answer (the contract's `candidates`), with a confidence of its own. */
export interface RankedCandidate {
  readonly ref: string
  readonly score: number
  readonly confidence: number
}

// A no-match's nearest factors are offered for review, never as answers: the best of them gets this.
const NO_MATCH_CANDIDATE_CONFIDENCE = 0.3

const round3 = (x: number) => Math.round(x * 1000) / 1000

/**
 * Confidences for the top `n` scored factors (sorted best first). Only the chosen factor is
 * calibrated (calibration.ts); the others are scaled by their score against its score, so they are
 * monotone in score and, as the ranker did not pick them, kept strictly below the chosen one (a tie
 * shows 0.001 lower). A no-match's factors scale the same way from NO_MATCH_CANDIDATE_CONFIDENCE.
 * Factors with no positive score explain nothing and are left out.
 */
const rankedCandidates = (
  outcome: MatchOutcome,
  sorted: ReadonlyArray<{ readonly ref: string; readonly score: number }>,
  n: number,
): ReadonlyArray<RankedCandidate> => {
  if (outcome._tag === "Matched") {
    const chosen = outcome.factor.ref
    const top = sorted.find((c) => c.ref === chosen)?.score ?? sorted[0]?.score ?? 0
    // The largest 3-decimal value strictly below the chosen confidence.
    const below = Math.max(0, (Math.ceil(outcome.confidence * 1000 - 1e-9) - 1) / 1000)
    const others = sorted
      .filter((c) => c.ref !== chosen && c.score > 0)
      .slice(0, n - 1)
      .map((c) => ({ ...c, confidence: Math.min(below, top > 0 ? round3(outcome.confidence * (c.score / top)) : 0) }))
    return [{ ref: chosen, score: top, confidence: outcome.confidence }, ...others]
  }
  const top = sorted[0]?.score ?? 0
  if (top <= 0) return []
  return sorted
    .filter((c) => c.score > 0)
    .slice(0, n)
    .map((c) => ({ ...c, confidence: round3(NO_MATCH_CANDIDATE_CONFIDENCE * (c.score / top)) }))
}

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
  /** The size band in the name ("Rigid (>17 tonnes)", "0–999 TEU"). */
  readonly band: Interval | undefined
  /** For an unbanded row among banded siblings ("All rigids", "Average"), the siblings' measure. */
  readonly sizeFamily: Measure | undefined
  /** Buying a material and disposing of it are different factors for the same material. */
  readonly lifecycle: "material" | "waste" | undefined
  /** For material and waste rows, the material's own words ("steel", "can" of "Metal: steel cans"). */
  readonly materialTerms: ReadonlySet<string>
  /**
   * For refrigerants and other gases, the ways the gas is named ("HCFC-22/R22 = chlorodifluoromethane"
   * → "hcfc 22", "r22", "chlorodifluoromethane"): one of them must be named whole, or "nitrogen"
   * would be read as "nitrogen trifluoride".
   */
  readonly gasNames: ReadonlyArray<ReadonlyArray<string>> | undefined
  /** Facts about the name that rules test for every query, read once. */
  readonly unitText: string
  readonly isUnderground: boolean
  readonly isTram: boolean
  readonly isBusinessClass: boolean
  readonly isAveragePassenger: boolean
  readonly isPrimaryMaterial: boolean
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

// Leaders kept to find the best-scoring factor with another value; gaps beyond the cap say nothing more.
const LEADERS = 8
// Values this close (gross vs net calorific value is 11%) give emissions an expert would not call wrong.
const SAME_VALUE = 0.12
// A band that fits the size and scores within this of the best could as well be the one meant.
const CLOSE_SCORE = 3
const canonicalValue = (f: IndexedFactor) => Number(f.factor.factorValue) / f.unit.toCanonical
const GAP_CAP = 4

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
  { name: /: First class\b/, bonus: -2, unless: ["first class", "first"] },
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

/**
 * Share of the description's catalogue words the factor explains, directly or through a synonym
 * whose phrase covers the word ("air" of "air express" is explained by a freight flight).
 */
const explainedShare = (
  words: ReadonlyMap<string, ReadonlySet<string>>,
  factorTerms: ReadonlySet<string>,
): number => {
  let explained = 0
  for (const [word, means] of words) {
    if (factorTerms.has(word) || [...means].some((t) => factorTerms.has(t))) explained++
  }
  return explained / words.size
}

/** Words that say the material was bought or used, so its production factor applies (Material use). */
const PURCHASE_PHRASES = [
  "purchased", "purchase", "purchases", "bought", "buy", "buying", "procured", "procurement", "procure", "supplied",
  "supply of", "used in", "used for", "use of", "consumed", "consumption of", "raw material", "raw materials",
  "materials used", "material used", "material use", "ordered", "delivered to site", "recycled content",
  "closed loop source", "input", "inputs", "stock",
]
/** Words that say the material was thrown away, so a disposal factor applies (Waste disposal). */
const DISPOSAL_PHRASES = [
  "waste", "disposal", "disposed", "dispose", "collection", "collected", "landfill", "landfilled", "recycling", "recycle",
  "recycler", "recyclers", "sent for recycling", "incineration", "incinerated", "incinerator", "efw", "energy from waste",
  "energy recovery", "composting", "composted", "compost", "anaerobic digestion", "ad plant", "skip", "skips", "bin",
  "bins", "offcut", "offcuts", "rubble", "scrap", "end of life", "discarded", "clearance", "reprocessing", "baled",
  "baling", "weee", "to recycler", "crushed",
]
/** Reused or recycled-content materials: their own Material use rows, not primary production. */
const SECONDARY_MATERIAL = ["recycled content", "closed loop source", "reused", "re used", "second hand", "secondhand", "reclaimed", "refurbished"]

/** Words of a material row that do not name the material. */
const GENERIC_MATERIAL_WORDS = new Set(["average", "mixed", "other", "all", "excl", "incl", "forming", "and", "item", "waste", "organic", "refuse", "construction"])

/**
 * Products that share a word with a factor but are not its activity: bottled water is a bought
 * product, not mains water; nitrogen or helium cylinders hold gases with no warming potential.
 */
const NOT_COVERED = [
  "bottled water", "mineral water", "spring water", "water bottles", "water cooler", "water coolers",
  "nitrogen cylinder", "nitrogen cylinders", "liquid nitrogen", "oxygen", "argon", "helium", "medical gases",
]

/** A bought service, not a material: no material or waste row applies unless the line says it is waste. */
const SERVICE_WORDS = [
  "service", "services", "laundering", "laundry", "dry cleaning", "cleaning service", "fee", "fees", "consultancy",
  "licence", "licences", "license", "licenses", "subscription", "subscriptions", "insurance", "retainer", "rental of",
  "lease", "leasing", "hire of", "repair", "repairs", "training", "audit", "legal",
]

/**
 * Words that place or date a line or name who it was for, common in ledgers and no sign of the
 * activity: they do not count as words the matcher failed to understand.
 */
const LEDGER_WORDS = new Set(tokenise([
  "office offices store stores shop shops outlet outlets branch site sites depot depots warehouse warehouses dc plant",
  "factory factories hq head showroom kitchen kitchens canteen school schools hospital ward wards unit units floor level",
  "building buildings campus centre center lab labs studio yard car park flats apartments block premises estate",
  "jan feb mar apr may jun jul aug sep sept oct nov dec january february march april june july august september",
  "october november december week weeks month months year years fy ytd q1 q2 q3 q4 h1 h2 total totals charge charges",
  "bill bills invoice invoices period periods cost costs spend team teams staff client clients customer customers visit",
  "visits meeting meetings conference trip trips journey journeys return single way round contract contractor",
  "contractors supplier suppliers provider delivery deliveries main mains new old various misc miscellaneous general",
  "north south east west northern southern eastern western central city town region regional national local",
  "mr mrs ms dr ceo cfo director manager sales ops operations it hr finance marketing admin",
  // Equipment that burns the fuel or holds the gas: context, not a different activity.
  "boiler boilers generator generators chiller chillers heater heaters forklift forklifts kiln kilns oven ovens",
  "furnace furnaces machinery machine machines equipment system systems pump pumps split evaporator condenser",
  "switchgear cabinet cabinets case cases rack racks vehicle vehicles engine engines tank tanks backup standby",
  "km kms mile miles night nights litre litres kwh mwh tonne tonnes kg",
  // How a line was bought or what it was for.
  "fare fares ticket tickets refill refills fill top up topup event events marquee fair fairs exhibition farm",
  "driver drivers airport airports bakery display packaging package packages goods product products stock sample samples",
  "card cards season commuter commuters document documents house show shows supermarket supermarkets pack packs print",
  "printing wrapping trunking feeder intra europe european asia asian africa african americas emea apac latam",
  "handymax panamax supramax capesize aframax suezmax vlcc ulcc ulcv",
  VEHICLE_MAKES.join(" "),
].join(" ")))

const CABIN_WORDS = ["economy", "first class", "premium", "first"]

/** Words after "business" that make it the purpose of the trip, not the cabin. */
const NOT_A_CABIN = new Set(tokenise("trip travel meeting visit purpose use journey flight mileage expense lunch development unit park"))

const UNDERGROUND_WORDS = [
  "tube", "underground", "lul", "jubilee line", "victoria line", "piccadilly line", "central line", "northern line",
  "district line", "circle line", "bakerloo", "metropolitan line", "waterloo and city",
]
const TRAM_WORDS = ["tram", "trams", "metro", "light rail", "dlr", "metrolink", "luas", "supertram", "streetcar", "subway", "mtr"]

const LONDON: Place = { iso2: "GB", lat: 51.5, lon: -0.13 }

const isGridElectricity = (factor: CatalogueFactor) =>
  (factor.source === "Ember" && factor.activityType === "Electricity") || factor.activityType === "UK electricity"

/** Words a ranking rule reads (purchase, route, scope and mode words): understood, though no factor uses them. */
const RULE_WORDS: ReadonlySet<string> = new Set(
  [
    ...PURCHASE_PHRASES, ...DISPOSAL_PHRASES, ...SECONDARY_MATERIAL, ...SERVICE_WORDS, ...UNDERGROUND_WORDS, ...TRAM_WORDS,
    ...NON_AIR_MODES, ...UK_PLACES, ...HAUL_WORDS, ...OWN_FLEET, ...SCOPE_HINTS.flatMap((h) => h.phrases),
    ...ROUTE_WORDS.flatMap(([, phrases]) => phrases), "wtt", "well to tank", "upstream", "with rf", "without rf",
  ].flatMap((phrase) => tokenise(phrase)),
)

/**
 * A word the matcher does not understand: not in the vocabulary, no word a rule reads, no ledger
 * wording, and no number or code ("0412", "dc2", "ba0117" identify a line, they do not describe it).
 */
const isUnknownWord = (token: string) =>
  token.length > 1 && !/^\d+$|^[a-z]+\d+[a-z]?$|\d{2}/.test(token) && !LEDGER_WORDS.has(token) && !RULE_WORDS.has(token) && !VOCABULARY.has(token)

export class Ranker {
  private readonly factors: ReadonlyArray<IndexedFactor>
  private readonly idf: ReadonlyMap<string, number>
  private readonly materialWords: ReadonlySet<string>

  constructor(catalogue: ReadonlyArray<CatalogueFactor>) {
    const indexed: Array<IndexedFactor> = []
    for (const factor of catalogue) {
      const unit = parseUnit(factor.unit)
      if (Option.isNone(unit)) continue
      const nameTokens = tokenise(factor.name)
      const counts = new Map<string, number>()
      for (const t of nameTokens) counts.set(t, (counts.get(t) ?? 0) + 1)
      const nameLower = factor.name.toLowerCase()
      const isSized = factor.activityType === "Freighting goods" || factor.activityType === "Delivery vehicles" ||
        factor.activityType === "UK electricity for EVs" || factor.activityType === "Managed assets- vehicles" ||
        factor.activityType.startsWith("WTT- delivery")
      indexed.push({
        band: isSized ? factorBand(factor.name) : undefined,
        sizeFamily: undefined,
        lifecycle: factor.activityType === "Material use" ? "material" : factor.activityType === "Waste disposal" ? "waste" : undefined,
        materialTerms: new Set(
          factor.activityType === "Material use" || factor.activityType === "Waste disposal"
            ? tokenise(factor.categoryPath[2] ?? "").filter((t) => !GENERIC_MATERIAL_WORDS.has(t) && !isNumber(t))
            : [],
        ),
        unitText: normaliseUnitText(factor.unit),
        isUnderground: nameLower.endsWith("london underground"),
        isTram: nameLower.endsWith("light rail and tram"),
        isBusinessClass: nameLower.includes(": business class"),
        isAveragePassenger: nameLower.includes(": average passenger"),
        isPrimaryMaterial: nameLower.endsWith("primary material production"),
        gasNames: factor.activityType === "Refrigerant & other"
          ? (factor.categoryPath[2] ?? "").split(/[=/()]/).map((part) => tokenise(part)).filter((part) => part.length > 0)
          : undefined,
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
    // "All rigids" sits among "Rigid (>17 tonnes)" and its kin: a stated size should prefer the band.
    const familyOf = (f: IndexedFactor) => `${f.factor.unit}|${f.factor.categoryPath.slice(0, 2).join(">")}`
    const familyMeasure = new Map<string, Measure>()
    for (const f of indexed) if (f.band) familyMeasure.set(familyOf(f), f.band.measure)
    for (let i = 0; i < indexed.length; i++) {
      const f = indexed[i]!
      if (!f.band && familyMeasure.has(familyOf(f))) indexed[i] = { ...f, sizeFamily: familyMeasure.get(familyOf(f)) }
    }
    const df = new Map<string, number>()
    for (const f of indexed) for (const term of f.terms) df.set(term, (df.get(term) ?? 0) + 1)
    const n = indexed.length
    this.idf = new Map([...df].map(([term, count]) => [term, Math.log(1 + n / count)]))
    this.materialWords = new Set(indexed.flatMap((f) => [...f.materialTerms]))
    this.factors = indexed
  }

  get size(): number {
    return this.factors.length
  }

  /**
   * The best factor for the query, or no match with a reason. With `candidates > 0` the outcome also
   * lists that many top-scoring factor refs, best first, so evaluation can measure top-k recall, and
   * `ranked`: at most that many factors with confidences, the chosen one first (see rankedCandidates).
   */
  match(query: MatchQuery, candidates = 0): MatchOutcome {
    if (candidates <= 0) return this.rank(query, undefined)
    const scored: Array<{ readonly ref: string; readonly score: number }> = []
    const outcome = this.rank(query, scored)
    // Stable sort: among equal scores the first scored comes first, as it does for the chosen factor.
    const sorted = scored.sort((a, b) => b.score - a.score)
    const top = sorted.slice(0, candidates).map((c) => c.ref)
    return { ...outcome, candidates: top, ranked: rankedCandidates(outcome, sorted, candidates) }
  }

  private rank(query: MatchQuery, scored: Array<{ readonly ref: string; readonly score: number }> | undefined): MatchOutcome {
    const unit = parseUnit(query.unit)
    if (Option.isNone(unit)) return { _tag: "NoMatch", reason: `unknown unit "${query.unit}"` }
    const candidates = this.factors.filter((f) => f.unit.dimension === unit.value.dimension)
    if (candidates.length === 0) {
      return { _tag: "NoMatch", reason: `no factor in the catalogue is measured in ${unit.value.dimension} (${query.unit})` }
    }
    const words = plainWords(query.description)
    const cities = citiesIn(words)
    const size = querySize(query.description)
    const tokens = tokenise(size ? withoutSizes(query.description) : query.description)
    if (FLIGHT_NUMBER.test(query.description)) tokens.push("airline")
    // An unrecognised geography is kept as typed: it then matches no country-specific factor, which
    // is a clearer answer than silently falling back to the UK grid.
    const givenGeography = query.geography?.trim()
    const geography = givenGeography
      ? (resolveCountry(givenGeography)?.iso2 ?? givenGeography.toUpperCase())
      : countryInText(words, cities)
    let triggered = triggeredSynonyms(tokens)
    const flight = this.flightOf(query.description, tokens, expandQuery(tokens, triggered), cities, givenGeography ? geography : undefined)
    // Airport codes with no other mode named make the line a flight ("LHR-DXB return, economy").
    if (flight?.implied) {
      tokens.push("flight")
      triggered = triggeredSynonyms(tokens)
    }
    const terms = expandQuery(tokens, triggered)
    if (flight?.band) for (const term of BAND_TERMS[flight.band]) terms.set(term, Math.max(terms.get(term) ?? 0, 1))
    // Words the catalogue never uses (place names, "outlet", "Tampines") are neither evidence nor noise.
    const explainable = new Map<string, Set<string>>()
    tokens.forEach((token, i) => {
      const means = triggered.filter((t) => t.positions.has(i)).flatMap((t) => t.means)
      if (!this.idf.has(token) && means.length === 0) return
      const known = explainable.get(token) ?? new Set<string>()
      for (const term of means) known.add(term)
      explainable.set(token, known)
    })
    if (explainable.size === 0) return { _tag: "NoMatch", reason: `nothing in "${query.description}" matches the catalogue` }
    const product = NOT_COVERED.find((p) => hasPhrase(tokens, p))
    if (product) return { _tag: "NoMatch", reason: `the catalogue has no factor for ${product}` }
    const mentionsDisposal = DISPOSAL_PHRASES.some((p) => hasPhrase(tokens, p))
    const mentionsPurchase = PURCHASE_PHRASES.some((p) => hasPhrase(tokens, p))
    // Recycled content is bought, not thrown away; otherwise any disposal word means the waste rows.
    const lifecycle: "material" | "waste" | undefined =
      mentionsPurchase && (!mentionsDisposal || SECONDARY_MATERIAL.some((p) => hasPhrase(tokens, p))) ? "material"
      : mentionsDisposal ? "waste"
      : undefined

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
      size,
      lifecycle,
      secondaryMaterial: SECONDARY_MATERIAL.some((p) => hasPhrase(tokens, p)),
      underground: UNDERGROUND_WORDS.some((p) => hasPhrase(tokens, p)),
      tram: TRAM_WORDS.some((p) => hasPhrase(tokens, p)),
      terms,
      cabinNamed: CABIN_WORDS.some((p) => hasPhrase(tokens, p)),
      businessCabin: tokens.some((t, i) => t === "business" && !NOT_A_CABIN.has(tokens[i + 1] ?? "")) ||
        ["club class", "club world", "club europe", "upper class", "j class"].some((p) => hasPhrase(tokens, p)),
      service: SERVICE_WORDS.some((p) => hasPhrase(tokens, p)),
      materials: [...terms].filter(([term, weight]) => weight >= 0.5 && this.materialWords.has(term)).map(([term]) => term),
    }

    let best: { factor: IndexedFactor; score: number; matched: number } | undefined
    let second = Number.NEGATIVE_INFINITY
    // The best few scores with their values per canonical unit: a runner-up with (nearly) the same
    // value is no real rival, whatever unit it is published in.
    const leaders: Array<{ readonly score: number; readonly value: number }> = []
    // Factors whose band the stated size fits: "3.5t" is both "Class III" and "up to 3.5 tonnes".
    const fittingBands: Array<{ readonly band: string; readonly score: number; readonly value: number }> = []
    // The text's best country-specific factor when it is for another country: explains a null answer.
    let otherCountry: { readonly matched: number } | undefined
    for (const candidate of candidates) {
      let matched = 0
      for (const [term, weight] of terms) {
        // A stated size is judged against the band below, not digit by digit.
        if (size && isNumber(term)) continue
        const count = candidate.counts.get(term)
        if (count) matched += weight * (this.idf.get(term) ?? 0) * (1 + 0.1 * (count - 1))
      }
      if (matched === 0) continue
      let unmatched = 0
      for (const term of candidate.terms) {
        if (!terms.has(term) && !DEFAULT_WORDS.has(term) && !isNumber(term)) unmatched += this.idf.get(term) ?? 0
      }
      const score = matched - UNMATCHED_WEIGHT * unmatched + this.adjust(candidate, context)
      scored?.push({ ref: candidate.factor.ref, score })
      if (size && candidate.band?.measure === size.measure && bandFit(size, candidate.band) >= 0.99) {
        fittingBands.push({ band: `${candidate.band.lo}-${candidate.band.hi}`, score, value: canonicalValue(candidate) })
      }
      if (leaders.length < LEADERS || score > leaders[leaders.length - 1]!.score) {
        leaders.push({ score, value: canonicalValue(candidate) })
        leaders.sort((a, b) => b.score - a.score)
        if (leaders.length > LEADERS) leaders.pop()
      }
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
    // A stated size is one more thing the description says: explained when the factor's band fits it.
    const sizeExplained = size && best.factor.band?.measure === size.measure && bandFit(size, best.factor.band) >= 0.5
    const coverage = size
      ? (explainedShare(explainable, best.factor.terms) * explainable.size + (sizeExplained ? 1 : 0)) / (explainable.size + 1)
      : explainedShare(explainable, best.factor.terms)
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
    const bestValue = canonicalValue(best.factor)
    const rival = leaders.find((l) => Math.abs(l.value - bestValue) > SAME_VALUE * Math.max(Math.abs(l.value), Math.abs(bestValue)))
    let nameMass = 0
    let nameMatched = 0
    for (const term of best.factor.terms) {
      if (DEFAULT_WORDS.has(term) || isNumber(term)) continue
      nameMass += this.idf.get(term) ?? 0
      if (terms.has(term)) nameMatched += this.idf.get(term) ?? 0
    }
    const placeWords = new Set([
      ...cities.flatMap((c) => tokenise(c.name)),
      ...airportsIn(query.description).map((a) => a.code.toLowerCase()),
      ...words.filter((w) => countryByName(w) !== undefined),
    ])
    const unknown = tokens.filter((t) => !explainable.has(t) && !placeWords.has(t) && isUnknownWord(t))
    const unknownWords = unknown.length
    const features: ConfidenceFeatures = {
      coverage,
      gap: Number.isFinite(second) ? best.score - second : GAP_CAP,
      rivalGap: rival ? best.score - rival.score : GAP_CAP,
      nameCoverage: nameMass === 0 ? 1 : nameMatched / nameMass,
      unknownWords,
      guessedRoute: best.factor.route !== undefined && context.route === undefined,
      sizeAmbiguous: best.factor.band !== undefined && fittingBands.some((b) =>
        b.band !== `${best.factor.band?.lo}-${best.factor.band?.hi}` && b.score >= best.score - CLOSE_SCORE &&
        Math.abs(b.value - bestValue) > SAME_VALUE * Math.max(b.value, bestValue)
      ),
      guessedMaterial:
        best.factor.lifecycle !== undefined && !context.materials.some((m) => best.factor.materialTerms.has(m)),
    }
    const doubts = doubtsOf(features)
    return {
      _tag: "Matched",
      factor: best.factor.factor,
      confidence: confidenceOf(features),
      features,
      reason:
        `matched "${best.factor.factor.name}" (${best.factor.factor.unit}) for ${Math.round(coverage * 100)}% of the description` +
        (doubts.length > 0 ? `; unsure: ${doubts.join(", ")}${unknown.length > 0 ? ` (${unknown.join(", ")})` : ""}` : ""),
    }
  }

  /**
   * The flight's DESNZ haul band from the airports (IATA codes) or cities at its two ends, and whether
   * the line is a flight only because it names a route between airports.
   */
  private flightOf(
    description: string,
    tokens: ReadonlyArray<string>,
    terms: ReadonlyMap<string, number>,
    cities: ReadonlyArray<Place>,
    home: string | undefined,
  ): { readonly band: HaulBand | undefined; readonly implied: boolean } | undefined {
    const otherMode = NON_AIR_MODES.some((m) => hasPhrase(tokens, m))
    const saysAir = terms.has("flight")
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
      readonly size: Interval | undefined
      readonly lifecycle: "material" | "waste" | undefined
      readonly secondaryMaterial: boolean
      readonly underground: boolean
      readonly tram: boolean
      readonly terms: ReadonlyMap<string, number>
      readonly businessCabin: boolean
      readonly cabinNamed: boolean
      readonly service: boolean
      /** Material words the query names ("glass", "board"), to hold material and waste rows to them. */
      readonly materials: ReadonlyArray<string>
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
    const factorUnit = candidate.unitText
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
    if (context.size) {
      if (candidate.band && candidate.band.measure === context.size.measure) {
        const fit = bandFit(context.size, candidate.band)
        adjustment += fit >= 0.99 ? 3 : 4 * fit - 2
      } else if (candidate.sizeFamily === context.size.measure) adjustment -= 0.5
    }
    if (candidate.lifecycle !== undefined && context.lifecycle !== undefined) {
      adjustment += candidate.lifecycle === context.lifecycle ? (candidate.lifecycle === "material" ? 2.5 : 0.5) : -4
    }
    // A line that says neither is only a material by its nouns; a waste row also needs a disposal.
    if (candidate.lifecycle === "waste" && context.lifecycle === undefined) adjustment -= 1.5
    if (candidate.lifecycle !== undefined && context.service && context.lifecycle !== "waste") adjustment -= 3
    // A material row for another material ("Average construction" for batteries) is a guess.
    if (candidate.lifecycle !== undefined && context.materials.length > 0 && !context.materials.some((m) => candidate.materialTerms.has(m))) {
      adjustment -= 2
    }
    if (candidate.gasNames && !candidate.gasNames.some((name) => name.every((t) => context.terms.has(t)))) adjustment -= 3
    if (candidate.lifecycle === "material") {
      if (candidate.isPrimaryMaterial === context.secondaryMaterial) adjustment -= 1
    }
    // "London" or "Manchester" on a rail line is a station, not a sign of the Underground or a tram.
    if (candidate.isUnderground && !context.underground) adjustment -= 8
    if (candidate.isTram && !context.tram) adjustment -= 2
    for (const hint of context.scopeHints) {
      if (factor.activityType === hint.prefer) adjustment += 2
      else if (hint.avoid.includes(factor.activityType)) adjustment -= 2
    }
    // "Business" names the cabin, except in "business trip", "business travel" and the like.
    // With no cabin named the average passenger is the default, never the business-class row that a
    // "business trip" happens to share a word with.
    if (candidate.isBusinessClass && !context.businessCabin) adjustment -= 2
    if (candidate.isAveragePassenger && !context.businessCabin && !context.cabinNamed) {
      adjustment += 0.5
    }
    for (const preference of PREFERENCES) {
      if (preference.name.test(factor.name) && !(preference.unless ?? []).some((p) => hasPhrase(context.tokens, p))) {
        adjustment += preference.bonus
      }
    }
    return adjustment
  }
}
