import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { parsingHarness } from "../support/parsing.ts"

let harness: Awaited<ReturnType<typeof parsingHarness>>
beforeAll(async () => {
  harness = await parsingHarness()
})
afterAll(() => harness.close())

const HEADER = "description,quantity,unit,date"
const HUGE = "x".repeat(5_000_000)

/** Everything the uploads API would send about this upload, as one string. */
const everything = (upload: { failureReason: string | null; rowErrors: ReadonlyArray<unknown> | null }) =>
  JSON.stringify({ reason: upload.failureReason, errors: upload.rowErrors })

describe("row errors stay readable", () => {
  test("a 5 MB value is quoted in its row error cut to 200 characters, saying how much was left out", async () => {
    const { upload, stored } = await harness.parse(`${HEADER}\nDiesel,1,${HUGE},2024-01-01\n`)
    expect(upload.status).toBe("failed")
    expect(stored).toBe(0)
    const error = upload.rowErrors![0]!
    expect(error).toMatchObject({ row: 2, column: "unit" })
    expect(error.value!.startsWith("x".repeat(200))).toBe(true)
    expect(error.value!.length).toBeLessThan(260)
    expect(error.value).toContain("4,999,800 more characters")
    expect(everything(upload).length).toBeLessThan(2_000)
  })

  test("a 5 MB header name is cut in the message that lists the columns found", async () => {
    const { upload } = await harness.parse(`description,quantity,${HUGE}\nDiesel,1,L\n`)
    expect(upload.status).toBe("failed")
    expect(upload.failureReason).toContain("missing the required column")
    expect(everything(upload).length).toBeLessThan(2_000)
  })

  test("a file whose lines end in both CRLF and LF is read whole, every row as written", async () => {
    const { upload, stored } = await harness.parse(
      `${HEADER}\r\nDiesel,1,L,2024-01-01\nPetrol,2,L,2024-01-02\r\nElectricity,3,kWh,2024-01-03\nGas,4,kWh,2024-01-04`,
    )
    expect(upload.rowErrors ?? []).toEqual([])
    expect(upload.status).toBe("parsed")
    expect(stored).toBe(4)
    const rows: Array<{ raw_description: string; raw_unit: string }> =
      await harness.db`SELECT raw_description, raw_unit FROM activities WHERE upload_id = ${upload.id} ORDER BY row_number`
    expect(rows.map((r) => [r.raw_description, r.raw_unit])).toEqual([
      ["Diesel", "L"],
      ["Petrol", "L"],
      ["Electricity", "kWh"],
      ["Gas", "kWh"],
    ])
  })
})
