import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { SQL } from "bun"
import { type ApiClient, apiClient, uploadFile } from "../support/api.ts"
import { seedDemo } from "../support/seed.ts"
import { csrfTokenFor } from "@scopeline/ui/session"
import { startServer, type TestServer } from "../support/server.ts"

let server: TestServer
let db: SQL
let admin: ApiClient

const STRONG = "lantern orbit cactus velvet"

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

interface InvitationJson {
  readonly id: string
  readonly email: string
  readonly role: string
  readonly expires_at: string
  readonly accept_url: string
}

const unique = (name: string) => `${name}-${crypto.randomUUID().slice(0, 8)}@example.com`

const invite = async (email: string, role = "accountant") => {
  const response = await admin.post("/v1/admin/invitations", { email, role, firstname: "Ines", lastname: "Invited" })
  expect(response.status).toBe(201)
  return ((await response.json()) as { invitation: InvitationJson }).invitation
}
const tokenOf = (invitation: InvitationJson) => new URL(invitation.accept_url).searchParams.get("token")!
const accept = (body: Record<string, unknown>) =>
  fetch(`${server.url}/v1/invitations/accept`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) })
const bearer = (jwt: string) => ({ authorization: `Bearer ${jwt}` })
const me = (jwt: string) => fetch(`${server.url}/v1/me`, { headers: bearer(jwt) })
const errorOf = async (response: Response) => ((await response.json()) as { error: { code: string; message: string; details?: Record<string, unknown> } }).error

/** A member of the team, invited and accepted: their id, email and token. */
const member = async (role: string) => {
  const email = unique(role)
  const invitation = await invite(email, role)
  const accepted = await accept({ token: tokenOf(invitation), password: STRONG })
  expect(accepted.status).toBe(200)
  const { jwt } = (await accepted.json()) as { jwt: string }
  const [row] = await db`SELECT id FROM users WHERE email = ${email}`
  return { id: row.id as string, email, jwt }
}

