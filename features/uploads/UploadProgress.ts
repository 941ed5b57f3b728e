import { SqlClient, SqlSchema } from "@effect/sql"
import { Effect, Schema } from "effect"
import { UploadId } from "./Upload.ts"

/** Where an activity is on its way: stored by the parse, then matched, then calculated or failed. */
export const ActivityStatus = Schema.Literal("ingested", "matching", "calculated", "failed")
export type ActivityStatus = typeof ActivityStatus.Type
export const ACTIVITY_STATUSES: ReadonlyArray<ActivityStatus> = ActivityStatus.literals

export type StatusCounts = Record<ActivityStatus, number> & { readonly total: number }

const StatusCountRow = Schema.Struct({ uploadId: UploadId, status: ActivityStatus, count: Schema.Int })

const emptyCounts = (): { -readonly [K in keyof StatusCounts]: number } => ({
  ingested: 0,
  matching: 0,
  calculated: 0,
  failed: 0,
  total: 0,
})

/** How far an upload's activities have come: counts per status, for progress bars and the upload page. */
export class UploadProgress extends Effect.Service<UploadProgress>()("scopeline/UploadProgress", {
  effect: Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const statusCountRows = SqlSchema.findAll({
      Request: Schema.Array(UploadId),
      Result: StatusCountRow,
      execute: (ids) => sql`
        -- From the inventory's cells (migration 0052), kept in the same statement as each activity:
        -- a progress poll reads a few rows however large the upload is.
        SELECT upload_id, status, sum(activities)::int AS count FROM inventory_totals
        WHERE upload_id IN ${sql.in(ids)} GROUP BY upload_id, status`,
    })

    /** Counts for each of the uploads (every id gets an entry, zeros when it has no activities). */
    const statusCounts = Effect.fn("UploadProgress.statusCounts")(function* (uploadIds: ReadonlyArray<UploadId>) {
      const counts = new Map<UploadId, StatusCounts>(uploadIds.map((id) => [id, emptyCounts()]))
      if (uploadIds.length === 0) return counts
      const rows = yield* statusCountRows(uploadIds).pipe(Effect.orDie)
      for (const row of rows) {
        const entry = counts.get(row.uploadId) ?? emptyCounts()
        counts.set(row.uploadId, { ...entry, [row.status]: row.count, total: entry.total + row.count })
      }
      return counts
    })

    return { statusCounts }
  }),
}) {}
