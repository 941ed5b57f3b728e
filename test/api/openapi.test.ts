import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import type { SQL } from "bun"
import { makeApp } from "@scopeline/server/app"
import type { ServerServices } from "@scopeline/server/ServerServices"
import { makeResponder } from "@scopeline/ui/respond"
import { openApiPath } from "@scopeline/ui/openApi"
import { routeDocOf } from "@scopeline/ui/RouteDoc"
import { Either, ParseResult, Runtime, Schema } from "effect"
import { apiClient, type ApiClient } from "../support/api.ts"
import { dieselFactor, insertActivities, insertFactor, insertUpload, testSql } from "../support/factories.ts"
import { seedDemo } from "../support/seed.ts"
import { startServer, type TestServer } from "../support/server.ts"

/**
 * The app's routes, read from the app itself (as csrf.test.ts does): a /v1 route added later is
 * checked without anyone remembering to add it here.
 */
const appRoutes = makeApp(makeResponder(Runtime.defaultRuntime as Runtime.Runtime<never> as Runtime.Runtime<ServerServices>)).routes
const apiRoutes = appRoutes
  .filter((route) => route.path.startsWith("/v1/"))
  .map((route) => `${route.method.toUpperCase()} ${openApiPath(route.path)}`)

interface Operation {
  readonly parameters: ReadonlyArray<{ readonly name: string; readonly in: string }>
  readonly responses: Record<string, { readonly content?: Record<string, { readonly schema: unknown }> }>
}
interface Document {
  readonly openapi: string
  readonly paths: Record<string, Record<string, Operation>>
  readonly components: { readonly schemas: Record<string, unknown> }
}

let server: TestServer
let sql: SQL
let admin: ApiClient
let document: Document
const samples: Record<string, string> = {}

beforeAll(async () => {
  server = await startServer()
  await seedDemo(server.databaseUrl)
  sql = testSql(server.databaseUrl)
  admin = await apiClient(server.url, "admin@demo.scopeline.dev")
  const factor = await insertFactor(sql, dieselFactor)
  const upload = await insertUpload(sql, "accountant@demo.scopeline.dev")
  const [activity] = await insertActivities(sql, upload, [
    { description: "Diesel", quantity: "10", unit: "litres", date: "2026-01-10", status: "calculated", factorId: factor, confidence: "0.9", emissions: "25.1279", matchSource: "ai", extra: { site: "Leeds" } },
  ])
  // A concrete address for each documented route with path parameters whose answer is checked below.
  samples["/v1/uploads/{id}"] = `/v1/uploads/${upload}`
  samples["/v1/activities/{id}"] = `/v1/activities/${activity}`
  samples["/v1/emission-factors/{id}"] = `/v1/emission-factors/${factor}`
  const site = await admin.post("/v1/sites", { code: "LEEDS", name: "Leeds", country: "GB", emission_limit_kg_co2e: 100, limit_period: "month" })
  samples["/v1/sites/{id}"] = `/v1/sites/${((await site.json()) as { site: { id: string } }).site.id}`
  // Queued (no worker here): a queued recalculation answers in the documented shape too.
  const recalculation = await admin.post("/v1/recalculations", { factor_set: "DESNZ:2023", preview: true })
  samples["/v1/recalculations/{id}"] = `/v1/recalculations/${((await recalculation.json()) as { recalculation: { id: string } }).recalculation.id}`
  const response = await fetch(`${server.url}/v1/openapi.json`)
  expect(response.status).toBe(200)
  document = (await response.json()) as Document
})
afterAll(async () => {
  await sql?.close()
  await server?.stop()
})

const documentedRoutes = () =>
  Object.entries(document.paths).flatMap(([path, operations]) => Object.keys(operations).map((method) => `${method.toUpperCase()} ${path}`))

describe("the OpenAPI document lists exactly the API's routes", () => {
  test("it is OpenAPI 3.1", () => {
    expect(document.openapi).toBe("3.1.0")
  })

  test("every /v1 route of the running app is in the document (add a `detail: documented(…)` to the route)", () => {
    const documented = new Set(documentedRoutes())
    expect(apiRoutes.filter((route) => !documented.has(route))).toEqual([])
  })

  test("every documented route exists in the app", () => {
    const existing = new Set(appRoutes.map((route) => `${route.method.toUpperCase()} ${openApiPath(route.path)}`))
    expect(documentedRoutes().filter((route) => !existing.has(route))).toEqual([])
  })

  test("the app has /v1 routes to check, and each names its path parameters", () => {
    expect(apiRoutes.length).toBeGreaterThan(15)
    for (const [path, operations] of Object.entries(document.paths)) {
      const inPath = [...path.matchAll(/\{(\w+)\}/g)].map((match) => match[1]!)
      for (const operation of Object.values(operations)) {
        expect(operation.parameters.filter((p) => p.in === "path").map((p) => p.name).sort()).toEqual(inPath.sort())
      }
    }
  })

  test("every $ref points at a schema in components", () => {
    const refs = [...JSON.stringify(document).matchAll(/"\$ref":"#\/components\/schemas\/([^"]+)"/g)].map((match) => match[1]!)
    expect(refs.length).toBeGreaterThan(0)
    expect(refs.filter((name) => !(name in document.components.schemas))).toEqual([])
  })
})

describe("the answers are what the document says", () => {
  /** Every documented GET whose address the test can fill in: all without parameters, and the samples. */
  const checkable = () =>
    appRoutes.flatMap((route) => {
      const doc = routeDocOf(route.hooks?.detail)
      const path = openApiPath(route.path)
      const address = path.includes("{") ? samples[path] : path
      const schema = doc?.responses[200]?.schema
      return route.method === "GET" && path.startsWith("/v1/") && address && schema ? [{ path, address, schema }] : []
    })

  test("each documented GET answers 200 with a body its response schema accepts, and no undocumented field", async () => {
    const checked = checkable()
    expect(checked.map((c) => c.path)).toEqual(expect.arrayContaining(["/v1/uploads/{id}", "/v1/activities/{id}", "/v1/emission-factors/{id}", "/v1/me"]))
    const problems: Array<string> = []
    for (const { path, address, schema } of checked) {
      const response = await admin.get(address)
      if (response.status !== 200) {
        problems.push(`${path}: status ${response.status}`)
        continue
      }
      const decoded = Schema.decodeUnknownEither(Schema.encodedSchema(schema))(await response.json(), { errors: "all", onExcessProperty: "error" })
      if (Either.isLeft(decoded)) problems.push(`${path}: ${ParseResult.TreeFormatter.formatErrorSync(decoded.left)}`)
    }
    expect(problems).toEqual([])
  })
})

describe("the docs page", () => {
  test("/docs is served with Swagger UI from node_modules, without inline script", async () => {
    const page = await fetch(`${server.url}/docs`)
    expect(page.status).toBe(200)
    const html = await page.text()
    expect(html).not.toMatch(/<script(?![^>]*\ssrc=)[^>]*>/)
    expect(html).not.toMatch(/\sstyle=|<style/)
    for (const src of [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((match) => match[1]!)) {
      expect(src.startsWith("/static/")).toBe(true)
      const asset = await fetch(`${server.url}${src}`)
      expect(asset.status).toBe(200)
      expect((await asset.arrayBuffer()).byteLength).toBeGreaterThan(100)
    }
  })
})
