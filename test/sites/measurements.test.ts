import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import type { SQL } from "bun"
import { csrfTokenFor } from "@scopeline/ui/session"
import { apiClient, type ApiClient } from "../support/api.ts"
import { testSql } from "../support/factories.ts"
import { seedDemo } from "../support/seed.ts"
import { startServer, type TestServer } from "../support/server.ts"

interface SiteJson {
  id: string
  code: string
  emission_limit_kg_co2e: number | null
  current_period: {
    period: string
    total_kg_co2e: number
    measurements_kg_co2e: number
    by_gas: Array<{ gas: string; kg: number; kg_co2e: number; measurements: number }>
    percent_of_limit: number | null
    status: string
  }
}
interface Ingest {
  accepted: number
  duplicates: number
  results: Array<{ index: number; status: "accepted" | "duplicate" }>
}

let server: TestServer
let sql: SQL
let api: ApiClient
let viewer: ApiClient
let admin: ApiClient

// Readings of the current month (UTC), so they count towards the site's current period.
const monthStart = () => {
  const now = new Date()
  return Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1)
}
// Seconds after the month began: in the current period and in the past except in its first 20 minutes.
const at = (second: number) => new Date(monthStart() + second * 1000).toISOString()

const createSite = async (code: string, limit: number | null = null, period: "month" | "year" = "month") => {
  const response = await api.post("/v1/sites", { code, name: `Site ${code}`, country: "gb", emission_limit_kg_co2e: limit, limit_period: period })
  expect(response.status).toBe(201)
  return ((await response.json()) as { site: SiteJson }).site
}
const send = (siteId: string, measurements: ReadonlyArray<unknown>, client: ApiClient = api) =>
  client.post(`/v1/sites/${siteId}/measurements`, { measurements })
const ingest = async (siteId: string, measurements: ReadonlyArray<Record<string, unknown>>) => {
  const response = await send(siteId, measurements)
  expect(response.status).toBe(200)
  return (await response.json()) as Ingest
}
const siteOf = async (id: string) => ((await (await api.get(`/v1/sites/${id}`)).json()) as { site: SiteJson }).site
/** The stored running totals, exact: what the API's numbers are read from. */
const storedTotals = async (siteId: string) =>
  Object.fromEntries(
    (await sql`SELECT gas, sum(kg)::text AS kg, sum(kg_co2e)::text AS co2e, sum(measurements)::int AS n FROM site_month_totals WHERE site_id = ${siteId} GROUP BY gas`).map(
      (row: { gas: string; kg: string; co2e: string; n: number }) => [row.gas, { kg: row.kg, co2e: row.co2e, n: row.n }],
    ),
  )
/** The totals recomputed from the readings themselves: equal to the running totals when no update was lost or doubled. */
const recomputed = async (siteId: string) =>
  Object.fromEntries(
    (await sql`SELECT gas, sum(kg)::text AS kg, sum(kg_co2e)::text AS co2e, count(*)::int AS n FROM measurements WHERE site_id = ${siteId} GROUP BY gas`).map(
      (row: { gas: string; kg: string; co2e: string; n: number }) => [row.gas, { kg: row.kg, co2e: row.co2e, n: row.n }],
    ),
  )
const co2 = (minute: number, kg: number, device = "stack-1") => ({ timestamp: at(minute), gas: "CO2", quantity: kg, unit: "kg", device_id: device })

beforeAll(async () => {
  // The real factor set: GWPs come from the DESNZ file as loaded into the catalogue.
  server = await startServer({ LOAD_CATALOGUE: "true" })
  await seedDemo(server.databaseUrl)
  sql = testSql(server.databaseUrl)
  api = await apiClient(server.url, "accountant@demo.scopeline.dev")
  viewer = await apiClient(server.url, "viewer@demo.scopeline.dev")
  admin = await apiClient(server.url, "admin@demo.scopeline.dev")
}, 120_000)
afterAll(async () => {
  await sql?.close()
  await server?.stop()
})

