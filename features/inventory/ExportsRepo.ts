import { AuditLog } from "@scopeline/events"
import { Webhooks } from "@scopeline/webhooks"
import { SqlClient, SqlSchema, type Statement } from "@effect/sql"
import { scope3CategoryAliases } from "@scopeline/catalogue"
import { enqueueInTransaction } from "@scopeline/queue/Outbox"
import { Chunk, Effect, Option, Schema, Stream } from "effect"
import {
  encodeExportJob,
  ExportFilters,
  ExportId,
  ExportJob,
  type ExportRequestBody,
  ExportRow,
} from "./Export.ts"

const columns = `id, requested_by::text AS requested_by, format, kind, filters::text AS filters, status,
  rows_written::text AS rows_written, total_rows::text AS total_rows, blob_key, size_bytes::text AS size_bytes,
  failure_reason, attempts, created_at, finished_at`

/** One activity as an export writes it: every column as the database has it (NUMERIC as text). */
export const ExportActivity = Schema.Struct({
  id: Schema.String,
  uploadId: Schema.String,
  rowNumber: Schema.NullOr(Schema.Int),
  description: Schema.String,
  quantity: Schema.NullOr(Schema.String),
  unit: Schema.NullOr(Schema.String),
  date: Schema.NullOr(Schema.String),
  geography: Schema.NullOr(Schema.String),
  scope: Schema.NullOr(Schema.Int),
  scope3Category: Schema.NullOr(Schema.Int),
  category: Schema.NullOr(Schema.String),
  factorRef: Schema.NullOr(Schema.String),
  factorName: Schema.NullOr(Schema.String),
  factorValue: Schema.NullOr(Schema.String),
  factorUnit: Schema.NullOr(Schema.String),
  source: Schema.NullOr(Schema.String),
  year: Schema.NullOr(Schema.Int),
  licence: Schema.NullOr(Schema.String),
  emissions: Schema.NullOr(Schema.String),
  co2: Schema.NullOr(Schema.String),
  ch4: Schema.NullOr(Schema.String),
  n2o: Schema.NullOr(Schema.String),
  other: Schema.NullOr(Schema.String),
  matchSource: Schema.NullOr(Schema.String),
  reviewStatus: Schema.NullOr(Schema.String),
  confidence: Schema.NullOr(Schema.String),
  status: Schema.String,
  failureReason: Schema.NullOr(Schema.String),
  // JSON text: the client's snake→camel transform would otherwise rename the file's own columns.
  extra: Schema.NullOr(Schema.String),
})
export type ExportActivity = typeof ExportActivity.Type

/** Rows per keyset page: one page is all the export holds of the table at any time. */
export const EXPORT_PAGE = 1000
/** More distinct extra columns than this are not spread into columns (a file with a column per row is not a sheet). */
export const MAX_EXTRA_COLUMNS = 50

const Count = Schema.Struct({ count: Schema.NumberFromString })
const Key = Schema.Struct({ key: Schema.String })

/**
 * Export jobs' rows and the activities they stream. A job's state changes are single guarded
 * UPDATEs, so a redelivered job cannot move a finished export back.
 */
