import { BunRuntime } from "@effect/platform-bun"
import { Cause, ConfigError, Console, Effect, Layer, Option } from "effect"

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

/** Launches an app's layer until interrupted; a configuration error exits 1 with one readable line. */
export const launch = <E>(layer: Layer.Layer<never, E>): void => {
  if (process.env[EXIT_WITH_PARENT] === "1") {
    process.stdin.on("close", () => process.kill(process.pid, "SIGTERM"))
    process.stdin.resume()
  }
  Layer.launch(layer).pipe(
    Effect.catchAllCause((cause) => {
      const failure: Option.Option<unknown> = Cause.failureOption(cause)
      return Option.isSome(failure) && ConfigError.isConfigError(failure.value)
        ? Console.error(describeConfigError(failure.value)).pipe(Effect.zipRight(Effect.sync(() => process.exit(1))))
        : Effect.failCause(cause)
    }),
    (effect) => BunRuntime.runMain(effect, { disablePrettyLogger: true }),
  )
}
