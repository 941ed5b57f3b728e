import { startMatcher } from "@scopeline/matcher/server"
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { SQL } from "bun"
import { type ApiClient, apiClient, settledUpload, uploadFile } from "../support/api.ts"
import { DEMO_TEST_PASSWORD, seedDemo } from "../support/seed.ts"
import { startServer, type TestServer } from "../support/server.ts"
import { startWorker, type TestWorker } from "../support/worker.ts"

let matcher: Awaited<ReturnType<typeof startMatcher>>
let server: TestServer
let worker: TestWorker
let db: SQL
let admin: ApiClient

beforeAll(async () => {
  matcher = await startMatcher({ port: 0 })
  server = await startServer({ LOAD_CATALOGUE: "true", MATCHER_URL: matcher.url })
  await seedDemo(server.databaseUrl)
  worker = await startWorker(server.settings)
  db = new SQL(server.databaseUrl)
  admin = await apiClient(server.url, "admin@demo.scopeline.dev")
})
afterAll(async () => {
  await db?.close()
  await worker?.stop()
  await server?.stop()
  await matcher?.stop()
})

interface EventJson {
  readonly event_id: string
  readonly timestamp: string
  readonly category: string
  readonly action: string
  readonly actor: { readonly user_id?: string; readonly email_hash?: string; readonly role?: string; readonly service?: string }
  readonly object: { readonly type: string; readonly id: string }
  readonly correlation: { readonly correlation_id: string }
  readonly outcome: { readonly status: string; readonly error_code?: string }
  readonly context: { readonly environment: string; readonly service: string; readonly version: string }
  readonly details: Record<string, unknown>
}

const events = async (query: Record<string, string>) => {
  const response = await admin.get(`/v1/admin/audit-events?${new URLSearchParams(query)}`)
  expect(response.status).toBe(200)
  return (await response.json()) as { events: Array<EventJson>; next_cursor: string | null }
}
const login = (login: string, password: string) =>
  fetch(`${server.url}/v1/auth/login`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ credentials: { login, password } }),
  })
const userId = async (email: string) => ((await db`SELECT id FROM users WHERE email = ${email}`)[0].id as string)

