import { SqlClient, SqlSchema } from "@effect/sql"
import { type ActorInput, AuditLog } from "@scopeline/events"
import type { SqlError } from "@effect/sql/SqlError"
import { Data, Effect, Either, Option, Schema } from "effect"
import { isCalendarInstant, readableProblems } from "@scopeline/ui/decode"
import { BatchTooLarge, MeasurementsInvalid, SiteNotFound } from "./errors.ts"
import { GAS_ALIASES, Gases, type Gwp } from "./Gases.ts"
import { type SiteId, THRESHOLDS } from "./Site.ts"
import { RaisedAlert, SiteLimits } from "./SiteLimits.ts"

/** The most items one request may carry: a device or integration sends more as several batches. */
export const MAX_BATCH = 1000

/** How far ahead of the server's clock a reading may be dated (devices' clocks drift). */
const FUTURE_SLACK_MS = 5 * 60_000
const EARLIEST = Date.UTC(1990, 0, 1)

// A time zone is required: "2026-03-01T10:00:00" means a different instant on every device.
const INSTANT = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,3})?)?(?:Z|[+-](\d{2}):(\d{2}))$/

const Timestamp = Schema.String.pipe(
  Schema.pattern(INSTANT, { message: () => "must be an ISO 8601 date-time with a time zone, e.g. 2026-03-01T10:00:00Z (milliseconds at most)" }),
  // Not rolled over: 2026-02-30 would otherwise move a reading into another day, period and once-only key.
  Schema.filter((text) => isCalendarInstant(text) || "is not a real date and time"),
  Schema.compose(Schema.DateFromString),
  Schema.filter((at) => Number.isFinite(at.getTime()) || "is not a real date and time"),
  Schema.filter((at) => at.getTime() >= EARLIEST || "is before 1990"),
  Schema.filter((at) => at.getTime() <= Date.now() + FUTURE_SLACK_MS || "is in the future"),
)

export const MeasurementUnit = Schema.Literal("g", "kg", "t")

/** One item of a batch, as a device sends it. */
export const MeasurementInput = Schema.Struct({
  timestamp: Timestamp,
  gas: Schema.String.pipe(Schema.minLength(1, { message: () => "is empty" }), Schema.maxLength(100)),
  quantity: Schema.Number.pipe(
    Schema.finite({ message: () => "must be a finite number" }),
    Schema.nonNegative({ message: () => "must be zero or more" }),
    Schema.lessThanOrEqualTo(1e12, { message: () => "must be at most 1e12" }),
  ),
  unit: Schema.Union(MeasurementUnit, Schema.String).pipe(
    Schema.filter((unit) => unit === "g" || unit === "kg" || unit === "t" || "must be g, kg or t"),
  ),
  device_id: Schema.optional(Schema.String.pipe(Schema.minLength(1, { message: () => "is empty" }), Schema.maxLength(200))),
  method: Schema.optional(Schema.String.pipe(Schema.maxLength(200))),
})

/** Body of POST /v1/sites/:id/measurements (for the OpenAPI document; the route checks items one by one). */
export const MeasurementsRequest = Schema.Struct({
  measurements: Schema.Array(MeasurementInput).pipe(Schema.minItems(1), Schema.maxItems(MAX_BATCH)),
})

export const MeasurementsResult = Schema.Struct({
  accepted: Schema.Number,
  duplicates: Schema.Number,
  results: Schema.Array(Schema.Struct({ index: Schema.Number, status: Schema.Literal("accepted", "duplicate") })),
})
export type MeasurementsResult = typeof MeasurementsResult.Type

/** An item that passed every check, with the GWP it will be stored with. */
export interface ValidMeasurement {
  readonly timestamp: Date
  readonly gas: string
  readonly quantity: number
  readonly unit: "g" | "kg" | "t"
  readonly deviceId: string | null
  readonly method: string | null
  readonly gwp: Gwp
}

export interface ItemProblem {
  readonly index: number
  readonly field: string | null
  readonly path: string
  readonly message: string
}

const decodeItem = Schema.decodeUnknownEither(MeasurementInput, { errors: "all", onExcessProperty: "ignore" })
const canonicalName = new Map(Object.entries(GAS_ALIASES).map(([alias, name]) => [name, alias]))

/** What measurements_record answers: the site (or not), the 1-based positions stored, their periods, the alerts raised. */
const Stored = Schema.Struct({
  siteFound: Schema.Boolean,
  siteCode: Schema.NullOr(Schema.String),
  inserted: Schema.Array(Schema.Int),
  periods: Schema.Array(Schema.String),
  // The JSON's snake_case keys come back camelCase through the client's name transform, as columns do.
  alerts: Schema.Array(RaisedAlert),
})