describe("sites", () => {
  test("an accountant creates a site; its code is unique whatever its case; viewers read but cannot create", async () => {
    const site = await createSite("LDN-1", 5000)
    expect(site.code).toBe("LDN-1")
    expect(site.emission_limit_kg_co2e).toBe(5000)
    expect(site.current_period.total_kg_co2e).toBe(0)
    expect(site.current_period.status).toBe("within")
    const again = await api.post("/v1/sites", { code: "ldn-1", name: "Again", country: "GB", limit_period: "month" })
    expect(again.status).toBe(409)
    expect(((await again.json()) as { error: { code: string } }).error.code).toBe("site_code_taken")
    expect((await viewer.post("/v1/sites", { code: "V-1", name: "V", country: "GB", limit_period: "year" })).status).toBe(403)
    expect((await viewer.get(`/v1/sites/${site.id}`)).status).toBe(200)
    const list = (await (await viewer.get("/v1/sites")).json()) as { sites: Array<SiteJson> }
    expect(list.sites.map((s) => s.code)).toContain("LDN-1")
    const [event] = await sql`SELECT action FROM audit_events WHERE action = 'site_created' AND object_id = ${site.id}`
    expect(event.action).toBe("site_created")
  })

  test("refuses an invalid site with each problem named", async () => {
    const response = await api.post("/v1/sites", { code: "bad code", name: "", country: "XX", emission_limit_kg_co2e: -1, limit_period: "week" })
    expect(response.status).toBe(400)
    const details = ((await response.json()) as { error: { details: Array<{ path: string; message: string }> } }).error.details
    expect(new Set(details.map((d) => d.path))).toEqual(new Set(["code", "name", "country", "emission_limit_kg_co2e", "limit_period"]))
    // Once each: not the nullable limit's "Expected null" beside its problem, not one line per allowed period.
    expect(details.filter((d) => d.path === "emission_limit_kg_co2e")).toEqual([{ path: "emission_limit_kg_co2e", message: "must be more than 0" }])
    expect(details.filter((d) => d.path === "limit_period")).toEqual([{ path: "limit_period", message: 'must be one of "month", "year"' }])
  })

  test("a body trickled past 1 MiB to a site named in capitals is refused with its 413", async () => {
    const site = await createSite("TRICKLE-1")
    // Sent piece by piece, as a slow client would: the limit is met while the body is still arriving.
    const trickle = (path: string) =>
      new Promise<string>((resolve) => {
        let received = ""
        const timer = setTimeout(() => resolve("no answer"), 15_000)
        void Bun.connect({
          hostname: "127.0.0.1",
          port: new URL(server.url).port === "" ? 80 : Number(new URL(server.url).port),
          socket: {
            open: async (socket) => {
              socket.write(`PATCH ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${api.jwt}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n`)
              const piece = `${(64 * 1024).toString(16)}\r\n${"a".repeat(64 * 1024)}\r\n`
              for (let i = 0; i < 40 && received === ""; i++) {
                socket.write(piece)
                await Bun.sleep(50)
              }
              if (received === "") socket.write("0\r\n\r\n")
            },
            data: (_socket, chunk) => void (received += chunk.toString()),
            close: () => {
              clearTimeout(timer)
              resolve(received.split("\r\n")[0] ?? "")
            },
            error: () => undefined,
          },
        })
      })
    expect(await trickle(`/v1/sites/${site.id}`)).toBe("HTTP/1.1 413 Payload Too Large")
    expect(await trickle(`/v1/sites/${site.id.toUpperCase()}`)).toBe("HTTP/1.1 413 Payload Too Large")
  }, 60_000)

  test("a country code is read whatever its case and the spaces around it, in Latin letters only", async () => {
    const response = await api.post("/v1/sites", { code: "COUNTRY-1", name: "Padded", country: " gb", limit_period: "month" })
    expect(response.status).toBe(201)
    const site = ((await response.json()) as { site: SiteJson & { country: string } }).site
    expect(site.country).toBe("GB")
    const patched = await api.patch(`/v1/sites/${site.id}`, { country: "sg\n" })
    expect(patched.status).toBe(200)
    expect(((await patched.json()) as { site: { country: string } }).site.country).toBe("SG")
    // A dotless ı upper-cases to I: "ıt" is not Italy's code.
    for (const country of ["\u0131t", "G B", "GBR", ""]) {
      const refused = await api.patch(`/v1/sites/${site.id}`, { country })
      expect({ country, status: refused.status }).toEqual({ country, status: 400 })
    }
  })

  test("PATCH changes the fields given, removes a limit with null, and answers 404 for an unknown or malformed id", async () => {
    const site = await createSite("PATCH-1", 100)
    const response = await api.patch(`/v1/sites/${site.id}`, { name: "Renamed", emission_limit_kg_co2e: null, limit_period: "year" })
    expect(response.status).toBe(200)
    const changed = ((await response.json()) as { site: SiteJson & { name: string; limit_period: string } }).site
    expect(changed.name).toBe("Renamed")
    expect(changed.emission_limit_kg_co2e).toBeNull()
    expect(changed.limit_period).toBe("year")
    expect(changed.current_period.status).toBe("no_limit")
    // The audit event holds the site before and after, field for field, so the old name is on record.
    const [created] = await sql`SELECT details FROM audit_events WHERE action = 'site_created' AND object_id = ${site.id}`
    expect(created.details).toEqual({ code: "PATCH-1", name: "Site PATCH-1", country: "GB", emission_limit_kg_co2e: "100", limit_period: "month" })
    const [updated] = await sql`SELECT details FROM audit_events WHERE action = 'site_updated' AND object_id = ${site.id}`
    expect(updated.details).toEqual({
      changed: ["name", "emission_limit_kg_co2e", "limit_period"],
      before: { code: "PATCH-1", name: "Site PATCH-1", country: "GB", emission_limit_kg_co2e: "100", limit_period: "month" },
      after: { code: "PATCH-1", name: "Renamed", country: "GB", emission_limit_kg_co2e: null, limit_period: "year" },
    })
    expect((await api.patch(`/v1/sites/${site.id}`, {})).status).toBe(400)
    expect((await api.patch(`/v1/sites/${crypto.randomUUID()}`, { name: "x" })).status).toBe(404)
    expect((await api.get("/v1/sites/not-a-uuid")).status).toBe(404)
  })
})

