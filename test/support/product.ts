import { startMatcher } from "@scopeline/matcher/server"
import { join } from "node:path"
import type { Browser } from "playwright-core"
import { launchBrowser } from "./browser.ts"
import { seedDemo } from "./seed.ts"
import { startServer, type TestServer } from "./server.ts"
import { startWorker, type TestWorker } from "./worker.ts"

/** The demo upload file, as `bun run dev` users try it. */
export const SAMPLE = join(import.meta.dir, "../../data/samples/supermarket-sg-2024-q1.csv")

export interface RunningProduct {
  readonly server: TestServer
  readonly worker: TestWorker
  readonly matcher: Awaited<ReturnType<typeof startMatcher>>
  readonly browser: Browser
  readonly stop: () => Promise<void>
}

/**
 * The whole product for browser tests, as `bun run dev` runs it: the reference matcher, the server with
 * the real factor catalogue and the demo accounts, a worker, and a headless Chromium.
 */
export const startProduct = async (): Promise<RunningProduct> => {
  const matcher = await startMatcher({ port: 0 })
  const server = await startServer({ LOAD_CATALOGUE: "true", MATCHER_URL: matcher.url })
  await seedDemo(server.databaseUrl)
  const worker = await startWorker(server.settings)
  const browser = await launchBrowser()
  return {
    server,
    worker,
    matcher,
    browser,
    stop: async () => {
      await browser.close()
      await worker.stop()
      await server.stop()
      await matcher.stop()
    },
  }
}
