import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import type { SQL } from "bun"
import { publishedDecimal } from "@scopeline/catalogue/EmissionFactor"
import { readCatalogue } from "@scopeline/catalogue/readCatalogue"
import { csrfTokenFor } from "@scopeline/ui/session"
import { Effect } from "effect"
import { copyFileSync } from "node:fs"
import { dirname, join, resolve } from "node:path"
import { apiClient, type ApiClient } from "../support/api.ts"
import { FIXTURE_FILE, REMOVED, scaled, UNIT_CHANGED, writeDesnzFixture } from "../support/desnzFixture.ts"
import { insertActivities, insertUpload, testSql } from "../support/factories.ts"
import { seedDemo } from "../support/seed.ts"
import { startServer, type TestServer } from "../support/server.ts"
import { startWorker, type TestWorker } from "../support/worker.ts"

/**
 * Factor sets and restatement against the real catalogue (DESNZ 2023 and Ember, loaded by the server)
 * and the DESNZ 2024 TEST FIXTURE (test/support/desnzFixture.ts: the 2023 file × 1.1, a few rows
 * dropped, one unit changed), through the API and the real worker.
 */
const root = resolve(import.meta.dir, "../..")

let server: TestServer
let worker: TestWorker
let sql: SQL
let accountant: ApiClient
let viewer: ApiClient
let fixture: string

interface RecalculationBody {
  readonly recalculation: {
    readonly id: string
    readonly status: string
    readonly preview: boolean
    readonly progress: { readonly phase: string; readonly activities_in_scope: number | null; readonly activities_processed: number }
    readonly error: string | null
    readonly restatement: {
      readonly counts: { readonly [count: string]: number | Record<string, number>; readonly unmapped_by_reason: Record<string, number> }
      readonly totals: {
        readonly total: Amounts
        readonly by_scope: ReadonlyArray<Amounts & { readonly scope: number | null }>
        readonly by_scope3_category: ReadonlyArray<Amounts & { readonly category: number }>
      }
    } | null
    readonly unmapped: {
      readonly total: number
      readonly activities: ReadonlyArray<{ readonly id: string; readonly description: string; readonly factor_ref: string; readonly reason: string; readonly message: string }>
    }
  }
}
interface Amounts {
  readonly before_kg_co2e: string
  readonly after_kg_co2e: string
  readonly change_kg_co2e: string
}

/** The factor row of `ref` as stored. */
const factor = async (ref: string) => {
  const [row] = (await sql`
    SELECT id::text AS id, factor_value::text AS value, co2_factor::text AS co2, ch4_factor::text AS ch4, n2o_factor::text AS n2o, unit
    FROM emission_factors WHERE ref = ${ref}`) as Array<{ id: string; value: string; co2: string | null; ch4: string | null; n2o: string | null; unit: string }>
  if (!row) throw new Error(`no factor ${ref}`)
  return row
}

/** Exact decimal product of decimal strings (BigInt digits), for checking numbers by hand. */
const times = (...values: ReadonlyArray<string>): string => {
  let digits = 1n
  let scale = 0
  for (const value of values) {
    const [whole, fraction = ""] = value.split(".")
    digits *= BigInt(`${whole}${fraction}`)
    scale += fraction.length
  }
  const text = digits.toString().padStart(scale + 1, "0")
  return scale === 0 ? text : `${text.slice(0, -scale)}.${text.slice(-scale)}`
}

/** Whether two decimals are the same number (NUMERIC compares them exactly). */
const same = async (a: string | null, b: string | null) => {
  if (a === null || b === null) return a === b
  const [row] = (await sql`SELECT ${a}::numeric = ${b}::numeric AS equal`) as Array<{ equal: boolean }>
  return row!.equal
}

const waitFor = async (id: string, as: ApiClient = accountant): Promise<RecalculationBody["recalculation"]> => {
  const deadline = Date.now() + 30_000
  while (Date.now() < deadline) {
    const body = (await (await as.get(`/v1/recalculations/${id}`)).json()) as RecalculationBody
    if (body.recalculation.status === "done" || body.recalculation.status === "failed") return body.recalculation
    await Bun.sleep(100)
  }
  throw new Error(`recalculation ${id} did not finish`)
}

