import { freePort, startEmbeddedPostgres, type EmbeddedPostgresOptions } from "@scopeline/sql/EmbeddedPostgres"
import { relocatedDataDir, ROOT_PG_HOME } from "@scopeline/sql/PostgresPlacement"
import { afterAll, describe, expect, test } from "bun:test"
import { SQL } from "bun"
import { Cause, Effect, Exit, Logger, LogLevel, Option } from "effect"
import { existsSync, lstatSync, mkdtempSync, readlinkSync, rmSync, statSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"

/**
 * The embedded cluster starts wherever its data directory is asked for. As root PostgreSQL runs as
 * the `postgres` OS user, who cannot enter a 0700 folder (what mkdtemp and `mktemp -d` make, and
 * what root's home folder is): the data is then kept under ROOT_PG_HOME and linked from there.
 */
const isRoot = process.getuid?.() === 0
const folders: Array<string> = []
const privateFolder = () => {
  const dir = mkdtempSync(join(tmpdir(), "scopeline-private-"))
  folders.push(dir)
  return dir
}
afterAll(() => {
  for (const dir of folders) {
    rmSync(relocatedDataDir(join(dir, "pg")), { recursive: true, force: true })
    rmSync(dir, { recursive: true, force: true })
  }
})

/** Starts a cluster, runs `use` against it, stops it; the exit says whether it started at all. */
const withCluster = <A>(options: EmbeddedPostgresOptions, use: (url: string) => Promise<A>) =>
  Effect.runPromiseExit(
    Effect.scoped(startEmbeddedPostgres(options).pipe(Effect.flatMap((running) => Effect.promise(() => use(running.url))))).pipe(
      // The "data is kept in …" notice is for people starting the app, not for test output.
      Logger.withMinimumLogLevel(LogLevel.Warning),
    ),
  )

/** "started", or the failure's tag and message (so a failing expectation says what went wrong). */
const outcome = <A, E extends { readonly _tag: string; readonly message: string }>(exit: Exit.Exit<A, E>) =>
  Exit.isSuccess(exit)
    ? "started"
    : Option.match(Cause.failureOption(exit.cause), {
        onNone: () => Cause.pretty(exit.cause),
        onSome: (error) => `${error._tag}: ${error.message}`,
      })

const query = async (url: string, text: string) => {
  const client = new SQL(url)
  try {
    return await client.unsafe(text)
  } finally {
    await client.close()
  }
}

describe("embedded PostgreSQL", () => {
  test("a busy port is reported as such before PostgreSQL is even initialised", async () => {
    const squatter = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } })
    const dir = privateFolder()
    try {
      const exit = await withCluster({ databaseDir: join(dir, "pg"), port: squatter.port, persistent: false }, async () => 1)
      expect(outcome(exit)).toStartWith("EmbeddedPostgresPortInUse")
      expect(existsSync(join(dir, "pg", "PG_VERSION"))).toBe(false)
    } finally {
      squatter.stop(true)
    }
  })

  describe.skipIf(!isRoot)("run as root (skipped otherwise: only root hands PostgreSQL to another OS user)", () => {
    test("starts with its data directory inside a 0700 folder, keeping the data where the postgres user reaches it", async () => {
      const dir = privateFolder()
      expect(statSync(dir).mode & 0o777).toBe(0o700)
      const databaseDir = join(dir, "pg")
      const exit = await withCluster({ databaseDir, port: await freePort(), persistent: false }, async (url) => {
        const link = lstatSync(databaseDir)
        return { rows: await query(url, "SELECT 1 AS one"), link: link.isSymbolicLink() ? readlinkSync(databaseDir) : undefined }
      })
      expect(outcome(exit)).toBe("started")
      if (!Exit.isSuccess(exit)) return
      expect(exit.value.rows).toEqual([{ one: 1 }])
      expect(exit.value.link).toBe(relocatedDataDir(databaseDir))
      expect(relocatedDataDir(databaseDir).startsWith(`${ROOT_PG_HOME}/`)).toBe(true)
      // Not persistent: both the relocated data and the link are gone after the stop.
      expect(existsSync(relocatedDataDir(databaseDir))).toBe(false)
      expect(lstatSync(databaseDir, { throwIfNoEntry: false })).toBeUndefined()
    })

    test("keeps relocated data across restarts, and a deleted data folder starts afresh", async () => {
      const dir = privateFolder()
      const options = { databaseDir: join(dir, "pg"), port: await freePort(), persistent: true }
      const created = await withCluster(options, (url) => query(url, "CREATE TABLE kept (id int); INSERT INTO kept VALUES (7)"))
      expect(outcome(created)).toBe("started")
      const again = await withCluster(options, (url) => query(url, "SELECT id FROM kept"))
      expect(Exit.isSuccess(again) && again.value).toEqual([{ id: 7 }])

      rmSync(options.databaseDir, { recursive: true, force: true })
      const fresh = await withCluster(options, (url) => query(url, "SELECT to_regclass('kept') IS NULL AS gone"))
      expect(Exit.isSuccess(fresh) && fresh.value).toEqual([{ gone: true }])
    })
  })
})
