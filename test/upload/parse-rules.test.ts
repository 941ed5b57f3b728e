import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import fc from "fast-check"
import { parsingHarness } from "../support/parsing.ts"

let harness: Awaited<ReturnType<typeof parsingHarness>>
beforeAll(async () => {
  harness = await parsingHarness()
})
afterAll(() => harness.close())

const HEADER = "description,quantity,unit,date"

const rejected = async (content: string | Uint8Array) => {
  const { upload, stored } = await harness.parse(content)
  expect(upload.status).toBe("failed")
  expect(stored).toBe(0)
  return upload
}

describe("accepted files", () => {
  test("headers are case- and space-insensitive and extra columns are kept as original data", async () => {
    const { upload, stored } = await harness.parse(" Description ,QUANTITY,Unit, date ,Period Start,Cost Centre\nDiesel,12.5,L,2024-01-02,2024-01-01,CC-7\n")
    expect(upload.status).toBe("parsed")
    expect(stored).toBe(1)
    const [row] = await harness.db`SELECT raw_volume::text AS q, period_start::text AS p, extra FROM activities WHERE upload_id = ${upload.id}`
    expect(row).toEqual({ q: "12.5", p: "2024-01-01", extra: { "Cost Centre": "CC-7" } })
  })

  test("UTF-8 with a BOM, semicolons with decimal commas, and CRLF line ends", async () => {
    const { upload } = await harness.parse("\uFEFFdescription;quantity;unit;date\r\nÉlectricité siège;1234,5;kWh;2024-03-31\r\n")
    expect(upload.status).toBe("parsed")
    const [row] = await harness.db`SELECT raw_description, raw_volume::text AS q FROM activities WHERE upload_id = ${upload.id}`
    expect(row).toEqual({ raw_description: "Électricité siège", q: "1234.5" })
  })

  test("quoted fields may hold commas, quotes and newlines", async () => {
    const { upload } = await harness.parse(`${HEADER}\n"Flight LHR, economy ""saver""\nreturn",2,passenger.km,2024-02-01\n`)
    expect(upload.status).toBe("parsed")
    const [row] = await harness.db`SELECT raw_description FROM activities WHERE upload_id = ${upload.id}`
    expect(row.raw_description).toBe('Flight LHR, economy "saver"\nreturn')
  })

  test("blank lines are skipped, not counted as activities", async () => {
    const { upload, stored } = await harness.parse(`${HEADER}\nDiesel,1,L,2024-01-01\n\n,,,\nPetrol,2,L,2024-01-02\n\n`)
    expect(upload.status).toBe("parsed")
    expect(stored).toBe(2)
    const rows = await harness.db`SELECT row_number FROM activities WHERE upload_id = ${upload.id} ORDER BY row_number`
    expect(rows.map((r: { row_number: number }) => r.row_number)).toEqual([2, 5])
  })
})