const start = async (body: unknown, as: ApiClient = accountant) => {
  const response = await as.post("/v1/recalculations", body)
  expect(response.status).toBe(202)
  const { recalculation } = (await response.json()) as { recalculation: { id: string; status: string; url: string } }
  expect(recalculation.status).toBe("queued")
  expect(recalculation.url).toBe(`/v1/recalculations/${recalculation.id}`)
  return recalculation.id
}

const activities = async (uploadId: string) =>
  (await sql`
    SELECT a.id::text AS id, a.raw_description AS description, a.status::text AS status, f.ref, a.emissions::text AS emissions,
           a.emissions_co2::text AS co2, a.emissions_ch4::text AS ch4, a.emissions_n2o::text AS n2o, a.emissions_other::text AS other
    FROM activities a LEFT JOIN emission_factors f ON f.id = a.matched_factor_id
    WHERE a.upload_id = ${uploadId} ORDER BY a.row_number`) as Array<{
    id: string
    description: string
    status: string
    ref: string | null
    emissions: string | null
    co2: string | null
    ch4: string | null
    n2o: string | null
    other: string | null
  }>

const loadFile = async (path: string) => {
  const run = Bun.spawn(["bun", "scripts/catalogue-load.ts", path], {
    cwd: root,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", DATABASE_URL: server.databaseUrl, LOG_LEVEL: "Error" },
    stdout: "pipe",
    stderr: "pipe",
  })
  const [out, err, code] = await Promise.all([new Response(run.stdout).text(), new Response(run.stderr).text(), run.exited])
  return { out, err, code }
}

/** Prices an upload's activities as the match job would (same SQL shape): quantity × ratio × factor. */
const price = async (uploadId: string, ratios: Record<string, string> = {}) => {
  for (const [rawUnit, ratio] of [["", "1"], ...Object.entries(ratios)] as const) {
    await sql`
      UPDATE activities a SET status = 'calculated', emissions_unit = 'kg CO2e', match_source = 'ai', factor_confidence = 0.9,
        emissions = a.raw_volume * ${ratio}::numeric * f.factor_value, emissions_co2 = a.raw_volume * ${ratio}::numeric * f.co2_factor,
        emissions_ch4 = a.raw_volume * ${ratio}::numeric * f.ch4_factor, emissions_n2o = a.raw_volume * ${ratio}::numeric * f.n2o_factor
      FROM emission_factors f
      WHERE a.upload_id = ${uploadId} AND f.id = a.matched_factor_id
        AND ${rawUnit === "" ? sql`NOT (a.raw_unit = ANY(${Object.keys(ratios)}::text[]))` : sql`a.raw_unit = ${rawUnit}`}`
  }
}

let uploadA: string
let uploadB: string
let preview: RecalculationBody["recalculation"]
let before2023: string

