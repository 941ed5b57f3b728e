import { SqlClient } from "@effect/sql"
import { PgClient } from "@effect/sql-pg"
import { LeaseLost, MAX_ATTEMPTS, RecalculationsRepo } from "@scopeline/recalculations"
import { migrate } from "@scopeline/sql/Migrator"
import { afterAll, beforeAll, beforeEach, describe, expect, test } from "bun:test"
import { SQL } from "bun"
import { Effect, Layer, ManagedRuntime, Redacted, String } from "effect"
import { testDatabase } from "../support/postgres.ts"

/**
 * How workers share recalculations, without a worker running: claims skip what another worker holds,
 * a stopped worker's claim is taken over after its lease, and a claim taken over cannot finish.
 */
let runtime: ManagedRuntime.ManagedRuntime<RecalculationsRepo | SqlClient.SqlClient, unknown>
let db: SQL
const run = <A, E>(effect: Effect.Effect<A, E, RecalculationsRepo | SqlClient.SqlClient>) => runtime.runPromise(effect)
const repo = <A, E>(f: (r: RecalculationsRepo) => Effect.Effect<A, E, never>) => run(Effect.flatMap(RecalculationsRepo, f))

beforeAll(async () => {
  const url = await testDatabase("claims")
  const client = PgClient.layer({ url: Redacted.make(url), transformQueryNames: String.camelToSnake, transformResultNames: String.snakeToCamel })
  runtime = ManagedRuntime.make(RecalculationsRepo.Default.pipe(Layer.provideMerge(client)))
  await run(migrate())
  db = new SQL(url)
})
afterAll(async () => {
  await db?.close()
  await runtime?.dispose()
})
beforeEach(async () => {
  await db`DELETE FROM recalculations`
})

const queue = async (createdAt: string) => {
  const [row] = (await db`
    INSERT INTO recalculations (factor_set, preview, correlation_id, created_at)
    VALUES ('DESNZ:2024', true, 'test', ${createdAt}::timestamptz) RETURNING id::text AS id`) as Array<{ id: string }>
  return row!.id
}

describe("claims", () => {
  test("a recalculation another worker holds is skipped, not waited for (FOR UPDATE SKIP LOCKED)", async () => {
    const first = await queue("2026-01-01T00:00:00Z")
    const second = await queue("2026-01-02T00:00:00Z")
    const other = await db.reserve()
    try {
      await other`BEGIN`
      await other`SELECT id FROM recalculations WHERE id = ${first}::uuid FOR UPDATE`
      const claimed = await Promise.race([repo((r) => r.claim()), Bun.sleep(3_000).then(() => "waited" as const)])
      expect<string | undefined>(claimed === "waited" ? claimed : claimed?.recalculation.id).toBe(second)
      await other`ROLLBACK`
    } finally {
      other.release()
    }
    // Once free, the first is claimed by the next round, and no round claims a running one twice.
    expect<string | undefined>((await repo((r) => r.claim()))?.recalculation.id).toBe(first)
    expect(await repo((r) => r.claim())).toBeUndefined()
  })

  test("a stopped worker's claim is taken over after its lease, and the old claim can no longer finish", async () => {
    const id = await queue("2026-01-01T00:00:00Z")
    const stopped = (await repo((r) => r.claim()))!
    expect(stopped.recalculation).toMatchObject({ status: "running", attempts: 1 })
    // Within the lease nobody else takes it.
    expect(await repo((r) => r.claim())).toBeUndefined()
    await db`UPDATE recalculations SET lease_until = now() - interval '1 second' WHERE id = ${id}::uuid`
    const next = (await repo((r) => r.claim()))!
    expect(next.recalculation).toMatchObject({ id, attempts: 2 })
    expect(next.lease).not.toBe(stopped.lease)
    const restatement = {
      factor_set: "DESNZ:2024",
      counts: {
        calculated: 0, in_scope: 0, changed: 0, emissions_changed: 0, already_on_set: 0, unmapped: 0,
        unmapped_by_reason: { not_in_set: 0, unit_changed: 0, unit_unknown: 0, too_large: 0 }, other_sources: 0,
      },
      totals: { unit: "kg CO2e" as const, total: { before_kg_co2e: "0", after_kg_co2e: "0", change_kg_co2e: "0" }, by_scope: [], by_scope3_category: [] },
    }
    const late = await run(Effect.flip(Effect.flatMap(RecalculationsRepo, (r) => r.finish(id, stopped.lease, restatement))))
    expect(late).toBeInstanceOf(LeaseLost)
    expect(await repo((r) => r.renew(id, stopped.lease))).toBe(false)
    await repo((r) => r.finish(id, next.lease, restatement))
    const [row] = (await db`SELECT status, lease FROM recalculations WHERE id = ${id}::uuid`) as Array<{ status: string; lease: string | null }>
    expect(row).toEqual({ status: "done", lease: null })
  })

  test(`a recalculation whose worker stopped ${MAX_ATTEMPTS} times is failed, not claimed again`, async () => {
    const id = await queue("2026-01-01T00:00:00Z")
    await db`UPDATE recalculations SET status = 'running', attempts = ${MAX_ATTEMPTS}, lease = gen_random_uuid(), lease_until = now() - interval '1 second' WHERE id = ${id}::uuid`
    expect(await repo((r) => r.claim())).toBeUndefined()
    const [row] = (await db`SELECT status, error FROM recalculations WHERE id = ${id}::uuid`) as Array<{ status: string; error: string }>
    expect(row!.status).toBe("failed")
    expect(row!.error).toContain("nothing was changed")
  })
})
