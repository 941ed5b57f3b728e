import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import {
  actionsByCategory,
  allActions,
  type AnyEventInput,
  AuditEvent,
  AuditLog,
  AuditRepo,
  isRegistered,
} from "@scopeline/events"
import { migrate } from "@scopeline/sql/Migrator"
import { SQL } from "bun"
import { Effect, Exit, Layer, ManagedRuntime, Option, Schema } from "effect"
import fc from "fast-check"
import { configLayer, testSettings } from "../support/config.ts"
import { testDatabase } from "../support/postgres.ts"
import { sqlLayer } from "../support/seed.ts"

let databaseUrl: string
let db: SQL
const makeRuntime = (url: string) =>
  ManagedRuntime.make(
    Layer.merge(AuditLog.Default, AuditRepo.Default).pipe(
      Layer.provideMerge(Layer.effectDiscard(migrate()).pipe(Layer.provideMerge(sqlLayer(url)))),
      Layer.provide(configLayer(testSettings())),
      Layer.orDie,
    ),
  )
let runtime: ReturnType<typeof makeRuntime>

beforeAll(async () => {
  databaseUrl = await testDatabase()
  runtime = makeRuntime(databaseUrl)
  await runtime.runPromise(Effect.void)
  db = new SQL(databaseUrl)
})
afterAll(async () => {
  await runtime?.dispose()
  await db?.close()
})

const categories = Object.keys(actionsByCategory)
const record = (input: AnyEventInput) => runtime.runPromiseExit(AuditLog.pipe(Effect.flatMap((log) => log.record(input))))
const readBack = (objectId: string) =>
  runtime.runPromise(AuditRepo.pipe(Effect.flatMap((repo) => repo.list({ objectId }, 200, Option.none()))))

const text = fc.string({ maxLength: 40 })
const json: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: "small" }, fc.string({ maxLength: 30 }), fc.integer(), fc.boolean(), fc.constant(null), tie("array"), tie("object")),
  array: fc.array(tie("value"), { maxLength: 3 }),
  object: fc.dictionary(fc.string({ minLength: 1, maxLength: 12 }).filter((k) => k !== "__proto__"), tie("value"), { maxKeys: 4 }),
})).value
const validPair = fc.constantFrom(...Object.entries(actionsByCategory).flatMap(([category, actions]) => actions.map((action) => ({ category, action }))))
// Any category with any action, registered or not: half from the vocabulary, half made up.
const anyPair = fc.oneof(
  validPair,
  fc.record({ category: fc.constantFrom(...categories, "audit", ""), action: fc.constantFrom(...allActions) }),
  fc.record({ category: fc.constantFrom(...categories), action: fc.stringMatching(/^[a-z_]{1,20}$/) }),
)
const inputOf = (pair: { category: string; action: string }, objectId: string, details: unknown = {}, extra: Partial<AnyEventInput> = {}) =>
  ({
    category: pair.category,
    action: pair.action,
    actor: { userId: crypto.randomUUID(), role: "admin" },
    object: { type: "test", id: objectId },
    details: { value: details },
    ...extra,
  }) as unknown as AnyEventInput