describe("security events", () => {
  test("sign-in, failures, throttling and sign-out are recorded, with emails only as hashes", async () => {
    const viewer = await userId("viewer@demo.scopeline.dev")
    const signedIn = await apiClient(server.url, "viewer@demo.scopeline.dev")
    expect((await login("viewer@demo.scopeline.dev", "wrong password")).status).toBe(401)
    expect((await login("nobody@demo.scopeline.dev", "wrong password")).status).toBe(401)
    expect((await signedIn.post("/v1/auth/logout")).status).toBe(204)

    const succeeded = await events({ action: "login_succeeded", actor_id: viewer })
    expect(succeeded.events[0]).toMatchObject({ category: "security", object: { type: "user", id: viewer }, outcome: { status: "success" } })
    expect(succeeded.events[0]!.context).toMatchObject({ environment: "embedded", service: "server", version: expect.any(String) })
    const failedForViewer = await events({ action: "login_failed", object_id: viewer })
    expect(failedForViewer.events).toHaveLength(1)
    expect(failedForViewer.events[0]!.actor.email_hash).toMatch(/^[0-9a-f]{64}$/)
    // Where the attempt came from, as the throttle counts it.
    expect(failedForViewer.events[0]!.details).toMatchObject({ address: expect.stringMatching(/^(127\.0\.0\.1|::1|::ffff:127\.0\.0\.1)$/) })
    // An unknown login is recorded by the hash of what was typed: the same login always gives the same hash.
    const failed = await events({ action: "login_failed" })
    const unknown = failed.events.find((event) => event.object.type === "login")!
    expect(unknown.object.id).toBe(unknown.actor.email_hash!)
    expect((await events({ action: "logout", actor_id: viewer })).events).toHaveLength(1)

    // Five wrong passwords for one login from one address, then the sixth is throttled: login_locked.
    for (let i = 0; i < 6; i++) await login("mallory@example.com", `wrong ${i}`)
    const locked = await events({ action: "login_locked" })
    expect(locked.events.length).toBeGreaterThanOrEqual(1)
    expect(locked.events[0]!.outcome).toMatchObject({ status: "failure", error_code: "too_many_requests" })

    const rows = await db`SELECT row_to_json(e)::text AS row FROM audit_events e`
    for (const { row } of rows) expect(String(row)).not.toMatch(/@demo\.scopeline\.dev|mallory@|wrong password|correct horse/)
  })

  test("refused tokens and refused permissions are security events", async () => {
    const [header, payload] = admin.jwt.split(".")
    const forged = `${header}.${payload}.${"A".repeat(43)}`
    expect((await fetch(`${server.url}/v1/me`, { headers: { authorization: `Bearer ${forged}` } })).status).toBe(401)
    const rejected = await events({ action: "token_rejected" })
    expect(rejected.events[0]).toMatchObject({ object: { type: "request", id: "/v1/me" }, outcome: { status: "failure" } })
    // A forged token names nobody: its claims are not to be believed.
    expect(rejected.events[0]!.actor.user_id).toBeUndefined()
    expect(rejected.events[0]!.details).toMatchObject({ reason: "token not genuine or expired" })
    // A genuine token reused after sign-out names its holder: a stolen token being replayed, or a stale tab.
    const viewerId = await userId("viewer@demo.scopeline.dev")
    const signedOut = await apiClient(server.url, "viewer@demo.scopeline.dev")
    expect((await signedOut.post("/v1/auth/logout")).status).toBe(204)
    expect((await signedOut.get("/v1/me")).status).toBe(401)
    const replayed = await events({ action: "token_rejected", actor_id: viewerId })
    expect(replayed.events).toHaveLength(1)
    expect(replayed.events[0]).toMatchObject({ object: { id: "/v1/me" }, details: { reason: "session no longer valid" } })
    // No token at all is not a rejected token: nothing to record.
    const before = (await events({ action: "token_rejected", limit: "200" })).events.length
    expect((await fetch(`${server.url}/v1/me`)).status).toBe(401)
    expect((await events({ action: "token_rejected", limit: "200" })).events.length).toBe(before)

    const viewer = await apiClient(server.url, "viewer@demo.scopeline.dev")
    expect((await viewer.get("/v1/admin/users")).status).toBe(403)
    const denied = await events({ action: "permission_denied", actor_id: await userId("viewer@demo.scopeline.dev") })
    expect(denied.events[0]).toMatchObject({ actor: { role: "viewer" }, object: { id: "/v1/admin/users" }, details: { reason: "requires administer" } })
  })

  test("a security event that cannot be written never turns a 401 or 403 into a 500", async () => {
    await db`ALTER TABLE audit_events ADD CONSTRAINT refuse_refusals CHECK (action NOT IN ('token_rejected', 'permission_denied', 'login_failed')) NOT VALID`
    try {
      expect((await fetch(`${server.url}/v1/me`, { headers: { authorization: `Bearer ${admin.jwt}x` } })).status).toBe(401)
      const viewer = await apiClient(server.url, "viewer@demo.scopeline.dev")
      expect((await viewer.get("/v1/admin/users")).status).toBe(403)
      expect((await login("viewer@demo.scopeline.dev", "not it")).status).toBe(401)
    } finally {
      await db`ALTER TABLE audit_events DROP CONSTRAINT refuse_refusals`
    }
  })

  test("an account change and its event commit together: when the event cannot be written, nothing changes", async () => {
    const viewer = await userId("viewer@demo.scopeline.dev")
    await db`ALTER TABLE audit_events ADD CONSTRAINT refuse_role_changes CHECK (action <> 'role_changed') NOT VALID`
    try {
      const response = await admin.patch(`/v1/admin/users/${viewer}`, { role: "accountant" })
      expect(response.status).toBe(500)
      const body = (await response.json()) as { error: { code: string } }
      expect(body.error.code).toBe("internal_error")
    } finally {
      await db`ALTER TABLE audit_events DROP CONSTRAINT refuse_role_changes`
    }
    const [row] = await db`SELECT role FROM users WHERE id = ${viewer}`
    expect(row.role).toBe("viewer")
    const changed = await admin.patch(`/v1/admin/users/${viewer}`, { role: "accountant" })
    expect(changed.status).toBe(200)
    const recorded = await events({ action: "role_changed", object_id: viewer })
    expect(recorded.events).toHaveLength(1)
    expect(recorded.events[0]).toMatchObject({ details: { from: "viewer", to: "accountant" }, actor: { user_id: await userId("admin@demo.scopeline.dev") } })
    await admin.patch(`/v1/admin/users/${viewer}`, { role: "viewer" })
  })
})

