import { freePort } from "@scopeline/sql/EmbeddedPostgres"
import { afterAll, describe, expect, test } from "bun:test"
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { apiClient, uploadFile } from "../support/api.ts"
import { alive, childPids, commandOf, launcherEnv, repositoryRoot, startLauncher, until } from "./support.ts"

/**
 * The README's run command end to end: a real PostgreSQL started by the project, migrations, demo
 * data, the apps, and a clean stop — including recovery from a launcher killed with SIGKILL.
 */
const dataDir = mkdtempSync(join(tmpdir(), "scopeline-dev-"))
// Reachable by the postgres OS user, so the data stays here (private-folder.test.ts covers 0700).
chmodSync(dataDir, 0o755)
const ports = { http: await freePort(), pg: await freePort(), matcher: await freePort() }
const settings = {
  DATA_DIR: dataDir,
  PORT: String(ports.http),
  EMBEDDED_PG_PORT: String(ports.pg),
  MATCHER_PORT: String(ports.matcher),
}

const start = () => startLauncher(settings)

const postgresPid = () => {
  const file = join(dataDir, "postgres", "postmaster.pid")
  return existsSync(file) ? Number(readFileSync(file, "utf8").split("\n")[0]) : undefined
}
const login = (password = "scopeline-demo") =>
  fetch(`http://127.0.0.1:${ports.http}/v1/auth/login`, {
    method: "POST",
    body: JSON.stringify({ credentials: { login: "accountant@demo.scopeline.dev", password } }),
  })

/** Whether nothing answers on the port within a few seconds (apps exit when their launcher does). */
const stopsServing = async (port: number) => {
  const end = Date.now() + 10_000
  while (Date.now() < end) {
    const up = await fetch(`http://127.0.0.1:${port}/healthz`).then(() => true, () => false)
    if (!up) return true
    await Bun.sleep(100)
  }
  return false
}

afterAll(() => {
  const pid = postgresPid()
  if (pid && alive(pid)) process.kill(pid, "SIGINT")
  rmSync(dataDir, { recursive: true, force: true })
})

