import { can, permissions } from "@scopeline/accounts/Permissions"
import { cohortBucket, enabledFlags, featureFlags, isEnabled } from "@scopeline/accounts/FeatureFlags"
import type { UserId } from "@scopeline/accounts/User"
import { describe, expect, test } from "bun:test"
import fc from "fast-check"

describe("permission table", () => {
  test("viewers only view; accountants upload; admins administer", () => {
    expect(can("viewer", "view")).toBe(true)
    expect(can("viewer", "upload")).toBe(false)
    expect(can("accountant", "upload")).toBe(true)
    expect(can("accountant", "administer")).toBe(false)
    expect(can("admin", "administer")).toBe(true)
    expect(Object.keys(permissions).sort()).toEqual(["administer", "operate", "upload", "view"])
  })
})

describe("feature flags", () => {
  const userId = (n: number) => `00000000-0000-4000-8000-${n.toString(16).padStart(12, "0")}` as UserId

  test("cohorts are deterministic per user and flag", () => {
    fc.assert(
      fc.property(fc.uuid(), fc.constantFrom(...Object.keys(featureFlags)), (id, flag) => {
        const bucket = cohortBucket(flag, id)
        return bucket === cohortBucket(flag, id) && bucket >= 0 && bucket < 100
      }),
      { numRuns: 200 },
    )
  })

  test("a 50% rollout reaches about half of the users", () => {
    const on = Array.from({ length: 2000 }, (_, i) => isEnabled("dark_theme_selector", { userId: userId(i), role: "viewer" }))
    const share = on.filter(Boolean).length / on.length
    expect(share).toBeGreaterThan(0.45)
    expect(share).toBeLessThan(0.55)
  })

  test("role-gated flags never reach other roles", () => {
    for (let i = 0; i < 200; i++) {
      expect(enabledFlags({ userId: userId(i), role: "viewer" })).not.toContain("ops_console")
      expect(enabledFlags({ userId: userId(i), role: "admin" })).toContain("ops_console")
    }
  })
})