beforeAll(async () => {
  server = await startServer({ LOAD_CATALOGUE: "true" })
  await seedDemo(server.databaseUrl)
  worker = await startWorker(server.settings)
  sql = testSql(server.databaseUrl)
  accountant = await apiClient(server.url, "accountant@demo.scopeline.dev")
  viewer = await apiClient(server.url, "viewer@demo.scopeline.dev")
  fixture = writeDesnzFixture()

  const ref = async (r: string) => (await factor(r)).id
  uploadA = await insertUpload(sql, "accountant@demo.scopeline.dev", { filename: "a.csv", createdAt: "2026-01-01T00:00:00Z" })
  await insertActivities(sql, uploadA, [
    { description: "Diesel for the vans", quantity: "100", unit: "litres", date: "2024-01-05", factorId: await ref("DESNZ:2023:1_101_1011_8_1") },
    { description: "Diesel, bulk tank", quantity: "2", unit: "m3", date: "2024-01-06", factorId: await ref("DESNZ:2023:1_101_1011_8_1") },
    { description: "Petrol for the pool car", quantity: "50", unit: "litres", date: "2024-01-07", factorId: await ref("DESNZ:2023:1_101_1017_8_1") },
    { description: "Gas boiler", quantity: "1000", unit: "kWh", date: "2024-01-08", factorId: await ref("DESNZ:2023:1_100_1004_7_1") },
    { description: "Office electricity", quantity: "500", unit: "kWh", date: "2024-01-09", factorId: await ref("DESNZ:2023:7_400_4000_5_1") },
    // Ember's row for Afghanistan is of 2023: another source, and another year than the target's.
    { description: "Kabul office electricity", quantity: "300", unit: "kWh", date: "2024-01-10", factorId: await ref("Ember:2023:AFG") },
    { description: "Hotel, Manchester", quantity: "3", unit: "Room per night", date: "2024-01-11", factorId: await ref("DESNZ:2023:29_600_4000_13_1") },
    { description: "Hotel, London", quantity: "2", unit: "Room per night", date: "2024-01-12", factorId: await ref("DESNZ:2023:29_600_4001_13_1") },
    { description: "Unreadable", quantity: "1", unit: "litres", date: "2024-01-13", status: "failed", failureReason: "no match" },
  ])
  await price(uploadA, { m3: "1000" })
  uploadB = await insertUpload(sql, "accountant@demo.scopeline.dev", { filename: "b.csv", createdAt: "2026-01-02T00:00:00Z" })
  await insertActivities(sql, uploadB, [
    { description: "Diesel, depot", quantity: "10", unit: "litres", date: "2024-02-01", factorId: await ref("DESNZ:2023:1_101_1011_8_1") },
  ])
  await price(uploadB)
  const [row] = (await sql`
    SELECT md5(string_agg(ref || factor_value::text || coalesce(co2_factor::text, '') || coalesce(ch4_factor::text, '') ||
                          coalesce(n2o_factor::text, '') || updated_at::text, ',' ORDER BY ref)) AS hash
    FROM emission_factors WHERE factor_set = 'DESNZ:2023'`) as Array<{ hash: string }>
  before2023 = row!.hash
}, 120_000)
afterAll(async () => {
  await worker?.stop()
  await sql?.close()
  await server?.stop()
})