describe("rejected files store nothing and say why", () => {
  test("an empty file", async () => {
    expect((await rejected("")).failureReason).toBe("The file is empty.")
    expect((await rejected("  \n\n")).failureReason).toBe("The file is empty.")
  })

  test("a header with no rows", async () => {
    expect((await rejected(`${HEADER}\n`)).failureReason).toBe("The file has a header row but no activity rows.")
  })

  test("a missing required column is named", async () => {
    const upload = await rejected("description,quantity,date\nDiesel,1,2024-01-01\n")
    expect(upload.failureReason).toContain("missing the required column unit")
  })

  test("an unterminated quote names the row", async () => {
    const upload = await rejected(`${HEADER}\nDiesel,1,L,2024-01-01\n"Petrol,2,L,2024-01-02\n`)
    expect(upload.failureReason).toContain("never closed")
    expect(upload.failureReason).toContain("row 3")
  })

  test("bytes that are not text", async () => {
    const upload = await rejected(new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0xff]))
    expect(upload.failureReason).toContain("not UTF-8 text")
    const latin1 = await rejected(new Uint8Array([...Buffer.from(`${HEADER}\n`), 0x45, 0x6c, 0xe9, 0x63, ...Buffer.from(",1,kWh,2024-01-01\n")]))
    expect(latin1.failureReason).toContain("not UTF-8 text")
  })

  test("rejects the whole file when row 3 has an unknown unit, naming row, column and value", async () => {
    const upload = await rejected(`${HEADER}\nDiesel,1,L,2024-01-01\nElectricity,5,parsecs,2024-01-02\nPetrol,2,L,2024-01-03\n`)
    expect(upload.rowErrors).toHaveLength(1)
    expect(upload.rowErrors![0]).toMatchObject({ row: 3, column: "unit", value: "parsecs" })
    expect(upload.rowErrors![0]!.message).toContain("is not a unit Scopeline knows")
    expect(upload.failureReason).toContain("first in row 3")
  })

  test("every problem of a row is reported, with the header as the user wrote it", async () => {
    const upload = await rejected("Description,Quantity,Unit,Date\n,abc,kWh,2024-02-30\n")
    expect(upload.rowErrors!.map((e) => [e.row, e.column, e.value])).toEqual([
      [2, "Description", ""],
      [2, "Quantity", "abc"],
      [2, "Date", "2024-02-30"],
    ])
  })

  test("a file's own column whose header or value a spreadsheet could not hold", async () => {
    const longHeader = await rejected(`${HEADER},${"h".repeat(201)}\nDiesel,1,L,2024-01-01,x\n`)
    expect(longHeader.failureReason).toContain("The header of column 5")
    expect(longHeader.failureReason).toContain("longer than 200 characters")
    const longValue = await rejected(`${HEADER},Notes\nDiesel,1,L,2024-01-01,short\nPetrol,1,L,2024-01-01,${"v".repeat(32_768)}\n`)
    expect(longValue.rowErrors).toHaveLength(1)
    expect(longValue.rowErrors![0]).toMatchObject({ row: 3, column: "Notes" })
    expect(longValue.rowErrors![0]!.message).toBe("Notes is longer than 32,767 characters, the most a spreadsheet cell holds")
    // At the limit, it is kept whole.
    const { upload } = await harness.parse(`${HEADER},${"h".repeat(200)}\nDiesel,1,L,2024-01-01,${"v".repeat(32_767)}\n`)
    expect(upload.status).toBe("parsed")
  })

  test("a row with the wrong number of values", async () => {
    const upload = await rejected(`${HEADER}\nDiesel,1,L\n`)
    expect(upload.rowErrors![0]!.message).toBe("has 3 values but the header has 4 columns")
  })

  test("reading goes on after the first bad row, up to 100 errors", async () => {
    const rows = Array.from({ length: 300 }, (_, i) => (i % 2 === 0 ? `Bad ${i},x,L,2024-01-01` : `Good ${i},1,L,2024-01-01`))
    const upload = await rejected(`${HEADER}\n${rows.join("\n")}\n`)
    expect(upload.rowErrors).toHaveLength(100)
    expect(upload.errorCount).toBe(100)
    expect(upload.failureReason).toContain("100 or more problems")
  })

  test("in a semicolon file, a dotted thousands value is refused as ambiguous rather than read 1,000× too small", async () => {
    const upload = await rejected("description;quantity;unit;date\nGas;1.234;kWh;2024-01-01\nDiesel;12.5;L;2024-01-01\n")
    expect(upload.rowErrors).toHaveLength(1)
    expect(upload.rowErrors![0]).toMatchObject({ row: 2, column: "quantity", value: "1.234" })
    expect(upload.rowErrors![0]!.message).toContain("ambiguous")
  })

  test("a CSV syntax error does not hide the row errors found before it", async () => {
    const upload = await rejected(`${HEADER}\nDiesel,x,L,2024-01-01\nPetrol,y,L,2024-01-02\n"Gas,1,kWh,2024-01-03\n`)
    expect(upload.rowErrors!.map((e) => [e.row, e.column])).toEqual([
      [2, "quantity"],
      [3, "quantity"],
      [4, null],
    ])
  })

  test("a column named __proto__ is kept with the other original data", async () => {
    // (Not `Site`: that column names a site of features/sites, and North is none.)
    const { upload } = await harness.parse(`${HEADER},__proto__,Region\nDiesel,1,L,2024-01-01,p1,North\n`)
    const [row] = await harness.db`SELECT extra FROM activities WHERE upload_id = ${upload.id}`
    // (A `{ __proto__: … }` literal would set a prototype, so compare the JSON text.)
    expect(JSON.stringify(row.extra)).toBe('{"Region":"North","__proto__":"p1"}')
  })

  test("a redelivered job for a finished upload changes nothing", async () => {
    const { upload, stored } = await harness.parse(`${HEADER}\nDiesel,1,L,2024-01-01\n`)
    const { ParseUpload } = await import("@scopeline/uploads/parse/ParseUpload")
    const { ParseJob } = await import("@scopeline/uploads/Jobs")
    const { Effect } = await import("effect")
    await harness.runtime.runPromise(
      Effect.flatMap(ParseUpload, (p) => p.run(new ParseJob({ uploadId: upload.id, correlationId: "again" }))),
    )
    const [{ n }] = await harness.db`SELECT count(*)::int AS n FROM activities WHERE upload_id = ${upload.id}`
    expect(Number(n)).toBe(stored)
  })
})

