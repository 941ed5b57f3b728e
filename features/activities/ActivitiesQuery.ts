import { SqlClient, SqlSchema, type Statement } from "@effect/sql"
import { EmissionFactorId } from "@scopeline/catalogue"
import { ActivityStatus, UploadId, UploadProgress, UploadStatus } from "@scopeline/uploads"
import { UserId } from "@scopeline/accounts"
import { Effect, Either, ParseResult, Schema } from "effect"
import { REVIEW_STATUSES, ReviewStatusSchema } from "@scopeline/matching"
import { isUuidText } from "@scopeline/ui/decode"


export const ActivityId = Schema.UUID.pipe(Schema.brand("ActivityId"))
export type ActivityId = typeof ActivityId.Type

/** Largest page anyone may ask for: enough for an export loop, small enough to keep one response bounded. */
export const MAX_PAGE_SIZE = 1000
export const DEFAULT_PAGE_SIZE = 25

/**
 * The file's other columns, kept as JSON.parse gives them. A decoder that rebuilt the object (as
 * Schema.Record does) would assign a column named "__proto__" as a prototype and lose it.
 */
const OriginalColumns = Schema.declare(
  (u): u is Readonly<Record<string, unknown>> => typeof u === "object" && u !== null && !Array.isArray(u),
  { identifier: "OriginalColumns" },
)

/**
 * The sort key of one row of the activities listing (newest first, then file order), matching the
 * `activities_page_idx` index. `createdAt` is microseconds since the epoch as a decimal string:
 * a JS Date keeps only milliseconds, and a key that rounds would skip or repeat rows.
 */
export const PageKey = Schema.Struct({
  // Within the columns' ranges (bigint microseconds, int row numbers): a forged cursor outside them
  // is refused here rather than failing in PostgreSQL.
  createdAtMicros: Schema.String.pipe(Schema.pattern(/^\d{1,18}$/)),
  uploadId: UploadId,
  rowNumber: Schema.Int.pipe(Schema.between(0, 2_147_483_647)),
})
export type PageKey = typeof PageKey.Type

const PageKeyJson = Schema.parseJson(Schema.Tuple(PageKey.fields.createdAtMicros, UploadId, PageKey.fields.rowNumber))

/** The opaque `cursor` clients echo back: base64url of the last row's sort key. */
export const Cursor = Schema.transformOrFail(Schema.String, PageKey, {
  strict: true,
  decode: (text, _, ast) => {
    const json = /^[\w-]+$/.test(text) ? Buffer.from(text, "base64url").toString("utf8") : ""
    return Either.match(Schema.decodeUnknownEither(PageKeyJson)(json), {
      onLeft: () => ParseResult.fail(new ParseResult.Type(ast, text, "is not a cursor this server issued")),
      onRight: ([createdAtMicros, uploadId, rowNumber]) => ParseResult.succeed({ createdAtMicros, uploadId, rowNumber }),
    })
  },
  encode: (key) =>
    ParseResult.succeed(
      Buffer.from(JSON.stringify([key.createdAtMicros, key.uploadId, key.rowNumber]), "utf8").toString("base64url"),
    ),
})

export const encodeCursor = (key: PageKey): string => Schema.encodeSync(Cursor)(key)

/** Whose decision set an activity's factor: its match key's (every row sharing it) or the row's own. */
const DecisionScope = Schema.Literal("key", "activity")

/**
 * One activity with what the API and the page show next to it: its factor, its upload's author. A plain
 * struct rather than a Schema.Class: a listing builds 26 per request, and constructing class instances
 * took 54 µs of a page where plain objects take 2 (docs/benchmarks.md).
 */
