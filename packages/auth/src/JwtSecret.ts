import { AppConfig } from "@scopeline/config/AppConfig"
import { Effect, Option, Redacted } from "effect"
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"

/**
 * The HS256 signing key: JWT_SECRET when set; otherwise generated once and kept in
 * DATA_DIR/jwt-secret (mode 600), so tokens survive restarts of the embedded mode.
 */
export class JwtSecret extends Effect.Service<JwtSecret>()("scopeline/JwtSecret", {
  effect: Effect.gen(function* () {
    const config = yield* AppConfig
    const secret = Option.isSome(config.jwtSecret)
      ? Redacted.value(config.jwtSecret.value)
      : yield* Effect.sync(() => {
          const file = join(config.dataDir, "jwt-secret")
          if (existsSync(file)) return readFileSync(file, "utf8").trim()
          mkdirSync(config.dataDir, { recursive: true })
          const generated = Buffer.from(crypto.getRandomValues(new Uint8Array(48))).toString("base64url")
          writeFileSync(file, generated, { mode: 0o600, flag: "wx" })
          return generated
        })
    return { key: new TextEncoder().encode(secret) }
  }),
  dependencies: [AppConfig.Default],
}) {}
