import { EmissionsRepo } from "@scopeline/activities/EmissionsRepo"
import { SqlClient } from "@effect/sql"
import { UploadId } from "@scopeline/uploads/Upload"
import { AiMatcherClient } from "@scopeline/matching/AiMatcherClient"
import { afterEach, beforeAll, describe, expect, test } from "bun:test"
import { calculationOf } from "@scopeline/activities/Calculation"
import { Effect, Option } from "effect"
import { MatchUpload } from "@scopeline/matching/MatchUpload"
import { activitiesOf, catalogueDatabase, createUpload, jobFor, matchRuntime, theCatalogue, matcherStats, scenario, statusCounts, type ActivityInput, type Scenario } from "./support.ts"

const open: Array<Scenario> = []
const start = async (...args: Parameters<typeof scenario>) => {
  const s = await scenario(...args)
  open.push(s)
  return s
}
// The cluster, the catalogue template and the matcher's catalogue are built once, up front.
beforeAll(async () => {
  await Promise.all([catalogueDatabase(), theCatalogue()])
}, 120_000)
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.dispose()))
})

const ELECTRICITY_SG: ActivityInput = { description: "Store electricity - Tampines outlet", quantity: "1200", unit: "kWh", geography: "SG" }
const DIESEL: ActivityInput = { description: "Diesel for delivery vans", quantity: "40", unit: "litres", geography: "SG" }
const GAS: ActivityInput = { description: "Natural gas for boilers", quantity: "500", unit: "kWh", geography: "GB" }

const outlets = (n: number, quantity = "100"): Array<ActivityInput> =>
  Array.from({ length: n }, (_, i) => ({ description: `Store electricity - outlet ${i + 1}`, quantity, unit: "kWh", geography: "SG" }))