export const ActivityRow = Schema.Struct({
  id: ActivityId,
  uploadId: UploadId,
  rowNumber: Schema.NullOr(Schema.Int),
  description: Schema.String,
  // NUMERIC and DATE columns travel as text: exact digits, and no time-zone shift of a calendar date.
  quantity: Schema.NullOr(Schema.String),
  unit: Schema.NullOr(Schema.String),
  date: Schema.NullOr(Schema.String),
  periodStart: Schema.NullOr(Schema.String),
  periodEnd: Schema.NullOr(Schema.String),
  category: Schema.NullOr(Schema.String),
  geography: Schema.NullOr(Schema.String),
  reference: Schema.NullOr(Schema.String),
  // As JSON text: the client's snake→camel result transform would otherwise rename the user's own keys.
  extra: Schema.NullOr(Schema.parseJson(OriginalColumns)),
  // The site named in the file's `site` column (features/sites); optional so other readers of this shape need not select it.
  siteId: Schema.optionalWith(Schema.NullOr(Schema.String), { default: () => null }),
  siteCode: Schema.optionalWith(Schema.NullOr(Schema.String), { default: () => null }),
  status: ActivityStatus,
  matchSource: Schema.NullOr(Schema.String),
  matchKey: Schema.optionalWith(Schema.NullOr(Schema.String), { default: () => null }),
  reviewStatus: Schema.optionalWith(Schema.NullOr(ReviewStatusSchema), { default: () => null }),
  decisionScope: Schema.optionalWith(Schema.NullOr(DecisionScope), { default: () => null }),
  confidence: Schema.NullOr(Schema.String),
  emissions: Schema.NullOr(Schema.String),
  emissionsUnit: Schema.NullOr(Schema.String),
  failureReason: Schema.NullOr(Schema.String),
  createdAt: Schema.DateFromSelf,
  updatedAt: Schema.DateFromSelf,
  createdAtMicros: Schema.String,
  factorId: Schema.NullOr(EmissionFactorId),
  factorName: Schema.NullOr(Schema.String),
  factorRef: Schema.NullOr(Schema.String),
  factorSource: Schema.NullOr(Schema.String),
  factorSourceId: Schema.NullOr(Schema.String),
  factorYear: Schema.NullOr(Schema.Int),
  factorSet: Schema.optionalWith(Schema.NullOr(Schema.String), { default: () => null }),
  factorGeography: Schema.NullOr(Schema.String),
  factorLicence: Schema.NullOr(Schema.String),
  submittedById: Schema.NullOr(UserId),
  submittedByEmail: Schema.NullOr(Schema.String),
}).annotations({ identifier: "ActivityRow" })
export type ActivityRow = typeof ActivityRow.Type

type ColumnCheck = (value: unknown) => boolean
const isText: ColumnCheck = (value) => typeof value === "string"
const isInt: ColumnCheck = (value) => Number.isSafeInteger(value)
const isUuid: ColumnCheck = (value) => typeof value === "string" && isUuidText(value)
const isDate: ColumnCheck = (value) => value instanceof Date
const isOneOf = (literals: ReadonlyArray<string>): ColumnCheck => (value) => literals.includes(value as string)
const orNull = (check: ColumnCheck): ColumnCheck => (value) => value === null || check(value)

/**
 * What each field of ActivityRow accepts, as the SQL client returns the row, for the quick path of
 * `decodeActivityRows`. One entry per field (the type says so); test/activities/row-decoding.test.ts
 * proves each accepts exactly what the field's schema accepts.
 */
export const activityRowChecks = {
  id: isUuid,
  uploadId: isUuid,
  rowNumber: orNull(isInt),
  description: isText,
  quantity: orNull(isText),
  unit: orNull(isText),
  date: orNull(isText),
  periodStart: orNull(isText),
  periodEnd: orNull(isText),
  category: orNull(isText),
  geography: orNull(isText),
  reference: orNull(isText),
  // JSON text, parsed by the quick path after this check (as Schema.parseJson does).
  extra: orNull(isText),
  siteId: orNull(isText),
  siteCode: orNull(isText),
  status: isOneOf(ActivityStatus.literals),
  matchSource: orNull(isText),
  matchKey: orNull(isText),
  reviewStatus: orNull(isOneOf(REVIEW_STATUSES)),
  decisionScope: orNull(isOneOf(DecisionScope.literals)),
  confidence: orNull(isText),
  emissions: orNull(isText),
  emissionsUnit: orNull(isText),
  failureReason: orNull(isText),
  createdAt: isDate,
  updatedAt: isDate,
  createdAtMicros: isText,
  factorId: orNull(isUuid),
  factorName: orNull(isText),
  factorRef: orNull(isText),
  factorSource: orNull(isText),
  factorSourceId: orNull(isText),
  factorYear: orNull(isInt),
  factorSet: orNull(isText),
  factorGeography: orNull(isText),
  factorLicence: orNull(isText),
  submittedById: orNull(isUuid),
  submittedByEmail: orNull(isText),
} satisfies Record<keyof typeof ActivityRow.fields, ColumnCheck>

const activityRowFields = Object.keys(ActivityRow.fields) as ReadonlyArray<keyof typeof activityRowChecks>

/** One row as the schema would decode it, or undefined when the schema must look at it (exported for its test). */
export const quickActivityRow = (input: unknown): ActivityRow | undefined => {
  if (typeof input !== "object" || input === null) return undefined
  const row = input as Readonly<Record<string, unknown>>
  const props: Record<string, unknown> = {}
  for (const field of activityRowFields) {
    const value = row[field]
    if (!activityRowChecks[field](value)) return undefined
    props[field] = value
  }
  if (props.extra !== null) {
    let columns: unknown
    try {
      columns = JSON.parse(props.extra as string)
    } catch {
      return undefined
    }
    if (typeof columns !== "object" || columns === null || Array.isArray(columns)) return undefined
    props.extra = columns
  }
  // Every field checked, in the schema's order: what its decoding would give.
  return props as unknown as ActivityRow
}

