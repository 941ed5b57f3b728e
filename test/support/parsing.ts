import { Webhooks } from "@scopeline/webhooks"
import { AuditLog } from "@scopeline/events"
import { AppConfig } from "@scopeline/settings/AppConfig"
import { ActivitiesRepo } from "@scopeline/uploads/ActivitiesRepo"
import { migrate } from "@scopeline/sql/Migrator"
import { UploadsRepo } from "@scopeline/uploads/UploadsRepo"
import { ParseJob } from "@scopeline/uploads/Jobs"
import { type Upload, UploadId } from "@scopeline/uploads/Upload"
import { ParseUpload } from "@scopeline/uploads/parse/ParseUpload"
import { objectKeyOf } from "@scopeline/uploads/Uploads"
import { PgQueueLive } from "@scopeline/queue/PgQueue"
import { LocalBlobStoreLive } from "@scopeline/storage/LocalBlobStore"
import { Effect, Layer, Logger, LogLevel, ManagedRuntime, Option } from "effect"
import { mkdirSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { SQL } from "bun"
import { configLayer, testSettings } from "./config.ts"
import { testDatabase } from "./postgres.ts"
import { DEMO_TEST_PASSWORD, seedDemo, sqlLayer } from "./seed.ts"

/**
 * The parse job on its own, against a real database and the local blob store: put a file in the
 * store as if uploaded, run the job, read back the outcome.
 */
export const parsingHarness = async () => {
  const databaseUrl = await testDatabase()
  const settings = testSettings({ DATABASE_URL: databaseUrl })
  const layer = Layer.mergeAll(ParseUpload.Default, UploadsRepo.Default, ActivitiesRepo.Default).pipe(
    Layer.provideMerge(Layer.mergeAll(LocalBlobStoreLive, PgQueueLive, Webhooks.Default.pipe(Layer.provideMerge(AuditLog.Default)))),
    Layer.provideMerge(Layer.effectDiscard(migrate()).pipe(Layer.provideMerge(sqlLayer(databaseUrl)))),
    Layer.provideMerge(AppConfig.Default),
    Layer.provide(configLayer(settings)),
  )
  const runtime = ManagedRuntime.make(Layer.merge(layer, Logger.minimumLogLevel(LogLevel.Warning)))
  await runtime.runPromise(Effect.void)
  await seedDemo(databaseUrl, DEMO_TEST_PASSWORD)
  const db = new SQL(databaseUrl)
  const [accountant] = await db`SELECT id FROM users WHERE role = 'accountant'`

  /** An uploaded (confirmed) upload whose stored object is `content`; returns its id and blob path. */
  const prepare = async (content: string | Uint8Array) => {
    const id = UploadId.make(crypto.randomUUID())
    const key = objectKeyOf(id)
    const path = join(settings.DATA_DIR!, "blobs", key)
    mkdirSync(join(path, ".."), { recursive: true })
    writeFileSync(path, content)
    await db`INSERT INTO uploads (id, accountant, s3_object_url, status) VALUES (${id}, ${accountant.id}, ${key}, 'uploaded')`
    return { id, path }
  }

  /** Runs the parse job for an upload, as the worker would (Exit, so failures can be inspected). */
  const runJob = (id: UploadId, options = { lastAttempt: false }) =>
    runtime.runPromiseExit(Effect.flatMap(ParseUpload, (p) => p.run(new ParseJob({ uploadId: id, correlationId: "test" }), options)))

  const outcome = async (id: UploadId) => {
    const upload = await runtime.runPromise(Effect.flatMap(UploadsRepo, (r) => r.findById(id)).pipe(Effect.map(Option.getOrThrow)))
    const [{ n }] = await db`SELECT count(*)::int AS n FROM activities WHERE upload_id = ${id}`
    return { upload, stored: Number(n) }
  }

  const parse = async (content: string | Uint8Array): Promise<{ upload: Upload; stored: number }> => {
    const { id } = await prepare(content)
    const exit = await runJob(id)
    if (exit._tag === "Failure") throw new Error(`parse job failed: ${JSON.stringify(exit.cause)}`)
    return outcome(id)
  }

  return {
    parse,
    prepare,
    runJob,
    outcome,
    db,
    runtime,
    close: async () => {
      await db.close()
      await runtime.dispose()
    },
  }
}
