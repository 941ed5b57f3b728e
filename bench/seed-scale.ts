/**
 * A tenant after three years of use, for the scale benchmark (`bench/scale.ts`): SCALE_ACTIVITIES
 * activities (default 10,000,000) in 200 uploads, one per site group and calendar month over the 36
 * months that end two months before this one (5–6 uploads a month, from four accountants), matched on
 * 5,000 match keys — as the parse and match jobs leave them, without running them.
 *
 * Each key is a description + unit (+ geography) of one site group, keyed by the pipeline's own
 * `matchKey`, priced on a factor of the loaded catalogue whose unit converts to the key's (the
 * conversion ratio comes from the unit registry, the emissions and their gas parts are exact decimals:
 * quantity × ratio × factor). About 2% of the activities fail (keys the matcher found nothing for, and
 * keys it answered with a factor of another dimension), 5% of the keys are below the review gate
 * (REVIEW_BELOW, 0.8) and their activities `needs_review`; the rest are `auto_accepted`. A key's first
 * upload was priced by the AI matcher, later ones from the match cache, whose rows carry the hits and
 * the matcher's candidates. Key frequencies are skewed (Zipf), as real files are.
 *
 * Loaded with one server-side `COPY activities … FROM '<file>'` per upload (~50,000 rows: the unit the
 * parse writes in one transaction), so statement triggers on `activities` see every row as they would
 * at ingest; the next upload's file is written while PostgreSQL copies the last one. Then VACUUM ANALYZE.
 * No activity history is written: none of the measured reads uses it.
 *
 * The database must be migrated, hold the demo users (test/support/seed.ts) and the catalogue (the
 * server loads it at start), and have no activities yet. PostgreSQL reads the files itself: run this
 * on the machine that hosts it, as a superuser (or a member of pg_read_server_files).
 *
 *   bun bench/seed-scale.ts <DATABASE_URL>            (SCALE_ACTIVITIES=200000 for a quick look)
 */
import { conversionRatio, parseUnit, type Unit } from "@scopeline/catalogue"
import { matchKey } from "@scopeline/matching/matchKey"
import { SQL } from "bun"
import { Option } from "effect"
import { chmodSync, mkdtempSync, rmSync } from "node:fs"
import { join } from "node:path"

export interface SeedScaleOptions {
  readonly activities?: number
  readonly log?: (line: string) => void
}

export interface ScaleSeed {
  readonly activities: number
  readonly uploads: number
  readonly keys: number
  /** The first and last seeded months (YYYY-MM). */
  readonly firstMonth: string
  readonly lastMonth: string
  /** A calendar year the seed covers in full, for year-long reports. */
  readonly fullYear: number
  readonly byStatus: Readonly<Record<string, number>>
  readonly seconds: { readonly generate: number; readonly copy: number; readonly vacuum: number; readonly total: number }
}

const UPLOADS = 200
const KEYS = 5_000
const MONTHS = 36
const FAILED_SHARE = 0.02
const REVIEW_SHARE = 0.05
/** ReviewGate's default REVIEW_BELOW. */
const REVIEW_BELOW = 0.8

// --- deterministic randomness --------------------------------------------------------------------

/** mulberry32: the same tenant on every run, so two runs compare. */
const makeRng = (seed: number) => {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}
type Rng = () => number
const pick = <A>(rng: Rng, items: ReadonlyArray<A>): A => items[Math.floor(rng() * items.length)]!
const between = (rng: Rng, low: number, high: number) => low + rng() * (high - low)
const shuffled = <A>(rng: Rng, items: ReadonlyArray<A>): Array<A> => {
  const out = [...items]
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1))
    ;[out[i], out[j]] = [out[j]!, out[i]!]
  }
  return out
}

// --- exact decimals ------------------------------------------------------------------------------

/** A non-negative decimal as an integer and a scale: 12.5 is { int: 125n, scale: 1 }. */
interface Decimal {
  readonly int: bigint
  readonly scale: number
}

const decimal = (text: string): Decimal => {
  const match = /^(\d+)(?:\.(\d+))?$/.exec(text)
  if (!match) throw new Error(`not a plain non-negative decimal: ${text}`)
  const fraction = match[2] ?? ""
  return { int: BigInt(match[1]! + fraction), scale: fraction.length }
}

const times = (a: Decimal, b: Decimal): Decimal => ({ int: a.int * b.int, scale: a.scale + b.scale })

/** num/den as a decimal when it has a finite expansion (den of the form 2^a·5^b), else undefined. */
const ratioDecimal = (num: bigint, den: bigint): Decimal | undefined => {
  for (let scale = 0, pow = 1n; scale <= 30; scale++, pow *= 10n) {
    if (pow % den === 0n) return { int: num * (pow / den), scale }
  }
  return undefined
}

const decimalText = (int: bigint, scale: number): string => {
  const digits = int.toString()
  if (scale === 0) return digits
  const padded = digits.length <= scale ? "0".repeat(scale - digits.length + 1) + digits : digits
  return `${padded.slice(0, padded.length - scale)}.${padded.slice(padded.length - scale)}`
}

// --- CSV for COPY … WITH (FORMAT csv): an unquoted empty field is NULL ----------------------------

