import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { AuditLog } from "@scopeline/events"
import { refusalOf, Webhooks } from "@scopeline/webhooks"
import { startMatcher } from "@scopeline/matcher/server"
import { SQL, type Server } from "bun"
import { Effect, Layer, ManagedRuntime } from "effect"
import { createHmac, timingSafeEqual } from "node:crypto"
import { type ApiClient, apiClient, settledUpload, uploadFile } from "../support/api.ts"
import { configLayer, testSettings } from "../support/config.ts"
import { seedDemo, sqlLayer } from "../support/seed.ts"
import { startServer, type TestServer } from "../support/server.ts"
import { startWorker, type TestWorker } from "../support/worker.ts"

/** A real HTTP receiver, as a customer would run: it verifies each delivery's signature itself. */
interface Received {
  readonly path: string
  readonly body: string
  readonly headers: Record<string, string>
  readonly at: number
}
let receiver: Server<unknown>
const received: Array<Received> = []
const failing = new Set<string>()

let matcher: Awaited<ReturnType<typeof startMatcher>>
let server: TestServer
let worker: TestWorker
let db: SQL
let admin: ApiClient

const SETTINGS = { WEBHOOK_RETRY_BASE_MS: "100", WEBHOOK_MAX_RETRIES: "2", WEBHOOK_TIMEOUT_MS: "2000", WEBHOOK_RATE_PER_MINUTE: "5" }

beforeAll(async () => {
  receiver = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    fetch: async (request) => {
      const path = new URL(request.url).pathname
      received.push({ path, body: await request.text(), headers: Object.fromEntries(request.headers), at: Date.now() })
      return failing.has(path) ? new Response("down for maintenance", { status: 503 }) : new Response(null, { status: 204 })
    },
  })
  matcher = await startMatcher({ port: 0 })
  server = await startServer({ LOAD_CATALOGUE: "true", MATCHER_URL: matcher.url, ...SETTINGS })
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
  receiver?.stop(true)
})

const hook = async (path: string, events: ReadonlyArray<string>) => {
  const response = await admin.post("/v1/admin/webhooks", { url: `http://127.0.0.1:${receiver.port}${path}`, events })
  expect(response.status).toBe(201)
  return ((await response.json()) as { webhook: { id: string; secret: string } }).webhook
}
const at = (path: string) => received.filter((r) => r.path === path)
const waitFor = async (what: string, check: () => boolean | Promise<boolean>, timeoutMs = 20_000) => {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await Bun.sleep(50)
  }
}
/** The receiver's check: HMAC-SHA-256 of "<timestamp>.<body>" with the secret, and a fresh timestamp. */
const verified = (delivery: Received, secret: string) => {
  const timestamp = Number(delivery.headers["x-scopeline-timestamp"])
  const expected = `sha256=${createHmac("sha256", secret).update(`${timestamp}.${delivery.body}`).digest("hex")}`
  const given = delivery.headers["x-scopeline-signature"] ?? ""
  return given.length === expected.length && timingSafeEqual(Buffer.from(given), Buffer.from(expected)) && Math.abs(Date.now() / 1000 - timestamp) < 300
}

