import { SqlClient } from "@effect/sql"
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { Effect } from "effect"
import { activitiesOf, catalogueDatabase, createUpload, type Scenario, scenario, theCatalogue } from "../match/support.ts"

let s: Scenario
beforeAll(async () => {
  await Promise.all([catalogueDatabase(), theCatalogue()])
  s = await scenario()
}, 120_000)
afterAll(async () => {
  await s?.dispose()
})

const DIESEL = { description: "Diesel for delivery vans", quantity: "40", unit: "litres", geography: "GB", date: "2024-03-10" }

const query = <A extends object>(text: (sql: SqlClient.SqlClient) => Effect.Effect<ReadonlyArray<A>, unknown>) =>
  s.run(Effect.flatMap(SqlClient.SqlClient, (sql) => text(sql).pipe(Effect.orDie)))

describe("activities and a site's limit", () => {
  test("the match job's write that takes a site over 80%, then 100%, raises each alert once, in that write", async () => {
    const [site] = await query<{ id: string }>((sql) =>
      sql`INSERT INTO sites (code, name, country, emission_limit_kg_co2e, limit_period) VALUES ('VANS', 'Vans', 'GB', 120, 'month') RETURNING id`,
    )
    const siteId = site!.id
    const tag = (uploadId: string) => query((sql) => sql`UPDATE activities SET site_id = ${siteId} WHERE upload_id = ${uploadId} RETURNING id`)
    // 40 litres of diesel ≈ 100 kg CO2e: over 80% of 120, under 100%; priced by the matcher (settle path).
    const first = await s.run(createUpload([DIESEL]))
    await tag(first)
    await s.match(first)
    const [row] = await s.run(activitiesOf(first))
    expect(row!.status).toBe("calculated")
    const alerts = () => query<{ period: string; threshold: number }>((sql) => sql`SELECT period, threshold FROM site_alerts WHERE site_id = ${siteId} ORDER BY threshold`)
    expect(await alerts()).toEqual([{ period: "2024-03", threshold: 80 }])
    // The same key again is priced from the cache (claim path): ≈ 200 kg, over the limit.
    const second = await s.run(createUpload([DIESEL]))
    await tag(second)
    await s.match(second)
    expect((await s.run(activitiesOf(second)))[0]!.matchSource).toBe("cache")
    expect(await alerts()).toEqual([
      { period: "2024-03", threshold: 80 },
      { period: "2024-03", threshold: 100 },
    ])
    // A redelivered job changes nothing and raises nothing.
    await s.match(second, 2)
    expect(await alerts()).toHaveLength(2)
    const events = await query<{ action: string; actorService: string }>((sql) =>
      sql`SELECT action, actor_service FROM audit_events WHERE object_id = ${siteId} ORDER BY seq`,
    )
    expect(events).toEqual([
      { action: "site_limit_warning", actorService: "match-worker" },
      { action: "site_limit_exceeded", actorService: "match-worker" },
    ])
  }, 60_000)
})
