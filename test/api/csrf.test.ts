import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { makeApp } from "@scopeline/server/app"
import type { ServerServices } from "@scopeline/server/ServerServices"
import { makeResponder } from "@scopeline/ui/respond"
import { csrfTokenFor } from "@scopeline/ui/session"
import { Runtime } from "effect"
import { apiClient } from "../support/api.ts"
import { testSql } from "../support/factories.ts"
import { DEMO_TEST_PASSWORD, seedDemo } from "../support/seed.ts"
import { startServer, type TestServer } from "../support/server.ts"

/**
 * Every state-changing page route, read from the app itself: a form added later is covered without
 * anyone remembering to add it here. The API (/v1) is covered by its own tests (bearer tokens are not
 * ambient, cookie sessions send the header); the blob endpoint is authorised by its signed URL.
 */
const routes = makeApp(makeResponder(Runtime.defaultRuntime as Runtime.Runtime<never> as Runtime.Runtime<ServerServices>))
  .routes.filter((route) => route.method !== "GET" && route.method !== "HEAD" && !route.path.startsWith("/v1/") && !route.path.startsWith("/blobs"))
  .map((route) => ({ method: route.method, path: route.path.replace(/:(\w+)/g, (_, name: string) => (name === "queue" ? "parse" : "1")) }))

let server: TestServer

beforeAll(async () => {
  server = await startServer()
  await seedDemo(server.databaseUrl)
})
afterAll(() => server.stop())

const TOKEN = "c".repeat(43)
const OTHER = "d".repeat(43)

describe("CSRF on every state-changing page form", () => {
  test("the app has such routes (sign-in, sign-out, dead-letter replay at least)", () => {
    expect(routes.map((r) => r.path)).toEqual(expect.arrayContaining(["/login", "/logout", "/ops/dead-letters/parse/1/replay"]))
  })

  for (const route of routes) {
    for (const [name, submitted] of [["without a token", undefined], ["with a foreign token", OTHER]] as const) {
      test(`${route.method} ${route.path} ${name} is refused with 403`, async () => {
        // A session of its own: a sign-out that slipped through must not sign the other tests out.
        const { jwt } = await apiClient(server.url, "admin@demo.scopeline.dev")
        const form = new URLSearchParams({ login: "admin@demo.scopeline.dev", password: "x" })
        if (submitted) form.set("_csrf", submitted)
        const response = await fetch(`${server.url}${route.path}`, {
          method: route.method,
          redirect: "manual",
          headers: { "content-type": "application/x-www-form-urlencoded", cookie: `scopeline_session=${jwt}; scopeline_csrf=${TOKEN}` },
          body: form,
        })
        expect(response.status).toBe(403)
        // A signed-in caller's refusal is a security event, whichever way the form carries its token.
        if (!SIGNED_OUT_FORMS.includes(route.path)) {
          const sql = testSql(server.databaseUrl)
          try {
            const [recorded] = await sql`
              SELECT count(*)::int AS n FROM audit_events
              WHERE action = 'permission_denied' AND details->>'reason' = 'csrf' AND details->>'path' = ${route.path}`
            expect({ path: route.path, recorded: recorded.n > 0 }).toEqual({ path: route.path, recorded: true })
          } finally {
            await sql.close()
          }
        }
      })
    }
  }
})

// Forms sent by someone not (or no longer) signed in: there is no caller to record a refusal against.
const SIGNED_OUT_FORMS = ["/login", "/logout", "/invitations/accept"]

describe("CSRF tokens are bound to the session", () => {
  const replayWith = async (session: string, token: string) =>
    (
      await fetch(`${server.url}/v1/admin/dead-letters/parse/1/replay`, {
        method: "POST",
        headers: { cookie: `scopeline_session=${session}; scopeline_csrf=${token}`, "x-csrf-token": token },
      })
    ).status

  test("a token planted in the cookie and echoed is refused; one made for this session passes", async () => {
    const { jwt } = await apiClient(server.url, "admin@demo.scopeline.dev")
    expect(await replayWith(jwt, "e".repeat(43))).toBe(403)
    // 404: past the CSRF check, there is no dead letter 1.
    expect(await replayWith(jwt, csrfTokenFor(jwt))).toBe(404)
  })

  test("a token made for another session is refused", async () => {
    const [mine, theirs] = await Promise.all([apiClient(server.url, "admin@demo.scopeline.dev"), apiClient(server.url, "admin@demo.scopeline.dev")])
    expect(await replayWith(mine.jwt, csrfTokenFor(theirs.jwt))).toBe(403)
  })

  test("signing in rotates the token: the sign-in page's token does not serve the new session", async () => {
    const loginPage = await fetch(`${server.url}/login`)
    const before = /name="_csrf" value="([^"]+)"/.exec(await loginPage.text())![1]!
    const signIn = await fetch(`${server.url}/login`, {
      method: "POST",
      redirect: "manual",
      headers: { "content-type": "application/x-www-form-urlencoded", cookie: `scopeline_csrf=${before}` },
      body: new URLSearchParams({ _csrf: before, login: "admin@demo.scopeline.dev", password: DEMO_TEST_PASSWORD }),
    })
    expect(signIn.status).toBe(303)
    const session = /scopeline_session=([^;]+)/.exec(signIn.headers.get("set-cookie") ?? "")![1]!
    expect(await replayWith(session, before)).toBe(403)
    const page = await fetch(`${server.url}/ops`, { headers: { cookie: `scopeline_session=${session}; scopeline_csrf=${before}` } })
    const after = /name="csrf-token" content="([^"]+)"|name="_csrf" value="([^"]+)"/.exec(await page.text())
    const token = after?.[1] ?? after?.[2]
    expect(token).toBeDefined()
    expect(token).not.toBe(before)
    expect(await replayWith(session, token!)).toBe(404)
  })
})
