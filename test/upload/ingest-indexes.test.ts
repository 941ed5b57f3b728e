import { afterAll, beforeAll, expect, test } from "bun:test"
import { parsingHarness } from "../support/parsing.ts"

let harness: Awaited<ReturnType<typeof parsingHarness>>
beforeAll(async () => {
  harness = await parsingHarness()
})
afterAll(() => harness.close())

/**
 * The indexes an ingested row is written into, each with the query that needs it (every
 * one costs a B-tree insert per row of a million-row parse). A new index that ingest writes must be
 * added here with its reason — or be partial on something ingest never sets.
 */
const WRITTEN_AT_INGEST: Record<string, string> = {
  activities_pkey: "ActivitiesQuery.findById, and the foreign keys' target",
  activities_upload_row_unique: "crash safety (a re-run parse cannot store a row twice); every per-upload read",
  activities_page_idx: "ActivitiesQuery.list: the listing's keyset order",
}

test("an ingested row enters only the primary key, the unique (upload, row) and the listing's keyset index", async () => {
  const { upload } = await harness.parse("description,quantity,unit,date\nDiesel,1,L,2024-01-01\nPetrol,2,L,2024-01-02\n")
  expect(upload.status).toBe("parsed")
  const indexes = await harness.db`
    SELECT c.relname AS name, pg_get_expr(i.indpred, i.indrelid) AS predicate
    FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
    WHERE i.indrelid = 'activities'::regclass ORDER BY c.relname`
  const written: Array<string> = []
  for (const index of indexes as Array<{ name: string; predicate: string | null }>) {
    // A partial index is written for a row only when the row meets its predicate.
    const [{ n }] = await harness.db.unsafe(
      `SELECT count(*)::int AS n FROM activities WHERE upload_id = $1 AND (${index.predicate ?? "true"})`,
      [upload.id],
    )
    if (n > 0) written.push(index.name)
  }
  expect(written.sort()).toEqual(Object.keys(WRITTEN_AT_INGEST).sort())
})

test("ingested rows get time-ordered UUIDv7 ids, rising with the file's row order", async () => {
  const rows = Array.from({ length: 200 }, (_, i) => `Diesel ${i},${i + 1},L,2024-01-01`).join("\n")
  const { upload } = await harness.parse(`description,quantity,unit,date\n${rows}\n`)
  const ids = (await harness.db`SELECT id::text AS id FROM activities WHERE upload_id = ${upload.id} ORDER BY row_number`).map(
    (r: { id: string }) => r.id,
  )
  expect(ids).toHaveLength(200)
  for (const id of ids) expect(id[14]).toBe("7")
  expect([...ids].sort()).toEqual(ids)
})
