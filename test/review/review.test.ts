import { startMatcher } from "@scopeline/matcher/server"
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { parse } from "csv-parse/sync"
import { csrfTokenFor } from "@scopeline/ui/session"
import type { SQL } from "bun"
import { apiClient, type ApiClient, settledUpload, uploadFile } from "../support/api.ts"
import { insertActivities, insertUpload, testSql } from "../support/factories.ts"
import { seedDemo } from "../support/seed.ts"
import { startServer, type TestServer } from "../support/server.ts"
import { startWorker, type TestWorker } from "../support/worker.ts"

interface Activity {
  id: string
  description: string
  quantity: number
  match_source: string | null
  match_key: string | null
  confidence: number | null
  review_status: string | null
  decision_applies_to: string | null
  emissions: { amount: { quantity: number } } | null
  emission_factor: { id: string; provenance: { ref: string; factor_set: string } } | null
  metadata: { status: string }
}
interface Factor {
  id: string
  ref: string
  name: string
  unit: string
}
interface ReviewItem {
  match_key: string
  description: string
  activity_count: number
  failed_count: number
  kg_co2e: number
  factor: Factor | null
  confidence: number | null
  candidates: ReadonlyArray<{ factor: Factor; confidence: number }>
  activity_id: string
}

let matcher: Awaited<ReturnType<typeof startMatcher>>
let server: TestServer
let worker: TestWorker
let sql: SQL
let accountant: ApiClient
let admin: ApiClient
let viewer: ApiClient
let first: string

// A flight the reference matcher is unsure of (0.75: under the 0.8 gate), a taxi it cannot place,
// and diesel it knows well. Two rows share the flight's key.
const FILE = [
  "description,quantity,unit,date,geography",
  "Return flight Heathrow-Berlin eco,1200,passenger km,2024-01-10,GB",
  "Return flight Heathrow-Berlin eco,800,passenger km,2024-02-10,GB",
  "Hackney carriage journeys,40,passenger km,2024-01-11,GB",
  "Diesel,1000,litres,2024-01-12,GB",
].join("\n")

const requests = async () => ((await (await fetch(`${matcher.url}/stats`)).json()) as { requests: number }).requests

/** Uploads a file and waits until matching has settled every activity. */
const calculated = async (content: string) => {
  const id = await uploadFile(accountant, content)
  await settledUpload(accountant, id)
  const deadline = Date.now() + 30_000
  while (Date.now() < deadline) {
    const counts = (await (await accountant.get(`/v1/activities?upload_id=${id}&limit=1`)).json()) as { status_counts: Record<string, number> }
    if ((counts.status_counts.ingested ?? 0) + (counts.status_counts.matching ?? 0) === 0) return id
    await Bun.sleep(100)
  }
  throw new Error(`upload ${id} was not matched in time`)
}

const activitiesOf = async (uploadId: string) =>
  ((await (await accountant.get(`/v1/activities?upload_id=${uploadId}&limit=100`)).json()) as { activities: ReadonlyArray<Activity> }).activities

const byDescription = async (uploadId: string, description: string) => (await activitiesOf(uploadId)).filter((a) => a.description === description)

const queue = async (query = "") => (await (await accountant.get(`/v1/review${query}`)).json()) as { items: ReadonlyArray<ReviewItem>; next_cursor: string | null }

const factorByRef = async (ref: string) => {
  const [row] = await sql`SELECT id::text AS id, ref, name, unit, factor_value::text AS value FROM emission_factors WHERE ref = ${ref}`
  return row as Factor & { value: string }
}

beforeAll(async () => {
  matcher = await startMatcher({ port: 0 })
  server = await startServer({ LOAD_CATALOGUE: "true", MATCHER_URL: matcher.url })
  await seedDemo(server.databaseUrl)
  worker = await startWorker(server.settings)
  sql = testSql(server.databaseUrl)
  ;[accountant, admin, viewer] = await Promise.all([
    apiClient(server.url, "accountant@demo.scopeline.dev"),
    apiClient(server.url, "admin@demo.scopeline.dev"),
    apiClient(server.url, "viewer@demo.scopeline.dev"),
  ])
  first = await calculated(FILE)
}, 120_000)
afterAll(async () => {
  await sql?.close()
  await worker?.stop()
  await server?.stop()
  await matcher?.stop()
})