describe("matching an upload", () => {
  test("the first upload asks the matcher; a second upload with the same keys is priced from the cache with no call", async () => {
    const s = await start()
    const first = await s.run(createUpload([ELECTRICITY_SG, DIESEL, GAS]))
    await s.match(first)
    const firstRows = await s.run(activitiesOf(first))
    expect(firstRows.map((r) => [r.status, r.matchSource])).toEqual([
      ["calculated", "ai"],
      ["calculated", "ai"],
      ["calculated", "ai"],
    ])
    expect((await matcherStats(s.matcher)).requests).toBe(3)

    s.matcher.resetStats()
    const second = await s.run(createUpload([ELECTRICITY_SG, { ...DIESEL, description: "  DIESEL for delivery vans! ", unit: "L" }, GAS]))
    await s.match(second)
    const secondRows = await s.run(activitiesOf(second))
    expect(secondRows.map((r) => [r.status, r.matchSource])).toEqual([
      ["calculated", "cache"],
      ["calculated", "cache"],
      ["calculated", "cache"],
    ])
    expect(secondRows.map((r) => r.emissions)).toEqual(firstRows.map((r) => r.emissions))
    expect((await matcherStats(s.matcher)).requests).toBe(0)
    const hits = await s.run(
      Effect.flatMap(SqlClient.SqlClient, (sql) => sql<{ total: string }>`SELECT sum(hits)::text AS total FROM match_cache`),
    )
    expect(hits[0]!.total).toBe("3")
  }, 30_000)

  test("cache hits make no matcher call from a fresh worker either: the cache, not the client's in-memory answers, prices them", async () => {
    const s = await start()
    const first = await s.run(createUpload([ELECTRICITY_SG, DIESEL, GAS]))
    await s.match(first)
    expect((await matcherStats(s.matcher)).requests).toBe(3)
    // A new runtime is a new worker process as far as the client is concerned: no answers in memory.
    const fresh = matchRuntime(s.databaseUrl, { MATCHER_URL: s.matcher.url })
    try {
      s.matcher.resetStats()
      const second = await fresh.runPromise(createUpload([ELECTRICITY_SG, DIESEL, GAS]))
      await fresh.runPromise(Effect.flatMap(MatchUpload, (m) => m.run(jobFor(second))))
      expect(await fresh.runPromise(statusCounts(second))).toEqual({ calculated: 3 })
      expect((await fresh.runPromise(activitiesOf(second))).map((r) => r.matchSource)).toEqual(["cache", "cache", "cache"])
      expect((await matcherStats(s.matcher)).requests).toBe(0)
    } finally {
      await fresh.dispose()
    }
  }, 30_000)

  test("100 activities over 3 keys make exactly 3 matcher calls, even with a second upload of the same keys in flight", async () => {
    const s = await start({ latencyMs: 50 })
    const rows = Array.from({ length: 100 }, (_, i) => [ELECTRICITY_SG, DIESEL, GAS][i % 3]!)
    const [a, b] = await Promise.all([s.run(createUpload(rows)), s.run(createUpload(rows))])
    await Promise.all([s.match(a), s.match(b)])
    expect((await matcherStats(s.matcher)).requests).toBe(3)
    expect(await s.run(statusCounts(a))).toEqual({ calculated: 100 })
    expect(await s.run(statusCounts(b))).toEqual({ calculated: 100 })
  }, 30_000)

  test("never more than 10 requests are in flight: 50 distinct keys at 100 ms latency need no 429", async () => {
    const s = await start({ latencyMs: 100, concurrency: 10 }, { MATCHER_CONCURRENCY: "10" })
    const upload = await s.run(createUpload(outlets(50)))
    const started = performance.now()
    await s.match(upload)
    const elapsed = performance.now() - started
    const stats = await matcherStats(s.matcher)
    expect(stats.inFlightMax).toBeLessThanOrEqual(10)
    expect(stats.inFlightMax).toBeGreaterThanOrEqual(8)
    // Every request was answered on its first try: a 429 would have shown up as an extra request.
    expect(stats.requests).toBe(50)
    expect(await s.run(statusCounts(upload))).toEqual({ calculated: 50 })
    // 50 keys / 10 in flight × 100 ms = 500 ms floor.
    expect(elapsed).toBeGreaterThanOrEqual(450)
  }, 30_000)

  test("memory stays flat in keys: a 3,000-key upload never has more keys waiting on the matcher than it takes at once", async () => {
    const s = await start({ latencyMs: 2 }, { MATCHER_CONCURRENCY: "10" })
    const upload = await s.run(createUpload(outlets(3_000, "7")))
    await s.match(upload)
    expect(await s.run(statusCounts(upload))).toEqual({ calculated: 3_000 })
    expect((await matcherStats(s.matcher)).requests).toBe(3_000)
    // Each waiting key holds a fiber and its request; the job asks for exactly as many as the
    // matcher takes, so what it holds does not grow with the upload.
    const pending = await s.run(Effect.flatMap(AiMatcherClient, (client) => client.pending))
    expect(pending.now).toBe(0)
    expect(pending.max).toBeLessThanOrEqual(10)
  }, 60_000)

  test("in batches of 50, each key is asked once and at most MATCHER_CONCURRENCY requests are in flight, even across concurrent uploads", async () => {
    // The matcher would take 100 at once, so its in-flight count is the client's doing alone.
    const s = await start({ latencyMs: 20, concurrency: 100 }, { MATCHER_CONCURRENCY: "4", MATCHER_BATCH_SIZE: "50" })
    const alone = await s.run(createUpload(outlets(1_000)))
    await s.match(alone)
    expect(await s.run(statusCounts(alone))).toEqual({ calculated: 1_000 })
    const first = await matcherStats(s.matcher)
    // 1,000 keys in full batches of 50: every key in exactly one request, no request beyond the cap.
    expect(first).toEqual({ requests: 20, itemsMatched: 1_000, inFlightMax: first.inFlightMax })
    expect(first.inFlightMax).toBeLessThanOrEqual(4)
    expect(first.inFlightMax).toBeGreaterThanOrEqual(3)

    // Two uploads at once, 600 keys each, 300 of them shared: the shared ones are asked once (a batch
    // asks only for keys nobody is asking for yet), and the two jobs share the one limiter.
    s.matcher.resetStats()
    const site = (i: number): ActivityInput => ({ description: `Chiller electricity - site ${i}`, quantity: "7", unit: "kWh", geography: "SG" })
    const range = (from: number, n: number) => Array.from({ length: n }, (_, i) => site(from + i))
    const [a, b] = await Promise.all([s.run(createUpload(range(1, 600))), s.run(createUpload(range(301, 600).reverse()))])
    await Promise.all([s.match(a), s.match(b)])
    const both = await matcherStats(s.matcher)
    expect(both.itemsMatched).toBe(900)
    expect(both.inFlightMax).toBeLessThanOrEqual(4)
    expect(await s.run(statusCounts(a))).toEqual({ calculated: 600 })
    expect(await s.run(statusCounts(b))).toEqual({ calculated: 600 })
    // Keys waiting on the matcher: at most a batch per request in flight, per job.
    const pending = await s.run(Effect.flatMap(AiMatcherClient, (client) => client.pending))
    expect(pending.now).toBe(0)
    expect(pending.max).toBeLessThanOrEqual(2 * 4 * 50)
  }, 60_000)

  test("every activity is calculated although half the matcher's answers are injected 500s", async () => {
    const s = await start(
      { faultRate: 0.5 },
      // Each attempt fails with probability 0.5, so a key is lost only when all 25 fail (≈ 3e-8), and
      // capped waits keep even an unlucky key's retries short.
      { MATCHER_MAX_RETRIES: "24", MATCHER_RETRY_BASE_MS: "2", MATCHER_RETRY_MAX_MS: "20", MATCHER_BREAKER_THRESHOLD: "1000" },
    )
    const upload = await s.run(createUpload(outlets(30)))
    await s.match(upload)
    expect(await s.run(statusCounts(upload))).toEqual({ calculated: 30 })
    expect((await matcherStats(s.matcher)).requests).toBeGreaterThan(30)
  }, 30_000)

  test("429s with Retry-After and hung requests are retried until every activity is calculated", async () => {
    const s = await start(
      { rateLimitRate: 0.3, timeoutRate: 0.2, hangMs: 5_000 },
      // Half the attempts fail (429 or hang): 24 retries lose a key with probability ≈ 3e-8; waits stay
      // at most the 1 s Retry-After.
      { MATCHER_MAX_RETRIES: "24", MATCHER_RETRY_BASE_MS: "5", MATCHER_RETRY_MAX_MS: "1000", MATCHER_TIMEOUT_MS: "200", MATCHER_BREAKER_THRESHOLD: "1000" },
    )
    const upload = await s.run(createUpload(outlets(20)))
    await s.match(upload)
    expect(await s.run(statusCounts(upload))).toEqual({ calculated: 20 })
    expect((await matcherStats(s.matcher)).requests).toBeGreaterThan(20)
  }, 30_000)
})

