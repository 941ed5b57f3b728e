import { Effect, Option, Redacted } from "effect"
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"

/**
 * A secret from its setting when given; otherwise generated once into DATA_DIR/<file> (mode 600) and
 * read back on later starts, so the embedded mode needs no set-up yet survives restarts.
 */
export const persistedSecret = (configured: Option.Option<Redacted.Redacted>, dataDir: string, file: string) =>
  Option.isSome(configured)
    ? Effect.succeed(Redacted.value(configured.value))
    : Effect.sync(() => {
        const path = join(dataDir, file)
        if (existsSync(path)) return readFileSync(path, "utf8").trim()
        mkdirSync(dataDir, { recursive: true })
        const generated = Buffer.from(crypto.getRandomValues(new Uint8Array(48))).toString("base64url")
        try {
          writeFileSync(path, generated, { mode: 0o600, flag: "wx" })
          return generated
        } catch {
          // Another process created it first: use theirs, so every process signs alike.
          return readFileSync(path, "utf8").trim()
        }
      })
