import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { SQL } from "bun"
import { apiClient, type ApiClient } from "../support/api.ts"
import { seedDemo } from "../support/seed.ts"
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

const FIRST = "amber falcon meadow tide"

/** A fresh account of our own (invited and accepted), so password changes touch nobody else. */
const person = async () => {
  const email = `acct-${crypto.randomUUID().slice(0, 8)}@example.com`
  const invitation = (await (await admin.post("/v1/admin/invitations", { email, role: "accountant" })).json()) as { invitation: { accept_url: string } }
  const token = new URL(invitation.invitation.accept_url).searchParams.get("token")
  const accepted = await fetch(`${server.url}/v1/invitations/accept`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ token, password: FIRST }),
  })
  expect(accepted.status).toBe(200)
  return { email, client: await apiClient(server.url, email, FIRST) }
}
const errorOf = async (response: Response) => ((await response.json()) as { error: { code: string; message: string; details?: unknown } }).error
const login = (login: string, password: string) =>
  fetch(`${server.url}/v1/auth/login`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ credentials: { login, password } }),
  })

describe("PATCH /v1/me", () => {
  test("changes the name and preferences given, keeps the rest, and answers with the new /v1/me", async () => {
    const { client } = await person()
    const response = await client.patch("/v1/me", {
      identity: { firstname: "Grace", lastname: "Hopper" },
      preferences: { timezone: "Asia/Singapore", time_format: 12 },
    })
    expect(response.status).toBe(200)
    expect(await response.json()).toMatchObject({
      identity: { firstname: "Grace", lastname: "Hopper" },
      preferences: { marketing_opted_in: false, time_format: 12, timezone: "Asia/Singapore" },
    })
    const partial = await client.patch("/v1/me", { preferences: { marketing_opted_in: true } })
    expect(await partial.json()).toMatchObject({
      identity: { firstname: "Grace" },
      preferences: { marketing_opted_in: true, time_format: 12, timezone: "Asia/Singapore" },
    })
    expect(await (await client.get("/v1/me")).json()).toMatchObject({ preferences: { marketing_opted_in: true } })
    // A timezone in any case is kept as the runtime spells it, so every page formats with one name.
    const lower = await client.patch("/v1/me", { preferences: { timezone: "europe/london" } })
    expect(await lower.json()).toMatchObject({ preferences: { timezone: "Europe/London" } })
  })

  test("an unknown timezone or a bad value is 400 naming the field, and changes nothing", async () => {
    const { client } = await person()
    for (const [body, path] of [
      [{ preferences: { timezone: "Mars/Olympus_Mons" } }, "preferences.timezone"],
      [{ preferences: { timezone: "" } }, "preferences.timezone"],
      [{ preferences: { time_format: 13 } }, "preferences.time_format"],
      [{ preferences: { marketing_opted_in: "yes" } }, "preferences.marketing_opted_in"],
      [{ identity: { firstname: "x".repeat(101) } }, "identity.firstname"],
    ] as const) {
      const response = await client.patch("/v1/me", body)
      expect(response.status).toBe(400)
      const paths = ((await errorOf(response)).details as Array<{ path: string }>).map((d) => d.path)
      expect(paths).toContain(path)
    }
    expect(await (await client.get("/v1/me")).json()).toMatchObject({ preferences: { timezone: "UTC", time_format: 24 } })
  })

  test("each change is an audit event naming the fields, not their values", async () => {
    const { email, client } = await person()
    await client.patch("/v1/me", { identity: { lastname: "Lovelace" } })
    const [user] = await db`SELECT id FROM users WHERE email = ${email}`
    const [event] = await db`SELECT details::text AS details FROM audit_events WHERE action = 'profile_updated' AND object_id = ${user.id}`
    expect(JSON.parse(event.details)).toEqual({ fields: ["lastName"] })
  })
})

describe("POST /v1/me/password", () => {
  test("signs out the other sessions, keeps this one on a new token, and the new password is the one that works", async () => {
    const { email, client } = await person()
    const other = await apiClient(server.url, email, FIRST)
    const NEXT = "cobalt harbour willow drum"
    const response = await client.post("/v1/me/password", { current_password: FIRST, new_password: NEXT })
    expect(response.status).toBe(200)
    const { jwt } = (await response.json()) as { jwt: string }
    expect((await fetch(`${server.url}/v1/me`, { headers: { authorization: `Bearer ${jwt}` } })).status).toBe(200)
    expect((await other.get("/v1/me")).status).toBe(401)
    expect((await client.get("/v1/me")).status).toBe(401)
    expect((await login(email, FIRST)).status).toBe(401)
    expect((await login(email, NEXT)).status).toBe(200)
    const [user] = await db`SELECT id FROM users WHERE email = ${email}`
    expect((await db`SELECT 1 FROM audit_events WHERE action = 'password_changed' AND object_id = ${user.id} AND outcome_status = 'success'`).length).toBe(1)
  })

  test("the same password rules as invitations: 400 naming the rule and the field", async () => {
    const { email, client } = await person()
    for (const [password, rule] of [
      ["short-one", "min_length"],
      [`${email}!`, "contains_email"],
      ["Welcome2024!!", "common"],
    ] as const) {
      const response = await client.post("/v1/me/password", { current_password: FIRST, new_password: password })
      expect(response.status).toBe(400)
      expect((await errorOf(response)).details).toEqual({ field: "new_password", rule })
    }
    expect((await login(email, FIRST)).status).toBe(200)
  })

  test("a wrong current password is 403 and counts toward sign-in throttling", async () => {
    const { email, client } = await person()
    for (let attempt = 0; attempt < 5; attempt++) {
      const response = await client.post("/v1/me/password", { current_password: `not it ${attempt}`, new_password: "cobalt harbour willow drum" })
      expect(response.status).toBe(403)
      expect((await errorOf(response)).details).toEqual({ field: "current_password" })
    }
    // Five failures for this login from this address: the next try, even with the right password, waits.
    const throttled = await client.post("/v1/me/password", { current_password: FIRST, new_password: "cobalt harbour willow drum" })
    expect(throttled.status).toBe(429)
    expect((await login(email, FIRST)).status).toBe(429)
    // The lock is a security event, like a throttled sign-in, by the account that hit it.
    const [locked] = await db`SELECT actor_user_id::text AS by, details FROM audit_events WHERE action = 'login_locked' AND correlation_id = ${throttled.headers.get("x-correlation-id")}`
    const [account] = await db`SELECT id::text AS id FROM users WHERE email = ${email}`
    expect(locked).toMatchObject({ by: account.id, details: { via: "password change" } })
  })
})
