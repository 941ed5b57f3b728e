import { SqlClient } from "@effect/sql"
import { FactorsRepo } from "@scopeline/db/FactorsRepo"
import { type Calculation, type ClaimPlan, type Failure, MatchRepo } from "@scopeline/db/MatchRepo"
import type { MatchJob } from "@scopeline/domain/Messages"
import { UploadId } from "@scopeline/domain/Upload"
import { conversionRatio, parseUnit } from "@scopeline/domain/units/Units"
import { Array as Arr, Config, Effect, Either, Fiber, Option } from "effect"
import { AiMatcherClient, MatcherUnavailable } from "./AiMatcherClient.ts"
import { MatchCache } from "./MatchCache.ts"
import { matchKey, type MatchKeyParts } from "./matchKey.ts"

/** Every activity of an upload that shares one match key. */
interface KeyGroup {
  readonly parts: MatchKeyParts
  /** One description as the user wrote it, for failure messages people recognise. */
  readonly sampleDescription: string
  /** The unit spellings used with this key ("L", "litres"): each gets its own UPDATE row. */
  readonly rawUnits: Set<string>
}

interface FactorChoice {
  readonly id: string
  readonly unit: string
  readonly name: string
  readonly confidence: string
}

interface Pricing {
  readonly calculations: ReadonlyArray<Calculation>
  readonly failures: ReadonlyArray<Failure>
}

/** The conversion ratio comes from the unit registry (exact), never from SQL or a float. */
const price = (group: KeyGroup, factor: FactorChoice): Pricing => {
  const calculations: Array<Calculation> = []
  const failures: Array<Failure> = []
  const factorUnit = parseUnit(factor.unit)
  for (const rawUnit of group.rawUnits) {
    const activityUnit = group.parts.unit
    if (Option.isNone(factorUnit)) {
      failures.push({
        key: group.parts.key,
        rawUnit,
        kind: "unit_mismatch",
        reason: `The matched factor "${factor.name}" is per "${factor.unit}", a unit Scopeline cannot convert ${activityUnit.name} to.`,
      })
      continue
    }
    const ratio = conversionRatio(activityUnit, factorUnit.value)
    if (Either.isLeft(ratio)) {
      failures.push({
        key: group.parts.key,
        rawUnit,
        kind: "unit_mismatch",
        reason:
          `The matched factor is per ${factorUnit.value.symbol} (${factorUnit.value.dimension}) ` +
          `but the activity is in ${activityUnit.name} (${activityUnit.dimension}).`,
      })
      continue
    }
    calculations.push({
      key: group.parts.key,
      rawUnit,
      factorId: factor.id,
      confidence: factor.confidence,
      ratioNum: ratio.right.num.toString(),
      ratioDen: ratio.right.den.toString(),
    })
  }
  return { calculations, failures }
}

const noMatch = (group: KeyGroup, why: string): Failure => ({
  key: group.parts.key,
  rawUnit: null,
  kind: "no_match",
  reason: `No emission factor matches '${group.sampleDescription}' in ${group.parts.unit.name}: ${why}`,
})

/** The delivery of the job being handled; the last one marks an outage on the activities. */
export interface Attempt {
  readonly receiveCount: number
}

/**
 * The match job: cache first, then the AI matcher, then emissions, all per distinct match key and
 * set-based. Idempotent: it only ever touches activities still 'ingested'/'matching' (plus those a
 * matcher outage left failed, so a replayed dead letter retries them), so redelivery never
 * double-counts. A matcher outage fails the job, so the queue retries it with backoff; on the last
 * delivery the waiting activities are marked failed with the reason before the job dead-letters.
 */
