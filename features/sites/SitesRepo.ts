import { SqlClient, SqlSchema } from "@effect/sql"
import { Effect, Schema } from "effect"
import { Site, type SiteChange, SiteId, type SiteRequest } from "./Site.ts"

const columns = "id, code, name, country, emission_limit_kg_co2e::text AS emission_limit_kg_co2e, limit_period, created_at, updated_at"

/** One site and one period (`from` inclusive, `until` exclusive, both YYYY-MM-DD). */
export interface PeriodOfSite {
  readonly siteId: SiteId
  readonly from: string
  readonly until: string
}

// Keys without underscores: the client's name transform would rewrite them inside JSON too.
export const GasTotal = Schema.Struct({ gas: Schema.String, kg: Schema.String, co2e: Schema.String, measurements: Schema.Number })

/** A site's sums over one period, exact (NUMERIC as text). */
export const PeriodTotals = Schema.Struct({
  siteId: Schema.String,
  from: Schema.String,
  measuredKgCo2e: Schema.String,
  activitiesKgCo2e: Schema.String,
  activities: Schema.Number,
  totalKgCo2e: Schema.String,
  byGas: Schema.Array(GasTotal),
})
export type PeriodTotals = typeof PeriodTotals.Type

/** Code → site, for the parse of an activity file's `site` column. */
export const KnownSite = Schema.Struct({ id: SiteId, code: Schema.String })
export type KnownSite = typeof KnownSite.Type

/** A SqlError whose cause is PostgreSQL's unique violation (23505). */
export const isUniqueViolation = (error: unknown): boolean => {
  const cause = (error as { readonly cause?: { readonly code?: unknown } } | null)?.cause
  return cause?.code === "23505"
}

export const DailyMeasurement = Schema.Struct({ day: Schema.String, kgCo2e: Schema.String, readings: Schema.Number })
export type DailyMeasurement = typeof DailyMeasurement.Type

export const LinkedActivity = Schema.Struct({
  id: Schema.String,
  uploadId: Schema.String,
  /** Its upload's file and time, to name the upload by. */
  uploadFilename: Schema.NullOr(Schema.String),
  uploadCreatedAt: Schema.DateFromSelf,
  description: Schema.String,
  date: Schema.NullOr(Schema.String),
  status: Schema.String,
  emissions: Schema.NullOr(Schema.String),
})
export type LinkedActivity = typeof LinkedActivity.Type

export const StoredAlert = Schema.Struct({
  id: Schema.String,
  period: Schema.String,
  threshold: Schema.Number,
  totalKgCo2e: Schema.String,
  limitKgCo2e: Schema.String,
  createdAt: Schema.DateFromSelf,
})
export type StoredAlert = typeof StoredAlert.Type