describe("factor sets", () => {
  test("loading the DESNZ 2024 fixture adds a set beside 2023 without changing 2023's factors", async () => {
    const load = await loadFile(fixture)
    expect(load.err).toBe("")
    expect(load.code).toBe(0)
    expect(load.out).toContain("2585 factors of DESNZ:2024: 2585 new")
    const [after] = (await sql`
      SELECT md5(string_agg(ref || factor_value::text || coalesce(co2_factor::text, '') || coalesce(ch4_factor::text, '') ||
                            coalesce(n2o_factor::text, '') || updated_at::text, ',' ORDER BY ref)) AS hash
      FROM emission_factors WHERE factor_set = 'DESNZ:2023'`) as Array<{ hash: string }>
    expect(after!.hash).toBe(before2023)
    // The same file again changes nothing.
    expect((await loadFile(fixture)).out).toContain("0 new, 0 updated, 2585 unchanged")

    const { factor_sets } = (await (await viewer.get("/v1/factor-sets")).json()) as {
      factor_sets: Array<{ id: string; year: number; factor_count: number; current: boolean; source_files: Array<string>; publication: string }>
    }
    const byId = new Map(factor_sets.map((set) => [set.id, set]))
    expect(byId.get("DESNZ:2024")).toMatchObject({ year: 2024, factor_count: 2585, current: true, source_files: [FIXTURE_FILE] })
    expect(byId.get("DESNZ:2023")).toMatchObject({ year: 2023, factor_count: 2587, current: false, source_files: ["desnz_ghg_conversion_factors_2023_flat.csv"] })
    // Ember's one file has each country's latest year: all of its years are current together.
    for (const id of ["Ember:2022", "Ember:2023", "Ember:2024"]) expect(byId.get(id)?.current).toBe(true)
  }, 60_000)

  test("the fixture's values are 2023's × 1.1 by source row id, with its rows removed and its unit changed", async () => {
    const old = await factor("DESNZ:2023:1_101_1011_8_1")
    const next = await factor("DESNZ:2024:1_101_1011_8_1")
    expect(next.value).toBe(publishedDecimal(scaled(old.value))!)
    expect(Math.abs(Number(next.value) / Number(old.value) - 1.1)).toBeLessThan(1e-12)
    for (const row of REMOVED) expect(await sql`SELECT 1 FROM emission_factors WHERE ref = ${`DESNZ:2024:${row}_1`}`).toHaveLength(0)
    for (const row of UNIT_CHANGED) expect((await factor(`DESNZ:2024:${row}_1`)).unit).toBe("kWh (Gross CV)")
  })

  test("a second DESNZ set does not make the catalogue or the matcher ambiguous", async () => {
    // Search shows the current sets only, unless asked for one.
    const search = async (query: string) =>
      ((await (await viewer.get(`/v1/emission-factors?${query}`)).json()) as { total: number; emission_factors: Array<{ ref: string; provenance: { factor_set: string } }> })
    const current = await search("q=diesel%20average%20biofuel&unit=litres&limit=500")
    expect(current.total).toBeGreaterThan(0)
    expect(new Set(current.emission_factors.map((f) => f.provenance.factor_set))).toEqual(new Set(["DESNZ:2024"]))
    const old = await search("q=diesel%20average%20biofuel&unit=litres&limit=500&factor_set=DESNZ:2023")
    expect(old.total).toBe(current.total)
    expect(new Set(old.emission_factors.map((f) => f.provenance.factor_set))).toEqual(new Set(["DESNZ:2023"]))
    // Ember rows of every year stay searchable (one file, each country's latest year).
    expect((await search("geography=AF&q=electricity")).emission_factors.map((f) => f.ref)).toContain("Ember:2023:AFG")
    // The reference matcher ranks the files in data/factors, not the database: one DESNZ set.
    const ranked = await Effect.runPromise(readCatalogue())
    expect(new Set(ranked.filter((f) => f.source === "DESNZ").map((f) => f.year))).toEqual(new Set([2023]))
  })

  test("a set is never overwritten by another file: the fixture under another name is refused and changes nothing", async () => {
    const copy = join(dirname(fixture), "desnz-2024-fixture-copy.csv")
    copyFileSync(fixture, copy)
    const [before] = (await sql`SELECT count(*)::int AS n, max(updated_at) AS at FROM emission_factors`) as Array<{ n: number; at: Date }>
    const load = await loadFile(copy)
    expect(load.code).toBe(1)
    expect(load.err).toContain("DESNZ:2024 (from desnz-2024-fixture.csv) is already in the catalogue from another file")
    const [after] = (await sql`SELECT count(*)::int AS n, max(updated_at) AS at FROM emission_factors`) as Array<{ n: number; at: Date }>
    expect(after).toEqual(before!)
  }, 60_000)

  test("a DESNZ file whose header names no year is refused, naming what is missing", async () => {
    const path = join(dirname(fixture), "not-a-year.csv")
    await Bun.write(path, "ID,Scope,Level 1,Level 2,Level 3,Level 4,Column Text,UOM,GHG/Unit,GHG Conversion Factor\n1_1_1_1_1,Scope 1,A,,,,,litres,kg CO2e,1\n")
    const load = await loadFile(path)
    expect(load.code).toBe(1)
    expect(load.err).toContain("not a factor file Scopeline reads")
    // Two years in one header name no one set.
    const two = join(dirname(fixture), "two-years.csv")
    await Bun.write(two, "ID,Scope,Level 1,Level 2,Level 3,Level 4,Column Text,UOM,GHG/Unit,GHG Conversion Factor 2023,GHG Conversion Factor 2024\n1_1_1_1_1,Scope 1,A,,,,,litres,kg CO2e,1,2\n")
    const both = await loadFile(two)
    expect(both.code).toBe(1)
    expect(both.err).toContain('the header has 2 "GHG Conversion Factor YYYY" columns')
  }, 60_000)
})

