import { SqlClient } from "@effect/sql"
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { AuditLog } from "@scopeline/events"
import { Measurements, type SiteId } from "@scopeline/sites"
import { Effect, Layer, Logger, LogLevel, ManagedRuntime } from "effect"
import { catalogueDatabase } from "../match/support.ts"
import { configLayer } from "../support/config.ts"
import { sqlLayer } from "../support/seed.ts"

/**
 * Measurements.record called by code that already holds a transaction (a future import, a job): the
 * one-statement way would abort that transaction when the batch raises an alert, so it is not taken.
 */
let runtime: ManagedRuntime.ManagedRuntime<Measurements | AuditLog | SqlClient.SqlClient, unknown>
beforeAll(async () => {
  const url = await catalogueDatabase()
  runtime = ManagedRuntime.make(
    Measurements.Default.pipe(
      Layer.provideMerge(AuditLog.Default),
      Layer.provideMerge(sqlLayer(url)),
      Layer.provide(configLayer({})),
      Layer.provide(Logger.minimumLogLevel(LogLevel.Error)),
    ),
  )
}, 120_000)
afterAll(async () => {
  await runtime?.dispose()
})

describe("a batch recorded inside the caller's transaction", () => {
  test("one that raises an alert is stored with its alert and events, and the caller's own write commits with it", async () => {
    const outcome = await runtime.runPromise(
      Effect.gen(function* () {
        const sql = yield* SqlClient.SqlClient
        const measurements = yield* Measurements
        const code = `TX-${crypto.randomUUID().slice(0, 8)}`
        const [site] = yield* sql<{ id: SiteId }>`
          INSERT INTO sites (code, name, country, emission_limit_kg_co2e, limit_period) VALUES (${code}, 'Tx', 'GB', 100, 'month') RETURNING id`
        const valid = yield* measurements.validate({
          measurements: [{ timestamp: new Date(Date.now() - 60_000).toISOString(), gas: "CO2", quantity: 150, unit: "kg", device_id: "d-1" }],
        })
        const result = yield* sql.withTransaction(
          Effect.gen(function* () {
            yield* sql`UPDATE sites SET name = 'Tx, renamed' WHERE id = ${site!.id}`
            return yield* measurements.record(site!.id, valid, { service: "import" })
          }),
        )
        const [stored] = yield* sql<{ readings: number; alerts: number; events: number; name: string }>`
          SELECT (SELECT count(*)::int FROM measurements WHERE site_id = ${site!.id}) AS readings,
                 (SELECT count(*)::int FROM site_alerts WHERE site_id = ${site!.id}) AS alerts,
                 (SELECT count(*)::int FROM audit_events WHERE object_id = ${site!.id}) AS events,
                 (SELECT name FROM sites WHERE id = ${site!.id}) AS name`
        return { result, stored }
      }).pipe(Effect.orDie),
    )
    expect(outcome.result.accepted).toBe(1)
    // The batch's event and one per alert (80% and 100%).
    expect(outcome.stored).toEqual({ readings: 1, alerts: 2, events: 3, name: "Tx, renamed" })
  }, 60_000)
})
