/**
 * Text handling for ranking: tokenising, light stemming and the synonyms table. Kept apart from the
 * scoring so the vocabulary can grow without touching the ranking rules.
 */
import { BRANDS, NEUTRAL_PHRASES } from "./brands.ts"

const STOP_WORDS = new Set([
  "a", "an", "and", "the", "of", "for", "to", "from", "in", "on", "at", "by", "per", "with", "via", "into",
  "our", "we", "its", "is", "are", "was", "q1", "q2", "q3", "q4", "incl", "including", "emissions",
])

/** Plural and -ing endings only: factor names are short noun phrases, heavier stemming merges too much. */
export const stem = (token: string): string => {
  if (/^\d/.test(token) || token.length <= 3) return token
  if (token.endsWith("ies") && token.length > 4) return `${token.slice(0, -3)}y`
  if (token.endsWith("ing") && token.length > 5) return token.slice(0, -3)
  if (token.endsWith("es") && /(ch|sh|x|ss)es$/.test(token)) return token.slice(0, -2)
  if (token.endsWith("s") && !token.endsWith("ss") && !token.endsWith("us")) return token.slice(0, -1)
  return token
}

/**
 * Refrigerants are written "R134a", "R-134a" or "HFC-134a"; emitting the bare designation ("134a")
 * as well lets any spelling meet the catalogue's.
 */
const refrigerantDesignation = /^r?(\d{2,4}[a-z]{0,2})$/

/**
 * Abbreviations and run-together words people type in spreadsheets, spelled out before anything else
 * sees them ("Elec." → electricity, "Accom." → accommodation, "Airfreight" → air freight). Only words
 * the catalogue itself never uses belong here, since factor names go through the same tokeniser.
 */
const ABBREVIATIONS: ReadonlyMap<string, string> = new Map([
  ["elec", "electricity"], ["elect", "electricity"], ["electr", "electricity"], ["elecy", "electricity"],
  ["electricty", "electricity"], ["electic", "electricity"], ["eletricity", "electricity"], ["electicity", "electricity"],
  ["accom", "accommodation"], ["accomm", "accommodation"], ["accomodation", "accommodation"], ["htl", "hotel"],
  ["hotels", "hotel"], ["airbnb", "accommodation"],
  ["airfreight", "air freight"], ["aircargo", "air cargo"], ["seafreight", "sea freight"], ["roadfreight", "road freight"],
  ["railfreight", "rail freight"], ["airfares", "airfare"], ["flt", "flight"], ["flts", "flights"], ["fltr", "flight"],
  ["econ", "economy"], ["prem", "premium"], ["biz", "business"], ["rtn", "return"],
  ["natgas", "natural gas"], ["ngas", "natural gas"], ["erdgas", "natural gas"], ["gaz", "gas"],
  ["dsl", "diesel"], ["derv", "diesel"], ["ulsd", "diesel"], ["unl", "unleaded"], ["ulp", "unleaded"],
  ["gasoil", "gas oil"], ["mgo", "marine gas oil"], ["hfo", "fuel oil"],
  ["wtr", "water"], ["sewer", "sewerage"], ["sewage", "sewage"],
  ["refrig", "refrigerant"], ["aircon", "air conditioning"], ["reefer", "refrigerated"],
  ["veh", "vehicle"], ["vehs", "vehicles"], ["trvl", "travel"], ["mileages", "mileage"],
  ["ewaste", "e waste"], ["recyc", "recycling"], ["recycl", "recycling"], ["compostable", "compost"],
  ["genset", "generator"], ["gensets", "generators"], ["genny", "generator"],
  ["ldn", "london"], ["bldg", "building"], ["nts", "nights"], ["hv", "high voltage"], ["artic", "articulated"], ["artics", "articulated"],
])

/**
 * Two-word names the catalogue treats as one thing: "Gas oil" is a liquid fuel, so its "gas" must not
 * meet the "gas" of a gas bill. Joined into one token on both sides (factor names and queries).
 */