const decodeActivityRowsWithSchema = Schema.decodeUnknown(Schema.Array(ActivityRow))

/**
 * The rows of a listing as `Schema.decodeUnknown(Schema.Array(ActivityRow))` decodes them, at a
 * fraction of its cost: the schema's decoding of a 25-row page was a third of the server's time per
 * GET /v1/activities (docs/benchmarks.md). Plain checks per field accept what the schema accepts;
 * a row they do not accept (a missing column, a value out of its domain) goes to the schema, so the
 * result, or the ParseError, is the schema's own.
 */
export const decodeActivityRows = (rows: ReadonlyArray<unknown>): Effect.Effect<ReadonlyArray<ActivityRow>, ParseResult.ParseError> => {
  const decoded = new Array<ActivityRow>(rows.length)
  for (let i = 0; i < rows.length; i++) {
    const row = quickActivityRow(rows[i])
    if (row === undefined) return decodeActivityRowsWithSchema(rows)
    decoded[i] = row
  }
  return Effect.succeed(decoded)
}

/** The key a client passes back to continue after this row; null for rows without a file position. */
export const pageKeyOf = (row: ActivityRow): PageKey | null =>
  row.rowNumber === null ? null : { createdAtMicros: row.createdAtMicros, uploadId: row.uploadId, rowNumber: row.rowNumber }

export class ActivityListRequest extends Schema.Class<ActivityListRequest>("ActivityListRequest")({
  uploadId: Schema.NullOr(UploadId),
  status: Schema.NullOr(ActivityStatus),
  reviewStatus: Schema.optionalWith(Schema.NullOr(ReviewStatusSchema), { default: () => null }),
  limit: Schema.Int.pipe(Schema.between(1, MAX_PAGE_SIZE)),
  offset: Schema.NonNegativeInt,
  after: Schema.NullOr(PageKey),
}) {}

export interface ActivityPage {
  readonly rows: ReadonlyArray<ActivityRow>
  /** Set when at least one more row follows this page. */
  readonly next: PageKey | null
}


export class UploadSummary extends Schema.Class<UploadSummary>("UploadSummary")({
  id: UploadId,
  originalFilename: Schema.NullOr(Schema.String),
  status: UploadStatus,
  createdAt: Schema.DateFromSelf,
}) {}


/**
 * The read side of matching: activities with their factor and author for the API and the pages,
 * and progress counts per upload. Writes belong to the pipeline; totals are EmissionsRepo's.
 */
