import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { ApiKeys, Authentication, guardCaller, UsersRepo } from "@scopeline/accounts"
import { AuditLog } from "@scopeline/events"
import { migrate } from "@scopeline/sql/Migrator"
import { SQL } from "bun"
import { Effect, Either, Layer, ManagedRuntime } from "effect"
import { apiClient, type ApiClient } from "../support/api.ts"
import { configLayer, testSettings } from "../support/config.ts"
import { seedDemo, sqlLayer } from "../support/seed.ts"
import { startServer, type TestServer } from "../support/server.ts"

let server: TestServer
let db: SQL
let admin: ApiClient

beforeAll(async () => {
  server = await startServer()
  await seedDemo(server.databaseUrl)
  db = new SQL(server.databaseUrl)
  admin = await apiClient(server.url, "admin@demo.scopeline.dev")
})
afterAll(async () => {
  await db?.close()
  await server?.stop()
})

interface KeyJson {
  readonly id: string
  readonly name: string
  readonly prefix: string
  readonly scopes: Array<string>
  readonly site_ids: Array<string> | null
  readonly secret?: string
}

const createKey = async (body: Record<string, unknown>) => {
  const response = await admin.post("/v1/admin/api-keys", body)
  expect(response.status).toBe(201)
  return ((await response.json()) as { api_key: KeyJson & { secret: string } }).api_key
}
const withKey = (secret: string, path: string) => fetch(`${server.url}${path}`, { headers: { authorization: `Bearer ${secret}` } })

describe("API keys", () => {
  test("an admin creates a key: the secret is shown once and stored only as a hash; lists never show it", async () => {
    const key = await createKey({ name: "well pad 7 methane sensor", scopes: ["measurements:write"] })
    expect(key.secret).toMatch(/^slk_[\w-]{43}$/)
    expect(key.secret.startsWith(key.prefix)).toBe(true)
    const [stored] = await db`SELECT secret_hash FROM api_keys WHERE id = ${key.id}`
    expect(stored.secret_hash).toMatch(/^[0-9a-f]{64}$/)
    const listed = (await (await admin.get("/v1/admin/api-keys")).json()) as { api_keys: Array<KeyJson> }
    const row = listed.api_keys.find((k) => k.id === key.id)!
    expect(row).toMatchObject({ name: "well pad 7 methane sensor", scopes: ["measurements:write"], site_ids: null })
    expect(JSON.stringify(listed)).not.toContain(key.secret)
    const [event] = await db`SELECT details::text AS details FROM audit_events WHERE action = 'api_key_created' AND object_id = ${key.id}`
    expect(event.details).not.toContain(key.secret)
  })

  test("a key on a route for people is 403, recorded against the key; an unknown or revoked key is 401", async () => {
    const key = await createKey({ name: "gateway", scopes: ["measurements:write"] })
    const refused = await withKey(key.secret, "/v1/me")
    expect(refused.status).toBe(403)
    expect((await withKey(key.secret, "/v1/activities")).status).toBe(403)
    const denied = await db`SELECT actor_service FROM audit_events WHERE action = 'permission_denied' AND actor_service = ${`api-key:${key.id}`}`
    expect(denied.length).toBe(2)

    const unknown = await withKey(`slk_${"x".repeat(43)}`, "/v1/me")
    expect(unknown.status).toBe(401)
    expect((await admin.delete(`/v1/admin/api-keys/${key.id}`)).status).toBe(204)
    const revoked = await withKey(key.secret, "/v1/me")
    expect(revoked.status).toBe(401)
    expect((await admin.delete(`/v1/admin/api-keys/${key.id}`)).status).toBe(404)

    // Each refusal is recorded once: one event per request, not a second `token_rejected` beside it.
    const eventsOf = async (response: Response) =>
      (await db`SELECT action FROM audit_events WHERE correlation_id = ${response.headers.get("x-correlation-id")} ORDER BY seq`).map(
        (row: { action: string }) => row.action,
      )
    expect(await eventsOf(refused)).toEqual(["permission_denied"])
    expect(await eventsOf(revoked)).toEqual(["token_rejected"])
    // A revoked key still being sent is named (a forgotten device, or a leaked secret being tried); an unknown one cannot be.
    const rejectedBy = async (response: Response) =>
      (
        await db`SELECT actor_service, details FROM audit_events WHERE action = 'token_rejected' AND correlation_id = ${response.headers.get("x-correlation-id")}`
      )[0]
    const revokedRow = await rejectedBy(revoked)
    expect(revokedRow.actor_service).toBe(`api-key:${key.id}`)
    expect(revokedRow.details).toMatchObject({ reason: "revoked api key", key: { name: "gateway", key_prefix: key.prefix } })
    const unknownRow = await rejectedBy(unknown)
    expect(unknownRow.actor_service).toBeNull()
    expect(unknownRow.details.reason).toBe("unknown api key")
    // The revocation names the key as the admin knew it.
    const [revocation] = await db`SELECT details FROM audit_events WHERE action = 'api_key_revoked' AND object_id = ${key.id}`
    expect(revocation.details).toEqual({ name: "gateway", key_prefix: key.prefix })
  })

  test("bad requests are 400 naming the field; only admins manage keys", async () => {
    const bad = await admin.post("/v1/admin/api-keys", { name: "", scopes: ["everything"] })
    expect(bad.status).toBe(400)
    const accountant = await apiClient(server.url, "accountant@demo.scopeline.dev")
    expect((await accountant.post("/v1/admin/api-keys", { name: "mine", scopes: ["measurements:write"] })).status).toBe(403)
    expect((await accountant.get("/v1/admin/api-keys")).status).toBe(403)
  })
})