describe("invitations", () => {
  test("an admin invites someone; the link creates their account with the role, once", async () => {
    const email = unique("newcomer")
    const invitation = await invite(email)
    expect(invitation).toMatchObject({ email, role: "accountant" })
    // Valid for 72 hours by default.
    const hours = (Date.parse(invitation.expires_at) - Date.now()) / 3_600_000
    expect(hours).toBeGreaterThan(71.9)
    expect(hours).toBeLessThanOrEqual(72)
    expect(invitation.accept_url).toStartWith(`${server.url}/invitations/accept?token=`)
    // Only the token's hash is stored.
    const [stored] = await db`SELECT token_hash FROM invitations WHERE id = ${invitation.id}`
    expect(stored.token_hash).not.toContain(tokenOf(invitation))
    expect(stored.token_hash).toMatch(/^[0-9a-f]{64}$/)

    const pending = (await (await admin.get("/v1/admin/invitations")).json()) as { invitations: Array<{ id: string }> }
    expect(pending.invitations.map((i) => i.id)).toContain(invitation.id)

    const accepted = await accept({ token: tokenOf(invitation), password: STRONG, firstname: "Nadia" })
    expect(accepted.status).toBe(200)
    const { jwt } = (await accepted.json()) as { jwt: string }
    const profile = (await (await me(jwt)).json()) as { email: string; role: string; identity: { firstname: string; lastname: string } }
    expect(profile).toMatchObject({ email, role: "accountant", identity: { firstname: "Nadia", lastname: "Invited" } })
    // The link signs them in: their first session is a sign-in in the log like any other, with the acceptance.
    const [account] = await db`SELECT id::text AS id FROM users WHERE email = ${email}`
    const signIns = await db`SELECT details FROM audit_events WHERE action = 'login_succeeded' AND actor_user_id = ${account.id}::uuid`
    expect(signIns.map((row: { details: { via?: string } }) => row.details.via)).toEqual(["invitation"])
    // And they sign in with the password they chose.
    expect((await apiClient(server.url, email, STRONG)).jwt).toBeString()

    const again = await accept({ token: tokenOf(invitation), password: STRONG })
    expect(again.status).toBe(410)
    expect((await errorOf(again)).details).toEqual({ reason: "used" })
    const after = (await (await admin.get("/v1/admin/invitations")).json()) as { invitations: Array<{ id: string }> }
    expect(after.invitations.map((i) => i.id)).not.toContain(invitation.id)
  })

  test("a revoked link is 410 revoked; an expired one 410 expired; an unknown one 404", async () => {
    const revoked = await invite(unique("revoked"))
    expect((await admin.delete(`/v1/admin/invitations/${revoked.id}`)).status).toBe(204)
    const refused = await accept({ token: tokenOf(revoked), password: STRONG })
    expect(refused.status).toBe(410)
    expect((await errorOf(refused)).details).toEqual({ reason: "revoked" })
    // Revoking twice: there is no pending invitation any more.
    expect((await admin.delete(`/v1/admin/invitations/${revoked.id}`)).status).toBe(404)

    const expired = await invite(unique("expired"))
    await db`UPDATE invitations SET expires_at = now() - interval '1 minute' WHERE id = ${expired.id}`
    const late = await accept({ token: tokenOf(expired), password: STRONG })
    expect(late.status).toBe(410)
    expect((await errorOf(late)).details).toEqual({ reason: "expired" })

    expect((await accept({ token: "x".repeat(43), password: STRONG })).status).toBe(404)
  })

  test("weak passwords are 400 naming the rule, and the invitation stays usable", async () => {
    const email = unique("weak")
    const invitation = await invite(email)
    const cases: Array<[string, string]> = [
      ["short-pass1", "min_length"],
      [email, "contains_email"],
      [`${email.split("@")[0]}-2026!`, "contains_email"],
      ["Password123456!", "common"],
      ["qwertyuiop123", "common"],
      ["123456789012", "common"],
      ["aaaaaaaaaaaaaaaa", "common"],
    ]
    for (const [password, rule] of cases) {
      const response = await accept({ token: tokenOf(invitation), password })
      expect(response.status).toBe(400)
      const error = await errorOf(response)
      expect(error.code).toBe("weak_password")
      expect(error.details).toEqual({ field: "password", rule })
    }
    expect((await accept({ token: tokenOf(invitation), password: STRONG })).status).toBe(200)
  })

  test("an email that has an account, or a pending invitation, is 409 at invitation time", async () => {
    const taken = await admin.post("/v1/admin/invitations", { email: "Viewer@Demo.Scopeline.dev", role: "viewer" })
    expect(taken.status).toBe(409)
    expect((await errorOf(taken)).message).toContain("already exists")
    const email = unique("twice")
    await invite(email)
    const twice = await admin.post("/v1/admin/invitations", { email, role: "viewer" })
    expect(twice.status).toBe(409)
    expect((await errorOf(twice)).message).toContain("pending invitation")
  })

  test("bad invitation bodies are 400 naming the field", async () => {
    const response = await admin.post("/v1/admin/invitations", { email: "not-an-email", role: "owner" })
    expect(response.status).toBe(400)
    const paths = ((await errorOf(response)).details as unknown as Array<{ path: string }>).map((d) => d.path)
    expect(paths).toEqual(expect.arrayContaining(["email", "role"]))
    // Longer than mail systems deliver: it would be invited and never reached.
    for (const email of [`${"a".repeat(65)}@example.com`, `a@${"b".repeat(250)}.com`]) {
      const long = await admin.post("/v1/admin/invitations", { email, role: "viewer", firstname: "Long", lastname: "Address" })
      expect({ email: email.length, status: long.status }).toEqual({ email: email.length, status: 400 })
    }
    expect((await admin.post("/v1/admin/invitations", { email: `${"a".repeat(64)}@example.com`, role: "viewer", firstname: "Long", lastname: "Address" })).status).toBe(201)
  })
})