describe("an upload's story", () => {
  test("one correlation id follows an upload from its request through notify, parse and match", async () => {
    const accountant = await apiClient(server.url, "accountant@demo.scopeline.dev")
    const correlationId = `story-${crypto.randomUUID()}`
    const target = (await (
      await fetch(`${server.url}/v1/upload/new?filename=story.csv`, {
        headers: { authorization: `Bearer ${accountant.jwt}`, "x-correlation-id": correlationId },
      })
    ).json()) as { upload_id: string; url: string; method: string; headers: Record<string, string> }
    const file = "description,quantity,unit,date\nDiesel for the delivery vans,120,L,2024-01-05\nGrid electricity,900,kWh,2024-01-31\n"
    expect((await fetch(target.url, { method: target.method, headers: target.headers, body: file })).status).toBe(201)
    expect((await accountant.post("/v1/upload", { upload_id: target.upload_id })).status).toBe(204)
    await settledUpload(accountant, target.upload_id)

    const deadline = Date.now() + 30_000
    let story: Array<EventJson> = []
    while (Date.now() < deadline) {
      story = ((await (await accountant.get(`/v1/uploads/${target.upload_id}/history`)).json()) as { events: Array<EventJson> }).events
      if (story.some((event) => event.action === "upload_calculated")) break
      await Bun.sleep(200)
    }
    expect(story.map((event) => event.action)).toEqual(["upload_created", "upload_confirmed", "upload_parsed", "upload_calculated"])
    expect(new Set(story.map((event) => event.correlation.correlation_id))).toEqual(new Set([correlationId]))
    expect(story.map((event) => event.context.service)).toEqual(["server", "server", "worker", "worker"])
    expect(story[2]!.details).toMatchObject({ row_count: 2 })
    // The same story from the admin's log, by correlation id (newest first there).
    const byCorrelation = await events({ correlation_id: correlationId })
    expect(byCorrelation.events.map((event) => event.event_id).reverse()).toEqual(story.map((event) => event.event_id))
  })

  test("a rejected file's story ends in upload_rejected with the reason", async () => {
    const accountant = await apiClient(server.url, "accountant@demo.scopeline.dev")
    const id = await uploadFile(accountant, "description,quantity,unit,date\nDiesel,lots,L,2024-01-05\n")
    await settledUpload(accountant, id)
    const story = ((await (await accountant.get(`/v1/uploads/${id}/history`)).json()) as { events: Array<EventJson> }).events
    expect(story.map((event) => event.action)).toEqual(["upload_created", "upload_confirmed", "upload_rejected"])
    expect(story[2]).toMatchObject({ outcome: { status: "failure", error_code: "file_rejected" }, details: { error_count: 1 } })
    expect((await accountant.get(`/v1/uploads/${crypto.randomUUID()}/history`)).status).toBe(404)
  })
})

