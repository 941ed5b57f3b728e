/**
 * Text handling for ranking: tokenising, light stemming and the synonyms table. Kept apart from the
 * scoring so the vocabulary can grow without touching the ranking rules.
 */

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

export const tokenise = (text: string): Array<string> => {
  const words = text
    .toLowerCase()
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .replace(/\bt\s*&\s*d\b/g, " transmission distribution ")
    .replace(/&/g, " and ")
    .replace(/\br[\s-](\d{2,4}[a-z]{0,2})\b/g, "r$1")
    .split(/[^a-z0-9]+/)
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
}

const SYNONYMS_SOURCE: ReadonlyArray<Synonym> = [
  { phrases: ["power", "grid", "mains electricity", "electric", "utility electricity", "purchased electricity"], means: ["electricity"], weight: 1 },
  { phrases: ["electricity"], means: ["grid"], weight: 0.5 },
  { phrases: ["gas oil", "red diesel"], means: ["gas", "oil"], weight: 1 },
  { phrases: ["diesel"], means: ["gas", "oil"], weight: 0.2 },
  { phrases: ["gasoline", "unleaded", "petrol"], means: ["petrol"], weight: 1 },
  { phrases: ["flight", "flights", "air travel", "airfare", "plane", "airline"], means: ["flight", "air"], weight: 1 },
  { phrases: ["hotel", "accommodation", "room", "lodging", "hotel stay"], means: ["hotel", "stay"], weight: 1 },
  { phrases: ["lpg", "liquefied petroleum gas", "autogas"], means: ["lpg"], weight: 1 },
  { phrases: ["cng", "compressed natural gas"], means: ["cng"], weight: 1 },
  { phrases: ["lng", "liquefied natural gas"], means: ["lng"], weight: 1 },
  { phrases: ["mains gas", "natural gas", "gas heating", "boiler gas"], means: ["natural", "gas"], weight: 1 },
  { phrases: ["refrigerant", "refrigerants", "f gas", "fgas", "top up", "topup", "leak", "leakage", "recharge", "regas"], means: ["refrigerant"], weight: 1 },
  { phrases: ["r134a"], means: ["hfc", "134a"], weight: 1 },
  { phrases: ["r32"], means: ["hfc", "32"], weight: 1 },
  { phrases: ["r22"], means: ["hcfc", "22"], weight: 1 },
  { phrases: ["waste", "rubbish", "trash", "refuse", "disposal"], means: ["waste", "disposal"], weight: 1 },
  { phrases: ["general waste", "mixed waste", "residual waste", "commercial waste", "trade waste"], means: ["commercial", "industrial", "waste"], weight: 1 },
  { phrases: ["landfill", "landfilled", "tip"], means: ["landfill"], weight: 1 },
  { phrases: ["incineration", "incinerated", "energy from waste", "efw", "burned", "burnt"], means: ["combustion"], weight: 1 },
  { phrases: ["recycling", "recycled", "recycle"], means: ["closed", "loop"], weight: 1 },
  { phrases: ["recycling", "recycled", "recycle"], means: ["open"], weight: 0.3 },
  { phrases: ["anaerobic digestion", "ad plant", "biodigester"], means: ["anaerobic", "digestion"], weight: 1 },
  { phrases: ["compost", "composted"], means: ["composting"], weight: 1 },
  { phrases: ["food waste", "food scraps", "organic waste", "kitchen waste"], means: ["organic", "food", "drink"], weight: 1 },
  { phrases: ["cardboard", "carton", "boxes"], means: ["paper", "board"], weight: 1 },
  { phrases: ["water", "mains water", "tap water", "potable water", "water supply", "water usage", "water consumption"], means: ["water", "supply"], weight: 1 },
  { phrases: ["wastewater", "waste water", "sewage", "sewerage", "effluent"], means: ["water", "treatment"], weight: 1 },
  { phrases: ["freight", "haulage", "shipping", "logistics", "road freight", "trucking", "transport of goods"], means: ["freight"], weight: 1 },
  { phrases: ["hgv", "lorry", "lorries", "truck", "trucks", "heavy goods vehicle", "road freight", "articulated", "haulage"], means: ["hgv"], weight: 1 },
  { phrases: ["sea freight", "ocean freight", "container ship", "shipping container"], means: ["cargo", "ship", "container"], weight: 1 },
  { phrases: ["air freight", "air cargo"], means: ["freight", "flight"], weight: 1 },
  { phrases: ["rail freight", "freight train"], means: ["freight", "train"], weight: 1 },
  { phrases: ["train", "trains", "railway", "rail travel", "intercity"], means: ["rail"], weight: 1 },
  { phrases: ["eurostar", "cross border train", "international train"], means: ["international", "rail"], weight: 1 },
  { phrases: ["tram", "metro", "light rail"], means: ["light", "rail", "tram"], weight: 1 },
  { phrases: ["tube", "underground"], means: ["london", "underground"], weight: 1 },
  { phrases: ["taxi", "taxis", "cab", "cabs", "uber", "grab", "ride hailing", "rideshare"], means: ["taxi"], weight: 1 },
  { phrases: ["bus", "buses"], means: ["bus"], weight: 1 },
  { phrases: ["coach", "intercity bus"], means: ["coach"], weight: 1 },
  { phrases: ["company car", "fleet car", "pool car", "company vehicle", "fleet vehicle", "owned car", "company cars", "fleet cars"], means: ["passenger", "vehicle"], weight: 1 },
  { phrases: ["grey fleet", "own car", "private car", "mileage claim", "mileage claims", "employee car", "business mileage", "commuting", "commute"], means: ["business", "travel", "land"], weight: 1 },
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

export interface Expansion {
  readonly term: string
  readonly weight: number
}

const SYNONYMS = SYNONYMS_SOURCE.map((s) => ({
  phrases: s.phrases.map((p) => tokenise(p)),
  means: s.means.map(stem),
  weight: s.weight,
}))

const containsSequence = (tokens: ReadonlyArray<string>, phrase: ReadonlyArray<string>) => {
  if (phrase.length === 0) return false
  for (let i = 0; i + phrase.length <= tokens.length; i++) {
    if (phrase.every((p, j) => tokens[i + j] === p)) return true
  }
  return false
}

/** The query's own tokens at weight 1 plus every synonym it triggers, keeping each term's highest weight. */
export const expandQuery = (tokens: ReadonlyArray<string>): Map<string, number> => {
  const terms = new Map<string, number>()
  const add = (term: string, weight: number) => terms.set(term, Math.max(terms.get(term) ?? 0, weight))
  for (const token of tokens) add(token, 1)
  for (const synonym of SYNONYMS) {
    if (synonym.phrases.some((phrase) => containsSequence(tokens, phrase))) {
      for (const term of synonym.means) add(term, synonym.weight)
    }
  }
  return terms
}

export const hasPhrase = (tokens: ReadonlyArray<string>, phrase: string): boolean => containsSequence(tokens, tokenise(phrase))

/** Terms a single word stands for through one-word synonym phrases ("lorry" → "hgv"). */
export const synonymsOf = (word: string): ReadonlyArray<string> =>
  SYNONYMS.filter((s) => s.phrases.some((p) => p.length === 1 && p[0] === word)).flatMap((s) => s.means)