describe("storage trouble is retried, not blamed on the file", () => {
  test("a failed read fails the job for a retry; on the last attempt the upload says so; a replay parses it", async () => {
    const { id, path } = await harness.prepare(`${HEADER}\nDiesel,1,L,2024-01-01\n`)
    const { renameSync, mkdirSync } = await import("node:fs")
    // A folder where the file should be: reading it fails with an I/O error, as a storage outage would.
    renameSync(path, `${path}.aside`)
    mkdirSync(path)
    const first = await harness.runJob(id)
    expect(first._tag).toBe("Failure")
    expect((await harness.outcome(id)).upload.status).toBe("parsing")
    const last = await harness.runJob(id, { lastAttempt: true })
    expect(last._tag).toBe("Failure")
    const failed = (await harness.outcome(id)).upload
    expect(failed.status).toBe("failed")
    expect(failed.failureReason).toContain("could not be processed")
    // The operator replays the dead letter once storage is back.
    const { rmSync } = await import("node:fs")
    rmSync(path, { recursive: true })
    renameSync(`${path}.aside`, path)
    expect((await harness.runJob(id))._tag).toBe("Success")
    expect(await harness.outcome(id)).toMatchObject({ upload: { status: "parsed", rowCount: 1 }, stored: 1 })
  })
})

// --- properties -----------------------------------------------------------------------------

const safeText = fc
  .string({ minLength: 1, maxLength: 40 })
  .map((s) => s.replace(/[\u0000-\u001f\u007f\uFFFD]/g, "").trim())
  .filter((s) => s.length > 0)
const quote = (s: string) => `"${s.replace(/"/g, '""')}"`
const validRow = fc.record({
  description: safeText,
  quantity: fc.oneof(fc.nat({ max: 1_000_000 }).map(String), fc.double({ min: 0, max: 1e6, noNaN: true }).map((n) => n.toFixed(3))),
  unit: fc.constantFrom("kWh", "MWh", "L", "litres", "kg", "t", "km", "miles", "m3", "passenger.km"),
  date: fc.date({ min: new Date("2000-01-01"), max: new Date("2030-12-31"), noInvalidDate: true }).map((d) => d.toISOString().slice(0, 10)),
})
const csvOf = (rows: ReadonlyArray<{ readonly description: string; readonly quantity: string; readonly unit: string; readonly date: string }>) =>
  `${HEADER}\n${rows.map((r) => [quote(r.description), r.quantity, r.unit, r.date].join(",")).join("\n")}\n`

describe("properties (fast-check, 100 runs each)", () => {
  test("any generated valid CSV ingests to exactly its rows", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(validRow, { minLength: 1, maxLength: 30 }), async (rows) => {
        const { upload, stored } = await harness.parse(csvOf(rows))
        if (upload.status !== "parsed" || stored !== rows.length) return false
        const saved = await harness.db`SELECT raw_description, raw_unit FROM activities WHERE upload_id = ${upload.id} ORDER BY row_number`
        return saved.every((s: { raw_description: string; raw_unit: string }, i: number) => s.raw_description === rows[i]!.description && s.raw_unit === rows[i]!.unit)
      }),
      { numRuns: 100 },
    )
  })

  test("any file with at least one invalid row stores nothing", async () => {
    const invalid = fc.oneof(
      validRow.map((r) => ({ ...r, unit: "bananas" })),
      validRow.map((r) => ({ ...r, quantity: "twelve" })),
      validRow.map((r) => ({ ...r, date: "31/01/2024" })),
      validRow.map((r) => ({ ...r, quantity: "-5" })),
      validRow.map((r) => ({ ...r, quantity: "1e308" })),
      validRow.map((r) => ({ ...r, quantity: "1e-400" })),
    )
    await fc.assert(
      fc.asyncProperty(fc.array(validRow, { maxLength: 20 }), invalid, fc.nat(), async (rows, bad, at) => {
        const all: Array<{ description: string; quantity: string; unit: string; date: string }> = [...rows]
        all.splice(at % (rows.length + 1), 0, bad)
        const { upload, stored } = await harness.parse(csvOf(all))
        return upload.status === "failed" && stored === 0 && (upload.rowErrors?.length ?? 0) >= 1
      }),
      { numRuns: 100 },
    )
  })
})
