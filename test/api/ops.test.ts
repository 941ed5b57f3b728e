import { csrfTokenFor } from "@scopeline/ui/session"
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import type { SQL } from "bun"
import { apiClient, type ApiClient } from "../support/api.ts"
import { insertDeadLetter, testSql } from "../support/factories.ts"
import { seedDemo } from "../support/seed.ts"
import { startServer, type TestServer } from "../support/server.ts"

interface DeadLetterJson {
  id: string
  queue: string
  body: string
  receive_count: number
  last_error: string | null
  dead_at: string
  replay_url: string
}

let server: TestServer
let sql: SQL
let admin: ApiClient
let accountant: ApiClient
let viewer: ApiClient

const deadLetters = async () => {
  const response = await admin.get("/v1/admin/dead-letters")
  expect(response.status).toBe(200)
  return ((await response.json()) as { dead_letters: Array<DeadLetterJson> }).dead_letters
}

const waitingIn = async (queue: string) => {
  const rows = (await sql`SELECT body FROM queue_messages WHERE queue = ${queue} ORDER BY id`) as Array<{ body: string }>
  return rows.map((row) => row.body)
}

beforeAll(async () => {
  server = await startServer()
  await seedDemo(server.databaseUrl)
  sql = testSql(server.databaseUrl)
  admin = await apiClient(server.url, "admin@demo.scopeline.dev")
  accountant = await apiClient(server.url, "accountant@demo.scopeline.dev")
  viewer = await apiClient(server.url, "viewer@demo.scopeline.dev")
})
afterAll(async () => {
  await sql?.close()
  await server?.stop()
})

