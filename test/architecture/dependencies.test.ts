import { describe, expect, test } from "bun:test"
import { Glob } from "bun"
import { readdirSync, readFileSync } from "node:fs"
import { dirname, join, relative, resolve } from "node:path"

/**
 * The layout's rules, checked on every import of the source tree:
 * - adapters (packages/*) have no business rules, so they import no feature and no app;
 * - a feature imports another feature only through its public entry (`@scopeline/<feature>`, its
 *   index.ts), never a file inside it, and the features form no cycle;
 * - apps compose features through their public entries too.
 */
const root = resolve(import.meta.dir, "../..")
const features = readdirSync(join(root, "features"))
const adapters = readdirSync(join(root, "packages"))
const apps = readdirSync(join(root, "apps"))

interface Import {
  readonly file: string
  readonly specifier: string
  /** The folder the import lands in: "features/uploads", "packages/sql", "apps/server", or null (npm). */
  readonly target: string | null
  /** True when the import names a feature's public entry and nothing inside it. */
  readonly publicEntry: boolean
}

const IMPORT = /(?:^|[\s;])(?:import|export)\s[^"'`]*?from\s*["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)|^import\s+["']([^"']+)["']/gm

const folderOf = (path: string): string | null => {
  const [top, name] = relative(root, path).split("/")
  return top === "features" || top === "packages" || top === "apps" ? `${top}/${name}` : null
}

const importsOf = (file: string): Array<Import> => {
  const source = readFileSync(file, "utf8")
  const found: Array<Import> = []
  for (const match of source.matchAll(IMPORT)) {
    const specifier = match[1] ?? match[2] ?? match[3]!
    if (specifier.startsWith(".")) {
      found.push({ file, specifier, target: folderOf(resolve(dirname(file), specifier)), publicEntry: false })
      continue
    }
    const scoped = /^@scopeline\/([\w-]+)(\/.*)?$/.exec(specifier)
    if (!scoped) {
      found.push({ file, specifier, target: null, publicEntry: false })
      continue
    }
    const [, name, rest] = scoped
    const target = features.includes(name!) ? `features/${name}` : adapters.includes(name!) ? `packages/${name}` : apps.includes(name!) ? `apps/${name}` : `unknown/${name}`
    found.push({ file, specifier, target, publicEntry: rest === undefined })
  }
  return found
}

const sources = (folder: string) =>
  [...new Glob("**/*.{ts,tsx}").scanSync({ cwd: join(root, folder) })].filter((f) => !f.includes("node_modules")).map((f) => join(root, folder, f))

const all = ["features", "packages", "apps"].flatMap(sources).flatMap(importsOf)
const where = (i: Import) => `${relative(root, i.file)} imports ${i.specifier}`

describe("dependencies go one way", () => {
  test("every @scopeline import names a workspace that exists", () => {
    expect(all.filter((i) => i.target?.startsWith("unknown/")).map(where)).toEqual([])
  })

  test("adapters import no feature and no app", () => {
    const offending = all.filter((i) => folderOf(i.file)!.startsWith("packages/") && (i.target?.startsWith("features/") || i.target?.startsWith("apps/")))
    expect(offending.map(where)).toEqual([])
  })

  test("features and apps reach another feature only through its index.ts", () => {
    const offending = all.filter((i) => {
      const from = folderOf(i.file)!
      return !from.startsWith("packages/") && i.target?.startsWith("features/") && i.target !== from && !i.publicEntry
    })
    expect(offending.map(where)).toEqual([])
  })

  test("features import no app", () => {
    const offending = all.filter((i) => folderOf(i.file)!.startsWith("features/") && i.target?.startsWith("apps/"))
    expect(offending.map(where)).toEqual([])
  })

  test("the features form no cycle", () => {
    const edges = new Map<string, Set<string>>(features.map((f) => [`features/${f}`, new Set<string>()]))
    for (const i of all) {
      const from = folderOf(i.file)!
      if (from.startsWith("features/") && i.target?.startsWith("features/") && i.target !== from) edges.get(from)!.add(i.target)
    }
    const cycles: Array<string> = []
    const state = new Map<string, "open" | "done">()
    const visit = (node: string, path: Array<string>) => {
      if (state.get(node) === "done") return
      if (state.get(node) === "open") {
        cycles.push([...path.slice(path.indexOf(node)), node].join(" → "))
        return
      }
      state.set(node, "open")
      for (const next of edges.get(node) ?? []) visit(next, [...path, node])
      state.set(node, "done")
    }
    for (const node of edges.keys()) visit(node, [])
    expect(cycles).toEqual([])
  })
})

describe("one guard", () => {
  test("no route checks identity or permission itself: only accounts/http/guard.ts authenticates and asks for permissions", () => {
    // The sign-in page may ask who is signed in (to skip the form); it guards nothing.
    const allowed = new Set(["features/accounts/http/guard.ts", "features/accounts/Permissions.ts", "features/accounts/http/authPages.tsx"])
    const offending = sources("features")
      .filter((file) => !allowed.has(relative(root, file)))
      .filter((file) => /\b(authenticate|authenticateChange)\(request\)|\brequirePermission\(/.test(readFileSync(file, "utf8")))
      .map((file) => relative(root, file))
    expect(offending).toEqual([])
  })
})