describe("waits between attempts", () => {
  test("a Retry-After longer than MATCHER_RETRY_MAX_MS is waited only that long", async () => {
    // Every request is answered 429 with Retry-After: 1 (second): 8 retries would wait at least 8 s,
    // capped at 50 ms they wait 0.4 s; the rest of the job takes well under the margin between the two.
    const s = await start({ rateLimitRate: 1 }, { MATCHER_MAX_RETRIES: "8", MATCHER_RETRY_BASE_MS: "1", MATCHER_RETRY_MAX_MS: "50" })
    const upload = await s.run(createUpload(outlets(1)))
    const started = performance.now()
    await expect(s.match(upload)).rejects.toThrow(/got no answer/)
    expect(performance.now() - started).toBeLessThan(5_000)
    expect((await matcherStats(s.matcher)).requests).toBe(9)
  }, 30_000)

  test("a negative MATCHER_RETRY_MAX_MS is refused with its name", async () => {
    const s = await start({}, { MATCHER_RETRY_MAX_MS: "-1" })
    await expect(s.run(createUpload(outlets(1)))).rejects.toThrow(/MATCHER_RETRY_MAX_MS must be 0 or more/)
  }, 30_000)
})

describe("emissions", () => {
  test("1 MWh of Singapore electricity is 1000 × the Singapore kWh factor", async () => {
    const s = await start()
    const upload = await s.run(
      createUpload([
        { description: "Warehouse electricity", quantity: "1", unit: "kWh", geography: "SG" },
        { description: "Warehouse electricity", quantity: "1", unit: "MWh", geography: "SG" },
      ]),
    )
    await s.match(upload)
    const [kwh, mwh] = await s.run(activitiesOf(upload))
    expect(kwh!.factorRef).toBe("Ember:2024:SGP")
    expect(mwh!.factorRef).toBe("Ember:2024:SGP")
    expect(Number(kwh!.emissions)).toBe(Number(kwh!.factorValue))
    expect(Number(mwh!.emissions)).toBe(1000 * Number(kwh!.factorValue))
  }, 30_000)

  test("10 US gallons of diesel are 37.854 L × the litre factor", async () => {
    const s = await start()
    const upload = await s.run(
      createUpload([
        { description: "Diesel for delivery vans", quantity: "10", unit: "US gal" },
        { description: "Diesel for delivery vans", quantity: "1", unit: "litres" },
      ]),
    )
    await s.match(upload)
    const [gallons, litre] = await s.run(activitiesOf(upload))
    expect(gallons!.factorRef).toBe(litre!.factorRef)
    expect(Number(litre!.emissions)).toBe(Number(litre!.factorValue))
    expect(Number(gallons!.emissions)).toBeCloseTo(37.85411784 * Number(litre!.factorValue), 9)
  }, 30_000)

  test("the calculation an activity's page writes out multiplies out, exactly, to the emissions the pipeline stored", async () => {
    const s = await start()
    const upload = await s.run(
      createUpload([
        { description: "Warehouse electricity", quantity: "88.4", unit: "MWh", geography: "SG" },
        { description: "Warehouse electricity", quantity: "1200", unit: "kWh", geography: "SG" },
        { description: "Diesel for delivery vans", quantity: "10", unit: "US gal" },
        { description: "Diesel for delivery vans", quantity: "1.5", unit: "m3" },
        { description: "Diesel for delivery vans", quantity: "40", unit: "litres" },
      ]),
    )
    await s.match(upload)
    const rows = await s.run(
      Effect.flatMap(SqlClient.SqlClient, (sql) => sql<{ quantity: string; unit: string; emissions: string; status: string; factorUnit: string; perUnit: string; factorValue: string }>`
        SELECT a.raw_volume::text AS quantity, a.raw_unit AS unit, a.emissions::text AS emissions, a.status::text AS status,
               f.factor_unit, f.unit AS per_unit, f.factor_value::text AS factor_value
        FROM activities a JOIN emission_factors f ON f.id = a.matched_factor_id WHERE a.upload_id = ${upload} ORDER BY a.row_number`),
    )
    expect(rows.map((row) => row.status)).toEqual(["calculated", "calculated", "calculated", "calculated", "calculated"])
    // Exact decimal arithmetic on the digits the page shows: no float between the terms and the figure.
    type Decimal = { readonly n: bigint; readonly scale: number }
    const decimal = (text: string): Decimal => {
      const [whole = "", fraction = ""] = text.split(".")
      return { n: BigInt(`${whole}${fraction}`), scale: fraction.length }
    }
    const times = (a: Decimal, b: Decimal): Decimal => ({ n: a.n * b.n, scale: a.scale + b.scale })
    // The stored figure keeps the column's decimals (the product rounded half up to them).
    const roundedTo = (a: Decimal, scale: number): bigint => {
      if (a.scale <= scale) return a.n * 10n ** BigInt(scale - a.scale)
      const unit = 10n ** BigInt(a.scale - scale)
      return (a.n + unit / 2n) / unit
    }
    const conversions: Array<string | null> = []
    for (const row of rows) {
      const c = Option.getOrThrow(calculationOf(row, { unit: row.perUnit, factorValue: row.factorValue, factorUnit: row.factorUnit }))
      conversions.push(c.conversion?.ratio ?? null)
      const converted = c.conversion === null ? decimal(c.quantity) : times(decimal(c.quantity), decimal(c.conversion.ratio))
      const stored = decimal(c.emissionsKg)
      expect(roundedTo(times(converted, decimal(c.factorValue)), stored.scale)).toBe(stored.n)
    }
    expect(conversions).toEqual(["1000", null, "3.785411784", "1000", null])
  }, 30_000)

  test("a factor in another dimension fails the activity with the reason", async () => {
    const s = await start()
    // A manual override pointing a litres key at a per-kWh factor: the mistake must not be priced.
    await s.run(
      Effect.flatMap(SqlClient.SqlClient, (sql) => sql`
        INSERT INTO match_cache (key, description_normalised, unit, factor_id, confidence, source)
        SELECT 'heating oil for the depot|L', 'heating oil for the depot', 'L', id, 1, 'manual'
        FROM emission_factors WHERE ref = 'Ember:2024:SGP'`),
    )
    const upload = await s.run(createUpload([{ description: "Heating oil for the depot", quantity: "50", unit: "litres" }]))
    await s.match(upload)
    const [row] = await s.run(activitiesOf(upload))
    expect(row).toMatchObject({ status: "failed", failureKind: "unit_mismatch", emissions: null })
    expect(row!.failureReason).toBe("The matched factor is per kWh (energy) but the activity is in litres (volume).")
  }, 30_000)

  test("a description nothing matches fails with the matcher's reason", async () => {
    const s = await start()
    const upload = await s.run(createUpload([{ description: "Zqxv blorp", quantity: "3", unit: "litres" }]))
    await s.match(upload)
    const [row] = await s.run(activitiesOf(upload))
    expect(row).toMatchObject({ status: "failed", failureKind: "no_match" })
    expect(row!.failureReason).toStartWith("No emission factor matches 'Zqxv blorp' in litres: ")
  }, 30_000)

  test("totals add up calculated activities by scope, category and month", async () => {
    const s = await start()
    const upload = await s.run(
      createUpload([
        { ...ELECTRICITY_SG, date: "2024-01-10" },
        { ...ELECTRICITY_SG, date: "2024-02-10", category: "Stores" },
        { ...DIESEL, date: "2024-02-11" },
        { description: "Zqxv blorp", quantity: "3", unit: "litres", date: "2024-03-01" },
      ]),
    )
    await s.match(upload)
    const rows = await s.run(activitiesOf(upload))
    const sum = rows.filter((r) => r.status === "calculated").reduce((acc, r) => acc + Number(r.emissions), 0)
    const totals = await s.run(Effect.flatMap(EmissionsRepo, (repo) => repo.totals({ uploadId: UploadId.make(upload) })))
    expect(totals.activities).toBe(3)
    expect(totals.kgCo2e).toBeCloseTo(sum, 6)
    expect(totals.byMonth.map((b) => [b.label, b.activities])).toEqual([
      ["2024-01", 1],
      ["2024-02", 2],
    ])
    expect(totals.byCategory.find((b) => b.label === "Stores")?.activities).toBe(1)
    expect(totals.byCategory.reduce((acc, b) => acc + b.kgCo2e, 0)).toBeCloseTo(sum, 6)
    expect(totals.byScope.reduce((acc, b) => acc + b.kgCo2e, 0)).toBeCloseTo(sum, 6)
    expect(totals.byScope.every((b) => b.label !== null)).toBe(true)
  }, 30_000)
})