describe("recalculation", () => {
  test("a preview reports the restatement and changes no activity, history or event", async () => {
    const snapshot = async () => ({
      a: await activities(uploadA),
      b: await activities(uploadB),
      history: ((await sql`SELECT count(*)::int AS n FROM activity_history`) as Array<{ n: number }>)[0]!.n,
      events: ((await sql`SELECT count(*)::int AS n FROM audit_events WHERE action = 'recalculation_applied'`) as Array<{ n: number }>)[0]!.n,
    })
    const before = await snapshot()
    const id = await start({ factor_set: "DESNZ:2024", upload_id: uploadA, preview: true })
    preview = await waitFor(id)
    expect(preview).toMatchObject({ status: "done", preview: true, progress: { phase: "done", activities_in_scope: 7, activities_processed: 7 } })
    expect(preview.restatement!.counts).toMatchObject({ calculated: 8, in_scope: 7, changed: 4, unmapped: 3, other_sources: 1, already_on_set: 0 })
    expect(preview.unmapped.total).toBe(3)
    expect(await snapshot()).toEqual(before)
  })

  test("applied to one upload: maps by source row id, recomputes exactly, lists the unmapped, writes history and one event; other sources and uploads stay", async () => {
    const before = await activities(uploadA)
    const beforeB = await activities(uploadB)
    const id = await start({ factor_set: "DESNZ:2024", upload_id: uploadA })
    const done = await waitFor(id)
    expect(done.status).toBe("done")
    expect(done.preview).toBe(false)
    // The preview said exactly this.
    expect(done.restatement).toEqual(preview.restatement)
    expect(done.unmapped).toEqual(preview.unmapped)
    expect(done.restatement!.counts).toEqual({
      calculated: 8,
      in_scope: 7,
      changed: 4,
      emissions_changed: 4,
      already_on_set: 0,
      unmapped: 3,
      unmapped_by_reason: { not_in_set: 2, unit_changed: 1, unit_unknown: 0, too_large: 0 },
      other_sources: 1,
    })

    const after = await activities(uploadA)
    const row = (description: string) => after.find((a) => a.description === description)!
    // By hand: 100 litres × (litres → litres = 1) × the 2024 row's factor, and its gas parts the same way.
    const diesel = await factor("DESNZ:2024:1_101_1011_8_1")
    expect(row("Diesel for the vans").ref).toBe("DESNZ:2024:1_101_1011_8_1")
    expect(await same(row("Diesel for the vans").emissions, times("100", diesel.value))).toBe(true)
    expect(await same(row("Diesel for the vans").co2, times("100", diesel.co2!))).toBe(true)
    expect(await same(row("Diesel for the vans").ch4, times("100", diesel.ch4!))).toBe(true)
    expect(await same(row("Diesel for the vans").n2o, times("100", diesel.n2o!))).toBe(true)
    // 2 m3 × (m3 → litres = 1000) × the factor.
    expect(row("Diesel, bulk tank").ref).toBe("DESNZ:2024:1_101_1011_8_1")
    expect(await same(row("Diesel, bulk tank").emissions, times("2", "1000", diesel.value))).toBe(true)
    const electricity = await factor("DESNZ:2024:7_400_4000_5_1")
    expect(await same(row("Office electricity").emissions, times("500", electricity.value))).toBe(true)
    const london = await factor("DESNZ:2024:29_600_4001_13_1")
    expect(await same(row("Hotel, London").emissions, times("2", london.value))).toBe(true)
    // Not mapped: unchanged, and listed with the reason.
    for (const stays of ["Petrol for the pool car", "Gas boiler", "Hotel, Manchester", "Kabul office electricity", "Unreadable"]) {
      expect(row(stays)).toEqual(before.find((a) => a.description === stays)!)
    }
    expect(done.unmapped.activities.map((a) => [a.description, a.factor_ref, a.reason])).toEqual([
      ["Petrol for the pool car", "DESNZ:2023:1_101_1017_8_1", "not_in_set"],
      ["Gas boiler", "DESNZ:2023:1_100_1004_7_1", "unit_changed"],
      ["Hotel, Manchester", "DESNZ:2023:29_600_4000_13_1", "not_in_set"],
    ])
    expect(done.unmapped.activities[1]!.message).toContain("per kWh (Gross CV), not per kWh (Net CV)")
    expect(row("Kabul office electricity").ref).toBe("Ember:2023:AFG")
    // The other upload is out of this one's scope.
    expect(await activities(uploadB)).toEqual(beforeB)

    // One history row per activity moved, naming the recalculation, from and to.
    const history = (await sql`
      SELECT h.activity_id::text AS activity_id, h.source, ff.ref AS from_ref, tf.ref AS to_ref, h.from_kg_co2e::text AS from_kg,
             h.to_kg_co2e::text AS to_kg, h.changed_by::text AS changed_by
      FROM activity_history h JOIN emission_factors ff ON ff.id = h.from_factor_id JOIN emission_factors tf ON tf.id = h.to_factor_id
      WHERE h.recalculation_id = ${id}::uuid ORDER BY h.id`) as Array<Record<string, string>>
    expect(history).toHaveLength(4)
    for (const entry of history) {
      const was = before.find((a) => a.id === entry.activity_id)!
      const is = after.find((a) => a.id === entry.activity_id)!
      expect(entry).toMatchObject({ source: "recalculation", from_ref: was.ref, to_ref: is.ref, from_kg: was.emissions, to_kg: is.emissions })
    }
    const [accountantId] = (await sql`SELECT id::text AS id FROM users WHERE email = 'accountant@demo.scopeline.dev'`) as Array<{ id: string }>
    expect(history.every((entry) => entry.changed_by === accountantId!.id)).toBe(true)

    // One business event.
    const events = (await sql`
      SELECT category, actor_user_id::text AS actor, details::text AS details FROM audit_events
      WHERE action = 'recalculation_applied' AND object_id = ${id}`) as Array<{ category: string; actor: string; details: string }>
    expect(events).toHaveLength(1)
    expect(events[0]).toMatchObject({ category: "business", actor: accountantId!.id })
    expect(JSON.parse(events[0]!.details)).toMatchObject({ factor_set: "DESNZ:2024", upload_id: uploadA, changed: 4, unmapped: 3, other_sources: 1 })

    // The restatement's totals are the activities' sums before and after, exactly, by scope and category.
    const sums = async (scope: number | null, category: number | null) => {
      const rows = (await sql`
        SELECT trim_scale(coalesce(sum(a.emissions), 0))::text AS kg FROM activities a JOIN emission_factors f ON f.id = a.matched_factor_id
        WHERE a.upload_id = ${uploadA} AND a.status = 'calculated'
          AND (${scope}::int IS NULL OR f.ghg_scope = ${scope}::int) AND (${category}::int IS NULL OR f.scope3_category = ${category}::int)`) as Array<{ kg: string }>
      return rows[0]!.kg
    }
    const totals = done.restatement!.totals
    expect(totals.total.after_kg_co2e).toBe(await sums(null, null))
    const beforeTotal = (await sql`SELECT trim_scale(sum(e::numeric))::text AS kg FROM unnest(${before.filter((a) => a.status === "calculated").map((a) => a.emissions)}::text[]) AS e`) as Array<{ kg: string }>
    expect(totals.total.before_kg_co2e).toBe(beforeTotal[0]!.kg)
    const change = (await sql`SELECT trim_scale(${totals.total.after_kg_co2e}::numeric - ${totals.total.before_kg_co2e}::numeric)::text AS kg`) as Array<{ kg: string }>
    expect(totals.total.change_kg_co2e).toBe(change[0]!.kg)
    expect(Number(totals.total.change_kg_co2e)).toBeGreaterThan(0)
    expect(totals.by_scope.map((s) => s.scope)).toEqual([1, 2, 3])
    for (const s of totals.by_scope) expect(s.after_kg_co2e).toBe(await sums(s.scope, null))
    expect(totals.by_scope3_category.map((c) => c.category)).toEqual([6])
    expect(totals.by_scope3_category[0]!.after_kg_co2e).toBe(await sums(3, 6))
    // Scope 2 moved only on its DESNZ row: the Ember row (other source) is in the totals, unchanged.
    const scope2 = totals.by_scope.find((s) => s.scope === 2)!
    const ember = before.find((a) => a.description === "Kabul office electricity")!
    const office = before.find((a) => a.description === "Office electricity")!
    const expected = (await sql`SELECT trim_scale(${ember.emissions}::numeric + ${office.emissions}::numeric)::text AS kg`) as Array<{ kg: string }>
    expect(scope2.before_kg_co2e).toBe(expected[0]!.kg)
  })

  test("the restatement, its history and its event commit together: when the event cannot be written, nothing changes", async () => {
    const before = await activities(uploadB)
    await sql`ALTER TABLE audit_events ADD CONSTRAINT refuse_recalculations CHECK (action <> 'recalculation_applied') NOT VALID`
    let id: string
    try {
      id = await start({ factor_set: "DESNZ:2024", upload_id: uploadB })
      const failed = await waitFor(id)
      expect(failed.status).toBe("failed")
      expect(failed.error).toContain("nothing was changed")
      expect(failed.restatement).toBeNull()
    } finally {
      await sql`ALTER TABLE audit_events DROP CONSTRAINT refuse_recalculations`
    }
    expect(await activities(uploadB)).toEqual(before)
    expect(await sql`SELECT 1 FROM activity_history WHERE recalculation_id = ${id}::uuid`).toHaveLength(0)
    expect(await sql`SELECT 1 FROM recalculation_unmapped WHERE recalculation_id = ${id}::uuid`).toHaveLength(0)
    // Started again, it applies.
    const again = await waitFor(await start({ factor_set: "DESNZ:2024", upload_id: uploadB }))
    expect(again.status).toBe("done")
    expect(again.restatement!.counts.changed).toBe(1)
    expect((await activities(uploadB))[0]!.ref).toBe("DESNZ:2024:1_101_1011_8_1")
  })

  test("without upload_id every upload is in scope; activities already on the set are counted, not moved again", async () => {
    const historyBefore = ((await sql`SELECT count(*)::int AS n FROM activity_history`) as Array<{ n: number }>)[0]!.n
    const done = await waitFor(await start({ factor_set: "DESNZ:2024" }))
    expect(done.restatement!.counts).toMatchObject({ calculated: 9, in_scope: 8, already_on_set: 5, changed: 0, unmapped: 3, other_sources: 1 })
    expect(((await sql`SELECT count(*)::int AS n FROM activity_history`) as Array<{ n: number }>)[0]!.n).toBe(historyBefore)
    expect(done.restatement!.totals.total.change_kg_co2e).toBe("0")
  })

  test("restating back on DESNZ:2023 returns every moved activity to its 2023 row and emissions", async () => {
    const done = await waitFor(await start({ factor_set: "DESNZ:2023", upload_id: uploadB }))
    expect(done.restatement!.counts).toMatchObject({ changed: 1, unmapped: 0 })
    const [diesel] = await activities(uploadB)
    expect(diesel!.ref).toBe("DESNZ:2023:1_101_1011_8_1")
    expect(await same(diesel!.emissions, times("10", (await factor("DESNZ:2023:1_101_1011_8_1")).value))).toBe(true)
  })

  test("the list shows them newest first, with their counts", async () => {
    const list = (await (await viewer.get("/v1/recalculations?limit=2")).json()) as {
      total: number
      recalculations: Array<{ factor_set: string; status: string; counts: { changed: number } | null }>
    }
    expect(list.total).toBe(6)
    expect(list.recalculations.map((r) => r.factor_set)).toEqual(["DESNZ:2023", "DESNZ:2024"])
  })
})

