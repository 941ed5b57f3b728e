import { AppConfig } from "@scopeline/settings/AppConfig"
import { persistedSecret } from "@scopeline/settings/persistedSecret"
import { Effect } from "effect"

/**
 * The HS256 signing key: JWT_SECRET when set, otherwise generated once into DATA_DIR/jwt-secret. Read
 * on first use, so a process that never signs (AWS mode, where Cognito does) never writes one. Held
 * as an imported CryptoKey: given the secret's bytes, jose imports them again on every verify, which
 * every authenticated request pays.
 */
export class JwtSecret extends Effect.Service<JwtSecret>()("scopeline/JwtSecret", {
  effect: Effect.gen(function* () {
    const config = yield* AppConfig
    const key = yield* Effect.cached(
      persistedSecret(config.jwtSecret, config.dataDir, "jwt-secret").pipe(
        Effect.flatMap((secret) =>
          Effect.promise(() =>
            crypto.subtle.importKey("raw", new TextEncoder().encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign", "verify"]),
          ),
        ),
      ),
    )
    return { key }
  }),
  dependencies: [AppConfig.Default],
}) {}
