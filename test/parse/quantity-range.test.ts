import { MAX_QUANTITY_DIGITS, QUANTITY_RANGE_TEXT } from "@scopeline/catalogue/units/QuantityRange"
import { checkQuantity } from "@scopeline/uploads/parse/ActivityRow"
import { describe, expect, test } from "bun:test"
import fc from "fast-check"

const check = checkQuantity(false)
const accepted = (raw: string) => {
  const result = check(raw)
  if (!result.ok) throw new Error(`${raw} was refused: ${result.message}`)
  return result.value
}
const refusal = (raw: string) => {
  const result = check(raw)
  if (result.ok) throw new Error(`${raw} was accepted as ${result.value}`)
  return result.message
}

describe("the quantity range (0, or 1e-9 to 1e12 in the row's unit)", () => {
  test("1e308 is refused with the allowed range, not stored to overflow a total later", () => {
    expect(refusal("1e308")).toBe(`is too large; ${QUANTITY_RANGE_TEXT}`)
    expect(refusal("1e309")).toBe(`is too large; ${QUANTITY_RANGE_TEXT}`)
    expect(QUANTITY_RANGE_TEXT).toContain("between 1e-9 and 1e12")
  })

  test("1e-400, which a double rounds to 0, is refused rather than stored as 0", () => {
    expect(refusal("1e-400")).toBe(`is too small to record; ${QUANTITY_RANGE_TEXT}`)
    expect(refusal("0.0000000009")).toContain(QUANTITY_RANGE_TEXT)
  })

  test("-0 (and any other spelling of zero) is accepted as 0; other negatives stay refused", () => {
    for (const zero of ["-0", "-0.0", "-.0", "-0e5", "0e5000", "000"]) expect(accepted(zero)).toBe("0")
    expect(checkQuantity(true)("-0,0")).toEqual({ ok: true, value: "0" })
    for (const negative of ["-1", "-1e-400", "--0", "- 0", "-"]) expect(refusal(negative)).toBe("is negative; quantities must be zero or more")
  })

  test("the bounds are exact: a double would let 1000000000000.0000001 through as 1e12", () => {
    expect(accepted("1e12")).toBe("1000000000000")
    expect(accepted("999999999999.999")).toBe("999999999999.999")
    expect(refusal("1000000000000.0000001")).toContain(QUANTITY_RANGE_TEXT)
    expect(accepted("1e-9")).toBe("0.000000001")
    expect(accepted("0.000000001")).toBe("0.000000001")
  })

  test("values are stored as plain decimals, however the spreadsheet wrote them", () => {
    expect(accepted("1.5e3")).toBe("1500")
    expect(accepted("1.5E-5")).toBe("0.000015")
    expect(accepted("007.50")).toBe("7.5")
    expect(accepted(".5")).toBe("0.5")
    expect(accepted("0.30000000000000004")).toBe("0.30000000000000004")
  })

  test(`more than ${MAX_QUANTITY_DIGITS} significant digits are refused (PostgreSQL could not store 20,000 of them)`, () => {
    expect(accepted(`0.${"1".repeat(MAX_QUANTITY_DIGITS)}`)).toBe(`0.${"1".repeat(MAX_QUANTITY_DIGITS)}`)
    expect(refusal(`0.${"1".repeat(MAX_QUANTITY_DIGITS + 1)}`)).toBe(`has more than ${MAX_QUANTITY_DIGITS} significant digits`)
    expect(refusal(`1.${"1".repeat(20_000)}`)).toBe(`has more than ${MAX_QUANTITY_DIGITS} significant digits`)
    // Trailing zeros say nothing more about the value: they are dropped, not counted.
    expect(accepted(`1.${"0".repeat(20_000)}`)).toBe("1")
  })
})

// --- property: the checker against an exact oracle in BigInt -------------------------------------

