import { ActivityRowSchema, makeRowDecoder, type RawRow, siteCodesOf } from "@scopeline/uploads/parse/ActivityRow"
import { describe, expect, test } from "bun:test"
import { Either, Schema } from "effect"
import fc from "fast-check"

/**
 * The parse worker checks rows with plain functions (fast); ActivityRowSchema is built from the same
 * checkers for single-row boundaries. Both must accept and refuse exactly the same rows, with the
 * same values, whatever the input.
 */
// Mostly plausible values, so rows often get past single-field checks to the rules between fields.
const field = (...valid: Array<string>) =>
  fc.oneof(
    { arbitrary: fc.constantFrom(...valid), weight: 6 },
    { arbitrary: fc.constantFrom("", " 12 ", "-3", "1,234", "1.234", "x"), weight: 2 },
    { arbitrary: fc.string({ maxLength: 12 }), weight: 1 },
  )

const rawRow: fc.Arbitrary<RawRow> = fc.record({
  description: fc.oneof({ arbitrary: fc.constantFrom("Diesel", " Grid electricity "), weight: 6 }, fc.string({ maxLength: 20 })),
  // The range's edges and beyond (QuantityRange.ts) are where the two could most easily drift apart.
  quantity: field("12.5", "0", "1e3", "1234,5", ".5", "-0", "1e12", "1000000000000.5", "1e-9", "1e-400", "1e308", "1e309"),
  unit: field("kWh", "L", "litres", "ML", "Mt", "US gal", "tonne.km"),
  date: field("2024-01-31", "2024-02-30", "2024-01-31T10:00:00Z", "31/01/2024"),
  category: field("fleet"),
  geography: field("SG", "GBR", "XX"),
  period_start: field("2024-01-01", "2024-03-01"),
  period_end: field("2024-01-31", "2024-02-01"),
  reference: field("INV-1"),
  site: field("LDN-1", "ldn-1", "MAN-2", "nowhere"),
})

const sites = siteCodesOf([
  { id: "3e4a17c2-0000-4000-8000-000000000001", code: "LDN-1" },
  { id: "3e4a17c2-0000-4000-8000-000000000002", code: "MAN-2" },
])

describe("the fast row decoder and ActivityRowSchema", () => {
  for (const decimalComma of [false, true]) {
    test(`agree on every row (${decimalComma ? "semicolon" : "comma"} files, fast-check)`, () => {
      const fast = makeRowDecoder(decimalComma, sites)
      const schema = Schema.decodeUnknownEither(ActivityRowSchema(decimalComma, sites), { errors: "all" })
      fc.assert(
        fc.property(rawRow, (raw) => {
          const a = fast(raw)
          const b = schema(raw)
          expect(Either.isRight(a)).toBe(Either.isRight(b))
          if (Either.isRight(a) && Either.isRight(b)) {
            expect(a.right).toEqual({
              description: b.right.description!,
              quantity: b.right.quantity,
              unit: b.right.unit,
              date: b.right.date!,
              category: b.right.category,
              geography: b.right.geography,
              periodStart: b.right.period_start,
              periodEnd: b.right.period_end,
              reference: b.right.reference,
              siteId: b.right.site,
            })
          }
        }),
        { numRuns: 1000 },
      )
    })
  }
})
