import { BunRuntime } from "@effect/platform-bun"
import { Cause, ConfigError, Console, Effect, Either, Layer, Option } from "effect"
import { readSettings, settingsLayer } from "./SettingsSnapshot.ts"
import { StartupError } from "./StartupError.ts"

/**
 * Describes an invalid or missing setting in one line that names the variable, e.g.
 * `configuration error: PORT: Expected a network port, but received: abc`.
 */
export const describeConfigError = (error: ConfigError.ConfigError): string => {
  const lines: Array<string> = []
  const visit = (e: ConfigError.ConfigError): void => {
    switch (e._op) {
      case "And":
      case "Or":
        visit(e.left)
        visit(e.right)
        return
      default:
        lines.push(`${e.path.join(".") || "(root)"}: ${e.message}`)
    }
  }
  visit(error)
  return `configuration error: ${[...new Set(lines)].join("; ")}`
}

/**
 * Set by the dev launcher on the apps it starts: they exit when its stdin pipe closes, so a launcher
 * killed with SIGKILL does not leave orphaned apps holding their ports.
 */
export const EXIT_WITH_PARENT = "SCOPELINE_EXIT_WITH_PARENT"

/**
 * How long an app whose launcher vanished may take to shut down gracefully before it exits anyway:
 * a worker busy with a large match can take far longer to wind down, and nobody is left to kill it.
 * Exiting mid-job is safe: unfinished jobs are redelivered and every handler is idempotent.
 */
const ORPHAN_GRACE_MS = 10_000

/**
 * Keeps this process alive through a second SIGINT/SIGTERM while it shuts down. The runtime stops
 * listening after the first signal, so the next one (Ctrl-C pressed twice; the terminal's SIGINT
 * and then the launcher's SIGTERM reaching an app) would kill the process on the spot: the launcher
 * before it stopped PostgreSQL, an app before it closed its connections. Only for processes whose
 * shutdown is bounded anyway: the launcher's, and the apps it kills when they take too long (scripts/dev.ts).
 */
export const outlastRepeatedSignals = (): void => {
  for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => {})
}

/**
 * Launches an app's layer until interrupted, on its settings read once from the environment and
 * checked as a whole first: every invalid setting is named in one line and the process exits 1
 * before anything starts. A configuration error or a StartupError later exits 1 with one readable line.
 */
export const launch = <E>(layer: Layer.Layer<never, E>): void => {
  const snapshot = readSettings(process.env)
  if (Either.isLeft(snapshot)) {
    console.error(`configuration error: ${snapshot.left.join("; ")}`)
    process.exit(1)
  }
  if (process.env[EXIT_WITH_PARENT] === "1") {
    outlastRepeatedSignals()
    process.stdin.on("close", () => {
      setTimeout(() => process.exit(1), ORPHAN_GRACE_MS).unref()
      process.kill(process.pid, "SIGTERM")
    })
    process.stdin.resume()
  }
  Layer.launch(layer.pipe(Layer.provide(settingsLayer(snapshot.right)))).pipe(
    Effect.catchAllCause((cause) => {
      const failure: Option.Option<unknown> = Cause.failureOption(cause)
      if (Option.isNone(failure)) return Effect.failCause(cause)
      const line = ConfigError.isConfigError(failure.value)
        ? describeConfigError(failure.value)
        : failure.value instanceof StartupError
          ? failure.value.message
          : undefined
      return line === undefined
        ? Effect.failCause(cause)
        : Console.error(line).pipe(Effect.zipRight(Effect.sync(() => process.exit(1))))
    }),
    (effect) => BunRuntime.runMain(effect, { disablePrettyLogger: true }),
  )
}
