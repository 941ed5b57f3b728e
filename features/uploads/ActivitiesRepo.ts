import { SqlClient, SqlError } from "@effect/sql"
import type { UploadId } from "./Upload.ts"
import { Effect, Option } from "effect"
import type pg from "pg"
import { from as copyFrom } from "pg-copy-streams"

/** A parsed row ready to store; dates are YYYY-MM-DD, the quantity an exact decimal string. */
export interface NewActivity {
  readonly rowNumber: number
  readonly description: string
  readonly quantity: string
  readonly unit: string
  readonly date: string
  readonly periodStart: string | null
  readonly periodEnd: string | null
  readonly category: string | null
  readonly geography: string | null
  readonly reference: string | null
  /** The site named in the file's `site` column (features/sites), or null. */
  readonly siteId: string | null
  /** Unknown columns of the file, as JSON text, or null when there are none. */
  readonly extra: string | null
}

const COLUMNS =
  "upload_id, row_number, raw_description, raw_volume, raw_unit, activity_date, period_start, period_end, category, geography, reference, extra, site_id"

// --- COPY FROM STDIN -----------------------------------------------------------------------------

/** A value in COPY's text format: backslash, tab and line ends escaped; null is \N. */
const NEEDS_ESCAPE = /[\\\t\n\r]/
const ESCAPES = /[\\\t\n\r]/g
const escapeChar = (ch: string) => (ch === "\\" ? "\\\\" : ch === "\t" ? "\\t" : ch === "\n" ? "\\n" : "\\r")
const copyText = (value: string | null) =>
  value === null ? "\\N" : NEEDS_ESCAPE.test(value) ? value.replace(ESCAPES, escapeChar) : value

/**
 * The batch as COPY text: one line per row, `id` then the columns in the order of COLUMNS.
 * The id is a UUIDv7 made here: time-ordered ids land at the right edge of the primary
 * key's B-tree instead of on a random page, which halved COPY into `activities` at 1M rows (11.0 s
 * → 6.0 s). PostgreSQL 18 has `uuidv7()`, but the AWS stack runs Aurora PostgreSQL 16.6
 * (infra/src/config.ts), which has none, and a SQL-function stand-in cost 2.7 s more than the native
 * one; `Bun.randomUUIDv7()` is native, ~0.15 µs a row, and the same on every engine. Rows inserted
 * elsewhere keep the column's random default: they are few.
 */
export const copyRows = (uploadId: string, rows: ReadonlyArray<NewActivity>): string => {
  let out = ""
  for (const row of rows) {
    out += `${Bun.randomUUIDv7()}\t${uploadId}\t${row.rowNumber}\t${copyText(row.description)}\t${copyText(row.quantity)}\t${copyText(row.unit)}\t${copyText(row.date)}\t${copyText(row.periodStart)}\t${copyText(row.periodEnd)}\t${copyText(row.category)}\t${copyText(row.geography)}\t${copyText(row.reference)}\t${copyText(row.extra)}\t${copyText(row.siteId)}\n`
  }
  return out
}

/**
 * The node-postgres client of the current transaction, if there is one. @effect/sql-pg keeps it as
 * `pg` on the transaction's connection; COPY needs the raw client (the package is pinned exactly, and
 * without it the INSERT path below is used).
 */
const transactionPgClient = Effect.map(Effect.serviceOption(SqlClient.TransactionConnection), (tx) =>
  Option.flatMap(tx, ([connection]) => {
    const client = (connection as { readonly pg?: Partial<pg.ClientBase> }).pg
    return typeof client?.query === "function" ? Option.some(client as pg.ClientBase) : Option.none()
  }),
)

export class ActivitiesRepo extends Effect.Service<ActivitiesRepo>()("scopeline/ActivitiesRepo", {
  effect: Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient

    const copyBatch = (client: pg.ClientBase, uploadId: UploadId, rows: ReadonlyArray<NewActivity>) =>
      Effect.tryPromise({
        try: () =>
          new Promise<void>((resolve, reject) => {
            const stream = client.query(copyFrom(`COPY activities (id, ${COLUMNS}) FROM STDIN`))
            stream.on("error", reject)
            stream.on("finish", resolve)
            stream.end(Buffer.from(copyRows(uploadId, rows), "utf8"))
          }),
        catch: (cause) => new SqlError.SqlError({ cause, message: "COPY of an activity batch failed" }),
      })

    /**
     * One round trip per batch. Inside a transaction (the parse job's) the rows travel as
     * `COPY … FROM STDIN` on the transaction's connection: PostgreSQL's bulk-load path, the same
     * work per row as COPY itself. Elsewhere, one INSERT whose columns each travel as one array
     * parameter, zipped back into rows by `unnest`.
     */
    const insertBatch = Effect.fn("ActivitiesRepo.insertBatch")(function* (
      uploadId: UploadId,
      rows: ReadonlyArray<NewActivity>,
    ) {
      if (rows.length === 0) return
      const pg = yield* transactionPgClient
      if (Option.isSome(pg)) return yield* copyBatch(pg.value, uploadId, rows)
      const column = <K extends keyof NewActivity>(key: K) => rows.map((row) => row[key])
      yield* sql`
        INSERT INTO activities (upload_id, row_number, raw_description, raw_volume, raw_unit, activity_date,
          period_start, period_end, category, geography, reference, extra, site_id)
        SELECT ${uploadId}, * FROM unnest(
          ${column("rowNumber")}::int[], ${column("description")}::text[], ${column("quantity")}::numeric[],
          ${column("unit")}::text[], ${column("date")}::date[], ${column("periodStart")}::date[],
          ${column("periodEnd")}::date[], ${column("category")}::text[], ${column("geography")}::text[],
          ${column("reference")}::text[], ${column("extra")}::jsonb[], ${column("siteId")}::uuid[])`
    })

    return { insertBatch }
  }),
}) {}
