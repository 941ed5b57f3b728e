/**
 * Rounds exact decimal sums to whole grams so that every breakdown adds up to its parent exactly.
 * Rounding each figure on its own would not: 0.4 + 0.4 + 0.4 g rounds to 0 + 0 + 0 against a total
 * of 1 g. Largest-remainder apportionment gives each part its floor, then one more gram to the parts
 * with the largest remainders until the parent is reached. Arithmetic on BigInt, never a double.
 */

/** Grams per kilogram, as a power of ten: figures are kg CO2e with 3 decimals. */
const GRAM_DIGITS = 3

interface Scaled {
  readonly value: bigint
  readonly scale: number
}

const scaled = (decimal: string): Scaled => {
  const match = /^(-?)(\d+)(?:\.(\d+))?$/.exec(decimal.trim())
  if (!match) throw new Error(`not a plain decimal: ${decimal}`)
  const [, sign, whole, fraction = ""] = match
  const value = BigInt(`${whole}${fraction}`)
  return { value: sign === "-" ? -value : value, scale: fraction.length }
}

const rescale = (s: Scaled, scale: number) => s.value * 10n ** BigInt(scale - s.scale)

const floorDiv = (a: bigint, b: bigint) => {
  const q = a / b
  return a % b !== 0n && a < 0n !== b < 0n ? q - 1n : q
}

/** The decimal rounded half up to whole grams. */
export const grams = (decimal: string): bigint => {
  const s = scaled(decimal)
  if (s.scale <= GRAM_DIGITS) return s.value * 10n ** BigInt(GRAM_DIGITS - s.scale)
  const unit = 10n ** BigInt(s.scale - GRAM_DIGITS)
  return floorDiv(s.value * 2n + unit, unit * 2n)
}

/**
 * The parts in whole grams, summing to `parentGrams` exactly. The exact parts must add up to the
 * exact parent, and `parentGrams` be that parent rounded (or apportioned) to a neighbouring gram.
 */
export const apportion = (parentGrams: bigint, parts: ReadonlyArray<string>): ReadonlyArray<bigint> => {
  if (parts.length === 0) return []
  const values = parts.map(scaled)
  const scale = Math.max(GRAM_DIGITS, ...values.map((v) => v.scale))
  const unit = 10n ** BigInt(scale - GRAM_DIGITS)
  const exact = values.map((v) => rescale(v, scale))
  const floors = exact.map((v) => floorDiv(v, unit))
  const remainders = exact.map((v, i) => v - floors[i]! * unit)
  let missing = parentGrams - floors.reduce((a, b) => a + b, 0n)
  if (missing < 0n || missing > BigInt(parts.length)) {
    throw new Error(`parts do not add up to their parent: ${parentGrams} g from ${parts.join(" + ")}`)
  }
  const order = remainders.map((r, i) => ({ r, i })).sort((a, b) => (a.r === b.r ? a.i - b.i : a.r > b.r ? -1 : 1))
  const result = [...floors]
  for (const { i } of order) {
    if (missing === 0n) break
    result[i] = result[i]! + 1n
    missing -= 1n
  }
  return result
}

/** Whole grams as kg for JSON: the double nearest a 3-decimal value prints as that value. */
export const kg = (g: bigint): number => Number(g) / 1000
