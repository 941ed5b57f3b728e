import { Webhooks } from "@scopeline/webhooks"
import { SiteLimits } from "@scopeline/sites"
import { AuditLog } from "@scopeline/events"
import { SqlClient } from "@effect/sql"
import { EmissionsRepo } from "@scopeline/activities/EmissionsRepo"
import { FactorsRepo } from "@scopeline/catalogue/FactorsRepo"
import { MatchRepo } from "@scopeline/matching/MatchRepo"
import { migrate } from "@scopeline/sql/Migrator"
import type { CatalogueFactor } from "@scopeline/catalogue/EmissionFactor"
import { MatchJob } from "@scopeline/uploads/Jobs"
import { startMatcher, type MatcherOptions, type RunningMatcher } from "@scopeline/matcher/server"
import { loadCatalogue } from "@scopeline/catalogue/loadCatalogue"
import { readCatalogue } from "@scopeline/catalogue/readCatalogue"
import { AiMatcherClient } from "@scopeline/matching/AiMatcherClient"
import { MatchCache } from "@scopeline/matching/MatchCache"
import { MatchUpload } from "@scopeline/matching/MatchUpload"
import { ReviewGate } from "@scopeline/matching/ReviewGate"
import { SQL } from "bun"
import { Effect, Layer, Logger, LogLevel, ManagedRuntime } from "effect"
import { configLayer } from "../support/config.ts"
import { testCluster } from "../support/postgres.ts"
import { sqlLayer } from "../support/seed.ts"
import { QueueSettings } from "@scopeline/settings/QueueSettings"

let catalogue: Promise<ReadonlyArray<CatalogueFactor>> | undefined
/** The published factor files, read once per test file (the matcher ranks them, the DB stores them). */
export const theCatalogue = () => (catalogue ??= Effect.runPromise(readCatalogue()))

let template: Promise<string> | undefined

/**
 * A fresh database with every migration and the real catalogue. The first call builds a template
 * database; each later one is a `CREATE DATABASE … TEMPLATE` copy, which takes milliseconds.
 */
export const catalogueDatabase = async (): Promise<string> => {
  const cluster = await testCluster()
  template ??= (async () => {
    const name = `match_template_${crypto.randomUUID().replaceAll("-", "").slice(0, 12)}`
    const admin = new SQL(cluster.url)
    await admin.unsafe(`CREATE DATABASE ${name}`)
    await admin.close()
    const runtime = ManagedRuntime.make(FactorsRepo.Default.pipe(Layer.provideMerge(sqlLayer(cluster.urlFor(name)))))
    await runtime.runPromise(
      Effect.gen(function* () {
        yield* migrate()
        yield* loadCatalogue()
      }).pipe(Logger.withMinimumLogLevel(LogLevel.Warning)),
    )
    await runtime.dispose()
    return name
  })()
  const source = await template
  const name = `match_${crypto.randomUUID().replaceAll("-", "").slice(0, 16)}`
  const admin = new SQL(cluster.url)
  try {
    await admin.unsafe(`CREATE DATABASE ${name} TEMPLATE ${source}`)
  } finally {
    await admin.close()
  }
  return cluster.urlFor(name)
}

export const startTestMatcher = async (options: MatcherOptions = {}): Promise<RunningMatcher> =>
  startMatcher({ port: 0, catalogue: await theCatalogue(), ...options })

export type MatchServices = MatchUpload | AiMatcherClient | MatchRepo | EmissionsRepo | FactorsRepo | AuditLog | Webhooks | SqlClient.SqlClient

/** The match job's services against a database, configured like the worker (settings = env vars). */
export const matchLayer = (databaseUrl: string, settings: Record<string, string>) =>
  MatchUpload.DefaultWithoutDependencies.pipe(
    Layer.provideMerge(Layer.mergeAll(AiMatcherClient.Default, MatchCache.Default, MatchRepo.Default, FactorsRepo.Default, EmissionsRepo.Default, QueueSettings.Default, ReviewGate.Default)),
    Layer.provideMerge(SiteLimits.Default),
    Layer.provideMerge(Webhooks.Default),
    Layer.provideMerge(AuditLog.Default),
    Layer.provideMerge(sqlLayer(databaseUrl)),
    Layer.provide(configLayer(settings)),
  )

export const matchRuntime = (databaseUrl: string, settings: Record<string, string>) =>
  ManagedRuntime.make(matchLayer(databaseUrl, settings).pipe(Layer.provide(Logger.minimumLogLevel(LogLevel.Error))))

