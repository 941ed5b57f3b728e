import { Data } from "effect"

/**
 * A start-up failure the person starting the app can fix (a busy port, say), worded for them and
 * naming the setting to change: `launch` prints it as one line, like a configuration error, rather
 * than as a cause with a stack trace.
 */
export class StartupError extends Data.TaggedError("StartupError")<{ readonly message: string }> {}
