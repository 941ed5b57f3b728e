import { readdirSync, readFileSync } from "node:fs"
import { join } from "node:path"

export const repositoryRoot = join(import.meta.dir, "../..")

export interface Launcher {
  readonly child: Bun.Subprocess<"ignore", "pipe", "pipe">
  /** What it printed on stdout up to the ready banner. */
  readonly output: string
}

/** The launcher's environment: hermetic apart from PATH and HOME, which Bun itself needs. */
export const launcherEnv = (settings: Record<string, string>): Record<string, string> => ({
  PATH: process.env.PATH ?? "",
  HOME: process.env.HOME ?? "/root",
  LOG_LEVEL: "Warn",
  ...settings,
})

/**
 * Runs `bun scripts/dev.ts` in `cwd` and waits for its ready banner ("Press Ctrl-C"). With
 * `ownGroup`, the launcher leads a process group of its own, so that a test can signal the group as
 * a terminal's Ctrl-C does (`process.kill(-pid, "SIGINT")`).
 */
export const startLauncher = async (
  settings: Record<string, string>,
  { cwd = repositoryRoot, ownGroup = false }: { readonly cwd?: string; readonly ownGroup?: boolean } = {},
): Promise<Launcher> => {
  const child = Bun.spawn(["bun", "scripts/dev.ts"], {
    cwd,
    detached: ownGroup,
    env: launcherEnv(settings),
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  })
  let output = ""
  const decoder = new TextDecoder()
  const reader = child.stdout.getReader()
  const deadline = Date.now() + 60_000
  while (!output.includes("Press Ctrl-C") && Date.now() < deadline) {
    const { value, done } = await reader.read()
    if (done) break
    output += decoder.decode(value)
  }
  reader.releaseLock()
  if (!output.includes("Press Ctrl-C")) {
    child.kill("SIGKILL")
    throw new Error(`launcher did not become ready:\n${output}\n${await new Response(child.stderr).text()}`)
  }
  return { child, output }
}

export const alive = (pid: number) => {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

/** The pids whose parent is `pid` (from /proc: field 4 of stat, after the parenthesised name). */
export const childPids = (pid: number): Array<number> =>
  readdirSync("/proc")
    .filter((name) => /^\d+$/.test(name))
    .flatMap((name) => {
      try {
        const stat = readFileSync(`/proc/${name}/stat`, "utf8")
        const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1])
        return ppid === pid ? [Number(name)] : []
      } catch {
        return []
      }
    })

/** The command line of a process, for messages that say which one is still running. */
export const commandOf = (pid: number) => {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " ").trim()
  } catch {
    return `pid ${pid}`
  }
}

export const until = async (condition: () => boolean, ms = 15_000) => {
  const end = Date.now() + ms
  while (!condition() && Date.now() < end) await Bun.sleep(100)
  return condition()
}
