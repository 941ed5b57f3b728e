/**
 * A realistic activity file for benchmarks: the columns of a real export (description, quantity,
 * unit, date, geography, category, reference), with varied values — quoted descriptions that hold
 * commas, integer, decimal and exponent quantities, every common unit, ISO-2 and ISO-3 country
 * codes, blanks in the optional columns. Deterministic (seeded), so runs are comparable.
 *
 * Alongside the upload file it writes the same rows for PostgreSQL's COPY (CSV, with the file row
 * number first), so the COPY floor loads exactly what the pipeline loads.
 */
import { chmodSync } from "node:fs"

const SITES = [
  "Tampines", "Jurong WH", "Woodlands DC", "Orchard", "Changi depot", "HQ", "Penang plant", "KL office",
  "London", "Lyon bakery", "Berlin lab", "Sydney", "Osaka", "Mumbai", "Austin DC", "Cold store 3",
]
const KINDS: ReadonlyArray<{ kind: string; units: ReadonlyArray<string>; category: string; scale: number }> = [
  { kind: "Electricity", units: ["kWh", "MWh"], category: "electricity", scale: 60_000 },
  { kind: "Chillers", units: ["kWh"], category: "electricity", scale: 20_000 },
  { kind: "Diesel, generator", units: ["L"], category: "fuel", scale: 900 },
  { kind: "Natural gas", units: ["m3", "kWh"], category: "fuel", scale: 4_000 },
  { kind: "Petrol, vans", units: ["L"], category: "fuel", scale: 2_500 },
  { kind: "Flights", units: ["passenger.km", "km"], category: "travel", scale: 12_000 },
  { kind: "Taxis", units: ["km"], category: "travel", scale: 300 },
  { kind: "Road \"express\" freight", units: ["t", "kg"], category: "freight", scale: 40 },
  { kind: "Waste to landfill", units: ["kg", "t"], category: "waste", scale: 5_000 },
  { kind: "Mains water", units: ["m3"], category: "water", scale: 800 },
  { kind: "R404A top-up", units: ["kg"], category: "refrigerants", scale: 12 },
]
const GEOGRAPHIES = ["SG", "SG", "SG", "MY", "GB", "FR", "DE", "AU", "JP", "IN", "US", "SGP", "MYS", "GBR", ""]

/** mulberry32: a small, fast, seeded PRNG. */
const random = (seed: number) => () => {
  seed = (seed + 0x6d2b79f5) | 0
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}

const csvField = (value: string) => (/[",\r\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value)

export const HEADER = "description,quantity,unit,date,geography,category,reference"

/** Writes `rows` data rows to `uploadPath` and the COPY version to `copyPath` (both mode 644). */
export const writeActivityFiles = async (rows: number, uploadPath: string, copyPath: string, seed = 42) => {
  const next = random(seed)
  const pick = <A>(list: ReadonlyArray<A>): A => list[Math.floor(next() * list.length)]!
  const upload = Bun.file(uploadPath).writer({ highWaterMark: 1 << 20 })
  const copy = Bun.file(copyPath).writer({ highWaterMark: 1 << 20 })
  upload.write(`${HEADER}\n`)
  copy.write(`row_number,${HEADER}\n`)
  let bytes = 0
  for (let i = 0; i < rows; i++) {
    const k = pick(KINDS)
    const description = csvField(`${k.kind} - ${pick(SITES)}`)
    const r = next()
    const amount = next() * k.scale
    const quantity = r < 0.45 ? String(Math.round(amount)) : r < 0.97 ? amount.toFixed(r < 0.7 ? 2 : 3) : `${(amount / 1000).toFixed(2)}e3`
    const month = 1 + Math.floor(next() * 12)
    const day = 1 + Math.floor(next() * 28)
    const date = `${next() < 0.5 ? 2023 : 2024}-${String(month).padStart(2, "0")}-${String(day).padStart(2, "0")}`
    const category = next() < 0.85 ? k.category : ""
    const reference = next() < 0.8 ? `INV-${i}` : ""
    const line = `${description},${quantity},${pick(k.units)},${date},${pick(GEOGRAPHIES)},${category},${reference}\n`
    upload.write(line)
    bytes += line.length
    copy.write(`${i + 2},${line}`)
  }
  await upload.end()
  await copy.end()
  // The database server reads the COPY file as the `postgres` OS user.
  chmodSync(uploadPath, 0o644)
  chmodSync(copyPath, 0o644)
  return { bytes: Bun.file(uploadPath).size || bytes }
}
