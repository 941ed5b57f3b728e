import { freePort } from "@scopeline/sql/EmbeddedPostgres"
import { relocatedDataDir, ROOT_PG_HOME } from "@scopeline/sql/PostgresPlacement"
import { afterAll, describe, expect, test } from "bun:test"
import { cpSync, lstatSync, mkdtempSync, readFileSync, readlinkSync, rmSync, statSync } from "node:fs"
import { tmpdir } from "node:os"
import { join, relative } from "node:path"
import { alive, repositoryRoot, startLauncher, until } from "./support.ts"

/**
 * `bun run dev` from a checkout inside a folder only its owner can enter — a clone in root's home
 * folder (mode 0700) is the everyday case. As root, PostgreSQL runs as the `postgres` OS user, who
 * can reach neither the binaries under node_modules nor the default DATA_DIR (`.data`) there.
 */
const isRoot = process.getuid?.() === 0
const privateFolder = mkdtempSync(join(tmpdir(), "scopeline-clone-"))
const checkout = join(privateFolder, "scopeline")
const dataDir = join(checkout, ".data", "postgres")

afterAll(() => {
  rmSync(relocatedDataDir(dataDir), { recursive: true, force: true })
  rmSync(privateFolder, { recursive: true, force: true })
})

/**
 * A copy of this working tree (uncommitted changes included) with node_modules hard-linked: as good
 * as a fresh clone plus `bun install`, without the network, in about a second.
 */
const copyCheckout = () => {
  const skipped = new Set(["node_modules", ".git", ".data", "bench/.out"])
  cpSync(repositoryRoot, checkout, {
    recursive: true,
    verbatimSymlinks: true,
    filter: (source) => !skipped.has(relative(repositoryRoot, source)),
  })
  const link = Bun.spawnSync(["cp", "-al", join(repositoryRoot, "node_modules"), join(checkout, "node_modules")])
  // Hard links need one file system; a real copy is slower but proves the same.
  if (link.exitCode !== 0) Bun.spawnSync(["cp", "-a", join(repositoryRoot, "node_modules"), join(checkout, "node_modules")])
}

describe.skipIf(!isRoot)("bun run dev in a 0700 folder, as root (skipped otherwise: only root hands PostgreSQL to another OS user)", () => {
  test("starts, serves and stops, with PostgreSQL's binaries and data placed where the postgres user reaches them", async () => {
    expect(statSync(privateFolder).mode & 0o777).toBe(0o700)
    copyCheckout()
    const ports = { http: await freePort(), pg: await freePort(), matcher: await freePort() }
    // No DATA_DIR: the default `.data` inside the private folder is the case to prove.
    const { child } = await startLauncher(
      { PORT: String(ports.http), EMBEDDED_PG_PORT: String(ports.pg), MATCHER_PORT: String(ports.matcher) },
      { cwd: checkout },
    )
    let pid = 0
    try {
      expect((await fetch(`http://127.0.0.1:${ports.http}/readyz`)).status).toBe(200)
      const login = await fetch(`http://127.0.0.1:${ports.http}/v1/auth/login`, {
        method: "POST",
        body: JSON.stringify({ credentials: { login: "accountant@demo.scopeline.dev", password: "scopeline-demo" } }),
      })
      expect(login.status).toBe(200)

      expect(lstatSync(dataDir).isSymbolicLink()).toBe(true)
      expect(readlinkSync(dataDir)).toBe(relocatedDataDir(dataDir))
      pid = Number(readFileSync(join(dataDir, "postmaster.pid"), "utf8").split("\n")[0])
      expect(readlinkSync(`/proc/${pid}/exe`)).toStartWith(`${ROOT_PG_HOME}/pg-`)
    } finally {
      child.kill("SIGINT")
    }
    expect(await child.exited).toBe(0)
    expect(await until(() => !alive(pid))).toBe(true)
  }, 120_000)
})
