import { SqlClient } from "@effect/sql"
import { retryDeadlocks } from "@scopeline/sql/Deadlocks"
import { conversionRatio, EmissionFactorId, FactorsRepo, parseUnit, type Unit } from "@scopeline/catalogue"
import { AuditLog } from "@scopeline/events"
import { SiteLimits } from "@scopeline/sites"
import { Effect, Either, Option, Schema } from "effect"
import { AiMatcherClient } from "./AiMatcherClient.ts"
import { ActivityNotFound, ManualDecisionHolds, MatcherNotAnswering, NotDecidable, NothingToAccept, UnitIncompatible, UnknownFactor } from "./errors.ts"
import { candidateIds, knownCandidates, MatchCache } from "./MatchCache.ts"
import { matchKey, type MatchKeyParts } from "./matchKey.ts"
import { MatchRepo, type UnitRatio } from "./MatchRepo.ts"
import { ReviewGate } from "./ReviewGate.ts"
import { type DecidableActivity, type QueueKey, ReviewRepo } from "./ReviewRepo.ts"

/** Who decides: a signed-in person (decisions are never made by API keys). */
export interface Decider {
  readonly userId: string
  readonly role: string
}

export const AppliesTo = Schema.Literal("key", "activity")
export type AppliesTo = typeof AppliesTo.Type

/** `POST /v1/activities/:id/decision`: choose a factor, or accept the one the matcher chose. */
export const DecisionRequest = Schema.Union(
  Schema.Struct({
    factor_id: EmissionFactorId,
    // One or the other: a body with both is refused rather than one of them silently ignored.
    accept: Schema.optional(Schema.Never),
    applies_to: Schema.optionalWith(AppliesTo, { default: () => "key" as const }),
    note: Schema.optional(Schema.String.pipe(Schema.maxLength(2000))),
  }),
  Schema.Struct({
    accept: Schema.Literal(true),
    factor_id: Schema.optional(Schema.Never),
    applies_to: Schema.optionalWith(AppliesTo, { default: () => "key" as const }),
    note: Schema.optional(Schema.String.pipe(Schema.maxLength(2000))),
  }),
).annotations({ identifier: "DecisionRequest" })
export type DecisionRequest = typeof DecisionRequest.Type

interface ChosenFactor {
  readonly id: string
  readonly ref: string
  readonly name: string
  readonly unit: string
}

const ACTIVITY_NOT_FOUND = () => new ActivityNotFound({ message: "There is no activity with this id." })

/** The activity's unit and key, or why no factor can be decided for it. */
const decidable = (activity: DecidableActivity): Effect.Effect<{ readonly unit: Unit; readonly parts: Option.Option<MatchKeyParts> }, NotDecidable> => {
  if (activity.status === "ingested" || activity.status === "matching") {
    return Effect.fail(new NotDecidable({ message: "This activity is still being matched: decide once its upload is calculated." }))
  }
  if (activity.quantity === null || activity.failureKind === "invalid") {
    return Effect.fail(new NotDecidable({ message: "This activity has no usable quantity: correct the file and upload it again." }))
  }
  const unit = activity.rawUnit === null ? Option.none() : parseUnit(activity.rawUnit)
  if (Option.isNone(unit)) {
    return Effect.fail(new NotDecidable({ message: `The unit "${activity.rawUnit ?? ""}" is not one Scopeline can convert, so no factor can apply.` }))
  }
  return Effect.succeed({ unit: unit.value, parts: matchKey(activity.description, activity.rawUnit!, activity.geography) })
}

/** The exact ratio of each unit spelling to the factor's unit, or the reason the factor cannot apply. */
const ratiosFor = (activityUnit: Unit, rawUnits: ReadonlyArray<string>, factor: ChosenFactor) => {
  const factorUnit = parseUnit(factor.unit)
  const incompatible = (why: string) =>
    new UnitIncompatible({
      message: `"${factor.name}" cannot apply: ${why}`,
      details: { activity_unit: activityUnit.symbol, activity_dimension: activityUnit.dimension, factor_unit: factor.unit },
    })
  if (Option.isNone(factorUnit)) return Effect.fail(incompatible(`it is per "${factor.unit}", a unit Scopeline cannot convert.`))
  const ratios: Array<UnitRatio> = []
  for (const rawUnit of rawUnits) {
    const unit = parseUnit(rawUnit)
    if (Option.isNone(unit)) continue
    const ratio = conversionRatio(unit.value, factorUnit.value)
    if (Either.isLeft(ratio)) {
      return Effect.fail(
        incompatible(
          `it is per ${factorUnit.value.symbol} (${factorUnit.value.dimension}) and the activity is in ${unit.value.name} ` +
            `(${unit.value.dimension}). Choose a factor measured in ${unit.value.dimension}.`,
        ),
      )
    }
    ratios.push({ rawUnit, ratioNum: ratio.right.num.toString(), ratioDen: ratio.right.den.toString() })
  }
  return Effect.succeed(ratios)
}