export class ActivitiesQuery extends Effect.Service<ActivitiesQuery>()("scopeline/ActivitiesQuery", {
  effect: Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const progress = yield* UploadProgress

    /**
     * The rows `chosen` picks from activities (each with every column of `activities`, aliased `a`),
     * with their factor, author and site, in listing order. The page is picked from activities alone
     * and only its rows are joined: with the joins around the whole table, PostgreSQL planned a
     * five-table join on every request (most of its time per page) and an OFFSET page joined every
     * row it skipped (docs/benchmarks.md).
     */
    const withDetails = (chosen: Statement.Fragment) => sql`
      SELECT a.id, a.upload_id, a.row_number, a.raw_description AS description, a.raw_volume::text AS quantity,
        a.raw_unit AS unit, a.activity_date::text AS date, a.period_start::text AS period_start,
        a.period_end::text AS period_end, a.category, a.geography, a.reference, a.extra::text AS extra, a.status,
        a.site_id, site.code AS site_code,
        a.match_source, a.match_key, a.review_status, a.decision_scope, a.factor_confidence::text AS confidence, a.emissions::text AS emissions, a.emissions_unit,
        a.failure_reason, a.created_at, a.updated_at,
        (extract(epoch FROM a.created_at) * 1000000)::bigint::text AS created_at_micros,
        ef.id AS factor_id, ef.name AS factor_name, ef.ref AS factor_ref, ef.source AS factor_source,
        ef.source_id AS factor_source_id, ef.year AS factor_year, ef.factor_set, ef.geography AS factor_geography,
        ef.licence AS factor_licence, u.id AS submitted_by_id, u.email AS submitted_by_email
      FROM (${chosen}) a
      LEFT JOIN emission_factors ef ON ef.id = a.matched_factor_id
      LEFT JOIN uploads up ON up.id = a.upload_id
      LEFT JOIN users u ON u.id = up.accountant
      LEFT JOIN sites site ON site.id = a.site_id
      ORDER BY a.created_at DESC, a.upload_id, a.row_number`

    /** `value` as an SQL string literal, once it is known to be one of `allowed` (quote-free words). */
    const oneOf = (value: string, allowed: ReadonlyArray<string>) => {
      if (!allowed.includes(value) || !/^\w+$/.test(value)) throw new Error(`not a listed value: ${value}`)
      return sql.literal(`'${value}'`)
    }

    const keyTime = (key: { readonly createdAtMicros: string }) => sql`(timestamptz 'epoch' + ${key.createdAtMicros}::bigint * interval '1 microsecond')`

    const encodeListRequest = Schema.encode(ActivityListRequest)
    const executeList = (request: typeof ActivityListRequest.Encoded) => {
      const after = request.after
      // The status filters are written into the text, from their closed lists: a prepared statement's
      // generic plan cannot use a partial index (activities_failed_page_idx, activities_needs_review_page_idx)
      // for `status = $1`, and would walk the whole listing index instead.
      const filters = [
        ...(request.uploadId ? [sql`a.upload_id = ${request.uploadId}`] : []),
        ...(request.status ? [sql`a.status = ${oneOf(request.status, ActivityStatus.literals)}`] : []),
        ...(request.reviewStatus ? [sql`a.review_status = ${oneOf(request.reviewStatus, REVIEW_STATUSES)}`] : []),
      ]
      const order = sql`ORDER BY a.created_at DESC, a.upload_id, a.row_number`
      // One row more than asked says whether a next page exists without a count(*) over the table.
      // LIMIT is a validated integer written into the text: a prepared statement's generic plan guesses
      // a parameter's LIMIT at a tenth of the table and sorts all of it, where a written one keeps the
      // index scan (docs/benchmarks.md). An OFFSET stays a parameter (planned per call, as it always
      // was), so every offset a client pages through is not a statement of its own.
      const limit = sql.literal(`LIMIT ${request.limit + 1}`)
      const offset = request.offset > 0 ? sql`OFFSET ${request.offset}` : sql.literal("")
      if (!after) return withDetails(sql`SELECT * FROM activities a WHERE ${sql.and(filters)} ${order} ${offset} ${limit}`)
      // After a key: the rest of its timestamp (every row of one parse shares it), then older rows. Mixed
      // sort directions rule out one row-value comparison, and an OR of the two would make the index
      // scan read the key's whole upload up to the key; as two branches each is one index seek.
      return withDetails(sql`
        SELECT * FROM (
          (SELECT * FROM activities a WHERE ${sql.and([...filters, sql`a.created_at = ${keyTime(after)}`, sql`(a.upload_id, a.row_number) > (${after.uploadId}::uuid, ${after.rowNumber}::int)`])}
           ${order} ${limit})
          UNION ALL
          (SELECT * FROM activities a WHERE ${sql.and([...filters, sql`a.created_at < ${keyTime(after)}`])} ${order} ${limit})
        ) AS a
        ${order}
        ${limit}`)
    }
    // SqlSchema.findAll's steps (encode the request, run, decode the rows), with the quicker decoding.
    const list = (request: ActivityListRequest) =>
      encodeListRequest(request).pipe(Effect.flatMap(executeList), Effect.flatMap(decodeActivityRows))

    const byId = SqlSchema.findOne({
      Request: ActivityId,
      Result: ActivityRow,
      execute: (id) => withDetails(sql`SELECT * FROM activities a WHERE a.id = ${id}`),
    })

    const recentUploads = SqlSchema.findAll({
      Request: Schema.Int,
      Result: UploadSummary,
      execute: (limit) => sql`
        SELECT id, original_filename, status, created_at FROM uploads ORDER BY created_at DESC, id DESC LIMIT ${limit}`,
    })

    return {
      list: Effect.fn("ActivitiesQuery.list")(function* (request: ActivityListRequest) {
        const rows = yield* list(request).pipe(Effect.orDie)
        const page = rows.slice(0, request.limit)
        const last = page[page.length - 1]
        return { rows: page, next: rows.length > request.limit && last ? pageKeyOf(last) : null } satisfies ActivityPage
      }),
      findById: Effect.fn("ActivitiesQuery.findById")(function* (id: ActivityId) {
        return yield* byId(id).pipe(Effect.orDie)
      }),
      /** The newest uploads with their progress, for the filter and the progress bars. */
      recentUploads: Effect.fn("ActivitiesQuery.recentUploads")(function* (limit: number) {
        const uploads = yield* recentUploads(limit).pipe(Effect.orDie)
        const counts = yield* progress.statusCounts(uploads.map((upload) => upload.id))
        return uploads.map((upload) => ({ upload, counts: counts.get(upload.id)! }))
      }),
    }
  }),
  dependencies: [UploadProgress.Default],
}) {}