const COMPOUNDS: ReadonlyArray<readonly [first: string, second: string, joined: string]> = [
  ["gas", "oil", "gasoil"],
]

const joinCompounds = (words: ReadonlyArray<string>): Array<string> => {
  const out: Array<string> = []
  for (let i = 0; i < words.length; i++) {
    const compound = COMPOUNDS.find(([a, b]) => words[i] === a && words[i + 1] === b)
    if (compound) {
      out.push(compound[2])
      i++
    } else out.push(words[i]!)
  }
  return out
}

/** Brand names → the generic words they stand for; neutral names → nothing. Longest phrases first. */
const REWRITES: ReadonlyArray<readonly [phrase: ReadonlyArray<string>, as: ReadonlyArray<string>]> = [
  ...BRANDS.flatMap((brand) => brand.phrases.map((p) => [p.split(" "), brand.as.split(" ")] as const)),
  ...NEUTRAL_PHRASES.map((p) => [p.split(" "), []] as const),
].sort((a, b) => b[0].length - a[0].length)
const REWRITES_BY_FIRST = new Map<string, Array<(typeof REWRITES)[number]>>()
for (const rewrite of REWRITES) {
  const first = rewrite[0][0]!
  REWRITES_BY_FIRST.set(first, [...(REWRITES_BY_FIRST.get(first) ?? []), rewrite])
}

const rewriteNames = (words: ReadonlyArray<string>): Array<string> => {
  const out: Array<string> = []
  for (let i = 0; i < words.length; i++) {
    const rewrite = REWRITES_BY_FIRST.get(words[i]!)?.find(([phrase]) => phrase.every((w, j) => words[i + j] === w))
    if (rewrite) {
      out.push(...rewrite[1])
      i += rewrite[0].length - 1
    } else out.push(words[i]!)
  }
  return out
}

export const tokenise = (text: string): Array<string> => {
  const spelled = text
    .toLowerCase()
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .replace(/\bt\s*&\s*d\b/g, " transmission distribution ")
    .replace(/\ba\s*\/\s*c\b/g, " air conditioning ")
    .replace(/\bpg\s*&\s*e\b/g, " pge ")
    .replace(/\be\.on\b/g, " eon ")
    .replace(/&/g, " and ")
    .replace(/\br[\s-](\d{2,4}[a-z]{0,2})\b/g, "r$1")
    .split(/[^a-z0-9]+/)
  const words = joinCompounds(rewriteNames(spelled).flatMap((w) => (ABBREVIATIONS.get(w) ?? w).split(" ")))
    .filter((w) => w.length > 0 && !STOP_WORDS.has(w))
  const tokens: Array<string> = []
  for (const word of words) {
    tokens.push(stem(word))
    const designation = refrigerantDesignation.exec(word)
    if (designation && word.startsWith("r") && designation[1] !== word) tokens.push(designation[1]!)
  }
  return tokens
}

/**
 * Phrases people write → the catalogue's words. Each entry's `means` terms are added to the query
 * with the entry's weight: 1 where the two say the same thing, less where they are only related
 * (so "diesel" still prefers the Diesel rows over Gas oil).
 */
interface Synonym {
  readonly phrases: ReadonlyArray<string>
  readonly means: ReadonlyArray<string>
  readonly weight: number
  /** The entry stands aside when any of these phrases is in the query ("gas" is not natural gas in "LPG gas"). */
  readonly unless?: ReadonlyArray<string>
}