describe("measurement ingest", () => {
  test("converts g, kg and t with the GWPs of the factor set in use, per gas and in CO2e", async () => {
    const site = await createSite("GWP-1")
    const result = await ingest(site.id, [
      { timestamp: at(1), gas: "CO2", quantity: 1.5, unit: "t", device_id: "cem-1", method: "CEMS" },
      { timestamp: at(1), gas: "ch4", quantity: 2500, unit: "g", device_id: "cem-1" },
      { timestamp: at(1), gas: "HFC-134a", quantity: 2, unit: "kg" },
      { timestamp: at(2), gas: "R404A", quantity: 0.001, unit: "kg" },
    ])
    expect(result).toEqual({ accepted: 4, duplicates: 0, results: [0, 1, 2, 3].map((index) => ({ index, status: "accepted" })) })
    const totals = await storedTotals(site.id)
    // DESNZ 2023: CH4 28, HFC-134a 1300, R404A 3943 kg CO2e per kg.
    expect(totals).toEqual({
      CO2: { kg: "1500.0", co2e: "1500.0", n: 1 },
      CH4: { kg: "2.500", co2e: "70.000", n: 1 },
      "HFC-134a": { kg: "2", co2e: "2600", n: 1 },
      R404A: { kg: "0.001", co2e: "3.943", n: 1 },
    })
    const view = await siteOf(site.id)
    expect(view.current_period.total_kg_co2e).toBe(4173.943)
    expect(view.current_period.by_gas.map((g) => g.gas)).toEqual(["CH4", "CO2", "HFC-134a", "R404A"])
  })

  test("the same batch twice is answered with duplicates and never changes the totals twice", async () => {
    const site = await createSite("RETRY-1")
    const batch = Array.from({ length: 10 }, (_, i) => co2(i, 1.25))
    expect((await ingest(site.id, batch)).accepted).toBe(10)
    const retry = await ingest(site.id, batch)
    expect(retry.accepted).toBe(0)
    expect(retry.duplicates).toBe(10)
    expect(retry.results.every((r) => r.status === "duplicate")).toBe(true)
    expect(await storedTotals(site.id)).toEqual({ CO2: { kg: "12.50", co2e: "12.50", n: 10 } })
  })

  test("an overlapping batch stores only what is new; a repeat inside one batch is a duplicate of its first", async () => {
    const site = await createSite("OVERLAP-1")
    await ingest(site.id, [co2(0, 1), co2(1, 1), co2(2, 1)])
    const overlap = await ingest(site.id, [co2(1, 1), co2(2, 1), co2(3, 1), co2(3, 1), co2(3, 1, "stack-2")])
    expect(overlap.results.map((r) => r.status)).toEqual(["duplicate", "duplicate", "accepted", "duplicate", "accepted"])
    expect(await storedTotals(site.id)).toEqual({ CO2: { kg: "5", co2e: "5", n: 5 } })
    // Without a device id a reading is still one per (site, gas, timestamp).
    const anonymous = { timestamp: at(9), gas: "CO2", quantity: 1, unit: "kg" }
    expect((await ingest(site.id, [anonymous])).accepted).toBe(1)
    expect((await ingest(site.id, [anonymous])).duplicates).toBe(1)
  })

  test("20 parallel batches, overlapping pairwise and each sent twice at once, give exact totals", async () => {
    const site = await createSite("PARALLEL-1")
    // Batch b covers minutes 25b … 25b+49: each overlaps the next by 25 readings.
    const batches = Array.from({ length: 20 }, (_, b) => Array.from({ length: 50 }, (_, i) => co2(25 * b + i, 0.5 + ((25 * b + i) % 7) / 1000)))
    const answers = (await Promise.all([...batches, ...batches].map((batch) => ingest(site.id, batch)))) as Array<Ingest>
    const minutes = new Set(batches.flat().map((m) => m.timestamp))
    expect(minutes.size).toBe(525)
    expect(answers.reduce((sum, a) => sum + a.accepted, 0)).toBe(525)
    expect(answers.reduce((sum, a) => sum + a.accepted + a.duplicates, 0)).toBe(2000)
    const [expected] = await sql`SELECT sum(v)::text AS kg FROM unnest(${[...minutes].map((t) => {
      const minute = (Date.parse(t) - monthStart()) / 1000
      return String(0.5 + (minute % 7) / 1000)
    })}::numeric[]) AS v`
    const totals = await storedTotals(site.id)
    expect(Number(totals.CO2!.kg)).toBe(Number(expected.kg))
    expect(totals.CO2!.n).toBe(525)
    expect(totals).toEqual(await recomputed(site.id))
  }, 60_000)

  test("overlapping batches sent at once in opposite orders are all stored, none refused by a deadlock", async () => {
    const site = await createSite("OPPOSITE-1")
    // Each pair shares its readings, one batch listing them forwards and the other backwards, over two
    // devices and two gases. Each batch takes the site's lock before its first reading, so one waits
    // for the other whole; without it, each would hold a reading the other waits for.
    for (let round = 0; round < 5; round++) {
      const readings = Array.from({ length: 40 }, (_, i) => ({
        timestamp: at(1000 * round + Math.floor(i / 4)), gas: i % 2 === 0 ? "CO2" : "CH4", quantity: 1, unit: "kg", device_id: `dev-${(i >> 1) % 2}`,
      }))
      const pairs = Array.from({ length: 4 }, () => [readings, [...readings].reverse()]).flat()
      const responses = await Promise.all(pairs.map((batch) => send(site.id, batch)))
      expect(responses.map((r) => r.status)).toEqual(pairs.map(() => 200))
      const answers = (await Promise.all(responses.map((r) => r.json()))) as Array<Ingest>
      expect(answers.reduce((sum, a) => sum + a.accepted, 0)).toBe(40)
    }
    expect(await storedTotals(site.id)).toEqual(await recomputed(site.id))
    expect((await storedTotals(site.id)).CH4!.n).toBe(100)
  }, 60_000)

  test("one invalid item refuses the whole batch, naming each bad index, field and reason", async () => {
    const site = await createSite("INVALID-1")
    const response = await send(site.id, [
      co2(0, 1),
      { timestamp: "2026-03-01T10:00:00", gas: "CO2", quantity: 1, unit: "kg" },
      { timestamp: at(2), gas: "unobtainium", quantity: -1, unit: "lb" },
      co2(3, 1),
    ])
    expect(response.status).toBe(400)
    const details = ((await response.json()) as { error: { details: Array<{ index: number; field: string; message: string }> } }).error.details
    expect(details.map((d) => `${d.index}:${d.field}`).sort()).toEqual(["1:timestamp", "2:gas", "2:quantity", "2:unit"])
    expect(details.find((d) => d.field === "gas")!.message).toContain("factor set")
    const [{ n }] = await sql`SELECT count(*)::int AS n FROM measurements WHERE site_id = ${site.id}`
    expect(n).toBe(0)
    expect(await storedTotals(site.id)).toEqual({})
  })

  test("each problem is named once, in words a caller reads, never the server's schema", async () => {
    const site = await createSite("INVALID-2")
    const response = await send(site.id, [null, "x", [1], { ...co2(3, 1), device_id: "" }, { ...co2(4, 1), method: null }])
    expect(response.status).toBe(400)
    const details = ((await response.json()) as { error: { details: Array<{ index: number; field: string | null; path: string; message: string }> } }).error.details
    expect(details).toEqual([
      { index: 0, field: null, path: "measurements.0", message: "must be an object" },
      { index: 1, field: null, path: "measurements.1", message: "must be an object" },
      { index: 2, field: null, path: "measurements.2", message: "must be an object" },
      { index: 3, field: "device_id", path: "measurements.3.device_id", message: "is empty" },
      { index: 4, field: "method", path: "measurements.4.method", message: "Expected string" },
    ])
    const site2 = await api.post("/v1/sites", null)
    expect(site2.status).toBe(400)
    expect(JSON.stringify(await site2.json())).not.toContain("readonly")
  })

  test("a batch of 1000 bad items names every one of them", async () => {
    const site = await createSite("INVALID-3")
    const bad = Array.from({ length: 1000 }, () => ({ timestamp: "yesterday", gas: "", quantity: -1, unit: "lb", device_id: "", method: 5 }))
    const response = await send(site.id, bad)
    expect(response.status).toBe(400)
    const details = ((await response.json()) as { error: { details: Array<{ index: number }> } }).error.details
    expect(new Set(details.map((d) => d.index)).size).toBe(1000)
    expect(details).toHaveLength(6000)
  })

  test("a date or time the calendar does not have is refused, not moved to the next day", async () => {
    const site = await createSite("CAL-1")
    for (const timestamp of ["2025-02-29T10:00:00Z", "2026-11-31T10:00:00Z", "2026-01-01T24:00:00Z", "2026-01-01T10:60:00Z", "2026-13-01T10:00:00Z", "2026-01-00T10:00:00Z", "2026-01-01T10:00:00+24:00"]) {
      const response = await send(site.id, [{ timestamp, gas: "CO2", quantity: 1, unit: "kg" }])
      expect({ timestamp, status: response.status }).toEqual({ timestamp, status: 400 })
      const details = ((await response.json()) as { error: { details: Array<{ field: string; message: string }> } }).error.details
      expect(details[0]!.field).toBe("timestamp")
    }
    const [{ n }] = await sql`SELECT count(*)::int AS n FROM measurements WHERE site_id = ${site.id}`
    expect(n).toBe(0)
    // Real ones pass: a leap day, the last second of a day, an offset.
    expect((await ingest(site.id, [{ timestamp: "2024-02-29T10:00:00Z", gas: "CO2", quantity: 1, unit: "kg" }, { timestamp: "2024-12-31T23:59:59.999+01:00", gas: "CO2", quantity: 1, unit: "kg" }])).accepted).toBe(2)
  })

  test("gas names are the same with or without spaces and hyphens", async () => {
    const site = await createSite("GAS-1")
    const result = await ingest(site.id, ["HFC-134a", "hfc 134a", "HFC134A"].map((gas, i) => ({ timestamp: at(i), gas, quantity: 1, unit: "kg", device_id: "leak" })))
    expect(result.accepted).toBe(3)
    expect(Object.keys(await storedTotals(site.id))).toEqual(["HFC-134a"])
  })

  test("a site limit under a gram is refused", async () => {
    const response = await api.post("/v1/sites", { code: "TINY-1", name: "Tiny", country: "gb", emission_limit_kg_co2e: 5e-324, limit_period: "month" })
    expect(response.status).toBe(400)
    expect((await api.post("/v1/sites", { code: "TINY-2", name: "Small", country: "gb", emission_limit_kg_co2e: 0.001, limit_period: "month" })).status).toBe(201)
  })

  test("more than 1000 items is a 413 and nothing is stored; an empty batch is a 400; an unknown site a 404", async () => {
    const site = await createSite("BIG-1")
    const response = await send(site.id, Array.from({ length: 1001 }, (_, i) => co2(i, 1)))
    expect(response.status).toBe(413)
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe("payload_too_large")
    expect((await ingest(site.id, Array.from({ length: 1000 }, (_, i) => co2(i, 1)))).accepted).toBe(1000)
    expect((await send(site.id, [])).status).toBe(400)
    expect((await api.post(`/v1/sites/${site.id}/measurements`, { readings: [] })).status).toBe(400)
    expect((await send(crypto.randomUUID(), [co2(0, 1)])).status).toBe(404)
  })

  test("viewers may not send measurements; every batch is recorded in the audit log with its caller", async () => {
    const site = await createSite("AUDIT-1")
    expect((await send(site.id, [co2(0, 1)], viewer)).status).toBe(403)
    await ingest(site.id, [co2(0, 1)])
    await ingest(site.id, [co2(0, 1)])
    const events = await sql`SELECT actor_role, details FROM audit_events WHERE action = 'measurements_recorded' AND object_id = ${site.id} ORDER BY seq`
    expect(events.map((e: { details: { accepted: number; duplicates: number } }) => [e.details.accepted, e.details.duplicates])).toEqual([[1, 0], [0, 1]])
    expect(events[0].actor_role).toBe("accountant")
  })
})

