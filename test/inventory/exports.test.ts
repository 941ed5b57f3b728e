import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import type { SQL } from "bun"
import { guardText } from "@scopeline/inventory"
import { AppConfig } from "@scopeline/settings/AppConfig"
import { BlobStore } from "@scopeline/storage/BlobStore"
import { LocalBlobStoreLive, LocalBlobUploads } from "@scopeline/storage/LocalBlobStore"
import { parse } from "csv-parse/sync"
import ExcelJS from "exceljs"
import { Effect, Either, Layer, ManagedRuntime } from "effect"
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Readable } from "node:stream"
import { apiClient, type ApiClient } from "../support/api.ts"
import { configLayer } from "../support/config.ts"
import { dieselFactor, insertActivities, insertFactor, insertUpload, testSql } from "../support/factories.ts"
import { seedDemo } from "../support/seed.ts"
import { startServer, type TestServer } from "../support/server.ts"
import { startWorker, type TestWorker } from "../support/worker.ts"

interface ExportView {
  id: string
  status: "queued" | "running" | "ready" | "failed"
  rows_written: number
  total_rows: number | null
  download_url?: string
  expires_at?: string
  failure_reason?: string
}

let server: TestServer
let worker: TestWorker
let sql: SQL
let accountant: ApiClient
let uploadId: string

const HOSTILE = ["=HYPERLINK(\"http://evil.example\",\"click\")", "+1+2", "-2+3", "@SUM(A1:A2)", "\tTabbed", "\rReturned"]

beforeAll(async () => {
  server = await startServer()
  await seedDemo(server.databaseUrl)
  sql = testSql(server.databaseUrl)
  worker = await startWorker(server.settings)
  accountant = await apiClient(server.url, "accountant@demo.scopeline.dev")
  const diesel = await insertFactor(sql, { ...dieselFactor, co2Factor: "2.4", ch4Factor: "0.01", n2oFactor: "0.03" })
  uploadId = await insertUpload(sql, "accountant@demo.scopeline.dev", { filename: "fleet.csv" })
  await insertActivities(sql, uploadId, [
    { description: "Diesel for delivery vans", quantity: "100", unit: "litres", date: "2024-01-31", status: "calculated", factorId: diesel,
      confidence: "0.95", emissions: "251.279", emissionsCo2: "240", emissionsCh4: "1", emissionsN2o: "3", matchSource: "ai",
      category: "fleet", extra: { site: "Depot", cost_centre: "-42" } },
    ...HOSTILE.map((description, i) => ({ description, quantity: String(i + 1), unit: "litres", date: "2024-02-01", status: "failed" as const,
      failureReason: "=cmd|' /C calc'!A0", extra: { site: "=1+1" } })),
  ])
}, 60_000)
afterAll(async () => {
  await worker?.stop()
  await sql?.close()
  await server?.stop()
})

const requestExport = async (api: ApiClient, body: unknown): Promise<string> => {
  const response = await api.post("/v1/exports", body)
  expect(response.status).toBe(202)
  const { export: created } = (await response.json()) as { export: { id: string; status: string; url: string } }
  expect(created.status).toBe("queued")
  expect(created.url).toBe(`/v1/exports/${created.id}`)
  return created.id
}

const readyExport = async (api: ApiClient, id: string): Promise<ExportView> => {
  const deadline = Date.now() + 30_000
  while (Date.now() < deadline) {
    const view = (await (await api.get(`/v1/exports/${id}`)).json()) as ExportView
    if (view.status === "ready" || view.status === "failed") return view
    await Bun.sleep(50)
  }
  throw new Error(`export ${id} did not finish`)
}

const download = async (view: ExportView) => {
  expect(view.download_url).toBeDefined()
  const response = await fetch(new URL(view.download_url!, server.url))
  expect(response.status).toBe(200)
  return response
}

describe("the formula-injection guard", () => {
  test("prefixes text that a spreadsheet would run, and leaves numbers and plain text alone", () => {
    for (const text of HOSTILE) expect(guardText(text)).toBe(`'${text}`)
    expect(guardText("-12.5")).toBe("-12.5")
    expect(guardText("Diesel - vans")).toBe("Diesel - vans")
    expect(guardText("")).toBe("")
  })
})

