/**
 * `bun run dev`: the whole product on embedded defaults. Starts PostgreSQL under DATA_DIR (unless
 * DATABASE_URL is set), applies migrations, seeds the demo data, then runs the reference matcher,
 * the worker and the server each as its own process (as in AWS), and stops everything, PostgreSQL
 * included, on Ctrl-C. The server loads the factor catalogue as it starts.
 */
import { Passwords } from "@scopeline/identity/Passwords"
import { AppConfig } from "@scopeline/settings/AppConfig"
import { EXIT_WITH_PARENT, launch, outlastRepeatedSignals } from "@scopeline/settings/launch"
import { LoggingLive } from "@scopeline/settings/Logging"
import { startConfiguredEmbeddedPostgres } from "@scopeline/sql/Database"
import { demoUsers, seedDemoUsers } from "@scopeline/accounts/DemoSeed"
import { migrate } from "@scopeline/sql/Migrator"
import { UsersRepo } from "@scopeline/accounts/UsersRepo"
import { PgClient } from "@effect/sql-pg"
import { Config, Duration, Effect, Layer, Option, Redacted, Schedule, String } from "effect"

const startedAt = performance.now()

interface App {
  readonly name: string
  readonly entry: string
}

const apps: ReadonlyArray<App> = [
  { name: "matcher", entry: "apps/matcher/src/main.ts" },
  { name: "worker", entry: "apps/worker/src/main.ts" },
  { name: "server", entry: "apps/server/src/main.ts" },
]

/**
 * How long an app may take to stop after SIGTERM before it is killed. A worker busy with a large
 * match can take much longer to wind down; killing it is safe (its job is redelivered, every handler
 * is idempotent), and a Ctrl-C that leaves a process behind is not.
 */
const STOP_GRACE_MS = 5000

const stopApp = async (child: Bun.Subprocess) => {
  if (child.exitCode !== null || child.signalCode !== null) return
  child.kill("SIGTERM")
  const exited = await Promise.race([child.exited, Bun.sleep(STOP_GRACE_MS).then(() => "timeout" as const)])
  if (exited === "timeout") {
    child.kill("SIGKILL")
    await child.exited
  }
}

/**
 * Starts every app and, when the scope closes, stops them all at once (so a Ctrl-C waits for the
 * slowest app, not for the sum) before the scope goes on to stop PostgreSQL, which they use.
 */
const spawnApps = (env: Record<string, string>) =>
  Effect.acquireRelease(
    Effect.sync(() =>
      apps.map((app) => ({
        app,
        child: Bun.spawn(["bun", app.entry], {
          env: { ...process.env, ...env, [EXIT_WITH_PARENT]: "1" },
          stdin: "pipe",
          stdout: "inherit",
          stderr: "inherit",
        }),
      })),
    ),
    (running) => Effect.promise(() => Promise.all(running.map(({ child }) => stopApp(child)))),
  ).pipe(
    Effect.tap((running) =>
      // A crashed app takes the launcher down with it: half a product is worse than none. Forked in
      // the scope, the watchers are interrupted before the apps are stopped on a normal shutdown.
      Effect.forEach(running, ({ app, child }) =>
        Effect.forkScoped(
          Effect.promise(() => child.exited).pipe(
            Effect.flatMap((code) =>
              Effect.logError(`${app.name} exited unexpectedly`).pipe(
                Effect.annotateLogs({ code }),
                Effect.zipRight(Effect.sync(() => process.kill(process.pid, "SIGTERM"))),
              ),
            ),
          ),
        ),
      ),
    ),
  )

const waitUntilHealthy = (url: string) =>
  Effect.tryPromise(() => fetch(`${url}/readyz`)).pipe(
    Effect.filterOrFail((response) => response.ok),
    Effect.retry(Schedule.spaced(Duration.millis(100)).pipe(Schedule.upTo(Duration.seconds(60)))),
    Effect.orDieWith(() => new Error(`the server did not become ready at ${url}`)),
  )

const program = Effect.gen(function* () {
  const config = yield* AppConfig
  const databaseUrl = Option.isSome(config.databaseUrl)
    ? Redacted.value(config.databaseUrl.value)
    : (yield* startConfiguredEmbeddedPostgres(config)).url

  yield* Effect.gen(function* () {
    yield* migrate()
    const passwords = yield* Passwords
    yield* seedDemoUsers(passwords.hash, Redacted.value(config.demoPassword))
  }).pipe(
    Effect.provide(
      Layer.merge(
        PgClient.layer({
          url: Redacted.make(databaseUrl),
          transformQueryNames: String.camelToSnake,
          transformResultNames: String.snakeToCamel,
        }),
        Passwords.Default,
      ).pipe((layer) => Layer.merge(layer, UsersRepo.Default.pipe(Layer.provide(layer)))),
    ),
    Effect.scoped,
  )

  const matcherPort = yield* Config.port("MATCHER_PORT").pipe(Config.withDefault(3100))
  const matcherUrl = yield* Config.string("MATCHER_URL").pipe(Config.withDefault(`http://127.0.0.1:${matcherPort}`))
  const env = {
    DATABASE_URL: databaseUrl,
    DATA_DIR: config.dataDir,
    MATCHER_PORT: `${matcherPort}`,
    MATCHER_URL: matcherUrl,
  }
  yield* spawnApps(env)
  const url = Option.getOrElse(config.publicUrl, () => `http://localhost:${config.port}`)
  yield* waitUntilHealthy(`http://127.0.0.1:${config.port}`)
  const seconds = ((performance.now() - startedAt) / 1000).toFixed(1)
  console.log(
    [
      "",
      `  Scopeline is running at ${url}  (ready in ${seconds} s)`,
      "",
      "  Demo logins (password: the DEMO_PASSWORD setting, scopeline-demo unless you set it)",
      ...demoUsers.map((user) => `    ${user.role.padEnd(11)} ${user.email}`),
      "",
      "  Press Ctrl-C to stop everything.",
      "",
    ].join("\n"),
  )
  return yield* Effect.never
})

// PostgreSQL runs in its own session (a Ctrl-C never reaches it): dying halfway through the shutdown
// would leave it running, so a second Ctrl-C must not cut the shutdown short.
outlastRepeatedSignals()
launch(Layer.scopedDiscard(program).pipe(Layer.provide(Layer.merge(AppConfig.Default, LoggingLive))))