describe("a batch and its audit event", () => {
  const batchEvents = (siteId: string) =>
    sql`SELECT details, correlation_id, context, actor_user_id::text AS actor_user_id, actor_role, occurred_at
        FROM audit_events WHERE action = 'measurements_recorded' AND object_id = ${siteId} ORDER BY seq`

  test("the event counts the batch, repeats included, whether or not the batch raised an alert", async () => {
    const site = await createSite("EVENT-1", 100)
    // No alert: the batch and its event are one statement.
    await ingest(site.id, [co2(0, 10), co2(0, 10), co2(1, 5)])
    // Crosses 80% and 100%: written again in a transaction with the alerts' events.
    await ingest(site.id, [co2(1, 5), co2(2, 90)])
    const alerts = await sql`SELECT id::text AS id FROM site_alerts WHERE site_id = ${site.id} ORDER BY threshold`
    expect(alerts).toHaveLength(2)
    const events = await batchEvents(site.id)
    const period = site.current_period.period
    expect(events.map((e: { details: unknown }) => e.details)).toEqual([
      { accepted: 2, duplicates: 1, periods: [period], alerts: [] },
      { accepted: 1, duplicates: 1, periods: [period], alerts: alerts.map((a: { id: string }) => a.id) },
    ])
    // Both ways store the same columns: who, when, where and which story.
    for (const e of events) {
      expect(e.actor_role).toBe("accountant")
      expect(e.actor_user_id).toMatch(/^[0-9a-f-]{36}$/)
      expect(e.correlation_id.length).toBeGreaterThan(0)
      expect(e.context).toMatchObject({ environment: expect.any(String), service: expect.any(String), version: expect.any(String) })
      expect(Math.abs(new Date(e.occurred_at).getTime() - Date.now())).toBeLessThan(60_000)
    }
  })

  test("a batch whose event cannot be stored stores nothing", async () => {
    const site = await createSite("EVENT-2")
    // The log refuses this site's events for a moment, as a full disk or a broken constraint would.
    await sql.unsafe(`CREATE FUNCTION refuse_event_2() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN IF NEW.object_id = '${site.id}' THEN RAISE EXCEPTION 'refused'; END IF; RETURN NEW; END $$`)
    await sql.unsafe("CREATE TRIGGER refuse_event_2 BEFORE INSERT ON audit_events FOR EACH ROW EXECUTE FUNCTION refuse_event_2()")
    try {
      const response = await send(site.id, [co2(0, 10), co2(1, 5, "stack-2")])
      expect(response.status).toBe(500)
      expect(JSON.stringify(await response.json())).not.toContain("refused")
    } finally {
      await sql.unsafe("DROP TRIGGER refuse_event_2 ON audit_events; DROP FUNCTION refuse_event_2()")
    }
    const [{ n }] = await sql`SELECT count(*)::int AS n FROM measurements WHERE site_id = ${site.id}`
    expect(n).toBe(0)
    expect(await storedTotals(site.id)).toEqual({})
    // The device's retry, once the log is back, is stored as new.
    expect((await ingest(site.id, [co2(0, 10), co2(1, 5, "stack-2")])).accepted).toBe(2)
  })
})