describe("guardCaller: the guard of routes machines may call", () => {
  const runtime = () =>
    ManagedRuntime.make(
      Layer.mergeAll(ApiKeys.Default, Authentication.Default, UsersRepo.Default).pipe(
        Layer.provideMerge(AuditLog.Default),
        Layer.provideMerge(Layer.effectDiscard(migrate()).pipe(Layer.provideMerge(sqlLayer(server.databaseUrl)))),
        Layer.provide(configLayer(testSettings({ JWT_SECRET: server.settings.JWT_SECRET! }))),
        Layer.orDie,
      ),
    )

  test("a key needs the scope, and the site when it is restricted to some; a person needs the permission", async () => {
    const run = runtime()
    try {
      const sites = (await db`
        INSERT INTO sites (code, name, country, limit_period)
        VALUES (${`A-${crypto.randomUUID()}`}, 'A', 'GB', 'month'), (${`B-${crypto.randomUUID()}`}, 'B', 'GB', 'month')
        RETURNING id::text AS id`) as Array<{ id: string }>
      const [siteA, siteB] = [sites[0]!.id, sites[1]!.id]
      const anySite = await createKey({ name: "any site", scopes: ["measurements:write"] })
      const onlyA = await createKey({ name: "site A only", scopes: ["measurements:write"], site_ids: [siteA] })
      const ask = (authorization: string, siteId: string) =>
        run.runPromise(
          guardCaller(new Request("http://scopeline.test/v1/sites/x/measurements", { method: "POST", headers: { authorization } }), {
            permission: "upload",
            scope: "measurements:write",
            siteId,
          }).pipe(
            Effect.map((caller) => caller._tag),
            Effect.either,
            Effect.map(Either.mapLeft((error) => error.status)),
          ),
        )
      expect(await ask(`Bearer ${anySite.secret}`, siteB)).toEqual(Either.right("ApiKey"))
      expect(await ask(`Bearer ${onlyA.secret}`, siteA)).toEqual(Either.right("ApiKey"))
      expect(await ask(`Bearer ${onlyA.secret}`, siteB)).toEqual(Either.left(403))
      // The key has the scope: what it lacks is the site, and the log says so.
      const [denied] = await db`SELECT details->>'reason' AS reason FROM audit_events WHERE action = 'permission_denied' AND actor_service = ${`api-key:${onlyA.id}`}`
      expect(denied.reason).toBe("site not allowed for this key")
      const accountant = await apiClient(server.url, "accountant@demo.scopeline.dev")
      const viewer = await apiClient(server.url, "viewer@demo.scopeline.dev")
      expect(await ask(`Bearer ${accountant.jwt}`, siteB)).toEqual(Either.right("User"))
      expect(await ask(`Bearer ${viewer.jwt}`, siteB)).toEqual(Either.left(403))
      expect(await ask(`Bearer slk_${"y".repeat(43)}`, siteA)).toEqual(Either.left(401))
    } finally {
      await run.dispose()
    }
  })
})