describe("bun run dev", () => {
  test("starts PostgreSQL, seeds the demo logins, serves, and Ctrl-C stops everything", async () => {
    const { child, output } = await start()
    expect(output).toContain(`http://localhost:${ports.http}`)
    expect(output).toContain("accountant@demo.scopeline.dev")
    expect((await login()).status).toBe(200)
    const pid = postgresPid()!
    expect(alive(pid)).toBe(true)
    child.kill("SIGINT")
    expect(await child.exited).toBe(0)
    expect(await until(() => !alive(pid))).toBe(true)
    expect(await stopsServing(ports.http)).toBe(true)
    expect(await stopsServing(ports.matcher)).toBe(true)
  }, 90_000)

  test("a second start reuses the data", async () => {
    const { child } = await start()
    const { jwt } = (await (await login()).json()) as { jwt: string }
    child.kill("SIGINT")
    await child.exited
    const again = await start()
    // The token names the user's id and is signed with the key kept in DATA_DIR: it is accepted
    // after a restart only if both the database and the key were reused.
    const me = await fetch(`http://127.0.0.1:${ports.http}/v1/me`, { headers: { authorization: `Bearer ${jwt}` } })
    expect(me.status).toBe(200)
    again.child.kill("SIGINT")
    await again.child.exited
  }, 90_000)

  test("recovers from a launcher killed with SIGKILL: the leftover PostgreSQL is stopped, not a cryptic failure", async () => {
    const first = await start()
    const leftover = postgresPid()!
    first.child.kill("SIGKILL")
    await first.child.exited
    expect(alive(leftover)).toBe(true)
    // The apps notice their launcher is gone and free their ports.
    const serving = async () =>
      (await fetch(`http://127.0.0.1:${ports.http}/healthz`).catch(() => undefined))?.ok === true ||
      (await fetch(`http://127.0.0.1:${ports.matcher}/healthz`).catch(() => undefined))?.ok === true
    const end = Date.now() + 15_000
    while ((await serving()) && Date.now() < end) await Bun.sleep(100)
    expect(await serving()).toBe(false)
    const second = await start()
    expect((await login()).status).toBe(200)
    expect(postgresPid()).not.toBe(leftover)
    expect(alive(leftover)).toBe(false)
    second.child.kill("SIGINT")
    expect(await second.child.exited).toBe(0)
  }, 90_000)

  test("a second launcher on a DATA_DIR in use stops with one line and leaves the running one's database alone", async () => {
    const first = await start()
    const running = postgresPid()!
    try {
      const others = { PORT: String(await freePort()), EMBEDDED_PG_PORT: String(await freePort()), MATCHER_PORT: String(await freePort()) }
      const second = Bun.spawn(["bun", "scripts/dev.ts"], {
        cwd: repositoryRoot,
        env: launcherEnv({ ...settings, ...others, LOG_LEVEL: "Info" }),
        stdout: "pipe",
        stderr: "pipe",
      })
      const [code, stdout, stderr] = await Promise.all([second.exited, new Response(second.stdout).text(), new Response(second.stderr).text()])
      expect(code).toBe(1)
      expect(stdout).toBe("")
      expect(stderr.trim().split("\n")).toHaveLength(1)
      expect(stderr).toStartWith(`DATA_DIR: ${dataDir} is in use by another Scopeline run (process ${first.child.pid})`)
      expect(alive(running)).toBe(true)
      expect((await login()).status).toBe(200)
    } finally {
      first.child.kill("SIGINT")
      await first.child.exited
    }
    expect(await until(() => !alive(running))).toBe(true)
  }, 90_000)

  test("a busy embedded PostgreSQL port stops the launcher with one line naming EMBEDDED_PG_PORT", async () => {
    const squatter = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } })
    // A fresh 0700 DATA_DIR at the default log level: nothing else (such as where the data would be
    // kept, as root) may be said before the one line.
    const privateDataDir = mkdtempSync(join(tmpdir(), "scopeline-busy-"))
    try {
      const child = Bun.spawn(["bun", "scripts/dev.ts"], {
        cwd: repositoryRoot,
        env: launcherEnv({ ...settings, DATA_DIR: privateDataDir, LOG_LEVEL: "Info", EMBEDDED_PG_PORT: String(squatter.port) }),
        stdout: "pipe",
        stderr: "pipe",
      })
      const [code, stdout, stderr] = await Promise.all([
        child.exited,
        new Response(child.stdout).text(),
        new Response(child.stderr).text(),
      ])
      expect(code).toBe(1)
      expect(stdout).toBe("")
      expect(stderr.trim().split("\n")).toHaveLength(1)
      expect(stderr).toStartWith(`EMBEDDED_PG_PORT: port ${squatter.port} is already in use`)
      expect(existsSync(join(privateDataDir, "postgres"))).toBe(false)
    } finally {
      squatter.stop(true)
      rmSync(privateDataDir, { recursive: true, force: true })
    }
  }, 60_000)

  test("Ctrl-C stops a worker busy with a large match too: no process outlives the launcher", async () => {
    const { child } = await start()
    const api = await apiClient(`http://127.0.0.1:${ports.http}`, "accountant@demo.scopeline.dev", "scopeline-demo")
    // Distinct descriptions: nothing is in the match cache, so every row waits on the matcher.
    const rows = Array.from({ length: 20_000 }, (_, i) => `Warehouse ${i} electricity,${i + 1},kWh,2024-01-15,SG,BUSY-${i}`)
    const id = await uploadFile(api, `description,quantity,unit,date,geography,reference\n${rows.join("\n")}\n`)
    const matching = async () => {
      const view = (await (await api.get(`/v1/uploads/${id}`)).json()) as { activities?: { matching?: number } }
      return (view.activities?.matching ?? 0) > 0
    }
    const end = Date.now() + 60_000
    while (!(await matching()) && Date.now() < end) await Bun.sleep(100)
    expect(await matching()).toBe(true)

    // PostgreSQL, the matcher, the worker and the server: everything the launcher started.
    const started = childPids(child.pid)
    expect(started.length).toBeGreaterThanOrEqual(4)
    child.kill("SIGINT")
    const code = await child.exited
    // Already gone when the launcher returns, not merely on their way out.
    expect(started.filter(alive).map(commandOf)).toEqual([])
    expect(code).toBe(0)
  }, 120_000)

  test("Ctrl-C pressed twice in the terminal still stops everything, PostgreSQL included", async () => {
    const { child } = await startLauncher(settings, { ownGroup: true })
    const started = childPids(child.pid)
    // A terminal signals the whole foreground group: the launcher and the apps alike, each time.
    process.kill(-child.pid, "SIGINT")
    // The second press lands while the first shutdown is under way (stopping PostgreSQL alone
    // takes longer than this); should everything be gone already, there is nothing to cut short.
    await Bun.sleep(20)
    try {
      process.kill(-child.pid, "SIGINT")
    } catch {}
    const code = await child.exited
    expect(started.filter(alive).map(commandOf)).toEqual([])
    expect(code).toBe(0)
  }, 90_000)
})
