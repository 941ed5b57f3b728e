import { describe, expect, test } from "bun:test"
import { Glob } from "bun"

/**
 * @kitajs/html escapes attribute values but not children unless `safe` is set. Its own scanner
 * type-checks every template and fails on any child expression that could carry unescaped text.
 */
describe("page templates", () => {
  test("render no user-controlled text without escaping (xss-scan)", async () => {
    const root = `${import.meta.dir}/../..`
    const files = ["features/**/*.tsx", "packages/ui/src/**/*.tsx", "apps/**/*.tsx"].flatMap((pattern) => [...new Glob(pattern).scanSync({ cwd: root })])
    expect(files.length).toBeGreaterThan(10)
    const scan = Bun.spawn(["bun", "x", "xss-scan", "--simplified", ...files], { cwd: root, stdout: "pipe", stderr: "pipe" })
    const output = (await new Response(scan.stdout).text()) + (await new Response(scan.stderr).text())
    expect(output).toContain("No XSS vulnerabilities found")
    expect(await scan.exited).toBe(0)
  }, 120_000)
})