describe("who may, and what is refused", () => {
  test("a viewer may read recalculations but not start one (403)", async () => {
    const refused = await viewer.post("/v1/recalculations", { factor_set: "DESNZ:2024", preview: true })
    expect(refused.status).toBe(403)
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe("forbidden")
    expect((await viewer.get("/v1/recalculations")).status).toBe(200)
  })

  test("an unknown factor set is a 400 naming the known ones; a malformed body is a 400", async () => {
    const unknown = await accountant.post("/v1/recalculations", { factor_set: "DESNZ:2031" })
    expect(unknown.status).toBe(400)
    const body = (await unknown.json()) as { error: { code: string; details: { known: Array<string> } } }
    expect(body.error.code).toBe("unknown_factor_set")
    expect(body.error.details.known).toEqual(expect.arrayContaining(["DESNZ:2023", "DESNZ:2024"]))
    for (const bad of [{ factor_set: "DESNZ-2024" }, {}, { factor_set: "DESNZ:2024", preview: "yes" }, { factor_set: "DESNZ:2024", upload_id: "abc" }]) {
      const response = await accountant.post("/v1/recalculations", bad)
      expect(response.status).toBe(400)
      const error = ((await response.json()) as { error: { code: string; details: Array<{ message: string }> } }).error
      expect(error.code).toBe("bad_request")
      // A field's description (for the API's documentation) is not its failure message.
      expect(JSON.stringify(error.details)).not.toMatch(/only this upload|the target set/)
    }
    const notJson = await fetch(`${server.url}/v1/recalculations`, { method: "POST", headers: { authorization: `Bearer ${accountant.jwt}` }, body: "{" })
    expect(notJson.status).toBe(400)
  })

  test("an unknown upload, or an unknown or malformed recalculation id, is a 404", async () => {
    const upload = await accountant.post("/v1/recalculations", { factor_set: "DESNZ:2024", upload_id: crypto.randomUUID() })
    expect(upload.status).toBe(404)
    expect(((await upload.json()) as { error: { code: string } }).error.code).toBe("not_found")
    for (const id of [crypto.randomUUID(), "not-an-id"]) {
      const response = await accountant.get(`/v1/recalculations/${id}`)
      expect(response.status).toBe(404)
      expect(((await response.json()) as { error: { code: string } }).error.code).toBe("not_found")
    }
  })
})