describe("limits and alerts", () => {
  const alertsOf = (siteId: string) => sql`SELECT period, threshold FROM site_alerts WHERE site_id = ${siteId} ORDER BY threshold`
  const eventsOf = (siteId: string) =>
    sql`SELECT action, details FROM audit_events WHERE action IN ('site_limit_warning', 'site_limit_exceeded') AND object_id = ${siteId} ORDER BY action`

  test("a site's id written in capitals names the same site, and every event and alert records it in one form", async () => {
    const site = await createSite("CAPITALS-1", 10)
    const shouted = site.id.toUpperCase()
    expect((await send(site.id, [co2(1, 9)])).status).toBe(200)
    expect((await send(shouted, [co2(2, 0.5)])).status).toBe(200)
    expect((await api.patch(`/v1/sites/${shouted}`, { emission_limit_kg_co2e: 8 })).status).toBe(200)
    expect((await api.get(`/v1/sites/${shouted}`)).status).toBe(200)
    const events = await sql`SELECT action, object_id FROM audit_events WHERE lower(object_id) = ${site.id} ORDER BY seq`
    expect(events.map((e: { action: string }) => e.action).sort()).toEqual([
      "measurements_recorded", "measurements_recorded", "site_created", "site_limit_exceeded", "site_limit_warning", "site_updated",
    ])
    expect(events.every((e: { object_id: string }) => e.object_id === site.id)).toBe(true)
    // The log's filter finds them by the id in either case.
    const filtered = (await (await admin.get(`/v1/admin/audit-events?object_id=${shouted}`)).json()) as { events: Array<unknown> }
    expect(filtered.events).toHaveLength(events.length)
    expect((await alertsOf(site.id)).map((a: { threshold: number }) => a.threshold)).toEqual([80, 100])
  })

  test("crossing 80% and then 100% raises one alert each, recorded as business events; retries raise nothing more", async () => {
    const site = await createSite("LIMIT-1", 1000)
    await ingest(site.id, [co2(0, 799.999)])
    expect(await alertsOf(site.id)).toEqual([])
    await ingest(site.id, [co2(1, 0.001)])
    const period = site.current_period.period
    expect(await alertsOf(site.id)).toEqual([{ period, threshold: 80 }])
    expect((await siteOf(site.id)).current_period.status).toBe("warning")
    await ingest(site.id, [co2(1, 0.001), co2(2, 150)])
    expect(await alertsOf(site.id)).toEqual([{ period, threshold: 80 }])
    await ingest(site.id, [co2(3, 50)])
    expect(await alertsOf(site.id)).toEqual([{ period, threshold: 80 }, { period, threshold: 100 }])
    // Retries and more readings above the limit: still one alert per threshold.
    await ingest(site.id, [co2(3, 50), co2(4, 10)])
    await ingest(site.id, [co2(3, 50), co2(4, 10)])
    expect(await alertsOf(site.id)).toHaveLength(2)
    const events = await eventsOf(site.id)
    expect(events.map((e: { action: string }) => e.action)).toEqual(["site_limit_exceeded", "site_limit_warning"])
    expect(events[1].details).toMatchObject({ site_code: "LIMIT-1", period, threshold_percent: 80, total_kg_co2e: "800.000", limit_kg_co2e: "1000" })
    const view = await siteOf(site.id)
    expect(view.current_period.status).toBe("exceeded")
    expect(view.current_period.percent_of_limit).toBeCloseTo(101, 6)
  })

  test("20 parallel batches crossing both thresholds at once raise exactly one alert per threshold", async () => {
    const site = await createSite("LIMIT-RACE", 100)
    const batches = Array.from({ length: 20 }, (_, b) => [co2(b, 10, `d-${b}`)])
    await Promise.all(batches.map((batch) => ingest(site.id, batch)))
    expect((await alertsOf(site.id)).map((a: { threshold: number }) => a.threshold)).toEqual([80, 100])
    expect(await eventsOf(site.id)).toHaveLength(2)
  }, 60_000)

  test("parallel batches that together reach the limit exactly raise the 100% alert: no batch reads a total without the others' committed readings", async () => {
    // Without the site lock, the last two batches can each read the total without the other's reading
    // and neither sees 100%: five rounds make that race all but certain to show.
    // One gas per batch, so no two batches share a running-total row (whose lock would queue them anyway).
    const gases: ReadonlyArray<[string, number]> = [["CO2", 1], ["CH4", 28], ["N2O", 265], ["HFC-134a", 1300], ["R404A", 3943], ["HFC-32", 677], ["HFC-23", 12400], ["HFC-125", 3170], ["HFC-41", 116]]
    const limit = gases.reduce((sum, [, gwp]) => sum + gwp, 0)
    for (let round = 0; round < 5; round++) {
      const site = await createSite(`LIMIT-EXACT-${round}`, limit)
      await Promise.all(gases.map(([gas], b) => ingest(site.id, [{ timestamp: at(b), gas, quantity: 1, unit: "kg" }])))
      expect((await siteOf(site.id)).current_period.total_kg_co2e).toBe(limit)
      expect((await alertsOf(site.id)).map((a: { threshold: number }) => a.threshold)).toEqual([80, 100])
    }
  }, 60_000)

  test("a batch with a reading in an earlier month checks that month's limit", async () => {
    const site = await createSite("LIMIT-PAST", 10)
    const lastMonth = new Date(monthStart() - 86_400_000).toISOString()
    await ingest(site.id, [{ timestamp: lastMonth, gas: "CO2", quantity: 11, unit: "kg" }])
    expect((await alertsOf(site.id)).map((a: { period: string }) => a.period)).toEqual([lastMonth.slice(0, 7), lastMonth.slice(0, 7)])
    expect((await siteOf(site.id)).current_period.total_kg_co2e).toBe(0)
  })

  test("a yearly limit adds the year's months and only them", async () => {
    const site = await createSite("LIMIT-YEAR", 100, "year")
    const year = new Date().getUTCFullYear() - 1
    const reading = (isoDay: string, kg: number) => ({ timestamp: `${isoDay}T12:00:00Z`, gas: "CO2", quantity: kg, unit: "kg" })
    // December of the year before and January of the next are outside it (and under 80% in their own years).
    await ingest(site.id, [reading(`${year - 1}-12-31`, 50), reading(`${year}-01-01`, 45), reading(`${year + 1}-01-01`, 50)])
    expect(await alertsOf(site.id)).toEqual([])
    await ingest(site.id, [reading(`${year}-07-15`, 40)])
    const alerts = await alertsOf(site.id)
    expect(alerts.map((a: { period: string; threshold: number }) => [a.period, a.threshold])).toEqual([[String(year), 80]])
    await ingest(site.id, [reading(`${year}-12-31`, 15)])
    expect((await alertsOf(site.id)).map((a: { period: string; threshold: number }) => [a.period, a.threshold])).toEqual([
      [String(year), 80],
      [String(year), 100],
    ])
  })

  test("lowering the limit under the current total raises the alert in the same change", async () => {
    const site = await createSite("LIMIT-PATCH", 1000)
    await ingest(site.id, [co2(0, 90)])
    expect(await alertsOf(site.id)).toEqual([])
    expect((await api.patch(`/v1/sites/${site.id}`, { emission_limit_kg_co2e: 100 })).status).toBe(200)
    expect((await alertsOf(site.id)).map((a: { threshold: number }) => a.threshold)).toEqual([80])
  })

  test("each alert is handed to the webhooks once, keyed by site, period and threshold", async () => {
    const hook = await admin.post("/v1/admin/webhooks", { url: "http://127.0.0.1:9/hook", events: ["site.limit_warning", "site.limit_exceeded"] })
    expect([200, 201]).toContain(hook.status)
    const site = await createSite("LIMIT-HOOK", 10)
    await ingest(site.id, [co2(0, 9)])
    await ingest(site.id, [co2(0, 9), co2(1, 5)])
    const deliveries = await sql`SELECT event_type, event_key FROM webhook_deliveries WHERE event_key LIKE ${`${site.id}:%`} ORDER BY event_type`
    const period = site.current_period.period
    expect(deliveries).toEqual([
      { event_type: "site.limit_exceeded", event_key: `${site.id}:${period}:100` },
      { event_type: "site.limit_warning", event_key: `${site.id}:${period}:80` },
    ])
  })
})