describe("webhooks", () => {
  test("send test: the receiver gets a signed delivery it can verify; a tampered body or a wrong secret fails the check", async () => {
    const { id, secret } = await hook("/test", ["upload.calculated"])
    expect(secret).toMatch(/^whsec_/)
    const sent = await admin.post(`/v1/admin/webhooks/${id}/test`)
    expect(sent.status).toBe(202)
    const { delivery: queued } = (await sent.json()) as { delivery: { id: string } }
    const [event] = await db`SELECT category, actor_role, details->>'delivery_id' AS delivery_id FROM audit_events WHERE action = 'webhook_test_sent' AND object_id = ${id}`
    expect(event).toEqual({ category: "security", actor_role: "admin", delivery_id: queued.id })
    // A webhook that is not there (never was, or deleted) is a 404 and records nothing.
    const deleted = await hook("/deleted", ["upload.calculated"])
    expect((await admin.delete(`/v1/admin/webhooks/${deleted.id}`)).status).toBe(204)
    for (const missing of [deleted.id, crypto.randomUUID()]) {
      expect((await admin.post(`/v1/admin/webhooks/${missing}/test`)).status).toBe(404)
      expect(await db`SELECT 1 FROM audit_events WHERE action = 'webhook_test_sent' AND object_id = ${missing}`).toHaveLength(0)
    }
    await waitFor("the test delivery", () => at("/test").length === 1)
    const [delivery] = at("/test")
    expect(delivery!.headers["x-scopeline-event"]).toBe("webhook.test")
    expect(JSON.parse(delivery!.body)).toMatchObject({ type: "webhook.test", data: { message: "A test delivery from Scopeline." } })
    expect(verified(delivery!, secret)).toBe(true)
    expect(verified({ ...delivery!, body: delivery!.body.replace("test", "tset") }, secret)).toBe(false)
    expect(verified(delivery!, "whsec_not-the-secret")).toBe(false)
    const listed = (await (await admin.get("/v1/admin/webhooks")).json()) as { webhooks: Array<{ id: string }> }
    expect(JSON.stringify(listed)).not.toContain(secret)
  })

  test("an upload's calculation is delivered as upload.calculated", async () => {
    const { secret } = await hook("/calculated", ["upload.calculated"])
    const accountant = await apiClient(server.url, "accountant@demo.scopeline.dev")
    const uploadId = await uploadFile(accountant, "description,quantity,unit,date\nDiesel for the vans,50,L,2024-01-05\n")
    await settledUpload(accountant, uploadId)
    await waitFor("upload.calculated", () => at("/calculated").some((d) => d.body.includes(uploadId)))
    const delivery = at("/calculated").find((d) => d.body.includes(uploadId))!
    expect(JSON.parse(delivery.body)).toMatchObject({ type: "upload.calculated", data: { upload_id: uploadId } })
    expect(verified(delivery, secret)).toBe(true)
  })

  test("a failing receiver is retried with growing waits, then the delivery is dead, listed, recorded, and replayable", async () => {
    failing.add("/flaky")
    const { id } = await hook("/flaky", ["upload.calculated"])
    await admin.post(`/v1/admin/webhooks/${id}/test`)
    // 1 attempt + WEBHOOK_MAX_RETRIES (2) retries, 100 ms then 200 ms apart at least.
    await waitFor("the last retry", () => at("/flaky").length === 3)
    const times = at("/flaky").map((d) => d.at)
    expect(times[1]! - times[0]!).toBeGreaterThanOrEqual(90)
    expect(times[2]! - times[1]!).toBeGreaterThanOrEqual(190)
    let dead: Array<{ id: string; attempts: number; last_error: string; replay_url: string }> = []
    await waitFor("the dead delivery", async () => {
      dead = ((await (await admin.get("/v1/admin/webhook-deliveries?status=dead")).json()) as { deliveries: typeof dead }).deliveries.filter((d) =>
        d.last_error?.includes("503"),
      )
      return dead.length === 1
    })
    expect(dead[0]).toMatchObject({ attempts: 3, last_error: "the receiver answered HTTP 503" })
    await Bun.sleep(300)
    expect(at("/flaky")).toHaveLength(3)
    const [event] = await db`SELECT outcome_error_code FROM audit_events WHERE action = 'webhook_dead_lettered' AND object_id = ${dead[0]!.id}`
    expect(event.outcome_error_code).toBe("http_503")

    failing.delete("/flaky")
    expect((await admin.post(dead[0]!.replay_url)).status).toBe(200)
    await waitFor("the replayed delivery", () => at("/flaky").length === 4)
    await waitFor("delivered", async () => (await db`SELECT status FROM webhook_deliveries WHERE id = ${dead[0]!.id}`)[0].status === "delivered")
    expect((await admin.post(dead[0]!.replay_url)).status).toBe(404)
  })

  test("a receiver nobody listens at is dead after its retries, with a last error in words, under its own heading on the operations page", async () => {
    // A port that was just free: nothing listens there once this server is stopped.
    const gone = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response(null, { status: 204 }) })
    const port = gone.port
    gone.stop(true)
    const created = await admin.post("/v1/admin/webhooks", { url: `http://127.0.0.1:${port}/nobody`, events: ["upload.calculated"] })
    expect(created.status).toBe(201)
    const { id } = ((await created.json()) as { webhook: { id: string } }).webhook
    await admin.post(`/v1/admin/webhooks/${id}/test`)
    let dead: Array<{ attempts: number; last_error: string; url: string }> = []
    await waitFor("the dead delivery", async () => {
      dead = ((await (await admin.get("/v1/admin/webhook-deliveries?status=dead")).json()) as { deliveries: typeof dead }).deliveries.filter((d) =>
        d.url.includes(`:${port}/`),
      )
      return dead.length === 1
    })
    expect(dead[0]).toMatchObject({ attempts: 3, last_error: "could not deliver: the receiver refused the connection (nothing listens at that address and port)" })
    const page = await fetch(`${server.url}/ops`, { headers: { cookie: `scopeline_session=${admin.jwt}` } })
    const html = await page.text()
    expect(html).toContain("<h2>Dead webhook deliveries</h2>")
    expect(html).toContain("<h2>Dead letters in the job queues</h2>")
    expect(html).toContain("dead (retries used up)")
    expect(html).not.toContain("Is the computer able to access the url?")
  })

  test("the same event twice within 5 minutes is delivered once; each webhook is held to its rate", async () => {
    const runtime = ManagedRuntime.make(
      Webhooks.Default.pipe(Layer.provideMerge(AuditLog.Default), Layer.provideMerge(sqlLayer(server.databaseUrl)), Layer.provide(configLayer(testSettings())), Layer.orDie),
    )
    try {
      await hook("/dedupe", ["site.limit_exceeded"])
      const publish = (key: string) =>
        runtime.runPromise(Webhooks.pipe(Effect.flatMap((webhooks) => webhooks.publish({ type: "site.limit_exceeded", key, payload: { key } }))))
      expect(await publish("site-1:2026-12:100")).toHaveLength(1)
      expect(await publish("site-1:2026-12:100")).toHaveLength(0)
      await waitFor("the one delivery", () => at("/dedupe").length === 1)

      // WEBHOOK_RATE_PER_MINUTE is 5: eight distinct events, five sent now, three held for the minute.
      await hook("/busy", ["site.limit_warning"])
      const busy = (key: string) =>
        runtime.runPromise(Webhooks.pipe(Effect.flatMap((webhooks) => webhooks.publish({ type: "site.limit_warning", key, payload: { key } }))))
      for (let i = 0; i < 8; i++) await busy(`busy-${i}`)
      await waitFor("five deliveries", () => at("/busy").length >= 5)
      await Bun.sleep(1500)
      expect(at("/busy")).toHaveLength(5)
      const held = await db`SELECT next_attempt_at FROM webhook_deliveries WHERE status = 'queued' AND event_key LIKE 'busy-%'`
      expect(held).toHaveLength(3)
      for (const row of held) expect(new Date(row.next_attempt_at).getTime()).toBeGreaterThan(Date.now() + 30_000)
    } finally {
      await runtime.dispose()
    }
  })

  test("targets: private, link-local and metadata addresses are refused; loopback only in the embedded mode", async () => {
    for (const url of ["http://169.254.169.254/latest/meta-data", "http://10.0.0.7/hook", "http://[fd00:ec2::254]/", "ftp://example.com/", "http://user:pw@127.0.0.1/"]) {
      const response = await admin.post("/v1/admin/webhooks", { url, events: ["upload.calculated"] })
      expect({ url, status: response.status }).toEqual({ url, status: 400 })
    }
    expect(refusalOf("127.0.0.1", "public_and_loopback")).toBeUndefined()
    expect(refusalOf("127.0.0.1", "public")).toBe("a loopback address")
    expect(refusalOf("::1", "public")).toBe("a loopback address")
    expect(refusalOf("::ffff:192.168.1.20", "public_and_loopback")).toBe("a private, link-local or reserved address")
    expect(refusalOf("fe80::1", "public_and_loopback")).toBe("a private, link-local or reserved address")
    expect(refusalOf("93.184.215.14", "public")).toBeUndefined()
    // IPv6 forms that carry an IPv4 address (here the metadata address), and documentation ranges.
    const metadata = ["::a9fe:a9fe", "::ffff:a9fe:a9fe", "::ffff:0:a9fe:a9fe", "64:ff9b::a9fe:a9fe", "64:ff9b::169.254.169.254", "64:ff9b:1::a9fe:a9fe", "2002:a9fe:a9fe::1", "2001:0:a9fe:a9fe::1"]
    for (const address of [...metadata, "2001:db8::1", "3fff::1", "192.0.2.1", "198.51.100.7", "203.0.113.9", "192.88.99.1"]) {
      expect({ address, refusal: refusalOf(address, "public_and_loopback") }).toEqual({ address, refusal: "a private, link-local or reserved address" })
    }
    // The same forms carrying a public address are as public as it (DNS64 answers every IPv4-only host so).
    for (const address of ["2606:4700::6810:84e5", "64:ff9b::5db8:d70e", "64:ff9b::93.184.215.14", "2002:5db8:d70e::1", "::ffff:93.184.215.14"]) {
      expect({ address, refusal: refusalOf(address, "public") }).toEqual({ address, refusal: undefined })
    }
    expect(refusalOf("64:ff9b::7f00:1", "public")).toBe("a loopback address")

    const aws = await startServer({ DATABASE_URL: server.databaseUrl, WEBHOOK_TARGETS: "public" })
    try {
      const awsAdmin = await apiClient(aws.url, "admin@demo.scopeline.dev")
      const refused = await awsAdmin.post("/v1/admin/webhooks", { url: `http://127.0.0.1:${receiver.port}/x`, events: ["upload.calculated"] })
      expect(refused.status).toBe(400)
      expect(((await refused.json()) as { error: { code: string } }).error.code).toBe("webhook_target_refused")
    } finally {
      await aws.stop()
    }
  })

  test("a URL is stored as the URL parser reads it, the address that was checked", async () => {
    const long = await admin.post("/v1/admin/webhooks", { url: `http://127.0.0.1:${receiver.port}/${"é".repeat(700)}`, events: ["job.dead_lettered"] })
    expect(long.status).toBe(400)
    const cases: ReadonlyArray<readonly [string, string]> = [
      [`HTTP://127.0.0.1:${receiver.port}/up`, `http://127.0.0.1:${receiver.port}/up`],
      [`  Https://LOCALHOST:${receiver.port}`, `https://localhost:${receiver.port}/`],
      [`http:\\\\127.0.0.1:${receiver.port}\\up`, `http://127.0.0.1:${receiver.port}/up`],
    ]
    for (const [url, stored] of cases) {
      const response = await admin.post("/v1/admin/webhooks", { url, events: ["job.dead_lettered"] })
      expect({ url, status: response.status }).toEqual({ url, status: 201 })
      const { webhook } = (await response.json()) as { webhook: { id: string; url: string } }
      expect(webhook.url).toBe(stored)
      const [event] = await db`SELECT details->>'target' AS target FROM audit_events WHERE action = 'webhook_created' AND object_id = ${webhook.id}`
      expect(event.target).toBe(new URL(stored).origin)
      expect((await admin.delete(`/v1/admin/webhooks/${webhook.id}`)).status).toBe(204)
    }
  })

  test("the audit log records where a webhook points, never the secret in its path or query", async () => {
    const url = `http://127.0.0.1:${receiver.port}/hooks/T0001/s3cr3t-path?token=s3cr3t-query`
    const response = await admin.post("/v1/admin/webhooks", { url, events: ["job.dead_lettered"] })
    expect(response.status).toBe(201)
    const { webhook } = (await response.json()) as { webhook: { id: string; url: string } }
    expect(webhook.url).toBe(url)
    const [event] = await db`SELECT details::text AS details FROM audit_events WHERE action = 'webhook_created' AND object_id = ${webhook.id}`
    expect(JSON.parse(event.details)).toEqual({ target: `http://127.0.0.1:${receiver.port}`, events: ["job.dead_lettered"] })
    expect(event.details).not.toContain("s3cr3t")
    expect((await admin.delete(`/v1/admin/webhooks/${webhook.id}`)).status).toBe(204)
    const [deleted] = await db`SELECT details::text AS details FROM audit_events WHERE action = 'webhook_deleted' AND object_id = ${webhook.id}`
    expect(JSON.parse(deleted.details)).toEqual({ target: `http://127.0.0.1:${receiver.port}`, deliveries_cancelled: 0 })
  })

  test("only admins manage webhooks", async () => {
    const accountant = await apiClient(server.url, "accountant@demo.scopeline.dev")
    expect((await accountant.post("/v1/admin/webhooks", { url: "http://127.0.0.1/x", events: ["upload.calculated"] })).status).toBe(403)
    expect((await accountant.get("/v1/admin/webhook-deliveries")).status).toBe(403)
  })
})