/** value = coefficient × 10^exponent, exactly. */
interface Exact {
  readonly coefficient: bigint
  readonly exponent: number
}
const exact = (text: string): Exact => {
  const match = /^(\d*)(?:\.(\d*))?(?:[eE]([-+]?\d+))?$/.exec(text)
  if (!match) throw new Error(`not a decimal: ${text}`)
  const fraction = match[2] ?? ""
  return { coefficient: BigInt(`0${match[1]}${fraction}`), exponent: Number(match[3] ?? 0) - fraction.length }
}
const pow10 = (n: number) => 10n ** BigInt(n)
/** -1, 0 or 1 as a.value compares to 10^power. */
const compareToPower = (a: Exact, power: number) => {
  const shift = a.exponent - power
  const [left, right] = shift >= 0 ? [a.coefficient * pow10(shift), 1n] : [a.coefficient, pow10(-shift)]
  return left < right ? -1 : left > right ? 1 : 0
}
const equal = (a: Exact, b: Exact) => {
  const e = Math.min(a.exponent, b.exponent)
  return a.coefficient * pow10(a.exponent - e) === b.coefficient * pow10(b.exponent - e)
}
const significantDigits = (a: Exact) => (a.coefficient === 0n ? 0 : a.coefficient.toString().replace(/0+$/, "").length)

const digits = (maxLength: number, minLength = 0) => fc.string({ unit: fc.constantFrom("0", "0", "1", "5", "9"), minLength, maxLength })
/** Decimals as spreadsheets write them, and as no spreadsheet should: any magnitude, any spelling. */
const decimalText = fc.oneof(
  fc
    .record({
      whole: digits(16),
      fraction: fc.option(fc.oneof(digits(12), digits(40, 25)), { nil: undefined }),
      exponent: fc.option(fc.oneof(fc.integer({ min: -15, max: 15 }), fc.integer({ min: -450, max: 450 })), { nil: undefined }),
      e: fc.constantFrom("e", "E"),
    })
    .filter(({ whole, fraction }) => whole !== "" || (fraction !== undefined && fraction !== ""))
    .map(({ whole, fraction, exponent, e }) => `${whole}${fraction === undefined ? "" : `.${fraction}`}${exponent === undefined ? "" : `${e}${exponent}`}`),
  fc.double({ min: 0, noNaN: true, noDefaultInfinity: true }).map(String),
  fc.constantFrom("1e308", "1.7976931348623157e308", "1e309", "5e-324", "1e-400", "1e12", "1e-9", "0", "0.0"),
)

describe("properties (fast-check)", () => {
  test("every decimal is stored with its exact value when in range, and refused naming the range when not", () => {
    fc.assert(
      fc.property(decimalText, fc.boolean(), (text, negative) => {
        const input = exact(text)
        const result = check(negative ? `-${text}` : text)
        if (input.coefficient === 0n) return expect(result).toEqual({ ok: true, value: "0" })
        if (negative) return expect(result).toEqual({ ok: false, message: "is negative; quantities must be zero or more" })
        const outside = compareToPower(input, 12) > 0 || compareToPower(input, -9) < 0
        if (outside) {
          expect(result.ok).toBe(false)
          return expect(result.ok ? "" : result.message).toContain(QUANTITY_RANGE_TEXT)
        }
        if (significantDigits(input) > MAX_QUANTITY_DIGITS) {
          return expect(result).toEqual({ ok: false, message: `has more than ${MAX_QUANTITY_DIGITS} significant digits` })
        }
        if (!result.ok) throw new Error(`${text} refused: ${result.message}`)
        expect(result.value).toMatch(/^(?:0|[1-9]\d*)(?:\.\d*[1-9])?$/)
        expect(equal(exact(result.value), input)).toBe(true)
        // In range means a double reads it as a finite, non-zero number: nothing rounds to 0 or Infinity.
        const asDouble = Number(result.value)
        expect(Number.isFinite(asDouble) && asDouble > 0).toBe(true)
      }),
      { numRuns: 5000 },
    )
  })
})
