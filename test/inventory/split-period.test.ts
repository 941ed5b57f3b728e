import { describe, expect, test } from "bun:test"
import { splitPeriod } from "@scopeline/inventory"
import fc from "fast-check"

const day = fc.integer({ min: 0, max: 800 }).map((n) => new Date(Date.UTC(2023, 11, 1 + n)).toISOString().slice(0, 10))
const open = fc.option(day, { nil: null })

/** Every day from `from` to `to` (inclusive). */
const days = (from: string, to: string) => {
  const out: Array<string> = []
  for (let d = new Date(`${from}T00:00:00Z`); d.toISOString().slice(0, 10) <= to; d.setUTCDate(d.getUTCDate() + 1)) out.push(d.toISOString().slice(0, 10))
  return out
}

describe("a report period as whole months and edge days", () => {
  test("covers every day of the period exactly once: by a whole month of the cells or by an edge day", () => {
    fc.assert(
      fc.property(open, open, (from, to) => {
        const { months, edges } = splitPeriod(from, to)
        // Days of a window wide enough around both ends; open ends reach past it.
        for (const d of days("2023-10-01", "2026-03-31")) {
          const inPeriod = (from === null || d >= from) && (to === null || d <= to)
          const month = `${d.slice(0, 7)}-01`
          const byCells = months !== null && (months.from === null || month >= months.from) && (months.until === null || month < months.until)
          const byEdges = edges.filter((edge) => d >= edge.from && d <= edge.to).length
          // A month in the cells is whole: every one of its days is in the period.
          expect((byCells ? 1 : 0) + byEdges).toBe(inPeriod ? 1 : 0)
          if (byCells) expect(byEdges).toBe(0)
        }
        for (const m of months === null ? [] : [months.from, months.until]) if (m !== null) expect(m.endsWith("-01")).toBe(true)
      }),
      { numRuns: 300 },
    )
  })

  test("a period of whole months has no edge days; one inside a month is all edge", () => {
    expect(splitPeriod("2025-01-01", "2025-12-31")).toEqual({ months: { from: "2025-01-01", until: "2026-01-01" }, edges: [] })
    expect(splitPeriod("2024-02-01", "2024-02-29")).toEqual({ months: { from: "2024-02-01", until: "2024-03-01" }, edges: [] })
    expect(splitPeriod("2025-04-06", "2026-04-05")).toEqual({
      months: { from: "2025-05-01", until: "2026-04-01" },
      edges: [{ from: "2025-04-06", to: "2025-04-30" }, { from: "2026-04-01", to: "2026-04-05" }],
    })
    expect(splitPeriod("2025-03-10", "2025-03-20")).toEqual({ months: null, edges: [{ from: "2025-03-10", to: "2025-03-20" }] })
    expect(splitPeriod(null, null)).toEqual({ months: { from: null, until: null }, edges: [] })
  })

  test("holds at the ends of the calendar: nothing after 9999-12-31, and AD 1 is not read as 1901", () => {
    expect(splitPeriod("9999-12-15", "9999-12-31")).toEqual({ months: null, edges: [{ from: "9999-12-15", to: "9999-12-31" }] })
    expect(splitPeriod("9999-12-15", null)).toEqual({ months: null, edges: [{ from: "9999-12-15", to: "9999-12-31" }] })
    expect(splitPeriod(null, "9999-12-31")).toEqual({ months: { from: null, until: null }, edges: [] })
    expect(splitPeriod("9999-12-01", "9999-12-31")).toEqual({ months: { from: "9999-12-01", until: null }, edges: [] })
    expect(splitPeriod("0001-01-15", "0001-03-10")).toEqual({
      months: { from: "0001-02-01", until: "0001-03-01" },
      edges: [{ from: "0001-01-15", to: "0001-01-31" }, { from: "0001-03-01", to: "0001-03-10" }],
    })
  })
})