describe("running the team", () => {
  test("GET /v1/admin/users pages and shows active, last sign-in and who invited", async () => {
    const invited = await member("viewer")
    const page = (await (await admin.get("/v1/admin/users?offset=0&limit=2")).json()) as {
      total: number
      users: Array<Record<string, unknown>>
    }
    expect(page.users).toHaveLength(2)
    expect(page.total).toBeGreaterThanOrEqual(4)
    const all = (await (await admin.get(`/v1/admin/users?limit=200`)).json()) as { users: Array<Record<string, unknown>> }
    const row = all.users.find((u) => u.id === invited.id)!
    expect(row).toMatchObject({ email: invited.email, role: "viewer", active: true, invited_by: { email: "admin@demo.scopeline.dev" } })
    expect(Date.parse(String(row.last_sign_in_at))).toBeGreaterThan(Date.now() - 60_000)
    expect((await admin.get("/v1/admin/users?limit=0")).status).toBe(400)
  })

  test("a role change applies to that user's very next request", async () => {
    const person = await member("accountant")
    expect((await fetch(`${server.url}/v1/upload/new`, { headers: bearer(person.jwt) })).status).toBe(200)
    const changed = await admin.patch(`/v1/admin/users/${person.id}`, { role: "viewer" })
    expect(changed.status).toBe(200)
    expect(((await changed.json()) as { user: { role: string } }).user.role).toBe("viewer")
    // Same token, next request: the new role.
    expect((await fetch(`${server.url}/v1/upload/new`, { headers: bearer(person.jwt) })).status).toBe(403)
    expect(((await (await me(person.jwt)).json()) as { role: string }).role).toBe("viewer")
  })

  test("the team page's form deactivates only on its own value \"false\": any other is refused and changes nothing", async () => {
    const person = await member("accountant")
    const token = csrfTokenFor(admin.jwt)
    const post = (active: string) =>
      fetch(`${server.url}/admin/users/${person.id}`, {
        method: "POST",
        redirect: "manual",
        headers: { cookie: `scopeline_session=${admin.jwt}; scopeline_csrf=${token}`, "x-csrf-token": token, "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ active }),
      })
    for (const active of ["maybe", "1", "FALSE"]) {
      const refused = await post(active)
      expect({ active, status: refused.status }).toEqual({ active, status: 400 })
      expect((await me(person.jwt)).status).toBe(200)
    }
    expect((await post("false")).status).toBeLessThan(400)
    expect((await me(person.jwt)).status).toBe(401)
  })

  test("deactivation signs the account out at once and refuses sign-in; reactivation does not revive old sessions", async () => {
    const person = await member("accountant")
    expect((await admin.patch(`/v1/admin/users/${person.id}`, { active: false })).status).toBe(200)
    const refused = await me(person.jwt)
    expect(refused.status).toBe(401)
    expect((await errorOf(refused)).message).toContain("deactivated")
    const login = await fetch(`${server.url}/v1/auth/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ credentials: { login: person.email, password: STRONG } }),
    })
    expect(login.status).toBe(401)
    expect((await admin.patch(`/v1/admin/users/${person.id}`, { active: true })).status).toBe(200)
    expect((await me(person.jwt)).status).toBe(401)
    // A new sign-in right away works: tokens carry the millisecond they were issued.
    const fresh = await apiClient(server.url, person.email, STRONG)
    expect((await me(fresh.jwt)).status).toBe(200)
  })

  test("deleting an account removes it from sign-in; what it uploaded stays attributed to it", async () => {
    const person = await member("accountant")
    const client = await apiClient(server.url, person.email, STRONG)
    const uploadId = await uploadFile(client, "description,quantity,unit,date\nDiesel,10,L,2024-01-05\n")
    expect((await admin.delete(`/v1/admin/users/${person.id}`)).status).toBe(204)
    expect((await me(person.jwt)).status).toBe(401)
    const login = await fetch(`${server.url}/v1/auth/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ credentials: { login: person.email, password: STRONG } }),
    })
    expect(login.status).toBe(401)
    const [upload] = await db`SELECT accountant FROM uploads WHERE id = ${uploadId}`
    expect(upload.accountant).toBe(person.id)
    const listed = (await (await admin.get("/v1/admin/users?limit=200")).json()) as { users: Array<{ id: string }> }
    expect(listed.users.map((u) => u.id)).not.toContain(person.id)
    // The email is free again: the person can be invited back.
    await invite(person.email)
    expect((await admin.delete(`/v1/admin/users/${person.id}`)).status).toBe(404)
  })

  test("the last active admin cannot be demoted, deactivated or deleted (409); with two admins one can step down", async () => {
    const [first] = await db`SELECT id FROM users WHERE email = 'admin@demo.scopeline.dev'`
    const adminId = first.id as string
    for (const [call, what] of [
      [() => admin.patch(`/v1/admin/users/${adminId}`, { role: "accountant" }), "demote"],
      [() => admin.patch(`/v1/admin/users/${adminId}`, { active: false }), "deactivate"],
      [() => admin.delete(`/v1/admin/users/${adminId}`), "delete"],
    ] as const) {
      const response = await call()
      expect({ what, status: response.status }).toEqual({ what, status: 409 })
      expect((await errorOf(response)).code).toBe("last_active_admin")
    }
    const second = await member("admin")
    const secondAdmin = { get: (path: string) => fetch(`${server.url}${path}`, { headers: bearer(second.jwt) }) }
    expect((await secondAdmin.get("/v1/admin/users")).status).toBe(200)
    const stepDown = await admin.patch(`/v1/admin/users/${second.id}`, { role: "viewer" })
    expect(stepDown.status).toBe(200)
    // Now the demo admin is the last one again.
    expect((await admin.patch(`/v1/admin/users/${adminId}`, { role: "viewer" })).status).toBe(409)
    // A deactivated admin does not count as an active one.
    const third = await member("admin")
    expect((await admin.patch(`/v1/admin/users/${third.id}`, { active: false })).status).toBe(200)
    expect((await admin.patch(`/v1/admin/users/${adminId}`, { role: "viewer" })).status).toBe(409)
  })

  test("unknown or malformed user ids are 404; an empty change is 400", async () => {
    expect((await admin.patch(`/v1/admin/users/${crypto.randomUUID()}`, { role: "viewer" })).status).toBe(404)
    expect((await admin.patch("/v1/admin/users/not-a-uuid", { role: "viewer" })).status).toBe(404)
    expect((await admin.delete("/v1/admin/invitations/not-a-uuid")).status).toBe(404)
    const [viewer] = await db`SELECT id FROM users WHERE email = 'viewer@demo.scopeline.dev'`
    expect((await admin.patch(`/v1/admin/users/${viewer.id}`, {})).status).toBe(400)
  })

  test("only admins run the team (403 for accountants and viewers)", async () => {
    const accountant = await apiClient(server.url, "accountant@demo.scopeline.dev")
    for (const [method, path] of [
      ["GET", "/v1/admin/users"],
      ["GET", "/v1/admin/invitations"],
      ["POST", "/v1/admin/invitations"],
      ["PATCH", `/v1/admin/users/${crypto.randomUUID()}`],
      ["DELETE", `/v1/admin/users/${crypto.randomUUID()}`],
      ["DELETE", `/v1/admin/invitations/${crypto.randomUUID()}`],
    ] as const) {
      const response = await fetch(`${server.url}${path}`, {
        method,
        headers: { ...bearer(accountant.jwt), "content-type": "application/json" },
        body: method === "GET" || method === "DELETE" ? undefined : JSON.stringify({ email: unique("x"), role: "viewer" }),
      })
      expect({ method, path, status: response.status }).toEqual({ method, path, status: 403 })
    }
  })
})
