import { SqlClient } from "@effect/sql"
import { retryDeadlocks } from "@scopeline/sql/Deadlocks"
import { conversionRatio, parseUnit } from "@scopeline/catalogue"
import { AuditLog } from "@scopeline/events"
import { withCorrelation } from "@scopeline/settings/Correlation"
import { Cause, Duration, Effect, Either, Option, Schedule } from "effect"
import type { Restatement } from "./Recalculation.ts"
import { type Claimed, type PairPlan, RecalculationsRepo, type Scope, type UnitPair } from "./RecalculationsRepo.ts"

/**
 * Whether a quantity priced on `fromUnit` can be priced on the target row's `toUnit` as it was:
 * only when the row is per the same unit. A row that changed its unit (kWh net to gross CV, litres
 * to kWh) measures something else, even where the registry can convert between the two spellings.
 */
const sameUnit = (fromUnit: string, toUnit: string) => {
  const from = parseUnit(fromUnit)
  const to = parseUnit(toUnit)
  return Option.isSome(from) && Option.isSome(to) ? from.value.symbol === to.value.symbol : fromUnit.trim().toLowerCase() === toUnit.trim().toLowerCase()
}

/** The exact ratio of each pair from the unit registry (TypeScript holds it, as in the match job), or why there is none. */
export const planUnits = (pairs: ReadonlyArray<UnitPair>): ReadonlyArray<PairPlan> =>
  pairs.map((pair): PairPlan => {
    if (!sameUnit(pair.fromUnit, pair.toUnit)) return { ...pair, reason: "unit_changed" }
    const raw = parseUnit(pair.rawUnit)
    const to = parseUnit(pair.toUnit)
    if (Option.isNone(raw) || Option.isNone(to)) return { ...pair, reason: "unit_unknown" }
    const ratio = conversionRatio(raw.value, to.value)
    if (Either.isLeft(ratio)) return { ...pair, reason: "unit_unknown" }
    return { ...pair, ratioNum: ratio.right.num.toString(), ratioDen: ratio.right.den.toString() }
  })

/** The totals rows of RecalculationsRepo.totals, as the restatement shows them. */
const restatementOf = (
  factorSet: string,
  counts: Effect.Effect.Success<ReturnType<RecalculationsRepo["counts"]>>,
  totals: Effect.Effect.Success<ReturnType<RecalculationsRepo["totals"]>>,
): Restatement => {
  const amounts = (row: (typeof totals)[number]) => ({ before_kg_co2e: row.beforeKg, after_kg_co2e: row.afterKg, change_kg_co2e: row.changeKg })
  const total = totals.find((row) => row.noScope === 1 && row.noCategory === 1)
  const byScope = totals.filter((row) => row.noScope === 0 && row.noCategory === 1)
  const byCategory = totals.filter((row) => row.noScope === 1 && row.noCategory === 0 && row.category !== null)
  const order = (a: number | null, b: number | null) => (a ?? 99) - (b ?? 99)
  const unmapped = counts.notInSet + counts.unitChanged + counts.unitUnknown + counts.tooLarge
  return {
    factor_set: factorSet,
    counts: {
      calculated: counts.calculated,
      in_scope: counts.inScope,
      changed: counts.changed,
      emissions_changed: counts.emissionsChanged,
      already_on_set: counts.alreadyOnSet,
      unmapped,
      unmapped_by_reason: {
        not_in_set: counts.notInSet,
        unit_changed: counts.unitChanged,
        unit_unknown: counts.unitUnknown,
        too_large: counts.tooLarge,
      },
      other_sources: counts.otherSources,
    },
    totals: {
      unit: "kg CO2e",
      total: total === undefined ? { before_kg_co2e: "0", after_kg_co2e: "0", change_kg_co2e: "0" } : amounts(total),
      by_scope: byScope.sort((a, b) => order(a.scope, b.scope)).map((row) => ({ scope: row.scope, ...amounts(row) })),
      by_scope3_category: byCategory.sort((a, b) => order(a.category, b.category)).map((row) => ({ category: row.category!, ...amounts(row) })),
    },
  }
}

/**
 * One claimed recalculation, start to end. Everything it finds and changes is one transaction: the
 * plan, the unmapped list, the activities' new factor and emissions, their history rows, the audit
 * event and the result, so a restatement is applied whole or not at all. A preview runs the same
 * transaction up to the result and writes no activity, history or event.
 */