describe("an activities export", () => {
  test("as CSV has one row per activity with the API's values, the file's own columns, and no runnable formula", async () => {
    const id = await requestExport(accountant, { format: "csv", kind: "activities", filters: { upload_id: uploadId } })
    const view = await readyExport(accountant, id)
    expect(view).toMatchObject({ status: "ready", rows_written: 7, total_rows: 7 })
    expect(Date.parse(view.expires_at!) - Date.now()).toBeLessThanOrEqual(15 * 60 * 1000)
    const response = await download(view)
    expect(response.headers.get("content-type")).toBe("text/csv; charset=utf-8")
    expect(response.headers.get("content-disposition")).toContain(".csv")
    const rows = parse(await response.text(), { columns: true, bom: true }) as Array<Record<string, string>>
    expect(rows).toHaveLength(7)

    const api = (await (await accountant.get(`/v1/activities?upload_id=${uploadId}&limit=100`)).json()) as {
      activities: Array<{ id: string; description: string; quantity: number; emissions: { amount: { quantity: number } } | null; upload: { row_number: number } }>
    }
    for (const activity of api.activities) {
      const row = rows.find((r) => r.id === activity.id)!
      expect(row.row).toBe(String(activity.upload.row_number))
      expect(Number(row.quantity)).toBe(activity.quantity)
      expect(row.kg_co2e === "" ? null : Number(row.kg_co2e)).toBe(activity.emissions?.amount.quantity ?? null)
    }
    const diesel = rows.find((r) => r.description === "Diesel for delivery vans")!
    expect(diesel).toMatchObject({
      kg_co2e: "251.279", co2_kg_co2e: "240", ch4_kg_co2e: "1", n2o_kg_co2e: "3", other_kg_co2e: "7.279",
      factor_ref: "DESNZ:2023:1_100_1000_15_1", factor_value: "2.51279", factor_unit: "kg CO2e per litres",
      scope: "1", status: "calculated", "extra:site": "Depot", "extra:cost_centre": "-42",
    })
    // Every text cell that a spreadsheet would run starts with a quote; the number in the file's own column stays a number.
    const hostile = rows.filter((r) => r.status === "failed")
    expect(hostile.map((r) => r.description).sort()).toEqual(HOSTILE.map((text) => `'${text}`).sort())
    expect(hostile.every((r) => r.failure_reason === "'=cmd|' /C calc'!A0" && r["extra:site"] === "'=1+1")).toBe(true)
    // Asking for it and being handed its download link are both in the audit log, by the same person.
    const events = await sql`SELECT action, actor_user_id FROM audit_events WHERE object_id = ${id} ORDER BY seq`
    const [person] = await sql`SELECT id FROM users WHERE email = 'accountant@demo.scopeline.dev'`
    expect(events[0]).toMatchObject({ action: "export_requested", actor_user_id: person.id })
    expect(events.slice(1).map((e: { action: string }) => e.action)).toContain("export_downloaded")
    // The file being ready is recorded once, by the worker, with what it holds.
    const completed = await sql`SELECT actor_service, details FROM audit_events WHERE object_id = ${id} AND action = 'export_completed'`
    expect(completed).toHaveLength(1)
    const [stored] = await sql`SELECT size_bytes::int AS size_bytes FROM exports WHERE id = ${id}`
    expect(stored.size_bytes).toBeGreaterThan(0)
    expect(completed[0]).toMatchObject({ actor_service: "export-worker", details: { format: "csv", kind: "activities", rows: 7, size_bytes: stored.size_bytes } })
  })

  test("as XLSX opens as a workbook with numbers as numbers and hostile text as text", async () => {
    const id = await requestExport(accountant, { format: "xlsx", kind: "activities", filters: { upload_id: uploadId, status: "calculated" } })
    const view = await readyExport(accountant, id)
    expect(view).toMatchObject({ status: "ready", rows_written: 1 })
    const workbook = new ExcelJS.Workbook()
    await workbook.xlsx.load(await (await download(view)).arrayBuffer())
    const sheet = workbook.getWorksheet("Activities")!
    expect(sheet.rowCount).toBe(2)
    const header = (sheet.getRow(1).values as Array<unknown>).slice(1)
    const cells = (sheet.getRow(2).values as Array<unknown>).slice(1)
    const cell = (name: string) => cells[header.indexOf(name)]
    expect(cell("kg_co2e")).toBe(251.279)
    expect(cell("quantity")).toBe(100)
    expect(cell("description")).toBe("Diesel for delivery vans")

    const all = await readyExport(accountant, await requestExport(accountant, { format: "xlsx", kind: "activities", filters: { upload_id: uploadId } }))
    const book = new ExcelJS.Workbook()
    await book.xlsx.load(await (await download(all)).arrayBuffer())
    const descriptions: Array<unknown> = []
    book.getWorksheet("Activities")!.eachRow((row, n) => {
      if (n > 1) descriptions.push(row.getCell(4).value)
    })
    expect(descriptions.filter((d) => typeof d === "string" && d.startsWith("'")).length).toBe(HOSTILE.length)
    // No cell is a formula: the guard wrote text, never a formula object.
    book.getWorksheet("Activities")!.eachRow((row) => row.eachCell((c) => expect(c.type).not.toBe(ExcelJS.ValueType.Formula)))
  })
})

