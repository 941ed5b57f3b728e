import { describe, expect, test } from "bun:test"
import { Glob } from "bun"
import { declaration, settingNames, settingsTable } from "@scopeline/settings/Settings"
import { readFileSync } from "node:fs"
import { join, relative, resolve } from "node:path"
import { withTable } from "../../scripts/settings-table.ts"

/**
 * One declaration of every setting (packages/settings/src/Settings.ts), checked against the source:
 * a variable read anywhere must be declared, a declared one must be read somewhere, and a default
 * written next to a read must be the declared one. The README's table is generated from it.
 */
const root = resolve(import.meta.dir, "../..")
const files = ["features", "packages", "apps", "scripts"].flatMap((folder) =>
  [...new Glob("**/*.{ts,tsx}").scanSync({ cwd: join(root, folder) })]
    .filter((f) => !f.includes("node_modules"))
    .map((f) => join(root, folder, f)),
)
const NAME = `"([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*)"`
/** Every way the source reads a variable: `Config.x("N")`, `Schema.Config("N", …)`, `named("N", …)`,
 *  a curried `Config.literal(…)("N")`, and the name argument of `Config.array(…, "N")`. */
const READS = [
  new RegExp(`(?:\\bConfig\\.\\w+|\\bSchema\\.Config|\\bnamed)\\(\\s*${NAME}`, "g"),
  new RegExp(`\\bConfig\\.literal\\([^)]*\\)\\(\\s*${NAME}\\s*\\)`, "g"),
  new RegExp(`\\bConfig\\.array\\([^;]*?,\\s*${NAME}\\s*\\)`, "g"),
]

interface Read {
  readonly name: string
  readonly where: string
  /** The default written right after the read (`.pipe(Config.withDefault(…))`), as the variable's text. */
  readonly default?: string
}

/** The text a variable would hold for a default written as a simple literal; undefined for anything else. */
const asText = (expression: string): string | undefined => {
  const e = expression.replace(/\s+as const$/, "").trim()
  if (/^"[^"]*"$/.test(e)) return e.slice(1, -1)
  if (/^(true|false)$/.test(e)) return e
  if (/^LogLevel\.\w+$/.test(e)) return e.slice("LogLevel.".length)
  if (/^[\d_]+(\s*\*\s*[\d_]+)*$/.test(e)) return String(e.split("*").reduce((n, f) => n * Number(f.trim().replaceAll("_", "")), 1))
  return undefined
}

const reads: ReadonlyArray<Read> = files.flatMap((file) => {
  const source = readFileSync(file, "utf8")
  return READS.flatMap((pattern) =>
    [...source.matchAll(pattern)].map((match): Read => {
      const after = source.slice((match.index ?? 0) + match[0].length)
      const written = /^\)?\)?\.pipe\(\s*Config\.withDefault\(([^()]*(?:\([^()]*\))?[^()]*)\)/.exec(after)?.[1]
      const value = written === undefined ? undefined : asText(written)
      return { name: match[1]!, where: relative(root, file), ...(value === undefined ? {} : { default: value }) }
    }),
  )
})
const declared: ReadonlyArray<string> = settingNames

describe("the settings declaration", () => {
  test("the scan finds the reads it must (a broken pattern would prove nothing)", () => {
    const names = new Set(reads.map((r) => r.name))
    for (const name of ["PORT", "JWT_SECRET", "AUTH", "WORKER_QUEUES", "MATCHER_FAULT_RATE", "QUEUE_MAX_RECEIVES", "PGHOST"]) {
      expect(names).toContain(name)
    }
  })

  test("every environment variable read anywhere in the source is declared", () => {
    expect(reads.filter((r) => !declared.includes(r.name)).map((r) => `${r.where}: ${r.name}`)).toEqual([])
  })

  test("every declared setting is read somewhere", () => {
    const read = new Set(reads.map((r) => r.name))
    expect(declared.filter((name) => !read.has(name))).toEqual([])
  })

  test("a default written next to a read is the declared default", () => {
    const withDefault = reads.filter((r) => r.default !== undefined)
    expect(withDefault.length).toBeGreaterThan(20)
    const drift = withDefault
      .filter((r) => settingNames.some((n) => n === r.name && declaration(n).default !== r.default))
      .map((r) => `${r.where}: ${r.name} defaults to ${r.default}`)
    expect(drift).toEqual([])
  })

  test("QUEUE_MAX_RECEIVES has one reader, which every queue and job shares", () => {
    expect(reads.filter((r) => r.name === "QUEUE_MAX_RECEIVES").map((r) => r.where)).toEqual(["packages/settings/src/QueueSettings.ts"])
  })

  test("services read settings through Config only, never process.env", () => {
    const direct = files
      .filter((file) => !file.includes("/scripts/") && /process\.env\b/.test(readFileSync(file, "utf8")))
      .map((file) => relative(root, file))
    // launch.ts reads the dev launcher's private marker before any layer exists.
    expect(direct).toEqual(["packages/settings/src/launch.ts"])
  })

  test("a setting with no default has none written in its meaning either, and literals list their values", () => {
    for (const name of settingNames) {
      const d = declaration(name)
      expect(d.meaning.length).toBeGreaterThan(5)
      if (d.kind === "literal" || d.kind === "list") expect(d.values?.length ?? 0).toBeGreaterThan(1)
      if (d.kind === "literal" && d.default !== undefined) expect(d.values).toContain(d.default)
    }
  })
})

describe("the README's configuration table", () => {
  test("is the table generated from the declaration (bun scripts/settings-table.ts --write)", () => {
    const readme = readFileSync(join(root, "README.md"), "utf8")
    expect(readme).toBe(withTable(readme))
  })

  test("lists every declared setting exactly once", () => {
    const rows = settingsTable().split("\n").slice(2).map((row) => /^\| `([A-Z0-9_]+)` \|/.exec(row)?.[1])
    expect(rows).toEqual([...settingNames])
  })
})