export const runRecalculation = Effect.fn("RunRecalculation.run")(function* ({ recalculation, lease }: Claimed) {
  const sql = yield* SqlClient.SqlClient
  const repo = yield* RecalculationsRepo
  const audit = yield* AuditLog
  const [source, yearText] = recalculation.factorSet.split(":") as [string, string]
  const scope: Scope = { id: recalculation.id, source, year: Number(yearText), uploadId: recalculation.uploadId }

  const activities = yield* repo.countToMove(scope)
  yield* repo.setPhase(recalculation.id, lease, "writing", activities)

  const result = yield* Effect.gen(function* () {
    if (!recalculation.preview) yield* repo.lockForApply(scope)
    const pairs = planUnits(yield* repo.unitPairs(scope))
    yield* repo.plan(scope, pairs)
    const counts = yield* repo.counts(scope)
    const restatement = restatementOf(recalculation.factorSet, counts, yield* repo.totals(scope))
    yield* repo.recordUnmapped(scope, recalculation.factorSet)
    if (!recalculation.preview) {
      const note = `restated on ${recalculation.factorSet}`
      yield* repo.apply(scope, recalculation.requestedBy, note)
      yield* audit.record({
        category: "business",
        action: "recalculation_applied",
        actor: {
          ...(recalculation.requestedBy === null ? {} : { userId: recalculation.requestedBy }),
          ...(recalculation.requestedRole === null ? {} : { role: recalculation.requestedRole }),
        },
        object: { type: "recalculation", id: recalculation.id },
        details: {
          factor_set: recalculation.factorSet,
          upload_id: recalculation.uploadId,
          changed: restatement.counts.changed,
          unmapped: restatement.counts.unmapped,
          other_sources: restatement.counts.other_sources,
          total_before_kg_co2e: restatement.totals.total.before_kg_co2e,
          total_after_kg_co2e: restatement.totals.total.after_kg_co2e,
        },
      })
    }
    yield* repo.finish(recalculation.id, lease, restatement)
    return restatement
  }).pipe(sql.withTransaction, retryDeadlocks)
  yield* Effect.logInfo("recalculation done").pipe(
    Effect.annotateLogs({ recalculation: recalculation.id, preview: recalculation.preview, ...result.counts }),
  )
  return result
})

/**
 * One round: claim the oldest queued recalculation (FOR UPDATE SKIP LOCKED, so workers never take
 * the same one) and run it with its claim renewed meanwhile. A run that fails is marked failed with
 * a message, its transaction rolled back: nothing of it was applied.
 */
export const runDueRecalculation = Effect.gen(function* () {
  const repo = yield* RecalculationsRepo
  const claimed = yield* repo.claim()
  if (claimed === undefined) return false
  const { id } = claimed.recalculation
  const renewing = repo.renew(id, claimed.lease).pipe(
    Effect.catchAllCause(() => Effect.succeed(true)),
    Effect.repeat(Schedule.spaced(Duration.seconds(20))),
  )
  // Renewed from outside the run's transaction, on a connection of its own.
  const run = Effect.scoped(Effect.forkScoped(renewing).pipe(Effect.zipRight(runRecalculation(claimed))))
  yield* run.pipe(
    Effect.catchAllCause((cause) =>
      Cause.isInterruptedOnly(cause)
        ? Effect.failCause(cause)
        : Effect.logWarning("recalculation failed; nothing was applied", cause).pipe(
            Effect.zipRight(repo.fail(id, claimed.lease, "The recalculation failed and nothing was changed; the problem was logged. Start it again.")),
          ),
    ),
    withCorrelation(claimed.recalculation.correlationId),
  )
  return true
}).pipe(Effect.withSpan("RunRecalculation.round"))

/**
 * The recalculation worker, for the life of a worker process: a round every 500 ms, at once again
 * after one that ran something. Recalculations are rows in PostgreSQL, so every worker may run them.
 */
export const runRecalculations = Effect.gen(function* () {
  const round = runDueRecalculation.pipe(
    Effect.catchAllCause((cause) => Effect.logWarning("recalculation round failed; will retry", cause).pipe(Effect.as(false))),
  )
  yield* round.pipe(
    Effect.flatMap((ran) => (ran ? Effect.void : Effect.sleep(Duration.millis(500)))),
    Effect.forever,
  )
}).pipe(Effect.provide(RecalculationsRepo.Default), Effect.withSpan("RunRecalculation.loop"))
