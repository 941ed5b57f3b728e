import { describe, expect, test } from "bun:test"
import { apportion, grams } from "@scopeline/inventory"
import fc from "fast-check"

/** A decimal with up to 12 integer and 20 fraction digits, possibly negative (a removal). */
const decimal = fc
  .tuple(fc.boolean(), fc.bigInt({ min: 0n, max: 10n ** 12n }), fc.stringMatching(/^\d{0,20}$/))
  .map(([negative, whole, fraction]) => `${negative && (whole > 0n || /[1-9]/.test(fraction)) ? "-" : ""}${whole}${fraction ? `.${fraction}` : ""}`)

/** The exact sum of decimals, as a decimal (BigInt over a common scale). */
const exactSum = (parts: ReadonlyArray<string>): string => {
  const scale = Math.max(0, ...parts.map((p) => (p.split(".")[1] ?? "").length))
  let sum = 0n
  for (const p of parts) {
    const [whole = "0", fraction = ""] = p.replace("-", "").split(".")
    const v = BigInt(whole + fraction.padEnd(scale, "0"))
    sum += p.startsWith("-") ? -v : v
  }
  const digits = (sum < 0n ? -sum : sum).toString().padStart(scale + 1, "0")
  const body = scale === 0 ? digits : `${digits.slice(0, -scale)}.${digits.slice(-scale)}`
  return sum < 0n ? `-${body}` : body
}

describe("apportioning exact sums to whole grams", () => {
  test("the parts always add up to the rounded total, each within a gram of its exact value (property)", () => {
    fc.assert(
      fc.property(fc.array(decimal, { minLength: 1, maxLength: 12 }), (parts) => {
        const total = grams(exactSum(parts))
        const split = apportion(total, parts)
        expect(split.reduce((a, b) => a + b, 0n)).toBe(total)
        split.forEach((part, i) => {
          const exact = Number(parts[i]) * 1000
          expect(Math.abs(Number(part) - exact)).toBeLessThanOrEqual(1 + Math.abs(exact) * 1e-12)
        })
      }),
      { numRuns: 500 },
    )
  })

  test("a nested breakdown adds up to its apportioned parent, not only to the exact one (property)", () => {
    fc.assert(
      fc.property(fc.array(fc.array(decimal, { minLength: 1, maxLength: 5 }), { minLength: 1, maxLength: 6 }), (groups) => {
        const total = grams(exactSum(groups.flat()))
        const groupGrams = apportion(total, groups.map(exactSum))
        groups.forEach((group, i) => {
          expect(apportion(groupGrams[i]!, group).reduce((a, b) => a + b, 0n)).toBe(groupGrams[i]!)
        })
      }),
      { numRuns: 300 },
    )
  })

  test("three parts under half a gram each still make their gram", () => {
    expect(apportion(grams("0.0012"), ["0.0004", "0.0004", "0.0004"])).toEqual([1n, 0n, 0n])
    expect(grams("0.0005")).toBe(1n)
    expect(grams("-0.0005")).toBe(0n)
  })
})