/** The batch raised an alert, so its one statement refused: it is written again in a transaction. */
class AlertsNeedTransaction extends Data.TaggedError("AlertsNeedTransaction") {}

/** measurements_record's refusal of a batch that raised an alert (SQLSTATE SLA01, migration 0055). */
const raisedAlerts = (error: SqlError) => {
  const cause = error.cause as { readonly code?: unknown } | null | undefined
  return cause?.code === "SLA01"
}

const keyOf = (deviceId: string | null, gas: string, ms: number | string) => `${deviceId === null ? "\u0001" : `d${deviceId}`}\u0000${gas}\u0000${ms}`

/**
 * The measurement ingest: a batch is checked whole (one bad item refuses all of it), then stored in
 * ONE statement with the site's running totals, its limit check and its audit event (in a
 * transaction with the alerts' events when it raises an alert). The site row
 * is locked first, so concurrent batches for one site queue instead of losing an update, and the
 * unique key (site, device, gas, timestamp) makes every retry and overlap a duplicate.
 */
export class Measurements extends Effect.Service<Measurements>()("scopeline/Measurements", {
  effect: Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const gases = yield* Gases
    const limits = yield* SiteLimits
    const audit = yield* AuditLog

    /** The body's items, each checked; a 413 above MAX_BATCH, a 400 naming every bad index, field and reason. */
    const validate = Effect.fn("Measurements.validate")(function* (body: unknown) {
      const items = typeof body === "object" && body !== null && !Array.isArray(body) ? (body as { measurements?: unknown }).measurements : undefined
      if (!Array.isArray(items)) {
        return yield* new MeasurementsInvalid({
          message: "The body must be {\"measurements\": [...]}.",
          details: [{ index: null, field: null, path: "measurements", message: "must be an array of 1 to 1000 measurements" }],
        })
      }
      if (items.length > MAX_BATCH) {
        return yield* new BatchTooLarge({
          message: `A batch holds at most ${MAX_BATCH} measurements; this one has ${items.length}. Send them as several batches. Nothing was stored.`,
          details: { max_items: MAX_BATCH, items: items.length },
        })
      }
      if (items.length === 0) {
        return yield* new MeasurementsInvalid({
          message: "The batch is empty.",
          details: [{ index: null, field: null, path: "measurements", message: "must hold 1 to 1000 measurements" }],
        })
      }
      const gwpOf = yield* gases.table
      const problems: Array<ItemProblem> = []
      const valid: Array<ValidMeasurement> = []
      for (const [index, item] of items.entries()) {
        const decoded = decodeItem(item)
        const gasText = typeof item === "object" && item !== null ? (item as { gas?: unknown }).gas : undefined
        // Checked even when other fields are wrong, so one answer lists every problem of the item.
        const gwp = typeof gasText === "string" && gasText.length > 0 && gasText.length <= 100 ? gwpOf(gasText) : undefined
        if (typeof gasText === "string" && gasText.length > 0 && gasText.length <= 100 && gwp === undefined) {
          problems.push({
            index,
            field: "gas",
            path: `measurements.${index}.gas`,
            message: "is not a gas of the factor set in use: CO2, CH4, N2O or a DESNZ refrigerant such as HFC-134a or R404A",
          })
        }
        if (Either.isLeft(decoded)) {
          for (const issue of readableProblems(decoded.left)) {
            problems.push({
              index,
              field: issue.path === "" ? null : issue.path.split(".")[0]!,
              path: issue.path === "" ? `measurements.${index}` : `measurements.${index}.${issue.path}`,
              message: issue.message,
            })
          }
          continue
        }
        if (gwp === undefined) continue
        valid.push({
          timestamp: decoded.right.timestamp,
          gas: canonicalName.get(gwp.gas) ?? gwp.gas,
          quantity: decoded.right.quantity,
          unit: decoded.right.unit as "g" | "kg" | "t",
          deviceId: decoded.right.device_id ?? null,
          method: decoded.right.method ?? null,
          gwp,
        })
      }
      if (problems.length > 0) {
        const bad = new Set(problems.map((p) => p.index)).size
        return yield* new MeasurementsInvalid({
          message: `${bad} of ${items.length} measurements are invalid; nothing of the batch was stored.`,
          // Every problem: at most a few per item, and at most MAX_BATCH items.
          details: problems,
        })
      }
      return valid
    })

    const arrays = (siteId: SiteId, rows: ReadonlyArray<ValidMeasurement>, by: string) => sql`
      ${siteId}::uuid, ${rows.map((r) => r.deviceId)}::text[], ${rows.map((r) => r.gas)}::text[],
      ${rows.map((r) => r.timestamp.toISOString())}::timestamptz[], ${rows.map((r) => String(r.quantity))}::numeric[],
      ${rows.map((r) => r.unit)}::text[], ${rows.map((r) => r.method)}::text[],
      ${rows.map((r) => r.gwp.gwp)}::numeric[], ${rows.map((r) => r.gwp.ref)}::text[], ${by}, ${THRESHOLDS}::int[]`

    /**
     * The lock, the readings, the totals and the limit check in one call (migration 0054). With
     * `audit`, the call also stores the batch's event (migration 0055) and so is the whole write, one
     * statement and its own transaction; it refuses (`AlertsNeedTransaction`) a batch that raised an alert.
     */
    const store = (
      siteId: SiteId,
      rows: ReadonlyArray<ValidMeasurement>,
      by: string,
      audit: { readonly json: string; readonly items: number } | null,
    ) =>
      SqlSchema.single({
        Request: Schema.Void,
        Result: Stored,
        execute: () =>
          audit === null
            ? sql`SELECT site_found, site_code, inserted, periods, alerts FROM measurements_record(${arrays(siteId, rows, by)})`
            : sql`SELECT site_found, site_code, inserted, periods, alerts
                  FROM measurements_record(${arrays(siteId, rows, by)}, ${audit.json}::jsonb, ${audit.items}::int)`,
      })(undefined).pipe(
        Effect.catchTag("SqlError", (error) => (raisedAlerts(error) ? new AlertsNeedTransaction() : Effect.die(error))),
        Effect.catchTags({ ParseError: Effect.die, NoSuchElementException: Effect.die }),
      )

    /** Stores a validated batch; the answer says, per index, whether it was new or already stored. */
    const record = Effect.fn("Measurements.record")(function* (
      siteId: SiteId,
      items: ReadonlyArray<ValidMeasurement>,
      actor: ActorInput,
    ) {
      const by = actor.userId ?? actor.service ?? "unknown"
      // The first of several items with one key is the reading; the others repeat it.
      const seen = new Set<string>()
      const unique: Array<{ readonly index: number; readonly item: ValidMeasurement }> = []
      items.forEach((item, index) => {
        const key = keyOf(item.deviceId, item.gas, item.timestamp.getTime())
        if (seen.has(key)) return
        seen.add(key)
        unique.push({ index, item })
      })
      const rows = unique.map((u) => u.item)
      const event = {
        category: "business",
        action: "measurements_recorded",
        actor,
        object: { type: "site", id: siteId },
      } as const
      const answer = (stored: typeof Stored.Type) => {
        if (!stored.siteFound) return Effect.fail(new SiteNotFound({ message: "There is no site with this id." }))
        const accepted = new Set(stored.inserted.map((position) => unique[position - 1]!.index))
        const results = items.map((_, index) => ({ index, status: accepted.has(index) ? ("accepted" as const) : ("duplicate" as const) }))
        return Effect.succeed({ accepted: accepted.size, duplicates: items.length - accepted.size, results } satisfies MeasurementsResult)
      }

      // Nearly every batch: one statement, which stores the event with the batch's counts itself. Only
      // outside a transaction: inside one, the statement's refusal would abort the caller's work too.
      const inTransaction = Option.isSome(yield* Effect.serviceOption(SqlClient.TransactionConnection))
      if (!inTransaction) {
        const prepared = yield* audit.prepare(event)
        const alone = yield* store(siteId, rows, by, { json: prepared.json, items: items.length }).pipe(
          Effect.map(Option.some),
          Effect.catchTag("AlertsNeedTransaction", () => Effect.succeed(Option.none())),
        )
        if (Option.isSome(alone)) return yield* answer(alone.value)
      }

      // A batch that crosses a threshold (and those racing it for the same site while it does): again,
      // in a transaction with the alerts' events and webhook deliveries.
      return yield* sql.withTransaction(
        Effect.gen(function* () {
          const stored = yield* store(siteId, rows, by, null).pipe(Effect.catchTag("AlertsNeedTransaction", Effect.die))
          const result = yield* answer(stored)
          yield* limits.announce({ id: siteId, code: stored.siteCode ?? "" }, stored.alerts, actor)
          yield* audit.record({
            ...event,
            details: { accepted: result.accepted, duplicates: result.duplicates, periods: stored.periods, alerts: stored.alerts.map((a) => a.id) },
          })
          return result
        }),
      ).pipe(Effect.catchTag("SqlError", Effect.die))
    })

    return { validate, record }
  }),
  dependencies: [Gases.Default, SiteLimits.Default],
}) {}