export class MatchUpload extends Effect.Service<MatchUpload>()("scopeline/MatchUpload", {
  effect: Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const repo = yield* MatchRepo
    const cache = yield* MatchCache
    const matcher = yield* AiMatcherClient
    const factors = yield* FactorsRepo
    const maxReceives = yield* Config.integer("QUEUE_MAX_RECEIVES").pipe(Config.withDefault(5))

    /**
     * One key the cache did not know: ask the matcher, resolve its ref, then (once the claim has put
     * the keys on the rows) cache the answer and price every activity with the key, in one transaction.
     */
    const resolveMiss = Effect.fn("MatchUpload.resolveMiss")(function* <E>(
      uploadId: UploadId,
      group: KeyGroup,
      claimed: Effect.Effect<unknown, E>,
    ) {
      const { parts } = group
      const answer = yield* matcher.match({
        key: parts.key,
        description: parts.description,
        unit: parts.unit.symbol,
        ...(parts.geography === null ? {} : { geography: parts.geography }),
      })
      const factor = answer.factorRef === null ? Option.none() : yield* factors.findByRef(answer.factorRef)
      yield* claimed
      if (answer.factorRef === null) {
        return yield* repo.fail(uploadId, [noMatch(group, answer.reason ?? "the matcher found no factor")])
      }
      if (Option.isNone(factor)) {
        return yield* repo.fail(uploadId, [noMatch(group, `the matcher answered ${answer.factorRef}, which is not in the catalogue`)])
      }
      const { calculations, failures } = price(group, {
        id: factor.value.id,
        unit: factor.value.unit,
        name: factor.value.name,
        confidence: String(answer.confidence),
      })
      yield* sql.withTransaction(
        Effect.all([
          cache.recordAiAnswer(parts, factor.value.id, answer.confidence),
          repo.calculate(uploadId, calculations, "ai"),
          repo.fail(uploadId, failures),
        ]),
      )
    })

    const run = Effect.fn("MatchUpload.run")(
      function* (job: MatchJob, attempt: Attempt = { receiveCount: 1 }) {
        const uploadId = UploadId.make(job.uploadId)
        // Keys per distinct (description, unit, geography), not per row: a 100,000-row upload with
        // 1,000 distinct inputs normalises 1,000 strings.
        const inputs = yield* repo.distinctInputs(uploadId)
        // A redelivery after everything settled: nothing to do.
        if (inputs.length === 0) return

        const groups = new Map<string, KeyGroup>()
        const keyed = inputs.map((input) => {
          const parts = input.rawUnit === null ? Option.none() : matchKey(input.rawDescription, input.rawUnit, input.geography)
          if (Option.isSome(parts) && input.rawUnit !== null) {
            const group = groups.get(parts.value.key) ?? {
              parts: parts.value,
              sampleDescription: input.rawDescription,
              rawUnits: new Set<string>(),
            }
            group.rawUnits.add(input.rawUnit)
            groups.set(parts.value.key, group)
          }
          return { input, parts }
        })

        // ONE cache lookup for every key of the upload.
        const cached = yield* cache.lookup([...groups.keys()])
        const onCache = new Map<string, Pick<ClaimPlan, "calculation" | "failure">>()
        const misses: Array<KeyGroup> = []
        for (const group of groups.values()) {
          const entry = cached.get(group.parts.key)
          if (!entry) {
            misses.push(group)
          } else if (entry.factorId === null || entry.factorUnit === null) {
            const failure = noMatch(group, "the match cache records that no factor applies")
            for (const rawUnit of group.rawUnits) onCache.set(`${group.parts.key}\u0000${rawUnit}`, { failure })
          } else {
            const pricing = price(group, {
              id: entry.factorId,
              unit: entry.factorUnit,
              name: entry.factorName ?? entry.factorUnit,
              confidence: entry.confidence ?? "1",
            })
            for (const calculation of pricing.calculations) onCache.set(`${calculation.key}\u0000${calculation.rawUnit}`, { calculation })
            for (const failure of pricing.failures) onCache.set(`${failure.key}\u0000${failure.rawUnit}`, { failure })
          }
        }
        const plans = keyed.map(({ input, parts }): ClaimPlan => {
          const base = { rawDescription: input.rawDescription, rawUnit: input.rawUnit, geography: input.geography }
          if (Option.isNone(parts)) {
            return {
              ...base,
              key: null,
              failure: { kind: "invalid", reason: `The unit "${input.rawUnit ?? ""}" is not one Scopeline can convert.` },
            }
          }
          return { ...base, key: parts.value.key, ...onCache.get(`${parts.value.key}\u0000${input.rawUnit}`) }
        })

        // The claim (keys, attempt bookkeeping, every cache hit priced) runs while the matcher already
        // works on the misses: the upload's one big write overlaps the first round trips instead of
        // delaying them. Each miss waits for the claim only before writing its own rows.
        const claimFiber = yield* Effect.fork(repo.claim(uploadId, plans))
        const claimed = Fiber.join(claimFiber)
        // Unbounded here on purpose: the client's process-wide limiter is what bounds the requests.
        const unavailable = yield* Effect.forEach(
          misses,
          (group) =>
            resolveMiss(uploadId, group, claimed).pipe(
              Effect.as(Option.none()),
              Effect.catchTag("MatcherUnavailable", (error) => Effect.succeed(Option.some({ group, error }))),
            ),
          { concurrency: "unbounded" },
        ).pipe(Effect.map(Arr.getSomes))
        const { claimed: activities, fromCache } = yield* claimed

        yield* Effect.logInfo("upload matched").pipe(
          Effect.annotateLogs({
            activities,
            keys: groups.size,
            cacheHitKeys: groups.size - misses.length,
            activitiesFromCache: fromCache,
            matcherKeys: misses.length,
            unavailableKeys: unavailable.length,
          }),
        )
        if (unavailable.length === 0) return

        const last = attempt.receiveCount >= maxReceives
        const first = unavailable[0]!.error
        if (last) {
          yield* repo.fail(
            uploadId,
            unavailable.map(({ group, error }) => ({
              key: group.parts.key,
              rawUnit: null,
              kind: "matcher_unavailable" as const,
              reason: error.message,
            })),
          )
        }
        return yield* new MatcherUnavailable({
          message:
            `${unavailable.length} of ${misses.length} match keys got no answer` +
            `${last ? " (last attempt: their activities are marked failed)" : ""}. ${first.message}`,
          breakerOpen: unavailable.some(({ error }) => error.breakerOpen),
        })
      },
      (effect, job) => Effect.annotateLogs(effect, { uploadId: job.uploadId, correlationId: job.correlationId }),
    )

    return { run }
  }),
  dependencies: [MatchRepo.Default, MatchCache.Default, AiMatcherClient.Default, FactorsRepo.Default],
}) {}