export class SitesRepo extends Effect.Service<SitesRepo>()("scopeline/SitesRepo", {
  effect: Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient

    const findById = SqlSchema.findOne({
      Request: SiteId,
      Result: Site,
      execute: (id) => sql`SELECT ${sql.literal(columns)} FROM sites WHERE id = ${id}`,
    })

    /** The site, locked until the transaction ends: every write that changes its totals takes this first, so they queue per site. */
    const lock = SqlSchema.findOne({
      Request: SiteId,
      Result: Site,
      execute: (id) => sql`SELECT ${sql.literal(columns)} FROM sites WHERE id = ${id} FOR UPDATE`,
    })

    const list = SqlSchema.findAll({
      Request: Schema.Struct({ offset: Schema.Int, limit: Schema.Int }),
      Result: Site,
      execute: ({ offset, limit }) => sql`SELECT ${sql.literal(columns)} FROM sites ORDER BY lower(code), id LIMIT ${limit} OFFSET ${offset}`,
    })

    const known = SqlSchema.findAll({
      Request: Schema.Void,
      Result: KnownSite,
      execute: () => sql`SELECT id, code FROM sites ORDER BY lower(code)`,
    })

    const insert = (request: SiteRequest, createdBy: string | null) =>
      SqlSchema.single({
        Request: Schema.Void,
        Result: Site,
        execute: () => sql`
          INSERT INTO sites (code, name, country, emission_limit_kg_co2e, limit_period, created_by)
          VALUES (${request.code}, ${request.name}, ${request.country},
                  ${request.emission_limit_kg_co2e === undefined || request.emission_limit_kg_co2e === null ? null : String(request.emission_limit_kg_co2e)}::numeric,
                  ${request.limit_period}, ${createdBy})
          RETURNING ${sql.literal(columns)}`,
      })(undefined)

    const update = (id: SiteId, change: SiteChange) => {
      const limit = change.emission_limit_kg_co2e
      return SqlSchema.single({
        Request: Schema.Void,
        Result: Site,
        execute: () => sql`
          UPDATE sites SET
            code = coalesce(${change.code ?? null}, code),
            name = coalesce(${change.name ?? null}, name),
            country = coalesce(${change.country ?? null}, country),
            emission_limit_kg_co2e = CASE WHEN ${limit !== undefined} THEN ${limit === undefined || limit === null ? null : String(limit)}::numeric
                                          ELSE emission_limit_kg_co2e END,
            limit_period = coalesce(${change.limit_period ?? null}, limit_period),
            updated_at = now()
          WHERE id = ${id}
          RETURNING ${sql.literal(columns)}`,
      })(undefined)
    }

    /**
     * Each site's sums over its period: the running measurement totals of the period's months, and
     * the calculated activities dated in it (from the inventory's cells). One call for any number of
     * sites (migration 0054's site_period_totals, whose plan the connection keeps).
     */
    const totals = (periods: ReadonlyArray<PeriodOfSite>) =>
      periods.length === 0
        ? Effect.succeed([] as ReadonlyArray<PeriodTotals>)
        : SqlSchema.findAll({
            Request: Schema.Void,
            Result: PeriodTotals,
            execute: () => sql`
              SELECT * FROM site_period_totals(${periods.map((p) => p.siteId)}::uuid[], ${periods.map((p) => p.from)}::date[],
                                               ${periods.map((p) => p.until)}::date[])`,
          })(undefined)

    /** Readings per calendar day where the reader is (`zone`, an IANA name), from `since` on. */
    const daily = (siteId: SiteId, zone: string, since: Date) =>
      SqlSchema.findAll({
        Request: Schema.Void,
        Result: DailyMeasurement,
        execute: () => sql`
          SELECT to_char((measured_at AT TIME ZONE ${zone})::date, 'YYYY-MM-DD') AS day, sum(kg_co2e)::text AS kg_co2e, count(*)::int AS readings
          FROM measurements WHERE site_id = ${siteId} AND measured_at >= ${since}
          GROUP BY 1 ORDER BY 1`,
      })(undefined).pipe(Effect.orDie)

    const activities = (siteId: SiteId, limit: number) =>
      SqlSchema.findAll({
        Request: Schema.Void,
        Result: LinkedActivity,
        execute: () => sql`
          SELECT a.id, a.upload_id, u.original_filename AS upload_filename, u.created_at AS upload_created_at,
                 a.raw_description AS description, to_char(a.activity_date, 'YYYY-MM-DD') AS date,
                 a.status::text AS status, a.emissions::text AS emissions
          FROM activities a JOIN uploads u ON u.id = a.upload_id WHERE a.site_id = ${siteId}
          ORDER BY a.activity_date DESC NULLS LAST, a.id LIMIT ${limit}`,
      })(undefined).pipe(Effect.orDie)

    const alerts = (siteId: SiteId) =>
      SqlSchema.findAll({
        Request: Schema.Void,
        Result: StoredAlert,
        execute: () => sql`
          SELECT id, period, threshold, total_kg_co2e::text AS total_kg_co2e, limit_kg_co2e::text AS limit_kg_co2e, created_at
          FROM site_alerts WHERE site_id = ${siteId} ORDER BY created_at DESC, threshold DESC LIMIT 200`,
      })(undefined).pipe(Effect.orDie)

    return {
      daily,
      activities,
      alerts,
      findById: (id: SiteId) => findById(id).pipe(Effect.orDie),
      lock: (id: SiteId) => lock(id).pipe(Effect.orDie),
      /** One page of sites by code, and how many there are. */
      list: (offset: number, limit: number) =>
        Effect.all({
          sites: list({ offset, limit }),
          total: sql<{ total: number }>`SELECT count(*)::int AS total FROM sites`.pipe(Effect.map((rows) => rows[0]?.total ?? 0)),
        }).pipe(Effect.orDie),
      known: known(undefined).pipe(Effect.orDie),
      insert,
      update,
      totals: (periods: ReadonlyArray<PeriodOfSite>) => totals(periods).pipe(Effect.orDie),
    }
  }),
}) {}

