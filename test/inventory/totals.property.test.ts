import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { migrate } from "@scopeline/sql/Migrator"
import type { SQL } from "bun"
import { Effect, Layer, ManagedRuntime } from "effect"
import fc from "fast-check"
import { configLayer, testSettings } from "../support/config.ts"
import { insertFactor, insertUpload, testSql } from "../support/factories.ts"
import { testDatabase } from "../support/postgres.ts"
import { seedDemo, sqlLayer } from "../support/seed.ts"
import { recount, recountReviewKeys, storedCells, storedReviewKeys } from "./totals.ts"

/**
 * The inventory's cells (migration 0052) are maintained by triggers on whatever statement changes
 * activities. Here random statements of every shape the product runs (multi-row inserts as the parse's
 * COPY, set-based updates as the match claim, pricing, decisions and restatements, site tagging, a
 * factor corrected by a reloaded publication, deletes) are applied straight to a migrated database,
 * and after each sequence the cells, and the review queue's keys (migration 0053), must equal a full
 * recount of the activities.
 */
let sql: SQL
let uploads: ReadonlyArray<string>
let factors: ReadonlyArray<string>
let sites: ReadonlyArray<string>

beforeAll(async () => {
  const url = await testDatabase()
  const runtime = ManagedRuntime.make(
    Layer.effectDiscard(migrate()).pipe(Layer.provideMerge(sqlLayer(url)), Layer.provide(configLayer(testSettings())), Layer.orDie),
  )
  await runtime.runPromise(Effect.void)
  await runtime.dispose()
  await seedDemo(url)
  sql = testSql(url)
  uploads = await Promise.all([0, 1, 2].map(() => insertUpload(sql, "accountant@demo.scopeline.dev")))
  factors = await Promise.all([
    insertFactor(sql, { name: "Diesel", unit: "litres", factorValue: "2.51", scope: "Scope 1", categoryPath: ["Fuels", "Liquid"] }),
    insertFactor(sql, { name: "Grid", unit: "kWh", factorValue: "0.207", scope: "Scope 2", categoryPath: ["UK electricity"] }),
    insertFactor(sql, { name: "Flight", unit: "passenger.km", factorValue: "0.15", scope: "Scope 3", categoryPath: ["Business travel- air"], scope3Category: 6 }),
    insertFactor(sql, { name: "Paper", unit: "kg", factorValue: "0.9", scope: "Scope 3", categoryPath: [] }),
    insertFactor(sql, { name: "Manual", unit: "kg", factorValue: "1", scope: null, categoryPath: ["Hand entered"] }),
  ])
  sites = (
    (await sql`
      INSERT INTO sites (code, name, country, limit_period) VALUES ('A', 'A', 'GB', 'month'), ('B', 'B', 'GB', 'year')
      RETURNING id::text AS id`) as Array<{ id: string }>
  ).map((row) => row.id)
}, 60_000)
afterAll(async () => {
  await sql?.close()
})

const decimal = fc
  .tuple(fc.integer({ min: -5_000_000, max: 50_000_000 }), fc.integer({ min: 0, max: 6 }))
  .map(([digits, scale]) => (digits / 10 ** scale).toFixed(scale))
const category = fc.constantFrom<string | null>(null, "", "  ", "Electricity", " Business travel ", "category 6", "Cat 4", "purchased goods", "Fuel\t")
const date = fc.constantFrom<string | null>(null, "2024-01-01", "2024-01-31", "2024-02-15", "2024-12-31", "2025-01-01")
const status = fc.constantFrom("ingested", "matching", "calculated", "failed")
const review = fc.constantFrom<string | null>(null, "needs_review", "auto_accepted", "reviewed")
const pick = <A,>(items: () => ReadonlyArray<A>) => fc.nat().map((n) => items()[n % items().length]!)
const nullable = <A,>(arbitrary: fc.Arbitrary<A>) => fc.option(arbitrary, { nil: null, freq: 3 })

const activity = fc.record({
  upload: pick(() => uploads),
  key: fc.constantFrom<string | null>(null, "diesel|l|gb", "grid|kwh|gb", "taxi|km|"),
  failure: fc.constantFrom<string | null>(null, "no_match", "unit_mismatch", "invalid"),
  status,
  factor: nullable(pick(() => factors)),
  emissions: nullable(decimal),
  co2: nullable(decimal),
  category,
  date,
  site: nullable(pick(() => sites)),
  review,
})

