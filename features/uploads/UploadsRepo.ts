import { SqlClient, SqlSchema } from "@effect/sql"
import { type RowError, Upload, UploadId } from "./Upload.ts"
import { UserId } from "@scopeline/accounts"
import { Effect, Schema } from "effect"

const uploadColumns = `id, accountant, s3_object_url, status, failure_reason, original_filename, max_bytes::text,
  size_bytes::text, row_count, error_count, row_errors, parse_attempts, correlation_id, created_at, updated_at,
  uploaded_at, parsed_at`

export class UploadsRepo extends Effect.Service<UploadsRepo>()("scopeline/UploadsRepo", {
  effect: Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient

    const byId = SqlSchema.findOne({
      Request: UploadId,
      Result: Upload,
      execute: (id) => sql`SELECT ${sql.literal(uploadColumns)} FROM uploads WHERE id = ${id}`,
    })

    const byIds = SqlSchema.findAll({
      Request: Schema.Array(Schema.String),
      Result: Upload,
      execute: (ids) => sql`SELECT ${sql.literal(uploadColumns)} FROM uploads WHERE id = ANY(${ids}::uuid[])`,
    })

    const create = Effect.fn("UploadsRepo.create")(function* (input: {
      readonly id: UploadId
      readonly accountant: UserId
      readonly objectKey: string
      readonly maxBytes: number
      readonly originalFilename: string | null
      readonly correlationId: string
    }) {
      yield* sql`INSERT INTO uploads ${sql.insert({
        id: input.id,
        accountant: input.accountant,
        s3ObjectUrl: input.objectKey,
        maxBytes: input.maxBytes,
        originalFilename: input.originalFilename,
        correlationId: input.correlationId,
      })}`.pipe(Effect.orDie)
    })

    /**
     * pending_upload → uploaded, once. Returns false when the upload had already moved on, which
     * makes a repeated notify a no-op. Call inside the transaction that also enqueues the parse job.
     */
    const markUploaded = Effect.fn("UploadsRepo.markUploaded")(function* (id: UploadId, sizeBytes: number) {
      const rows = yield* sql`
        UPDATE uploads SET status = 'uploaded', size_bytes = ${sizeBytes}, uploaded_at = now(), updated_at = now()
        WHERE id = ${id} AND status = 'pending_upload' RETURNING id`
      return rows.length > 0
    })

    // An upload that failed for processing reasons (not its content) may be parsed again on replay.
    const parseable = sql`(status IN ('uploaded', 'parsing') OR (status = 'failed' AND failure_kind = 'processing'))`

    /** Whether the upload still needs parsing: uploaded, interrupted, or failed for processing reasons. */
    const needsParse = Effect.fn("UploadsRepo.needsParse")(function* (id: UploadId) {
      const rows = yield* sql`SELECT 1 FROM uploads WHERE id = ${id} AND ${parseable}`
      return rows.length > 0
    })

    const markParsing = Effect.fn("UploadsRepo.markParsing")(function* (id: UploadId) {
      yield* sql`
        UPDATE uploads SET status = 'parsing', failure_kind = NULL, parse_attempts = parse_attempts + 1, updated_at = now()
        WHERE id = ${id} AND ${parseable}`
    })

    /** Locks the upload for the parse transaction and says whether it still needs parsing. */
    const lockForParse = Effect.fn("UploadsRepo.lockForParse")(function* (id: UploadId) {
      const rows = yield* sql`SELECT 1 FROM uploads WHERE id = ${id} AND ${parseable} FOR UPDATE`
      return rows.length > 0
    })

    const markParsed = Effect.fn("UploadsRepo.markParsed")(function* (id: UploadId, rowCount: number) {
      yield* sql`
        UPDATE uploads SET status = 'parsed', row_count = ${rowCount}, error_count = 0, failure_reason = NULL,
          row_errors = NULL, parsed_at = now(), updated_at = now()
        WHERE id = ${id}`
    })

    const markFailed = Effect.fn("UploadsRepo.markFailed")(function* (
      id: UploadId,
      reason: string,
      errors: ReadonlyArray<RowError>,
      errorCount: number,
      kind: "rejected" | "processing" = "rejected",
    ) {
      yield* sql`
        UPDATE uploads SET status = 'failed', failure_kind = ${kind}, failure_reason = ${reason},
          row_errors = ${JSON.stringify(errors)}::jsonb, error_count = ${errorCount}, row_count = NULL,
          parsed_at = now(), updated_at = now()
        WHERE id = ${id} AND status <> 'parsed'`
    })

    const list = Effect.fn("UploadsRepo.list")(function* (page: { offset: number; limit: number; accountant?: UserId }) {
      const filter = page.accountant ? sql`WHERE accountant = ${page.accountant}` : sql``
      const rows = yield* sql`
        SELECT ${sql.literal(uploadColumns)} FROM uploads ${filter}
        ORDER BY created_at DESC, id DESC OFFSET ${page.offset} LIMIT ${page.limit}`
      const [count] = yield* sql<{ total: number }>`SELECT count(*)::int AS total FROM uploads ${filter}`
      const uploads = yield* Schema.decodeUnknown(Schema.Array(Upload))(rows)
      return { uploads, total: count?.total ?? 0 }
    })

    return {
      findById: (id: UploadId) => byId(id).pipe(Effect.orDie, Effect.withSpan("UploadsRepo.findById")),
      /** The uploads among `ids` that exist, in no particular order (ids are checked UUIDs). */
      findByIds: (ids: ReadonlyArray<UploadId>) =>
        (ids.length === 0 ? Effect.succeed([]) : byIds(ids)).pipe(Effect.orDie, Effect.withSpan("UploadsRepo.findByIds")),
      create,
      markUploaded,
      needsParse,
      markParsing,
      lockForParse,
      markParsed,
      markFailed,
      list: (page: { offset: number; limit: number; accountant?: UserId }) => list(page).pipe(Effect.orDie),
    }
  }),
}) {}
