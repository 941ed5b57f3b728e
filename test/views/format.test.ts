import { ratioText } from "@scopeline/activities/Calculation"
import { formatCount, formatDate, formatEmissions, formatFactorValue, formatKilograms, formatQuantity, formatTimestamp, UTC_READER } from "@scopeline/ui/format"
import { describe, expect, test } from "bun:test"
import fc from "fast-check"

const at = new Date("2026-03-01T23:30:05Z")

describe("timestamps on pages", () => {
  test("are shown in the reader's zone and clock, with the zone named", () => {
    expect(formatTimestamp(at, { timezone: "Asia/Singapore", timeFormat: 24 })).toBe("2026-03-02 07:30 Asia/Singapore")
    expect(formatTimestamp(at, { timezone: "America/New_York", timeFormat: 12 })).toBe("2026-03-01 6:30 PM America/New_York")
    expect(formatTimestamp(at, UTC_READER, { seconds: true })).toBe("2026-03-01 23:30:05 UTC")
  })

  test("follow summer time where the reader is", () => {
    const london = { timezone: "Europe/London", timeFormat: 24 } as const
    expect(formatTimestamp(new Date("2026-01-15T12:00:00Z"), london)).toBe("2026-01-15 12:00 Europe/London")
    expect(formatTimestamp(new Date("2026-07-15T12:00:00Z"), london)).toBe("2026-07-15 13:00 Europe/London")
  })

  test("a 12-hour clock reads midnight and noon as 12 AM and 12 PM", () => {
    const reader = { timezone: "UTC", timeFormat: 12 } as const
    expect(formatTimestamp(new Date("2026-03-01T00:05:00Z"), reader)).toBe("2026-03-01 12:05 AM UTC")
    expect(formatTimestamp(new Date("2026-03-01T12:05:00Z"), reader)).toBe("2026-03-01 12:05 PM UTC")
  })

  test("an unknown stored zone shows UTC, named as such, instead of failing the page", () => {
    expect(formatTimestamp(at, { timezone: "Mars/Olympus_Mons", timeFormat: 24 })).toBe("2026-03-01 23:30 UTC")
  })

  test("a date is the calendar day where the reader is, as YYYY-MM-DD", () => {
    expect(formatDate(at, { timezone: "Asia/Singapore", timeFormat: 12 })).toBe("2026-03-02")
    expect(formatDate(at, UTC_READER)).toBe("2026-03-01")
  })
})

describe("emissions on pages", () => {
  test("are kg CO2e under 1,000 kg and t CO2e from there, labelled, grouped, three decimals at most", () => {
    expect(formatEmissions("251.279")).toBe("251.279 kg CO2e")
    expect(formatEmissions("100.51160000")).toBe("100.512 kg CO2e")
    expect(formatEmissions("0")).toBe("0 kg CO2e")
    expect(formatEmissions("999.9994")).toBe("999.999 kg CO2e")
    expect(formatEmissions("1000")).toBe("1 t CO2e")
    expect(formatEmissions("19387.5")).toBe("19.388 t CO2e")
    expect(formatEmissions("1234567890.5")).toBe("1,234,567.891 t CO2e")
  })

  test("the unit follows the rounded figure: 999.9996 kg is 1 t, never 1,000 kg", () => {
    expect(formatEmissions("999.9996")).toBe("1 t CO2e")
  })

  test("rounding works on the decimal digits, not on a double", () => {
    // As a double this is 9007199254740993 → …992: the last kilogram would be lost.
    expect(formatEmissions("9007199254740993")).toBe("9,007,199,254,740.993 t CO2e")
    expect(formatEmissions("-0.0001")).toBe("0 kg CO2e")
  })

  test("any amount reads as grouped digits with a unit, and scales back to the amount (property)", () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 10n ** 15n }), fc.integer({ min: 0, max: 6 }), (units, scale) => {
        const digits = units.toString().padStart(scale + 1, "0")
        const kg = scale === 0 ? digits : `${digits.slice(0, -scale)}.${digits.slice(-scale)}`
        const shown = formatEmissions(kg)
        const match = /^(\d{1,3}(?:,\d{3})*(?:\.\d{1,3})?) (kg|t) CO2e$/.exec(shown)
        expect(match).not.toBeNull()
        const amount = Number(match![1]!.replaceAll(",", "")) * (match![2] === "t" ? 1000 : 1)
        expect(match![2] === "kg").toBe(amount < 1000)
        expect(Math.abs(amount - Number(kg))).toBeLessThanOrEqual(match![2] === "t" ? 0.5 + Number(kg) * 1e-15 : 0.0005 + 1e-12)
      }),
      { numRuns: 500 },
    )
  })
})

describe("other numbers on pages", () => {
  test("a factor value shows the publication's figure, grouped: at most fifteen significant digits", () => {
    expect(formatFactorValue("752.0276")).toBe("752.0276")
    expect(formatFactorValue("0.05913")).toBe("0.05913")
    // Doubles the publisher's spreadsheet computed: it shows them as 0.04306 and 0.01109.
    expect(formatFactorValue("0.043059999999999994")).toBe("0.04306")
    expect(formatFactorValue("0.011090000000000001")).toBe("0.01109")
    expect(formatFactorValue("3033.3806711409397")).toBe("3,033.38067114094")
    expect(formatFactorValue("1234567")).toBe("1,234,567")
  })

  test("a factor value cut at fifteen digits names the same figure within a double's precision (property)", () => {
    fc.assert(
      // From 1e-6 up, String() writes a plain decimal, as the stored value is.
      fc.property(fc.double({ min: 1e-6, max: 1e9, noNaN: true }), (x) => {
        const shown = formatFactorValue(String(x)).replaceAll(",", "")
        expect(Math.abs(Number(shown) - x)).toBeLessThanOrEqual(Math.abs(x) * 1e-14)
        expect(shown.replace(/^0\.0*|\./g, "").length).toBeLessThanOrEqual(15)
      }),
      { numRuns: 300 },
    )
  })

  test("counts are grouped by thousands", () => {
    expect(formatCount(1_000_000)).toBe("1,000,000")
    expect(formatCount(16)).toBe("16")
  })
  test("quantities are grouped by thousands and keep every digit they were given", () => {
    expect(formatQuantity("1234567.89")).toBe("1,234,567.89")
    expect(formatQuantity("0.000125")).toBe("0.000125")
    expect(formatQuantity("-64000")).toBe("-64,000")
    expect(formatQuantity("999")).toBe("999")
    expect(formatQuantity("12345678901234567890.123456789012345678901")).toBe("12,345,678,901,234,567,890.123456789012345678901")
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 10n ** 30n }), fc.nat({ max: 10 ** 6 }), (whole, fraction) => {
        const text = `${whole}.${fraction}`
        expect(formatQuantity(text).replaceAll(",", "")).toBe(text)
      }),
    )
  })
  test("a calculation's emissions stay in kg, and a unit ratio is its exact decimal when it has one", () => {
    expect(formatKilograms("44088.616000000000")).toBe("44,088.616 kg CO2e")
    expect(ratioText({ num: 1000n, den: 1n })).toBe("1000")
    expect(ratioText({ num: 473176473n, den: 125000000n })).toBe("3.785411784")
    expect(ratioText({ num: 1n, den: 1000n })).toBe("0.001")
    expect(ratioText({ num: 2500n, den: 9n })).toBe("277.777777777778")
  })
})
