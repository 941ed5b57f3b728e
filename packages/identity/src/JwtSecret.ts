import { AppConfig } from "@scopeline/settings/AppConfig"
import { persistedSecret } from "@scopeline/settings/persistedSecret"
import { Effect } from "effect"

/** The HS256 signing key: JWT_SECRET when set, otherwise generated once into DATA_DIR/jwt-secret. */
export class JwtSecret extends Effect.Service<JwtSecret>()("scopeline/JwtSecret", {
  effect: Effect.gen(function* () {
    const config = yield* AppConfig
    const secret = yield* persistedSecret(config.jwtSecret, config.dataDir, "jwt-secret")
    return { key: new TextEncoder().encode(secret) }
  }),
  dependencies: [AppConfig.Default],
}) {}
