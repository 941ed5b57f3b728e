import { ActivityRow, activityRowChecks, decodeActivityRows, quickActivityRow } from "@scopeline/activities/ActivitiesQuery"
import { describe, expect, test } from "bun:test"
import { Effect, Either, Schema } from "effect"
import fc from "fast-check"

/**
 * GET /v1/activities decodes its rows with plain checks per field (decodeActivityRows), not with the
 * ActivityRow schema, which cost a third of the request. They must agree: the quick path accepts only
 * rows the schema accepts, builds the same ActivityRow, and leaves every other row to the schema.
 */
const decodeWithSchema = Schema.decodeUnknownEither(Schema.Array(ActivityRow))

const full: Record<string, unknown> = {
  id: "0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b",
  uploadId: "0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5c",
  rowNumber: 2,
  description: "Store electricity - site 1",
  quantity: "123.4",
  unit: "kWh",
  date: "2024-01-15",
  periodStart: "2024-01-01",
  periodEnd: "2024-01-31",
  category: "electricity",
  geography: "SG",
  reference: "INV-1",
  extra: '{"cost_centre":"A1","__proto__":{"x":1}}',
  siteId: "0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5d",
  siteCode: "S-1",
  status: "calculated",
  matchSource: "ai",
  matchKey: "store electricity|kwh|sg",
  reviewStatus: "auto_accepted",
  decisionScope: "key",
  confidence: "0.99",
  emissions: "49.3600",
  emissionsUnit: "kg CO2e",
  failureReason: null,
  createdAt: new Date("2024-12-01T10:00:00.123Z"),
  updatedAt: new Date("2024-12-01T10:00:01.456Z"),
  createdAtMicros: "1733047200123456",
  factorId: "0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5e",
  factorName: "Electricity, SG grid",
  factorRef: "SG-ELEC-2024",
  factorSource: "EMA",
  factorSourceId: "grid-2024",
  factorYear: 2024,
  factorSet: "EMA:2024",
  factorGeography: "SG",
  factorLicence: "CC-BY-4.0",
  submittedById: "0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5f",
  submittedByEmail: "accountant@demo.scopeline.dev",
}
// A failed row: everything that may be null is.
const sparse: Record<string, unknown> = Object.fromEntries(
  Object.entries(full).map(([field, value]) => [field, activityRowChecks[field as keyof typeof activityRowChecks](null) ? null : value]),
)
sparse.status = "failed"

// Values every field is tried with: each kind of column, each literal, and what no column holds.
const probes: ReadonlyArray<unknown> = [
  null, undefined, "", "x", " ", "0193A1B2-C3D4-7E5F-8A9B-0C1D2E3F4A5B", "0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5", "not-a-uuid",
  0, 1, -1, 1.5, 2 ** 53, Number.NaN, Number.POSITIVE_INFINITY, true, new Date(), new Date("nope"), {}, [], ["x"],
  "ingested", "matching", "calculated", "failed", "needs_review", "auto_accepted", "reviewed", "key", "activity", "Key",
  '{"a":1}', "{}", "[1]", '"text"', "1", "null", "{not json", '{"__proto__":{"polluted":true}}', "2024-01-15", "1733047200123456",
]

/** The quick path and the schema on one row: same answer, same ActivityRow, same error. */
const agree = (row: Record<string, unknown>) => {
  const schema = decodeWithSchema([row])
  const quick = quickActivityRow(row)
  if (Either.isLeft(schema)) {
    expect(quick).toBeUndefined()
  } else if (quick !== undefined) {
    const expected = schema.right[0]!
    expect(Object.getPrototypeOf(quick)).toBe(Object.getPrototypeOf(expected))
    expect(quick).toStrictEqual(expected)
    expect(Object.keys(quick)).toEqual(Object.keys(expected))
    expect(Object.getOwnPropertyNames(quick.extra ?? {})).toEqual(Object.getOwnPropertyNames(expected.extra ?? {}))
  } else {
    // Only a missing optional column (the schema's default) is left to the schema although valid.
    expect(Object.keys(ActivityRow.fields).some((field) => row[field] === undefined)).toBe(true)
  }
  const decoded = Effect.runSync(Effect.either(decodeActivityRows([row])))
  expect(Either.isRight(decoded)).toBe(Either.isRight(schema))
  if (Either.isRight(decoded) && Either.isRight(schema)) expect(decoded.right).toStrictEqual(schema.right)
  if (Either.isLeft(decoded) && Either.isLeft(schema)) expect(decoded.left.message).toBe(schema.left.message)
}

describe("decodeActivityRows", () => {
  test("decodes a full row and a sparse one as the schema does", () => {
    for (const row of [full, sparse]) {
      expect(quickActivityRow(row)).toBeDefined()
      agree(row)
    }
    // The file's own columns keep a column named __proto__ as a column.
    expect(Object.getOwnPropertyNames(quickActivityRow(full)!.extra)).toEqual(["cost_centre", "__proto__"])
  })

  test("every field accepts exactly what its schema accepts", () => {
    for (const base of [full, sparse]) {
      for (const field of Object.keys(ActivityRow.fields)) {
        for (const probe of probes) agree({ ...base, [field]: probe })
        const { [field]: _, ...missing } = base
        agree(missing)
      }
    }
  })

  test("a page with one row the quick checks refuse is the schema's to decode, or to refuse", () => {
    const rows = [full, sparse, { ...full, status: "unknown" }]
    const decoded = Effect.runSync(Effect.either(decodeActivityRows(rows)))
    const schema = decodeWithSchema(rows)
    expect(Either.isLeft(decoded) && Either.isLeft(schema) && decoded.left.message === schema.left.message).toBe(true)
    // Valid but for a missing optional column: the schema fills in its default.
    const { matchKey: _, ...withoutKey } = full
    const page = Effect.runSync(decodeActivityRows([full, withoutKey]))
    expect(page[1]!.matchKey).toBeNull()
    expect(page).toStrictEqual(Either.getOrThrow(decodeWithSchema([full, withoutKey])))
  })

  test("rows of random values: the same answers", () => {
    const value = fc.oneof(fc.constantFrom(...probes), fc.string({ maxLength: 8 }), fc.integer(), fc.double(), fc.constant(null))
    const fields = Object.keys(ActivityRow.fields)
    fc.assert(
      fc.property(fc.constantFrom(full, sparse), fc.dictionary(fc.constantFrom(...fields), value, { maxKeys: 4 }), (base, changes) => {
        agree({ ...base, ...changes })
      }),
      { numRuns: 2000 },
    )
  })
})