describe("the confidence gate", () => {
  test("an AI match below REVIEW_BELOW is calculated but needs review; at or above it is auto-accepted; the API filters by it", async () => {
    const all = await activitiesOf(first)
    const priced = all.filter((a) => a.metadata.status === "calculated")
    expect(priced.length).toBe(3)
    for (const a of priced) expect(a.review_status).toBe(a.confidence! < 0.8 ? "needs_review" : "auto_accepted")
    expect(new Set(priced.map((a) => a.review_status))).toEqual(new Set(["needs_review", "auto_accepted"]))
    // Without a factor there is nothing to review yet: the failed row's status says why.
    expect(all.find((a) => a.metadata.status === "failed")!.review_status).toBeNull()
    const flagged = (await (await accountant.get(`/v1/activities?upload_id=${first}&review_status=needs_review`)).json()) as { activities: ReadonlyArray<Activity> }
    expect(flagged.activities.map((a) => a.description).sort()).toEqual(priced.filter((a) => a.review_status === "needs_review").map((a) => a.description).sort())
    expect((await accountant.get("/v1/activities?review_status=maybe")).status).toBe(400)
    // The inventory counts them (they are in its totals) and says how many still wait for a person.
    const inventory = (await (await accountant.get(`/v1/inventory?upload_id=${first}`)).json()) as { coverage: { calculated: number; needs_review: number } }
    expect(inventory.coverage).toMatchObject({ calculated: 3, needs_review: flagged.activities.length })
  })

  test("an export filtered by review status holds those activities, each with its review_status column", async () => {
    const response = await accountant.post("/v1/exports", { format: "csv", kind: "activities", filters: { upload_id: first, review_status: "needs_review" } })
    expect(response.status).toBe(202)
    const { export: created } = (await response.json()) as { export: { id: string } }
    const deadline = Date.now() + 30_000
    let view: { status: string; download_url?: string } = { status: "queued" }
    while (Date.now() < deadline && view.status !== "ready" && view.status !== "failed") {
      await Bun.sleep(50)
      view = (await (await accountant.get(`/v1/exports/${created.id}`)).json()) as typeof view
    }
    expect(view.status).toBe("ready")
    const csv = await (await fetch(new URL(view.download_url!, server.url))).text()
    const rows = parse(csv, { columns: true, bom: true }) as ReadonlyArray<Record<string, string>>
    const flagged = (await activitiesOf(first)).filter((a) => a.review_status === "needs_review")
    expect(rows.map((r) => r.id).sort()).toEqual(flagged.map((a) => a.id).sort())
    expect(rows.map((r) => r.review_status)).toEqual(flagged.map(() => "needs_review"))
  })
})

describe("the review queue", () => {
  test("one item per match key, needs_review and failed keys, largest emissions first, with the matcher's candidates", async () => {
    const { items, next_cursor } = await queue()
    expect(next_cursor).toBeNull()
    const flight = items.find((i) => i.description.startsWith("Return flight"))!
    expect(flight.activity_count).toBe(2)
    expect(flight.confidence).toBeLessThan(0.8)
    expect(flight.candidates.length).toBeGreaterThan(1)
    expect(flight.candidates[0]!.factor.id).toBe(flight.factor!.id)
    const taxi = items.find((i) => i.description === "Hackney carriage journeys")!
    expect(taxi.failed_count).toBe(1)
    expect(taxi.factor).toBeNull()
    expect(items.some((i) => i.description === "Diesel")).toBe(false)
    expect(items.map((i) => i.kg_co2e)).toEqual([...items.map((i) => i.kg_co2e)].sort((a, b) => b - a))
  })

  test("pages by cursor without repeating or skipping a key; a forged cursor is 400", async () => {
    const whole = (await queue()).items.map((i) => i.match_key)
    const seen: string[] = []
    let cursor: string | null = null
    do {
      const page: { items: ReadonlyArray<ReviewItem>; next_cursor: string | null } = await queue(`?limit=1${cursor ? `&cursor=${cursor}` : ""}`)
      seen.push(...page.items.map((i) => i.match_key))
      cursor = page.next_cursor
    } while (cursor !== null)
    expect(seen).toEqual(whole)
    expect((await accountant.get("/v1/review?cursor=not-a-cursor")).status).toBe(400)
    // Well-formed JSON that this server never issued: a NUL in the key would fail PostgreSQL as a 500.
    for (const forged of [["-1", "\u0000"], ["1".repeat(50), "x"], ["1", "k".repeat(3000)]]) {
      const cursor = Buffer.from(JSON.stringify(forged)).toString("base64url")
      expect({ forged, status: (await accountant.get(`/v1/review?cursor=${cursor}`)).status }).toEqual({ forged, status: 400 })
    }
  })
})

