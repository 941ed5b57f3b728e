import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { SQL } from "bun"
import { decodeJwt, SignJWT } from "jose"
import { Duration } from "effect"
import { delayFor, MAX_DELAY, SLOW_AFTER_FAILURES } from "@scopeline/accounts/LoginThrottle"
import { DEMO_TEST_PASSWORD as PASSWORD, seedDemo } from "../support/seed.ts"
import { startServer, type TestServer } from "../support/server.ts"

let server: TestServer

const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${server.url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  })

const get = (path: string, token?: string) =>
  fetch(`${server.url}${path}`, { headers: token ? { authorization: `Bearer ${token}` } : {} })

const login = async (email: string, password = PASSWORD) => {
  const response = await post("/v1/auth/login", { credentials: { login: email, password } })
  return { response, body: (await response.json()) as { jwt?: string; error?: { code: string; message: string } } }
}

const tokenFor = async (email: string) => {
  const { body } = await login(email)
  if (!body.jwt) throw new Error(`login failed for ${email}`)
  return body.jwt
}

beforeAll(async () => {
  server = await startServer()
  await seedDemo(server.databaseUrl)
})
afterAll(() => server.stop())

describe("POST /v1/auth/login", () => {
  test("returns a JWT carrying the user's uuid and role", async () => {
    const { response, body } = await login("accountant@demo.scopeline.dev")
    expect(response.status).toBe(200)
    const [, payload] = body.jwt!.split(".")
    const claims = JSON.parse(Buffer.from(payload!, "base64url").toString())
    expect(claims.role).toBe("accountant")
    expect(claims.uuid).toMatch(/^[0-9a-f-]{36}$/)
    expect(claims.exp - claims.iat).toBe(3600)
  })

  test("accepts the login in any letter case", async () => {
    const { response } = await login("Viewer@Demo.Scopeline.dev")
    expect(response.status).toBe(200)
  })

  test("rejects a wrong password with 401 and the error body", async () => {
    const { response, body } = await login("viewer@demo.scopeline.dev", "wrong")
    expect(response.status).toBe(401)
    expect(body.error?.code).toBe("unauthorized")
    expect(body.error?.message).toBe("The login or password is incorrect.")
  })

  test("answers an unknown login exactly like a wrong password", async () => {
    const { response, body } = await login("nobody@demo.scopeline.dev")
    expect(response.status).toBe(401)
    expect(body.error?.message).toBe("The login or password is incorrect.")
  })

  test("rejects malformed payloads with 400 and says which field", async () => {
    const notJson = await post("/v1/auth/login", "{not json")
    expect(notJson.status).toBe(400)
    const missing = await post("/v1/auth/login", { credentials: { login: "a@b.c" } })
    expect(missing.status).toBe(400)
    const body = (await missing.json()) as { error: { details: Array<{ path: string }> } }
    expect(body.error.details.map((d) => d.path)).toContain("credentials.password")
  })
})

describe("lockout", () => {
  test("locks a login for 15 minutes after 5 failures from one address, even with the right password", async () => {
    // Its own server and database: the lockout must not leak into the other tests.
    const own = await startServer()
    await seedDemo(own.databaseUrl)
    const attempt = (password: string) =>
      fetch(`${own.url}/v1/auth/login`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ credentials: { login: "admin@demo.scopeline.dev", password } }),
      })
    for (let i = 0; i < 5; i++) expect((await attempt(`wrong-${i}`)).status).toBe(401)
    const response = await attempt(PASSWORD)
    const body = (await response.json()) as { error?: { code: string } }
    await own.stop()
    expect(response.status).toBe(429)
    expect(body.error?.code).toBe("too_many_requests")
    const retryAfter = Number(response.headers.get("retry-after"))
    expect(retryAfter).toBeGreaterThan(800)
    expect(retryAfter).toBeLessThanOrEqual(900)
  })

})

describe("lockout under parallel attempts", () => {
  test("30 simultaneous wrong passwords get at most 5 answers of 401; the rest are 429", async () => {
    const own = await startServer()
    await seedDemo(own.databaseUrl)
    const attempt = () =>
      fetch(`${own.url}/v1/auth/login`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ credentials: { login: "viewer@demo.scopeline.dev", password: "guess" } }),
      }).then((r) => r.status)
    const statuses = await Promise.all(Array.from({ length: 30 }, attempt))
    await own.stop()
    expect(statuses.filter((s) => s === 401).length).toBeLessThanOrEqual(5)
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThanOrEqual(25)
  })
})

