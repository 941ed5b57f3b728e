import { freePort, startEmbeddedPostgres, type RunningPostgres } from "@scopeline/sql/EmbeddedPostgres"
import { Effect, Exit, Scope } from "effect"
import { chmodSync, mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { SQL } from "bun"

/**
 * One real PostgreSQL cluster per test run (started on first use, on a random port in a temp dir,
 * deleted at the end), and a fresh database per caller so test files never see each other's rows.
 */
let cluster: Promise<{ running: RunningPostgres; scope: Scope.CloseableScope }> | undefined

const startCluster = async () => {
  const dir = mkdtempSync(join(tmpdir(), "scopeline-test-"))
  // Opened up so that, as root, the postgres OS user reaches the data here and it stays in the temp
  // dir; a 0700 folder works too (the data is then kept under /var/lib/scopeline, see
  // PostgresPlacement.ts), but a run killed midway would leave it there rather than in /tmp.
  chmodSync(dir, 0o755)
  const scope = Effect.runSync(Scope.make())
  // The cluster deletes its own data directory on stop; the temp dir around it goes too.
  Effect.runSync(Scope.addFinalizer(scope, Effect.sync(() => rmSync(dir, { recursive: true, force: true }))))
  const running = await Effect.runPromise(
    startEmbeddedPostgres({ databaseDir: join(dir, "pg"), port: await freePort(), persistent: false }).pipe(
      Scope.extend(scope),
    ),
  )
  return { running, scope }
}

export const testCluster = () => {
  cluster ??= startCluster()
  return cluster.then((c) => c.running)
}

/** Creates an empty database and returns its URL. */
export const testDatabase = async (prefix = "t"): Promise<string> => {
  const running = await testCluster()
  const name = `${prefix}_${crypto.randomUUID().replaceAll("-", "").slice(0, 16)}`
  const client = new SQL(running.url)
  try {
    await client.unsafe(`CREATE DATABASE ${name}`)
  } finally {
    await client.close()
  }
  return running.urlFor(name)
}

export const stopTestCluster = async () => {
  if (!cluster) return
  const { scope } = await cluster
  cluster = undefined
  await Effect.runPromise(Scope.close(scope, Exit.void))
}
