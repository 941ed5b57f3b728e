import { Config, Effect, Option, Redacted } from "effect"
import rootPackage from "../../../package.json" with { type: "json" }

/** Validation errors of a nested config carry the variable's name in their path. */
export const named = <A>(name: string, config: Config.Config<A>) => Config.nested(config, name)

/**
 * The one typed configuration every app reads. Each value comes from an environment variable of the
 * same upper-case name; the defaults are the embedded mode's (`bun run dev`, tests).
 */
export class AppConfig extends Effect.Service<AppConfig>()("scopeline/AppConfig", {
  effect: Effect.gen(function* () {
    const port = yield* Config.port("PORT").pipe(Config.withDefault(3000))
    const dataDir = yield* Config.string("DATA_DIR").pipe(Config.withDefault(".data"))
    const databaseUrl = yield* Config.option(Config.redacted("DATABASE_URL"))
    // Off 5432 so the embedded cluster never collides with a system PostgreSQL.
    const embeddedPgPort = yield* Config.port("EMBEDDED_PG_PORT").pipe(Config.withDefault(54329))
    const jwtSecret = yield* Config.option(
      named(
        "JWT_SECRET",
        Config.string().pipe(
          Config.validate({ message: "must be at least 32 characters", validation: (s) => s.length >= 32 }),
          Config.map(Redacted.make),
        ),
      ),
    )
    const jwtTtlSeconds = yield* named(
      "JWT_TTL_SECONDS",
      Config.integer().pipe(
        Config.validate({ message: "must be between 60 and 86400", validation: (n) => n >= 60 && n <= 86_400 }),
      ),
    ).pipe(Config.withDefault(3600))
    const demoPassword = yield* Config.redacted("DEMO_PASSWORD").pipe(
      Config.withDefault(Redacted.make("scopeline-demo")),
    )
    const publicUrl = yield* Config.option(Config.url("PUBLIC_URL"))
    const helpUrl = yield* Config.string("HELP_URL").pipe(Config.withDefault("https://docs.scopeline.dev/help"))
    const supportEmail = yield* Config.string("SUPPORT_EMAIL").pipe(Config.withDefault("support@scopeline.dev"))
    const announcement = yield* Config.string("ANNOUNCEMENT").pipe(
      Config.withDefault("Welcome to Scopeline. Upload a CSV of activities to calculate their emissions."),
    )
    return {
      port,
      dataDir,
      databaseUrl,
      /** Port of the embedded PostgreSQL, used only when DATABASE_URL (and PGHOST) are unset. */
      embeddedPgPort,
      jwtSecret,
      jwtTtlSeconds,
      demoPassword,
      /** Where browsers reach the server; signed upload URLs are absolute against it. */
      publicUrl: Option.map(publicUrl, (url) => url.toString().replace(/\/$/, "")),
      helpUrl,
      supportEmail,
      announcement,
      version: rootPackage.version,
    } as const
  }),
}) {}
