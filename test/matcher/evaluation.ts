import { readCatalogue } from "@scopeline/catalogue/readCatalogue"
import { Ranker } from "@scopeline/matcher/ranking/Ranker"
import { startMatcher, type RunningMatcher } from "@scopeline/matcher/server"
import { afterAll, beforeAll } from "bun:test"
import { Effect } from "effect"
import { evaluateSet, figuresLine, printFigures, readLabelledSet, type SetFigures } from "./labelled.ts"

/**
 * Starts the reference matcher (real HTTP) and a ranker over the same catalogue for one test file,
 * and scores a labelled set through both: answers over HTTP, top-5 from the ranker's candidates.
 */
export const useMatcher = () => {
  let matcher: RunningMatcher | undefined
  let ranker: Ranker | undefined
  beforeAll(async () => {
    const catalogue = await Effect.runPromise(readCatalogue())
    matcher = await startMatcher({ port: 0, catalogue })
    ranker = new Ranker(catalogue)
  })
  afterAll(() => matcher?.stop())
  return {
    score: async (file: string, name: string, options: { readonly printMisses?: boolean } = {}): Promise<SetFigures> => {
      if (!matcher || !ranker) throw new Error("the matcher is not running")
      const figures = await evaluateSet(matcher.url, ranker, readLabelledSet(file), name)
      if (options.printMisses === false) console.log(figuresLine(figures))
      else printFigures(figures)
      return figures
    },
  }
}

export const precisionAt = (figures: SetFigures, threshold: number) => {
  const at = figures.thresholds.find((t) => t.threshold === threshold)
  if (!at) throw new Error(`no figures at ${threshold}`)
  return at.precision
}
