import { DESNZ_FILE, FACTORS_DIR } from "@scopeline/catalogue/readCatalogue"
import { plainDecimal, publishedDecimal } from "@scopeline/catalogue/EmissionFactor"
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"

/**
 * A TEST FIXTURE, not a publication: a second DESNZ set made from the real 2023 flat file, so that
 * restating activities on "another year" can be tested while DESNZ 2023 is the only year Scopeline
 * ships. Never load it into a real catalogue. It differs from 2023 in exactly these known ways:
 * - the header says "GHG Conversion Factor 2024", so the reader files it as the set DESNZ:2024;
 * - every value is the 2023 value × 1.1 (exact decimal product, then the shortest decimal of its
 *   double, as the reader stores any published figure: what the file says is what is stored);
 * - the rows in REMOVED are gone (with their per-gas rows), so activities on them cannot be mapped;
 * - the rows in UNIT_CHANGED are per kWh (Gross CV) instead of kWh (Net CV): cannot be priced as before.
 */
export const FIXTURE_FILE = "desnz-2024-fixture.csv"
export const FIXTURE_YEAR = 2024
/** Each fixture value is the 2023 value times this (as an exact decimal: 11 / 10). */
export const FIXTURE_SCALE = { num: 11n, den: 10n } as const
/** Petrol (average biofuel blend) per litre, and a UK hotel night: dropped from the fixture. */
export const REMOVED = ["1_101_1017_8", "29_600_4000_13"] as const
/** Natural gas per kWh (Net CV): in the fixture per kWh (Gross CV). */
export const UNIT_CHANGED = ["1_100_1004_7"] as const

/** `value` × 11/10 exactly, in decimal digits (no float on the way). */
export const scaled = (value: string): string => {
  const plain = plainDecimal(value)
  if (plain === undefined) throw new Error(`not a number: ${value}`)
  const negative = plain.startsWith("-")
  const [whole = "0", fraction = ""] = plain.replace(/^-/, "").split(".")
  const digits = BigInt(whole + fraction) * FIXTURE_SCALE.num
  // × 11 then ÷ 10 is the same digits with the point one place further left.
  const scale = fraction.length + 1
  const text = digits.toString().padStart(scale + 1, "0")
  const result = `${text.slice(0, -scale)}.${text.slice(-scale)}`.replace(/\.?0+$/, "")
  return negative && result !== "0" ? `-${result}` : result
}

const rowOf = (id: string) => /^(.+)_[1-4]$/.exec(id)?.[1]

/** The fixture's text, from the 2023 file's. */
export const desnzFixtureText = (source = readFileSync(join(FACTORS_DIR, DESNZ_FILE), "utf8")): string => {
  const ending = source.includes("\r\n") ? "\r\n" : "\n"
  const [header = "", ...lines] = source.split(/\r?\n/)
  if (!header.includes("GHG Conversion Factor 2023")) throw new Error("the source is not the DESNZ 2023 flat file")
  const out = [header.replace("GHG Conversion Factor 2023", `GHG Conversion Factor ${FIXTURE_YEAR}`)]
  for (const line of lines) {
    if (line === "") continue
    const id = line.slice(0, line.indexOf(","))
    const row = rowOf(id)
    if (row !== undefined && (REMOVED as ReadonlyArray<string>).includes(row)) continue
    const cut = line.lastIndexOf(",")
    const value = line.slice(cut + 1)
    let rest = line.slice(0, cut)
    if (row !== undefined && (UNIT_CHANGED as ReadonlyArray<string>).includes(row)) rest = rest.replace(",kWh (Net CV),", ",kWh (Gross CV),")
    const next = value.trim() === "" ? value : publishedDecimal(scaled(value))
    if (next === undefined) throw new Error(`cannot scale ${id}: ${value}`)
    out.push(`${rest},${next}`)
  }
  return out.join(ending) + ending
}

/** Writes the fixture into a fresh temporary folder (or `dir`) and returns its path. */
export const writeDesnzFixture = (dir: string = mkdtempSync(join(tmpdir(), "scopeline-fixture-"))): string => {
  const path = join(dir, FIXTURE_FILE)
  writeFileSync(path, desnzFixtureText())
  return path
}

// `bun test/support/desnzFixture.ts [folder]` writes it, e.g. to try `bun run catalogue:load` by hand.
if (import.meta.main) console.log(writeDesnzFixture(process.argv[2]))
