/**
 * Prints every labelled set's figures (and, with --tables, the reliability tables in markdown) for
 * docs/matching.md and for before/after comparisons:
 *
 *   bun test/matcher/report.ts [--tables] [--misses] [--blind]
 *
 * The frozen blind set is left out unless --blind is given, and its misses are never printed: it
 * measures the matcher, it is not there to be read while changing it.
 */
import { readCatalogue } from "@scopeline/catalogue/readCatalogue"
import { Ranker } from "@scopeline/matcher/ranking/Ranker"
import { startMatcher } from "@scopeline/matcher/server"
import { Effect } from "effect"
import { existsSync } from "node:fs"
import { evaluateSet, figuresLine, LABELLED_SETS, printFigures, readLabelledSet, reliabilityTable } from "./labelled.ts"

const catalogue = await Effect.runPromise(readCatalogue())
const matcher = await startMatcher({ port: 0, catalogue })
const ranker = new Ranker(catalogue)
try {
  for (const set of LABELLED_SETS) {
    if (!existsSync(new URL(`./${set.file}`, import.meta.url))) continue
    const frozen = set.name === "blind-3"
    if (frozen && !process.argv.includes("--blind")) continue
    const figures = await evaluateSet(matcher.url, ranker, readLabelledSet(set.file), set.name)
    if (process.argv.includes("--misses") && !frozen) {
      printFigures(figures)
      for (const { activity, answer } of figures.confidentMistakes) {
        console.log(`  confident mistake ${activity.key} "${activity.description}" → ${answer.factor_id} @${answer.confidence}`)
      }
    } else console.log(figuresLine(figures))
    if (process.argv.includes("--tables")) console.log(`\n${set.name} (${set.role})\n\n${reliabilityTable(figures)}\n`)
  }
} finally {
  await matcher.stop()
}
