import { SqlClient } from "@effect/sql"
import { retryDeadlocks } from "@scopeline/sql/Deadlocks"
import { FactorsRepo } from "@scopeline/catalogue"
import { type Calculation, type ClaimPlan, type Failure, type MatchInput, MatchRepo } from "./MatchRepo.ts"
import type { MatchJob } from "@scopeline/uploads"
import { recordDeadLettered, UploadId } from "@scopeline/uploads"
import { AuditLog } from "@scopeline/events"
import { Webhooks } from "@scopeline/webhooks"
import { SiteLimits } from "@scopeline/sites"
import { withCorrelation } from "@scopeline/settings/Correlation"
import { conversionRatio, parseUnit } from "@scopeline/catalogue"
import type { SqlError } from "@effect/sql/SqlError"
import { QueueSettings } from "@scopeline/settings/QueueSettings"
import { Chunk, Duration, Effect, Either, Fiber, Option, Scope, Stream } from "effect"
import { AiMatcherClient, type MatchAnswer, MatcherUnavailable } from "./AiMatcherClient.ts"
import { type AiAnswer, candidateIds, knownCandidates, MatchCache } from "./MatchCache.ts"
import { matchKey, type MatchKeyParts } from "./matchKey.ts"
import { ReviewGate, type ReviewStatus } from "./ReviewGate.ts"

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
  readonly confidence: string | null
  readonly reviewStatus: ReviewStatus
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
      reviewStatus: factor.reviewStatus,
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

/** `items` in at most `parts` runs of about equal length, in order. */
const split = <A>(items: ReadonlyArray<A>, parts: number): ReadonlyArray<ReadonlyArray<A>> => {
  if (items.length === 0) return []
  const size = Math.ceil(items.length / parts)
  return Array.from({ length: Math.ceil(items.length / size) }, (_, i) => items.slice(i * size, (i + 1) * size))
}

/** The delivery of the job being handled; the last one marks an outage on the activities. */
export interface Attempt {
  readonly receiveCount: number
}

/** What the matcher said about one key the cache did not know. */
interface Outcome {
  readonly group: KeyGroup
  /** Completes once the key's page is claimed: only then are its activities keyed for the write. */
  readonly claimed: Effect.Effect<void, SqlError>
  readonly answer: Either.Either<MatchAnswer, MatcherUnavailable>
}

// Distinct inputs are read, keyed and claimed this many at a time: the job's memory is one page (plus
// the keys in flight), whatever the number of distinct descriptions in the file.
const INPUT_PAGE = 1_000
// Matcher answers are written in batches: one transaction per batch, not three statements per key,
// and still at least once a second so the upload page shows progress while a slow matcher answers.
const WRITE_BATCH = 250
const WRITE_EVERY = Duration.seconds(1)
// The upload's big writes (a page's claim, the answer batches' pricing) run this many at a time, each
// in its own transaction over its own activities: one UPDATE keeps one PostgreSQL backend busy, and
// the job's writes, not the matcher, are what an upload waits for once answers come in batches.
const WRITERS = 2

/**
 * The match job: cache first, then the AI matcher, then emissions, all per distinct match key and
 * set-based. One bounded stream: distinct inputs come from a cursor a page at a time, each page is
 * keyed, looked up in the cache and claimed in one statement, its misses go to the matcher with at
 * most MATCHER_CONCURRENCY requests of MATCHER_BATCH_SIZE keys in flight, and the answers are priced and written in batches. Memory
 * is flat in the number of keys: nothing per key outlives its batch.
 *
 * Idempotent: it only ever touches activities still 'ingested'/'matching' (plus those a matcher outage
 * left failed, so a replayed dead letter retries them), so redelivery never double-counts. A matcher
 * outage fails the job, so the queue retries it with backoff; on the last delivery the waiting
 * activities are marked failed with the reason before the job dead-letters.
 */