export class ExportsRepo extends Effect.Service<ExportsRepo>()("scopeline/ExportsRepo", {
  effect: Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const audit = yield* AuditLog
    const webhooks = yield* Webhooks
    const aliases = scope3CategoryAliases()

    const filterSql = (filters: ExportFilters) => [
      ...(filters.upload_id === undefined ? [] : [sql`a.upload_id = ${filters.upload_id}`]),
      ...(filters.status === undefined ? [] : [sql`a.status = ${filters.status}`]),
      ...(filters.review_status === undefined ? [] : [sql`a.review_status = ${filters.review_status}`]),
      ...(filters.from === undefined ? [] : [sql`a.activity_date >= ${filters.from}::date`]),
      ...(filters.to === undefined ? [] : [sql`a.activity_date <= ${filters.to}::date`]),
    ]

    const insert = SqlSchema.single({
      Request: Schema.Struct({ requestedBy: Schema.String, format: Schema.String, kind: Schema.String, filters: Schema.String, correlationId: Schema.String }),
      Result: ExportRow,
      execute: (r) => sql`
        INSERT INTO exports (requested_by, format, kind, filters, correlation_id)
        VALUES (${r.requestedBy}::uuid, ${r.format}, ${r.kind}, ${r.filters}::jsonb, ${r.correlationId})
        RETURNING ${sql.literal(columns)}`,
    })

    const byId = SqlSchema.findOne({
      Request: ExportId,
      Result: ExportRow,
      execute: (id) => sql`SELECT ${sql.literal(columns)} FROM exports WHERE id = ${id}`,
    })

    const recent = SqlSchema.findAll({
      Request: Schema.Struct({ requestedBy: Schema.String, limit: Schema.Int }),
      Result: ExportRow,
      execute: (r) => sql`
        SELECT ${sql.literal(columns)} FROM exports WHERE requested_by = ${r.requestedBy}::uuid
        ORDER BY created_at DESC, id DESC LIMIT ${r.limit}`,
    })

    /**
     * One page: the activities are picked first, on the index alone (ORDER BY … LIMIT inside the CTE),
     * and only those 1,000 are joined to their factors. Joined first, PostgreSQL would join and sort
     * every matching activity for each page: a million-row export would read the table a thousand times.
     */
    const selectPage = (where: ReadonlyArray<Statement.Fragment>, order: Statement.Fragment) => sql`
      WITH page AS (
        SELECT * FROM activities a WHERE ${sql.and(where)} ORDER BY ${order} LIMIT ${EXPORT_PAGE}),
      refine AS (
        SELECT DISTINCT ON (alias) alias, category
        FROM unnest(${aliases.map(([alias]) => alias)}::text[], ${aliases.map(([, category]) => category)}::int[]) AS r(alias, category))
      SELECT a.id::text AS id, a.upload_id::text AS upload_id, a.row_number, a.raw_description AS description,
             a.raw_volume::text AS quantity, a.raw_unit AS unit, a.activity_date::text AS date, a.geography,
             f.ghg_scope AS scope,
             CASE WHEN f.ghg_scope = 3 THEN coalesce(r.category, f.scope3_category) END AS scope3_category,
             a.category, f.ref AS factor_ref, f.name AS factor_name, f.factor_value::text AS factor_value,
             CASE WHEN f.id IS NOT NULL THEN f.factor_unit || ' per ' || f.unit END AS factor_unit,
             f.source, f.year, f.licence, a.emissions::text AS emissions, a.emissions_co2::text AS co2,
             a.emissions_ch4::text AS ch4, a.emissions_n2o::text AS n2o, a.emissions_other::text AS other,
             a.match_source, a.factor_confidence::text AS confidence, a.review_status, a.status::text AS status, a.failure_reason,
             a.extra::text AS extra
      FROM page a
      LEFT JOIN emission_factors f ON f.id = a.matched_factor_id
      LEFT JOIN refine r ON r.alias = trim(regexp_replace(lower(a.category), '[^a-z0-9]+', ' ', 'g'))
      ORDER BY ${order}`

    const decodePage = Schema.decodeUnknown(Schema.Array(ExportActivity))

    /**
     * Keyset pages in file order: by (upload, row) on the table's unique index, then the few rows
     * without a file position by id. Never OFFSET: page n costs the same as page 1, so a million rows
     * are a thousand equal queries and the job holds one page at a time.
     */
    const streamActivities = (filters: ExportFilters): Stream.Stream<ExportActivity> => {
      const numbered = Stream.paginateChunkEffect(Option.none<{ readonly uploadId: string; readonly rowNumber: number }>(), (after) =>
        selectPage(
          [
            ...filterSql(filters),
            sql`a.row_number IS NOT NULL`,
            ...Option.match(after, {
              onNone: () => [],
              onSome: (key) => [sql`(a.upload_id, a.row_number) > (${key.uploadId}::uuid, ${key.rowNumber}::int)`],
            }),
          ],
          sql`a.upload_id, a.row_number`,
        ).pipe(
          Effect.flatMap(decodePage),
          Effect.map((rows) => {
            const last = rows[rows.length - 1]
            const next = rows.length === EXPORT_PAGE && last ? Option.some(Option.some({ uploadId: last.uploadId, rowNumber: last.rowNumber! })) : Option.none()
            return [Chunk.fromIterable(rows), next] as const
          }),
        ),
      )
      const unnumbered = Stream.paginateChunkEffect(Option.none<string>(), (after) =>
        selectPage(
          [...filterSql(filters), sql`a.row_number IS NULL`, ...Option.match(after, { onNone: () => [], onSome: (id) => [sql`a.id > ${id}::uuid`] })],
          sql`a.id`,
        ).pipe(
          Effect.flatMap(decodePage),
          Effect.map((rows) => {
            const last = rows[rows.length - 1]
            return [Chunk.fromIterable(rows), rows.length === EXPORT_PAGE && last ? Option.some(Option.some(last.id)) : Option.none()] as const
          }),
        ),
      )
      return Stream.concat(numbered, unnumbered).pipe(Stream.orDie, Stream.withSpan("ExportsRepo.streamActivities"))
    }

    return {
      /** The export row and its job on the outbox, in one transaction: no job without a row, nor the reverse. */
      create: Effect.fn("ExportsRepo.create")(function* (requestedBy: string, body: ExportRequestBody, correlationId: string) {
        return yield* sql.withTransaction(
          Effect.gen(function* () {
            const row = yield* insert({
              requestedBy,
              format: body.format,
              kind: body.kind,
              filters: JSON.stringify(Schema.encodeSync(ExportFilters)(body.filters)),
              correlationId,
            })
            yield* enqueueInTransaction("export", encodeExportJob(ExportJob.make({ exportId: row.id, correlationId })))
            yield* audit.record({
              category: "business",
              action: "export_requested",
              actor: { userId: requestedBy },
              object: { type: "export", id: row.id },
              correlationId,
              details: { format: body.format, kind: body.kind, filters: Schema.encodeSync(ExportFilters)(body.filters) },
            })
            return row
          }),
        ).pipe(Effect.orDie)
      }),
      findById: Effect.fn("ExportsRepo.findById")(function* (id: ExportId) {
        return yield* byId(id).pipe(Effect.orDie)
      }),
      recent: Effect.fn("ExportsRepo.recent")(function* (requestedBy: string, limit: number) {
        return yield* recent({ requestedBy, limit }).pipe(Effect.orDie)
      }),
      countActivities: Effect.fn("ExportsRepo.countActivities")(function* (filters: ExportFilters) {
        const [row] = yield* sql`SELECT count(*)::text AS count FROM activities a WHERE ${sql.and(filterSql(filters))}`.pipe(
          Effect.flatMap(Schema.decodeUnknown(Schema.Array(Count))),
          Effect.orDie,
        )
        return row?.count ?? 0
      }),
      /** The file's own column names across the exported activities, in first-seen order of their names. */
      extraColumns: Effect.fn("ExportsRepo.extraColumns")(function* (filters: ExportFilters) {
        const rows = yield* sql`
          SELECT DISTINCT k.key FROM activities a, jsonb_object_keys(CASE WHEN jsonb_typeof(a.extra) = 'object' THEN a.extra ELSE '{}' END) AS k(key)
          WHERE ${sql.and(filterSql(filters))} ORDER BY k.key LIMIT ${MAX_EXTRA_COLUMNS}`.pipe(
          Effect.flatMap(Schema.decodeUnknown(Schema.Array(Key))),
          Effect.orDie,
        )
        return rows.map((row) => row.key)
      }),
      streamActivities,
      /** Claims the export for this delivery; false when it is already finished (a redelivery). */
      start: Effect.fn("ExportsRepo.start")(function* (id: string, totalRows: number) {
        const rows = yield* sql`
          UPDATE exports SET status = 'running', started_at = now(), attempts = attempts + 1, rows_written = 0,
                 total_rows = ${totalRows}, failure_reason = NULL
          WHERE id = ${id}::uuid AND status IN ('queued', 'running', 'failed') RETURNING 1`.pipe(Effect.orDie)
        return rows.length > 0
      }),
      progress: Effect.fn("ExportsRepo.progress")(function* (id: string, rowsWritten: number) {
        yield* sql`UPDATE exports SET rows_written = ${rowsWritten} WHERE id = ${id}::uuid AND status = 'running'`.pipe(Effect.orDie)
      }),
      /** The file is ready: the row and its `export_completed` event commit together, once (a redelivery changes nothing). */
      finish: Effect.fn("ExportsRepo.finish")(function* (id: string, blobKey: string, rowsWritten: number, sizeBytes: number) {
        yield* sql
          .withTransaction(
            Effect.gen(function* () {
              const [done] = yield* sql<{ format: string; kind: string; attempts: number }>`
                UPDATE exports SET status = 'ready', blob_key = ${blobKey}, rows_written = ${rowsWritten}, size_bytes = ${sizeBytes},
                       finished_at = now()
                WHERE id = ${id}::uuid AND status = 'running' RETURNING format, kind, attempts`
              if (done === undefined) return
              yield* audit.record({
                category: "business",
                action: "export_completed",
                actor: { service: "export-worker" },
                object: { type: "export", id },
                details: { format: done.format, kind: done.kind, rows: rowsWritten, size_bytes: sizeBytes, attempts: done.attempts },
              })
            }),
          )
          .pipe(Effect.orDie)
      }),
      /**
       * The last attempt failed: the export is marked failed (what the person sees), and the job's
       * `job_dead_lettered` event and its webhook deliveries commit with it, once.
       */
      fail: Effect.fn("ExportsRepo.fail")(function* (id: string, reason: string, error: string) {
        yield* sql
          .withTransaction(
            Effect.gen(function* () {
              const [failed] = yield* sql<{ attempts: number }>`
                UPDATE exports SET status = 'failed', failure_reason = ${reason}, finished_at = now()
                WHERE id = ${id}::uuid AND status IN ('queued', 'running') RETURNING attempts`
              if (failed === undefined) return
              yield* audit.record({
                category: "system",
                action: "job_dead_lettered",
                actor: { service: "export-worker" },
                object: { type: "export", id },
                outcome: { status: "failure", errorCode: "last_attempt_failed", message: error.slice(0, 500) },
                details: { queue: "export", attempts: failed.attempts },
              })
              yield* webhooks.publish({ type: "job.dead_lettered", key: `export:${id}`, payload: { queue: "export", export_id: id, reason: error.slice(0, 500) } })
            }),
          )
          .pipe(Effect.orDie)
      }),
    }
  }),
}) {}