describe("pages", () => {
  // One token per session, in the cookie and echoed in the header, as the pages' script sends it.
  const tokens = new Map<string, string>()
  const tokenOf = (jwt: string) => tokens.get(jwt) ?? tokens.set(jwt, csrfTokenFor(jwt)).get(jwt)!
  const cookie = (jwt: string) => `scopeline_session=${jwt}; scopeline_csrf=${tokenOf(jwt)}`

  test("the list (linked from the catalogue) starts one from its form, and its page shows the restatement and what was not mapped", async () => {
    const catalogue = await (await fetch(`${server.url}/catalogue`, { headers: { cookie: cookie(accountant.jwt) } })).text()
    expect(catalogue).toContain('href="/recalculations"')
    expect(catalogue).toContain("DESNZ:2024")
    const list = await fetch(`${server.url}/recalculations`, { headers: { cookie: cookie(accountant.jwt) } })
    expect(list.status).toBe(200)
    expect(await list.text()).toContain('id="recalculation-form"')
    const form = new URLSearchParams({ factor_set: "DESNZ:2024", upload_id: uploadA, preview: "true" })
    const posted = await fetch(`${server.url}/recalculations`, {
      method: "POST",
      redirect: "manual",
      headers: { cookie: cookie(accountant.jwt), "x-csrf-token": tokenOf(accountant.jwt), "content-type": "application/x-www-form-urlencoded" },
      body: form,
    })
    expect(posted.status).toBe(303)
    const location = posted.headers.get("location")!
    await waitFor(location.split("/").pop()!)
    const page = await (await fetch(`${server.url}${location}`, { headers: { cookie: cookie(accountant.jwt) } })).text()
    expect(page).toContain("Preview of a recalculation on DESNZ:2024")
    expect(page).toContain('id="restatement-by-scope"')
    expect(page).toContain("Petrol for the pool car")
    expect(page).toContain("DESNZ:2024 has no row 1_101_1017_8_1")
    // A viewer sees the list without the form.
    const viewed = await (await fetch(`${server.url}/recalculations`, { headers: { cookie: cookie(viewer.jwt) } })).text()
    expect(viewed).not.toContain('id="recalculation-form"')
  })

  test("an unknown factor set in the form is shown on the page with the form", async () => {
    const posted = await fetch(`${server.url}/recalculations`, {
      method: "POST",
      redirect: "manual",
      headers: { cookie: cookie(accountant.jwt), "x-csrf-token": tokenOf(accountant.jwt), "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ factor_set: "DESNZ:2031" }),
    })
    expect(posted.status).toBe(400)
    expect(await posted.text()).toContain("The catalogue has no factor set DESNZ:2031.")
  })

  test("a preview field that is neither true nor false is refused, never taken for apply", async () => {
    const [before] = await sql`SELECT count(*)::int AS n FROM recalculations`
    const posted = await fetch(`${server.url}/recalculations`, {
      method: "POST",
      redirect: "manual",
      headers: { cookie: cookie(accountant.jwt), "x-csrf-token": tokenOf(accountant.jwt), "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ factor_set: "DESNZ:2024", preview: "maybe" }),
    })
    expect(posted.status).toBe(400)
    const [after] = await sql`SELECT count(*)::int AS n FROM recalculations`
    expect(after.n).toBe(before.n)
  })
})

describe("CATALOGUE_FILES", () => {
  test("a server started with CATALOGUE_FILES loads the file beside data/factors", async () => {
    const other = await startServer({ LOAD_CATALOGUE: "true", CATALOGUE_FILES: fixture })
    try {
      await seedDemo(other.databaseUrl)
      const client = await apiClient(other.url, "viewer@demo.scopeline.dev")
      const { factor_sets } = (await (await client.get("/v1/factor-sets")).json()) as { factor_sets: Array<{ id: string; factor_count: number }> }
      expect(factor_sets.map((set) => set.id)).toEqual(["DESNZ:2024", "DESNZ:2023", "Ember:2024", "Ember:2023", "Ember:2022"])
    } finally {
      await other.stop()
    }
  }, 60_000)
})