describe("the audit log's writer, by property", () => {
  test("an event is accepted if and only if its action is registered under its category", async () => {
    await fc.assert(
      fc.asyncProperty(anyPair, async (pair) => {
        const objectId = crypto.randomUUID()
        const exit = await record(inputOf(pair, objectId))
        const stored = (await readBack(objectId)).events
        expect(Exit.isSuccess(exit)).toBe(isRegistered(pair.category, pair.action))
        // A refused event leaves nothing behind.
        expect(stored.length).toBe(Exit.isSuccess(exit) ? 1 : 0)
      }),
      { numRuns: 120 },
    )
  })

  test("serialise → store → read back gives an equal event, with its original timestamp and a unique id", async () => {
    const seen = new Set<string>()
    await fc.assert(
      fc.asyncProperty(validPair, json, fc.date({ min: new Date("2000-01-01"), max: new Date("2100-01-01"), noInvalidDate: true }), text, async (pair, details, timestamp, message) => {
        const objectId = crypto.randomUUID()
        const exit = await record(
          inputOf(pair, objectId, details, { timestamp, outcome: { status: "failure", errorCode: "boom", message: message.replace(/@/g, "") } }),
        )
        expect(Exit.isSuccess(exit)).toBe(true)
        if (!Exit.isSuccess(exit)) return
        const [stored] = (await readBack(objectId)).events
        // Through JSON, as the API serves it, and back.
        const wire = JSON.parse(JSON.stringify(Schema.encodeSync(AuditEvent)(exit.value)))
        expect(Schema.decodeUnknownSync(AuditEvent)(wire)).toEqual(exit.value)
        expect(stored).toEqual(exit.value)
        expect(stored!.timestamp.getTime()).toBe(timestamp.getTime())
        expect(seen.has(stored!.event_id)).toBe(false)
        seen.add(stored!.event_id)
      }),
      { numRuns: 100 },
    )
  })

  test("no stored event contains a plain email, wherever the caller put one", async () => {
    await fc.assert(
      fc.asyncProperty(validPair, fc.emailAddress(), json, async (pair, email, details) => {
        const objectId = crypto.randomUUID()
        const exit = await record(
          inputOf(pair, objectId, { nested: [details, `sent to ${email} today`], password: "hunter2-secret" }, {
            actor: { email, userId: crypto.randomUUID() },
            outcome: { status: "failure", message: `login ${email} refused` },
          }),
        )
        expect(Exit.isSuccess(exit)).toBe(true)
        const rows = await db`SELECT row_to_json(e)::text AS row FROM audit_events e WHERE object_id = ${objectId}`
        expect(rows).toHaveLength(1)
        const row = String(rows[0].row).toLowerCase()
        expect(row).not.toContain(email.toLowerCase())
        expect(row).not.toContain("hunter2-secret")
        expect(row).toContain('"actor_email_hash"')
      }),
      { numRuns: 100 },
    )
  })
})

describe("the audit log's documentation", () => {
  test("docs/audit.md lists every registered action under its category, and no other", async () => {
    const doc = await Bun.file(new URL("../../docs/audit.md", import.meta.url)).text()
    for (const [category, actions] of Object.entries(actionsByCategory)) {
      const row = doc.split("\n").find((line) => line.startsWith(`| ${category} |`)) ?? ""
      const missing = actions.filter((action) => !row.includes(`\`${action}\``))
      // Every action-shaped name in the row (the notes' other words in backticks are not snake_case).
      const named = [...row.matchAll(/`([a-z]+(?:_[a-z]+)+)`/g)].map((match) => match[1]!)
      const unknown = named.filter((name) => !(actions as ReadonlyArray<string>).includes(name))
      expect({ category, missing, unknown }).toEqual({ category, missing: [], unknown: [] })
    }
  })
})

describe("the audit log is append-only", () => {
  test("UPDATE, DELETE and TRUNCATE are refused by the table itself", async () => {
    const objectId = crypto.randomUUID()
    await record(inputOf({ category: "security", action: "logout" }, objectId))
    for (const statement of [
      db`UPDATE audit_events SET action = 'login_succeeded' WHERE object_id = ${objectId}`,
      db`DELETE FROM audit_events WHERE object_id = ${objectId}`,
      db`TRUNCATE audit_events`,
    ]) {
      expect(statement).rejects.toThrow(/append-only/)
    }
    await Bun.sleep(50)
    expect((await readBack(objectId)).events).toHaveLength(1)
  })

  test("the retention job deletes only events older than AUDIT_RETENTION_DAYS, and records that it did", async () => {
    const old = crypto.randomUUID()
    const recent = crypto.randomUUID()
    const day = 86_400_000
    await record(inputOf({ category: "security", action: "logout" }, old, {}, { timestamp: new Date(Date.now() - 401 * day) }))
    await record(inputOf({ category: "security", action: "logout" }, recent, {}, { timestamp: new Date(Date.now() - 399 * day) }))
    // A plain DELETE of the old row is refused, and so is one claiming a retention the row is within.
    expect(db`DELETE FROM audit_events WHERE object_id = ${old}`).rejects.toThrow(/append-only/)
    expect(
      db.begin(async (tx) => {
        await tx`SELECT set_config('scopeline.audit_retention_days', '500', true)`
        await tx`DELETE FROM audit_events WHERE object_id = ${old}`
      }),
    ).rejects.toThrow(/append-only/)
    await Bun.sleep(50)
    const { expireAuditEvents } = await import("@scopeline/events")
    const deleted = await runtime.runPromise(expireAuditEvents())
    expect(deleted).toBeGreaterThanOrEqual(1)
    expect((await readBack(old)).events).toHaveLength(0)
    expect((await readBack(recent)).events).toHaveLength(1)
    const [expired] = await db`SELECT details::text AS details FROM audit_events WHERE action = 'audit_events_expired' ORDER BY seq DESC LIMIT 1`
    expect(JSON.parse(expired.details)).toMatchObject({ deleted, retention_days: 400 })
  })
})
