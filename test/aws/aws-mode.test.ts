import type { RunningMatcher } from "@scopeline/matcher/server"
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { mkdtempSync, readdirSync, readFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { apiClient, type ApiClient } from "../support/api.ts"
import type { TestServer } from "../support/server.ts"
import { startWorker, type TestWorker } from "../support/worker.ts"
import { catalogueDatabase, startTestMatcher } from "../match/support.ts"
import { testSql } from "../support/factories.ts"
import {
  BUCKET,
  eventually,
  type FakeAws,
  type FakeCognito,
  ISSUER,
  objectCreatedEvent,
  postToS3,
  type PresignedPost,
  REGION,
  startFakeAws,
  startFakeCognito,
  startServerWith,
  stackSettings,
  startSwitchableProxy,
} from "./support.ts"

// AWS mode by configuration alone: the REAL server and worker, built from the same layers as in
// production, with BLOB_STORE=s3, QUEUE=sqs and AUTH=cognito pointing at boundary stand-ins (fauxqs
// for S3 + SQS, a fake Cognito for the JWKS and InitiateAuth), plus a real PostgreSQL and the
// reference matcher. Everything is observed through HTTP (and fauxqs' spy for what S3/SQS carried).
// The apps get the environment the tenant stack builds (infra/src/environment.ts), so a setting the
// stack forgets to pass is missing here as well.

/** The tenant's redrive maxReceiveCount: the queues are made with it and the stack passes it on. */
const MAX_RECEIVES = 3
const PASSWORD = "a cognito password 123"
const sample = readFileSync(join(import.meta.dir, "../../data/samples/supermarket-sg-2024-q1.csv"), "utf8")
const ROWS = sample.trim().split("\n").length - 1
/**
 * The sample with every description made new (a tag in front), so its match keys miss the match
 * cache that earlier uploads of the sample filled, and the matcher must be asked.
 */
const freshSample = () => {
  const tag = `Branch ${crypto.randomUUID().replace(/[^a-f]/g, "").slice(0, 6)} `
  const [header, ...rows] = sample.trim().split("\n")
  return [header, ...rows.map((row) => (row.startsWith('"') ? `"${tag}${row.slice(1)}` : `${tag}${row}`))].join("\n") + "\n"
}

let aws: FakeAws
let cognito: FakeCognito
let matcher: RunningMatcher
let matcherProxy: ReturnType<typeof startSwitchableProxy>
let server: TestServer
let dataDir: string
let worker: TestWorker
let admin: ApiClient
let databaseUrl: string
let accountant: ApiClient
let viewer: ApiClient

interface UploadJson {
  readonly status: string
  readonly row_count: number | null
  readonly activities: Record<string, number>
}
interface DeadLetterJson {
  readonly id: string
  readonly queue: string
  readonly body: string
  readonly receive_count: number
  readonly replay_url: string
}

const uploadView = async (api: ApiClient, id: string) => (await (await api.get(`/v1/uploads/${id}`)).json()) as UploadJson
const newTarget = async (api: ApiClient) => {
  const response = await api.get("/v1/upload/new?filename=supermarket.csv")
  expect(response.status).toBe(200)
  return (await response.json()) as PresignedPost
}
/** Polls until the parse settles; a timeout reports the last state (pending_upload, uploaded, parsing …). */
const settledUpload = (api: ApiClient, id: string, timeoutMs = 30_000) =>
  eventually(
    () => uploadView(api, id),
    (view) => view.status === "parsed" || view.status === "failed",
    timeoutMs,
    `upload ${id} settled`,
  )
const allCalculated = (api: ApiClient, id: string, timeoutMs = 30_000) =>
  eventually(
    () => uploadView(api, id),
    (view) => view.activities.calculated === ROWS,
    timeoutMs,
    `activities of ${id} calculated`,
  )
const deadLetters = async (api: ApiClient) => {
  const response = await api.get("/v1/admin/dead-letters")
  expect(response.status).toBe(200)
  return ((await response.json()) as { dead_letters: Array<DeadLetterJson> }).dead_letters
}

beforeAll(async () => {
  aws = await startFakeAws(MAX_RECEIVES)
  cognito = await startFakeCognito()
  for (const [email, groups] of [
    ["admin@tenant.example", ["admin"]],
    ["accountant@tenant.example", ["accountant", "some-other-group"]],
    ["viewer@tenant.example", ["viewer"]],
  ] as const) {
    cognito.addUser({ email, password: PASSWORD, groups, givenName: "Ada", familyName: email.split("@")[0]! })
  }
  // A migrated database with the factor catalogue loaded, so matching can run end to end.
  databaseUrl = await catalogueDatabase()
  matcher = await startTestMatcher()
  matcherProxy = startSwitchableProxy(matcher.url)
  dataDir = mkdtempSync(join(tmpdir(), "scopeline-aws-mode-"))
  server = await startServerWith({
    // QUEUE_MAX_RECEIVES comes from here, as in AWS: no test sets it by hand.
    ...stackSettings(aws, cognito, { maxReceiveCount: MAX_RECEIVES, matcherUrl: matcherProxy.url }),
    // Only an empty directory, to prove nothing lands on local disk. No JWT_SECRET: Cognito signs.
    DATA_DIR: dataDir,
    DATABASE_URL: databaseUrl,
    MATCHER_MAX_RETRIES: "0",
    MATCHER_RETRY_BASE_MS: "10",
    MATCHER_BREAKER_THRESHOLD: "1000",
    LOG_LEVEL: process.env.AWS_TEST_LOG_LEVEL ?? "Error",
  })
  worker = await startWorker(server.settings)
  admin = await apiClient(server.url, "admin@tenant.example", PASSWORD)
  accountant = await apiClient(server.url, "accountant@tenant.example", PASSWORD)
  viewer = await apiClient(server.url, "viewer@tenant.example", PASSWORD)
}, 120_000)

afterAll(async () => {
  await worker?.stop()
  await server?.stop()
  matcherProxy?.stop()
  await matcher?.stop()
  cognito?.stop()
  await aws?.stop()
})

describe("AWS mode (S3, SQS, Cognito) by configuration alone", () => {
  test("login goes through Cognito's InitiateAuth and returns its ID token; /v1/me shows the role from cognito:groups; a viewer may not upload", async () => {
    const before = cognito.requests.length
    const response = await fetch(`${server.url}/v1/auth/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ credentials: { login: "accountant@tenant.example", password: PASSWORD } }),
    })
    expect(response.status).toBe(200)
    const { jwt } = (await response.json()) as { jwt: string }
    expect(cognito.requests.length).toBe(before + 1)
    expect(cognito.requests.at(-1)).toMatchObject({
      target: "AWSCognitoIdentityProviderService.InitiateAuth",
      body: { AuthFlow: "USER_PASSWORD_AUTH", AuthParameters: { USERNAME: "accountant@tenant.example" } },
    })
    // The token is Cognito's (RS256, issued by the pool), not one the app minted.
    const [header, payload] = jwt.split(".").slice(0, 2).map((part) => JSON.parse(Buffer.from(part, "base64url").toString()))
    expect(header).toMatchObject({ alg: "RS256", kid: "aws-mode-key-1" })
    expect(payload).toMatchObject({ iss: ISSUER, token_use: "id", "cognito:groups": ["accountant", "some-other-group"] })

    const me = await fetch(`${server.url}/v1/me`, { headers: { authorization: `Bearer ${jwt}` } })
    expect(me.status).toBe(200)
    expect(await me.json()).toMatchObject({ email: "accountant@tenant.example", role: "accountant" })
    expect(await (await admin.get("/v1/me")).json()).toMatchObject({ email: "admin@tenant.example", role: "admin" })
    expect(await (await viewer.get("/v1/me")).json()).toMatchObject({ email: "viewer@tenant.example", role: "viewer" })

    const wrong = await fetch(`${server.url}/v1/auth/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ credentials: { login: "accountant@tenant.example", password: "not the password" } }),
    })
    expect(wrong.status).toBe(401)
    expect((await viewer.get("/v1/upload/new")).status).toBe(403)

    // The role follows the Cognito groups: the same user, moved to "viewer", signs in as a viewer.
    const demoted = "demoted@tenant.example"
    cognito.addUser({ email: demoted, password: PASSWORD, groups: ["accountant"], givenName: "Dee", familyName: "Moted" })
    expect(await (await (await apiClient(server.url, demoted, PASSWORD)).get("/v1/me")).json()).toMatchObject({ role: "accountant" })
    cognito.setGroups(demoted, ["viewer"])
    const asViewer = await apiClient(server.url, demoted, PASSWORD)
    expect(await (await asViewer.get("/v1/me")).json()).toMatchObject({ email: demoted, role: "viewer" })
    expect((await asViewer.get("/v1/upload/new")).status).toBe(403)
  })

  test("an accountant uploads with an S3 presigned POST, notifies, and the parse and match jobs travel through SQS to calculated", async () => {
    const target = await newTarget(accountant)
    expect(target.method).toBe("POST")
    expect(target.url).toBe(`${aws.fauxqs.address}/${BUCKET}`)
    const key = `uploads/${target.upload_id}.csv`
    expect(target.fields).toMatchObject({ key, "Content-Type": "text/csv" })
    expect(target.fields?.Policy).toBeString()

    const stored = await postToS3(target, sample)
    expect(stored.status).toBe(204)
    await aws.fauxqs.spy.waitForMessage({ service: "s3", bucket: BUCKET, key, status: "uploaded" }, undefined, 2_000)

    expect((await accountant.post("/v1/upload", { upload_id: target.upload_id })).status).toBe(204)
    const view = await settledUpload(accountant, target.upload_id)
    expect(view.status).toBe("parsed")
    expect(view.row_count).toBe(ROWS)
    // The parse job went through SQS (outbox → relay → SendMessage) and was deleted after handling.
    const parseJob = await aws.fauxqs.spy.waitForMessage(
      (m) => m.service === "sqs" && m.queueName === aws.queues.parse.name && m.body.includes(target.upload_id),
      "consumed",
      5_000,
    )
    expect(parseJob.service).toBe("sqs")

    expect((await allCalculated(accountant, target.upload_id)).activities).toEqual({
      ingested: 0,
      matching: 0,
      calculated: ROWS,
      failed: 0,
    })
    await aws.fauxqs.spy.waitForMessage(
      (m) => m.service === "sqs" && m.queueName === aws.queues.match.name && m.body.includes(target.upload_id),
      "consumed",
      5_000,
    )
    // Nothing was written to local disk (no blobs, no generated JWT secret): the file lives in S3 only.
    expect(readdirSync(dataDir)).toEqual([])

    // An export of that upload travels through the export queue to S3 and downloads by a presigned GET.
    const asked = await accountant.post("/v1/exports", { format: "csv", kind: "activities", filters: { upload_id: target.upload_id } })
    expect(asked.status).toBe(202)
    const exportId = ((await asked.json()) as { export: { id: string } }).export.id
    let ready: { status: string; rows_written: number; download_url?: string } = { status: "queued", rows_written: 0 }
    const deadline = Date.now() + 30_000
    while (ready.status !== "ready" && ready.status !== "failed" && Date.now() < deadline) {
      await Bun.sleep(200)
      ready = (await (await accountant.get(`/v1/exports/${exportId}`)).json()) as typeof ready
    }
    expect(ready).toMatchObject({ status: "ready", rows_written: ROWS })
    expect(ready.download_url).toStartWith(`${aws.fauxqs.address}/${BUCKET}/exports/${exportId}.csv`)
    const file = await fetch(ready.download_url!)
    expect(file.status).toBe(200)
    expect((await file.text()).trim().split("\n")).toHaveLength(ROWS + 1)
    await aws.fauxqs.spy.waitForMessage(
      (m) => m.service === "sqs" && m.queueName === aws.queues.export.name && m.body.includes(exportId),
      "consumed",
      5_000,
    )
    expect(readdirSync(dataDir)).toEqual([])
  }, 60_000)

  test("S3 specifics: notify before the file is in S3 is 409, notify by the object's URL works, the local /blobs route is closed", async () => {
    const target = await newTarget(accountant)
    const key = `uploads/${target.upload_id}.csv`
    // HeadObject on a missing key is None, not an error: a 409 with the reason.
    const early = await accountant.post("/v1/upload", { upload_id: target.upload_id })
    expect(early.status).toBe(409)
    expect(((await early.json()) as { error: { message: string } }).error.message).toContain("has not arrived")

    // The embedded store's upload route refuses in S3 mode (browsers upload to S3 directly).
    const local = await fetch(`${server.url}/blobs/${key}?exp=9999999999&max=1000&sig=x`, { method: "PUT", body: sample })
    expect(local.status).toBe(403)
    expect(((await local.json()) as { error: { message: string } }).error.message).toContain("directly to S3")

    expect((await postToS3(target, sample)).status).toBe(204)
    // A POST target's URL is the bucket's, so it names no upload; the object's own URL does.
    expect((await accountant.post("/v1/upload", { presigned_url: target.url })).status).toBe(404)
    const objectUrl = `${aws.fauxqs.address}/${BUCKET}/${key}`
    expect((await accountant.post("/v1/upload", { presigned_url: objectUrl })).status).toBe(204)
    expect((await settledUpload(accountant, target.upload_id)).status).toBe("parsed")

    // The ops view reads the SQS queues' depths.
    const queues = await admin.get("/v1/admin/queues")
    expect(queues.status).toBe(200)
    const body = (await queues.json()) as { queues: Array<{ name: string; visible: number; in_flight: number; dead_letters: number }> }
    // The stack has no export queue yet: it is listed, empty, until it does.
    expect(body.queues.map((q) => q.name).sort()).toEqual(["export", "match", "parse"])
  }, 60_000)

  test("a lost notify: S3's ObjectCreated event on the parse queue confirms the upload and it is parsed", async () => {
    const target = await newTarget(accountant)
    const key = `uploads/${target.upload_id}.csv`
    expect((await postToS3(target, sample)).status).toBe(204)
    expect((await uploadView(accountant, target.upload_id)).status).toBe("pending_upload")

    // fauxqs does not implement bucket notifications (PutBucketNotificationConfiguration), so this
    // plays S3's part: on the object-created event it sends the notification body S3 would send.
    await aws.fauxqs.spy.waitForMessage({ service: "s3", bucket: BUCKET, key, status: "uploaded" }, undefined, 2_000)
    aws.fauxqs.sendMessage(aws.queues.parse.name, objectCreatedEvent(BUCKET, key, sample.length), { region: REGION })

    const view = await settledUpload(accountant, target.upload_id)
    expect(view.status).toBe("parsed")
    expect(view.row_count).toBe(ROWS)
    await allCalculated(accountant, target.upload_id)
  }, 60_000)

  test("a match job that keeps failing is dead-lettered by SQS's redrive, listed for the admin, and its replay completes the upload", async () => {
    matcherProxy.setDown(true)
    try {
      const target = await newTarget(accountant)
      expect((await postToS3(target, freshSample())).status).toBe(204)
      expect((await accountant.post("/v1/upload", { upload_id: target.upload_id })).status).toBe(204)
      expect((await settledUpload(accountant, target.upload_id)).status).toBe("parsed")

      // Deliveries 1 to 3 fail (matcher outage); SQS moves the message to the DLQ at the receive after
      // the 3rd. The 3rd, and only the 3rd, is the last attempt: it marks the waiting activities failed.
      // Each delivery asks the matcher for every key once, so the proxy's count is the delivery's number.
      const deliveryWhenFirstFailed = await eventually(
        async () => ({ failed: (await uploadView(accountant, target.upload_id)).activities.failed ?? 0, delivery: matcherProxy.refusedRounds() }),
        (seen) => seen.failed > 0,
        40_000,
        "activities marked failed",
      )
      expect(deliveryWhenFirstFailed.delivery).toBe(MAX_RECEIVES)
      await aws.fauxqs.spy.waitForMessage(
        (m) => m.service === "sqs" && m.body.includes(target.upload_id),
        "dlq",
        40_000,
      )
      // No 4th delivery reached the matcher; every waiting activity failed, with the outage as the reason.
      expect(matcherProxy.refusedRounds()).toBe(MAX_RECEIVES)
      expect((await uploadView(accountant, target.upload_id)).activities).toMatchObject({ failed: ROWS, calculated: 0 })
      const failed = (await (await accountant.get(`/v1/activities?upload_id=${target.upload_id}&status=failed&limit=100`)).json()) as {
        activities: Array<{ failure_reason: string | null }>
      }
      expect(failed.activities).toHaveLength(ROWS)
      for (const activity of failed.activities) expect(activity.failure_reason ?? "").toMatch(/503|unavailable|outage/i)

      expect((await accountant.get("/v1/admin/dead-letters")).status).toBe(403)
      const letters = await deadLetters(admin)
      const letter = letters.find((l) => l.body.includes(target.upload_id))
      expect(letter).toBeDefined()
      expect(letter).toMatchObject({ queue: "match", replay_url: `/v1/admin/dead-letters/match/${encodeURIComponent(letter!.id)}/replay` })
      expect(letter!.receive_count).toBeGreaterThanOrEqual(MAX_RECEIVES)
      // Listing is a peek: a second listing still shows it.
      expect((await deadLetters(admin)).map((l) => l.id)).toContain(letter!.id)

      matcherProxy.setDown(false)
      const replay = await admin.post(`/v1/admin/dead-letters/match/${encodeURIComponent(letter!.id)}/replay`)
      expect(replay.status).toBe(200)
      expect(await replay.json()).toEqual({ replayed: { id: letter!.id, queue: "match" } })
      expect((await deadLetters(admin)).map((l) => l.id)).not.toContain(letter!.id)
      // A second replay of the same letter finds nothing.
      expect((await admin.post(`/v1/admin/dead-letters/match/${encodeURIComponent(letter!.id)}/replay`)).status).toBe(404)

      expect((await allCalculated(accountant, target.upload_id)).activities).toMatchObject({ calculated: ROWS, failed: 0 })
    } finally {
      matcherProxy.setDown(false)
    }
  }, 90_000)

  test("a parse-queue message that is not a message at all ends in the parse DLQ and is listed", async () => {
    const body = `{"not":"a scopeline message","marker":"${crypto.randomUUID()}"}`
    aws.fauxqs.sendMessage(aws.queues.parse.name, body, { region: REGION })
    await aws.fauxqs.spy.waitForMessage((m) => m.service === "sqs" && m.body === body, "dlq", 40_000)
    const letter = (await deadLetters(admin)).find((l) => l.body === body)
    expect(letter).toMatchObject({ queue: "parse", body })
  }, 60_000)

  test("the team through Cognito: an invitation creates the user in its group, first sign-in chooses a password, role and deactivation follow", async () => {
    const email = `invited-${crypto.randomUUID().slice(0, 6)}@tenant.example`
    const invited = await admin.post("/v1/admin/invitations", { email, role: "accountant", firstname: "Nia", lastname: "Invited" })
    expect(invited.status).toBe(201)
    const { invitation } = (await invited.json()) as { invitation: { accept_url: string; role: string } }
    // Cognito mails its own invitation (a temporary password): the link is the sign-in page.
    expect(invitation.accept_url).toBe("https://tenant.scopeline.example/login")
    expect(cognito.user(email)).toMatchObject({ groups: ["accountant"], mustChangePassword: true, givenName: "Nia" })
    const temporary = cognito.invitationMail(email)!
    const team = (await (await admin.get("/v1/admin/users?limit=200")).json()) as { users: Array<{ id: string; email: string; invited_by: { email: string } | null }> }
    const row = team.users.find((user) => user.email === email)!
    expect(row.invited_by?.email).toBe("admin@tenant.example")

    const signIn = (credentials: Record<string, string>) =>
      fetch(`${server.url}/v1/auth/login`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ credentials }) })
    const first = await signIn({ login: email, password: temporary })
    expect(first.status).toBe(401)
    expect(((await first.json()) as { error: { code: string } }).error.code).toBe("new_password_required")
    const weak = await signIn({ login: email, password: temporary, new_password: "password1234" })
    expect(weak.status).toBe(400)
    const chosen = await signIn({ login: email, password: temporary, new_password: "granite lotus pepper kite" })
    expect(chosen.status).toBe(200)
    const { jwt } = (await chosen.json()) as { jwt: string }
    const me = (token: string) => fetch(`${server.url}/v1/me`, { headers: { authorization: `Bearer ${token}` } })
    expect(await (await me(jwt)).json()).toMatchObject({ email, role: "accountant" })

    // A role change moves the user between Cognito groups; the next sign-in carries the new group.
    expect((await admin.patch(`/v1/admin/users/${row.id}`, { role: "viewer" })).status).toBe(200)
    expect(cognito.user(email)?.groups).toEqual(["viewer"])
    const again = await signIn({ login: email, password: "granite lotus pepper kite" })
    expect(await (await me(((await again.json()) as { jwt: string }).jwt)).json()).toMatchObject({ role: "viewer" })

    // Deactivation disables the Cognito user, and the tokens it already holds are refused here.
    expect((await admin.patch(`/v1/admin/users/${row.id}`, { active: false })).status).toBe(200)
    expect(cognito.user(email)?.enabled).toBe(false)
    expect((await me(jwt)).status).toBe(401)
    expect((await signIn({ login: email, password: "granite lotus pepper kite" })).status).toBe(401)
    expect((await admin.delete(`/v1/admin/users/${row.id}`)).status).toBe(204)
    expect(cognito.user(email)).toBeUndefined()

    // A user the pool already has (added in the console) cannot be invited again; nothing is kept of the attempt.
    const known = `console-${crypto.randomUUID().slice(0, 6)}@tenant.example`
    cognito.addUser({ email: known, password: PASSWORD, groups: ["viewer"], givenName: "Con", familyName: "Sole" })
    const refused = await admin.post("/v1/admin/invitations", { email: known, role: "viewer" })
    expect(refused.status).toBe(409)
    const pending = (await (await admin.get("/v1/admin/invitations")).json()) as { invitations: Array<{ email: string }> }
    expect(pending.invitations.map((i) => i.email)).not.toContain(known)
  })

  test("a team change whose audit event cannot be written never reaches Cognito", async () => {
    const sql = testSql(databaseUrl)
    // Each event refused in turn, as a failing audit insert would be.
    const refusing = async (action: string, change: () => Promise<Response>) => {
      await sql.unsafe(`ALTER TABLE audit_events ADD CONSTRAINT planted_refusal CHECK (action <> '${action}') NOT VALID`)
      try {
        return await change()
      } finally {
        await sql.unsafe("ALTER TABLE audit_events DROP CONSTRAINT planted_refusal")
      }
    }
    try {
      const email = `unrecorded-${crypto.randomUUID().slice(0, 6)}@tenant.example`
      const invited = await refusing("invitation_created", () => admin.post("/v1/admin/invitations", { email, role: "accountant" }))
      expect(invited.status).toBe(500)
      expect(cognito.user(email)).toBeUndefined()
      expect(cognito.invitationMail(email)).toBeUndefined()

      expect((await admin.post("/v1/admin/invitations", { email, role: "accountant" })).status).toBe(201)
      const team = (await (await admin.get("/v1/admin/users?limit=200")).json()) as { users: Array<{ id: string; email: string }> }
      const id = team.users.find((user) => user.email === email)!.id
      expect((await refusing("role_changed", () => admin.patch(`/v1/admin/users/${id}`, { role: "viewer" }))).status).toBe(500)
      expect(cognito.user(email)?.groups).toEqual(["accountant"])
      expect((await refusing("user_deactivated", () => admin.patch(`/v1/admin/users/${id}`, { active: false }))).status).toBe(500)
      expect(cognito.user(email)?.enabled).not.toBe(false)
      expect((await refusing("user_deleted", () => admin.delete(`/v1/admin/users/${id}`))).status).toBe(500)
      expect(cognito.user(email)).toBeDefined()
    } finally {
      await sql.close()
    }
  })
})