describe("an inventory export", () => {
  test("has the API's total and its breakdowns", async () => {
    const inventory = (await (await accountant.get(`/v1/inventory?upload_id=${uploadId}`)).json()) as { total: number; by_gas: { co2: number } }
    const view = await readyExport(accountant, await requestExport(accountant, { format: "csv", kind: "inventory", filters: { upload_id: uploadId } }))
    const rows = parse(await (await download(view)).text(), { columns: true, bom: true }) as Array<Record<string, string>>
    expect(Number(rows.find((r) => r.section === "total")!.kg_co2e)).toBe(inventory.total)
    expect(Number(rows.find((r) => r.section === "gas" && r.key === "co2")!.kg_co2e)).toBe(inventory.by_gas.co2)
  })
})

describe("who sees an export", () => {
  test("another person's export is a 404, and a malformed request a 400", async () => {
    const id = await requestExport(accountant, { format: "csv", kind: "activities" })
    const viewer = await apiClient(server.url, "viewer@demo.scopeline.dev")
    expect((await viewer.get(`/v1/exports/${id}`)).status).toBe(404)
    expect((await viewer.get("/v1/exports/not-an-id")).status).toBe(404)
    expect((await accountant.post("/v1/exports", { format: "pdf", kind: "activities" })).status).toBe(400)
    const backwards = await accountant.post("/v1/exports", { format: "csv", kind: "inventory", filters: { from: "2024-03-01", to: "2024-01-01" } })
    expect(backwards.status).toBe(400)
    expect(((await backwards.json()) as { error: { details: Array<{ path: string }> } }).error.details.map((d) => d.path)).toEqual(["filters.to"])
    const filtersNull = await accountant.post("/v1/exports", { format: "csv", kind: "inventory", filters: null })
    expect(filtersNull.status).toBe(400)
    expect(JSON.stringify(await filtersNull.json())).not.toMatch(/Brand|readonly/)
    expect((await fetch(`${server.url}/v1/exports/${id}`)).status).toBe(401)
    const mine = (await (await accountant.get("/v1/exports")).json()) as { exports: Array<{ id: string }> }
    expect(mine.exports.map((e) => e.id)).toContain(id)
  })
})

describe("download links", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "scopeline-downloads-"))
  const runtime = ManagedRuntime.make(
    LocalBlobStoreLive.pipe(Layer.provideMerge(AppConfig.Default), Layer.provide(configLayer({ DATA_DIR: dataDir }))),
  )
  afterAll(() => runtime.dispose())

  const verify = (url: string) =>
    runtime.runPromise(
      Effect.gen(function* () {
        const parsed = new URL(url, "http://localhost")
        return yield* Effect.either((yield* LocalBlobUploads).verifyDownload(decodeURIComponent(parsed.pathname.slice("/blobs/".length)), parsed.searchParams))
      }),
    )

  test("work until they expire, and only as signed: not for another key, file name or expiry", async () => {
    const { fresh, expired } = await runtime.runPromise(
      Effect.gen(function* () {
        const store = yield* BlobStore
        yield* store.write("exports/a.csv", Readable.from(["a,b\r\n"]), "text/csv")
        return {
          fresh: yield* store.createDownloadUrl("exports/a.csv", { expiresInSeconds: 60, filename: "a.csv" }),
          expired: yield* store.createDownloadUrl("exports/a.csv", { expiresInSeconds: -1, filename: "a.csv" }),
        }
      }),
    )
    expect(Either.isRight(await verify(fresh.url))).toBe(true)
    const rejected = async (url: string) => {
      const result = await verify(url)
      return Either.isLeft(result) && result.left.reason === "forbidden"
    }
    expect(await rejected(expired.url)).toBe(true)
    expect(await rejected(fresh.url.replace("exports/a.csv", "exports/b.csv"))).toBe(true)
    expect(await rejected(fresh.url.replace("filename=a.csv", "filename=b.csv"))).toBe(true)
    const later = new URL(fresh.url, "http://localhost")
    later.searchParams.set("expires", String(Number(later.searchParams.get("expires")) + 3600))
    expect(await rejected(`${later.pathname}${later.search}`)).toBe(true)
    // An upload link's signature never opens a download (the method is signed too).
    const upload = await runtime.runPromise(
      Effect.flatMap(BlobStore, (store) => store.createUploadTarget("exports/a.csv", { expiresInSeconds: 60, maxBytes: 10, contentType: "text/csv" })),
    )
    const forged = new URL(upload.url, "http://localhost")
    forged.searchParams.set("filename", "a.csv")
    expect(await rejected(`${forged.pathname}${forged.search}`)).toBe(true)
  })

  test("the server refuses a tampered link", async () => {
    const view = await readyExport(accountant, await requestExport(accountant, { format: "csv", kind: "activities", filters: { upload_id: uploadId } }))
    const tampered = new URL(view.download_url!, server.url)
    tampered.searchParams.set("sig", "x".repeat(43))
    expect((await fetch(tampered)).status).toBe(403)
  })
})