describe("reading the log", () => {
  test("newest first, keyset pages that cover the log exactly once; a forged cursor is 400", async () => {
    const all = await events({ limit: "200" })
    const seen: Array<string> = []
    let cursor: string | null = null
    do {
      const page: { events: Array<EventJson>; next_cursor: string | null } = await events({ limit: "3", ...(cursor ? { cursor } : {}) })
      seen.push(...page.events.map((event) => event.event_id))
      cursor = page.next_cursor
    } while (cursor !== null && seen.length <= all.events.length + 3)
    // Events written while paging appear on no page of this walk (it started before them).
    expect(seen.slice(0, all.events.length)).toEqual(all.events.map((event) => event.event_id))
    expect(new Set(seen).size).toBe(seen.length)
    const times = all.events.map((event) => Date.parse(event.timestamp))
    expect([...times].sort((a, b) => b - a)).toEqual(times)
    for (const bad of ["bm90LWEtY3Vyc29y", "!!", "MA"]) {
      expect((await admin.get(`/v1/admin/audit-events?cursor=${bad}`)).status).toBe(400)
    }
    expect((await admin.get("/v1/admin/audit-events?category=nonsense")).status).toBe(400)
    expect((await admin.get("/v1/admin/audit-events?from=yesterday")).status).toBe(400)
    // A day or time the calendar does not have is refused, not moved to the next day.
    for (const instant of ["2026-02-30", "2025-02-29", "2026-01-31T24:00", "2026-01-31T12:60:00Z", "2026-01-31T12:00:00+24:00"]) {
      const response = await admin.get(`/v1/admin/audit-events?${new URLSearchParams({ from: instant })}`)
      expect({ instant, status: response.status }).toEqual({ instant, status: 400 })
    }
    // A period that ends before it starts, or an action the log never records, would look like an empty log.
    expect((await admin.get("/v1/admin/audit-events?from=2026-03-01&to=2026-01-01")).status).toBe(400)
    expect((await admin.get("/v1/admin/audit-events?action=bogus")).status).toBe(400)
    expect((await admin.get("/v1/admin/audit-events?action=site_created")).status).toBe(200)
    // An action typed in capitals or with spaces around it is the same action.
    const typed = (await (await admin.get(`/v1/admin/audit-events?${new URLSearchParams({ action: " Login_Succeeded " })}`)).json()) as { events: Array<{ action: string }> }
    expect(typed.events.length).toBeGreaterThan(0)
    expect(new Set(typed.events.map((event) => event.action))).toEqual(new Set(["login_succeeded"]))
    for (const instant of ["2024-02-29", "2026-01-31T23:59:59.5Z", "2026-01-31T12:00+01:00"]) {
      expect((await admin.get(`/v1/admin/audit-events?${new URLSearchParams({ to: instant })}`)).status).toBe(200)
    }
    const security = await events({ category: "security", from: "2000-01-01", to: "2999-01-01" })
    expect(security.events.every((event) => event.category === "security")).toBe(true)
  })

  test("a process starting with a version the log has not seen records release_started, once", async () => {
    const releases = await events({ action: "release_started" })
    expect(releases.events).toHaveLength(1)
    expect(releases.events[0]).toMatchObject({ category: "delivery", object: { type: "release" } })
    const again = await startServer({ DATABASE_URL: server.databaseUrl })
    await again.stop()
    expect((await events({ action: "release_started" })).events).toHaveLength(1)
  })

  test("the page reads a From time typed without a zone in the reader's timezone, as its rows show times", async () => {
    expect((await admin.patch("/v1/me", { preferences: { timezone: "Asia/Singapore" } })).status).toBe(200)
    try {
      await apiClient(server.url, "viewer@demo.scopeline.dev", DEMO_TEST_PASSWORD)
      // Two minutes ago on a Singapore wall clock (UTC+8): read as UTC it would be eight hours ahead.
      const singapore = new Date(Date.now() - 120_000 + 8 * 3_600_000).toISOString().slice(0, 16)
      const html = await (await admin.get(`/admin/audit?${new URLSearchParams({ action: "login_succeeded", from: singapore })}`)).text()
      expect(html).toContain("From (Asia/Singapore)")
      expect(html).toContain('data-action="login_succeeded"')
    } finally {
      await admin.patch("/v1/me", { preferences: { timezone: "UTC" } })
    }
  })

  test("only admins read the log", async () => {
    const accountant = await apiClient(server.url, "accountant@demo.scopeline.dev", DEMO_TEST_PASSWORD)
    expect((await accountant.get("/v1/admin/audit-events")).status).toBe(403)
  })
})
