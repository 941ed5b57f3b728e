/**
 * `bun run catalogue:load <file> [<file>…]`: loads published factor files into the catalogue beside
 * what is there, typically next year's DESNZ flat file (its header's "GHG Conversion Factor YYYY"
 * makes it the set DESNZ:YYYY). Nothing already loaded is overwritten: a set that is already in the
 * catalogue from another file is refused, and loading the same file again changes nothing.
 *
 * It uses the database the apps would (DATABASE_URL, PG*, or the embedded one under DATA_DIR: stop
 * `bun run dev` first, or give its DATABASE_URL). See docs/recalculation.md.
 */
import { FactorsRepo, loadFactorFile } from "@scopeline/catalogue"
import { AppConfig } from "@scopeline/settings/AppConfig"
import { LoggingLive } from "@scopeline/settings/Logging"
import { MigratedDatabaseLive } from "@scopeline/sql/Database"
import { Cause, Console, Effect, Exit, Layer } from "effect"
import { resolve } from "node:path"

// `bun run` starts scripts in the checkout's root; a relative path means the caller's folder.
const callerDir = process.env.INIT_CWD ?? process.cwd()
const files = process.argv.slice(2).map((file) => resolve(callerDir, file))
if (files.length === 0) {
  console.error("usage: bun run catalogue:load <factor file> [<factor file>…]   (e.g. a DESNZ flat file of another year)")
  process.exit(2)
}

const program = Effect.forEach(
  files,
  (file) =>
    loadFactorFile(file).pipe(
      Effect.tap((report) =>
        Console.log(
          `${file}: ${report.read} factors of ${report.sets.join(", ")}: ${report.inserted} new, ${report.updated} updated, ${report.unchanged} unchanged`,
        ),
      ),
    ),
  { discard: true },
).pipe(Effect.provide(FactorsRepo.Default.pipe(Layer.provideMerge(MigratedDatabaseLive), Layer.provideMerge(AppConfig.Default))), Effect.provide(LoggingLive))

const exit = await Effect.runPromiseExit(Effect.scoped(program))
if (Exit.isFailure(exit)) {
  const failure = Cause.failureOption(exit.cause)
  console.error(
    failure._tag === "Some" && typeof failure.value === "object" && failure.value !== null && "message" in failure.value
      ? `not loaded: ${"file" in failure.value ? `${String(failure.value.file)}: ` : ""}${String(failure.value.message)}`
      : `not loaded: ${Cause.pretty(exit.cause)}`,
  )
  process.exit(1)
}
process.exit(0)