describe("API keys", () => {
  test("a key with measurements:write for one site sends to it, is refused elsewhere, and is named in the audit log", async () => {
    const mine = await createSite("KEY-1")
    const other = await createSite("KEY-2")
    const created = await admin.post("/v1/admin/api-keys", { name: "stack sensor", scopes: ["measurements:write"], site_ids: [mine.id] })
    expect(created.status).toBe(201)
    const secret = ((await created.json()) as { api_key: { secret: string } }).api_key.secret
    expect(typeof secret).toBe("string")
    const withKey = (siteId: string) =>
      fetch(`${server.url}/v1/sites/${siteId}/measurements`, {
        method: "POST",
        headers: { authorization: `Bearer ${secret}`, "content-type": "application/json" },
        body: JSON.stringify({ measurements: [co2(0, 1)] }),
      })
    expect((await withKey(mine.id)).status).toBe(200)
    expect((await withKey(other.id)).status).toBe(403)
    const [event] = await sql`SELECT actor_service FROM audit_events WHERE action = 'measurements_recorded' AND object_id = ${mine.id}`
    expect(event.actor_service).toMatch(/^api-key:/)
    // The site's id in capitals is the same site.
    expect((await withKey(mine.id.toUpperCase())).status).toBe(200)
  })

  test("a key revoked by its id in capitals is recorded by its id as stored", async () => {
    const created = await admin.post("/v1/admin/api-keys", { name: "shouted", scopes: ["measurements:write"] })
    const { api_key } = (await created.json()) as { api_key: { id: string } }
    expect((await admin.delete(`/v1/admin/api-keys/${api_key.id.toUpperCase()}`)).status).toBe(204)
    const [event] = await sql`SELECT object_id FROM audit_events WHERE action = 'api_key_revoked' AND lower(object_id) = ${api_key.id}`
    expect(event.object_id).toBe(api_key.id)
  })

  test("a key is marked used on its first call and again once the mark is a minute old, not on every call", async () => {
    const site = await createSite("KEY-USE")
    const created = await admin.post("/v1/admin/api-keys", { name: "use mark", scopes: ["measurements:write"], site_ids: [site.id] })
    const { secret, id } = ((await created.json()) as { api_key: { secret: string; id: string } }).api_key
    const send = async (minute: number) => {
      const response = await fetch(`${server.url}/v1/sites/${site.id}/measurements`, {
        method: "POST",
        headers: { authorization: `Bearer ${secret}`, "content-type": "application/json" },
        body: JSON.stringify({ measurements: [co2(minute, 1, "use-mark")] }),
      })
      expect(response.status).toBe(200)
    }
    const mark = async () => ((await sql`SELECT last_used_at FROM api_keys WHERE id = ${id}`)[0] as { last_used_at: Date | null }).last_used_at
    expect(await mark()).toBeNull()
    await send(0)
    const first = await mark()
    expect(first).not.toBeNull()
    await send(1)
    expect(await mark()).toEqual(first)
    // A mark older than a minute is written again by the next call.
    await sql`UPDATE api_keys SET last_used_at = now() - interval '2 minutes' WHERE id = ${id}`
    const stale = await mark()
    await send(2)
    expect((await mark())!.getTime()).toBeGreaterThan(stale!.getTime() + 60_000)
  })

  test("a key's site_ids must name existing sites, and at least one", async () => {
    const site = await createSite("KEY-3")
    const unknown = crypto.randomUUID()
    const refused = await admin.post("/v1/admin/api-keys", { name: "typo", scopes: ["measurements:write"], site_ids: [site.id, unknown] })
    expect(refused.status).toBe(400)
    const body = (await refused.json()) as { error: { code: string; details: { unknown_site_ids: Array<string> } } }
    expect(body.error.code).toBe("unknown_sites")
    expect(body.error.details.unknown_site_ids).toEqual([unknown])
    expect((await admin.post("/v1/admin/api-keys", { name: "none", scopes: ["measurements:write"], site_ids: [] })).status).toBe(400)
    const [{ n }] = await sql`SELECT count(*)::int AS n FROM api_keys WHERE name IN ('typo', 'none')`
    expect(n).toBe(0)
    expect((await admin.post("/v1/admin/api-keys", { name: "capitals", scopes: ["measurements:write"], site_ids: [site.id.toUpperCase()] })).status).toBe(201)
  })

  test("the integrations page shows the unknown site ids on its form, and creates nothing", async () => {
    const unknown = crypto.randomUUID()
    const token = csrfTokenFor(admin.jwt)
    const posted = await fetch(`${server.url}/admin/integrations/api-keys`, {
      method: "POST",
      redirect: "manual",
      headers: { cookie: `scopeline_session=${admin.jwt}; scopeline_csrf=${token}`, "x-csrf-token": token, "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ name: "from the page", scopes: "measurements:write", site_ids: unknown }),
    })
    expect(posted.status).toBe(400)
    const html = await posted.text()
    expect(html).toContain(`No site has the id ${unknown}`)
    expect(html).toContain('id="api-key-form"')
    const [{ n }] = await sql`SELECT count(*)::int AS n FROM api_keys WHERE name = 'from the page'`
    expect(n).toBe(0)
    // A refused field is named on the page, not only "invalid".
    const malformed = await fetch(`${server.url}/admin/integrations/api-keys`, {
      method: "POST",
      redirect: "manual",
      headers: { cookie: `scopeline_session=${admin.jwt}; scopeline_csrf=${token}`, "x-csrf-token": token, "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ name: "from the page", scopes: "measurements:write", site_ids: "not-a-uuid" }),
    })
    expect(malformed.status).toBe(400)
    const alert = /id="integrations-error"[^>]*>([^<]*)</.exec(await malformed.text())?.[1] ?? ""
    expect(alert).toContain("site_ids")
  })
})