describe("dead letters", () => {
  test("lists the dead letters of both queues with their error", async () => {
    const parse = await insertDeadLetter(sql, "parse", { upload_id: "u-1" }, "blob not found")
    const match = await insertDeadLetter(sql, "match", { match_key: "k-1" }, "matcher timed out")
    const letters = await deadLetters()
    expect(letters.find((l) => l.id === parse)).toMatchObject({
      queue: "parse",
      body: JSON.stringify({ upload_id: "u-1" }),
      receive_count: 5,
      last_error: "blob not found",
      replay_url: `/v1/admin/dead-letters/parse/${parse}/replay`,
    })
    expect(letters.find((l) => l.id === match)?.last_error).toBe("matcher timed out")
  })

  test("replaying puts the message back on its queue and removes the dead letter", async () => {
    const id = await insertDeadLetter(sql, "match", { match_key: "replay-me" }, "boom")
    const response = await admin.post(`/v1/admin/dead-letters/match/${id}/replay`)
    expect(response.status).toBe(200)
    expect(await response.json()).toEqual({ replayed: { id, queue: "match" } })
    expect((await deadLetters()).some((l) => l.id === id)).toBe(false)
    expect(await waitingIn("match")).toContain(JSON.stringify({ match_key: "replay-me" }))
    // Replaying twice is a 404: the letter is gone.
    expect((await admin.post(`/v1/admin/dead-letters/match/${id}/replay`)).status).toBe(404)
    // Who replayed what is in the audit log, once.
    const [adminRow] = await sql`SELECT id FROM users WHERE email = 'admin@demo.scopeline.dev'`
    const replays = await sql`SELECT actor_user_id, details::text AS details FROM audit_events WHERE action = 'dead_letter_replayed' AND object_id = ${id}`
    expect(replays).toHaveLength(1)
    expect(replays[0].actor_user_id).toBe(adminRow.id)
    expect(JSON.parse(replays[0].details)).toEqual({ queue: "match", dead_letter_id: id })
  })

  test("a replayed job's event names its upload, so the upload's history shows who replayed it", async () => {
    const upload = crypto.randomUUID()
    const id = await insertDeadLetter(sql, "parse", { _tag: "ParseJob", uploadId: upload.toUpperCase(), correlationId: "job-corr-12345" }, "boom")
    expect((await admin.post(`/v1/admin/dead-letters/parse/${id}/replay`)).status).toBe(200)
    const [adminRow] = await sql`SELECT id FROM users WHERE email = 'admin@demo.scopeline.dev'`
    const [event] = await sql`SELECT object_type, actor_user_id, details::text AS details FROM audit_events WHERE action = 'dead_letter_replayed' AND object_id = ${upload}`
    expect({ type: event.object_type, by: event.actor_user_id, details: JSON.parse(event.details) }).toEqual({
      type: "upload",
      by: adminRow.id,
      details: { queue: "parse", dead_letter_id: id, job_correlation_id: "job-corr-12345" },
    })
    const story = (await (await admin.get(`/v1/uploads/${upload}/history`)).json()) as { events: Array<{ action: string }> }
    expect(story.events.map((e) => e.action)).toContain("dead_letter_replayed")
  })

  test("the alias finds the queue itself, or takes it from ?queue=", async () => {
    const first = await insertDeadLetter(sql, "parse", { upload_id: "alias-1" }, "x")
    const second = await insertDeadLetter(sql, "parse", { upload_id: "alias-2" }, "x")
    const byId = await admin.post(`/v1/admin/dead-letters/${first}/replay`)
    expect(byId.status).toBe(200)
    expect(await byId.json()).toEqual({ replayed: { id: first, queue: "parse" } })
    expect((await admin.post(`/v1/admin/dead-letters/${second}/replay?queue=match`)).status).toBe(404)
    expect((await admin.post(`/v1/admin/dead-letters/${second}/replay?queue=parse`)).status).toBe(200)
    expect((await admin.post(`/v1/admin/dead-letters/${second}/replay?queue=nope`)).status).toBe(400)
  })

  test("replaying an unknown or out-of-range id, or on an unknown queue, is a 404", async () => {
    for (const path of ["match/999999", "parse/not-a-number", "999999", "nope/1", "parse/99999999999999999999", "99999999999999999999"]) {
      const response = await admin.post(`/v1/admin/dead-letters/${path}/replay`)
      expect(`${path}: ${response.status}`).toBe(`${path}: 404`)
      expect(((await response.json()) as { error: { code: string } }).error.code).toBe("not_found")
    }
  })

  test("only admins may list or replay", async () => {
    const id = await insertDeadLetter(sql, "parse", { upload_id: "guarded" }, "x")
    for (const client of [accountant, viewer]) {
      expect((await client.get("/v1/admin/dead-letters")).status).toBe(403)
      expect((await client.get("/v1/admin/queues")).status).toBe(403)
      const replay = await client.post(`/v1/admin/dead-letters/parse/${id}/replay`)
      expect(replay.status).toBe(403)
      expect(((await replay.json()) as { error: { details: { required_permission: string } } }).error.details.required_permission).toBe("operate")
    }
    expect((await deadLetters()).some((l) => l.id === id)).toBe(true)
    expect((await fetch(`${server.url}/v1/admin/dead-letters`)).status).toBe(401)
  })

  test("a cookie session must send the CSRF token to replay", async () => {
    const id = await insertDeadLetter(sql, "parse", { upload_id: "csrf" }, "x")
    const csrf = csrfTokenFor(admin.jwt)
    const cookie = `scopeline_session=${admin.jwt}; scopeline_csrf=${csrf}`
    const url = `${server.url}/v1/admin/dead-letters/parse/${id}/replay`
    expect((await fetch(url, { method: "POST", headers: { cookie } })).status).toBe(403)
    expect((await fetch(url, { method: "POST", headers: { cookie, "x-csrf-token": "d".repeat(43) } })).status).toBe(403)
    expect((await fetch(url, { method: "POST", headers: { cookie, "x-csrf-token": csrf } })).status).toBe(200)
  })
})

describe("GET /v1/admin/queues", () => {
  test("shows waiting, in-flight and dead messages per queue", async () => {
    await sql`DELETE FROM queue_messages`
    await sql`DELETE FROM dead_letters`
    await sql`INSERT INTO queue_messages (queue, body) VALUES ('parse', '{}'), ('parse', '{}')`
    await sql`INSERT INTO queue_messages (queue, body, visible_at, receive_count) VALUES ('match', '{}', now() + interval '5 minutes', 1)`
    await insertDeadLetter(sql, "match", {}, "x")
    const response = await admin.get("/v1/admin/queues")
    expect(response.status).toBe(200)
    expect(await response.json()).toEqual({
      queues: [
        { name: "parse", visible: 2, in_flight: 0, dead_letters: 0 },
        { name: "match", visible: 0, in_flight: 1, dead_letters: 1 },
        { name: "export", visible: 0, in_flight: 0, dead_letters: 0 },
      ],
    })
  })
})
