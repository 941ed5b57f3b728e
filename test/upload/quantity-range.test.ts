import { QUANTITY_RANGE_TEXT } from "@scopeline/catalogue/units/QuantityRange"
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { parsingHarness } from "../support/parsing.ts"

let harness: Awaited<ReturnType<typeof parsingHarness>>
beforeAll(async () => {
  harness = await parsingHarness()
})
afterAll(() => harness.close())

const HEADER = "description,quantity,unit,date"

const storedQuantities = async (uploadId: string) =>
  (await harness.db`SELECT raw_volume::text AS q FROM activities WHERE upload_id = ${uploadId} ORDER BY row_number`).map(
    (row: { q: string }) => row.q,
  )

describe("quantities outside the range (0, or 1e-9 to 1e12) are row errors", () => {
  test("a row with 1e308 litres is a row error naming the allowed range, and nothing is stored", async () => {
    const { upload, stored } = await harness.parse(`${HEADER}\nDiesel,12,L,2024-01-01\nDiesel,1e308,L,2024-01-02\n`)
    expect(upload.status).toBe("failed")
    expect(stored).toBe(0)
    expect(upload.rowErrors).toHaveLength(1)
    expect(upload.rowErrors![0]).toMatchObject({ row: 3, column: "quantity", value: "1e308" })
    expect(upload.rowErrors![0]!.message).toBe(`quantity is too large; ${QUANTITY_RANGE_TEXT}`)
    expect(upload.rowErrors![0]!.message).toContain("between 1e-9 and 1e12")
    expect(upload.failureReason).toContain("first in row 3")
  })

  test("1e-400, which would read back as 0, is refused rather than stored", async () => {
    const { upload, stored } = await harness.parse(`${HEADER}\nDiesel,1e-400,L,2024-01-01\n`)
    expect(upload.status).toBe("failed")
    expect(stored).toBe(0)
    expect(upload.rowErrors![0]).toMatchObject({ row: 2, column: "quantity", value: "1e-400" })
    expect(upload.rowErrors![0]!.message).toBe(`quantity is too small to record; ${QUANTITY_RANGE_TEXT}`)
  })

  test("-0 is accepted and stored as 0; the bounds themselves are accepted", async () => {
    const { upload } = await harness.parse(`${HEADER}\nDiesel,-0,L,2024-01-01\nGas,1e12,kWh,2024-01-01\nWater,1e-9,m3,2024-01-01\n`)
    expect(upload.status).toBe("parsed")
    expect(await storedQuantities(upload.id)).toEqual(["0", "1000000000000", "0.000000001"])
  })

  test("a quantity PostgreSQL could not store (20,000 digits) is a row error, not a failed job", async () => {
    const { upload, stored } = await harness.parse(`${HEADER}\nDiesel,0.${"7".repeat(20_000)},L,2024-01-01\n`)
    expect(upload.status).toBe("failed")
    expect(stored).toBe(0)
    expect(upload.rowErrors![0]!.message).toBe("quantity has more than 30 significant digits")
  })
})
