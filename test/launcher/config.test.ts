import { describe, expect, test } from "bun:test"

const runServer = async (env: Record<string, string>) => {
  const child = Bun.spawn(["bun", "apps/server/src/main.ts"], {
    cwd: `${import.meta.dir}/../..`,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/root", ...env },
    stdout: "pipe",
    stderr: "pipe",
  })
  const code = await child.exited
  return { code, stderr: (await new Response(child.stderr).text()).trim() }
}

describe("configuration", () => {
  test("an invalid setting stops the app with one line naming the variable", async () => {
    const { code, stderr } = await runServer({ PORT: "not-a-port" })
    expect(code).toBe(1)
    expect(stderr.split("\n")).toHaveLength(1)
    expect(stderr).toStartWith("configuration error: PORT:")
  })

  test("every invalid setting is named in the one line, before anything starts", async () => {
    const { code, stderr } = await runServer({ PORT: "not-a-port", REVIEW_BELOW: "high", WORKER_QUEUES: "parse,nightly", LOG_LEVEL: "Loud" })
    expect(code).toBe(1)
    expect(stderr.split("\n")).toHaveLength(1)
    expect(stderr).toStartWith("configuration error: ")
    for (const name of ["PORT", "REVIEW_BELOW", "WORKER_QUEUES", "LOG_LEVEL"]) expect(stderr).toContain(`${name}: `)
    expect(stderr).toContain('"nightly"')
  })

  test("a JWT secret that is too short is refused by name", async () => {
    const { code, stderr } = await runServer({ JWT_SECRET: "short", DATABASE_URL: "postgres://127.0.0.1:1/none" })
    expect(code).toBe(1)
    expect(stderr).toBe("configuration error: JWT_SECRET: must be at least 32 characters")
  })
})