const csv = (value: string | null): string =>
  value === null ? "" : value === "" || /[",\n\r]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value

// --- what the files are about --------------------------------------------------------------------

interface CatalogueFactor {
  readonly id: string
  readonly name: string
  readonly activityType: string
  readonly unit: string
  readonly source: string
  readonly geography: string | null
  readonly isPrimary: boolean
  readonly factorValue: string
  readonly co2Factor: string | null
  readonly ch4Factor: string | null
  readonly n2oFactor: string | null
}

interface Place {
  /** The site's code in `sites`, when the group has sites. */
  readonly site: { readonly code: string; readonly name: string } | undefined
  readonly city: string
}

interface Kind {
  readonly name: string
  /** The category cells files write for it ("" is a blank cell): each group keeps to one of them. */
  readonly categories: ReadonlyArray<string>
  /** Unit spellings by unit: one key keeps to one unit, its rows use the spellings (mostly the first). */
  readonly units: ReadonlyArray<ReadonlyArray<string>>
  readonly factors: (factor: CatalogueFactor, geography: string | null) => boolean
  /** A row's typical quantity, low to high (each key draws its own, log-uniform). */
  readonly quantity: readonly [number, number]
  readonly describe: (n: number, place: Place, rng: Rng) => string
  /** Share of a group's keys. */
  readonly weight: number
}

/** Factors of one activity type per one unit, optionally by name. */
const factorsOf = (activityType: string, unit: string, name?: RegExp) => (f: CatalogueFactor) =>
  f.activityType === activityType && f.unit === unit && (name === undefined || name.test(f.name))

const PLATES = "ABCDEFGHJKLMNPRSTUVWXYZ"
const plate = (n: number) => `${PLATES[n % PLATES.length]}${PLATES[Math.floor(n / PLATES.length) % PLATES.length]} ${1000 + ((n * 7919) % 9000)}`
const WASTE = ["General waste", "Mixed recycling", "Food waste", "Cardboard", "Glass", "Plastics"]
const REFRIGERANT = ["R-410A", "R-404A", "R-134a", "R-407C", "R-32"]
const MATERIALS = ["Steel", "Aluminium", "Paper and board", "Glass", "PET bottles", "Timber", "Concrete"]
const SUPPLIERS = ["Acme Supplies", "Northwind", "Contoso", "Fabrikam", "Globex", "Initech", "Umbrella Trading", "Wayne Logistics"]
const AIRPORTS = ["SIN", "LHR", "CDG", "FRA", "JFK", "ORD", "HKG", "SYD", "DXB", "NRT", "BKK", "KUL", "AMS", "MAD", "BER", "MUC"]
const CITIES = ["London", "Manchester", "Paris", "Lyon", "Berlin", "Munich", "New York", "Chicago", "Singapore", "Kuala Lumpur", "Sydney", "Tokyo"]
const TEAMS = ["Finance", "Sales", "Engineering", "Operations", "HR", "Marketing", "Customer care", "Legal"]
const CLASSES = ["economy", "premium economy", "business"]

/** Sites, fleets and supply chains: what a site group's monthly file holds. */
const OPERATIONS: ReadonlyArray<Kind> = [
  {
    name: "electricity",
    categories: ["Electricity", "Electricity", "Purchased electricity", ""],
    units: [["kWh", "kwh"], ["MWh"]],
    // The country's grid average (Ember); for the UK, DESNZ's figure too.
    factors: (f, geography) =>
      f.unit === "kWh" && (f.source === "Ember" ? f.geography === geography : geography === "GB" && f.activityType === "UK electricity"),
    quantity: [800, 60_000],
    describe: (n, { site, city }) => `${site?.name ?? city} electricity - meter ${n}`,
    weight: 0.16,
  },
  {
    name: "gas",
    categories: ["Heating", "Natural gas", ""],
    units: [["kWh"], ["MWh"]],
    factors: factorsOf("Fuels", "kWh (Gross CV)", /Natural gas/i),
    quantity: [1_000, 40_000],
    describe: (n, { site, city }) => `Natural gas - ${site?.name ?? city} boiler ${n}`,
    weight: 0.07,
  },
  {
    name: "fleet fuel",
    categories: ["Fuel", "Fleet fuel", ""],
    units: [["litres", "L"], ["ltr"]],
    factors: factorsOf("Fuels", "litres", /Diesel|Petrol/i),
    quantity: [30, 900],
    describe: (n, _place, rng) => `${pick(rng, ["Diesel", "Petrol", "Diesel"])} - fleet vehicle ${plate(n)}`,
    weight: 0.15,
  },
  {
    name: "company cars",
    categories: ["Company vehicles", "Business travel", ""],
    units: [["km", "kms"], ["miles"]],
    factors: (f) => f.activityType === "Passenger vehicles" && (f.unit === "km" || f.unit === "miles"),
    quantity: [50, 3_000],
    describe: (n, { city }) => `Company car ${plate(n + 5_000)} - ${city} pool`,
    weight: 0.12,
  },
  {
    name: "waste",
    categories: ["Waste", "Waste generated in operations", ""],
    units: [["tonnes", "t"], ["kg"]],
    factors: factorsOf("Waste disposal", "tonnes"),
    quantity: [0.2, 40],
    describe: (n, { site, city }, rng) => `${pick(rng, WASTE)} - ${site?.name ?? city} collection ${n}`,
    weight: 0.1,
  },
  {
    name: "refrigerant",
    categories: ["Refrigerants", "Fugitive emissions", ""],
    units: [["kg", "kgs"]],
    factors: factorsOf("Refrigerant & other", "kg"),
    quantity: [0.5, 25],
    describe: (n, { site, city }, rng) => `Refrigerant top-up ${pick(rng, REFRIGERANT)} - ${site?.name ?? city} unit ${n}`,
    weight: 0.05,
  },
  {
    name: "water",
    categories: ["Water", ""],
    units: [["m3", "cubic metres"]],
    factors: factorsOf("Water supply", "cubic metres"),
    quantity: [5, 3_000],
    describe: (n, { site, city }) => `Water supply - ${site?.name ?? city} meter ${n}`,
    weight: 0.05,
  },
  {
    name: "purchased goods",
    categories: ["Purchased goods", "Purchased goods and services", "Materials"],
    units: [["tonnes", "t"]],
    factors: factorsOf("Material use", "tonnes"),
    quantity: [0.5, 120],
    describe: (n, _place, rng) => `${pick(rng, MATERIALS)} - ${pick(rng, SUPPLIERS)} PO ${4_000 + n}`,
    weight: 0.14,
  },
  {
    name: "homeworking",
    categories: ["Homeworking", "Employee commuting", ""],
    units: [["FTE hours", "fte hrs"]],
    factors: (f) => f.activityType === "Homeworking",
    quantity: [200, 8_000],
    describe: (n, { city }, rng) => `Homeworking - ${pick(rng, TEAMS)} team ${city} ${n}`,
    weight: 0.04,
  },
  {
    name: "freight",
    categories: ["Upstream transportation", "Freight", ""],
    units: [["tonne.km", "tkm"]],
    factors: factorsOf("Freighting goods", "tonne.km"),
    quantity: [100, 80_000],
    describe: (n, { city }, rng) => `Freight ${city} - ${pick(rng, CITIES)} lane ${n}`,
    weight: 0.12,
  },
]

/** The group travel desk's file: flights, trains, taxis and hotels, no site. */
const TRAVEL: ReadonlyArray<Kind> = [
  {
    name: "flights",
    categories: ["Business travel", "Business travel", "Flights"],
    units: [["passenger.km", "pkm"]],
    factors: factorsOf("Business travel- air", "passenger.km"),
    quantity: [300, 22_000],
    describe: (n, _place, rng) => `Flight ${pick(rng, AIRPORTS)}-${pick(rng, AIRPORTS)} ${pick(rng, CLASSES)} - booking batch ${n}`,
    weight: 0.34,
  },
  {
    name: "rail",
    categories: ["Business travel", "Employee commuting"],
    units: [["passenger.km", "passenger km"]],
    factors: factorsOf("Business travel- land", "passenger.km"),
    quantity: [20, 900],
    describe: (n, _place, rng) => `Rail ${pick(rng, CITIES)} - ${pick(rng, CITIES)} - season ${n}`,
    weight: 0.18,
  },
  {
    name: "taxis",
    categories: ["Business travel", ""],
    units: [["km"], ["miles"]],
    factors: (f) => f.activityType === "Business travel- land" && (f.unit === "km" || f.unit === "miles"),
    quantity: [5, 120],
    describe: (n, _place, rng) => `Taxi - ${pick(rng, CITIES)} - ${pick(rng, TEAMS)} account ${n}`,
    weight: 0.22,
  },
  {
    name: "hotels",
    categories: ["Business travel", "Hotels"],
    units: [["nights", "room nights"]],
    factors: (f) => f.activityType === "Hotel stay",
    quantity: [1, 14],
    describe: (n, _place, rng) => `Hotel stay - ${pick(rng, CITIES)} - corporate rate ${n}`,
    weight: 0.16,
  },
  {
    name: "freight",
    categories: ["Upstream transportation", "Freight"],
    units: [["tonne.km"]],
    factors: factorsOf("Freighting goods", "tonne.km"),
    quantity: [100, 60_000],
    describe: (n, _place, rng) => `Courier ${pick(rng, CITIES)} - ${pick(rng, CITIES)} parcels ${n}`,
    weight: 0.1,
  },
]

/** What no factor in any catalogue covers: the matcher answers "no match". */
const SUNDRY: Kind = {
  name: "sundry",
  categories: ["Other", "", "Misc"],
  units: [["items", "units"], ["kg"]],
  factors: () => false,
  quantity: [1, 400],
  describe: (n, { city }, rng) => `${pick(rng, ["Sundry purchases", "Team event catering", "Office sundries", "Petty cash"])} - ${city} ref ${n}`,
  weight: 0,
}

interface Group {
  readonly name: string
  readonly accountant: string
  readonly geography: string | null
  readonly city: string
  readonly sites: ReadonlyArray<{ readonly code: string; readonly name: string }>
  /** Whether its files fill the `site` column (every row of a site's key names the site). */
  readonly siteColumn: boolean
  /** Relative rows per monthly file. */
  readonly size: number
  readonly kinds: ReadonlyArray<Kind>
  /** Month index (0 = the first seeded month) of its first file. */
  readonly firstMonth: number
}

const DEMO_ACCOUNTANT = "accountant@demo.scopeline.dev"

/** Six site groups × 36 months, the US group joining in month 16 (6 × 36 − 200): 200 uploads. */
const GROUPS: ReadonlyArray<Group> = [
  {
    name: "sg-stores", accountant: DEMO_ACCOUNTANT, geography: "SG", city: "Singapore", siteColumn: true, size: 1.3, kinds: OPERATIONS, firstMonth: 0,
    sites: [{ code: "SG-TAMP", name: "Tampines outlet" }, { code: "SG-JUR", name: "Jurong outlet" }, { code: "SG-ORCH", name: "Orchard outlet" }, { code: "SG-WDL", name: "Woodlands DC" }],
  },
  {
    name: "uk-offices", accountant: "accountant.uk@demo.scopeline.dev", geography: "GB", city: "London", siteColumn: true, size: 1.1, kinds: OPERATIONS, firstMonth: 0,
    sites: [{ code: "LDN-1", name: "London office" }, { code: "MAN-1", name: "Manchester office" }, { code: "EDI-1", name: "Edinburgh warehouse" }],
  },
  {
    name: "fr-sites", accountant: "accountant.eu@demo.scopeline.dev", geography: "FR", city: "Paris", siteColumn: false, size: 0.9, kinds: OPERATIONS, firstMonth: 0,
    sites: [{ code: "PAR-1", name: "Paris office" }, { code: "LYO-1", name: "Lyon plant" }],
  },
  {
    name: "de-sites", accountant: "accountant.eu@demo.scopeline.dev", geography: "DE", city: "Berlin", siteColumn: true, size: 0.9, kinds: OPERATIONS, firstMonth: 0,
    sites: [{ code: "BER-1", name: "Berlin office" }, { code: "HAM-1", name: "Hamburg warehouse" }],
  },
  {
    name: "us-sites", accountant: "accountant.us@demo.scopeline.dev", geography: "US", city: "Chicago", siteColumn: false, size: 0.8, kinds: OPERATIONS, firstMonth: 6 * MONTHS - UPLOADS,
    sites: [{ code: "NYC-1", name: "New York office" }, { code: "CHI-1", name: "Chicago DC" }],
  },
  { name: "group-travel", accountant: DEMO_ACCOUNTANT, geography: null, city: "Head office", siteColumn: false, size: 1.0, kinds: TRAVEL, firstMonth: 0, sites: [] },
]

// --- keys ----------------------------------------------------------------------------------------

/** How a key's activities were priced on one spelling of its unit: factor × ratio, and per gas. */
interface Pricing {
  readonly total: Decimal
  readonly co2: Decimal | null
  readonly ch4: Decimal | null
  readonly n2o: Decimal | null
}

type Outcome =
  | {
      readonly status: "calculated"
      readonly factor: CatalogueFactor
      readonly confidence: string
      readonly reviewStatus: "needs_review" | "auto_accepted"
      readonly candidates: ReadonlyArray<{ readonly factor_id: string; readonly confidence: number }>
      /** By spelling, in the order of `spellings`. */
      readonly pricing: ReadonlyArray<Pricing>
    }
  | {
      readonly status: "failed"
      readonly failureKind: "no_match" | "unit_mismatch"
      readonly reason: string
      /** unit_mismatch: the factor the matcher answered (kept in the match cache). */
      readonly cached: { readonly factor: CatalogueFactor; readonly confidence: string } | undefined
    }

interface Key {
  readonly key: string
  readonly description: string
  readonly unit: Unit
  readonly geography: string | null
  /** CSV cells: the description as written, and the same in capitals (one key, as normalised). */
  readonly written: readonly [string, string]
  readonly spellings: ReadonlyArray<string>
  /** CSV cells from category to site_id. */
  readonly cells: string
  /** What the uploaded file's row held besides description, quantity, unit and date: the other cells, commas, line end. */
  readonly fileBytes: number
  readonly typicalCents: number
  readonly outcome: Outcome
  /** Activities priced from the cache, and when it first and last answered. */
  hits: number
  firstMatchedAt: number
  lastMatchedAt: number
  /** Whether an upload before the current one had the key (its pricing came from the cache then). */
  seen: boolean
}

const unitOf = (text: string): Unit => Option.getOrThrowWith(parseUnit(text), () => new Error(`"${text}" is not in the unit registry`))

/** raw unit → factor unit as a finite decimal, if the units convert and the ratio has one. */
const ratioTo = (from: Unit, factorUnit: string): Decimal | undefined => {
  const to = Option.getOrUndefined(parseUnit(factorUnit))
  if (to === undefined) return undefined
  const ratio = conversionRatio(from, to)
  return ratio._tag === "Right" ? ratioDecimal(ratio.right.num, ratio.right.den) : undefined
}

const pricingOf = (factor: CatalogueFactor, ratio: Decimal): Pricing => {
  const part = (value: string | null) => (value === null ? null : times(ratio, decimal(value)))
  return { total: times(ratio, decimal(factor.factorValue)), co2: part(factor.co2Factor), ch4: part(factor.ch4Factor), n2o: part(factor.n2oFactor) }
}

const confidenceText = (rng: Rng, low: number, high: number) => between(rng, low, high).toFixed(2)

// --- the seed ------------------------------------------------------------------------------------

const monthStart = (year: number, month: number) => Date.UTC(year, month, 1)
const monthText = (ms: number) => new Date(ms).toISOString().slice(0, 7)
const iso = (ms: number) => new Date(ms).toISOString()

const ACTIVITY_COLUMNS =
  "id, upload_id, row_number, raw_description, raw_volume, raw_unit, activity_date, category, geography, site_id, " +
  "status, matched_factor_id, factor_confidence, emissions, emissions_co2, emissions_ch4, emissions_n2o, emissions_unit, " +
  "failure_kind, failure_reason, match_key, match_source, review_status, retry_count, last_attempt_at, created_at, updated_at"

const weightedKind = (rng: Rng, kinds: ReadonlyArray<Kind>): Kind => {
  let r = rng() * kinds.reduce((sum, kind) => sum + kind.weight, 0)
  for (const kind of kinds) {
    r -= kind.weight
    if (r < 0) return kind
  }
  return kinds[kinds.length - 1]!
}

/** The newest publication of each source, as a matcher would answer today. */
const readFactors = async (db: SQL): Promise<ReadonlyArray<CatalogueFactor>> => {
  const rows: ReadonlyArray<Record<string, unknown>> = await db`
    SELECT id::text, name, activity_type, unit, source, geography, is_primary, factor_value::text,
           co2_factor::text, ch4_factor::text, n2o_factor::text
    FROM emission_factors
    WHERE (source, year) IN (SELECT source, max(year) FROM emission_factors GROUP BY source)`
  if (rows.length === 0) throw new Error("the catalogue is empty: start the server once (it loads it) before seeding")
  return rows.map((row) => ({
    id: row.id as string,
    name: row.name as string,
    activityType: row.activity_type as string,
    unit: row.unit as string,
    source: row.source as string,
    geography: row.geography as string | null,
    isPrimary: row.is_primary as boolean,
    factorValue: row.factor_value as string,
    co2Factor: row.co2_factor as string | null,
    ch4Factor: row.ch4_factor as string | null,
    n2oFactor: row.n2o_factor as string | null,
  }))
}

/** The accountants who upload (ids by email) and the sites their files name (ids by lower-case code). */
const seedPeopleAndPlaces = async (db: SQL) => {
  const [admin] = await db`SELECT id FROM users WHERE role = 'admin' AND deleted_at IS NULL ORDER BY created_at LIMIT 1`
  if (admin === undefined) throw new Error("no admin: seed the demo users first (test/support/seed.ts)")
  const emails = [...new Set(GROUPS.map((group) => group.accountant))]
  for (const email of emails) {
    const [first] = email.split("@")[0]!.split(".")
    await db`INSERT INTO users (email, first_name, last_name, role, invited_by)
             VALUES (${email}, ${first}, ${"Demo"}, 'accountant', ${admin.id})
             ON CONFLICT (email) WHERE deleted_at IS NULL DO NOTHING`
  }
  const accountants = new Map<string, string>(
    (await db`SELECT email, id::text FROM users WHERE email IN ${db(emails)} AND deleted_at IS NULL`).map((row: { email: string; id: string }) => [row.email, row.id]),
  )
  for (const group of GROUPS) {
    for (const site of group.sites) {
      await db`INSERT INTO sites (code, name, country, limit_period, created_by)
               VALUES (${site.code}, ${site.name}, ${group.geography ?? "GB"}, 'month', ${admin.id}) ON CONFLICT DO NOTHING`
    }
  }
  const siteIds = new Map<string, string>(
    (await db`SELECT code, id::text FROM sites`).map((row: { code: string; id: string }) => [row.code.toLowerCase(), row.id]),
  )
  return { accountants, siteIds }
}

interface PlannedUpload {
  readonly group: Group
  readonly groupIndex: number
  readonly month: number
  readonly rows: number
  readonly createdAt: number
}

/** Each group's file of a month arrives early the next month, the groups a couple of days apart; oldest first. */
const planUploads = (rng: Rng, total: number, monthAt: (index: number) => number): ReadonlyArray<PlannedUpload> => {
  const planned: Array<Omit<PlannedUpload, "rows">> = []
  GROUPS.forEach((group, groupIndex) => {
    for (let month = group.firstMonth; month < MONTHS; month++) {
      const createdAt = monthAt(month + 1) + (2 + groupIndex * 2) * 86_400_000 + Math.floor(between(rng, 8, 17) * 3_600_000)
      planned.push({ group, groupIndex, month, createdAt })
    }
  })
  planned.sort((a, b) => a.createdAt - b.createdAt)
  const sizes = planned.map((upload) => upload.group.size * between(rng, 0.85, 1.15))
  const sizeSum = sizes.reduce((a, b) => a + b, 0)
  const rows = sizes.map((size) => Math.max(1, Math.floor((size / sizeSum) * total)))
  for (let i = 0, left = total - rows.reduce((a, b) => a + b, 0); left > 0; i = (i + 1) % rows.length, left--) rows[i]! += 1
  return planned.map((upload, i) => ({ ...upload, rows: rows[i]! }))
}

interface Slot {
  /** The key's frequency within its group (Zipf). */
  readonly weight: number
  /** Its expected share of all activities. */
  readonly share: number
  failed: "no_match" | "unit_mismatch" | undefined
  review: boolean
}

/**
 * Keys per group in proportion to its activities, with Zipf frequencies in random order; failures
 * by share of activities (so ~2% of rows fail), the review gate by share of keys.
 */
const planSlots = (rng: Rng, uploads: ReadonlyArray<PlannedUpload>, total: number): ReadonlyArray<ReadonlyArray<Slot>> => {
  const groupRows = GROUPS.map((group) => uploads.filter((upload) => upload.group === group).reduce((sum, upload) => sum + upload.rows, 0))
  const keyCounts = groupRows.map((n) => Math.max(1, Math.round((n / total) * KEYS)))
  keyCounts[0]! += KEYS - keyCounts.reduce((a, b) => a + b, 0)
  const groupSlots = GROUPS.map((_, groupIndex) => {
    const weights = shuffled(rng, Array.from({ length: keyCounts[groupIndex]! }, (_, rank) => (rank + 1) ** -0.7))
    const sum = weights.reduce((a, b) => a + b, 0)
    return weights.map((weight): Slot => ({ weight, share: (weight / sum) * (groupRows[groupIndex]! / total), failed: undefined, review: false }))
  })
  let failedShare = 0
  for (const slot of shuffled(rng, groupSlots.flat())) {
    if (failedShare >= FAILED_SHARE) break
    if (failedShare + slot.share > FAILED_SHARE * 1.05) continue
    slot.failed = rng() < 0.7 ? "no_match" : "unit_mismatch"
    failedShare += slot.share
  }
  const calculable = shuffled(rng, groupSlots.flat().filter((slot) => slot.failed === undefined))
  for (const slot of calculable.slice(0, Math.round(KEYS * REVIEW_SHARE))) slot.review = true
  return groupSlots
}

/** What makes each key's description unique, and a group's label for each kind. */
interface Naming {
  readonly taken: Set<string>
  readonly counters: Map<string, number>
  readonly labels: Map<string, string>
}

/** One key of a group: its description, unit, factor (or failure) and pricing. */
const makeKey = (rng: Rng, slot: Slot, group: Group, factors: ReadonlyArray<CatalogueFactor>, siteIds: ReadonlyMap<string, string>, naming: Naming): Key => {
  const kind = slot.failed === "no_match" ? SUNDRY : weightedKind(rng, group.kinds)
  const unitGroup = kind.units.length > 1 && rng() < 0.3 ? kind.units[1]! : kind.units[0]!
  const unit = unitOf(unitGroup[0]!)
  for (const spelling of unitGroup) {
    if (unitOf(spelling).symbol !== unit.symbol) throw new Error(`"${spelling}" and "${unitGroup[0]}" are different units`)
  }
  const pool = factors.filter((f) => kind.factors(f, group.geography) && ratioTo(unit, f.unit) !== undefined)
  const primary = pool.filter((f) => f.isPrimary)
  const choices = primary.length > 0 ? primary : pool
  if (slot.failed !== "no_match" && choices.length === 0) throw new Error(`no factor of the catalogue prices ${kind.name} in ${unit.symbol} (${group.geography})`)
  const site = group.sites.length === 0 ? undefined : pick(rng, group.sites)
  const kindOfGroup = `${group.name}/${kind.name}`
  let parts: ReturnType<typeof matchKey> = Option.none()
  let written = ""
  do {
    const n = (naming.counters.get(kindOfGroup) ?? 0) + 1
    naming.counters.set(kindOfGroup, n)
    written = kind.describe(n, { site, city: group.city }, rng)
    parts = matchKey(written, unitGroup[0]!, group.geography)
  } while (Option.isNone(parts) || naming.taken.has(parts.value.key))
  const { key, description } = parts.value
  naming.taken.add(key)
  // A group's files label a kind one way; some rows leave the cell blank.
  if (!naming.labels.has(kindOfGroup)) naming.labels.set(kindOfGroup, pick(rng, kind.categories))
  const category = rng() < 0.1 ? "" : naming.labels.get(kindOfGroup)!
  const siteId = group.siteColumn && site !== undefined ? siteIds.get(site.code.toLowerCase())! : null
  const [low, high] = kind.quantity
  const typicalCents = Math.max(1, Math.round(Math.exp(between(rng, Math.log(low), Math.log(high))) * 100))

  let outcome: Outcome
  if (slot.failed === "no_match") {
    outcome = { status: "failed", failureKind: "no_match", reason: `No emission factor matches '${written}' in ${unit.name}: the matcher found no factor`, cached: undefined }
  } else if (slot.failed === "unit_mismatch") {
    // The matcher answered with a factor of another dimension: the cache keeps it, pricing refuses it.
    const wrong = pick(rng, factors.filter((f) => Option.isSome(parseUnit(f.unit)) && unitOf(f.unit).dimension !== unit.dimension && f.isPrimary))
    const factorUnit = unitOf(wrong.unit)
    outcome = {
      status: "failed",
      failureKind: "unit_mismatch",
      reason: `The matched factor is per ${factorUnit.symbol} (${factorUnit.dimension}) but the activity is in ${unit.name} (${unit.dimension}).`,
      cached: { factor: wrong, confidence: confidenceText(rng, 0.5, 0.9) },
    }
  } else {
    const factor = pick(rng, choices)
    const confidence = slot.review ? confidenceText(rng, 0.35, 0.79) : confidenceText(rng, 0.8, 0.995)
    const others = shuffled(rng, choices.filter((f) => f !== factor)).slice(0, 4)
    let next = Number(confidence)
    const candidates = [{ factor_id: factor.id, confidence: Number(confidence) }]
    for (const other of others) {
      next = Math.max(0.05, next - between(rng, 0.03, 0.2))
      candidates.push({ factor_id: other.id, confidence: Number(next.toFixed(2)) })
    }
    outcome = {
      status: "calculated",
      factor,
      confidence,
      reviewStatus: Number(confidence) < REVIEW_BELOW ? "needs_review" : "auto_accepted",
      candidates,
      pricing: unitGroup.map(() => pricingOf(factor, ratioTo(unit, factor.unit)!)),
    }
  }
  return {
    key,
    description,
    unit,
    geography: group.geography,
    written: [csv(written), csv(written.toUpperCase())],
    spellings: unitGroup.map(csv),
    cells: `${csv(category === "" ? null : category)},${csv(group.geography)},${csv(siteId)}`,
    fileBytes: category.length + (group.geography ?? "").length + (siteId === null ? 0 : site!.code.length) + 7,
    typicalCents,
    outcome,
    hits: 0,
    firstMatchedAt: 0,
    lastMatchedAt: 0,
    seen: false,
  }
}

/** A group's keys with the running sums of their frequencies, to draw rows from. */
interface GroupKeys {
  readonly keys: ReadonlyArray<Key>
  readonly cumulative: Float64Array
}

/** The upload's row in `uploads` as the parse leaves it (its size is the file's, known once written). */
interface WrittenUpload {
  readonly row: Record<string, string | number>
  readonly matchedAt: number
}

/**
 * One upload's activities as a CSV file for COPY, with the pipeline's timeline: created, uploaded,
 * parsed (every row has the parse transaction's start as created_at), then matched. Rows of a key
 * the group's earlier uploads had are priced from the cache, the rest by the AI matcher.
 */
const writeUploadFile = async (
  rng: Rng,
  file: string,
  upload: PlannedUpload,
  group: GroupKeys,
  accountant: string,
  monthAt: (index: number) => number,
): Promise<WrittenUpload> => {
  const monthMs = monthAt(upload.month)
  const days = new Date(monthAt(upload.month + 1) - 86_400_000).getUTCDate()
  const dates = Array.from({ length: days }, (_, d) => new Date(monthMs + d * 86_400_000).toISOString().slice(0, 10))
  const id = Bun.randomUUIDv7("hex", upload.createdAt)
  const uploadedAt = upload.createdAt + Math.floor(between(rng, 20, 180) * 1000)
  const parseStart = uploadedAt + Math.floor(between(rng, 200, 2_000))
  const parsedAt = parseStart + Math.ceil(upload.rows / 60) + 500
  const matchedAt = parsedAt + Math.floor(between(rng, 1_000, 20_000))
  const created = iso(parseStart)
  const matched = iso(matchedAt)
  const { keys, cumulative } = group
  const weightSum = cumulative[cumulative.length - 1]!
  // Per key, the cells after the emissions (they differ by upload: the times, and AI or cache).
  const tails = new Map<Key, string>()
  const tailOf = (key: Key): string => {
    let tail = tails.get(key)
    if (tail === undefined) {
      const mk = csv(key.key)
      tail =
        key.outcome.status === "calculated"
          ? `,kg CO2e,,,${mk},${key.seen ? "cache" : "ai"},${key.outcome.reviewStatus},1,${matched},${created},${matched}\n`
          : `,,${key.outcome.failureKind},${csv(key.outcome.reason)},${mk},,,1,${matched},${created},${matched}\n`
      tails.set(key, tail)
    }
    return tail
  }
  const writer = Bun.file(file).writer({ highWaterMark: 1 << 20 })
  let bytes = 0
  const pricedFromCache = new Map<Key, number>()
  for (let i = 0; i < upload.rows; i++) {
    // Lets the previous upload's COPY be sent and answered.
    if (i % 10_000 === 9_999) await Bun.sleep(0)
    const r = rng() * weightSum
    let lo = 0
    let hi = cumulative.length - 1
    while (lo < hi) {
      const mid = (lo + hi) >> 1
      if (cumulative[mid]! < r) lo = mid + 1
      else hi = mid
    }
    const key = keys[lo]!
    const cents = Math.max(1, Math.round(key.typicalCents * between(rng, 0.4, 1.6)))
    const spelling = key.spellings.length > 1 && rng() < 0.15 ? 1 : 0
    const description = key.written[rng() < 0.08 ? 1 : 0]
    const quantity = `${Math.floor(cents / 100)}.${String(cents % 100).padStart(2, "0")}`
    const unit = key.spellings[spelling]!
    const date = dates[Math.floor(rng() * days)]!
    let priced: string
    if (key.outcome.status === "calculated") {
      const p = key.outcome.pricing[spelling]!
      const q = BigInt(cents)
      const part = (d: Decimal | null) => (d === null ? "" : decimalText(q * d.int, d.scale + 2))
      priced = `calculated,${key.outcome.factor.id},${key.outcome.confidence},${part(p.total)},${part(p.co2)},${part(p.ch4)},${part(p.n2o)}`
      if (key.seen) pricedFromCache.set(key, (pricedFromCache.get(key) ?? 0) + 1)
    } else {
      priced = "failed,,,,,,"
    }
    writer.write(`${Bun.randomUUIDv7("hex", parseStart + Math.floor(i / 64))},${id},${i + 2},${description},${quantity},${unit},${date},${key.cells},${priced}${tailOf(key)}`)
    bytes += description.length + quantity.length + unit.length + date.length + key.fileBytes
  }
  await writer.end()
  chmodSync(file, 0o644)
  for (const key of tails.keys()) {
    if (!key.seen) key.firstMatchedAt = matchedAt
    key.seen = true
  }
  for (const [key, n] of pricedFromCache) {
    key.hits += n
    key.lastMatchedAt = matchedAt
  }
  return {
    matchedAt,
    row: {
      id,
      accountant,
      s3_object_url: `uploads/${id}.csv`,
      status: "parsed",
      original_filename: `${upload.group.name}-${monthText(monthMs)}.csv`,
      size_bytes: bytes,
      row_count: upload.rows,
      error_count: 0,
      parse_attempts: 1,
      correlation_id: crypto.randomUUID(),
      created_at: iso(upload.createdAt),
      uploaded_at: iso(uploadedAt),
      parsed_at: iso(parsedAt),
      updated_at: iso(parsedAt),
    },
  }
}

/** The match cache as the pipeline leaves it: the matcher's answers (none for keys it found nothing for). */
const writeMatchCacheFile = async (file: string, keys: ReadonlyArray<Key>) => {
  const writer = Bun.file(file).writer()
  let rows = 0
  for (const key of keys) {
    const answer =
      key.outcome.status === "calculated"
        ? { factorId: key.outcome.factor.id, confidence: key.outcome.confidence, candidates: key.outcome.candidates }
        : key.outcome.cached === undefined
          ? undefined
          : {
              factorId: key.outcome.cached.factor.id,
              confidence: key.outcome.cached.confidence,
              candidates: [{ factor_id: key.outcome.cached.factor.id, confidence: Number(key.outcome.cached.confidence) }],
            }
    if (answer === undefined || !key.seen) continue
    writer.write(
      `${csv(key.key)},${csv(key.description)},${csv(key.unit.symbol)},${csv(key.geography)},${answer.factorId},${answer.confidence},ai,${key.hits},` +
        `${csv(JSON.stringify(answer.candidates))},${iso(key.firstMatchedAt)},${iso(key.lastMatchedAt || key.firstMatchedAt)}\n`,
    )
    rows++
  }
  await writer.end()
  chmodSync(file, 0o644)
  return rows
}

export const seedScale = async (databaseUrl: string, options: SeedScaleOptions = {}): Promise<ScaleSeed> => {
  const total = options.activities ?? Number(process.env.SCALE_ACTIVITIES ?? 10_000_000)
  const log = options.log ?? ((line: string) => console.log(line))
  if (!Number.isSafeInteger(total) || total < UPLOADS) throw new Error(`SCALE_ACTIVITIES must be a whole number of at least ${UPLOADS}`)
  const started = performance.now()
  const rng = makeRng(20_240_601)
  const db = new SQL(databaseUrl, { max: 4 })
  // In /tmp and world-readable: the `postgres` OS user reads the COPY files.
  const dir = mkdtempSync("/tmp/scopeline-seed-scale-")
  chmodSync(dir, 0o755)
  try {
    const [{ any }] = await db`SELECT EXISTS (SELECT 1 FROM activities) AS any`
    if (any) throw new Error("the database already has activities: seed an empty one")
    const factors = await readFactors(db)
    const { accountants, siteIds } = await seedPeopleAndPlaces(db)

    // The calendar: 36 months ending two months before this one, so the last files are already in.
    const now = new Date()
    const first = { year: now.getUTCFullYear(), month: now.getUTCMonth() - 2 - (MONTHS - 1) }
    const monthAt = (index: number) => monthStart(first.year, first.month + index)

    const uploads = planUploads(rng, total, monthAt)
    const naming: Naming = { taken: new Set(), counters: new Map(), labels: new Map() }
    const groups = planSlots(rng, uploads, total).map((slots, groupIndex): GroupKeys => {
      const keys = slots.map((slot) => makeKey(rng, slot, GROUPS[groupIndex]!, factors, siteIds, naming))
      const cumulative = new Float64Array(slots.length)
      let sum = 0
      slots.forEach((slot, i) => (cumulative[i] = sum += slot.weight))
      return { keys, cumulative }
    })

    // One file per upload, written while PostgreSQL copies the previous one.
    let generateSeconds = 0
    let copySeconds = 0
    let copied = 0
    let pending: Promise<void> = Promise.resolve()
    for (const [index, upload] of uploads.entries()) {
      const generationStarted = performance.now()
      const file = join(dir, `upload-${String(index).padStart(3, "0")}.csv`)
      const written = await writeUploadFile(rng, file, upload, groups[upload.groupIndex]!, accountants.get(upload.group.accountant)!, monthAt)
      generateSeconds += (performance.now() - generationStarted) / 1000
      await pending
      if (index > 0 && index % 20 === 0) {
        log(`  ${index}/${uploads.length} uploads, ${copied.toLocaleString("en-US")} activities copied, ${((performance.now() - started) / 1000).toFixed(0)} s`)
      }
      pending = (async () => {
        await db`INSERT INTO uploads ${db(written.row)}`
        const copyStarted = performance.now()
        await db.unsafe(`COPY activities (${ACTIVITY_COLUMNS}) FROM '${file}' WITH (FORMAT csv)`)
        copySeconds += (performance.now() - copyStarted) / 1000
        copied += upload.rows
        rmSync(file)
      })()
    }
    await pending

    const allKeys = groups.flatMap((group) => group.keys)
    const cacheFile = join(dir, "match-cache.csv")
    const cacheRows = await writeMatchCacheFile(cacheFile, allKeys)
    await db.unsafe(`COPY match_cache (key, description_normalised, unit, geography, factor_id, confidence, source, hits, candidates, created_at, updated_at)
                     FROM '${cacheFile}' WITH (FORMAT csv)`)

    const vacuumStarted = performance.now()
    await db.unsafe("VACUUM ANALYZE")
    const vacuumSeconds = (performance.now() - vacuumStarted) / 1000

    const counts: ReadonlyArray<{ status: string; n: number }> = await db`
      SELECT concat_ws(' ', status, review_status, failure_kind) AS status, count(*)::int AS n FROM activities GROUP BY 1 ORDER BY 1`
    const keys = allKeys.filter((key) => key.seen).length
    const activities = counts.reduce((sum, row) => sum + row.n, 0)
    const seconds = { generate: generateSeconds, copy: copySeconds, vacuum: vacuumSeconds, total: (performance.now() - started) / 1000 }
    const firstMonth = monthText(monthAt(0))
    const lastMonth = monthText(monthAt(MONTHS - 1))
    log(
      `seeded ${activities.toLocaleString("en-US")} activities in ${uploads.length} uploads (${firstMonth} to ${lastMonth}), ` +
        `${keys.toLocaleString("en-US")} match keys, ${cacheRows.toLocaleString("en-US")} match cache rows, ${siteIds.size} sites`,
    )
    for (const row of counts) log(`  ${row.status.padEnd(34)} ${row.n.toLocaleString("en-US").padStart(12)}  ${((row.n / activities) * 100).toFixed(2)}%`)
    log(
      `  generation ${seconds.generate.toFixed(1)} s (overlapping the COPYs), COPY ${seconds.copy.toFixed(1)} s, VACUUM ANALYZE ${seconds.vacuum.toFixed(1)} s, ` +
        `total ${seconds.total.toFixed(1)} s`,
    )
    return {
      activities,
      uploads: uploads.length,
      keys,
      firstMonth,
      lastMonth,
      fullYear: now.getUTCFullYear() - 1,
      byStatus: Object.fromEntries(counts.map((row) => [row.status, row.n])),
      seconds,
    }
  } finally {
    await db.close()
    rmSync(dir, { recursive: true, force: true })
  }
}

if (import.meta.main) {
  const url = process.argv[2]
  if (!url) {
    console.error("usage: bun bench/seed-scale.ts <DATABASE_URL>   (SCALE_ACTIVITIES=200000 for a quick look)")
    process.exit(2)
  }
  await seedScale(url)
}