/** Electricity suppliers, network operators and utilities (some also sell gas: named gas wins). */
const ELECTRICITY_SUPPLIERS = [
  // UK
  "edf", "edf energy", "octopus", "octopus energy", "ovo", "ovo energy", "eon", "eon next", "scottish power",
  "scottishpower", "npower", "sse", "sse energy", "bulb", "good energy", "ecotricity", "shell energy", "utilita",
  "so energy", "haven power", "smartest energy", "smartestenergy", "opus energy", "drax", "yu energy", "pozitive",
  "ukpn", "uk power networks", "western power", "national grid", "electricity north west", "northern powergrid",
  "npg", "ssen", "sp energy networks", "dno",
  // Europe
  "enel", "endesa", "iberdrola", "naturgy", "edp", "vattenfall", "rwe", "enbw", "eon energie", "stadtwerke",
  "engie", "electrabel", "eneco", "essent", "fortum", "statkraft", "orsted", "tauron", "pge", "enea", "cez",
  "verbund", "axpo", "alpiq", "elektrizitat", "strom", "electricite", "hafslund", "tibber", "elmarkt",
  // Americas
  "hydro", "hydro one", "hydro quebec", "bc hydro", "toronto hydro", "hydro ottawa", "manitoba hydro",
  "con edison", "coned", "duke energy", "dominion energy", "xcel", "xcel energy", "southern california edison",
  "sce", "pacific gas", "georgia power", "florida power", "fpl", "comed", "entergy", "ameren", "pepco",
  "national grid usa", "cfe", "enel brasil", "cemig", "eletrobras",
  // Asia-Pacific, Africa, Middle East
  "state grid", "china southern power grid", "csg", "clp", "clp power", "hk electric", "hongkong electric",
  "tepco", "kansai electric", "chubu electric", "kepco", "taipower", "sp group", "sp services", "tnb", "tenaga",
  "tenaga nasional", "meralco", "egat", "pln", "evn", "tata power", "adani electricity", "bses",
  "msedcl", "bescom", "tneb", "ausgrid", "origin energy", "agl", "energyaustralia", "energy australia",
  "red energy", "simply energy", "meridian", "genesis energy", "contact energy", "mercury energy", "eskom",
  "city power", "kplc", "dewa", "adwea", "addc", "kahramaa",
]

/** Water utilities: their bills are mains water unless the line says sewerage. */
const WATER_SUPPLIERS = [
  "thames water", "severn trent", "anglian water", "united utilities", "yorkshire water", "scottish water",
  "welsh water", "dwr cymru", "southern water", "wessex water", "south west water", "affinity water",
  "northumbrian water", "castle water", "wave utilities", "everflow", "business stream", "south east water",
  "bristol water", "portsmouth water", "sutton and east surrey water", "water corporation",
]

/** Words naming an energy carrier other than electricity: supplier and bill cues stand aside for them. */
const OTHER_CARRIERS = [
  "gas", "natural gas", "oil", "gasoil", "fuel", "fuels", "diesel", "petrol", "gasoline", "lpg", "propane", "butane",
  "coal", "coke", "kerosene", "heat", "heating oil", "district heating", "steam", "biomass", "wood", "pellet",
  "pellets", "chips", "biogas", "biomethane", "hvo", "biodiesel", "bioethanol", "cng", "lng", "hydrogen",
  "chilled water", "cooling", "mprn",
]

const WASTEWATER = ["sewerage", "sewage", "wastewater", "waste water", "effluent", "treatment", "drainage", "surface water"]

const RECYCLING_PHRASES = [
  "recycling", "recycled", "recycle", "recycler", "recyclers", "recyclable", "recyclables", "reprocessing",
  "reprocessor", "reprocessed", "mrf", "dry mixed recycling", "dmr", "closed loop", "open loop", "baling", "baled",
]

/** Cars and motorbikes the company does not own, paid through expenses: Scope 3 business travel. */
export const BUSINESS_TRAVEL_PHRASES = [
  "grey fleet", "gray fleet", "own car", "own vehicle", "private car", "private vehicle", "personal car",
  "personal vehicle", "mileage claim", "mileage claims", "claimed mileage", "mileage allowance", "amap",
  "employee car", "employee mileage", "staff mileage", "staff car", "business mileage", "business miles",
  "expenses", "expense", "expensed", "expense claim", "reimbursed", "reimbursement", "commuting", "commute",
  "car hire", "hire car", "rental car", "car rental", "hired car",
]

