import { SqlClient } from "@effect/sql"
import type { UploadId } from "@scopeline/domain/Upload"
import { Effect } from "effect"

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
  /** Unknown columns of the file, as JSON text, or null when there are none. */
  readonly extra: string | null
}

export class ActivitiesRepo extends Effect.Service<ActivitiesRepo>()("scopeline/ActivitiesRepo", {
  effect: Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient

    /**
     * One statement per batch: each column travels as one array parameter and `unnest` zips them
     * back into rows, so the cost per row stays close to COPY's without a row-by-row round trip.
     */
    const insertBatch = Effect.fn("ActivitiesRepo.insertBatch")(function* (
      uploadId: UploadId,
      rows: ReadonlyArray<NewActivity>,
    ) {
      if (rows.length === 0) return
      const column = <K extends keyof NewActivity>(key: K) => rows.map((row) => row[key])
      yield* sql`
        INSERT INTO activities (upload_id, row_number, raw_description, raw_volume, raw_unit, activity_date,
          period_start, period_end, category, geography, reference, extra)
        SELECT ${uploadId}, * FROM unnest(
          ${column("rowNumber")}::int[], ${column("description")}::text[], ${column("quantity")}::numeric[],
          ${column("unit")}::text[], ${column("date")}::date[], ${column("periodStart")}::date[],
          ${column("periodEnd")}::date[], ${column("category")}::text[], ${column("geography")}::text[],
          ${column("reference")}::text[], ${column("extra")}::jsonb[])`
    })

    const countByUpload = Effect.fn("ActivitiesRepo.countByUpload")(function* (uploadId: UploadId) {
      const [row] = yield* sql<{ count: number }>`SELECT count(*)::int AS count FROM activities WHERE upload_id = ${uploadId}`
      return row?.count ?? 0
    })

    return { insertBatch, countByUpload }
  }),
}) {}