/** A predicate picking some of the activities, as a WHERE clause over a hashed id. */
const subset = fc.record({ modulo: fc.integer({ min: 1, max: 4 }), rest: fc.nat({ max: 3 }) })
const where = (s: { modulo: number; rest: number }) => `abs(hashtext(id::text)) % ${s.modulo} = ${s.rest % s.modulo}`

const command = fc.oneof(
  fc.record({ kind: fc.constant("insert" as const), rows: fc.array(activity, { minLength: 1, maxLength: 40 }) }),
  fc.record({
    kind: fc.constant("price" as const),
    subset,
    factor: pick(() => factors),
    ratio: fc.constantFrom("1", "0.001", "1.1", "-1"),
    review,
  }),
  fc.record({ kind: fc.constant("fail" as const), subset, failure: fc.constantFrom("no_match", "unit_mismatch", "matcher_unavailable") }),
  fc.record({ kind: fc.constant("claim" as const), subset }),
  fc.record({ kind: fc.constant("site" as const), subset, site: nullable(pick(() => sites)) }),
  fc.record({ kind: fc.constant("touch" as const), subset }),
  fc.record({ kind: fc.constant("delete" as const), subset }),
  fc.record({
    kind: fc.constant("factor" as const),
    factor: pick(() => factors),
    scope: fc.constantFrom<string | null>("Scope 1", "Scope 2", "Scope 3", null),
    path: fc.constantFrom<ReadonlyArray<string>>([], ["Fuels"], ["Business travel- land", "Taxis"]),
  }),
)
type Command = typeof command extends fc.Arbitrary<infer C> ? C : never

const run = async (c: Command) => {
  switch (c.kind) {
    case "insert": {
      const records = c.rows.map((r, i) => {
        const priced = r.status === "calculated" || r.status === "failed"
        const emissions = priced ? r.emissions : null
        return {
          upload_id: r.upload,
          row_number: Math.floor(Math.random() * 1e9) + i,
          status: r.status,
          matched_factor_id: priced ? r.factor : null,
          emissions,
          emissions_co2: emissions === null ? null : r.co2,
          category: r.category,
          activity_date: r.date,
          site_id: r.site,
          review_status: r.review,
          match_key: r.key,
          failure_kind: r.status === "failed" ? r.failure : null,
        }
      })
      await sql`
        INSERT INTO activities (upload_id, row_number, raw_description, status, matched_factor_id, emissions, emissions_co2,
          category, activity_date, site_id, review_status, match_key, failure_kind)
        SELECT r.upload_id, r.row_number, 'row', r.status::activity_status, r.matched_factor_id, r.emissions::numeric,
          r.emissions_co2::numeric, r.category, r.activity_date::date, r.site_id, r.review_status, r.match_key, r.failure_kind
        FROM jsonb_to_recordset(${JSON.stringify(records)}::text::jsonb) AS r(upload_id UUID, row_number INT, status TEXT,
          matched_factor_id UUID, emissions TEXT, emissions_co2 TEXT, category TEXT, activity_date TEXT, site_id UUID, review_status TEXT,
          match_key TEXT, failure_kind TEXT)`
      return
    }
    case "price":
      await sql.unsafe(
        `UPDATE activities SET status = 'calculated', matched_factor_id = $1, review_status = $2,
           emissions = coalesce(emissions, 10) * $3::numeric, emissions_co2 = coalesce(emissions, 10) * $3::numeric / 2
         WHERE ${where(c.subset)}`,
        [c.factor, c.review, c.ratio],
      )
      return
    case "fail":
      await sql.unsafe(
        `UPDATE activities SET status = 'failed', matched_factor_id = NULL, emissions = NULL, emissions_co2 = NULL,
           review_status = NULL, failure_kind = $1 WHERE ${where(c.subset)}`,
        [c.failure],
      )
      return
    case "claim":
      await sql.unsafe(`UPDATE activities SET status = 'matching' WHERE status = 'ingested' AND ${where(c.subset)}`)
      return
    case "site":
      await sql.unsafe(`UPDATE activities SET site_id = $1 WHERE ${where(c.subset)}`, [c.site])
      return
    case "touch":
      await sql.unsafe(`UPDATE activities SET updated_at = now() WHERE ${where(c.subset)}`)
      return
    case "delete":
      await sql.unsafe(`DELETE FROM activities WHERE ${where(c.subset)}`)
      return
    case "factor":
      // Scope 3 categories only exist under scope 3 (a CHECK): cleared with the scope, as a reload would.
      await sql`
        UPDATE emission_factors SET scope = ${c.scope}, category_path = ${sql.array([...c.path], "text")},
          scope3_category = CASE WHEN ${c.scope} = 'Scope 3' THEN scope3_category END
        WHERE id = ${c.factor}`
      return
  }
}