describe("decisions", () => {
  test("a key decision changes every activity with the key, and the next upload reuses it without calling the matcher", async () => {
    const flight = (await queue()).items.find((i) => i.description.startsWith("Return flight"))!
    const choice = flight.candidates.find((c) => c.factor.id !== flight.factor!.id)!.factor
    // Another upload's row with the key that a running match job is still waiting on.
    const running = await insertUpload(sql, "accountant@demo.scopeline.dev")
    const [waiting] = await insertActivities(sql, running, [{ description: "Return flight Heathrow-Berlin eco", quantity: "300", unit: "passenger km", date: "2024-05-01", geography: "GB", status: "matching" }])
    await sql`UPDATE activities SET match_key = ${flight.match_key} WHERE id = ${waiting!}`
    const response = await accountant.post(`/v1/activities/${flight.activity_id}/decision`, { factor_id: choice.id, note: "economy, short haul" })
    expect(response.status).toBe(200)
    const body = (await response.json()) as { decision: { applies_to: string; factor: Factor; note: string }; activities_updated: number }
    expect(body.activities_updated).toBe(3)
    // Priced now: the job writes only rows still unsettled, so its answer cannot undo the decision.
    const [priced] = await sql`SELECT status::text AS status, matched_factor_id::text AS factor FROM activities WHERE id = ${waiting!}`
    expect(priced).toEqual({ status: "calculated", factor: choice.id })
    expect(body.decision.applies_to).toBe("key")
    expect(body.decision.factor.id).toBe(choice.id)
    const value = Number((await factorByRef(choice.ref)).value)
    for (const a of await byDescription(first, "Return flight Heathrow-Berlin eco")) {
      expect(a.emission_factor!.id).toBe(choice.id)
      expect(a.review_status).toBe("reviewed")
      expect(a.match_source).toBe("manual")
      expect(a.decision_applies_to).toBe("key")
      expect(a.emissions!.amount.quantity).toBeCloseTo(a.quantity * value, 9)
    }
    expect((await queue()).items.some((i) => i.match_key === flight.match_key)).toBe(false)

    const before = await requests()
    const next = await calculated(["description,quantity,unit,date,geography", "Return flight Heathrow-Berlin eco,500,passenger km,2024-03-10,GB"].join("\n"))
    expect(await requests()).toBe(before)
    const [reused] = await byDescription(next, "Return flight Heathrow-Berlin eco")
    expect(reused!.emission_factor!.id).toBe(choice.id)
    expect(reused!.match_source).toBe("cache")
    expect(reused!.review_status).toBe("reviewed")

    const audit = (await (await admin.get("/v1/admin/audit-events?action=match_decided")).json()) as { events: ReadonlyArray<{ object: { id: string }; details: Record<string, unknown> }> }
    const event = audit.events.find((e) => e.object.id === flight.match_key)!
    expect(event.details).toMatchObject({ applies_to: "key", factor_id: choice.id, activities_updated: 3, note: "economy, short haul" })
  }, 60_000)

  test("the matcher never overwrites a manual decision: a re-match of a decided key is 409", async () => {
    const [flight] = await byDescription(first, "Return flight Heathrow-Berlin eco")
    const response = await accountant.post(`/v1/activities/${flight!.id}/rematch`)
    expect(response.status).toBe(409)
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe("manual_decision")
  })

  test("history lists the first pricing and each change, in order, with who and why", async () => {
    const [flight] = await byDescription(first, "Return flight Heathrow-Berlin eco")
    const { history } = (await (await viewer.get(`/v1/activities/${flight!.id}/history`)).json()) as {
      history: ReadonlyArray<{ source: string; by: { id: string } | null; from_factor: Factor | null; to_factor: Factor | null; from_kg_co2e: number | null; to_kg_co2e: number | null; note: string | null }>
    }
    expect(history.map((h) => h.source)).toEqual(["ai", "manual"])
    expect(history[0]!.from_factor).toBeNull()
    expect(history[1]!.from_factor!.id).toBe(history[0]!.to_factor!.id)
    expect(history[1]!.from_kg_co2e).toBe(history[0]!.to_kg_co2e)
    expect(history[1]!.to_factor!.id).toBe(flight!.emission_factor!.id)
    expect(history[1]!.to_kg_co2e).toBe(flight!.emissions!.amount.quantity)
    expect(history[1]!.note).toBe("economy, short haul")
    expect(history[1]!.by).not.toBeNull()
    expect((await viewer.get(`/v1/activities/${crypto.randomUUID()}/history`)).status).toBe(404)
  })

  test("re-match asks the matcher again for the key, skipping the cache", async () => {
    const [diesel] = await byDescription(first, "Diesel")
    const before = await requests()
    const response = await accountant.post(`/v1/activities/${diesel!.id}/rematch`)
    expect(response.status).toBe(200)
    const body = (await response.json()) as { match: { factor: Factor; confidence: number; candidates: ReadonlyArray<unknown> }; activities_updated: number }
    expect(await requests()).toBe(before + 1)
    expect(body.match.factor.id).toBe(diesel!.emission_factor!.id)
    expect(body.activities_updated).toBeGreaterThanOrEqual(1)
    expect(body.match.candidates.length).toBeGreaterThan(0)
  })

  test("a row-only decision leaves the key's other activities alone, and a later key decision leaves that row alone", async () => {
    const second = await calculated(["description,quantity,unit,date,geography", "Diesel,250,litres,2024-04-01,GB"].join("\n"))
    const [mine] = await byDescription(first, "Diesel")
    const [other] = await byDescription(second, "Diesel")
    const biodiesel = (await sql`SELECT id::text AS id FROM emission_factors WHERE unit = 'litres' AND name ILIKE '%biodiesel%' ORDER BY ref LIMIT 1`)[0] as { id: string }
    const response = await accountant.post(`/v1/activities/${mine!.id}/decision`, { factor_id: biodiesel.id, applies_to: "activity" })
    expect(response.status).toBe(200)
    expect(((await response.json()) as { activities_updated: number }).activities_updated).toBe(1)
    expect((await byDescription(first, "Diesel"))[0]!.emission_factor!.id).toBe(biodiesel.id)
    expect((await byDescription(second, "Diesel"))[0]!.emission_factor!.id).toBe(other!.emission_factor!.id)

    const accept = await accountant.post(`/v1/activities/${other!.id}/decision`, { accept: true, note: "checked against the fuel card" })
    expect(accept.status).toBe(200)
    expect((await byDescription(first, "Diesel"))[0]!.emission_factor!.id).toBe(biodiesel.id)
    const [accepted] = await byDescription(second, "Diesel")
    expect(accepted!.review_status).toBe("reviewed")
    expect(accepted!.emission_factor!.id).toBe(other!.emission_factor!.id)
    // The acceptance is in the activity's history: who reviewed it, and the note, with nothing changed.
    const { history } = (await (await accountant.get(`/v1/activities/${other!.id}/history`)).json()) as {
      history: ReadonlyArray<{ source: string; by: { id: string } | null; from_factor: Factor | null; to_factor: Factor | null; from_kg_co2e: number | null; to_kg_co2e: number | null; note: string | null }>
    }
    const last = history.at(-1)!
    expect(last).toMatchObject({ source: "manual", note: "checked against the fuel card" })
    expect(last.by).not.toBeNull()
    expect(last.from_factor!.id).toBe(last.to_factor!.id)
    expect(last.from_kg_co2e).toBe(last.to_kg_co2e)
  }, 60_000)

  test("a factor of another dimension is refused with the reason, and nothing changes", async () => {
    const [taxi] = await byDescription(first, "Hackney carriage journeys")
    const kwh = (await sql`SELECT id::text AS id FROM emission_factors WHERE unit = 'kWh' ORDER BY ref LIMIT 1`)[0] as { id: string }
    const response = await accountant.post(`/v1/activities/${taxi!.id}/decision`, { factor_id: kwh.id })
    expect(response.status).toBe(400)
    const { error } = (await response.json()) as { error: { code: string; message: string } }
    expect(error.code).toBe("unit_incompatible")
    expect(error.message).toContain("passenger")
    expect((await byDescription(first, "Hackney carriage journeys"))[0]!.metadata.status).toBe("failed")
  })

  test("a failed activity (no match) is resolved the same way", async () => {
    const [taxi] = await byDescription(first, "Hackney carriage journeys")
    const cab = (await sql`SELECT id::text AS id FROM emission_factors WHERE unit = 'passenger.km' AND name ILIKE '%taxi%' ORDER BY ref LIMIT 1`)[0] as { id: string }
    const response = await accountant.post(`/v1/activities/${taxi!.id}/decision`, { factor_id: cab.id })
    expect(response.status).toBe(200)
    const [resolved] = await byDescription(first, "Hackney carriage journeys")
    expect(resolved!.metadata.status).toBe("calculated")
    expect(resolved!.emission_factor!.id).toBe(cab.id)
    expect(resolved!.review_status).toBe("reviewed")
    expect((await queue()).items.some((i) => i.description === "Hackney carriage journeys")).toBe(false)
  })

  test("concurrent decisions on one key take turns: one final factor, a history chain in time order, and each event names what it replaced", async () => {
    const [flight] = await byDescription(first, "Return flight Heathrow-Berlin eco")
    const choices = (await sql`SELECT id::text AS id FROM emission_factors WHERE unit = 'passenger.km' AND factor_set = 'DESNZ:2023' ORDER BY ref LIMIT 6`) as Array<{ id: string }>
    const notes = choices.map((_, i) => `race ${i}`)
    const answers = await Promise.all(choices.map((c, i) => accountant.post(`/v1/activities/${flight!.id}/decision`, { factor_id: c.id, note: notes[i] })))
    expect(answers.map((r) => r.status)).toEqual(choices.map(() => 200))
    const after = await byDescription(first, "Return flight Heathrow-Berlin eco")
    expect(new Set(after.map((a) => a.emission_factor!.id)).size).toBe(1)
    const { history } = (await (await accountant.get(`/v1/activities/${flight!.id}/history`)).json()) as {
      history: ReadonlyArray<{ at: string; from_factor: Factor | null; to_factor: Factor | null; note: string | null }>
    }
    for (let i = 1; i < history.length; i++) {
      expect(history[i]!.from_factor?.id).toBe(history[i - 1]!.to_factor?.id)
      expect(Date.parse(history[i]!.at)).toBeGreaterThanOrEqual(Date.parse(history[i - 1]!.at))
    }
    expect(history.at(-1)!.to_factor!.id).toBe(after[0]!.emission_factor!.id)
    const audit = (await (await admin.get("/v1/admin/audit-events?action=match_decided&limit=100")).json()) as { events: ReadonlyArray<{ details: { note: string | null; from_factor_id: string | null; factor_id: string } }> }
    for (const entry of history.filter((h) => h.note?.startsWith("race "))) {
      const event = audit.events.find((e) => e.details.note === entry.note)!
      expect(event.details.from_factor_id).toBe(entry.from_factor!.id)
      expect(event.details.factor_id).toBe(entry.to_factor!.id)
    }
  }, 60_000)

  test("a key decision addressed to a row with its own decision takes that row along", async () => {
    const [mine] = await byDescription(first, "Diesel")
    expect(mine!.decision_applies_to).toBe("activity")
    const factor = (await sql`SELECT id::text AS id FROM emission_factors WHERE unit = 'litres' AND factor_set = 'DESNZ:2023' AND id <> ${mine!.emission_factor!.id}::uuid ORDER BY ref LIMIT 1`)[0] as { id: string }
    const response = await accountant.post(`/v1/activities/${mine!.id}/decision`, { factor_id: factor.id })
    expect(response.status).toBe(200)
    const [now] = await byDescription(first, "Diesel")
    expect(now!.emission_factor!.id).toBe(factor.id)
    expect(now!.decision_applies_to).toBe("key")
  })

  test("the review page's form with a forged queue position is refused before anything is decided", async () => {
    const [taxi] = await byDescription(first, "Hackney carriage journeys")
    const before = await byDescription(first, "Hackney carriage journeys")
    const other = (await sql`SELECT id::text AS id FROM emission_factors WHERE unit = 'passenger.km' AND factor_set = 'DESNZ:2023' AND id <> ${taxi!.emission_factor!.id}::uuid ORDER BY ref LIMIT 1`)[0] as { id: string }
    const token = csrfTokenFor(accountant.jwt)
    const posted = await fetch(`${server.url}/review/decide`, {
      method: "POST",
      redirect: "manual",
      headers: { cookie: `scopeline_session=${accountant.jwt}; scopeline_csrf=${token}`, "x-csrf-token": token, "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ activity_id: taxi!.id, use_factor_id: other.id, cursor: "forged", limit: "-5" }),
    })
    expect(posted.status).toBe(400)
    expect(await byDescription(first, "Hackney carriage journeys")).toEqual(before)
  })

  test("refusals: a viewer may not decide (403), an unknown activity is 404, an unknown factor or an empty body is 400", async () => {
    const [diesel] = await byDescription(first, "Diesel")
    const factor = diesel!.emission_factor!.id
    expect((await viewer.post(`/v1/activities/${diesel!.id}/decision`, { factor_id: factor })).status).toBe(403)
    expect((await accountant.post(`/v1/activities/${crypto.randomUUID()}/decision`, { factor_id: factor })).status).toBe(404)
    expect((await accountant.post(`/v1/activities/not-an-id/decision`, { factor_id: factor })).status).toBe(404)
    const unknown = await accountant.post(`/v1/activities/${diesel!.id}/decision`, { factor_id: crypto.randomUUID() })
    expect(unknown.status).toBe(400)
    expect(((await unknown.json()) as { error: { code: string } }).error.code).toBe("unknown_factor")
    expect((await accountant.post(`/v1/activities/${diesel!.id}/decision`, {})).status).toBe(400)
    expect((await accountant.post(`/v1/activities/${diesel!.id}/decision`, { factor_id: factor, applies_to: "everything" })).status).toBe(400)
    // Both at once is ambiguous: refused, not one of them silently ignored.
    expect((await accountant.post(`/v1/activities/${diesel!.id}/decision`, { factor_id: factor, accept: true })).status).toBe(400)
    // An unpaired surrogate is valid JSON but no character: a 400, and nothing changes.
    const before = await byDescription(first, "Diesel")
    const lone = await fetch(`${server.url}/v1/activities/${diesel!.id}/decision`, {
      method: "POST",
      headers: { authorization: `Bearer ${accountant.jwt}`, "content-type": "application/json" },
      body: `{"factor_id":"${factor}","note":"\\udc00 x"}`,
    })
    expect(lone.status).toBe(400)
    expect(await byDescription(first, "Diesel")).toEqual(before)
  })
})