export interface ActivityInput {
  readonly description: string
  readonly quantity: string
  readonly unit: string
  readonly geography?: string | null
  readonly date?: string
  readonly category?: string | null
}

/** A parsed upload (status 'parsed') with its activities 'ingested', as ParseUpload leaves them. */
export const createUpload = (rows: ReadonlyArray<ActivityInput>) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const [user] = yield* sql<{ id: string }>`
      INSERT INTO users (email, role) VALUES (${`acc-${crypto.randomUUID()}@example.com`}, 'accountant') RETURNING id`
    const uploadId = crypto.randomUUID()
    yield* sql`
      INSERT INTO uploads (id, accountant, s3_object_url, status, row_count)
      VALUES (${uploadId}, ${user!.id}, ${`uploads/${uploadId}.csv`}, 'parsed', ${rows.length})`
    yield* sql`
      INSERT INTO activities (upload_id, row_number, raw_description, raw_volume, raw_unit, geography, activity_date, category)
      SELECT ${uploadId}, * FROM unnest(
        ${rows.map((_, i) => i + 2)}::int[], ${rows.map((r) => r.description)}::text[],
        ${rows.map((r) => r.quantity)}::numeric[], ${rows.map((r) => r.unit)}::text[],
        ${rows.map((r) => r.geography ?? null)}::text[], ${rows.map((r) => r.date ?? "2024-01-15")}::date[],
        ${rows.map((r) => r.category ?? null)}::text[])`
    return uploadId
  })

export const jobFor = (uploadId: string) => new MatchJob({ uploadId, correlationId: `test-${uploadId.slice(0, 8)}` })

export interface ActivityState {
  readonly rowNumber: number
  readonly rawDescription: string
  readonly status: string
  readonly emissions: string | null
  readonly matchSource: string | null
  readonly matchKey: string | null
  readonly failureReason: string | null
  readonly failureKind: string | null
  readonly factorRef: string | null
  readonly factorValue: string | null
}

export const activitiesOf = (uploadId: string) =>
  Effect.flatMap(
    SqlClient.SqlClient,
    (sql) => sql<ActivityState>`
      SELECT a.row_number, a.raw_description, a.status::text AS status, a.emissions::text AS emissions, a.match_source,
             a.match_key, a.failure_reason, a.failure_kind, f.ref AS factor_ref, f.factor_value::text AS factor_value
      FROM activities a LEFT JOIN emission_factors f ON f.id = a.matched_factor_id
      WHERE a.upload_id = ${uploadId} ORDER BY a.row_number`,
  )

export const statusCounts = (uploadId: string) =>
  Effect.map(activitiesOf(uploadId), (rows) => {
    const counts: Record<string, number> = {}
    for (const row of rows) counts[row.status] = (counts[row.status] ?? 0) + 1
    return counts
  })

/** The reference matcher's own counters, read over HTTP as an operator would. */
export const matcherStats = async (matcher: RunningMatcher) =>
  (await (await fetch(`${matcher.url}/stats`)).json()) as { requests: number; inFlightMax: number; itemsMatched: number }

export interface Scenario {
  readonly matcher: RunningMatcher
  readonly databaseUrl: string
  readonly run: <A, E>(effect: Effect.Effect<A, E, MatchServices>) => Promise<A>
  readonly match: (uploadId: string, receiveCount?: number) => Promise<void>
  readonly dispose: () => Promise<void>
}

/** A fresh catalogue database, a reference matcher on a free port, and the match services wired to both. */
export const scenario = async (
  matcherOptions: MatcherOptions = {},
  settings: Record<string, string> = {},
): Promise<Scenario> => {
  const [databaseUrl, matcher] = await Promise.all([catalogueDatabase(), startTestMatcher(matcherOptions)])
  const runtime = matchRuntime(databaseUrl, { MATCHER_URL: matcher.url, ...settings })
  const run = <A, E>(effect: Effect.Effect<A, E, MatchServices>) => runtime.runPromise(effect)
  return {
    matcher,
    databaseUrl,
    run,
    match: (uploadId, receiveCount = 1) =>
      run(Effect.flatMap(MatchUpload, (m) => m.run(jobFor(uploadId), { receiveCount }))),
    dispose: async () => {
      await runtime.dispose()
      await matcher.stop()
    },
  }
}