export class MatchUpload extends Effect.Service<MatchUpload>()("scopeline/MatchUpload", {
  effect: Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const repo = yield* MatchRepo
    const cache = yield* MatchCache
    const matcher = yield* AiMatcherClient
    const factors = yield* FactorsRepo
    const { maxReceives } = yield* QueueSettings
    const audit = yield* AuditLog
    const webhooks = yield* Webhooks
    // Activities that become calculated can take a site over its limit: checked in the same transaction.
    const siteLimits = yield* SiteLimits
    const gate = yield* ReviewGate
    const matchWorker = { service: "match-worker" }

    /** Keys one page of distinct inputs, prices its cache hits and claims its activities; returns its misses. */
    const claimPage = Effect.fn("MatchUpload.claimPage")(function* (uploadId: UploadId, inputs: Chunk.Chunk<MatchInput>) {
      const groups = new Map<string, KeyGroup>()
      const keyed = Chunk.toReadonlyArray(inputs).map((input) => {
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

      // ONE cache lookup for every key of the page.
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
            confidence: entry.confidence,
            // A cache hit carries the status of the decision it reuses.
            reviewStatus: gate.statusOf({ source: entry.source, confidence: entry.confidence === null ? null : Number(entry.confidence) }),
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
      return { misses, keys: groups.size, plans }
    })

    /** Prices a batch of answers and writes them (cache rows, emissions, failures) in one transaction. */
    const settleBatch = Effect.fn("MatchUpload.settleBatch")(function* (
      uploadId: UploadId,
      outcomes: Chunk.Chunk<Outcome>,
      lastAttempt: boolean,
    ) {
      // Usually long done: a page's claim runs while the matcher answers its first keys.
      yield* Effect.forEach(new Set(Chunk.map(outcomes, (outcome) => outcome.claimed)), (claimed) => claimed, { discard: true })
      const answered: Array<{ readonly group: KeyGroup; readonly answer: MatchAnswer }> = []
      const unavailable: Array<{ readonly group: KeyGroup; readonly error: MatcherUnavailable }> = []
      for (const { group, answer } of outcomes) {
        if (Either.isRight(answer)) answered.push({ group, answer: answer.right })
        else unavailable.push({ group, error: answer.left })
      }
      const refs = new Set<string>()
      for (const { answer } of answered) {
        if (answer.factorRef !== null) refs.add(answer.factorRef)
        for (const candidate of answer.candidates) refs.add(candidate.factorRef)
      }
      const byRef = yield* factors.findByRefs([...refs])

      const calculations: Array<Calculation> = []
      const failures: Array<Failure> = []
      const remembered: Array<AiAnswer> = []
      for (const { group, answer } of answered) {
        const factor = answer.factorRef === null ? undefined : byRef.get(answer.factorRef)
        if (answer.factorRef === null) {
          failures.push(noMatch(group, answer.reason ?? "the matcher found no factor"))
        } else if (factor === undefined) {
          failures.push(noMatch(group, `the matcher answered ${answer.factorRef}, which is not in the catalogue`))
        } else {
          const pricing = price(group, {
            id: factor.id,
            unit: factor.unit,
            name: factor.name,
            confidence: String(answer.confidence),
            reviewStatus: gate.statusOf({ source: "ai", confidence: answer.confidence }),
          })
          calculations.push(...pricing.calculations)
          failures.push(...pricing.failures)
          const candidates = candidateIds(knownCandidates(answer.candidates, byRef))
          remembered.push({ parts: group.parts, factorId: factor.id, confidence: answer.confidence, candidates })
        }
      }
      if (lastAttempt) {
        for (const { group, error } of unavailable) {
          failures.push({ key: group.parts.key, rawUnit: null, kind: "matcher_unavailable", reason: error.message })
        }
      }
      yield* retryDeadlocks(sql.withTransaction(
        Effect.all(
          [
            cache.recordAiAnswers(remembered),
            repo.calculate(uploadId, calculations, "ai"),
            repo.fail(uploadId, failures),
            calculations.length > 0 ? siteLimits.checkUpload(uploadId, matchWorker) : Effect.void,
          ],
          { discard: true },
        ),
      ))
      return unavailable.map(({ error }) => error)
    })

    const run = Effect.fn("MatchUpload.run")(
      function* (job: MatchJob, attempt: Attempt = { receiveCount: 1 }) {
        const uploadId = UploadId.make(job.uploadId)
        const lastAttempt = attempt.receiveCount >= maxReceives
        const tally = { activities: 0, fromCache: 0, keys: 0, matcherKeys: 0, unavailableKeys: 0 }
        let firstOutage: MatcherUnavailable | undefined
        let breakerOpen = false

        const claims: Array<Fiber.Fiber<void, SqlError>> = []
        // Claims are forked into the job's scope, not the stream stage's: a stage's scope closes as
        // soon as its element is emitted, which would interrupt the claim it started.
        const jobScope = yield* Scope.make()
        yield* repo.streamInputs(uploadId).pipe(
          Stream.grouped(INPUT_PAGE),
          Stream.mapEffect((page) =>
            Effect.gen(function* () {
              const { misses, keys, plans } = yield* claimPage(uploadId, page)
              // Keys, attempt bookkeeping and every cache hit priced, in one statement for the page,
              // running while the matcher already works on the page's misses: the upload's big write
              // overlaps the first round trips instead of delaying them.
              const claim = yield* Effect.forEach(
                split(plans, WRITERS),
                (part) =>
                  retryDeadlocks(sql.withTransaction(
                    repo.claim(uploadId, part).pipe(
                      Effect.tap((claimed) => (claimed.fromCache > 0 ? siteLimits.checkUpload(uploadId, matchWorker) : Effect.void)),
                    ),
                  )).pipe(
                    Effect.tap((claimed) =>
                      Effect.sync(() => {
                        tally.activities += claimed.claimed
                        tally.fromCache += claimed.fromCache
                      }),
                    ),
                  ),
                { concurrency: WRITERS, discard: true },
              ).pipe(Effect.forkIn(jobScope))
              claims.push(claim)
              tally.keys += keys
              tally.matcherKeys += misses.length
              const claimed = Fiber.join(claim)
              return misses.map((group) => ({ group, claimed }))
            }),
          ),
          Stream.flattenIterables,
          // The next page is read and keyed while the matcher still works on this one.
          Stream.buffer({ capacity: INPUT_PAGE }),
          // MATCHER_BATCH_SIZE keys per request (1 by default: one key, one request).
          Stream.grouped(matcher.batchSize),
          Stream.mapEffect(
            (batch) => {
              const misses = Chunk.toReadonlyArray(batch)
              return matcher
                .matchMany(
                  misses.map(({ group }) => ({
                    key: group.parts.key,
                    description: group.parts.description,
                    unit: group.parts.unit.symbol,
                    ...(group.parts.geography === null ? {} : { geography: group.parts.geography }),
                  })),
                )
                .pipe(Effect.map((answers) => misses.map(({ group, claimed }, i): Outcome => ({ group, claimed, answer: answers[i]! }))))
            },
            // Exactly as many requests in flight as the matcher takes: more would only wait for a
            // permit, so the keys waiting are at most MATCHER_CONCURRENCY × MATCHER_BATCH_SIZE.
            { concurrency: matcher.concurrency, unordered: true },
          ),
          Stream.flattenIterables,
          Stream.groupedWithin(WRITE_BATCH, WRITE_EVERY),
          Stream.mapEffect((batch) => settleBatch(uploadId, batch, lastAttempt), { concurrency: WRITERS }),
          Stream.runForEach((outages) =>
            Effect.sync(() => {
              tally.unavailableKeys += outages.length
              firstOutage ??= outages[0]
              breakerOpen ||= outages.some((error) => error.breakerOpen)
            }),
          ),
          // Pages without a miss are awaited here: every claim is done before the job is.
          Effect.zipRight(Effect.forEach(claims, Fiber.join, { discard: true })),
          Effect.onExit((exit) => Scope.close(jobScope, exit)),
        )

        // A redelivery after everything settled finds nothing to claim and logs nothing, but records the
        // settlement if no attempt did: the one that settled it commits its writes before that record and
        // may have failed or stopped in between, and a settled upload never has another attempt.
        if (tally.keys === 0 && tally.activities === 0) return yield* recordSettled(uploadId, tally, { unlessRecorded: true })
        yield* Effect.logInfo("upload matched").pipe(
          Effect.annotateLogs({
            ...tally,
            cacheHitKeys: tally.keys - tally.matcherKeys,
            activitiesFromCache: tally.fromCache,
          }),
        )
        if (firstOutage === undefined || lastAttempt) yield* recordSettled(uploadId, tally)
        if (firstOutage === undefined) return
        if (lastAttempt) yield* recordDeadLettered("match", uploadId, firstOutage)
        return yield* new MatcherUnavailable({
          message:
            `${tally.unavailableKeys} of ${tally.matcherKeys} match keys got no answer` +
            `${lastAttempt ? " (last attempt: their activities are marked failed)" : ""}. ${firstOutage.message}`,
          breakerOpen,
        })
      },
      (effect, job) => effect.pipe(withCorrelation(job.correlationId), Effect.annotateLogs({ uploadId: job.uploadId })),
    )

    /**
     * Matching settled (every activity calculated or failed): the upload's numbers are final. With
     * `unlessRecorded`, only when the log holds no settlement of the upload yet (deliveries of one
     * upload's job take turns on its lock for that check).
     */
    const recordSettled = (
      uploadId: UploadId,
      tally: { readonly keys: number; readonly matcherKeys: number },
      options: { readonly unlessRecorded?: boolean } = {},
    ) =>
      Effect.gen(function* () {
        yield* sql.withTransaction(
          Effect.gen(function* () {
            if (options.unlessRecorded === true) {
              yield* sql`SELECT pg_advisory_xact_lock(hashtext('upload_calculated'), hashtext(${uploadId}))`
              const [recorded] = yield* sql<{ found: boolean }>`
                SELECT EXISTS (SELECT 1 FROM audit_events WHERE object_id = ${uploadId} AND action = 'upload_calculated') AS found`
              if (recorded?.found === true) return
            }
            const counts = yield* sql<{ status: string; count: number }>`
              SELECT status, sum(activities)::int AS count FROM inventory_totals WHERE upload_id = ${uploadId} GROUP BY status`
            const byStatus = Object.fromEntries(counts.map((row) => [row.status, row.count]))
            const outcome = (byStatus.failed ?? 0) > 0 ? "failure" : "success"
            const event = yield* audit.record({
              category: "business",
              action: "upload_calculated",
              actor: { service: "match-worker" },
              object: { type: "upload", id: uploadId },
              outcome: { status: outcome },
              // A late record knows the activities, not the keys the settling attempt looked up.
              details: options.unlessRecorded === true ? { activities: byStatus } : { activities: byStatus, keys: tally.keys, matcher_keys: tally.matcherKeys },
            })
            yield* webhooks.publish({ type: "upload.calculated", key: `upload:${uploadId}:${event.event_id}`, payload: { upload_id: uploadId, activities: byStatus } })
          }),
        )
      }).pipe(Effect.orDie)

    return { run }
  }),
  dependencies: [MatchRepo.Default, MatchCache.Default, AiMatcherClient.Default, FactorsRepo.Default, QueueSettings.Default, ReviewGate.Default],
}) {}
