import type { CatalogueFactor } from "@scopeline/catalogue"
import { readCatalogue } from "@scopeline/catalogue"
import { MatchRequest, type MatchResponse } from "@scopeline/matching"
import { Effect, Either, ParseResult, Schema } from "effect"
import { Ranker } from "./ranking/Ranker.ts"

export interface MatcherOptions {
  /** 0 picks a free port. */
  readonly port?: number
  readonly hostname?: string
  /** Added to every /v1/match request, while it counts as in flight. */
  readonly latencyMs?: number
  /** Requests in flight beyond this are answered 429 with Retry-After. */
  readonly concurrency?: number
  /** Probability (0..1) of answering 500. */
  readonly faultRate?: number
  /** Probability (0..1) of a spurious 429. */
  readonly rateLimitRate?: number
  /** Probability (0..1) of hanging for `hangMs` before answering, to exercise client timeouts. */
  readonly timeoutRate?: number
  readonly hangMs?: number
  /** The catalogue to rank; read from data/factors when absent. */
  readonly catalogue?: ReadonlyArray<CatalogueFactor>
  /** Injectable for deterministic fault tests. */
  readonly random?: () => number
}

export interface MatcherStats {
  readonly requests: number
  readonly inFlightMax: number
  readonly itemsMatched: number
}

export interface RunningMatcher {
  readonly url: string
  readonly port: number
  readonly stop: () => Promise<void>
  readonly stats: () => MatcherStats
  readonly resetStats: () => void
}

const json = (body: unknown, status = 200, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json", ...headers } })

const errorBody = (code: string, message: string) => ({ error: { code, message } })

const decodeRequest = Schema.decodeUnknownEither(MatchRequest)

/** The contract's cap on candidates per result. */
const CANDIDATES = 5

export const matchItems = (ranker: Ranker, items: typeof MatchRequest.Type["items"]): MatchResponse => ({
  results: items.map((item) => {
    const outcome = ranker.match({ description: item.description, unit: item.unit, geography: item.geography ?? undefined }, CANDIDATES)
    const candidates = (outcome.ranked ?? []).map((c) => ({ factor_id: c.ref, confidence: c.confidence }))
    return outcome._tag === "Matched"
      ? { key: item.key, factor_id: outcome.factor.ref, confidence: outcome.confidence, reason: outcome.reason, candidates }
      : { key: item.key, factor_id: null, confidence: 0, reason: outcome.reason, candidates }
  }),
})

/**
 * The reference AI Matcher: an external service as far as Scopeline is concerned, so it reads the
 * published factor files itself and answers with factor refs, never our database ids. Fault and
 * latency knobs let the benchmarks and fault tests reproduce a slow, flaky, rate-limited provider.
 */
export const startMatcher = async (options: MatcherOptions = {}): Promise<RunningMatcher> => {
  const catalogue = options.catalogue ?? (await Effect.runPromise(readCatalogue()))
  const ranker = new Ranker(catalogue)
  const random = options.random ?? Math.random
  const concurrency = options.concurrency ?? 10
  const latencyMs = options.latencyMs ?? 0
  const hangMs = options.hangMs ?? 30_000
  const chance = (p: number | undefined) => p !== undefined && p > 0 && random() < p

  let inFlight = 0
  let stats = { requests: 0, inFlightMax: 0, itemsMatched: 0 }
  const pending = new Set<ReturnType<typeof setTimeout>>()
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        pending.delete(timer)
        resolve()
      }, ms)
      pending.add(timer)
    })

  const match = async (request: Request): Promise<Response> => {
    stats = { ...stats, requests: stats.requests + 1 }
    if (inFlight >= concurrency) {
      return json(errorBody("too_many_requests", `more than ${concurrency} requests in flight`), 429, { "retry-after": "1" })
    }
    inFlight++
    stats = { ...stats, inFlightMax: Math.max(stats.inFlightMax, inFlight) }
    try {
      if (latencyMs > 0) await sleep(latencyMs)
      if (chance(options.rateLimitRate)) {
        return json(errorBody("too_many_requests", "rate limited (injected)"), 429, { "retry-after": "1" })
      }
      if (chance(options.faultRate)) return json(errorBody("internal", "matcher failure (injected)"), 500)
      if (chance(options.timeoutRate)) await sleep(hangMs)
      let body: unknown
      try {
        body = await request.json()
      } catch {
        return json(errorBody("bad_request", "the body is not JSON"), 400)
      }
      const decoded = decodeRequest(body)
      if (Either.isLeft(decoded)) {
        return json(errorBody("bad_request", ParseResult.TreeFormatter.formatErrorSync(decoded.left)), 400)
      }
      const response = matchItems(ranker, decoded.right.items)
      stats = { ...stats, itemsMatched: stats.itemsMatched + decoded.right.items.length }
      return json(response)
    } catch (error) {
      return json(errorBody("internal", String(error)), 500)
    } finally {
      inFlight--
    }
  }

  const server = Bun.serve({
    port: options.port ?? 3100,
    hostname: options.hostname ?? "127.0.0.1",
    // Injected hangs must outlive Bun's default 10 s idle timeout to look like a stuck provider.
    idleTimeout: 0,
    fetch: async (request) => {
      const { pathname } = new URL(request.url)
      if (pathname === "/v1/match") {
        return request.method === "POST" ? match(request) : json(errorBody("method_not_allowed", "use POST"), 405)
      }
      if (pathname === "/healthz") return json({ status: "ok", factors: ranker.size })
      if (pathname === "/stats" && request.method === "GET") return json(stats)
      if (pathname === "/stats/reset" && request.method === "POST") {
        stats = { requests: 0, inFlightMax: 0, itemsMatched: 0 }
        return json(stats)
      }
      return json(errorBody("not_found", `no route ${request.method} ${pathname}`), 404)
    },
  })

  const port = server.port ?? options.port ?? 3100
  return {
    url: `http://${options.hostname ?? "127.0.0.1"}:${port}`,
    port,
    stats: () => stats,
    resetStats: () => {
      stats = { requests: 0, inFlightMax: 0, itemsMatched: 0 }
    },
    stop: async () => {
      for (const timer of pending) clearTimeout(timer)
      pending.clear()
      await server.stop(true)
    },
  }
}