const SYNONYMS_SOURCE: ReadonlyArray<Synonym> = [
  { phrases: ["power", "grid", "mains electricity", "electric", "utility electricity", "purchased electricity"], means: ["electricity"], weight: 1 },
  { phrases: ["electricity"], means: ["grid"], weight: 0.5 },
  { phrases: ["gas oil", "red diesel", "marine diesel", "white diesel"], means: ["gas oil"], weight: 1 },
  { phrases: ["diesel"], means: ["gas oil"], weight: 0.2 },
  // A gas bill, meter or boiler is natural gas unless the text names another gas.
  {
    phrases: ["gas", "gas supply", "mprn"],
    means: ["natural", "gas"],
    weight: 1,
    unless: ["lpg", "propane", "butane", "calor", "flogas", "bottled", "cylinder", "cylinders", "landfill", "biogas", "bio gas", "biomethane", "refrigerant", "f gas", "fgas", "sf6", "petroleum gas", "greenhouse", "cng", "lng", "liquefied", "compressed", "electricity", "electric", "power"],
  },
  { phrases: ["mpan", "half hourly", "hh meter", "hh supply", "hh data", "smart meter electricity", "kwh electricity"], means: ["electricity"], weight: 1 },
  { phrases: ELECTRICITY_SUPPLIERS, means: ["electricity"], weight: 1, unless: OTHER_CARRIERS },
  // Bill and meter wording: with an energy unit and no fuel named, the bill is for electricity.
  { phrases: ["supply", "supplier", "utility", "utilities", "utility bill", "bill", "invoice", "meter", "metered", "meter reading", "tariff", "standing charge", "import", "imported", "day rate", "night rate", "peak", "off peak", "usage", "consumption", "kwh", "mwh"], means: ["electricity"], weight: 0.8, unless: [...OTHER_CARRIERS, "water", "sewerage"] },
  { phrases: ["calor", "flogas", "bottled gas", "gas bottle", "gas bottles", "gas cylinder", "gas cylinders", "autogas"], means: ["lpg"], weight: 1, unless: ["propane", "butane"] },
  { phrases: WATER_SUPPLIERS, means: ["water", "supply"], weight: 1, unless: WASTEWATER },
  { phrases: ["gasoline", "unleaded", "petrol"], means: ["petrol"], weight: 1 },
  { phrases: ["flight", "flights", "air travel", "airfare", "plane", "airline"], means: ["flight", "air"], weight: 1 },
  { phrases: ["hotel", "accommodation", "room", "lodging", "hotel stay", "overnight stay", "b and b", "bnb", "motel", "inn", "guesthouse", "serviced apartment"], means: ["hotel", "stay"], weight: 1 },
  { phrases: ["lpg", "liquefied petroleum gas", "autogas"], means: ["lpg"], weight: 1 },
  { phrases: ["cng", "compressed natural gas"], means: ["cng"], weight: 1 },
  { phrases: ["lng", "liquefied natural gas"], means: ["lng"], weight: 1 },
  { phrases: ["mains gas", "natural gas", "gas heating", "boiler gas"], means: ["natural", "gas"], weight: 1 },
  { phrases: ["refrigerant", "refrigerants", "f gas", "fgas", "top up", "topup", "leak", "leakage", "recharge", "regas"], means: ["refrigerant"], weight: 1 },
  { phrases: ["r134a"], means: ["hfc", "134a"], weight: 1 },
  { phrases: ["r32"], means: ["hfc", "32"], weight: 1 },
  { phrases: ["r22"], means: ["hcfc", "22"], weight: 1 },
  { phrases: ["co2", "r744", "carbon dioxide"], means: ["carbon", "dioxide"], weight: 1 },
  { phrases: ["waste", "rubbish", "trash", "refuse", "disposal"], means: ["waste", "disposal"], weight: 1 },
  { phrases: ["general waste", "mixed waste", "residual waste", "commercial waste", "trade waste"], means: ["commercial", "industrial", "waste"], weight: 1 },
  { phrases: ["landfill", "landfilled", "tip"], means: ["landfill"], weight: 1 },
  { phrases: ["incineration", "incinerated", "energy from waste", "efw", "burned", "burnt"], means: ["combustion"], weight: 1 },
  // Weak on purpose: the route rule in Ranker.adjust chooses the loop the material offers.
  { phrases: RECYCLING_PHRASES, means: ["closed", "loop"], weight: 0.4 },
  { phrases: RECYCLING_PHRASES, means: ["open"], weight: 0.3 },
  { phrases: ["green waste", "garden waste", "grounds maintenance", "grass cuttings", "grass clippings", "hedge trimmings", "tree cuttings", "prunings", "landscaping waste", "landscaping", "horticultural waste", "yard waste"], means: ["garden", "waste", "organic"], weight: 1 },
  { phrases: ["weee", "e waste", "electronic waste", "electrical waste", "electronics", "it equipment", "it waste", "laptop", "laptops", "computer", "computers", "monitors", "printers", "mobile phones", "servers"], means: ["weee", "electrical", "item"], weight: 1 },
  { phrases: ["weee", "e waste", "electronic waste", "electrical waste", "electronics", "it equipment", "it waste"], means: ["mixed"], weight: 0.3 },
  { phrases: ["laptop", "laptops", "computer", "computers", "monitors", "printers", "mobile phones", "small appliances"], means: ["small"], weight: 0.5 },
  { phrases: ["fridge", "fridges", "freezer", "freezers"], means: ["fridge", "freezer"], weight: 1 },
  { phrases: ["scrap", "scrap metal"], means: ["metal", "scrap"], weight: 1 },
  { phrases: ["metal", "metals"], means: ["scrap"], weight: 0.5 },
  { phrases: ["paper", "office paper", "shredded paper", "shredding", "confidential waste", "newspapers", "magazines"], means: ["paper"], weight: 1 },
  { phrases: ["anaerobic digestion", "ad plant", "biodigester"], means: ["anaerobic", "digestion"], weight: 1 },
  { phrases: ["compost", "composted"], means: ["composting"], weight: 1 },
  { phrases: ["food waste", "food scraps", "organic waste", "kitchen waste"], means: ["organic", "food", "drink"], weight: 1 },
  { phrases: ["cardboard", "carton", "boxes", "occ", "corrugated"], means: ["board"], weight: 1 },
  { phrases: ["textile", "textiles", "uniform", "uniforms", "clothes", "garment", "garments", "t shirt", "t shirts", "workwear", "fabric", "fabrics", "apparel", "linen"], means: ["clothing"], weight: 1 },
  { phrases: ["timber", "lumber", "joinery", "pallet", "pallets", "wooden"], means: ["wood"], weight: 1 },
  { phrases: ["lithium ion", "li ion", "lithium"], means: ["li", "ion"], weight: 1 },
  { phrases: ["tins", "tin cans", "food tins"], means: ["steel", "can"], weight: 1 },
  { phrases: ["cardboard", "carton", "boxes", "occ", "corrugated"], means: ["paper"], weight: 0.5 },
  { phrases: ["water", "mains water", "tap water", "potable water", "water supply", "water usage", "water consumption"], means: ["water", "supply"], weight: 1, unless: WASTEWATER },
  { phrases: ["wastewater", "waste water", "sewage", "sewerage", "effluent"], means: ["water", "treatment"], weight: 1 },
  { phrases: ["freight", "haulage", "shipping", "logistics", "road freight", "trucking", "transport of goods"], means: ["freight"], weight: 1 },
  { phrases: ["hgv", "lorry", "lorries", "truck", "trucks", "heavy goods vehicle", "road freight", "articulated", "haulage"], means: ["hgv"], weight: 1 },
  { phrases: ["sea freight", "ocean freight", "container ship", "shipping container"], means: ["cargo", "ship", "container"], weight: 1 },
  { phrases: ["air freight", "air cargo", "air courier", "air express", "airway bill", "awb"], means: ["freight", "flight"], weight: 1 },
  { phrases: ["courier", "couriers", "parcel", "parcels", "parcel delivery", "multi drop"], means: ["van"], weight: 0.5 },
  { phrases: ["courier", "couriers", "parcel", "parcels", "haulier", "hauliers", "carrier", "3pl", "pallet", "pallets", "delivery service", "outsourced delivery", "freight forwarder", "forwarder"], means: ["freight", "good"], weight: 0.6 },
  { phrases: ["rail freight", "freight train"], means: ["freight", "train"], weight: 1 },
  { phrases: ["train", "trains", "railway", "rail travel", "intercity"], means: ["rail"], weight: 1 },
  { phrases: ["eurostar", "cross border train", "international train"], means: ["international", "rail"], weight: 1 },
  { phrases: ["tram", "metro", "light rail"], means: ["light", "rail", "tram"], weight: 1 },
  { phrases: ["tube", "underground"], means: ["london", "underground"], weight: 1 },
  { phrases: ["taxi", "taxis", "cab", "cabs", "uber", "grab", "ride hailing", "rideshare"], means: ["taxi"], weight: 1 },
  { phrases: ["bus", "buses"], means: ["bus"], weight: 1 },
  { phrases: ["coach", "intercity bus"], means: ["coach"], weight: 1 },
  { phrases: ["company car", "fleet car", "pool car", "company vehicle", "fleet vehicle", "owned car", "company cars", "fleet cars"], means: ["passenger", "vehicle"], weight: 1 },
  { phrases: BUSINESS_TRAVEL_PHRASES, means: ["business", "travel", "land"], weight: 1 },
  { phrases: ["car", "cars", "vehicle", "driving"], means: ["car"], weight: 1 },
  { phrases: ["ev", "electric car", "electric vehicle", "bev", "battery electric"], means: ["battery", "electric", "vehicle"], weight: 1 },
  { phrases: ["phev", "plug in hybrid"], means: ["plug", "hybrid", "electric", "vehicle"], weight: 1 },
  { phrases: ["van", "vans", "light commercial vehicle", "lcv"], means: ["van"], weight: 1 },
  { phrases: ["motorbike", "motorcycle", "scooter", "moped"], means: ["motorbike"], weight: 1 },
  { phrases: ["ferry", "ferries"], means: ["ferry"], weight: 1 },
  { phrases: ["homeworking", "working from home", "home working", "remote work", "wfh"], means: ["homework", "office", "equipment", "heat"], weight: 1 },
  { phrases: ["district heating", "heat network"], means: ["district", "heat", "steam"], weight: 1 },
  { phrases: ["steam", "heat"], means: ["heat", "steam"], weight: 0.5 },
  { phrases: ["heating oil", "kerosene", "paraffin"], means: ["burning", "oil"], weight: 1 },
  { phrases: ["jet fuel", "jet a1", "avtur"], means: ["aviation", "turbine", "fuel"], weight: 1 },
  { phrases: ["biodiesel"], means: ["biodiesel"], weight: 1 },
  { phrases: ["economy", "coach class", "standard class"], means: ["economy"], weight: 1 },
  { phrases: ["premium economy"], means: ["premium", "economy"], weight: 1 },
  { phrases: ["small", "compact", "city car"], means: ["small"], weight: 1 },
  { phrases: ["large", "suv", "4x4"], means: ["large"], weight: 1 },
  { phrases: ["long haul", "longhaul", "intercontinental"], means: ["long", "haul"], weight: 1 },
  { phrases: ["short haul", "shorthaul"], means: ["short", "haul"], weight: 1 },
  { phrases: ["domestic flight", "domestic flights", "internal flight"], means: ["domestic"], weight: 1 },
  { phrases: ["regional flight", "regional flights"], means: ["international"], weight: 0.5 },
]

