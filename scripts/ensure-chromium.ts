/**
 * Browser tests drive Debian's Chromium (there is no browser download without internet). Installs it
 * with apt-get when missing, so `bun run test` works on a fresh machine with nothing installed by hand.
 */
import { existsSync } from "node:fs"

const executable = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium"
if (!existsSync(executable)) {
  const asRoot = process.getuid?.() === 0
  const sudo = asRoot ? [] : ["sudo", "-n"]
  console.error(`Chromium not found at ${executable}; installing Debian's chromium package…`)
  for (const command of [
    [...sudo, "apt-get", "update", "-qq"],
    [...sudo, "apt-get", "install", "-y", "-qq", "chromium"],
  ]) {
    const result = Bun.spawnSync(command, { stdout: "inherit", stderr: "inherit", env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" } })
    if (result.exitCode !== 0) {
      console.error(`Could not install Chromium (${command.join(" ")} failed). Install it with: apt-get install chromium`)
      process.exit(1)
    }
  }
}
