import { AppConfig } from "@scopeline/settings/AppConfig"
import { persistedSecret } from "@scopeline/settings/persistedSecret"
import { Effect } from "effect"

/**
 * The HS256 signing key: JWT_SECRET when set, otherwise generated once into DATA_DIR/jwt-secret. Read
 * on first use, so a process that never signs (AWS mode, where Cognito does) never writes one.
 */
export class JwtSecret extends Effect.Service<JwtSecret>()("scopeline/JwtSecret", {
  effect: Effect.gen(function* () {
    const config = yield* AppConfig
    const key = yield* Effect.cached(
      persistedSecret(config.jwtSecret, config.dataDir, "jwt-secret").pipe(Effect.map((secret) => new TextEncoder().encode(secret))),
    )
    return { key }
  }),
  dependencies: [AppConfig.Default],
}) {}