/** Every word the vocabulary reads: synonym phrases (triggered or not), abbreviations and their spellings. */
export const VOCABULARY: ReadonlySet<string> = new Set([
  ...SYNONYMS_SOURCE.flatMap((s) => [...s.phrases, ...(s.unless ?? [])]).flatMap((p) => tokenise(p)),
  ...[...ABBREVIATIONS.keys()].flatMap((k) => tokenise(k)),
])

export interface Expansion {
  readonly term: string
  readonly weight: number
}

const SYNONYMS = SYNONYMS_SOURCE.map((s) => ({
  phrases: s.phrases.map((p) => tokenise(p)),
  means: s.means.flatMap((m) => tokenise(m)),
  weight: s.weight,
  unless: (s.unless ?? []).map((p) => tokenise(p)),
}))

const containsSequence = (tokens: ReadonlyArray<string>, phrase: ReadonlyArray<string>) => {
  if (phrase.length === 0) return false
  for (let i = 0; i + phrase.length <= tokens.length; i++) {
    if (phrase.every((p, j) => tokens[i + j] === p)) return true
  }
  return false
}

/** A synonym the query triggers, with the token positions its phrases cover. */
export interface Triggered {
  readonly means: ReadonlyArray<string>
  readonly weight: number
  readonly positions: ReadonlySet<number>
}

