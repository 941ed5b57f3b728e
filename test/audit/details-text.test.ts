import { detailText } from "@scopeline/audit/detailText"
import { describe, expect, test } from "bun:test"

describe("an event's details on the page", () => {
  test("read as text: nested counts, lists and filters without JSON's braces and quotes", () => {
    expect(detailText({ failed: 1, calculated: 7 })).toBe("failed 1, calculated 7")
    expect(detailText(["measurements:write"])).toBe("measurements:write")
    expect(detailText({ from: "2024-01-01", to: "2024-03-31", site: null })).toBe("from 2024-01-01, to 2024-03-31, site none")
    expect(detailText({ key: { name: "pad 7", key_prefix: "slk_abc" } })).toBe("key (name pad 7, key_prefix slk_abc)")
    expect(detailText([{ index: 0, field: "gas" }, { index: 2, field: "unit" }])).toBe("(index 0, field gas), (index 2, field unit)")
    expect(detailText([])).toBe("none")
    expect(detailText(true)).toBe("true")
    expect(detailText({ scopes: ["measurements:write"], events: ["site.limit_warning", "site.limit_exceeded"] })).toBe(
      "scopes measurements:write, events (site.limit_warning, site.limit_exceeded)",
    )
  })
})