describe("tokens", () => {
  test("GET /v1/me answers in the seed's shape", async () => {
    const token = await tokenFor("accountant@demo.scopeline.dev")
    const response = await get("/v1/me", token)
    expect(response.status).toBe(200)
    expect(await response.json()).toEqual({
      identity: { firstname: "Chidi", lastname: "Accountant" },
      email: "accountant@demo.scopeline.dev",
      role: "accountant",
      preferences: { marketing_opted_in: false, time_format: 24, timezone: "UTC" },
    })
  })

  test("a role change or a deleted account applies at once, not when the token expires", async () => {
    const own = await startServer()
    await seedDemo(own.databaseUrl)
    const login = await fetch(`${own.url}/v1/auth/login`, {
      method: "POST",
      body: JSON.stringify({ credentials: { login: "admin@demo.scopeline.dev", password: PASSWORD } }),
    })
    const { jwt } = (await login.json()) as { jwt: string }
    const admin = () => fetch(`${own.url}/v1/admin/users`, { headers: { authorization: `Bearer ${jwt}` } }).then((r) => r.status)
    expect(await admin()).toBe(200)
    const db = new SQL(own.databaseUrl)
    await db`UPDATE users SET role = 'viewer' WHERE email = 'admin@demo.scopeline.dev'`
    expect(await admin()).toBe(403)
    await db`DELETE FROM login_failures`
    await db`DELETE FROM users WHERE email = 'admin@demo.scopeline.dev'`
    expect(await admin()).toBe(401)
    await db.close()
    await own.stop()
  })

  test("a malformed session cookie is treated as no session (401), never a server error", async () => {
    const response = await fetch(`${server.url}/v1/me`, { headers: { cookie: "scopeline_session=%E0" } })
    expect(response.status).toBe(401)
  })

  test("a missing token is 401", async () => {
    const response = await get("/v1/me")
    expect(response.status).toBe(401)
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe("unauthorized")
  })

  test("an unparsable token is 400", async () => {
    expect((await get("/v1/me", "not-a-jwt")).status).toBe(400)
  })

  test("a tampered token is 401", async () => {
    const token = await tokenFor("viewer@demo.scopeline.dev")
    const [header, payload, signature] = token.split(".")
    const claims = JSON.parse(Buffer.from(payload!, "base64url").toString())
    const forged = Buffer.from(JSON.stringify({ ...claims, role: "admin" })).toString("base64url")
    const response = await get("/v1/system/feature_flags", `${header}.${forged}.${signature}`)
    expect(response.status).toBe(401)
  })

  test("an expired token is 401", async () => {
    const token = await tokenFor("viewer@demo.scopeline.dev")
    const claims = JSON.parse(Buffer.from(token.split(".")[1]!, "base64url").toString())
    const key = new TextEncoder().encode(server.settings.JWT_SECRET)
    const expired = await new SignJWT({ uuid: claims.uuid, role: claims.role })
      .setProtectedHeader({ alg: "HS256" })
      .setSubject(claims.sub)
      .setIssuer("scopeline")
      .setIssuedAt(Math.floor(Date.now() / 1000) - 7200)
      .setExpirationTime(Math.floor(Date.now() / 1000) - 3600)
      .sign(key)
    const response = await get("/v1/me", expired)
    expect(response.status).toBe(401)
    expect(((await response.json()) as { error: { message: string } }).error.message).toContain("expired")
  })

  test("a token signed with another key is 401, though its claims are a real user's and would be accepted", async () => {
    const login = await fetch(`${server.url}/v1/auth/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ credentials: { login: "viewer@demo.scopeline.dev", password: PASSWORD } }),
    })
    const { jwt } = (await login.json()) as { jwt: string }
    const claims = decodeJwt(jwt)
    const signedWith = (secret: string) =>
      new SignJWT(claims).setProtectedHeader({ alg: "HS256" }).sign(new TextEncoder().encode(secret))
    // The same claims under the server's own key pass: only the key differs between the two.
    expect((await get("/v1/me", await signedWith(server.settings.JWT_SECRET!))).status).toBe(200)
    expect((await get("/v1/me", await signedWith("another-secret-another-secret-another-secret"))).status).toBe(401)
  })
})

describe("system API", () => {
  test("essentials need no authentication", async () => {
    const response = await get("/v1/system/essentials")
    expect(response.status).toBe(200)
    const body = (await response.json()) as Record<string, string>
    expect(Object.keys(body).sort()).toEqual(["help_url", "support_email", "version"])
    expect(body.version).toMatch(/^\d+\.\d+\.\d+/)
  })

  test("feature flags are a list of names and role-gated flags follow the role", async () => {
    const accountant = (await (await get("/v1/system/feature_flags", await tokenFor("accountant@demo.scopeline.dev"))).json()) as string[]
    const viewer = (await (await get("/v1/system/feature_flags", await tokenFor("viewer@demo.scopeline.dev"))).json()) as string[]
    expect(accountant).toContain("product_tips")
    expect(accountant).toContain("bulk_upload_hints")
    expect(viewer).not.toContain("bulk_upload_hints")
    expect(viewer).not.toContain("ops_console")
  })

  test("home has an announcement and product tips", async () => {
    const response = await get("/v1/home", await tokenFor("viewer@demo.scopeline.dev"))
    expect(response.status).toBe(200)
    const body = (await response.json()) as { announcement: string; product_tips: Array<Record<string, string>> }
    expect(body.announcement.length).toBeGreaterThan(0)
    expect(body.product_tips.length).toBeGreaterThan(0)
    expect(Object.keys(body.product_tips[0]!).sort()).toEqual(["description", "permalink", "title"])
  })

  test("unknown /v1 routes are a JSON 404", async () => {
    const response = await get("/v1/nothing-here")
    expect(response.status).toBe(404)
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe("not_found")
  })

  test("administration is admin-only: 403 for accountants and viewers", async () => {
    for (const email of ["accountant@demo.scopeline.dev", "viewer@demo.scopeline.dev"]) {
      const response = await get("/v1/admin/users", await tokenFor(email))
      expect(response.status).toBe(403)
      const body = (await response.json()) as { error: { code: string; details: { required_permission: string } } }
      expect(body.error.code).toBe("forbidden")
      expect(body.error.details.required_permission).toBe("administer")
    }
    const admin = await get("/v1/admin/users", await tokenFor("admin@demo.scopeline.dev"))
    expect(admin.status).toBe(200)
    const { users } = (await admin.json()) as { users: Array<{ email: string; role: string }> }
    expect(users.map((u) => `${u.email}:${u.role}`)).toEqual([
      "accountant@demo.scopeline.dev:accountant",
      "admin@demo.scopeline.dev:admin",
      "viewer@demo.scopeline.dev:viewer",
    ])
  })

  test("healthz and readyz answer", async () => {
    expect((await get("/healthz")).status).toBe(200)
    expect((await get("/readyz")).status).toBe(200)
  })
})

describe("signing out", () => {
  const signInForm = async () => {
    const form = await fetch(`${server.url}/login`)
    const csrf = /name="_csrf" value="([^"]+)"/.exec(await form.text())![1]!
    const csrfCookie = form.headers.getSetCookie().map((c) => c.split(";")[0]).join("; ")
    const signedIn = await fetch(`${server.url}/login`, {
      method: "POST",
      redirect: "manual",
      headers: { "content-type": "application/x-www-form-urlencoded", cookie: csrfCookie },
      body: new URLSearchParams({ _csrf: csrf, login: "viewer@demo.scopeline.dev", password: PASSWORD }),
    })
    expect(signedIn.status).toBe(303)
    const session = signedIn.headers.getSetCookie().map((c) => c.split(";")[0]).join("; ")
    // Signing in rotates the CSRF token: the first page of the new session hands out its own.
    const home = await fetch(`${server.url}/`, { headers: { cookie: `${csrfCookie}; ${session}` } })
    const rotated = /name="_csrf" value="([^"]+)"/.exec(await home.text())![1]!
    const rotatedCookie = home.headers.getSetCookie().map((c) => c.split(";")[0]).join("; ")
    return { csrf: rotated, cookie: `${rotatedCookie}; ${session}` }
  }

  test("signing out of the page revokes the session: the same cookie is refused afterwards", async () => {
    const { csrf, cookie } = await signInForm()
    expect((await fetch(`${server.url}/v1/me`, { headers: { cookie } })).status).toBe(200)
    const signedOut = await fetch(`${server.url}/logout`, {
      method: "POST",
      redirect: "manual",
      headers: { "content-type": "application/x-www-form-urlencoded", cookie },
      body: new URLSearchParams({ _csrf: csrf }),
    })
    expect(signedOut.status).toBe(303)
    // A copy of the cookie kept from before (the browser itself dropped it) no longer signs anyone in.
    const replayed = await fetch(`${server.url}/v1/me`, { headers: { cookie } })
    expect(replayed.status).toBe(401)
    expect(((await replayed.json()) as { error: { message: string } }).error.message).toContain("signed out")
    const page = await fetch(`${server.url}/activities`, { headers: { cookie }, redirect: "manual" })
    expect(page.status).toBe(303)
    expect(page.headers.get("location")).toStartWith("/login")
  })

  test("POST /v1/auth/logout revokes the bearer token; other sessions of the user go on", async () => {
    const other = await tokenFor("viewer@demo.scopeline.dev")
    const token = await tokenFor("viewer@demo.scopeline.dev")
    const logout = await fetch(`${server.url}/v1/auth/logout`, { method: "POST", headers: { authorization: `Bearer ${token}` } })
    expect(logout.status).toBe(204)
    expect((await get("/v1/me", token)).status).toBe(401)
    expect((await get("/v1/me", other)).status).toBe(200)
    expect((await get("/v1/me", await tokenFor("viewer@demo.scopeline.dev"))).status).toBe(200)
  })

  test("a correctly signed token without an expiry is refused (401)", async () => {
    const claims = JSON.parse(Buffer.from((await tokenFor("viewer@demo.scopeline.dev")).split(".")[1]!, "base64url").toString())
    const key = new TextEncoder().encode(server.settings.JWT_SECRET)
    const forever = await new SignJWT({ uuid: claims.uuid, role: claims.role })
      .setProtectedHeader({ alg: "HS256" })
      .setSubject(claims.sub)
      .setIssuer("scopeline")
      .setIssuedAt()
      .setJti(crypto.randomUUID())
      .sign(key)
    expect((await get("/v1/me", forever)).status).toBe(401)
  })
})

describe("throttling by address", () => {
  /** A server behind a (pretend) proxy, so each request can name the client address it comes from. */
  const behindProxy = async () => {
    const own = await startServer({ TRUSTED_PROXY: "true" })
    await seedDemo(own.databaseUrl)
    const attempt = (from: string, login: string, password: string) =>
      fetch(`${own.url}/v1/auth/login`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-forwarded-for": from },
        body: JSON.stringify({ credentials: { login, password } }),
      })
    return { own, attempt }
  }

  test("a stranger's wrong passwords lock the stranger out, not the owner signing in from elsewhere", async () => {
    const { own, attempt } = await behindProxy()
    try {
      for (let i = 0; i < 5; i++) expect((await attempt("203.0.113.1", "admin@demo.scopeline.dev", `wrong-${i}`)).status).toBe(401)
      const stranger = await attempt("203.0.113.1", "admin@demo.scopeline.dev", PASSWORD)
      expect(stranger.status).toBe(429)
      expect(Number(stranger.headers.get("retry-after"))).toBeGreaterThan(800)
      expect((await attempt("198.51.100.7", "admin@demo.scopeline.dev", PASSWORD)).status).toBe(200)
      // The owner's success does not reset the stranger's count.
      expect((await attempt("203.0.113.1", "admin@demo.scopeline.dev", PASSWORD)).status).toBe(429)
    } finally {
      await own.stop()
    }
  })

  test("30 failed logins on different accounts from one address, and that address is refused", async () => {
    const { own, attempt } = await behindProxy()
    try {
      for (let i = 0; i < 30; i++) expect((await attempt("203.0.113.2", `nobody-${i}@demo.scopeline.dev`, "guess")).status).toBe(401)
      const next = await attempt("203.0.113.2", "viewer@demo.scopeline.dev", "guess")
      expect(next.status).toBe(429)
      expect(Number(next.headers.get("retry-after"))).toBeGreaterThan(0)
      expect((await attempt("198.51.100.8", "viewer@demo.scopeline.dev", PASSWORD)).status).toBe(200)
    } finally {
      await own.stop()
    }
  })

  test("a guess spread over many addresses slows the login down but never locks its owner out", async () => {
    const { own, attempt } = await behindProxy()
    try {
      for (let i = 0; i < 12; i++) expect((await attempt(`203.0.113.${10 + i}`, "viewer@demo.scopeline.dev", "guess")).status).toBe(401)
      const started = performance.now()
      expect((await attempt("198.51.100.9", "viewer@demo.scopeline.dev", PASSWORD)).status).toBe(200)
      // 12 failures: 100 ms × 2² before the password is even checked.
      expect(performance.now() - started).toBeGreaterThanOrEqual(400)
    } finally {
      await own.stop()
    }
  })

  test("without TRUSTED_PROXY, X-Forwarded-For is ignored: naming a new address per request gains nothing", async () => {
    const own = await startServer()
    await seedDemo(own.databaseUrl)
    try {
      const attempt = (from: string, password: string) =>
        fetch(`${own.url}/v1/auth/login`, {
          method: "POST",
          headers: { "content-type": "application/json", "x-forwarded-for": from },
          body: JSON.stringify({ credentials: { login: "viewer@demo.scopeline.dev", password } }),
        })
      for (let i = 0; i < 5; i++) expect((await attempt(`203.0.113.${i}`, "guess")).status).toBe(401)
      expect((await attempt("203.0.113.99", "guess")).status).toBe(429)
    } finally {
      await own.stop()
    }
  })

  test("the per-login delay grows with failures and stays bounded", () => {
    expect(Duration.toMillis(delayFor(SLOW_AFTER_FAILURES - 1))).toBe(0)
    let previous = 0
    for (let failures = SLOW_AFTER_FAILURES; failures < 10_000; failures += 7) {
      const millis = Duration.toMillis(delayFor(failures))
      expect(millis).toBeGreaterThanOrEqual(previous)
      expect(millis).toBeLessThanOrEqual(Duration.toMillis(MAX_DELAY))
      previous = millis
    }
    expect(previous).toBe(Duration.toMillis(MAX_DELAY))
  })
})
