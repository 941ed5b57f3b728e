import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import type { Server } from "bun"
import { readFileSync } from "node:fs"
import { join } from "node:path"
import type { RunningMatcher } from "@scopeline/matcher/server"
import { apiClient, uploadFile } from "../support/api.ts"
import { catalogueDatabase, startTestMatcher } from "../match/support.ts"
import { seedDemo } from "../support/seed.ts"
import { startServer, type TestServer } from "../support/server.ts"
import { startWorker, type TestWorker } from "../support/worker.ts"

/** One span as the OTLP/HTTP JSON export carries it, with the service that sent it. */
interface ReceivedSpan {
  readonly service: string
  readonly traceId: string
  readonly spanId: string
  readonly parentSpanId: string | undefined
  readonly name: string
  readonly attributes: Record<string, unknown>
}

interface OtlpValue {
  readonly stringValue?: string
  readonly intValue?: string | number
  readonly boolValue?: boolean
  readonly doubleValue?: number
}
interface OtlpAttribute {
  readonly key: string
  readonly value: OtlpValue
}
interface OtlpExport {
  readonly resourceSpans: ReadonlyArray<{
    readonly resource: { readonly attributes: ReadonlyArray<OtlpAttribute> }
    readonly scopeSpans: ReadonlyArray<{
      readonly spans: ReadonlyArray<{
        readonly traceId: string
        readonly spanId: string
        readonly parentSpanId?: string
        readonly name: string
        readonly attributes?: ReadonlyArray<OtlpAttribute>
      }>
    }>
  }>
}

const valueOf = (value: OtlpValue) => value.stringValue ?? value.intValue ?? value.boolValue ?? value.doubleValue
const attributes = (list: ReadonlyArray<OtlpAttribute> = []) => Object.fromEntries(list.map((a) => [a.key, valueOf(a.value)]))

// The first rows of the demo file: enough to parse and match, quick to run.
const SAMPLE = readFileSync(join(import.meta.dir, "../../data/samples/supermarket-sg-2024-q1.csv"), "utf8").split("\n").slice(0, 6).join("\n")

/** A local OTLP/HTTP collector: it keeps every span the apps export to `/v1/traces`. */
const spans: Array<ReceivedSpan> = []
const requests: Array<{ path: string; contentType: string | null }> = []
let receiver: Server<undefined>
let matcher: RunningMatcher
let server: TestServer
let worker: TestWorker
const logLines: Array<string> = []
const consoleLog = console.log

beforeAll(async () => {
  receiver = Bun.serve({
    port: 0,
    fetch: async (request) => {
      requests.push({ path: new URL(request.url).pathname, contentType: request.headers.get("content-type") })
      const body = (await request.json()) as OtlpExport
      for (const resource of body.resourceSpans) {
        const service = String(attributes(resource.resource.attributes)["service.name"])
        for (const scope of resource.scopeSpans) {
          for (const span of scope.spans) {
            spans.push({ service, traceId: span.traceId, spanId: span.spanId, parentSpanId: span.parentSpanId || undefined, name: span.name, attributes: attributes(span.attributes) })
          }
        }
      }
      return Response.json({})
    },
  })
  // The apps log through Effect's console, which is this one: keep their lines to read the trace ids.
  console.log = (...args: Array<unknown>) => {
    logLines.push(args.map(String).join(" "))
  }
  const [databaseUrl] = await Promise.all([catalogueDatabase()])
  matcher = await startTestMatcher()
  server = await startServer({
    DATABASE_URL: databaseUrl!,
    MATCHER_URL: matcher.url,
    OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${receiver.port}`,
    LOG_LEVEL: "Info",
  })
  await seedDemo(server.databaseUrl)
  worker = await startWorker(server.settings)
}, 120_000)

afterAll(async () => {
  console.log = consoleLog
  await worker?.stop()
  await server?.stop()
  await matcher?.stop()
  await receiver?.stop(true)
})

describe("one upload is one trace, exported over OTLP/HTTP", () => {
  test("the notify request, the parse job and the match job share one trace id, across the server and the worker", async () => {
    const accountant = await apiClient(server.url, "accountant@demo.scopeline.dev")
    const uploadId = await uploadFile(accountant, SAMPLE, "traced.csv")
    const deadline = Date.now() + 60_000
    let counts: Record<string, number> = {}
    while (Date.now() < deadline) {
      counts = ((await (await accountant.get(`/v1/uploads/${uploadId}`)).json()) as { activities: Record<string, number> }).activities
      if (counts.calculated === 5) break
      await Bun.sleep(100)
    }
    expect(counts.calculated).toBe(5)
    // Stopping flushes each exporter's last batch.
    await worker.stop()
    await server.stop()
    console.log = consoleLog

    expect(requests.length).toBeGreaterThan(0)
    expect(requests.every((r) => r.path === "/v1/traces" && r.contentType?.startsWith("application/json"))).toBe(true)

    const notify = spans.find((s) => s.name === "http.request" && s.attributes.path === "/v1/upload")
    expect(notify?.service).toBe("scopeline-server")
    const trace = spans.filter((s) => s.traceId === notify!.traceId)
    const names = new Set(trace.map((s) => s.name))
    expect(names).toContain("consume.parse")
    expect(names).toContain("consume.match")
    expect(new Set(trace.map((s) => s.service))).toEqual(new Set(["scopeline-server", "scopeline-worker"]))

    // Each job's span descends from the request: every parent link inside the trace leads back to it.
    const byId = new Map(trace.map((s) => [s.spanId, s]))
    const rootOf = (span: ReceivedSpan): ReceivedSpan => {
      const parent = span.parentSpanId === undefined ? undefined : byId.get(span.parentSpanId)
      return parent ? rootOf(parent) : span
    }
    for (const name of ["consume.parse", "consume.match"]) {
      for (const job of trace.filter((s) => s.name === name)) expect(rootOf(job).spanId).toBe(rootOf(notify!).spanId)
    }

    // The worker's log lines about this upload name the same trace.
    // The apps log JSON lines; the test cluster, when this file is the one that starts it, logs its own.
    const workerLines = logLines
      .filter((line) => line.startsWith("{"))
      .map((line) => JSON.parse(line) as { annotations?: Record<string, unknown> })
      .filter((line) => line.annotations?.queue !== undefined && JSON.stringify(line).includes(uploadId))
    expect(workerLines.length).toBeGreaterThan(0)
    for (const line of workerLines) expect(line.annotations?.traceId).toBe(notify!.traceId)
  }, 120_000)
})