describe("the inventory's cells", () => {
  test("equal a full recount of the activities after any sequence of statements", async () => {
    const seen = new Set<string>()
    await fc.assert(
      fc.asyncProperty(fc.array(command, { minLength: 1, maxLength: 12 }), async (commands) => {
        for (const c of commands) await run(c)
        expect(await storedCells(sql)).toEqual(await recount(sql))
        expect(await storedReviewKeys(sql)).toEqual(await recountReviewKeys(sql))
        const kinds = (await sql`
          SELECT DISTINCT status::text || CASE WHEN priced > 0 THEN ' priced' ELSE '' END
                 || CASE WHEN factor_scope = 3 THEN ' scope 3' ELSE '' END AS kind
          FROM inventory_totals`) as Array<{ kind: string }>
        for (const { kind } of kinds) seen.add(kind)
      }),
      { numRuns: 60 },
    )
    // The runs did reach every kind of cell.
    for (const kind of ["ingested", "matching", "failed", "calculated priced", "calculated priced scope 3"]) expect(seen).toContain(kind)
  }, 120_000)

  test("stay exact when a factor's scope is corrected while activities are being priced with it, in either order", async () => {
    const factor = await insertFactor(sql, { name: "Corrected", unit: "kg", factorValue: "2", scope: "Scope 3", categoryPath: ["Material use"], scope3Category: 1 })
    const ingest = async () => {
      const [row] = (await sql`
        INSERT INTO activities (upload_id, row_number, raw_description, status, activity_date)
        VALUES (${uploads[0]!}, ${Math.floor(Math.random() * 1e9)}, 'steel', 'matching', '2024-03-03') RETURNING id`) as Array<{ id: string }>
      return row!.id
    }
    const price = (id: string) => sql`UPDATE activities SET status = 'calculated', matched_factor_id = ${factor}, emissions = 5 WHERE id = ${id}`
    const correct = (scope: string) => (db: SQL) =>
      db`UPDATE emission_factors SET scope = ${scope}, scope3_category = NULL, category_path = ${sql.array([scope], "text")} WHERE id = ${factor}`

    const reload = await sql.reserve()
    const job = await sql.reserve()
    try {
      // The correction first, uncommitted, while a statement prices an activity with the factor.
      const first = await ingest()
      await reload`BEGIN`
      await correct("Scope 2")(reload)
      // Bun's queries start when awaited or then'd: Promise.resolve starts this one now.
      const pricing = Promise.resolve(price(first))
      await Bun.sleep(300)
      await reload`COMMIT`
      await pricing
      expect(await storedCells(sql)).toEqual(await recount(sql))

      // The pricing first, uncommitted, while the factor is corrected.
      const second = await ingest()
      await job`BEGIN`
      await job`UPDATE activities SET status = 'calculated', matched_factor_id = ${factor}, emissions = 5 WHERE id = ${second}`
      const correcting = Promise.resolve(correct("Scope 1")(sql))
      await Bun.sleep(300)
      await job`COMMIT`
      await correcting
      expect(await storedCells(sql)).toEqual(await recount(sql))
    } finally {
      // A failed check may leave either transaction open: end both before their connections go back.
      await Promise.all([reload`ROLLBACK`, job`ROLLBACK`])
      reload.release()
      job.release()
    }
  })

  test("are emptied with the activities by TRUNCATE, which fires no DELETE trigger", async () => {
    await run({ kind: "insert", rows: [{ upload: uploads[0]!, key: "diesel|l|gb", failure: null, status: "calculated", factor: factors[0]!, emissions: "12.5", co2: null, category: null, date: "2024-01-01", site: null, review: "needs_review" }] })
    expect((await storedCells(sql)).length).toBeGreaterThan(0)
    expect((await storedReviewKeys(sql)).length).toBeGreaterThan(0)
    await sql`TRUNCATE activities CASCADE`
    expect(await storedCells(sql)).toEqual([])
    expect(await storedReviewKeys(sql)).toEqual([])
  })

  test("hold no empty cell: an activity that moves leaves no zero row behind", async () => {
    await sql`UPDATE activities SET status = 'failed', matched_factor_id = NULL, emissions = NULL, emissions_co2 = NULL, review_status = NULL`
    await sql`DELETE FROM activities WHERE status = 'failed'`
    expect(await sql`SELECT * FROM inventory_totals`).toEqual([])
    expect(await sql`SELECT * FROM review_queue_keys`).toEqual([])
  })
})
