import { SqlClient } from "@effect/sql"
import { Effect } from "effect"

/**
 * An upload as the parser leaves it (`parsed`, its activities `ingested`), written straight into the
 * database so a benchmark times the match job alone. `rows` is the SQL of the activities' columns
 * over `g` (1 … count): description, quantity, unit, geography, date, category.
 */
export const createParsedUpload = (count: number, rows: (sql: SqlClient.SqlClient) => ReturnType<SqlClient.SqlClient["unsafe"]>) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const [user] = yield* sql<{ id: string }>`
      INSERT INTO users (email, role) VALUES (${`bench-${crypto.randomUUID()}@example.com`}, 'accountant') RETURNING id`
    const uploadId = crypto.randomUUID()
    yield* sql`INSERT INTO uploads (id, accountant, s3_object_url, status, row_count)
               VALUES (${uploadId}, ${user!.id}, ${`uploads/${uploadId}.csv`}, 'parsed', ${count})`
    yield* sql`
      INSERT INTO activities (upload_id, row_number, raw_description, raw_volume, raw_unit, geography, activity_date, category)
      SELECT ${uploadId}, g + 1, v.* FROM generate_series(1, ${count}) AS g, LATERAL (${rows(sql)}) AS v`
    yield* sql`ANALYZE activities`
    return uploadId
  })