/** `after` of the review queue, as clients echo it: base64url of [kg, key]. */
export const encodeQueueCursor = (key: QueueKey): string => Buffer.from(JSON.stringify([key.kg, key.key]), "utf8").toString("base64url")
// A key is a normalised description and unit: never a NUL (which PostgreSQL's text refuses) nor longer than a description can make it.
const CursorKey = Schema.String.pipe(Schema.maxLength(2000), Schema.filter((key) => !key.includes("\u0000")))
const QueueCursorJson = Schema.parseJson(Schema.Tuple(Schema.String.pipe(Schema.maxLength(40), Schema.pattern(/^-?\d+(\.\d+)?$/)), CursorKey))
export const decodeQueueCursor = (text: string): Option.Option<QueueKey> =>
  /^[\w-]+$/.test(text)
    ? Option.map(Schema.decodeUnknownOption(QueueCursorJson)(Buffer.from(text, "base64url").toString("utf8")), ([kg, key]) => ({ kg, key }))
    : Option.none()

/**
 * People reviewing the matcher's work: the queue of keys that need a person, a decision on a key (every
 * activity with it, in every upload, now and later) or on one row, a fresh answer of the matcher, and
 * each activity's history. Every change and its audit event commit together.
 */
export class Review extends Effect.Service<Review>()("scopeline/Review", {
  effect: Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const repo = yield* MatchRepo
    const reviews = yield* ReviewRepo
    const factors = yield* FactorsRepo
    const cache = yield* MatchCache
    const audit = yield* AuditLog
    const gate = yield* ReviewGate
    const matcher = yield* AiMatcherClient
    const siteLimits = yield* SiteLimits

    const activityOf = (id: string) =>
      reviews.activity(id).pipe(Effect.flatMap(Option.match({ onNone: () => Effect.fail(ACTIVITY_NOT_FOUND()), onSome: Effect.succeed })))

    /**
     * Decisions and re-matches of one key take turns: each re-reads the activity under a transaction
     * lock on its key, so what it records (the factor it replaces, the factor it accepts) is what it
     * changed, however many people decide at once.
     */
    const lockKeyOf = (activityId: string) =>
      Effect.gen(function* () {
        const first = yield* activityOf(activityId)
        yield* sql`SELECT pg_advisory_xact_lock(hashtextextended(${`review:${first.matchKey ?? first.id}`}, 0))`
        return yield* activityOf(activityId)
      })

    const decide = Effect.fn("Review.decide")(function* (activityId: string, request: DecisionRequest, decider: Decider) {
      return yield* retryDeadlocks(sql.withTransaction(
        Effect.gen(function* () {
          const activity = yield* lockKeyOf(activityId)
          const { unit, parts } = yield* decidable(activity)
          const appliesTo = request.applies_to
          // accept: the factor this activity has now, read under the lock.
          const factorId = request.factor_id ?? activity.factorId
          if (factorId === null) {
            return yield* new NothingToAccept({ message: "This activity has no factor to accept: choose one (factor_id)." })
          }
          const factor = yield* factors.findById(EmissionFactorId.make(factorId)).pipe(
            Effect.flatMap(
              Option.match({
                onNone: () => Effect.fail(new UnknownFactor({ message: "There is no emission factor with this id.", details: [{ path: "factor_id", message: "not in the catalogue" }] })),
                onSome: Effect.succeed,
              }),
            ),
          )
          const key = appliesTo === "key" ? Option.getOrNull(parts) : null
          if (appliesTo === "key" && key === null) {
            return yield* new NotDecidable({ message: "This activity has no match key: decide it with applies_to \"activity\"." })
          }
          // The addressed row is always part of its own decision, even when it had one of its own before.
          const rawUnits = key === null ? [activity.rawUnit!] : [...new Set([activity.rawUnit!, ...(yield* reviews.rawUnitsOfKey(key.key))])]
          const ratios = yield* ratiosFor(unit, rawUnits, factor)
          const note = request.note?.trim() || null
          const changed = yield* repo.reprice({
            target: key === null ? { activityId: activity.id } : { key: key.key, including: activity.id },
            factorId: factor.id,
            ratios,
            source: "manual",
            confidence: null,
            reviewStatus: "reviewed",
            decisionScope: appliesTo,
            changedBy: decider.userId,
            note,
          })
          if (key !== null) {
            yield* reviews.writeManual({
              key: key.key,
              descriptionNormalised: key.description,
              unit: key.unit.symbol,
              geography: key.geography,
              factorId: factor.id,
              decidedBy: decider.userId,
              note,
            })
          }
          for (const uploadId of changed.uploadIds) yield* siteLimits.checkUpload(uploadId, decider)
          const event = yield* audit.record({
            category: "business",
            action: "match_decided",
            actor: decider,
            object: key === null ? { type: "activity", id: activity.id } : { type: "match_key", id: key.key },
            details: {
              activity_id: activity.id,
              match_key: activity.matchKey,
              applies_to: appliesTo,
              accepted: request.accept === true,
              from_factor_id: activity.factorId,
              factor_id: factor.id,
              factor_ref: factor.ref,
              activities_updated: changed.updated,
              note,
            },
          })
          return {
            decision: {
              activity_id: activity.id,
              match_key: activity.matchKey,
              applies_to: appliesTo,
              factor: { id: factor.id, ref: factor.ref, name: factor.name, unit: factor.unit },
              note,
              decided_by: decider.userId,
              decided_at: event.timestamp,
            },
            activities_updated: changed.updated,
          }
        }),
      )).pipe(Effect.catchTag("SqlError", Effect.die))
    })

    const rematch = Effect.fn("Review.rematch")(function* (activityId: string, decider: Decider) {
      const activity = yield* activityOf(activityId)
      const { unit, parts } = yield* decidable(activity)
      if (Option.isNone(parts)) return yield* new NotDecidable({ message: "This activity has no match key to match again." })
      const key = parts.value
      if (activity.cacheSource === "manual") {
        return yield* new ManualDecisionHolds({
          message: "A person decided the factor for this key; change that decision instead of asking the matcher again.",
          details: { match_key: key.key },
        })
      }
      const [answer] = yield* matcher.matchMany(
        [{ key: key.key, description: key.description, unit: key.unit.symbol, ...(key.geography === null ? {} : { geography: key.geography }) }],
        { fresh: true },
      )
      if (answer === undefined || Either.isLeft(answer)) {
        return yield* new MatcherNotAnswering({ message: `The matcher did not answer: ${answer === undefined ? "no result" : answer.left.message}. Nothing was changed; try again later.` })
      }
      const reply = answer.right
      const known = yield* factors.findByRefs([reply.factorRef, ...reply.candidates.map((c) => c.factorRef)].filter((ref): ref is string => ref !== null))
      const factor = reply.factorRef === null ? undefined : known.get(reply.factorRef)
      const candidates = knownCandidates(reply.candidates, known)
      const reviewStatus = gate.statusOf({ source: "ai", confidence: reply.confidence })
      const ratios = factor === undefined ? [] : yield* ratiosFor(unit, yield* reviews.rawUnitsOfKey(key.key), factor)
      return yield* retryDeadlocks(sql.withTransaction(
        Effect.gen(function* () {
          // The matcher was asked outside the transaction (it is slow); a person may have decided meanwhile.
          const current = yield* lockKeyOf(activityId)
          if (current.cacheSource === "manual") {
            return yield* new ManualDecisionHolds({ message: "A person decided the factor for this key meanwhile; nothing was changed.", details: { match_key: key.key } })
          }
          const changed =
            factor === undefined
              ? { updated: 0, uploadIds: [] as ReadonlyArray<string> }
              : yield* repo.reprice({
                  target: { key: key.key },
                  factorId: factor.id,
                  ratios,
                  source: "ai",
                  confidence: String(reply.confidence),
                  reviewStatus,
                  decisionScope: null,
                  changedBy: decider.userId,
                  note: "matched again",
                })
          if (factor !== undefined) yield* cache.recordAiAnswers([{ parts: key, factorId: factor.id, confidence: reply.confidence, candidates: candidateIds(candidates) }])
          for (const uploadId of changed.uploadIds) yield* siteLimits.checkUpload(uploadId, decider)
          yield* audit.record({
            category: "business",
            action: "match_rematched",
            actor: decider,
            object: { type: "match_key", id: key.key },
            details: { activity_id: activity.id, factor_ref: reply.factorRef, confidence: reply.confidence, activities_updated: changed.updated },
          })
          return {
            match: {
              match_key: key.key,
              factor: factor === undefined ? null : { id: factor.id, ref: factor.ref, name: factor.name, unit: factor.unit },
              confidence: reply.confidence,
              review_status: factor === undefined ? null : reviewStatus,
              reason: reply.reason,
              candidates: candidates.map(({ factor: f, confidence }) => ({ factor: { id: f.id, ref: f.ref, name: f.name, unit: f.unit }, confidence })),
            },
            activities_updated: changed.updated,
          }
        }),
      )).pipe(Effect.catchTag("SqlError", Effect.die))
    })

    const queue = Effect.fn("Review.queue")(function* (limit: number, after: QueueKey | null) {
      const rows = yield* reviews.queue(limit + 1, after)
      const page = rows.slice(0, limit)
      const last = page[page.length - 1]
      return { items: page, next: rows.length > limit && last ? { kg: last.kgCo2e, key: last.matchKey } : null }
    })

    const history = Effect.fn("Review.history")(function* (activityId: string) {
      yield* activityOf(activityId)
      return yield* reviews.history(activityId)
    })

    return { decide, rematch, queue, history }
  }),
  dependencies: [MatchRepo.Default, ReviewRepo.Default, FactorsRepo.Default, MatchCache.Default, ReviewGate.Default, AiMatcherClient.Default],
}) {}