// Synonym phrases by their first token: a query only ever tests the phrases that start with one of its words.
const PHRASES_BY_FIRST = new Map<string, Array<{ readonly synonym: number; readonly phrase: ReadonlyArray<string> }>>()
SYNONYMS.forEach((synonym, index) => {
  for (const phrase of synonym.phrases) {
    const first = phrase[0]
    if (first === undefined) continue
    const list = PHRASES_BY_FIRST.get(first) ?? []
    list.push({ synonym: index, phrase })
    PHRASES_BY_FIRST.set(first, list)
  }
})

export const triggeredSynonyms = (tokens: ReadonlyArray<string>): Array<Triggered> => {
  const positions = new Map<number, Set<number>>()
  tokens.forEach((token, start) => {
    for (const { synonym, phrase } of PHRASES_BY_FIRST.get(token) ?? []) {
      if (!phrase.every((p, j) => tokens[start + j] === p)) continue
      const covered = positions.get(synonym) ?? new Set<number>()
      for (let k = 0; k < phrase.length; k++) covered.add(start + k)
      positions.set(synonym, covered)
    }
  })
  const triggered: Array<Triggered> = []
  for (const [index, covered] of [...positions].sort((a, b) => a[0] - b[0])) {
    const synonym = SYNONYMS[index]!
    if (!synonym.unless.some((phrase) => containsSequence(tokens, phrase))) {
      triggered.push({ means: synonym.means, weight: synonym.weight, positions: covered })
    }
  }
  return triggered
}

/** The query's own tokens at weight 1 plus every synonym it triggers, keeping each term's highest weight. */
export const expandQuery = (tokens: ReadonlyArray<string>, triggered = triggeredSynonyms(tokens)): Map<string, number> => {
  const terms = new Map<string, number>()
  const add = (term: string, weight: number) => terms.set(term, Math.max(terms.get(term) ?? 0, weight))
  for (const token of tokens) add(token, 1)
  for (const synonym of triggered) for (const term of synonym.means) add(term, synonym.weight)
  return terms
}

// Rules test the same few hundred phrases against every query (some once per candidate factor), so
// each phrase is tokenised once.
const phraseTokens = new Map<string, ReadonlyArray<string>>()
export const hasPhrase = (tokens: ReadonlyArray<string>, phrase: string): boolean => {
  let tokenised = phraseTokens.get(phrase)
  if (!tokenised) {
    tokenised = tokenise(phrase)
    phraseTokens.set(phrase, tokenised)
  }
  return containsSequence(tokens, tokenised)
}

